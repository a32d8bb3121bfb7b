#!/usr/bin/env bash
# Connection churn: every request on a connection of its own (a client
# that does not pool connections, a health check, a cron job), against
# redis-server and ringdb-server on both transports. redis-benchmark -k 0
# connects, sends one GET, reads the reply and closes, from C clients at
# once; the script prints requests (= connections) per second, the p99
# latency, and the server's CPU time per connection (utime + stime from
# /proc/PID/stat). The servers take turns within every round, their
# order rotating, each round on fresh servers.
#
#   ./churn-vs-redis.sh
#   ROUNDS=5 N=50000 C=50 ./churn-vs-redis.sh
#   RINGDB_BIN=/tmp/old-ringdb-server ./churn-vs-redis.sh   # another build
#
# Environment: ROUNDS (3), N (30000), C (20), PORT_BASE (26779; the
# ringdb servers take the next two ports), RINGDB_BIN (built from this
# tree when unset).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
N=${N:-30000}
C=${C:-20}
PORT_BASE=${PORT_BASE:-26779}

need "redis-server redis-tools" redis-server redis-benchmark
make_tmp

if [ -n "${RINGDB_BIN:-}" ]; then
	ringdb_bin=$RINGDB_BIN
else
	build "$root" ringdb-server
fi

echo "# $(host_info)"
echo "# load at start: $(uptime)"
echo "# $(redis-server --version)"
echo "# ringdb $ringdb_bin: $(ringdb_rev), $(go_version)"
echo "# redis-benchmark -k 0 -c $C -n $N -t get -d 64 -r 10000: one connection per request"

servers=(redis gnet std)
number_ports "$PORT_BASE" "${servers[@]}"

start() { # SERVER
	local s=$1
	port_free "$s"
	case $s in
	redis) start_redis "$s" ;;
	*) start_ringdb "$s" --transport "$s" --maxmemory 1GiB --metrics-listen '' ;;
	esac
	wait_up "$s"
}

printf '%-6s %-6s %12s %10s %14s\n' round server conns/s p99_ms cpu_us/conn
for round in $(seq "$ROUNDS"); do
	n=${#servers[@]}
	order=()
	for i in $(seq 0 $((n - 1))); do order+=("${servers[$(((i + round - 1) % n))]}"); done
	for s in "${order[@]}"; do
		start "$s"
		t0=$(cpu_ticks "${pid[$s]}")
		out=$(redis-benchmark -p "${port[$s]}" -k 0 -c "$C" -n "$N" -t get -d 64 -r 10000 --csv 2>&1 | tail -1)
		t1=$(cpu_ticks "${pid[$s]}")
		stop_server "$s"
		# "GET","rps","avg","min","p50","p95","p99","max"
		IFS=, read -r _ rps _ _ _ _ p99 _ <<<"${out//\"/}"
		cpu=$(cpu_us $((t1 - t0)) "$N" 1)
		printf '%-6s %-6s %12s %10s %14s\n' "$round" "$s" "$rps" "$p99" "$cpu"
	done
done
