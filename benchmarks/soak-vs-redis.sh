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
# malformed reply from either server, or a server did not start or died.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-5m}
MAXMEMORY=${MAXMEMORY:-256}
CLIENTS=${CLIENTS:-32}
KEYS=${KEYS:-200000}
INTERVAL=${INTERVAL:-10s}
SEED=${SEED:-1}
PORT_BASE=${PORT_BASE:-26489}

need "redis-server redis-tools" redis-server redis-cli
make_tmp

print_header
echo "# $DURATION per server, maxmemory ${MAXMEMORY} MiB, $CLIENTS clients, $KEYS keys, seed $SEED"

build "$root" ringdb-server
build "$here" soak

number_ports "$PORT_BASE" ringdb redis
status=0
for s in ringdb redis; do
	port_free "$s"
	if [ "$s" = redis ]; then
		start_redis "$s" --maxmemory "${MAXMEMORY}mb" --maxmemory-policy allkeys-lru
	else
		start_ringdb "$s" --maxmemory "${MAXMEMORY}MiB" --eviction allkeys --metrics-listen ''
	fi
	wait_up "$s"
	echo
	echo "## $s"
	"$tmp/soak" -addr "127.0.0.1:${port[$s]}" -pid "${pid[$s]}" -duration "$DURATION" \
		-clients "$CLIENTS" -keys "$KEYS" -interval "$INTERVAL" -seed "$SEED" | tee "$tmp/$s.out"
	rc=${PIPESTATUS[0]}
	check_alive "$s" || rc=1
	[ "$rc" -eq 0 ] || status=1
	stop_server "$s"
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
