package client

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
	"github.com/ringdb/ringdb/transport/binproto"
)

// disconnectingServer is a scripted server whose first `bad` connections
// answer the first `answer` requests with OK, then send a DISCONNECT push
// with class and msg and read and answer nothing more, keeping the socket
// open (the server sends nothing after a DISCONNECT, §8, and the close may
// come late). Later connections answer OK to everything, and NULL to GET.
// It counts the SETs it reads.
type disconnectingServer struct {
	addr  string
	conns atomic.Int32
	sets  atomic.Int32
}

func startDisconnecting(t *testing.T, bad int32, answer int, class binproto.Class, msg string) *disconnectingServer {
	d := &disconnectingServer{}
	d.addr = scriptedServer(t, helloOK, func(nc net.Conn) {
		first := d.conns.Add(1) <= bad
		n := 0
		serveFrames(nc, func(h binproto.Header) bool {
			if h.Op == binproto.OpSet {
				d.sets.Add(1)
			}
			if first && n >= answer {
				nc.Write(binproto.AppendDisconnect(nil, class, msg))
				return false // read nothing more; the socket stays open
			}
			n++
			if h.Op == binproto.OpGet {
				out, mark := binproto.BeginFrame(nil, h.Op, binproto.FlagReply, h.ID)
				out = binproto.AppendNull(out)
				out, _ = binproto.EndFrame(out, mark)
				nc.Write(out)
				return true
			}
			replyOK(nc, h)
			return true
		})
	})
	return d
}

// TestDisconnectPushRetriesUnexecutedWrite: after a DISCONNECT push the
// server executes and answers nothing more (§8), so a call still waiting
// then never ran. A SET caught that way waited for the server to close the
// socket, then failed with ErrConnLost ("may have been applied"); it is
// re-sent on a fresh connection instead, as a call that never reached the
// wire is.
func TestDisconnectPushRetriesUnexecutedWrite(t *testing.T) {
	d := startDisconnecting(t, 1, 0, binproto.ClassErr, "shutting down")
	c := newClient(t, d.addr, WithPoolSize(1), withBackoff(time.Millisecond, time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatalf("Set caught by a DISCONNECT push = %v; want it re-sent on a new connection", err)
	}
	if n := d.sets.Load(); n != 2 {
		t.Fatalf("server read %d SETs, want 2 (the unexecuted one re-sent once)", n)
	}
}

// TestDisconnectPushPipelineNotExecuted: a pipeline is not re-sent, but
// the commands the server had not answered when it sent DISCONNECT report
// an error matching ErrNotExecuted (and ErrConnLost, and the push's class),
// while those answered before it keep their results.
func TestDisconnectPushPipelineNotExecuted(t *testing.T) {
	d := startDisconnecting(t, 1, 1, binproto.ClassLimit, "query buffer limit reached")
	c := newClient(t, d.addr, WithPoolSize(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := c.Pipeline()
	a := p.Set("a", []byte("1"), SetOptions{})
	b := p.Set("b", []byte("2"), SetOptions{})
	err := p.Exec(ctx)
	if ok, err := a.Val(); !ok || err != nil {
		t.Fatalf("the SET answered before the push = %v, %v; want true, nil", ok, err)
	}
	if e := b.Err(); !errors.Is(e, ErrNotExecuted) || !errors.Is(e, ErrConnLost) || !errors.Is(e, ErrLimit) {
		t.Fatalf("the SET left unanswered by the push = %v; want ErrNotExecuted, ErrConnLost and ErrLimit", e)
	}
	if !errors.Is(err, ErrNotExecuted) {
		t.Fatalf("Exec = %v; want the first error, matching ErrNotExecuted", err)
	}
}

// TestDisconnectPushRetriesBounded: when every connection is closed by the
// server before it runs the call, the re-sends stop after a few attempts
// and the error still says the call never ran.
func TestDisconnectPushRetriesBounded(t *testing.T) {
	d := startDisconnecting(t, 1<<30, 0, binproto.ClassErr, "shutting down")
	c := newClient(t, d.addr, WithPoolSize(1), withBackoff(time.Millisecond, time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.Set(ctx, "k", []byte("v"), 0)
	if !errors.Is(err, ErrNotExecuted) || !errors.Is(err, ErrConnLost) {
		t.Fatalf("Set = %v; want ErrNotExecuted and ErrConnLost", err)
	}
	if n := d.sets.Load(); n < 2 || n > 4 {
		t.Fatalf("server read %d SETs; want a bounded number of re-sends (2 to 4)", n)
	}
}

// TestDownServerIsNotExecuted: a call that finds no connection and cannot
// dial one (the server is down) sent nothing, yet failed with a bare
// ErrConnLost, which says a write may have been applied.
func TestDownServerIsNotExecuted(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr(), WithPoolSize(1), withBackoff(time.Millisecond, time.Millisecond))
	ctx := testCtx(t)
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	stopServer(t, s)
	waitUntil(t, "the connection breaks", func() bool { return c.slots[0].cur.Load().broken() })
	err := c.Set(ctx, "k", []byte("v"), 0)
	if !errors.Is(err, ErrConnLost) || !errors.Is(err, ErrNotExecuted) {
		t.Fatalf("Set with the server down = %v; want ErrConnLost and ErrNotExecuted", err)
	}
	p := c.Pipeline()
	r := p.Set("k", []byte("v"), SetOptions{})
	err = p.Exec(ctx)
	if !errors.Is(err, ErrConnLost) || !errors.Is(err, ErrNotExecuted) || !errors.Is(r.Err(), ErrNotExecuted) {
		t.Fatalf("Exec with the server down = %v (result %v); want ErrConnLost and ErrNotExecuted", err, r.Err())
	}
}

// TestIdleTimeoutRace: writes sent just as the server closes an idle
// connection (DISCONNECT "idle timeout") failed with a bare ErrConnLost
// ("may have been applied") although the server never ran them. Every
// such write is now re-sent, and none is applied twice: the counter equals
// the number of INCRs that succeeded. The sleeps only make the race
// likely; the checks do not depend on timing.
func TestIdleTimeoutRace(t *testing.T) {
	for _, tr := range []string{server.TransportStd, server.TransportGnet} {
		t.Run(tr, func(t *testing.T) {
			s := startServer(t, server.Config{Transport: tr, IdleTimeout: 30 * time.Millisecond})
			c := newClient(t, s.Addr(), WithPoolSize(2), withBackoff(time.Millisecond, 5*time.Millisecond))
			var ok atomic.Int64
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 20 {
						time.Sleep(time.Duration(20+(i*7+g*3)%25) * time.Millisecond)
						_, err := c.Incr(testCtx(t), "n")
						switch {
						case err == nil:
							ok.Add(1)
						case !errors.Is(err, ErrNotExecuted):
							t.Errorf("Incr around the idle timeout = %v; want success or ErrNotExecuted", err)
						}
					}
				}()
			}
			wg.Wait()
			v, _, err := c.Get(testCtx(t), "n")
			if err != nil || string(v) != strconv.FormatInt(ok.Load(), 10) {
				t.Fatalf("counter = %q, %v; want %d, the INCRs that succeeded", v, err, ok.Load())
			}
		})
	}
}
