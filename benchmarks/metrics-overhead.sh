#!/usr/bin/env bash
# Cost of monitoring on the request path: redis-benchmark -P 16 against two
# ringdb-server processes built from the same tree, one with the metrics
# endpoint on (--metrics-listen 127.0.0.1:PORT, which also turns on the
# per-command counters and sampled latency) and one with it off
# (--metrics-listen ""). Runs alternate between the two servers, test by
# test, and the order flips each round; the on server is scraped once a
# second during its runs, as a short scrape interval would. Prints ops/s and
# server CPU µs per request (utime+stime from /proc/PID/stat) per run and,
# per test, the median over rounds of the same-round ratios on/off. On a
# shared machine throughput swings from run to run; CPU per request is the
# steadier of the two.
#
#   ./metrics-overhead.sh                  # 3 rounds, set and get
#   ROUNDS=5 N=3000000 ./metrics-overhead.sh
#
# Every run is `redis-benchmark -c 50 -d 64 -r 100000 -n N -P 16 -t TEST --csv`.
# Environment: ROUNDS (3), TESTS ("set get"), N (2000000), CLIENTS (50),
# PORT_BASE (26879: on, +1: off, +2: the on server's metrics).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
TESTS=${TESTS:-"set get"}
N=${N:-2000000}
CLIENTS=${CLIENTS:-50}
PORT_BASE=${PORT_BASE:-26879}

need redis-tools redis-benchmark
make_tmp

echo "# $(host_info), $(git -C "$root" rev-parse --short HEAD 2>/dev/null)"
build "$root" ringdb-server

number_ports "$PORT_BASE" on off
maddr=127.0.0.1:$((PORT_BASE + 2))
for s in on off; do port_free "$s"; done
# Their warnings go to the terminal, not to a log.
"$ringdb_bin" --listen "127.0.0.1:${port[on]}" --maxmemory 2GiB --metrics-listen "$maddr" --log-level warn &
pid[on]=$!
"$ringdb_bin" --listen "127.0.0.1:${port[off]}" --maxmemory 2GiB --metrics-listen "" --log-level warn &
pid[off]=$!
for s in on off; do wait_up "$s" /dev/null; done
curl -fsS "http://$maddr/readyz" >/dev/null || { echo "metrics endpoint not ready" >&2; exit 1; }

# run SERVER TEST prints ops/s of one redis-benchmark run and the server's
# CPU µs per request over it.
run() {
	local c0 c1 ops
	local scraper=""
	if [ "$1" = on ]; then
		(while :; do curl -fsS -o /dev/null "http://$maddr/metrics"; sleep 1; done) &
		scraper=$!
	fi
	c0=$(cpu_ticks "${pid[$1]}")
	ops=$(redis-benchmark -p "${port[$1]}" -c "$CLIENTS" -d 64 -r 100000 -n "$N" -P 16 -t "$2" --csv 2>/dev/null |
		awk -F'"' 'NR==2 {print $4}')
	c1=$(cpu_ticks "${pid[$1]}")
	if [ -n "$scraper" ]; then kill "$scraper" 2>/dev/null; wait "$scraper" 2>/dev/null; fi
	echo "$ops $(cpu_us $((c1 - c0)) "$N" 3)"
}

printf '%-6s %-5s %-4s %12s %12s\n' round test srv ops/s cpu-us/req
for r in $(seq "$ROUNDS"); do
	order="on off"
	[ $((r % 2)) -eq 0 ] && order="off on"
	for t in $TESTS; do
		for s in $order; do
			read -r v cpu < <(run "$s" "$t")
			echo "$r $t $s $v $cpu" >>"$tmp/results"
			printf '%-6s %-5s %-4s %12s %12s\n' "$r" "$t" "$s" "$v" "$cpu"
		done
	done
done

echo
# median FIELD TEST prints the same-round ratios on/off of FIELD (4: ops/s,
# 5: CPU per request) and their median.
median() {
	local ratios n med
	ratios=$(awk -v t="$2" -v f="$1" '$2 == t { v[$1 "," $3] = $f; rs[$1] = 1 }
		END { for (r in rs) if (v[r ",off"] > 0) printf "%.3f\n", v[r ",on"] / v[r ",off"] }' "$tmp/results" | sort -n)
	n=$(echo "$ratios" | wc -l)
	med=$(echo "$ratios" | awk -v n="$n" '{ q[NR] = $1 } END { if (n % 2) print q[(n + 1) / 2]; else printf "%.3f\n", (q[n / 2] + q[n / 2 + 1]) / 2 }')
	printf '%-5s ratios: %s  median %s\n' "$2" "$(echo $ratios)" "$med"
}
echo
echo "# ops/s, same-round ratio on/off (median over rounds; 1.000 = no cost, < 1 = slower with metrics)"
for t in $TESTS; do median 4 "$t"; done
echo "# server CPU per request, same-round ratio on/off (> 1 = more CPU with metrics)"
for t in $TESTS; do median 5 "$t"; done
curl -fsS "http://$maddr/metrics" | grep -E '^ringdb_commands_total|^ringdb_command_duration_seconds_count' | sed 's/^/# /'
