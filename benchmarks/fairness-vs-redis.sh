#!/usr/bin/env bash
# One client's pipeline of large GETs against the other clients of the
# server: redis-server and ringdb-server (gnet, default flags) side by
# side. cmd/fairness stores one value of SIZE bytes, sends N pipelined GETs
# of it four times, reading every reply at once, while 8 other connections
# PING in a loop; it prints the pipeline's MB/s and the PING latencies
# meanwhile. Servers alternate within every round, each round on fresh
# servers.
#
#   ./fairness-vs-redis.sh
#   ROUNDS=5 SIZE=40000 N=2000 ./fairness-vs-redis.sh
#
# Environment: ROUNDS (3), SIZE (2097152), N (200), PORT_BASE (26679;
# ringdb takes the next port).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-2097152}
N=${N:-200}
PORT_BASE=${PORT_BASE:-26679}

need "redis-server redis-tools" redis-server redis-cli
make_tmp

print_header
echo "# $N pipelined GETs of $SIZE bytes, 4 times a run; 8 PINGing clients"
build "$root" ringdb-server
build "$here" fairness

servers=(redis ringdb)
number_ports "$PORT_BASE" "${servers[@]}"

start() { # SERVER
	local s=$1
	port_free "$s"
	if [ "$s" = redis ]; then
		start_redis "$s"
	else
		start_ringdb "$s" --metrics-listen ''
	fi
	wait_up "$s"
}

printf '%-6s %-6s %10s %10s %10s %10s %10s\n' round server pipe_MB/s ping_p50 ping_p99 ping_p999 ping_max
for round in $(seq "$ROUNDS"); do
	order=("${servers[@]}")
	if [ $((round % 2)) -eq 0 ]; then order=(ringdb redis); fi
	for s in "${order[@]}"; do
		start "$s"
		out=$("$tmp/fairness" -addr "127.0.0.1:${port[$s]}" -size "$SIZE" -n "$N") || { echo "$s: $out" >&2; exit 1; }
		stop_server "$s"
		read -r _ mbs _ _ _ p50 _ p99 _ p999 _ pmax <<<"$out"
		printf '%-6s %-6s %10s %10s %10s %10s %10s\n' "$round" "$s" "$mbs" "$p50" "$p99" "$p999" "$pmax"
	done
done
echo "# PING latencies in ms"
