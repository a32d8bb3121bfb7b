#!/usr/bin/env bash
# Runs BenchmarkCompare and prints, for each op, every store's ns/op and
# allocs/op and the ratio ringdb/fastcache, all from the same run(s).
#
#   ./compare.sh                       # -cpu 2 -benchtime 2s, one round
#   COUNT=5 BENCHTIME=1s ./compare.sh  # medians over 5 rounds
#
# A round runs every store once, in order; with COUNT > 1 the rounds are
# separate runs of the test binary, so stores alternate and a burst of
# background load does not land on one store's repetitions only.
# Extra arguments go to the test binary, e.g. ./compare.sh -compare.keys=65536
set -uo pipefail
cd "$(dirname "$0")" || exit 1
# shellcheck source=lib.sh
. ./lib.sh

CPU=${CPU:-2}
BENCHTIME=${BENCHTIME:-2s}
COUNT=${COUNT:-1}

make_tmp
go test -c -o "$tmp/compare.test" . || exit 1

status=0
for round in $(seq 1 "$COUNT"); do
	[ "$COUNT" -gt 1 ] && echo "# round $round of $COUNT"
	"$tmp/compare.test" -test.run '^$' -test.bench '^BenchmarkCompare$' -test.cpu "$CPU" \
		-test.benchtime "$BENCHTIME" -test.count 1 -test.timeout 60m "$@" 2>&1 | tee -a "$tmp/out.txt"
	[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done

echo
awk "$awk_median"'
$1 ~ /^BenchmarkCompare\// {
	name = $1
	sub(/-[0-9]+$/, "", name)
	split(name, parts, "/")
	impl = parts[2]; op = parts[3]
	if (!(impl in seenImpl)) { seenImpl[impl] = 1; impls[++nimpl] = impl }
	if (!(op in seenOp)) { seenOp[op] = 1; ops[++nop] = op }
	for (i = 2; i <= NF; i++) {
		if ($i == "ns/op") ns[impl, op] = ns[impl, op] " " $(i - 1)
		if ($i == "allocs/op") al[impl, op] = al[impl, op] " " $(i - 1)
	}
}
END {
	if (nop == 0) { print "no BenchmarkCompare results found"; exit 1 }
	printf "%-8s", "ns/op"
	for (k = 1; k <= nimpl; k++) printf " %11s", impls[k]
	printf " %17s\n", "ringdb/fastcache"
	for (o = 1; o <= nop; o++) {
		op = ops[o]
		printf "%-8s", op
		for (k = 1; k <= nimpl; k++) {
			m = median(ns[impls[k], op])
			printf " %11s", m == "" ? "-" : sprintf("%.1f", m)
		}
		r = median(ns["ringdb", op]); f = median(ns["fastcache", op])
		printf " %17s\n", (r == "" || f == "" || f == 0) ? "-" : sprintf("%.2f", r / f)
	}
	printf "\n%-8s", "allocs"
	for (k = 1; k <= nimpl; k++) printf " %11s", impls[k]
	printf "\n"
	for (o = 1; o <= nop; o++) {
		op = ops[o]
		printf "%-8s", op
		for (k = 1; k <= nimpl; k++) {
			m = median(al[impls[k], op])
			printf " %11s", m == "" ? "-" : m
		}
		printf "\n"
	}
}' "$tmp/out.txt" || status=1
exit "$status"
