package server

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches /metrics and returns each sample by its full series name,
// e.g. `ringdb_commands_total{cmd="get"}`, parsed with the Prometheus text
// parser.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			out[seriesName(name, m)] = metricValue(m)
		}
	}
	return out
}

func seriesName(name string, m *dto.Metric) string {
	if len(m.GetLabel()) == 0 {
		return name
	}
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	return m.GetUntyped().GetValue()
}

// httpStatus returns the status code of GET http://addr/path.
func httpStatus(t *testing.T, addr, path string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// respCmd encodes argv as a RESP array.
func respCmd(argv ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(argv)) + "\r\n")
	for _, a := range argv {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"+a+"\r\n"...)
	}
	return b
}

// rawExchange writes req on c and reads exactly want bytes of reply.
func rawExchange(t *testing.T, c net.Conn, req []byte, want string) {
	t.Helper()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read reply: %v (got %q)", err, got)
	}
	if string(got) != want {
		t.Fatalf("reply %q, want %q", got, want)
	}
}

// waitMetric polls /metrics until series has value want, failing when it
// does not within 5 s. Counters of a connection may be added just after
// the client has its reply, hence the polling; an overshoot still fails
// once the deadline passes.
func waitMetric(t *testing.T, addr, series string, want float64) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := scrape(t, addr)
		if m[series] == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", series, m[series], want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Every metric named in issue 5 is exposed, plus Go runtime and process
// metrics.
func TestMetricsNames(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{MetricsAddr: "127.0.0.1:0"})
			c := ts.dial(t)
			rawExchange(t, c, respCmd("GET", "x"), "$-1\r\n")
			rawExchange(t, c, respCmd("GET"), "-ERR wrong number of arguments for 'get' command\r\n")
			// The arity error counts as an error, not as an executed command.
			m := waitMetric(t, ts.MetricsAddr(), `ringdb_command_errors_total{cmd="get",class="ERR"}`, 1)
			if v := m[`ringdb_commands_total{cmd="get"}`]; v != 1 {
				t.Errorf("get calls %v, want 1", v)
			}
			for _, name := range []string{
				"ringdb_cache_hits_total", "ringdb_cache_misses_total",
				"ringdb_network_inbound_bytes_total", "ringdb_network_outbound_bytes_total",
				`ringdb_command_errors_total{cmd="get",class="ERR"}`,
				`ringdb_command_duration_seconds_count{cmd="get"}`,
				"ringdb_connected_clients", "ringdb_connections_total",
				"ringdb_rejected_connections_total", "ringdb_output_buffer_disconnects_total",
				"ringdb_keys", "ringdb_keys_expiring", "ringdb_keys_avg_ttl_seconds",
				"ringdb_memory_used_bytes", "ringdb_memory_max_bytes", "ringdb_memory_lent_bytes",
				"ringdb_evicted_keys_total", "ringdb_expired_keys_total",
				"go_goroutines", "process_resident_memory_bytes",
			} {
				if _, ok := m[name]; !ok {
					t.Errorf("missing %s", name)
				}
			}
			if m[`ringdb_command_errors_total{cmd="get",class="ERR"}`] != 1 {
				t.Errorf("get errors = %v, want 1", m[`ringdb_command_errors_total{cmd="get",class="ERR"}`])
			}
		})
	}
}

