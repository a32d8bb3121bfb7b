#!/usr/bin/env bash
# redis-benchmark against Redis and against ringdb-server (gnet and std
# transports, or gnet twice with ALT_FLAGS), same flags, same -n, alternating run by run, over ROUNDS
# rounds; prints ops/s, server CPU time per request and p99 per run, then
# tables of medians and of ringdb/Redis ratios.
#
#   ./resp-vs-redis.sh                        # 3 rounds, -P 1 and -P 16
#   ROUNDS=1 N_P1=100000 N_P16=500000 ./resp-vs-redis.sh
#
# Every run is `redis-benchmark -c 50 -d 64 -r 100000 -n N -P P -t TEST --csv`
# with one test per run, so the server CPU time of that run (utime + stime of
# the server process from /proc/PID/stat, fields 14 and 15, before and after)
# belongs to that test alone; CPU µs/request = ticks / CLK_TCK / N. Within a
# round the three servers run each test back to back, and the order of the
# servers rotates from round to round. Ratios are the median over rounds of
# the same-round ratio ringdb/Redis.
#
# PING_MBULK runs first in every round: neither server does any work for it,
# so its rate is the ceiling that redis-benchmark and the transport allow,
# and its CPU per request is each server's cost of a request before any
# command runs.
#
# Environment: ROUNDS (3), PIPELINES ("1 16"), TESTS ("ping_mbulk set get incr
# mset"), N_P1 / N_P1_MSET (-n at -P 1), N_P16 / N_P16_MSET (-n at -P 16),
# CLIENTS (50), PORT_BASE (first of three loopback ports, 26379), MAXMEMORY
# (3GiB, ringdb's --maxmemory), KEEP (a directory to copy the raw results
# into), PIN (set to 1 to run every server on SERVER_CPUS, default 0, and
# redis-benchmark on CLIENT_CPUS, default 1, with taskset: on a 2-core machine
# the load generator then no longer competes with the server for the cores;
# ringdb sees one CPU and runs one event loop, as Redis runs one thread),
# RINGDB_FLAGS (extra ringdb-server flags, e.g. "--loops 1"), ALT_FLAGS
# (when set, the third server is not the std transport but a second gnet
# server started with RINGDB_FLAGS plus these flags, for a same-run A/B of
# a setting: its column is headed "gnet ALT_FLAGS").
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
PIPELINES=${PIPELINES:-"1 16"}
TESTS=${TESTS:-"ping_mbulk set get incr mset"}
N_P1=${N_P1:-400000}
N_P1_MSET=${N_P1_MSET:-200000}
N_P16=${N_P16:-3000000}
N_P16_MSET=${N_P16_MSET:-400000}
CLIENTS=${CLIENTS:-50}
PORT_BASE=${PORT_BASE:-26379}
MAXMEMORY=${MAXMEMORY:-3GiB}
PIN=${PIN:-0}
RINGDB_FLAGS=${RINGDB_FLAGS:-}
ALT_FLAGS=${ALT_FLAGS:-}
third_tr=std
third_label=std
if [ -n "$ALT_FLAGS" ]; then
	third_tr=gnet
	third_label="gnet $ALT_FLAGS"
fi
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-1}
server_pin=()
client_pin=()
if [ "$PIN" = 1 ]; then
	command -v taskset >/dev/null || { echo "PIN=1 needs taskset (util-linux)" >&2; exit 1; }
	server_pin=(taskset -c "$SERVER_CPUS")
	client_pin=(taskset -c "$CLIENT_CPUS")
fi

need "redis-server redis-tools" redis-server redis-benchmark
make_tmp
keep_dir=${KEEP:-}

echo "# $(host_info)"
echo "# load at start: $(uptime)"
[ "$PIN" = 1 ] && echo "# pinned: servers on CPUs $SERVER_CPUS, redis-benchmark on CPUs $CLIENT_CPUS"
[ -n "$RINGDB_FLAGS" ] && echo "# ringdb-server flags: $RINGDB_FLAGS"
[ -n "$ALT_FLAGS" ] && echo "# third server: gnet with $RINGDB_FLAGS $ALT_FLAGS (instead of std)"
echo "# $(redis-server --version)"
echo "# ringdb $(ringdb_rev), $(go_version)"

build "$root" ringdb-server

servers=(redis gnet std)
number_ports "$PORT_BASE" "${servers[@]}"
for s in "${servers[@]}"; do port_free "$s"; done

"${server_pin[@]}" redis-server --port "${port[redis]}" --bind 127.0.0.1 --save '' --appendonly no \
	--daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
pid[redis]=$!
for tr in gnet std; do
	real=$tr extra=
	if [ "$tr" = std ]; then
		real=$third_tr extra=$ALT_FLAGS
	fi
	"${server_pin[@]}" "$tmp/ringdb-server" --listen "127.0.0.1:${port[$tr]}" --transport "$real" \
		--maxmemory "$MAXMEMORY" --metrics-listen '' $RINGDB_FLAGS $extra >"$tmp/ringdb-$tr.log" 2>&1 &
	pid[$tr]=$!
