#!/usr/bin/env bash
# Large values at the memory bound: Redis (allkeys-lru) against
# ringdb-server (gnet, allkeys), both with a MAXMEMORY bound far below the
# data written. redis-benchmark SETs values of each size in SIZES under
# random keys (-r 10000000), so every write past the bound evicts; then,
# on fresh servers bounded at GET_MAXMEMORY_MB, GETs 100 keys of that size
# written first, each at -P 1 and -P 8 with 50 clients. For each run:
# ops/s, server CPU per request (utime+stime from /proc/PID/stat over the
# run), RSS (VmRSS) after it, and for GET the hits and misses (INFO stats):
# a GET run that missed is not a like-for-like comparison. Last, one client
# APPENDs 1,000 bytes 10,000 times (-P 16) to one key.
# Servers alternate within every round, each round on fresh servers; the
# ratios are medians of the same-round ratios.
#
#   ./large-values-vs-redis.sh
#   ROUNDS=5 SIZES="40000 300000 2000000" ./large-values-vs-redis.sh
#
# Environment: ROUNDS (3), SIZES ("40000 300000"), MAXMEMORY_MB (64),
# GET_MAXMEMORY_MB (1024),
# BYTES (of values written per run, 1.6e9: 25x the bound), PORT_BASE
# (26579; ringdb takes the next port).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

ROUNDS=${ROUNDS:-3}
SIZES=${SIZES:-"40000 300000"}
MAXMEMORY_MB=${MAXMEMORY_MB:-64}
GET_MAXMEMORY_MB=${GET_MAXMEMORY_MB:-1024}
BYTES=${BYTES:-1600000000}
PORT_BASE=${PORT_BASE:-26579}

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

echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, $(uname -r)"
echo "# load at start: $(uptime)"
echo "# $(redis-server --version)"
echo "# ringdb $(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes'), $(go version | cut -d' ' -f3)"
echo "# maxmemory ${MAXMEMORY_MB} MiB, ${BYTES} bytes of values per run"
(cd "$root" && go build -o "$tmp/ringdb-server" ./cmd/ringdb-server) || exit 1

servers=(redis ringdb)
port[redis]=$PORT_BASE
port[ringdb]=$((PORT_BASE + 1))

