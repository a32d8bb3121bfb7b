#!/usr/bin/env bash
# Memory and GC footprint of each store holding N records (16-byte key,
# 64-byte value), one process per store. Prints the raw JSON lines, then a
# table.
#
#   ./footprint.sh                 # all stores, N=1048576
#   N=100000 IMPLS="ringdb otter" GCRUNS=21 ./footprint.sh
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=lib.sh
. ./lib.sh

N=${N:-1048576}
GCRUNS=${GCRUNS:-5}
IMPLS=${IMPLS:-"ringdb fastcache freecache otter shardedmap"}

make_tmp
build "$here" footprint

for impl in $IMPLS; do
	"$tmp/footprint" -impl "$impl" -n "$N" -gcruns "$GCRUNS" | tee -a "$tmp/results.jsonl"
done

echo
awk '
{
	line = $0
	gsub(/[{}"]/, "", line)
	nf = split(line, kv, ",")
	for (i = 1; i <= nf; i++) {
		split(kv[i], p, ":")
		r[p[1]] = p[2]
	}
	if (NR == 1) {
		printf "%-11s %10s %11s %12s %14s %12s %13s %9s\n", "impl", "rss_empty", "rss_loaded", "rss/entry", "over_payload", "gc_empty", "gc_loaded", "gc_ratio"
		printf "%-11s %10s %11s %12s %14s %12s %13s %9s\n", "", "MiB", "MiB", "bytes", "bytes", "us", "us", "x"
	}
	printf "%-11s %10.1f %11.1f %12.1f %14.1f %12.1f %13.1f %9.2f\n", r["impl"], r["rss_empty"] / 1048576, r["rss_loaded"] / 1048576, r["rss_per_entry"], r["rss_per_entry"] - r["payload_bytes"], r["gc_empty_ns"] / 1000, r["gc_loaded_ns"] / 1000, r["gc_ratio"]
}' "$tmp/results.jsonl"
