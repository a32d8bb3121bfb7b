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
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

ROUNDS=${ROUNDS:-3}
N=${N:-30000}
C=${C:-20}
PORT_BASE=${PORT_BASE:-26779}

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
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

bin=${RINGDB_BIN:-}
if [ -z "$bin" ]; then
	(cd "$root" && go build -o "$tmp/ringdb-server" ./cmd/ringdb-server) || exit 1
	bin=$tmp/ringdb-server
fi

echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, $(uname -r)"
echo "# load at start: $(uptime)"
echo "# $(redis-server --version)"
echo "# ringdb $bin: $(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes'), $(go version | cut -d' ' -f3)"
echo "# redis-benchmark -k 0 -c $C -n $N -t get -d 64 -r 10000: one connection per request"

servers=(redis gnet std)
port[redis]=$PORT_BASE
port[gnet]=$((PORT_BASE + 1))
port[std]=$((PORT_BASE + 2))
tck=$(getconf CLK_TCK)

# cpu_ticks PID: utime + stime of the whole process, in clock ticks (the
# command name in field 2 may hold spaces: count from after it).
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

start() { # SERVER
	local s=$1
	if redis-cli -p "${port[$s]}" ping >/dev/null 2>&1; then
		echo "port ${port[$s]} is already in use" >&2
		exit 1
	fi
	case $s in
	redis) redis-server --port "${port[$s]}" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize no >"$tmp/$s.log" 2>&1 & ;;
	*) "$bin" --listen "127.0.0.1:${port[$s]}" --transport "$s" --maxmemory 1GiB \
		--metrics-listen '' >"$tmp/$s.log" 2>&1 & ;;
	esac
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
		stop "$s"
		# "GET","rps","avg","min","p50","p95","p99","max"
		IFS=, read -r _ rps _ _ _ _ p99 _ <<<"${out//\"/}"
		cpu=$(awk -v d=$((t1 - t0)) -v n="$N" -v hz="$tck" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
		printf '%-6s %-6s %12s %10s %14s\n' "$round" "$s" "$rps" "$p99" "$cpu"
	done
done
