package stats

import (
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// LatencyBuckets are the upper bounds, in seconds, of
// ringdb_command_duration_seconds: 1 µs doubling to about 0.5 s. A command
// runs inline on its event loop, so most land in the first few buckets.
var LatencyBuckets = metrics.ExponentialBuckets(1e-6, 2, 20)

// Latency holds ringdb_command_duration_seconds{cmd}, one histogram per
// command, created on the command's first observation so that commands
// nobody runs add no series.
type Latency struct {
	set   *metrics.Set
	names []string
	hs    []atomic.Pointer[metrics.PrometheusHistogram]
}

func newLatency(set *metrics.Set, names []string) *Latency {
	return &Latency{set: set, names: names, hs: make([]atomic.Pointer[metrics.PrometheusHistogram], len(names))}
}

// Observe records that command i (an index into the names given to
// Server.Latency) took d. It is safe from any goroutine. It takes the
// histogram's mutex, so callers sample: the server observes one command in
// SampleEvery per session, which keeps the lock off the common path.
func (l *Latency) Observe(i int, d time.Duration) {
	if l == nil || i < 0 || i >= len(l.hs) {
		return
	}
	h := l.hs[i].Load()
	if h == nil {
		h = l.set.GetOrCreatePrometheusHistogramExt(`ringdb_command_duration_seconds{cmd="`+l.names[i]+`"}`, LatencyBuckets)
		l.hs[i].Store(h)
	}
	h.Update(d.Seconds())
}

// SampleEvery is how often the server times a command: one in SampleEvery
// per session (a power of two). ringdb_command_duration_seconds_count is
// therefore about ringdb_commands_total / SampleEvery; quantiles are
// unaffected.
const SampleEvery = 64
