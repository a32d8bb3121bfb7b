package client

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
	"github.com/ringdb/ringdb/transport/binproto"
)

// flakyServer answers HELLO, then drops the connection on the first
// request it sees on each of the first drops connections and answers
// every other request with OK (or the value "v" for GET).
type flakyServer struct {
	ln    net.Listener
	drops atomic.Int64 // connections still to drop
	seen  sync.Map     // opcode → *atomic.Int64
}

func startFlaky(t *testing.T, drops int64) *flakyServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyServer{ln: ln}
	f.drops.Store(drops)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(nc)
		}
	}()
	return f
}

func (f *flakyServer) count(op binproto.Opcode) int64 {
	v, _ := f.seen.LoadOrStore(op, new(atomic.Int64))
	return v.(*atomic.Int64).Load()
}

func (f *flakyServer) serve(nc net.Conn) {
	defer nc.Close()
	var hdr [binproto.HeaderSize]byte
	first := true
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
		out, mark := binproto.BeginFrame(nil, h.Op, binproto.FlagReply, h.ID)
		switch h.Op {
		case binproto.OpHello:
			out = binproto.AppendMapHeader(out, 1)
			out = binproto.AppendString(out, "proto")
			out = binproto.AppendInt(out, 1)
		default:
			v, _ := f.seen.LoadOrStore(h.Op, new(atomic.Int64))
			v.(*atomic.Int64).Add(1)
			if first && f.drops.Add(-1) >= 0 {
				return // drop the connection with the request unanswered
			}
			first = false
			if h.Op == binproto.OpGet || h.Op == binproto.OpGetEx {
				out = binproto.AppendString(out, "v")
			} else {
				out = binproto.AppendOK(out)
			}
		}
		out, _ = binproto.EndFrame(out, mark)
		if _, err := nc.Write(out); err != nil {
			return
		}
	}
}

// TestRetryPolicy: a read lost with its connection is retried once on a new
// connection; a write is not, and fails with ErrConnLost.
func TestRetryPolicy(t *testing.T) {
	ctx := testCtx(t)
	f := startFlaky(t, 1)
	c := newClient(t, f.ln.Addr().String(), WithPoolSize(1), withBackoff(time.Millisecond, 10*time.Millisecond))
	v, found, err := c.Get(ctx, "k")
	if err != nil || !found || string(v) != "v" {
		t.Fatalf("get across a dropped connection: %q %v %v", v, found, err)
	}
	if n := f.count(binproto.OpGet); n != 2 {
		t.Fatalf("server saw %d GETs, want 2 (one retry)", n)
	}

	f.drops.Store(1)
	c.slots[0].cur.Load().fail(errors.New("test: force a new connection"))
	err = c.Set(ctx, "k", []byte("v"), 0)
	if !errors.Is(err, ErrConnLost) {
		t.Fatalf("set across a dropped connection: %v, want ErrConnLost", err)
	}
	if n := f.count(binproto.OpSet); n != 1 {
		t.Fatalf("server saw %d SETs, want 1 (never retried)", n)
	}
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatalf("set after reconnect: %v", err)
	}
}

// TestGetExRetryPolicy: a plain GETEX or GETEX PERSIST answers and leaves
// the same whether it runs once or twice, so it is retried across a lost
// connection as GET is (it was not, whatever its options). With a TTL or a
// deadline it is not: a retry would extend the TTL, or find the key that
// a passed deadline deleted.
func TestGetExRetryPolicy(t *testing.T) {
	ctx := testCtx(t)
	f := startFlaky(t, 0)
	c := newClient(t, f.ln.Addr().String(), WithPoolSize(1), withBackoff(time.Millisecond, 10*time.Millisecond))
	for i, o := range []GetExOptions{{}, {Persist: true}} {
		f.drops.Store(1)
		c.slots[0].cur.Load().fail(errors.New("test: force a new connection"))
		if v, found, err := c.GetEx(ctx, "k", o); err != nil || !found || string(v) != "v" {
			t.Fatalf("GetEx %+v across a dropped connection: %q %v %v", o, v, found, err)
		}
		if n := f.count(binproto.OpGetEx); n != int64(2*(i+1)) {
			t.Fatalf("GetEx %+v: server saw %d GETEX in all, want %d (one retry each)", o, n, 2*(i+1))
		}
	}
	for _, o := range []GetExOptions{{TTL: time.Minute}, {ExpireAt: time.Now().Add(time.Hour)}} {
		f.drops.Store(1)
		c.slots[0].cur.Load().fail(errors.New("test: force a new connection"))
		if _, _, err := c.GetEx(ctx, "k", o); !errors.Is(err, ErrConnLost) {
			t.Fatalf("GetEx %+v across a dropped connection: %v, want ErrConnLost", o, err)
		}
	}
}

// TestBrokenConnReplaced: when one pooled connection breaks, calls use the
// others and the broken one is re-dialled in the background.
func TestBrokenConnReplaced(t *testing.T) {
	s := startServer(t, server.Config{})
	c := newClient(t, s.Addr(), WithPoolSize(2))
	ctx := testCtx(t)
	old := c.slots[0].cur.Load()
	old.nc.Close()
	<-old.dead
	for range 10 {
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if cn := c.slots[0].cur.Load(); cn != old && !cn.broken() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("slot 0 was not re-dialled")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
