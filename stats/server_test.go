package stats

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func fixedSource() Source {
	return SourceFunc(func(s *Snapshot) {
		*s = Snapshot{
			Hits: 3, Misses: 2, BytesIn: 100, BytesOut: 200,
			ConnectionsTotal: 5, Rejected: 1, OutputBufferDisconnects: 1, Connected: 3,
			Keys: 7, MemoryUsed: 1 << 20, MemoryMax: 1 << 30, MemoryLent: 1 << 19, Evicted: 4, Expired: 6, SlowCommands: 8, CommandPanics: 9,
			Commands: append(s.Commands, CommandCount{Name: "get", Calls: 5}),
			Errors:   append(s.Errors, ErrorCount{Name: "get", Class: "ERR", Count: 1}),
		}
	})
}

// The exposition parses with the Prometheus text parser and carries every
// ringdb metric with the Source's values, the latency histogram in
// Prometheus "le" buckets, and Go and process metrics.
func TestWritePrometheus(t *testing.T) {
	s := New(Config{}, fixedSource())
	lat := s.Latency([]string{"get", "set"})
	lat.Observe(0, 3*time.Microsecond)
	lat.Observe(7, time.Second) // out of range: ignored
	var buf bytes.Buffer
	s.WritePrometheus(&buf)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"ringdb_cache_hits_total":                3,
		"ringdb_cache_misses_total":              2,
		"ringdb_network_inbound_bytes_total":     100,
		"ringdb_network_outbound_bytes_total":    200,
		"ringdb_commands_total":                  5,
		"ringdb_command_errors_total":            1,
		"ringdb_connected_clients":               3,
		"ringdb_connections_total":               5,
		"ringdb_rejected_connections_total":      1,
		"ringdb_output_buffer_disconnects_total": 1,
		"ringdb_keys":                            7,
		"ringdb_memory_used_bytes":               1 << 20,
		"ringdb_memory_max_bytes":                1 << 30,
		"ringdb_memory_lent_bytes":               1 << 19,
		"ringdb_evicted_keys_total":              4,
		"ringdb_expired_keys_total":              6,
		"ringdb_slow_commands_total":             8,
		"ringdb_command_panics_total":            9,
		"ringdb_command_duration_seconds_count":  1,
	}
	for name, v := range want {
		f, ok := fams[name]
		if !ok || len(f.GetMetric()) != 1 {
			t.Errorf("%s: missing or not one series", name)
			continue
		}
		if got := f.GetMetric()[0].GetUntyped().GetValue(); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if b, ok := fams["ringdb_command_duration_seconds_bucket"]; !ok || len(b.GetMetric()) != len(LatencyBuckets)+1 {
		t.Errorf("duration buckets: %v", b)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("missing %s", name)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// /readyz follows SetReady, /healthz is always 200, pprof is off unless
// configured, and Shutdown stops the listener.
func TestServerEndpoints(t *testing.T) {
	for _, pprofOn := range []bool{false, true} {
		s := New(Config{Addr: "127.0.0.1:0", Pprof: pprofOn}, fixedSource())
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		base := "http://" + s.Addr().String()
		if code, _ := get(t, base+"/healthz"); code != 200 {
			t.Errorf("healthz %d", code)
		}
		if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("readyz before SetReady: %d", code)
		}
		s.SetReady(true)
		if code, _ := get(t, base+"/readyz"); code != 200 {
			t.Errorf("readyz after SetReady: %d", code)
		}
		code, body := get(t, base+"/metrics")
		if code != 200 || !strings.Contains(body, "ringdb_cache_hits_total 3\n") {
			t.Errorf("metrics %d %q", code, body)
		}
		wantPprof := 404
		if pprofOn {
			wantPprof = 200
		}
		if code, _ := get(t, base+"/debug/pprof/"); code != wantPprof {
			t.Errorf("pprof=%v: /debug/pprof/ %d", pprofOn, code)
		}
		if err := s.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := http.Get(base + "/healthz"); err == nil {
			t.Error("still serving after Shutdown")
		}
	}
}

// Start reports a listen error.
func TestStartError(t *testing.T) {
	s := New(Config{Addr: "256.0.0.1:1"}, fixedSource())
	if err := s.Start(); err == nil {
		t.Fatal("no error")
	}
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// docs/monitoring.md promises open file descriptors among the process
// metrics, and the server lowers maxclients to fit `ulimit -n`, so an
// operator alerts on open/max descriptors. metrics.WriteProcessMetrics
// does not write them (VictoriaMetrics/metrics has WriteFDMetrics for
// that), so the endpoint had neither series.
func TestWritePrometheusFDMetrics(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("descriptor counts come from /proc")
	}
	s := New(Config{}, fixedSource())
	var buf bytes.Buffer
	s.WritePrometheus(&buf)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"process_open_fds", "process_max_fds"} {
		f, ok := fams[name]
		if !ok || len(f.GetMetric()) != 1 || f.GetMetric()[0].GetUntyped().GetValue() <= 0 {
			t.Errorf("%s: missing or not positive: %v", name, f)
		}
	}
}

// TestIdleConnectionsClosed: a keep-alive connection left unused is closed
// (it held a goroutine and a descriptor for ever); one in use is not.
func TestIdleConnectionsClosed(t *testing.T) {
	old := idleTimeout
	idleTimeout = 300 * time.Millisecond
	defer func() { idleTimeout = old }()
	s := New(Config{Addr: "127.0.0.1:0"}, fixedSource())
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(t.Context())
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	req := "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	for range 3 { // used more often than the timeout: kept
		if _, err := io.WriteString(nc, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("a connection in use was closed: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		time.Sleep(50 * time.Millisecond)
	}
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle keep-alive connection: read %v, want EOF once the idle timeout passed", err)
	}
}
