package client

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
	"github.com/ringdb/ringdb/transport/binproto"
)

// TestPipelineEndedContextSendsNothing: Exec with a context that has
// already ended returned ctx.Err() for every command, yet sent them, so
// its writes were applied (Client calls send nothing in that case, as
// go-redis does not).
func TestPipelineEndedContextSendsNothing(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr(), WithPoolSize(1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := c.Pipeline()
	set := p.Set("pipe-ended", []byte("v"), SetOptions{})
	if err := p.Exec(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Exec = %v, want context.Canceled", err)
	}
	if !errors.Is(set.Err(), context.Canceled) {
		t.Fatalf("Set result = %v, want context.Canceled", set.Err())
	}
	// The PING goes after anything the pipeline could have queued on the
	// same connection, so its reply orders the check after it.
	if err := c.Ping(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if _, found, err := c.Get(testCtx(t), "pipe-ended"); found || err != nil {
		t.Fatalf("the pipeline's SET was applied (found %v, err %v)", found, err)
	}
}

// TestCloseEndsForegroundRedial: a call that re-dials itself (no healthy
// connection left) kept waiting for a handshake the server never answers
// after Close, until the dial timeout (for ever with WithDialTimeout(0)),
// instead of returning ErrClosed.
func TestCloseEndsForegroundRedial(t *testing.T) {
	var conns atomic.Int32
	addr := scriptedServer(t, func(nc net.Conn, h binproto.Header) {
		if conns.Add(1) == 1 {
			helloOK(nc, h)
			nc.Close() // the first connection breaks at once
		}
		// Later handshakes are never answered.
	}, nil)
	c := newClient(t, addr, WithPoolSize(1), withBackoff(time.Millisecond, time.Millisecond))
	waitUntil(t, "the connection breaks", func() bool { return c.slots[0].cur.Load().broken() })
	done := make(chan error, 1)
	go func() { _, _, err := c.Get(context.Background(), "k"); done <- err }()
	waitUntil(t, "the call redials", func() bool { return conns.Load() >= 2 }) // in the handshake
	c.Close()
	expectClosed(t, done, "Get still waits for its redial 2s after Close (dial timeout 5s)")
}

// TestCloseEndsDrainingConn: a connection the server announced it is
// closing (DISCONNECT push) and then neither answers nor closes held the
// call waiting on it until Close (for ever without one), its goroutines
// too. The server runs nothing after the push (§8), so the call is failed
// at the push as not executed and re-sent on a fresh connection: it
// completes with no Close, and Close leaves nothing behind.
func TestCloseEndsDrainingConn(t *testing.T) {
	d := startDisconnecting(t, 1, 0, binproto.ClassErr, "going away")
	before := clientGoroutines()
	c, err := New(testCtx(t), d.addr, WithPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { _, _, err := c.Get(context.Background(), "k"); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Get on a connection the server is closing = %v; want it answered on a new connection", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Get on a connection the server announced closing still waits after 5s")
	}
	if n := d.conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
	c.Close()
	waitUntil(t, "the client's goroutines to end", func() bool { return clientGoroutines() <= before })
}

// waitUntil polls cond for up to 5 s, failing the test with what it waited
// for.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// expectClosed waits up to 2 s for a call's result on done, which must be
// ErrClosed; stuck says what it means if none comes.
func expectClosed(t *testing.T, done <-chan error, stuck string) {
	t.Helper()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Get = %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal(stuck)
	}
}

// TestWriteStopsWhenContextCancelled: a caller writes its own frame, and
// only its context's deadline bounded that write: when the server is not
// reading, a call whose context is cancelled (no deadline) stayed blocked
// in the write until the write timeout instead of returning ctx.Err()
// (doc.go: "When the context ends before the reply arrives the call
// returns ctx.Err()").
func TestWriteStopsWhenContextCancelled(t *testing.T) {
	addr := scriptedServer(t, helloOK, nil) // answers HELLO, then never reads
	c := newClient(t, addr, WithPoolSize(1), WithWriteTimeout(10*time.Second))
	big := make([]byte, 16<<20) // more than the socket buffers hold
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := c.Set(ctx, "k", big, 0)
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("Set cancelled after 200ms returned after %v (err %v); the write timeout is 10s", el.Round(time.Millisecond), err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Set = %v, want context.Canceled", err)
	}
}
