package transport

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"
)

// A client whose deep pipeline keeps it on hold at the hard limit has
// requests waiting to be served: it is not idle while it reads its output,
// although it sends nothing more. The idle timeout used to close it, and the
// requests still held were never answered.
func TestReviewIdleTimeoutSparesHeldClient(t *testing.T) {
	t.Parallel()
	const (
		n     = 200
		reply = 64 << 10
	)
	cfg := Config{IdleTimeout: 300 * time.Millisecond, OutputHardLimit: 256 << 10}
	forEach(t, cfg, func(t *testing.T, e *env) {
		c := e.conn(t)
		c.write(t, bytes.Repeat(cmd("BIG", strconv.Itoa(reply)), n))
		for i := range n {
			v, err := c.read()
			if err != nil {
				t.Fatalf("reply %d of %d: %v", i+1, n, err)
			}
			if s, _ := v.(string); len(s) != reply {
				t.Fatalf("reply %d: %T of %d bytes", i+1, v, len(s))
			}
			time.Sleep(5 * time.Millisecond) // ~1 s in all: over IdleTimeout
		}
	})
}

// Shutdown closes a connection whose client does not read within closeWait,
// as gnet does, instead of waiting for the context: std's writer, blocked in
// a write, never turned the close request into a bounded close.
func TestReviewShutdownBoundedForNonReader(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"gnet", "std", "pipe"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := startEnv(t, kind, Config{})
			c := e.conn(t)
			// 16 MiB of replies never read: more than the kernel's buffers
			// hold, under the output limits.
			c.write(t, bytes.Repeat(cmd("BIG", strconv.Itoa(4<<20)), 4))
			time.Sleep(200 * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), closeWait+5*time.Second)
			defer cancel()
			start := time.Now()
			if err := e.srv.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown after %v: %v", time.Since(start), err)
			}
			if d := time.Since(start); d > closeWait+2*time.Second {
				t.Fatalf("Shutdown took %v", d)
			}
		})
	}
}

// A parked (blocked) client is not idle, and its idle clock restarts when
// its request completes, as Redis's does when it writes the reply: it used
// to count from the request's read, so a client blocked for longer than
// IdleTimeout was closed right after getting its reply.
func TestReviewIdleClockRestartsAfterPark(t *testing.T) {
	t.Parallel()
	forEach(t, Config{IdleTimeout: 300 * time.Millisecond}, func(t *testing.T, e *env) {
		c := e.conn(t)
		c.write(t, cmd("BLOCK", "750", "done"))
		c.expect(t, "done")
		time.Sleep(200 * time.Millisecond) // under IdleTimeout
		c.write(t, cmd("PING"))
		c.expect(t, "PONG")
	})
}
