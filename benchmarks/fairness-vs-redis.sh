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
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-2097152}
N=${N:-200}
PORT_BASE=${PORT_BASE:-26679}

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	apt-get install -y redis-server redis-tools ||
		{ apt-get update && apt-get install -y redis-server redis-tools; } || exit 1
fi

tmp=$(mktemp -d)
declare -A pid port
cleanup() {
	for s in "${!pid[@]}"; do kill "${pid[$s]}" 2>/dev/null; done
	for s in "${!pid[@]}"; do wait "${pid[$s]}" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, $(uname -r)"
echo "# load at start: $(uptime)"
echo "# $(redis-server --version)"
echo "# ringdb $(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes'), $(go version | cut -d' ' -f3)"
echo "# $N pipelined GETs of $SIZE bytes, 4 times a run; 8 PINGing clients"
(cd "$root" && go build -o "$tmp/ringdb-server" ./cmd/ringdb-server) || exit 1
(cd "$here" && go build -o "$tmp/fairness" ./cmd/fairness) || exit 1

servers=(redis ringdb)
port[redis]=$PORT_BASE
port[ringdb]=$((PORT_BASE + 1))

start() { # SERVER
	local s=$1
	if redis-cli -p "${port[$s]}" ping >/dev/null 2>&1; then
		echo "port ${port[$s]} is already in use" >&2
		exit 1
	fi
	if [ "$s" = redis ]; then
		redis-server --port "${port[$s]}" --bind 127.0.0.1 --save '' --appendonly no \
			--daemonize no >"$tmp/$s.log" 2>&1 &
	else
		"$tmp/ringdb-server" --listen "127.0.0.1:${port[$s]}" --metrics-listen '' >"$tmp/$s.log" 2>&1 &
	fi
	pid[$s]=$!
	for _ in $(seq 100); do
		redis-cli -p "${port[$s]}" ping 2>/dev/null | grep -q PONG && return
		sleep 0.1
	done
	echo "$s did not start:" >&2
	cat "$tmp/$s.log" >&2
	exit 1
}

stop() { # SERVER
	kill "${pid[$1]}" 2>/dev/null
	wait "${pid[$1]}" 2>/dev/null
	unset "pid[$1]"
}

printf '%-6s %-6s %10s %10s %10s %10s %10s\n' round server pipe_MB/s ping_p50 ping_p99 ping_p999 ping_max
for round in $(seq "$ROUNDS"); do
	order=("${servers[@]}")
	if [ $((round % 2)) -eq 0 ]; then order=(ringdb redis); fi
	for s in "${order[@]}"; do
		start "$s"
		out=$("$tmp/fairness" -addr "127.0.0.1:${port[$s]}" -size "$SIZE" -n "$N") || { echo "$s: $out" >&2; exit 1; }
		stop "$s"
		read -r _ mbs _ _ _ p50 _ p99 _ p999 _ pmax <<<"$out"
		printf '%-6s %-6s %10s %10s %10s %10s %10s\n' "$round" "$s" "$mbs" "$p50" "$p99" "$p999" "$pmax"
	done
done
echo "# PING latencies in ms"
