// Package stats is ringdb's monitoring endpoint: a VictoriaMetrics/metrics
// registry and the HTTP server that exposes it as /metrics (Prometheus text
// format), with /healthz, /readyz and, on request, /debug/pprof.
//
// stats never sits on a request path. The server keeps plain counters per
// event loop, shard or session; stats reads them through a Source only when
// /metrics is scraped. The one exception is Latency, which the server feeds
// with a sample of its commands (see Latency.Observe).
//
// Only this package knows about Prometheus: the rest of ringdb counts into
// plain structs.
package stats
