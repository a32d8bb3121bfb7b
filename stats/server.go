package stats

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Config configures the monitoring endpoint.
type Config struct {
	// Addr is the HTTP listen address, such as "127.0.0.1:9379"; port 0
	// picks a free port (see Server.Addr).
	Addr string
	// Pprof serves net/http/pprof under /debug/pprof/ when set.
	Pprof bool
}

// Server is the monitoring HTTP server and its registry. Create it with
// New, register command names with Latency, then Start; Shutdown stops it.
// Methods are safe for concurrent use.
type Server struct {
	cfg   Config
	src   Source
	set   *metrics.Set
	lat   *Latency
	ready atomic.Bool

	mu   sync.Mutex // guards snap while a scrape formats it
	snap Snapshot

	ln   net.Listener
	http *http.Server
	done chan struct{}
}

// New returns a server reading its counters from src. It does not listen
// until Start.
func New(cfg Config, src Source) *Server {
	return &Server{cfg: cfg, src: src, set: metrics.NewSet(), done: make(chan struct{})}
}

// Latency returns the command latency histograms for the given command
// names, creating them on the first call; later calls return the same
// Latency whatever names they pass.
func (s *Server) Latency(names []string) *Latency {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lat == nil {
		s.lat = newLatency(s.set, names)
	}
	return s.lat
}

// SetReady sets what /readyz reports: 200 once the data port is listening,
// 503 before and while shutting down.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// Handler returns the HTTP handler: /metrics, /healthz, /readyz and, when
// configured, /debug/pprof/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		s.WritePrometheus(w)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	if s.cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// idleTimeout closes a keep-alive connection no request has used for
// that long: a scraper keeps one and uses it every scrape interval (15 s
// to a minute), but connections left open by clients that went away held
// a goroutine and a descriptor each for ever. No write timeout: a pprof
// profile writes for as long as it was asked to run. A variable for tests.
var idleTimeout = 2 * time.Minute

// Start binds Config.Addr and serves in the background. It returns the
// listen error, if any.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("ringdb: metrics listener: %w", err)
	}
	s.ln = ln
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: idleTimeout}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln) // ErrServerClosed after Shutdown
	}()
	return nil
}

// Addr returns the bound address once Start has succeeded, else nil.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Shutdown stops the HTTP server, waiting for in-flight scrapes until ctx
// ends. It is a no-op when Start has not succeeded.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	if s.http == nil {
		return nil
	}
	err := s.http.Shutdown(ctx)
	select {
	case <-s.done:
	case <-ctx.Done():
	}
	return err
}

// WritePrometheus writes every metric in the Prometheus text format: the
// server's counters (read now from the Source), the latency histograms,
// and the Go runtime and process metrics (open and maximum file
// descriptors included).
func (s *Server) WritePrometheus(w io.Writer) {
	s.mu.Lock()
	snap := &s.snap
	snap.Commands, snap.Errors = snap.Commands[:0], snap.Errors[:0]
	s.src.Sample(snap)
	writeSnapshot(w, snap)
	s.mu.Unlock()
	s.set.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
	metrics.WriteFDMetrics(w) // not part of WriteProcessMetrics
}

func writeSnapshot(w io.Writer, sn *Snapshot) {
	metrics.WriteCounterUint64(w, "ringdb_cache_hits_total", sn.Hits)
	metrics.WriteCounterUint64(w, "ringdb_cache_misses_total", sn.Misses)
	metrics.WriteCounterUint64(w, "ringdb_network_inbound_bytes_total", sn.BytesIn)
	metrics.WriteCounterUint64(w, "ringdb_network_outbound_bytes_total", sn.BytesOut)
	for _, c := range sn.Commands {
		metrics.WriteCounterUint64(w, `ringdb_commands_total{cmd="`+c.Name+`"}`, c.Calls)
	}
	for _, e := range sn.Errors {
		metrics.WriteCounterUint64(w, `ringdb_command_errors_total{cmd="`+e.Name+`",class="`+e.Class+`"}`, e.Count)
	}
	metrics.WriteGaugeUint64(w, "ringdb_connected_clients", uint64(max(sn.Connected, 0)))
	metrics.WriteCounterUint64(w, "ringdb_connections_total", sn.ConnectionsTotal)
	metrics.WriteCounterUint64(w, "ringdb_rejected_connections_total", sn.Rejected)
	metrics.WriteCounterUint64(w, "ringdb_output_buffer_disconnects_total", sn.OutputBufferDisconnects)
	metrics.WriteGaugeUint64(w, "ringdb_keys", uint64(max(sn.Keys, 0)))
	metrics.WriteGaugeUint64(w, "ringdb_keys_expiring", uint64(max(sn.KeysExpiring, 0)))
	metrics.WriteGaugeFloat64(w, "ringdb_keys_avg_ttl_seconds", float64(max(sn.AvgTTLMillis, 0))/1000)
	metrics.WriteGaugeUint64(w, "ringdb_memory_used_bytes", uint64(max(sn.MemoryUsed, 0)))
	metrics.WriteGaugeUint64(w, "ringdb_memory_max_bytes", uint64(max(sn.MemoryMax, 0)))
	metrics.WriteGaugeUint64(w, "ringdb_memory_lent_bytes", uint64(max(sn.MemoryLent, 0)))
	metrics.WriteCounterUint64(w, "ringdb_evicted_keys_total", sn.Evicted)
	metrics.WriteCounterUint64(w, "ringdb_expired_keys_total", sn.Expired)
	metrics.WriteCounterUint64(w, "ringdb_slow_commands_total", sn.SlowCommands)
	metrics.WriteCounterUint64(w, "ringdb_command_panics_total", sn.CommandPanics)
}
