package server

import (
	"strings"
	"testing"

	"github.com/ringdb/ringdb/transport"
	"github.com/ringdb/ringdb/transport/binproto"
)

// hotPath serves one request repeatedly through the handler with a reused
// writer, as a transport does.
type hotPath struct {
	srv  *Server
	conn *transport.Conn
	w    *transport.Writer
	buf  []byte
}

func newHotPath(t testing.TB, cfg Config) *hotPath {
	srv := newDirectServer(t, cfg)
	c := newDirectClient(t, srv)
	return &hotPath{srv: srv, conn: c.conn, w: transport.NewWriter(nil, transport.ProtoRESP, 2), buf: make([]byte, 0, 4096)}
}

func (h *hotPath) serve(req *transport.Request) {
	h.w.Reset(h.buf[:0], transport.ProtoRESP, 2)
	h.srv.h.Serve(h.conn, req, h.w)
}

// metricsModes are the two ways the hot path runs: without and with the
// metrics endpoint (per-command counters and sampled latency).
var metricsModes = []struct {
	name string
	cfg  Config
}{
	{"metrics=off", Config{MetricsAddr: metricsOff}},
	{"metrics=on", Config{MetricsAddr: "127.0.0.1:0"}},
}

// TestHotPathAllocs: GET, SET, MGET and INCR are allocation-free in steady
// state, and so are binary GET and SET, with and without metrics.
func TestHotPathAllocs(t *testing.T) {
	for _, m := range metricsModes {
		t.Run(m.name, func(t *testing.T) { testHotPathAllocs(t, m.cfg) })
	}
}

func testHotPathAllocs(t *testing.T, cfg Config) {
	h := newHotPath(t, cfg)
	h.serve(&transport.Request{Argv: argvOf([]string{"SET", "key", "value"})})
	for _, args := range [][]string{
		{"GET", "key"},
		{"get", "missing"},
		{"SET", "key", "value2"},
		{"SET", "key", "value2", "EX", "100"},
		{"MGET", "key", "missing", "key"},
		{"INCR", "counter"},
		{"EXISTS", "key", "missing"},
		{"TTL", "key"},
		{"PING"},
	} {
		req := &transport.Request{Argv: argvOf(args)}
		h.serve(req)
		if n := testing.AllocsPerRun(200, func() { h.serve(req) }); n != 0 {
			t.Errorf("%q: %.1f allocations per request", args, n)
		}
	}
	// A binary connection: after HELLO, GET and SET answer with values
	// (an error would take another path) and do not allocate.
	bc := transport.NewDetachedConn(transport.ProtoBinary)
	if err := h.srv.h.Open(bc); err != nil {
		t.Fatal(err)
	}
	defer h.srv.h.Close(bc)
	bw := transport.NewWriter(nil, transport.ProtoBinary, 0)
	bytesArg := func(s string) binproto.Value { return binproto.Value{Kind: binproto.KindBytes, Bytes: []byte(s)} }
	intArg := func(n int64) binproto.Value { return binproto.Value{Kind: binproto.KindInt, Int: n} }
	null := binproto.Value{Kind: binproto.KindNull}
	// serveBin serves req once and decodes its reply's body (the
	// transport adds the frame header).
	serveBin := func(req *transport.Request) any {
		bw.Reset(h.buf[:0], transport.ProtoBinary, 0)
		h.srv.h.Serve(bc, req, bw)
		return decode(t, bw.Bytes())
	}
	if r, ok := serveBin(&transport.Request{Op: binproto.OpHello, ID: 1, Args: []binproto.Value{intArg(1), intArg(1), null, null}}).(map[string]any); !ok {
		t.Fatalf("HELLO = %v", r)
	}
	for _, c := range []struct {
		req  *transport.Request
		want any
	}{
		{&transport.Request{Op: binproto.OpSet, ID: 2, Args: []binproto.Value{bytesArg("key"), bytesArg("v")}}, okV{}},
		{&transport.Request{Op: binproto.OpGet, ID: 3, Args: []binproto.Value{bytesArg("key")}}, "v"},
	} {
		if got := serveBin(c.req); got != c.want {
			t.Fatalf("binary %v = %v, want %v", c.req.Op, got, c.want)
		}
		serve := func() {
			bw.Reset(h.buf[:0], transport.ProtoBinary, 0)
			h.srv.h.Serve(bc, c.req, bw)
		}
		if n := testing.AllocsPerRun(200, serve); n != 0 {
			t.Errorf("binary %v: %.1f allocations per request", c.req.Op, n)
		}
	}
}

// BenchmarkServe measures one request through the handler, with metrics
// off and on; the difference is the per-request cost of the command
// counters and the sampled latency.
func BenchmarkServe(b *testing.B) {
	for _, m := range metricsModes {
		for _, args := range [][]string{{"GET", "key"}, {"SET", "key", "value"}} {
			b.Run(m.name+"/"+args[0], func(b *testing.B) {
				h := newHotPath(b, m.cfg)
				h.serve(&transport.Request{Argv: argvOf([]string{"SET", "key", "value"})})
				req := &transport.Request{Argv: argvOf(args)}
				b.ReportAllocs()
				for b.Loop() {
					h.serve(req)
				}
			})
		}
	}
}

// BenchmarkCommandLookup finds a command by its name as sent (mixed case)
// in the RESP command table, for the names redis-benchmark sends most.
func BenchmarkCommandLookup(b *testing.B) {
	t := newDirectServer(b, Config{}).cmds
	names := [][]byte{[]byte("GET"), []byte("set"), []byte("INCR"), []byte("MSET"), []byte("lpush"), []byte("Ping")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if t.lookup(names[i%len(names)]) == nil && i%len(names) != 4 {
			b.Fatal("command not found")
		}
		i++
	}
}

// TestCommandLookup: every RESP command is found by its name in any case,
// and names that are not commands (prefixes, extensions, over-long, empty)
// are not.
func TestCommandLookup(t *testing.T) {
	tab := newDirectServer(t, Config{}).cmds
	for _, c := range tab.list {
		for _, n := range []string{c.name, strings.ToUpper(c.name), strings.ToUpper(c.name[:1]) + c.name[1:]} {
			if got := tab.lookup([]byte(n)); got != c {
				t.Errorf("lookup(%q) = %v, want %q", n, got, c.name)
			}
		}
		for _, n := range []string{c.name[:len(c.name)-1], c.name + "x", c.name + "\x00"} {
			if got := tab.lookup([]byte(n)); got != nil && got.name != n {
				t.Errorf("lookup(%q) = %q", n, got.name)
			}
		}
	}
	for _, n := range []string{"", "nope", strings.Repeat("get", 20), "g\xc3\xa9t"} {
		if got := tab.lookup([]byte(n)); got != nil {
			t.Errorf("lookup(%q) = %q, want nil", n, got.name)
		}
	}
}
