package transport

import (
	"testing"

	"github.com/ringdb/ringdb/transport/binproto"
)

// parkAll parks every request and keeps the handle of the last one.
type parkAll struct{ p *Parked }

func (*parkAll) Open(*Conn) error                       { return nil }
func (*parkAll) Close(*Conn)                            {}
func (h *parkAll) Serve(c *Conn, _ *Request, _ *Writer) { h.p = c.Park() }

// frames splits out into frame headers.
func frames(t *testing.T, out []byte) []binproto.Header {
	t.Helper()
	var hs []binproto.Header
	for len(out) > 0 {
		h, err := binproto.ParseHeader(out)
		if err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		hs = append(hs, h)
		out = out[binproto.HeaderSize+int(h.Length):]
	}
	return hs
}

// TestOverflowDisconnectKeepsPromise: a DISCONNECT push promises the
// client that every request without a reply before it was not executed
// (docs/PROTOCOL.md §8), and the client re-sends those, writes included.
// A parked request completed from another goroutine has its reply in the
// inbox until the connection's next wake; an output-limit disconnection
// in between (gnet's sweep, resumeHeld or write) dropped that reply yet
// sent the DISCONNECT, so the client would run the request twice.
func TestOverflowDisconnectKeepsPromise(t *testing.T) {
	h := &parkAll{}
	cs, _ := newTestState(h, Config{})
	if out := cs.process(nil, binReq(binproto.OpSet, 7, "k", "v")); len(out) != 0 || !cs.parked {
		t.Fatalf("out %q, parked %v; want the request parked", out, cs.parked)
	}
	h.p.Complete(func(w *Writer) { w.OK() }) // executed: its reply is queued
	out := cs.overflowed(nil, 0)
	replied := false
	for _, f := range frames(t, out) {
		switch {
		case f.Flags&binproto.FlagReply != 0 && f.ID == 7:
			replied = true
		case f.Op == binproto.OpDisconnect && !replied:
			t.Fatalf("output %q: DISCONNECT without the reply of the completed request", out)
		}
	}
	if !cs.quit {
		t.Fatal("connection not quitting after the overflow")
	}
}
