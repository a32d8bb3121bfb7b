package transport

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
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
// a write, never turned the close request into a bounded close. So too
// when all the output fits in the socket's buffers, and the connection
// waits half-closed for the client to have it (lingerDone).
func TestReviewShutdownBoundedForNonReader(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"gnet", "std", "pipe"} {
		for _, size := range []int{4 << 20, 10_000} {
			t.Run(fmt.Sprintf("%s/%d", kind, size), func(t *testing.T) {
				t.Parallel()
				// 1 s rather than closeWait (5 s): the client never
				// reads, and the bound checked keeps its 2 s of slack.
				const wait = time.Second
				e := startEnv(t, kind, Config{waits: waits{close: wait}})
				c := e.conn(t)
				if tc, ok := c.Conn.(*net.TCPConn); ok { // ~4 KB: 40 KB of replies wait in the server's socket
					_ = tc.SetReadBuffer(1)
				}
				// Four replies never read: 16 MiB is more than the
				// kernel's buffers hold, under the output limits; 40 KB
				// fits in them.
				c.write(t, bytes.Repeat(cmd("BIG", strconv.Itoa(size)), 4))
				time.Sleep(200 * time.Millisecond)
				ctx, cancel := context.WithTimeout(context.Background(), wait+5*time.Second)
				defer cancel()
				start := time.Now()
				if err := e.srv.Shutdown(ctx); err != nil {
					t.Fatalf("Shutdown after %v: %v", time.Since(start), err)
				}
				if d := time.Since(start); d > wait+2*time.Second {
					t.Fatalf("Shutdown took %v", d)
				}
			})
		}
	}
}

// A parked (blocked) client is not idle, and its idle clock restarts when
// its request completes, as Redis's does when it writes the reply: it used
// to count from the request's read, so a client blocked for longer than
// IdleTimeout was closed right after getting its reply.
func TestReviewIdleClockRestartsAfterPark(t *testing.T) {
	t.Parallel()
	// 300 ms of slack: a 100 ms margin failed once under -race on two
	// busy cores (TestSetIdleTimeoutAtRunTime).
	forEach(t, Config{IdleTimeout: 600 * time.Millisecond}, func(t *testing.T, e *env) {
		c := e.conn(t)
		c.write(t, cmd("BLOCK", "1500", "done"))
		c.expect(t, "done")
		time.Sleep(300 * time.Millisecond) // under IdleTimeout
		c.write(t, cmd("PING"))
		c.expect(t, "PONG")
	})
}

// Shutdown with a context that has already ended still closes the
// connections and stops the server, as std's does. gnet's picked at random
// between its ready and ctx.Done cases and, half the time, returned at once
// leaving every connection open and Serve running.
func TestReviewGnetShutdownExpiredContext(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		e := startEnv(t, "gnet", Config{})
		c := e.conn(t)
		c.write(t, cmd("PING"))
		c.expect(t, "PONG")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = e.srv.Shutdown(ctx)
		select {
		case err := <-e.errc:
			e.errc <- err // for the cleanup's Shutdown
		case <-time.After(3 * time.Second):
			t.Fatalf("try %d: Serve still running after Shutdown", i)
		}
		c.expectEOF(t)
	}
}

// The same before the engine has booted: the engine must not start serving
// after Shutdown has returned.
func TestReviewGnetShutdownBeforeBoot(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		s := NewGnet(Config{Addr: "127.0.0.1:0", Loops: 1})
		errc := make(chan error, 1)
		go func() { errc <- s.Serve(newTestHandler()) }()
		for s.(*gnetServer).state.Load() == stateNew {
			runtime.Gosched()
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = s.Shutdown(ctx)
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("try %d: Serve: %v", i, err)
			}
		case <-time.After(3 * time.Second):
			_ = s.Shutdown(context.Background())
			t.Fatalf("try %d: Serve still running after Shutdown", i)
		}
	}
}

// releasingTransport ends the hold of cs in the middle of a sweep's
// holdStalled, as std's processing context may do on another goroutine
// while the sweeper runs.
type releasingTransport struct {
	nopTransport
	cs *connState
}

func (t *releasingTransport) sendQueued() int64 {
	t.cs.release()
	return 0
}

// A hold that ends while std's sweeper is in holdStalled stays ended: the
// sweeper stored its progress time into holdAt after release had cleared
// it, and the connection, no longer on hold, was then taken for a stalled
// one and disconnected as an output-limit overflow holdWait later.
func TestReviewHoldStalledRacingRelease(t *testing.T) {
	cs, _ := newTestState(pingHandler{}, Config{OutputHardLimit: 1000})
	tr := &releasingTransport{cs: cs}
	cs.tr = tr
	cs.process(nil, cmd("PING")) // detect the protocol
	cs.hold(nil, 0)
	now := cs.hub.now()
	if cs.holdStalled(500, now) {
		t.Fatal("stalled at once")
	}
	if at := cs.holdAt.Load(); at != 0 {
		t.Fatalf("holdAt %d after release", at)
	}
	if cs.outputOver(0, now+int64(2*cs.hub.waits.hold)) {
		t.Fatal("a connection no longer on hold, with no output, is over its output limit")
	}
}

// Pipe.Dial returns ErrServerClosed after Shutdown, also when Serve never
// ran: the listener was closed only through Serve's, and Dial blocked for
// good.
func TestReviewPipeDialAfterShutdownBeforeServe(t *testing.T) {
	t.Parallel()
	p := NewPipe(Config{})
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		c, err := p.Dial()
		if err == nil {
			_ = c.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != ErrServerClosed {
			t.Fatalf("Dial: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Dial blocked after Shutdown")
	}
}
