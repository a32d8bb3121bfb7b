package benchtool

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
)

func TestParseFlagsDefaults(t *testing.T) {
	c, err := ParseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7379" || c.Protocol != "binary" || c.Clients != 50 || c.Pipeline != 1 ||
		c.Duration != 10*time.Second || c.Requests != 0 || c.SetRatio != 1 || c.GetRatio != 10 ||
		c.KeyPattern != "uniform" || c.Keyspace != 100000 || c.DataSize != 64 || c.Rate != 0 || c.JSON {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestParseFlagsAll(t *testing.T) {
	c, err := ParseFlags([]string{"--addr", "h:1", "--protocol", "resp", "--clients", "7", "--pipeline", "16",
		"--requests", "1000", "--ratio", "3:2", "--key-pattern", "zipf", "--keyspace", "10",
		"--data-size", "5", "--rate", "100", "--json"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: "h:1", Protocol: "resp", Clients: 7, Pipeline: 16, Requests: 1000, SetRatio: 3,
		GetRatio: 2, KeyPattern: "zipf", Keyspace: 10, DataSize: 5, Rate: 100, JSON: true}
	if c != want {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	c, err = ParseFlags([]string{"--duration", "2s"}, io.Discard)
	if err != nil || c.Duration != 2*time.Second || c.Requests != 0 {
		t.Fatalf("duration: %+v %v", c, err)
	}
}

func TestParseFlagsInvalid(t *testing.T) {
	for _, args := range [][]string{
		{"--protocol", "http"},
		{"--clients", "0"},
		{"--pipeline", "0"},
		{"--duration", "1s", "--requests", "10"},
		{"--duration", "-1s"},
		{"--requests", "-5"},
		{"--ratio", "1"},
		{"--ratio", "0:0"},
		{"--ratio", "-1:2"},
		{"--ratio", "a:b"},
		{"--key-pattern", "gauss"},
		{"--keyspace", "0"},
		{"--data-size", "-1"},
		{"--rate", "-3"},
		// NaN and Inf passed, and the run ended with "json: unsupported
		// value" under --json; a rate so low that the interval between
		// batches overflowed a time.Duration ran unlimited.
		{"--rate", "NaN"},
		{"--rate", "+Inf"},
		{"--rate", "1e-12"},
		{"--addr", ""},
		{"--nosuchflag"},
		{"extra"},
	} {
		if _, err := ParseFlags(args, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func TestKeyGensWithinKeyspace(t *testing.T) {
	for _, pattern := range []string{"uniform", "zipf"} {
		for _, n := range []int64{1, 2, 10, 100000} {
			g := NewKeyGen(pattern, n, 42)
			seen := map[int64]int{}
			for range 20000 {
				k := g.Next()
				if k < 0 || k >= n {
					t.Fatalf("%s/%d: key %d out of range", pattern, n, k)
				}
				seen[k]++
			}
			if n == 10 && len(seen) != 10 {
				t.Errorf("%s/%d: only %d distinct keys", pattern, n, len(seen))
			}
			if n == 10 {
				if pattern == "zipf" && seen[0] < 3*seen[9] {
					t.Errorf("zipf not skewed: %v", seen)
				}
				if pattern == "uniform" && (seen[0] < 1500 || seen[0] > 2500) {
					t.Errorf("uniform skewed: %v", seen)
				}
			}
		}
	}
	k := newKeyTable(100)
	if k.key(7) != "rb:7" {
		t.Fatal(k.key(7))
	}
	big := newKeyTable(maxPrebuilt + 1)
	if big.key(maxPrebuilt) != "rb:4194304" {
		t.Fatal(big.key(maxPrebuilt))
	}
}

func TestMixerRatio(t *testing.T) {
	for _, tc := range []struct{ set, get int }{{1, 10}, {1, 0}, {0, 1}, {3, 2}, {1, 1}, {7, 3}} {
		for _, start := range []int{0, 5, 13} {
			m := NewMixer(tc.set, tc.get, start)
			cycle := tc.set + tc.get
			sets := 0
			for range cycle * 100 {
				if m.IsSet() {
					sets++
				}
			}
			if sets != tc.set*100 {
				t.Errorf("%d:%d start %d: %d sets in %d ops", tc.set, tc.get, start, sets, cycle*100)
			}
		}
	}
	// 1:1 alternates rather than bunching.
	m := NewMixer(1, 1, 0)
	a, b := m.IsSet(), m.IsSet()
	if a == b {
		t.Error("1:1 does not alternate")
	}
}

func startServer(t *testing.T) string {
	t.Helper()
	s, err := server.New(server.Config{Addr: "127.0.0.1:0", MetricsAddr: "off"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s.Addr()
}

func checkResult(t *testing.T, r *Result) {
	t.Helper()
	if r.Requests <= 0 || r.Errors != 0 || r.OpsPerSec <= 0 {
		t.Fatalf("requests %d errors %d (%s) ops/s %f", r.Requests, r.Errors, r.FirstError, r.OpsPerSec)
	}
	p := []float64{r.P50Us, r.P90Us, r.P99Us, r.P999Us, r.MaxUs}
	if p[0] <= 0 {
		t.Fatalf("p50 %f", p[0])
	}
	for i := 1; i < len(p); i++ {
		if p[i] < p[i-1] {
			t.Fatalf("percentiles not monotone: %v", p)
		}
	}
	if r.Sets+r.Gets != r.Requests || r.Misses > r.Gets {
		t.Fatalf("counts: %+v", r)
	}
}

func TestRunAgainstServer(t *testing.T) {
	addr := startServer(t)
	for _, proto := range []string{"binary", "resp"} {
		for _, pipe := range []int{1, 8} {
			t.Run(proto+"/p"+string(rune('0'+pipe)), func(t *testing.T) {
				cfg := Config{Addr: addr, Protocol: proto, Clients: 4, Pipeline: pipe, Duration: 300 * time.Millisecond,
					SetRatio: 1, GetRatio: 3, KeyPattern: "zipf", Keyspace: 1000, DataSize: 64}
				r, err := Run(context.Background(), cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				checkResult(t, r)
				if r.Sets == 0 || r.Gets == 0 {
					t.Fatalf("mix: %+v", r)
				}
				if r.Protocol != proto || r.Pipeline != pipe || r.Clients != 4 || r.Ratio != "1:3" {
					t.Fatalf("echoed config: %+v", r)
				}
			})
		}
	}
}

func TestRunRequestsExact(t *testing.T) {
	addr := startServer(t)
	for _, proto := range []string{"binary", "resp"} {
		cfg := Config{Addr: addr, Protocol: proto, Clients: 3, Pipeline: 4, Requests: 1001,
			SetRatio: 1, GetRatio: 0, KeyPattern: "uniform", Keyspace: 50, DataSize: 10}
		r, err := Run(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, r)
		if r.Requests != 1001 || r.Sets != 1001 {
			t.Fatalf("%s: requests %d sets %d, want 1001", proto, r.Requests, r.Sets)
		}
	}
	// Every key was set, so a GET-only run has no misses.
	r, err := Run(context.Background(), Config{Addr: addr, Protocol: "resp", Clients: 2, Pipeline: 1, Requests: 200,
		SetRatio: 0, GetRatio: 1, KeyPattern: "uniform", Keyspace: 50, DataSize: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r)
	if r.Misses != 0 {
		t.Fatalf("misses %d", r.Misses)
	}
}

func TestRateLimit(t *testing.T) {
	addr := startServer(t)
	for _, proto := range []string{"binary", "resp"} {
		cfg := Config{Addr: addr, Protocol: proto, Clients: 4, Pipeline: 1, Duration: time.Second,
			SetRatio: 1, GetRatio: 1, KeyPattern: "uniform", Keyspace: 100, DataSize: 8, Rate: 400}
		r, err := Run(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, r)
		if r.OpsPerSec < 400/3.0 || r.OpsPerSec > 400*1.5 {
			t.Fatalf("%s: %.0f ops/s with --rate 400", proto, r.OpsPerSec)
		}
		if r.SendLagP50Us <= 0 || r.SendLagP99Us < r.SendLagP50Us {
			t.Fatalf("%s: send lag p50 %f p99 %f", proto, r.SendLagP50Us, r.SendLagP99Us)
		}
	}
}

func TestMainJSON(t *testing.T) {
	addr := startServer(t)
	var out, errOut bytes.Buffer
	code := Main([]string{"--addr", addr, "--protocol", "resp", "--clients", "2", "--requests", "100", "--json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if strings.Count(strings.TrimSpace(out.String()), "\n") != 0 {
		t.Fatalf("want exactly one line of JSON, got %q", out.String())
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ops_per_sec", "p50_us", "p90_us", "p99_us", "p999_us", "max_us",
		"requests", "errors", "duration_s", "clients", "pipeline", "protocol", "ratio"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, out.String())
		}
	}
	if m["requests"].(float64) != 100 || m["errors"].(float64) != 0 || m["protocol"] != "resp" || m["ratio"] != "1:10" {
		t.Errorf("JSON values: %s", out.String())
	}
}

func TestMainTable(t *testing.T) {
	addr := startServer(t)
	var out, errOut bytes.Buffer
	if code := Main([]string{"--addr", addr, "--clients", "2", "--requests", "100"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, s := range []string{"ops/s", "p50", "p90", "p99", "p99.9", "max", "0 errors"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
}

func TestMainErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main([]string{"--clients", "0"}, &out, &errOut); code != 2 {
		t.Fatalf("bad flags: exit %d", code)
	}
	// Nothing listens on port 1.
	if code := Main([]string{"--addr", "127.0.0.1:1", "--protocol", "resp", "--requests", "10"}, &out, &errOut); code != 1 {
		t.Fatalf("unreachable server: exit %d", code)
	}
}

// A server answering every command with an error reply: the run counts the
// errors, says so and exits non-zero.
func TestErrorRepliesCounted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if strings.HasPrefix(line, "*") { // one command header (keys and values never start with '*')
						if _, err := c.Write([]byte("-ERR nope\r\n")); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	var out, errOut bytes.Buffer
	code := Main([]string{"--addr", ln.Addr().String(), "--protocol", "resp", "--clients", "2",
		"--pipeline", "3", "--requests", "60", "--json"}, &out, &errOut)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var r Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Errors != 60 || r.Requests != 60 || !strings.Contains(r.FirstError, "nope") {
		t.Fatalf("result %+v", r)
	}
	if !strings.Contains(errOut.String(), "60 errors") {
		t.Fatalf("stderr: %s", errOut.String())
	}
}

func TestReadReplyTypes(t *testing.T) {
	in := "+OK\r\n:5\r\n$3\r\nabc\r\n$-1\r\n*2\r\n$1\r\na\r\n-ERR x\r\n_\r\n%1\r\n+k\r\n:1\r\n-ERR boom\r\n!5\r\nERR y\r\n"
	br := newReader(in)
	want := []struct {
		null, err bool
	}{{false, false}, {false, false}, {false, false}, {true, false}, {false, false}, {true, false},
		{false, false}, {false, true}, {false, true}}
	for i, w := range want {
		null, err := readReply(br)
		if null != w.null || (err != nil) != w.err {
			t.Fatalf("reply %d: null %v err %v", i, null, err)
		}
	}
}
