package transport

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/ringdb/ringdb/transport/binproto"
)

// onTheLoop runs fn with the one event loop of e (a gnet server with
// Loops: 1) on that loop's goroutine, and waits for it.
func onTheLoop(t *testing.T, e *env, fn func(l *gnetLoop)) {
	t.Helper()
	s := e.srv.(*gnetServer)
	s.engMu.Lock()
	var l *gnetLoop
	for _, x := range s.loops { // the one loop
		l = x
	}
	s.engMu.Unlock()
	done := make(chan struct{})
	err := l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		defer close(done)
		fn(l)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not run the check")
	}
}

// decoderCounts returns how many of the connections of e's one loop hold
// a decoder and how many decoders its pool keeps.
func decoderCounts(t *testing.T, e *env) (holding, pooled int) {
	t.Helper()
	onTheLoop(t, e, func(l *gnetLoop) {
		for _, g := range l.conns.Items() {
			if g.rdec != nil || g.bdec != nil {
				holding++
			}
		}
		pooled = len(l.decs.resp.free) + len(l.decs.bin.free)
	})
	return holding, pooled
}

// waitHolding polls decoderCounts until want connections hold a decoder.
func waitHolding(t *testing.T, e *env, want int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d connections holding a decoder", want), func() bool {
		n, _ := decoderCounts(t, e)
		return n == want
	})
}

// TestIdleConnectionsLendTheirDecoders: a gnet connection holds a decoder
// only while it has input: once its requests are served it hands it to
// its loop, which lends it to the next connection that reads (an idle
// connection kept about 450 bytes in it). A connection halfway through a
// request keeps its own, and what it had read survives the other
// connections' requests served meanwhile with decoders from the pool;
// in both protocols.
func TestIdleConnectionsLendTheirDecoders(t *testing.T) {
	t.Parallel()
	e := startEnv(t, "gnet", Config{Loops: 1})
	const n = 12
	resp := make([]*client, n)
	bin := make([]*client, n)
	for i := range n {
		resp[i] = e.conn(t)
		resp[i].write(t, cmd("PING"))
		resp[i].expect(t, "PONG")
		bin[i] = e.conn(t)
		bin[i].write(t, binReq(binproto.OpPing, uint32(i+1)))
		bin[i].expectReply(t, binproto.OpPing, uint32(i+1), binOK{})
	}
	holding, pooled := decoderCounts(t, e)
	if holding != 0 {
		t.Fatalf("%d idle connections hold a decoder", holding)
	}
	if pooled < 2 || pooled > 2*maxPooledDecoders {
		t.Fatalf("the loop keeps %d decoders, want 2 to %d", pooled, 2*maxPooledDecoders)
	}

	// Every other connection sends the first half of a request.
	halves := make(map[int][]byte)
	for i := 0; i < n; i += 2 {
		full := cmd("ECHO", fmt.Sprintf("resp-%d-%0100d", i, i))
		resp[i].write(t, full[:len(full)/2])
		halves[i] = full[len(full)/2:]
		bf := binReq(binproto.OpPing, uint32(100+i), fmt.Sprintf("bin-%d-%0100d", i, i))
		bin[i].write(t, bf[:len(bf)/2])
		halves[n+i] = bf[len(bf)/2:]
	}
	waitHolding(t, e, n)
	// The others are served meanwhile, with decoders from the pool.
	for round := range 3 {
		for i := 1; i < n; i += 2 {
			v := fmt.Sprintf("other-%d-%d-%0200d", round, i, i)
			resp[i].write(t, cmd("ECHO", v))
			resp[i].expect(t, v)
			bin[i].write(t, binReq(binproto.OpPing, uint32(200+i), v))
			bin[i].expectReply(t, binproto.OpPing, uint32(200+i), v)
		}
	}
	waitHolding(t, e, n)
	for i := 0; i < n; i += 2 {
		resp[i].write(t, halves[i])
		resp[i].expect(t, fmt.Sprintf("resp-%d-%0100d", i, i))
		bin[i].write(t, halves[n+i])
		bin[i].expectReply(t, binproto.OpPing, uint32(100+i), fmt.Sprintf("bin-%d-%0100d", i, i))
	}
	waitHolding(t, e, 0)
}

// TestSharedWriterLetsGoAfterQuit: a batch that ends with the connection
// quitting (here on a protocol error) leaves the loop's shared Writer and Request pointing at
// nothing, as every other batch does: they held the output buffer, which
// the transport may hand back to bufpool, and the decoder's arguments.
func TestSharedWriterLetsGoAfterQuit(t *testing.T) {
	t.Parallel()
	e := startEnv(t, "gnet", Config{Loops: 1})
	c := e.conn(t)
	// A protocol error after a request: the batch ends with the
	// connection quitting, after a reply and the error were written.
	c.write(t, append(cmd("ECHO", "bye"), "*x\r\n"...))
	c.expect(t, "bye")
	if _, err := c.read(); err != nil {
		t.Fatal(err)
	}
	c.expectEOF(t)
	var msg string
	onTheLoop(t, e, func(l *gnetLoop) {
		switch {
		case cap(l.scratch.w.buf) != 0:
			msg = fmt.Sprintf("the Writer holds a %d-byte buffer", cap(l.scratch.w.buf))
		case l.scratch.req.Argv != nil:
			msg = "the Request holds arguments"
		}
	})
	if msg != "" {
		t.Fatal(msg)
	}
}
