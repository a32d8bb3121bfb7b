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
# (26599; ringdb takes the next port).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
SIZES=${SIZES:-"40000 300000"}
MAXMEMORY_MB=${MAXMEMORY_MB:-64}
GET_MAXMEMORY_MB=${GET_MAXMEMORY_MB:-1024}
BYTES=${BYTES:-1600000000}
PORT_BASE=${PORT_BASE:-26599}

need "redis-server redis-tools" redis-server redis-benchmark
make_tmp

print_header
echo "# maxmemory ${MAXMEMORY_MB} MiB, ${BYTES} bytes of values per run"
build "$root" ringdb-server

servers=(redis ringdb)
number_ports "$PORT_BASE" "${servers[@]}"

start() { # SERVER MAXMEMORY_MB
	local s=$1 mb=$2
	port_free "$s"
	if [ "$s" = redis ]; then
		start_redis "$s" --maxmemory "${mb}mb" --maxmemory-policy allkeys-lru
	else
		start_ringdb "$s" --maxmemory "${mb}MiB" --eviction allkeys --metrics-listen ''
	fi
	wait_up "$s"
}

stop() { # SERVER
	check_alive "$1" || exit 1
	stop_server "$1"
}

chunk=$(head -c 1000 /dev/zero | tr '\0' x)

: >"$tmp/results"
run() { # ROUND SERVER OP SIZE KEYS N: one redis-benchmark run per pipeline depth
	local round=$1 s=$2 op=$3 size=$4 keys=$5 n=$6 P c0 c1 ops h0 h1 m0 m1
	for P in 1 8; do
		h0=$(info_field "$s" stats keyspace_hits)
		m0=$(info_field "$s" stats keyspace_misses)
		c0=$(cpu_ticks "${pid[$s]}")
		ops=$(redis-benchmark -p "${port[$s]}" -c 50 -P "$P" -d "$size" -r "$keys" -n "$n" -t "$op" --csv |
			tail -n 1 | cut -d, -f2 | tr -d '"')
		c1=$(cpu_ticks "${pid[$s]}")
		h1=$(info_field "$s" stats keyspace_hits)
		m1=$(info_field "$s" stats keyspace_misses)
		echo "$round $s $op:$size $P $ops $(cpu_us $((c1 - c0)) "$n" 1) $(status_kb "${pid[$s]}" VmRSS) $((h1 - h0)) $((m1 - m0))" |
			tee -a "$tmp/results"
	done
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
		used=$(info_field "$s" memory used_memory)
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
		echo "$round $s append:1000 16 $ops $(cpu_us $((c1 - c0)) 10000 1) $(status_kb "${pid[$s]}" VmRSS) 0 0" |
			tee -a "$tmp/results"
		stop "$s"
	done
done

echo
echo "| op:value bytes | -P | Redis ops/s | ringdb ops/s | ops ratio | Redis CPU us/req | ringdb CPU us/req | CPU ratio | Redis RSS MiB | ringdb RSS MiB | RSS ratio | misses Redis / ringdb |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
awk "$awk_median"'
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
