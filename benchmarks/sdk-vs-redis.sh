#!/usr/bin/env bash
# ringdb-bench in one run, same clients, ratio and data size, no explicit
# pipeline:
#   binary-ringdb  --protocol binary against ringdb-server (the Go SDK)
#   resp-ringdb    --protocol resp   against ringdb-server
#   resp-redis     --protocol resp   against redis-server
# alternating over ROUNDS rounds (the order rotates each round), DURATION
# each; prints every run, then medians of ops/s and p99 and the same-round
# ratio binary-ringdb / resp-redis (median over rounds).
#
#   ./sdk-vs-redis.sh
#   ROUNDS=1 DURATION=3s ./sdk-vs-redis.sh
#
# Environment: ROUNDS (3), DURATION (10s), CLIENTS (50), RATIO (1:10),
# DATA_SIZE (64), KEYSPACE (100000), KEY_PATTERN (uniform), PORT_BASE
# (27379: ringdb, +1: redis), MAXMEMORY (2GiB, ringdb's --maxmemory).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CLIENTS=${CLIENTS:-50}
RATIO=${RATIO:-1:10}
DATA_SIZE=${DATA_SIZE:-64}
KEYSPACE=${KEYSPACE:-100000}
KEY_PATTERN=${KEY_PATTERN:-uniform}
PORT_BASE=${PORT_BASE:-27379}
MAXMEMORY=${MAXMEMORY:-2GiB}

need "redis-server redis-tools" redis-server redis-cli
make_tmp

build "$root" ringdb-server ringdb-bench

number_ports "$PORT_BASE" ringdb redis
for s in ringdb redis; do port_free "$s"; done
start_ringdb ringdb --maxmemory "$MAXMEMORY" --metrics-listen '' --log-level warn
start_redis redis --loglevel warning
for s in ringdb redis; do wait_up "$s"; done

echo "# $(host_info), $(go_version)"
echo "# $(redis-server --version)"
echo "# ringdb $(ringdb_rev)"
echo "# load at start: $(uptime)"
echo "# ringdb-bench --clients $CLIENTS --pipeline 1 --ratio $RATIO --data-size $DATA_SIZE --keyspace $KEYSPACE --key-pattern $KEY_PATTERN --duration $DURATION"
echo

runs=(binary-ringdb resp-ringdb resp-redis)
printf '%-5s %-14s %12s %10s %10s %10s %7s\n' round run ops/s p50_us p99_us p999_us errors
status=0
for ((round = 1; round <= ROUNDS; round++)); do
	for ((k = 0; k < 3; k++)); do
		name=${runs[$(((k + round - 1) % 3))]}
		case $name in
		binary-ringdb) args=(--protocol binary --addr "127.0.0.1:${port[ringdb]}") ;;
		resp-ringdb) args=(--protocol resp --addr "127.0.0.1:${port[ringdb]}") ;;
		resp-redis) args=(--protocol resp --addr "127.0.0.1:${port[redis]}") ;;
		esac
		"$tmp/ringdb-bench" "${args[@]}" --clients "$CLIENTS" --pipeline 1 --ratio "$RATIO" \
			--data-size "$DATA_SIZE" --keyspace "$KEYSPACE" --key-pattern "$KEY_PATTERN" \
			--duration "$DURATION" --json >"$tmp/out" 2>"$tmp/err" || status=1
		line=$(tr -d '\n' <"$tmp/out")
		get() { printf '%s' "$line" | grep -o "\"$1\":[^,}]*" | cut -d: -f2 | tr -d '"'; }
		ops=$(get ops_per_sec) p50=$(get p50_us) p99=$(get p99_us) p999=$(get p999_us) errs=$(get errors)
		printf '%-5s %-14s %12.0f %10.1f %10.1f %10.1f %7s\n' "$round" "$name" "${ops:-0}" "${p50:-0}" "${p99:-0}" "${p999:-0}" "${errs:--}"
		echo "$round $name ${ops:-0} ${p99:-0}" >>"$tmp/all"
		if [ -z "$line" ] || [ "${errs:-1}" != 0 ]; then
			echo "  (run failed: $(tail -n 2 "$tmp/err" | tr '\r' '\n' | tail -n 1))"
		fi
	done
done

echo
echo "# load at end: $(uptime)"
echo
awk -v rounds="$ROUNDS" '
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ ops[$2, $1] = $3; p99[$2, $1] = $4 }
END {
	split("binary-ringdb resp-ringdb resp-redis", names, " ")
	print "| run | median ops/s | median p99 µs |"
	print "| --- | ---: | ---: |"
	for (k = 1; k <= 3; k++) {
		n = names[k]
		for (r = 1; r <= rounds; r++) { o[r] = ops[n, r]; q[r] = p99[n, r] }
		printf "| %s | %.0f | %.1f |\n", n, median(o, rounds), median(q, rounds)
	}
	for (r = 1; r <= rounds; r++) {
		ro[r] = ops["resp-redis", r] > 0 ? ops["binary-ringdb", r] / ops["resp-redis", r] : 0
		rp[r] = p99["resp-redis", r] > 0 ? p99["binary-ringdb", r] / p99["resp-redis", r] : 0
	}
	print ""
	printf "ops/s ratio binary-ringdb / resp-redis (median of same-round ratios): %.2fx (target >= 2x)\n", median(ro, rounds)
	printf "p99 ratio   binary-ringdb / resp-redis (median of same-round ratios): %.2fx (target < 1x)\n", median(rp, rounds)
}' "$tmp/all"
exit $status