start() { # SERVER MAXMEMORY_MB
	local s=$1 mb=$2
	if redis-cli -p "${port[$s]}" ping >/dev/null 2>&1; then
		echo "port ${port[$s]} is already in use" >&2
		exit 1
	fi
	if [ "$s" = redis ]; then
		redis-server --port "${port[$s]}" --bind 127.0.0.1 --save '' --appendonly no \
			--maxmemory "${mb}mb" --maxmemory-policy allkeys-lru --daemonize no >"$tmp/$s.log" 2>&1 &
	else
		"$tmp/ringdb-server" --listen "127.0.0.1:${port[$s]}" --maxmemory "${mb}MiB" \
			--eviction allkeys --metrics-listen '' >"$tmp/$s.log" 2>&1 &
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
	local s=$1
	kill -0 "${pid[$s]}" 2>/dev/null || { echo "$s died:" >&2; tail -n 20 "$tmp/$s.log" >&2; exit 1; }
	kill "${pid[$s]}" 2>/dev/null
	wait "${pid[$s]}" 2>/dev/null
	unset "pid[$s]"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
chunk=$(head -c 1000 /dev/zero | tr '\0' x)

: >"$tmp/results"
run() { # ROUND SERVER OP SIZE KEYS N: one redis-benchmark run per pipeline depth
	local round=$1 s=$2 op=$3 size=$4 keys=$5 n=$6 P c0 c1 ops h0 h1 m0 m1
	for P in 1 8; do
		h0=$(stat_field "$s" keyspace_hits)
		m0=$(stat_field "$s" keyspace_misses)
		c0=$(cpu_ticks "${pid[$s]}")
		ops=$(redis-benchmark -p "${port[$s]}" -c 50 -P "$P" -d "$size" -r "$keys" -n "$n" -t "$op" --csv |
			tail -n 1 | cut -d, -f2 | tr -d '"')
		c1=$(cpu_ticks "${pid[$s]}")
		h1=$(stat_field "$s" keyspace_hits)
		m1=$(stat_field "$s" keyspace_misses)
		echo "$round $s $op:$size $P $ops $(awk -v d=$((c1 - c0)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }') $(rss_kb "${pid[$s]}") $((h1 - h0)) $((m1 - m0))" |
			tee -a "$tmp/results"
	done
}
stat_field() { # SERVER FIELD
	redis-cli -p "${port[$1]}" info stats | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'
}

for round in $(seq "$ROUNDS"); do
	order=("${servers[@]}")
	[ $((round % 2)) -eq 0 ] && order=(ringdb redis)
	for s in "${order[@]}"; do
		# SET under random keys at the bound: every write past it evicts.
		start "$s" "$MAXMEMORY_MB"
		for size in $SIZES; do
			run "$round" "$s" set "$size" 10000000 $((BYTES / size))
		done
		used=$(redis-cli -p "${port[$s]}" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }')
		echo "# round $round $s: used_memory $used after the SETs"
		stop "$s"
		# GET of 100 keys, on a server with room for them and for the
		# clients' buffers: Redis counts query buffers in used_memory and
		# at a 64 MiB bound evicts the keys to pay for them.
		start "$s" "$GET_MAXMEMORY_MB"
		for size in $SIZES; do
			redis-benchmark -p "${port[$s]}" -c 10 -d "$size" -r 100 -n 2000 -t set -q >/dev/null
			run "$round" "$s" get "$size" 100 $((BYTES / size))
		done
		# A 10 MB value built by APPENDs of 1 KB (a log, a time series).
		c0=$(cpu_ticks "${pid[$s]}")
		ops=$(redis-benchmark -p "${port[$s]}" -c 1 -P 16 -n 10000 --csv APPEND applog "$chunk" |
			tail -n 1 | cut -d, -f2 | tr -d '"')
		c1=$(cpu_ticks "${pid[$s]}")
		len=$(redis-cli -p "${port[$s]}" strlen applog)
		[ "$len" = 10000000 ] || echo "# $s: APPEND built $len bytes, want 10000000"
		echo "$round $s append:1000 16 $ops $(awk -v d=$((c1 - c0)) -v hz="$hz" 'BEGIN { printf "%.1f", d / hz * 1e6 / 10000 }') $(rss_kb "${pid[$s]}") 0 0" |
			tee -a "$tmp/results"
		stop "$s"
	done
done

echo
echo "| op:value bytes | -P | Redis ops/s | ringdb ops/s | ops ratio | Redis CPU us/req | ringdb CPU us/req | CPU ratio | Redis RSS MiB | ringdb RSS MiB | RSS ratio | misses Redis / ringdb |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
awk '
function median(list,    a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ k = $1 SUBSEP $3 SUBSEP $4; ops[$2, k] = $5; cpu[$2, k] = $6; rss[$2, k] = $7; miss[$2, $3, $4] += $9; if (!(($3, $4) in seen)) { seen[$3, $4] = 1; keys[++nk] = $3 " " $4 } ; rounds[$1] = 1 }
END {
	for (i = 1; i <= nk; i++) {
		split(keys[i], kv, " ")
		ro = rc = rr = ""; ao = bo = ac = bc = ar = br = ""
		for (r in rounds) {
			k = r SUBSEP kv[1] SUBSEP kv[2]
			if (!(("redis", k) in ops) || !(("ringdb", k) in ops)) continue
			ro = ro " " ops["ringdb", k] / ops["redis", k]; rc = rc " " cpu["ringdb", k] / cpu["redis", k]; rr = rr " " rss["ringdb", k] / rss["redis", k]
			ao = ao " " ops["redis", k]; bo = bo " " ops["ringdb", k]; ac = ac " " cpu["redis", k]; bc = bc " " cpu["ringdb", k]
			ar = ar " " rss["redis", k] / 1024; br = br " " rss["ringdb", k] / 1024
		}
		printf "| %s | %s | %.0f | %.0f | **%.2f** | %.1f | %.1f | **%.2f** | %.0f | %.0f | **%.2f** | %s |\n", kv[1], kv[2],
			median(ao), median(bo), median(ro), median(ac), median(bc), median(rc), median(ar), median(br), median(rr),
			(kv[1] ~ /^get/ ? miss["redis", kv[1], kv[2]] + 0 " / " miss["ringdb", kv[1], kv[2]] + 0 : "-")
	}
}' "$tmp/results"
echo
echo "# load at end: $(uptime)"