// Three hits and two misses move the cache counters by exactly +3 and +2,
// and ringdb_commands_total{cmd="get"} by 5; the network counters move by
// exactly the bytes the raw client sent and received; INFO agrees.
func TestMetricsCountExactly(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{MetricsAddr: "127.0.0.1:0"})
			addr := ts.MetricsAddr()
			c := ts.dial(t)
			var req []byte
			var reply string
			for _, k := range []string{"a", "b", "c"} {
				req = append(req, respCmd("SET", k, "v")...)
				reply += "+OK\r\n"
			}
			rawExchange(t, c, req, reply)
			in0 := float64(len(req))
			out0 := float64(len(reply))
			waitMetric(t, addr, "ringdb_network_outbound_bytes_total", out0)
			before := waitMetric(t, addr, "ringdb_network_inbound_bytes_total", in0)

			req, reply = nil, ""
			for _, k := range []string{"a", "b", "c", "nope1", "nope2"} {
				req = append(req, respCmd("GET", k)...)
				if strings.HasPrefix(k, "nope") {
					reply += "$-1\r\n"
				} else {
					reply += "$1\r\nv\r\n"
				}
			}
			rawExchange(t, c, req, reply)
			waitMetric(t, addr, "ringdb_network_outbound_bytes_total", out0+float64(len(reply)))
			after := waitMetric(t, addr, "ringdb_network_inbound_bytes_total", in0+float64(len(req)))

			delta := func(name string) float64 { return after[name] - before[name] }
			if d := delta("ringdb_cache_hits_total"); d != 3 {
				t.Errorf("hits +%v, want +3", d)
			}
			if d := delta("ringdb_cache_misses_total"); d != 2 {
				t.Errorf("misses +%v, want +2", d)
			}
			if d := delta(`ringdb_commands_total{cmd="get"}`); d != 5 {
				t.Errorf("get calls +%v, want +5", d)
			}
			if v := after[`ringdb_commands_total{cmd="set"}`]; v != 3 {
				t.Errorf("set calls %v, want 3", v)
			}
			if v := after["ringdb_keys"]; v != 3 {
				t.Errorf("keys %v, want 3", v)
			}

			// INFO reports the same counters under Redis's names.
			info := string(ts.infoText(nil))
			for field, series := range map[string]string{
				"keyspace_hits":          "ringdb_cache_hits_total",
				"keyspace_misses":        "ringdb_cache_misses_total",
				"total_net_input_bytes":  "ringdb_network_inbound_bytes_total",
				"total_net_output_bytes": "ringdb_network_outbound_bytes_total",
				"connected_clients":      "ringdb_connected_clients",
				"evicted_keys":           "ringdb_evicted_keys_total",
				"expired_keys":           "ringdb_expired_keys_total",
				"used_memory":            "ringdb_memory_used_bytes",
				"maxmemory":              "ringdb_memory_max_bytes",
				"used_memory_lent":       "ringdb_memory_lent_bytes",
			} {
				want := field + ":" + strconv.FormatFloat(after[series], 'f', -1, 64) + "\r\n"
				if !strings.Contains(info, "\r\n"+want) {
					t.Errorf("INFO lacks %q", want)
				}
			}
		})
	}
}

// Connection counters follow connections opening and closing.
func TestMetricsConnections(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{MetricsAddr: "127.0.0.1:0", MaxClients: 2})
			addr := ts.MetricsAddr()
			c1 := ts.dial(t)
			c2 := ts.dial(t)
			rawExchange(t, c1, respCmd("PING"), "+PONG\r\n")
			rawExchange(t, c2, respCmd("PING"), "+PONG\r\n")
			waitMetric(t, addr, "ringdb_connected_clients", 2)
			waitMetric(t, addr, "ringdb_connections_total", 2)

			// A third connection is refused by MaxClients.
			c3 := ts.dial(t)
			c3.Write(respCmd("PING"))
			c3.SetReadDeadline(time.Now().Add(5 * time.Second))
			b, _ := io.ReadAll(c3)
			if !bytes.Contains(b, []byte("max number of clients")) {
				t.Errorf("third client got %q", b)
			}
			waitMetric(t, addr, "ringdb_rejected_connections_total", 1)
			waitMetric(t, addr, "ringdb_connections_total", 3)

			c1.Close()
			waitMetric(t, addr, "ringdb_connected_clients", 1)
			m := waitMetric(t, addr, `ringdb_commands_total{cmd="ping"}`, 2)
			if m["ringdb_output_buffer_disconnects_total"] != 0 {
				t.Errorf("output buffer disconnects %v", m["ringdb_output_buffer_disconnects_total"])
			}
		})
	}
}

