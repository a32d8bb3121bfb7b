package transport

import (
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// nopTransport stands in for a transport in connState unit tests.
// waiting is what inputWaiting reports.
type nopTransport struct {
	wakes, aborts int
	waiting       bool
}

func (t *nopTransport) wake()              { t.wakes++ }
func (t *nopTransport) abort()             { t.aborts++ }
func (t *nopTransport) sendQueued() int64  { return 0 }
func (t *nopTransport) inputWaiting() bool { return t.waiting }
func (t *nopTransport) closeRequested()    {}
func (t *nopTransport) idleChanged()       {}
func (t *nopTransport) decoders() *decPool { return nil }

// pingHandler answers every request with PONG (RESP) or OK (binary).
type pingHandler struct{}

func (pingHandler) Open(*Conn) error { return nil }
func (pingHandler) Close(*Conn)      {}
func (pingHandler) Serve(c *Conn, _ *Request, w *Writer) {
	if c.Proto() == ProtoBinary {
		w.OK()
		return
	}
	w.Simple("PONG")
}

func newTestState(h Handler, cfg Config) (*connState, *nopTransport) {
	hb := newHub(cfg)
	hb.h = h
	tr := &nopTransport{}
	cs := &connState{}
	cs.init(hb, tr, &counters{}, nil, nil, nil, -1, false)
	return cs, tr
}

// pipeline returns n copies of one request, RESP or binary.
func pipeline(binary bool, n int) []byte {
	var p []byte
	for i := range n {
		if binary {
			p = append(p, binReq(binproto.OpGet, uint32(i+1), "key")...)
		} else {
			p = append(p, cmd("GET", "key")...)
		}
	}
	return p
}

// TestProcessAllocs proves the request path allocation-free once warm:
// whole pipelines and requests split across reads.
func TestProcessAllocs(t *testing.T) {
	for _, binary := range []bool{false, true} {
		cs, _ := newTestState(pingHandler{}, Config{})
		in := pipeline(binary, 64)
		half := len(in)/2 + 3 // inside a request
		var out []byte
		run := func() {
			out = cs.process(out[:0], in[:half])
			out = cs.process(out[:0], in[half:])
		}
		run()
		if n := testing.AllocsPerRun(100, run); n != 0 {
			t.Errorf("binary %v: %v allocations per batch", binary, n)
		}
		if cs.quit {
			t.Fatal("connection quit")
		}
	}
}

// TestParkHoldsInput checks the hold-back and resume logic directly.
func TestParkHoldsInput(t *testing.T) {
	h := newTestHandler()
	cs, tr := newTestState(h, Config{})
	// Long enough that the block cannot end inside this process call even
	// on a loaded machine (1 ms once did, under CI load).
	out := cs.process(nil, append(cmd("BLOCK", "200", "done"), cmd("ECHO", "x")...))
	if len(out) != 0 || !cs.parked {
		t.Fatalf("out %q parked %v", out, cs.parked)
	}
	out = cs.process(out, cmd("ECHO", "y")) // arrives while parked
	if len(out) != 0 {
		t.Fatalf("served while parked: %q", out)
	}
	waitWake(t, cs, tr)
	out = cs.process(out, nil)
	if want := "$4\r\ndone\r\n$1\r\nx\r\n$1\r\ny\r\n"; string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

// TestPushOverLimit: a push that would take the connection over its hard
// limit fails and aborts the connection.
func TestPushOverLimit(t *testing.T) {
	cs, tr := newTestState(pingHandler{}, Config{OutputHardLimit: 1000})
	cs.process(nil, cmd("PING"))
	big := make([]byte, 600)
	push := func() error {
		return cs.Push(binproto.OpMessage, func(w *Writer) { w.Push(1); w.Bulk(big) })
	}
	if err := push(); err != nil {
		t.Fatal(err)
	}
	if err := push(); err != ErrOutputLimit {
		t.Fatalf("second push: %v", err)
	}
	if tr.aborts != 1 {
		t.Fatalf("aborts %d", tr.aborts)
	}
	if err := push(); err != ErrConnClosed {
		t.Fatalf("push after overflow: %v", err)
	}
}

func benchmarkProcess(b *testing.B, binary bool) {
	cs, _ := newTestState(pingHandler{}, Config{})
	in := pipeline(binary, 16)
	var out []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		out = cs.process(out[:0], in)
	}
}

// BenchmarkProcessRESP measures decoding and serving a pipeline of 16 GETs.
func BenchmarkProcessRESP(b *testing.B) { benchmarkProcess(b, false) }

// BenchmarkProcessBinary is BenchmarkProcessRESP on the binary protocol.
func BenchmarkProcessBinary(b *testing.B) { benchmarkProcess(b, true) }

// prefetchHandler is pingHandler recording what Prefetch was given and
// whether any request had been served by then.
type prefetchHandler struct {
	pingHandler
	calls  [][]string
	served int
	at     []int // requests served when each call came
}

func (h *prefetchHandler) Serve(c *Conn, r *Request, w *Writer) {
	h.served++
	h.pingHandler.Serve(c, r, w)
}

func (h *prefetchHandler) Prefetch(_ *Conn, keys [][]byte) {
	var ks []string
	for _, k := range keys {
		ks = append(ks, string(k))
	}
	h.calls = append(h.calls, ks)
	h.at = append(h.at, h.served)
}

// A Prefetcher sees the keys of a pipelined batch before any of it is
// served; a read holding a single request is not prefetched.
func TestPrefetcherGetsBatchKeys(t *testing.T) {
	h := &prefetchHandler{}
	cs, _ := newTestState(h, Config{})
	out := cs.process(nil, cmd("GET", "solo"))
	if len(h.calls) != 0 || h.served != 1 {
		t.Fatalf("single request: %d prefetch calls, %d served", len(h.calls), h.served)
	}
	in := append(append(cmd("GET", "a"), cmd("SET", "b", "v")...), cmd("PING")...)
	in = append(in, cmd("GET", "c")[:7]...) // cut short: not complete yet
	out = cs.process(out[:0], in)
	if len(h.calls) != 1 || len(h.calls[0]) != 2 || h.calls[0][0] != "a" || h.calls[0][1] != "b" {
		t.Fatalf("prefetch calls %q, want one with [a b]", h.calls)
	}
	if h.at[0] != 1 {
		t.Fatalf("prefetch came after %d requests of its batch were served", h.at[0]-1)
	}
	if h.served != 4 || string(out) != "+PONG\r\n+PONG\r\n+PONG\r\n" {
		t.Fatalf("served %d, out %q", h.served, out)
	}
}

// nopPrefetcher is pingHandler with a Prefetch that does nothing, so that
// the allocation test below measures the transport's side of prefetching.
type nopPrefetcher struct{ pingHandler }

func (nopPrefetcher) Prefetch(*Conn, [][]byte) {}

// Peeking at a pipelined batch for a Prefetcher allocates nothing once warm.
func TestProcessAllocsWithPrefetcher(t *testing.T) {
	cs, _ := newTestState(nopPrefetcher{}, Config{})
	in := pipeline(false, 64)
	var out []byte
	run := func() { out = cs.process(out[:0], in) }
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocations per batch", n)
	}
}

