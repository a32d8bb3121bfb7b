package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
	"github.com/ringdb/ringdb/transport/binproto"
)

// scriptedServer is a scripted binary-protocol server: for every accepted
// connection it reads the HELLO frame and calls onHello, which may answer
// or not; then it hands the connection to after (nil: keep it open and
// never read again).
func scriptedServer(t *testing.T, onHello func(nc net.Conn, h binproto.Header), after func(nc net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return scriptedServerOn(t, ln, onHello, after)
}

// scriptedServerOn is scriptedServer on ln (a TLS listener, say).
func scriptedServerOn(t *testing.T, ln net.Listener, onHello func(nc net.Conn, h binproto.Header), after func(nc net.Conn)) string {
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			go serveFrames(nc, func(h binproto.Header) bool { // the HELLO
				onHello(nc, h)
				if after != nil {
					after(nc)
				}
				return false
			})
		}
	}()
	return ln.Addr().String()
}

// serveFrames reads request frames from nc and hands each header to
// onFrame (the body is discarded) until a read fails or onFrame returns
// false.
func serveFrames(nc net.Conn, onFrame func(h binproto.Header) bool) {
	var hdr [binproto.HeaderSize]byte
	for {
		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			return
		}
		h, err := binproto.ParseHeader(hdr[:])
		if err != nil {
			return
		}
		if _, err := io.CopyN(io.Discard, nc, int64(h.Length)); err != nil {
			return
		}
		if !onFrame(h) {
			return
		}
	}
}

// replyOK answers the request with header h with OK.
func replyOK(nc net.Conn, h binproto.Header) {
	out, mark := binproto.BeginFrame(nil, h.Op, binproto.FlagReply, h.ID)
	out = binproto.AppendOK(out)
	out, _ = binproto.EndFrame(out, mark)
	nc.Write(out)
}

// helloOK answers HELLO with a minimal map.
func helloOK(nc net.Conn, h binproto.Header) {
	out, mark := binproto.BeginFrame(nil, h.Op, binproto.FlagReply, h.ID)
	out = binproto.AppendMapHeader(out, 1)
	out = binproto.AppendString(out, "proto")
	out = binproto.AppendInt(out, 1)
	out, _ = binproto.EndFrame(out, mark)
	nc.Write(out)
}

// TestWriteStopsAtContextDeadline: the caller that queues a frame writes it
// itself (conn.flush), synchronously and bounded only by the write timeout.
// When the server is not reading, a call whose context ends after 200 ms
// stays blocked in the write until the write timeout (3 s here, 10 s by
// default) instead of returning ctx.Err() (doc.go: "When the context ends
// before the reply arrives the call returns ctx.Err()").
func TestWriteStopsAtContextDeadline(t *testing.T) {
	addr := scriptedServer(t, helloOK, nil) // answers HELLO, then never reads
	c := newClient(t, addr, WithPoolSize(1), WithWriteTimeout(10*time.Second))
	big := bytes.Repeat([]byte("x"), 16<<20) // more than the socket buffers hold
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Set(ctx, "k", big, 0)
	el := time.Since(start)
	if el > 3*time.Second {
		t.Fatalf("Set with a 200ms context returned after %v (err %v); the write timeout is 10s", el.Round(time.Millisecond), err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Set = %v, want context.DeadlineExceeded", err)
	}
}

// TestHelloStopsWhenContextCancelled: New(ctx) does not return when ctx is
// cancelled while the server has not answered HELLO; hello only honours a
// deadline, so New blocks for the whole dial timeout.
func TestHelloStopsWhenContextCancelled(t *testing.T) {
	addr := scriptedServer(t, func(net.Conn, binproto.Header) {}, nil) // never answers HELLO
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	c, err := New(ctx, addr, WithPoolSize(1), WithDialTimeout(3*time.Second))
	el := time.Since(start)
	if c != nil {
		c.Close()
	}
	if el > time.Second {
		t.Fatalf("New returned %v after %v, though its context was cancelled after 100ms", err, el.Round(time.Millisecond))
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("New = %v, want an error matching context.Canceled", err)
	}
}

// TestReplyLongerThanServerMaxFrame: the reader rejects replies longer than
// the HELLO max_frame, but max_frame is the largest body the *server*
// accepts; replies (MGET) can legitimately be longer. The client tears the
// connection down, failing every call on it.
func TestReplyLongerThanServerMaxFrame(t *testing.T) {
	s := startServer(t, server.Config{MaxValueSize: 64 << 10}) // max_frame = 64 KiB + 1 MiB
	c := newClient(t, s.Addr(), WithPoolSize(1))
	ctx := testCtx(t)
	val := bytes.Repeat([]byte("v"), 60<<10)
	keys := make([]string, 24)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
		if err := c.Set(ctx, keys[i], val, 0); err != nil {
			t.Fatal(err)
		}
	}
	vals, err := c.MGet(ctx, keys...)
	if err != nil {
		t.Fatalf("MGet of %d×%d bytes (reply ~%d bytes): %v", len(keys), len(val), len(keys)*len(val), err)
	}
	if len(vals) != len(keys) {
		t.Fatalf("got %d values", len(vals))
	}
}

