package client

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// replyTo answers a request: INT 1 for INCRBY, OK to anything else.
func replyTo(nc net.Conn, h binproto.Header) {
	out, mark := binproto.BeginFrame(nil, h.Op, binproto.FlagReply, h.ID)
	if h.Op == binproto.OpIncrBy {
		out = binproto.AppendInt(out, 1)
	} else {
		out = binproto.AppendOK(out)
	}
	out, _ = binproto.EndFrame(out, mark)
	nc.Write(out)
}

// TestCallerDeadlineMidWriteKeepsConnection: a caller whose context ends
// while its large frame is still being written (the server is slow to read)
// returns ctx.Err(), but the connection, shared with other calls in
// flight, must stay usable (doc.go). Cutting the write short left half a
// frame on the wire (under TLS, a TLS connection that cannot write again),
// so the connection was broken and a concurrent INCR failed with
// ErrConnLost, its effect unknown.
func TestCallerDeadlineMidWriteKeepsConnection(t *testing.T) {
	t.Run("tcp", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		testCallerDeadlineMidWrite(t, ln)
	})
	t.Run("tls", func(t *testing.T) {
		certFile, keyFile, pool := selfSigned(t, t.TempDir())
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
		testCallerDeadlineMidWrite(t, ln, WithTLS(&tls.Config{RootCAs: pool}))
	})
}

func testCallerDeadlineMidWrite(t *testing.T, ln net.Listener, opts ...Option) {
	gate := make(chan struct{})
	addr := scriptedServerOn(t, ln, helloOK, func(nc net.Conn) {
		<-gate // read nothing until the large write's caller has given up
		serveFrames(nc, func(h binproto.Header) bool { replyTo(nc, h); return true })
	})
	c := newClient(t, addr, append(opts, WithPoolSize(1))...)
	cn := c.slots[0].cur.Load()
	ctx := testCtx(t)

	incr := make(chan error, 1)
	go func() {
		_, err := c.Incr(ctx, "n")
		incr <- err
	}()
	waitUntil(t, "the INCR to be written", func() bool {
		return cn.writes.Load() == 1 && !cn.writing.Load()
	})

	// Built before the deadline starts (16 MiB take a while under -race);
	// more than the socket buffers hold.
	set := cmdSet("big", make([]byte, 16<<20), SetOptions{})
	sctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err := run(sctx, c, set)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Set = %v, want context.DeadlineExceeded", err)
	}
	close(gate)
	if err := <-incr; err != nil {
		t.Fatalf("INCR in flight while another caller's write was cut short: %v", err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if c.slots[0].cur.Load() != cn {
		t.Fatal("the connection was replaced")
	}
}