// waitWake waits until the connection of cs has asked its transport tr
// for a wake (a parked or postponed request was resumed).
func waitWake(t *testing.T, cs *connState, tr *nopTransport) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		cs.mu.Lock()
		woken := tr.wakes > 0
		cs.mu.Unlock()
		if woken {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no wake")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNothingServedAfterCloseWhileYielded: a connection whose turn ended
// (connState.yield) with requests left, closed meanwhile by another
// goroutine (CLIENT KILL, Shutdown), serves none of them: the wake the
// close sends ran serve, which served one request before it looked at the
// close request, so the killed client's next command (a write as well)
// ran after CLIENT KILL had answered.
func TestNothingServedAfterCloseWhileYielded(t *testing.T) {
	h := newTestHandler()
	cs, tr := newTestState(h, Config{})
	cs.turnOut = 1 << 10
	out := cs.process(nil, append(cmd("BIG", "2048"), cmd("SET", "k", "v")...))
	if !cs.yielded || h.bigs.Load() != 1 {
		t.Fatalf("yielded %v after %d BIGs", cs.yielded, h.bigs.Load())
	}
	cs.close(&cs.Conn) // as CLIENT KILL does, from another goroutine
	if tr.wakes != 1 {
		t.Fatalf("%d wakes", tr.wakes)
	}
	out = cs.process(out[:0], nil)
	if !cs.quit || len(out) != 0 {
		t.Fatalf("quit %v, out %q", cs.quit, out)
	}
	h.mu.Lock()
	_, set := h.data["k"]
	h.mu.Unlock()
	if set {
		t.Fatal("SET served after the connection was closed")
	}
}
