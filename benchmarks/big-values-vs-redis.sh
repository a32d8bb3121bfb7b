#!/usr/bin/env bash
# Memory of serving one very large value: Redis against ringdb-server on
# each transport. For each server, fresh each round: one client SETs a
# value of SIZE bytes (cmd/bigget), the script samples the server's RSS
# and resets its peak (/proc/PID/clear_refs), then CLIENTS connections each
# GET the value N times at once, reading every reply whole and checking
# it. Reported per run: RSS after the SET, the peak RSS during the GETs
# (VmHWM) and their increase over the RSS after the SET, the RSS after
# the GETs, the server's CPU time over the GETs (utime+stime), the rate
# of value bytes read, and for the SET: the peak RSS from the server's
# start to the SET's reply (VmHWM) and the CPU time it took. Servers alternate within every round; the ratios
# are medians of the same-round ratios to Redis.
#
#   ./big-values-vs-redis.sh
#   ROUNDS=5 SIZE=$((200 << 20)) CLIENTS=8 ./big-values-vs-redis.sh
#   MGET=16 SIZE=$((50 << 20)) CLIENTS=1 N=1 ./big-values-vs-redis.sh
#
# With MGET=K, each GET is instead one MGET naming the value K times.
#
# Environment: ROUNDS (3), SIZE (104857600), CLIENTS (4), N (3), MGET (0),
# TRANSPORTS ("gnet std"), PORT_BASE (26679; ringdb takes the next ports).
# Must run as root (clear_refs).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-104857600}
CLIENTS=${CLIENTS:-4}
N=${N:-3}
MGET=${MGET:-0}
TRANSPORTS=${TRANSPORTS:-"gnet std"}
PORT_BASE=${PORT_BASE:-26679}

need "redis-server redis-tools" redis-server redis-cli
make_tmp

print_header
echo "# value ${SIZE} bytes, ${CLIENTS} clients x ${N} GETs$([ "$MGET" -gt 0 ] && echo " (each an MGET naming it ${MGET} times)")"
build "$root" ringdb-server
build "$here" bigget

servers=(redis)
for t in $TRANSPORTS; do servers+=("ringdb-$t"); done
number_ports "$PORT_BASE" "${servers[@]}"

start() { # SERVER
	local s=$1
	port_free "$s"
	if [ "$s" = redis ]; then
		start_redis "$s"
	else
		start_ringdb "$s" --transport "${s#ringdb-}" --metrics-listen ''
	fi
	wait_up "$s"
}

stop() { # SERVER
	check_alive "$1" || exit 1
	stop_server "$1"
}

: >"$tmp/results"
echo "round server rss_after_set_MB peak_during_gets_MB peak_increase_MB rss_after_MB cpu_s MB/s peak_during_set_MB set_cpu_s"
for round in $(seq "$ROUNDS"); do
	order=("${servers[@]}")
	[ $((round % 2)) -eq 0 ] && order=($(printf '%s\n' "${servers[@]}" | tac))
	for s in "${order[@]}"; do
		start "$s"
		p=${pid[$s]}
		s0=$(cpu_ticks "$p")
		coproc BG { "$tmp/bigget" -addr "127.0.0.1:${port[$s]}" -size "$SIZE" -clients "$CLIENTS" -n "$N" -mget "$MGET" -wait 2>&1; }
		read -r line <&"${BG[0]}"
		if [ "$line" != stored ]; then
			echo "$s: bigget: $line" >&2
			exit 1
		fi
		set_peak_kb=$(status_kb "$p" VmHWM)
		s1=$(cpu_ticks "$p")
		sleep 2 # the server gives freed buffers back within ~1 s
		set_kb=$(status_kb "$p" VmRSS)
		echo 5 >"/proc/$p/clear_refs" || { echo "cannot reset the peak RSS (needs root)" >&2; exit 1; }
		c0=$(cpu_ticks "$p")
		echo go >&"${BG[1]}"
		out=$(cat <&"${BG[0]}")
		wait "$BG_PID" || { echo "$s: bigget failed: $out" >&2; exit 1; }
		c1=$(cpu_ticks "$p")
		peak_kb=$(status_kb "$p" VmHWM)
		after_kb=$(status_kb "$p" VmRSS)
		rate=$(echo "$out" | awk '/^gets/ { print $6 }')
		echo "$round $s $((set_kb / 1024)) $((peak_kb / 1024)) $(((peak_kb - set_kb) / 1024)) $((after_kb / 1024)) $(awk -v d=$((c1 - c0)) -v hz="$hz" 'BEGIN { printf "%.2f", d / hz }') $rate $((set_peak_kb / 1024)) $(awk -v d=$((s1 - s0)) -v hz="$hz" 'BEGIN { printf "%.2f", d / hz }')" |
			tee -a "$tmp/results"
		stop "$s"
	done
done

echo
echo "# medians of same-round ratios to Redis"
echo "server peak_increase cpu rate set_peak set_cpu"
for s in "${servers[@]}"; do
	[ "$s" = redis ] && continue
	awk -v s="$s" '
		{ inc[$1, $2] = $5; cpu[$1, $2] = $7; rate[$1, $2] = $8; sp[$1, $2] = $9; sc[$1, $2] = $10; rounds[$1] = 1 }
		function median(a, n,   i, j, t) {
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		END {
			n = 0
			for (r in rounds) {
				n++
				ri[n] = inc[r, s] / (inc[r, "redis"] > 0 ? inc[r, "redis"] : 1)
				rc[n] = cpu[r, s] / (cpu[r, "redis"] > 0 ? cpu[r, "redis"] : 0.01)
				rr[n] = rate[r, s] / rate[r, "redis"]
				rp[n] = sp[r, s] / sp[r, "redis"]
				rs[n] = sc[r, s] / (sc[r, "redis"] > 0 ? sc[r, "redis"] : 0.01)
			}
			printf "%s %.2f %.2f %.2f %.2f %.2f\n", s, median(ri, n), median(rc, n), median(rr, n), median(rp, n), median(rs, n)
		}' "$tmp/results"
done
