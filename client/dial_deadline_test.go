package client

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// TestHandshakeTimeoutMatchesDeadlineExceeded: New against a server that
// never answers HELLO failed, when its context's deadline or the dial
// timeout passed, with the socket's "i/o timeout" (os.ErrDeadlineExceeded)
// most of the time and with context.DeadlineExceeded only when the
// context's own timer won the race, so errors.Is(err,
// context.DeadlineExceeded) was a coin toss.
func TestHandshakeTimeoutMatchesDeadlineExceeded(t *testing.T) {
	addr := scriptedServer(t, func(net.Conn, binproto.Header) {}, nil) // never answers HELLO
	for i := range 10 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		c, err := New(ctx, addr, WithPoolSize(1))
		cancel()
		if c != nil {
			c.Close()
		}
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrConnLost) {
			t.Fatalf("round %d, context deadline: New = %v; want context.DeadlineExceeded and ErrConnLost", i, err)
		}
		c, err = New(context.Background(), addr, WithPoolSize(1), WithDialTimeout(20*time.Millisecond))
		if c != nil {
			c.Close()
		}
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrConnLost) {
			t.Fatalf("round %d, dial timeout: New = %v; want context.DeadlineExceeded and ErrConnLost", i, err)
		}
	}
}
