package client

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
)

// TestRefusedAtHelloIsConnLost: a server that refuses the connection with a
// DISCONNECT push before answering HELLO (here: max clients) is a failure
// to connect, which doc.go and ErrConnLost promise to report as
// ErrConnLost; the push's class (LIMIT) still matches too.
func TestRefusedAtHelloIsConnLost(t *testing.T) {
	s := startServer(t, server.Config{MaxClients: 1})
	newClient(t, s.Addr(), WithPoolSize(1)) // takes the only slot
	c, err := New(context.Background(), s.Addr(), WithPoolSize(1))
	if err == nil {
		c.Close()
		t.Fatal("New succeeded past max clients")
	}
	if !errors.Is(err, ErrConnLost) || !errors.Is(err, ErrLimit) {
		t.Fatalf("New past max clients = %v; want an error matching ErrConnLost and ErrLimit", err)
	}
}

// TestHelloCancelledAfterReply: a context that ends just after the HELLO
// reply has been read must not hand back a connection whose deadline the
// context's callback has moved to "now" (every later read would time out).
// The dial fails with the context's error instead.
func TestHelloCancelledAfterReply(t *testing.T) {
	s := startServer(t, server.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	testHookHelloDone = func() {
		cancel()
		time.Sleep(20 * time.Millisecond) // let the context's callback run
	}
	defer func() { testHookHelloDone = nil }()
	var o options
	cn, err := dial(ctx, s.Addr(), &o)
	if err == nil {
		defer cn.nc.Close()
		read := make(chan error, 1)
		go func() { _, err := cn.nc.Read(make([]byte, 1)); read <- err }()
		select {
		case err := <-read: // nothing was sent: only a stale deadline ends it
			t.Fatalf("dial succeeded after its context ended, and the connection's first read failed: %v", err)
		case <-time.After(200 * time.Millisecond):
			t.Fatal("dial succeeded after its context ended")
		}
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrConnLost) {
		t.Fatalf("dial = %v; want an error matching ErrConnLost and context.Canceled", err)
	}
}
