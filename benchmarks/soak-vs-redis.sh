#!/usr/bin/env bash
# A long mixed cache workload (cmd/soak) against ringdb-server (gnet) and
# Redis 7 at the same memory bound and an evicting policy, one after the
# other, fresh servers, the same seed: resident memory over time against the
# bound, throughput, hit ratio, evictions and expirations, errors, and every
# value read back checked against its key and length.
#
#   ./soak-vs-redis.sh
#   DURATION=20m MAXMEMORY=512 ./soak-vs-redis.sh
#
# Environment: DURATION (5m per server), MAXMEMORY (256, MiB), CLIENTS
# (32), KEYS (200000), INTERVAL (10s), SEED (1), PORT_BASE (26489).
# ringdb runs with --eviction allkeys, Redis with allkeys-lru, both with
# --maxmemory MAXMEMORY MiB. Exit status 1 if soak saw a corrupt or
# malformed reply from either server, or a server died.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

DURATION=${DURATION:-5m}
MAXMEMORY=${MAXMEMORY:-256}
CLIENTS=${CLIENTS:-32}
KEYS=${KEYS:-200000}
INTERVAL=${INTERVAL:-10s}
SEED=${SEED:-1}
PORT_BASE=${PORT_BASE:-26489}

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	apt-get install -y redis-server redis-tools ||
		{ apt-get update && apt-get install -y redis-server redis-tools; } || exit 1
fi

tmp=$(mktemp -d)
declare -A pid port
cleanup() {
	for s in "${!pid[@]}"; do
		kill "${pid[$s]}" 2>/dev/null
		wait "${pid[$s]}" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, $(uname -r)"
echo "# load at start: $(uptime)"
echo "# $(redis-server --version)"
echo "# ringdb $(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes'), $(go version | cut -d' ' -f3)"
echo "# $DURATION per server, maxmemory ${MAXMEMORY} MiB, $CLIENTS clients, $KEYS keys, seed $SEED"

(cd "$root" && go build -o "$tmp/ringdb-server" ./cmd/ringdb-server) || exit 1
(cd "$here" && go build -o "$tmp/soak" ./cmd/soak) || exit 1

port[ringdb]=$PORT_BASE
port[redis]=$((PORT_BASE + 1))
status=0
for s in ringdb redis; do
	if redis-cli -p "${port[$s]}" ping >/dev/null 2>&1; then
		echo "port ${port[$s]} is already in use" >&2
		exit 1
	fi
	if [ "$s" = redis ]; then
		redis-server --port "${port[$s]}" --bind 127.0.0.1 --save '' --appendonly no \
			--maxmemory "${MAXMEMORY}mb" --maxmemory-policy allkeys-lru --daemonize no >"$tmp/$s.log" 2>&1 &
	else
		"$tmp/ringdb-server" --listen "127.0.0.1:${port[$s]}" --maxmemory "${MAXMEMORY}MiB" \
			--eviction allkeys --metrics-listen '' >"$tmp/$s.log" 2>&1 &
	fi
	pid[$s]=$!
	for _ in $(seq 100); do
		redis-cli -p "${port[$s]}" ping 2>/dev/null | grep -q PONG && break
		sleep 0.1
	done
	echo
	echo "## $s"
	"$tmp/soak" -addr "127.0.0.1:${port[$s]}" -pid "${pid[$s]}" -duration "$DURATION" \
		-clients "$CLIENTS" -keys "$KEYS" -interval "$INTERVAL" -seed "$SEED" | tee "$tmp/$s.out"
	rc=${PIPESTATUS[0]}
	if ! kill -0 "${pid[$s]}" 2>/dev/null; then
		echo "$s died:" >&2
		tail -n 20 "$tmp/$s.log" >&2
		rc=1
	fi
	[ "$rc" -eq 0 ] || status=1
	kill "${pid[$s]}" 2>/dev/null
	wait "${pid[$s]}" 2>/dev/null
	unset "pid[$s]"
done

field() { grep '^summary' "$tmp/$1.out" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }
echo
echo "## summary (ringdb / Redis, same bound, same workload)"
printf '| %s | %s | %s | %s |\n' measure ringdb Redis ratio
printf '| --- | --- | --- | --- |\n'
for k in rss_peak_mib rss_median_2nd_half_mib ops_per_sec server_cpu_us_per_op hit_ratio evicted expired corrupt malformed; do
	a=$(field ringdb "$k")
	b=$(field redis "$k")
	r=$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
	printf '| %s | %s | %s | %s |\n' "$k" "$a" "$b" "$r"
done
printf '| errors | %s | %s | |\n' "$(field ringdb errors)" "$(field redis errors)"
exit $status