// /healthz and /readyz answer 200 once the server is up, /debug/pprof is
// off unless Config.Pprof, and Shutdown closes the endpoint.
func TestMetricsEndpoints(t *testing.T) {
	ts := startServer(t, TransportGnet, Config{MetricsAddr: "127.0.0.1:0"})
	addr := ts.MetricsAddr()
	if addr == "" {
		t.Fatal("no metrics address")
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/debug/pprof/": 404, "/nothing": 404} {
		if got := httpStatus(t, addr, path); got != want {
			t.Errorf("GET %s: %d, want %d", path, got, want)
		}
	}

	tp := startServer(t, TransportStd, Config{MetricsAddr: "127.0.0.1:0", Pprof: true})
	if got := httpStatus(t, tp.MetricsAddr(), "/debug/pprof/"); got != 200 {
		t.Errorf("pprof on: GET /debug/pprof/: %d", got)
	}
	if err := tp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + tp.MetricsAddr() + "/healthz"); err == nil {
		t.Error("metrics endpoint still answers after Shutdown")
	}
}

// With MetricsAddr "off" nothing listens and commands are not counted.
func TestMetricsOff(t *testing.T) {
	ts := startServer(t, TransportStd, Config{MetricsAddr: metricsOff})
	if ts.MetricsAddr() != "" || ts.met != nil {
		t.Fatal("metrics endpoint on")
	}
	rawExchange(t, ts.dial(t), respCmd("PING"), "+PONG\r\n")
}

// GETDEL counts as a read, as in Redis: a hit when the key was there, a
// miss otherwise; writes do not count.
func TestGetDelCountsHitsAndMisses(t *testing.T) {
	ts := startServer(t, "pipe", Config{})
	c := ts.dial(t)
	rawExchange(t, c, respCmd("SET", "k", "v"), "+OK\r\n")
	st0 := ts.Keyspace().Stats()
	rawExchange(t, c, respCmd("GETDEL", "k"), "$1\r\nv\r\n")
	rawExchange(t, c, respCmd("GETDEL", "k"), "$-1\r\n")
	rawExchange(t, c, respCmd("SET", "k", "v"), "+OK\r\n")
	st1 := ts.Keyspace().Stats()
	if st1.Hits-st0.Hits != 1 || st1.Misses-st0.Misses != 1 {
		t.Fatalf("hits +%d misses +%d, want +1 +1", st1.Hits-st0.Hits, st1.Misses-st0.Misses)
	}
}

// ringdb_keys_expiring and ringdb_keys_avg_ttl_seconds follow INFO
// keyspace's expires and avg_ttl (the latter once the 10 Hz expiry cycle
// has sampled the keys).
func TestMetricsKeysExpiring(t *testing.T) {
	ts := startServer(t, TransportStd, Config{MetricsAddr: "127.0.0.1:0"})
	c := ts.dial(t)
	rawExchange(t, c, respCmd("SET", "plain", "v"), "+OK\r\n")
	rawExchange(t, c, respCmd("SET", "t1", "v", "EX", "1000"), "+OK\r\n")
	rawExchange(t, c, respCmd("SET", "t2", "v", "EX", "1000"), "+OK\r\n")
	waitMetric(t, ts.MetricsAddr(), "ringdb_keys_expiring", 2)
	deadline := time.Now().Add(5 * time.Second)
	for {
		avg := scrape(t, ts.MetricsAddr())["ringdb_keys_avg_ttl_seconds"]
		if avg > 990 && avg <= 1000 {
			break
		}
		if avg != 0 || time.Now().After(deadline) {
			t.Fatalf("ringdb_keys_avg_ttl_seconds = %v, want about 1000 once sampled", avg)
		}
		time.Sleep(20 * time.Millisecond)
	}
	info := string(ts.infoText([]string{"keyspace"}))
	if !strings.Contains(info, "db0:keys=3,expires=2,avg_ttl=") {
		t.Errorf("INFO keyspace = %q", info)
	}
}
