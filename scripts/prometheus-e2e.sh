#!/usr/bin/env bash
# End-to-end check of /metrics with a real Prometheus (Debian package):
# builds and starts ringdb-server, starts Prometheus scraping it every
# second (config and data in a temp dir), does a few SETs and GETs, then asks
# the Prometheus HTTP API for ringdb_cache_hits_total and checks that the
# value is > 0. Exits 0 on success.
#
#   ./scripts/prometheus-e2e.sh
#
# Environment: PORT_BASE (26579: ringdb, +1: its metrics, +2: Prometheus),
# TIMEOUT (seconds to wait for the query to succeed, 60).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
PORT_BASE=${PORT_BASE:-26579}
TIMEOUT=${TIMEOUT:-60}
data=127.0.0.1:$PORT_BASE
metrics=127.0.0.1:$((PORT_BASE + 1))
prom=127.0.0.1:$((PORT_BASE + 2))

if ! command -v prometheus >/dev/null; then
	apt-get install -y prometheus || { apt-get update && apt-get install -y prometheus; }
fi
command -v redis-cli >/dev/null || apt-get install -y redis-tools

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$root" && go build -o "$tmp/ringdb-server" ./cmd/ringdb-server)
"$tmp/ringdb-server" --listen "$data" --maxmemory 256MiB --metrics-listen "$metrics" --log-level warn &
pids+=($!)

cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: ringdb
    static_configs:
      - targets: ['$metrics']
YAML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
	--web.listen-address="$prom" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
pids+=($!)

for _ in $(seq 100); do
	redis-cli -h 127.0.0.1 -p "$PORT_BASE" ping >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS "http://$metrics/readyz" >/dev/null
for i in 1 2 3; do redis-cli -h 127.0.0.1 -p "$PORT_BASE" set "k$i" "v$i" >/dev/null; done
for i in 1 2 3 4 5; do redis-cli -h 127.0.0.1 -p "$PORT_BASE" get "k$i" >/dev/null; done
echo "ringdb: $(curl -fsS "http://$metrics/metrics" | grep -E '^ringdb_cache_(hits|misses)_total' | tr '\n' ' ')"

deadline=$((SECONDS + TIMEOUT))
while :; do
	out=$(curl -fsS "http://$prom/api/v1/query?query=ringdb_cache_hits_total" 2>/dev/null || true)
	val=$(printf '%s' "$out" | python3 -c 'import json,sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "")
except Exception:
    print("")' 2>/dev/null)
	if [ -n "$val" ] && python3 -c "import sys; sys.exit(0 if float('$val') > 0 else 1)"; then
		echo "prometheus: ringdb_cache_hits_total = $val"
		echo "PASS"
		exit 0
	fi
	if [ $SECONDS -ge $deadline ]; then
		echo "FAIL: no ringdb_cache_hits_total > 0 from Prometheus after ${TIMEOUT}s; last answer: $out" >&2
		tail -20 "$tmp/prometheus.log" >&2
		exit 1
	fi
	sleep 1
done