done
for s in "${servers[@]}"; do wait_up "$s" "$tmp"/*.log; done

requests() { # P TEST
	if [ "$1" = 1 ]; then
		[ "$2" = mset ] && echo "$N_P1_MSET" || echo "$N_P1"
	else
		[ "$2" = mset ] && echo "$N_P16_MSET" || echo "$N_P16"
	fi
}

printf '%-5s %-3s %-5s %-6s %8s %12s %9s %10s %7s\n' round P test server n ops/s p99_ms cpu_us/req wall_s
: >"$tmp/results"
: >"$tmp/problems"
for round in $(seq "$ROUNDS"); do
	order=()
	for i in 0 1 2; do order+=("${servers[$(((round - 1 + i) % 3))]}"); done
	for P in $PIPELINES; do
		for t in $TESTS; do
			n=$(requests "$P" "$t")
			for s in "${order[@]}"; do
				t0=$(cpu_ticks "${pid[$s]}")
				w0=$(date +%s.%N)
				"${client_pin[@]}" redis-benchmark -h 127.0.0.1 -p "${port[$s]}" -c "$CLIENTS" -d 64 -r 100000 \
					-n "$n" -P "$P" -t "$t" --csv >"$tmp/out" 2>"$tmp/err"
				rc=$?
				w1=$(date +%s.%N)
				if ! kill -0 "${pid[$s]}" 2>/dev/null; then
					echo "$s (pid ${pid[$s]}) died during round $round -P $P $t" | tee -a "$tmp/problems" >&2
					tail -n 20 "$tmp"/*.log >&2
					exit 1
				fi
				t1=$(cpu_ticks "${pid[$s]}")
				# "SET","rps","avg","min","p50","p95","p99","max"
				line=$(tr -d '"' <"$tmp/out" | awk -F, 'NR == 2')
				rps=$(echo "$line" | awk -F, '{ print $2 }')
				p99=$(echo "$line" | awk -F, '{ print $7 }')
				cpu=$(cpu_us $((t1 - t0)) "$n" 2)
				wall=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.1f", b - a }')
				if [ "$rc" -ne 0 ] || [ -s "$tmp/err" ] || [ -z "$rps" ]; then
					{
						echo "round $round -P $P $t against $s: exit $rc"
						sed 's/^/    /' "$tmp/err" | head -n 20
					} >>"$tmp/problems"
				fi
				printf '%-5s %-3s %-5s %-6s %8d %12s %9s %10s %7s\n' "$round" "$P" "$t" "$s" "$n" "${rps:--}" "${p99:--}" "$cpu" "$wall"
				echo "$round $P $t $s $n ${rps:-0} ${p99:-0} $cpu $rc" >>"$tmp/results"
			done
		done
	done
done

echo
for s in "${servers[@]}"; do
	echo "# $s: DBSIZE $(redis-cli -p "${port[$s]}" dbsize 2>&1), VmRSS $(awk '/^VmRSS/ { print $2, $3 }' "/proc/${pid[$s]}/status")"
done
echo "# load at end: $(uptime)"

if [ -s "$tmp/problems" ]; then
	echo
	echo "## problems"
	cat "$tmp/problems"
fi
if grep -qiE 'level=(WARN|ERROR)|panic' "$tmp"/ringdb-*.log; then
	echo
	echo "## ringdb warnings"
	grep -hiE 'level=(WARN|ERROR)|panic' "$tmp"/ringdb-*.log | head -n 20
fi

echo
awk -v rounds="$ROUNDS" -v third="$third_label" "$awk_median"'
{
	round = $1; P = $2; t = $3; s = $4
	key = P SUBSEP t
	if (!(key in seen)) { seen[key] = 1; keys[++nkeys] = key }
	if ($9 != 0 || $6 == 0) next
	v["ops", key, s] = v["ops", key, s] " " $6
	v["p99", key, s] = v["p99", key, s] " " $7
	v["cpu", key, s] = v["cpu", key, s] " " $8
	x["ops", key, s, round] = $6; x["p99", key, s, round] = $7; x["cpu", key, s, round] = $8
}
END {
	title["ops"] = "ops/s (median of " rounds " rounds)"
	title["cpu"] = "server CPU µs per request, utime+stime (median of " rounds " rounds)"
	title["p99"] = "p99 latency ms, from redis-benchmark (median of " rounds " rounds)"
	fmt["ops"] = "%.0f"; fmt["cpu"] = "%.2f"; fmt["p99"] = "%.3f"
	split("ops cpu p99", ms, " ")
	for (m = 1; m <= 3; m++) {
		M = ms[m]
		print "### " title[M]
		print ""
		print "| -P | test | Redis | ringdb gnet | gnet / Redis | ringdb " third " | " third " / Redis |"
		print "| --- | --- | --- | --- | --- | --- | --- |"
		for (k = 1; k <= nkeys; k++) {
			split(keys[k], kp, SUBSEP)
			row = "| " kp[1] " | " kp[2]
			for (si = 1; si <= 3; si++) {
				s = si == 1 ? "redis" : si == 2 ? "gnet" : "std"
				med = median(v[M, keys[k], s])
				row = row " | " (med == "" ? "-" : sprintf(fmt[M], med))
				if (s == "redis") continue
				r = ""
				for (rd = 1; rd <= rounds; rd++) {
					a = x[M, keys[k], s, rd]; b = x[M, keys[k], "redis", rd]
					if (a != "" && b + 0 > 0) r = r " " a / b
				}
				rm = median(r)
				row = row " | " (rm == "" ? "-" : sprintf("**%.2f**", rm))
			}
			print row " |"
		}
		print ""
	}
	print "Ratios are the median over rounds of ringdb/Redis within the same round."
}' "$tmp/results"