// TestDecrByMinInt64Overflows: DecrBy negates delta client-side, and
// -math.MinInt64 == math.MinInt64, so DecrBy(k, MinInt64) becomes
// INCRBY k MinInt64: on a missing key it "succeeds" with MinInt64, where
// DECRBY (Redis, and ringdb's RESP side) answers "decrement would overflow".
func TestDecrByMinInt64Overflows(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr(), WithPoolSize(1))
	ctx := testCtx(t)
	n, err := c.DecrBy(ctx, "counter", math.MinInt64)
	var se *ServerError
	if !errors.As(err, &se) || se.Msg != "decrement would overflow" {
		t.Fatalf("DecrBy(missing, MinInt64) = %d, %v; want ERR decrement would overflow (0 - MinInt64 does not fit in int64)", n, err)
	}
	if got, err := c.DecrBy(ctx, "counter", math.MinInt64+1); err != nil || got != math.MaxInt64 {
		t.Fatalf("DecrBy(missing, MinInt64+1) = %d, %v; want MaxInt64", got, err)
	}
}

// TestUnknownPushDuringHelloIgnored: §8 says a client MUST ignore push kinds
// it does not know, but hello fails the handshake on any push other than
// DISCONNECT.
func TestUnknownPushDuringHelloIgnored(t *testing.T) {
	addr := scriptedServer(t, func(nc net.Conn, h binproto.Header) {
		out, mark := binproto.BeginFrame(nil, 0x8010, binproto.FlagPush, 0) // an unknown push kind
		out = binproto.AppendNull(out)
		out, _ = binproto.EndFrame(out, mark)
		nc.Write(out)
		helloOK(nc, h)
	}, nil)
	c, err := New(testCtx(t), addr, WithPoolSize(1))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.Close()
}

// TestReplyWithMoreElementsThanDefaultMaxArray: HELLO reports max_array and the
// client stores it (c.lim.MaxArray), but replies are parsed with default
// limits (first uses binproto.Limits{}), so a server configured for more
// than 1,048,576 elements answers an MGET it accepted with a reply the
// client rejects as LIMIT "too many elements".
func TestReplyWithMoreElementsThanDefaultMaxArray(t *testing.T) {
	s := startServer(t, server.Config{MaxArgs: 2 << 20})
	c := newClient(t, s.Addr(), WithPoolSize(1))
	ctx := testCtx(t)
	keys := make([]string, binproto.DefaultMaxArray+1)
	for i := range keys {
		keys[i] = "m"
	}
	vals, err := c.MGet(ctx, keys...)
	if err != nil {
		t.Fatalf("MGet of %d keys (server max_array %d): %v", len(keys), c.slots[0].cur.Load().lim.MaxArray, err)
	}
	if len(vals) != len(keys) {
		t.Fatalf("got %d values", len(vals))
	}
}

// TestDialTimeoutZeroMeansNone: as for the read and write timeouts, 0
// means no bound of its own (it once made every dial time out at once).
func TestDialTimeoutZeroMeansNone(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr(), WithPoolSize(1), WithDialTimeout(0))
	ctx := testCtx(t)
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatalf("Set with no dial timeout: %v", err)
	}
}

// TestTightDeadlinesKeepConnection: a call whose deadline is already past,
// or a few microseconds away, must not break the connection it shares
// with other calls: its write gets at least writeGrace, and a call whose
// context has ended sends nothing.
func TestTightDeadlinesKeepConnection(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr(), WithPoolSize(1))
	ctx := testCtx(t)
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	before := c.slots[0].cur.Load()
	for i := range 2000 {
		cctx, cancel := context.WithTimeout(ctx, time.Duration(i%5)*20*time.Microsecond)
		err := c.Set(cctx, "k", []byte("v"), 0)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if after := c.slots[0].cur.Load(); after != before {
		t.Fatal("tight deadlines broke the shared connection")
	}
	if v, ok, err := c.Get(ctx, "k"); err != nil || !ok || string(v) != "v" {
		t.Fatalf("Get after = %q, %v, %v", v, ok, err)
	}
}

