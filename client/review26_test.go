package client

// Cases from the session-26 review of the SDK.

import (
	"context"
	"errors"
	"math"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
	"github.com/ringdb/ringdb/transport/binproto"
)

// TestPipelineExecReportsUnparsableReply: a reply of the wrong kind (OK
// to INCRBY) left the Result holding a protocol error while Exec returned
// nil, so a caller checking only Exec took the pipeline for a success.
func TestPipelineExecReportsUnparsableReply(t *testing.T) {
	addr := scriptedServer(t, helloOK, func(nc net.Conn) {
		serveFrames(nc, func(h binproto.Header) bool { replyOK(nc, h); return true })
	})
	c := newClient(t, addr, WithPoolSize(1))
	p := c.Pipeline()
	r := p.IncrBy("n", 1)
	err := p.Exec(testCtx(t))
	if r.Err() == nil {
		t.Fatal("the Result took OK for an integer")
	}
	if err == nil || !errors.Is(err, r.Err()) && err.Error() != r.Err().Error() {
		t.Fatalf("Exec = %v, want the Result's error %v", err, r.Err())
	}
}

// TestPipelineExecMissingKeyIsNoError: ErrNotFound stays a Result's own
// (Exec's doc: a missing key is not an error).
func TestPipelineExecMissingKeyIsNoError(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr())
	p := c.Pipeline()
	r := p.Get("missing")
	if err := p.Exec(testCtx(t)); err != nil {
		t.Fatalf("Exec = %v for a missing key", err)
	}
	if !errors.Is(r.Err(), ErrNotFound) {
		t.Fatalf("Result = %v, want ErrNotFound", r.Err())
	}
}

// TestRequestIDSkipsPendingAfterWrap: request ids wrap after 2^32; a
// call still pending under the id the counter comes back to (a blocking
// call that waits long) lost its entry to the new call, and with it its
// reply.
func TestRequestIDSkipsPendingAfterWrap(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr(), WithPoolSize(1))
	ctx := testCtx(t)
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	cn := c.slots[0].cur.Load()
	waiting := &call{done: make(chan struct{})}
	cn.mu.Lock()
	cn.pending[1] = waiting
	cn.inflight.Add(1)
	cn.nextID = math.MaxUint32
	cn.mu.Unlock()
	for range 3 { // ids MaxUint32, then (after 0 and the pending 1) 2 and 3
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cn.mu.Lock()
	got := cn.pending[1]
	cn.mu.Unlock()
	if got != waiting {
		t.Fatal("a new request took the id of a call still pending")
	}
	cn.forget(waiting)
}

// TestRedialCutByCallerSetsNoBackoff: a redial that fails because its
// caller's context ended says nothing of the server; it set the backoff
// all the same, and the next caller, with time to spare, waited it out
// before dialling a server that was up.
func TestRedialCutByCallerSetsNoBackoff(t *testing.T) {
	gate := make(chan struct{})
	var hellos atomic.Int32
	addr := scriptedServer(t, func(nc net.Conn, h binproto.Header) {
		if hellos.Add(1) > 1 {
			<-gate // later handshakes wait
		}
		helloOK(nc, h)
	}, func(nc net.Conn) {
		if hellos.Load() == 1 {
			nc.Close() // break the first connection at once
			return
		}
		serveFrames(nc, func(h binproto.Header) bool { replyOK(nc, h); return true })
	})
	defer close(gate)
	c := newClient(t, addr, WithPoolSize(1))
	s := c.slots[0]
	waitUntil(t, "the connection to break", func() bool { return s.cur.Load().broken() })
	ctx, cancel := context.WithTimeout(testCtx(t), 30*time.Millisecond)
	defer cancel()
	if err := c.Ping(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping = %v, want the caller's deadline", err)
	}
	s.sem <- struct{}{} // as redial holds it
	next, backoff := s.next, s.backoff
	<-s.sem
	if !next.IsZero() || backoff != 0 {
		t.Fatalf("a dial cut by its caller's context set a backoff of %v", backoff)
	}
}

// TestQueuedWriteRetriedWhenConnectionBreaks: a call whose frame was
// still queued behind a busy writer when the connection broke never
// reached the wire, so it is re-sent on a fresh connection (doc.go), a
// write too. It failed with ErrConnLost, "may have been applied", and an
// INCR was lost for a caller that cannot retry a write it is unsure of.
func TestQueuedWriteRetriedWhenConnectionBreaks(t *testing.T) {
	gate := make(chan struct{})
	var conns atomic.Int32
	addr := scriptedServer(t, helloOK, func(nc net.Conn) {
		if conns.Add(1) == 1 {
			<-gate // read nothing, then break the connection
			nc.Close()
			return
		}
		serveFrames(nc, func(h binproto.Header) bool { replyTo(nc, h); return true })
	})
	c := newClient(t, addr, WithPoolSize(1))
	cn := c.slots[0].cur.Load()
	ctx := testCtx(t)

	set := cmdSet("big", make([]byte, 16<<20), SetOptions{}) // more than the socket buffers hold
	setErr := make(chan error, 1)
	go func() {
		_, err := run(ctx, c, set)
		setErr <- err
	}()
	waitUntil(t, "the SET's write to stall", func() bool { return cn.writes.Load() == 1 && cn.writing.Load() })
	incr := make(chan error, 1)
	go func() {
		_, err := c.Incr(ctx, "n")
		incr <- err
	}()
	waitUntil(t, "the INCR to be queued", func() bool {
		cn.mu.Lock()
		defer cn.mu.Unlock()
		return len(cn.out) == 1
	})
	close(gate)
	if err := <-incr; err != nil {
		t.Fatalf("INCR queued when the connection broke = %v, want it re-sent", err)
	}
	if err := <-setErr; !errors.Is(err, ErrConnLost) || errors.Is(err, ErrNotExecuted) {
		t.Fatalf("SET being written when the connection broke = %v, want ErrConnLost only", err)
	}
}
