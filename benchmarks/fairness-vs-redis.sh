#!/usr/bin/env bash
# One client's pipeline of large GETs against the other clients of the
# server: redis-server and ringdb-server (gnet, default flags) side by
# side. cmd/fairness stores one value of SIZE bytes, sends N pipelined GETs
# of it four times, reading every reply at once, while 8 other connections
# PING in a loop; it prints the pipeline's MB/s and the PING latencies
# meanwhile, and the server's peak RSS (VmHWM) from its start. Servers
# alternate within every round, each round on fresh servers.
#
#   ./fairness-vs-redis.sh
#   ROUNDS=5 SIZE=40000 N=2000 ./fairness-vs-redis.sh
#   SIZE=100000 N=2000 TRANSPORTS="gnet std" ./fairness-vs-redis.sh
#
# Environment: ROUNDS (3), SIZE (2097152), N (200), TRANSPORTS ("gnet";
# "gnet std" adds ringdb on the std transport, as server "std"),
# PORT_BASE (26699; the ringdb servers take the next ports).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-2097152}
N=${N:-200}
PORT_BASE=${PORT_BASE:-26699}

need "redis-server redis-tools" redis-server redis-cli
make_tmp

print_header
echo "# $N pipelined GETs of $SIZE bytes, 4 times a run; 8 PINGing clients"
build "$root" ringdb-server
build "$here" fairness

TRANSPORTS=${TRANSPORTS:-gnet}
servers=(redis)
for tr in $TRANSPORTS; do
	case $tr in
	gnet) servers+=(ringdb) ;;
	std) servers+=(std) ;;
	*) echo "TRANSPORTS: unknown transport $tr (gnet or std)" >&2; exit 2 ;;
	esac
done
number_ports "$PORT_BASE" "${servers[@]}"

start() { # SERVER
	local s=$1
	port_free "$s"
	case $s in
	redis) start_redis "$s" ;;
	std) start_ringdb "$s" --metrics-listen '' --transport std ;;
	*) start_ringdb "$s" --metrics-listen '' ;;
	esac
	wait_up "$s"
}

printf '%-6s %-6s %10s %10s %10s %10s %10s %8s\n' round server pipe_MB/s ping_p50 ping_p99 ping_p999 ping_max peak_MB
for round in $(seq "$ROUNDS"); do
	# The order rotates by one server a round.
	k=$(((round - 1) % ${#servers[@]}))
	order=("${servers[@]:k}" "${servers[@]:0:k}")
	for s in "${order[@]}"; do
		start "$s"
		out=$("$tmp/fairness" -addr "127.0.0.1:${port[$s]}" -size "$SIZE" -n "$N") || { echo "$s: $out" >&2; exit 1; }
		peak=$(($(status_kb "${pid[$s]}" VmHWM) / 1024))
		stop_server "$s"
		read -r _ mbs _ _ _ p50 _ p99 _ p999 _ pmax <<<"$out"
		printf '%-6s %-6s %10s %10s %10s %10s %10s %8s\n' "$round" "$s" "$mbs" "$p50" "$p99" "$p999" "$pmax" "$peak"
	done
done
echo "# PING latencies in ms"