// TestCallsAfterDisconnectPushGoElsewhere: once the server has announced
// with a DISCONNECT push that it is closing a connection, new calls go to
// a fresh connection instead of being sent on it and lost (a write would
// then fail with ErrConnLost although the server never ran it).
func TestCallsAfterDisconnectPushGoElsewhere(t *testing.T) {
	var conns atomic.Int32
	addr := scriptedServer(t, helloOK, func(nc net.Conn) {
		if conns.Add(1) == 1 {
			// The first connection: announce the close, read nothing more,
			// close a while later.
			out := binproto.AppendDisconnect(nil, binproto.ClassErr, "going away")
			nc.Write(out)
			time.Sleep(300 * time.Millisecond)
			nc.Close()
			return
		}
		// Later connections answer OK to everything.
		serveFrames(nc, func(h binproto.Header) bool { replyOK(nc, h); return true })
	})
	c := newClient(t, addr, WithPoolSize(1))
	time.Sleep(100 * time.Millisecond) // the push has arrived
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatalf("Set after the DISCONNECT push: %v", err)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

// TestCloseEndsBackgroundRedial: a background redial stuck in a handshake
// the server never answers ends when the Client is closed, not at the end
// of its dial timeout.
func TestCloseEndsBackgroundRedial(t *testing.T) {
	var conns atomic.Int32
	addr := scriptedServer(t, func(nc net.Conn, h binproto.Header) {
		if conns.Add(1) <= 2 {
			helloOK(nc, h) // the pool's first two; later HELLOs go unanswered
		}
	}, breakOnSet)
	c, err := New(testCtx(t), addr, WithPoolSize(2), WithDialTimeout(30*time.Second), WithReadTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Set(testCtx(t), "k", []byte("v"), 0) // breaks the connection it goes to
	// The next calls find one slot broken and redial it in the background.
	var redialling *slot
	for deadline := time.Now().Add(5 * time.Second); redialling == nil; {
		_ = c.Ping(testCtx(t))
		for _, s := range c.slots {
			if s.dialling.Load() {
				redialling = s
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no background redial started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Close()
	for deadline := time.Now().Add(2 * time.Second); redialling.dialling.Load(); {
		if time.Now().After(deadline) {
			t.Fatal("the background redial outlived Close by 2 s (dial timeout 30 s)")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// breakOnSet serves a scripted connection: OK to every request until a SET,
// which closes (breaks) the connection.
func breakOnSet(nc net.Conn) {
	serveFrames(nc, func(h binproto.Header) bool {
		if h.Op == binproto.OpSet {
			nc.Close()
			return false
		}
		replyOK(nc, h)
		return true
	})
}

// TestReplyWithForeignOpcodeFailsConnection: a reply must echo its
// request's id and opcode (PROTOCOL.md §9). One that carries the right id
// but another opcode means the stream is out of step, and its body may be
// another request's answer: the call fails with a protocol error instead
// of taking it as its own (another request's OK for SET's, say), and the
// connection is dropped. The same goes for the handshake's reply.
func TestReplyWithForeignOpcodeFailsConnection(t *testing.T) {
	addr := scriptedServer(t, helloOK, func(nc net.Conn) {
		serveFrames(nc, func(h binproto.Header) bool {
			h.Op = binproto.OpPing // the right id, another request's opcode
			replyOK(nc, h)
			return true
		})
	})
	c := newClient(t, addr, WithPoolSize(1))
	err := c.Set(testCtx(t), "k", []byte("v"), 0)
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("Set answered by an OK with a PING's opcode: %v, want ErrProtocol", err)
	}

	for name, reply := range map[string]func(nc net.Conn, h binproto.Header){
		"opcode": func(nc net.Conn, h binproto.Header) { h.Op = binproto.OpPing; helloOK(nc, h) },
		"id":     func(nc net.Conn, h binproto.Header) { h.ID = 7; helloOK(nc, h) },
	} {
		addr := scriptedServer(t, reply, nil)
		c, err := New(testCtx(t), addr, WithPoolSize(1), WithDialTimeout(5*time.Second))
		if c != nil {
			c.Close()
		}
		if !errors.Is(err, ErrProtocol) {
			t.Errorf("HELLO answered with another %s: New = %v, want ErrProtocol", name, err)
		}
	}
}
