package transport

// The conformance suite: every test runs against the gnet, std and pipe
// transports through the test handler in testutil_test.go.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ringdb/ringdb/internal/testcert"
	"github.com/ringdb/ringdb/transport/binproto"
)

func TestRESPCommands(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		c := e.conn(t)
		c.write(t, cmd("PING"))
		c.expect(t, "PONG")
		c.write(t, cmd("SET", "k", "v1"))
		c.expect(t, "OK")
		c.write(t, cmd("GET", "k"))
		c.expect(t, "v1")
		c.write(t, cmd("GET", "missing"))
		c.expect(t, nil)
		c.write(t, cmd("ECHO", "a\r\nb"))
		c.expect(t, "a\r\nb")
		c.write(t, cmd("NOPE"))
		c.expect(t, respErr("ERR unknown command 'nope'"))
		c.write(t, []byte("PING\r\necho inline\n"))
		c.expect(t, "PONG")
		c.expect(t, "inline")
		// Empty commands get no reply.
		c.write(t, []byte("*0\r\n\r\n*-1\r\nPING\r\n"))
		c.expect(t, "PONG")
		c.write(t, cmd("HELLO", "3"))
		c.expect(t, []any{"proto", int64(3)})
		c.write(t, cmd("GET", "missing"))
		c.expect(t, nil)
		if p := e.h.opened.Load(); p != 1 {
			t.Fatalf("opened %d connections, want 1", p)
		}
	})
}

func TestBinaryCommands(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		c := e.conn(t)
		c.write(t, binReq(binproto.OpPing, 1))
		c.expectReply(t, binproto.OpPing, 1, binOK{})
		c.write(t, binReq(binproto.OpSet, 2, "k", "v"))
		c.expectReply(t, binproto.OpSet, 2, binOK{})
		c.write(t, binReq(binproto.OpGet, 3, "k"))
		c.expectReply(t, binproto.OpGet, 3, "v")
		c.write(t, binReq(binproto.OpGet, 4, "missing"))
		c.expectReply(t, binproto.OpGet, 4, nil)
		c.write(t, binReq(0x7000, 5))
		c.expectReply(t, 0x7000, 5, binErr{binproto.ClassErr, "unknown opcode 0x7000"})

		// Body-level faults get an error reply; the connection stays.
		bad := append(header(0, binproto.OpGet, 6, 5), 0, 0, 0, 1, 0x09)
		c.write(t, bad)
		c.expectReply(t, binproto.OpGet, 6, binErr{binproto.ClassProto, "unknown value tag"})
		c.write(t, binReq(binproto.OpPing, 7, "still here"))
		c.expectReply(t, binproto.OpPing, 7, "still here")

		// A client must not send reply frames: DISCONNECT PROTO.
		c.write(t, header(binproto.FlagReply, binproto.OpGet, 8, 0))
		c.expectDisconnect(t, binproto.ClassProto, badFrameMsg)
	})
}

func TestProtocolErrorsClose(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		c := e.conn(t)
		c.write(t, append(cmd("PING"), "*1\r\n$x\r\n"...))
		c.expect(t, "PONG")
		c.expect(t, respErr("ERR Protocol error: invalid bulk length"))
		c.expectEOF(t)

		c = e.conn(t)
		c.write(t, []byte("*1\r\n+PING\r\n"))
		c.expect(t, respErr("ERR Protocol error: expected '$', got '+'"))
		c.expectEOF(t)

		c = e.conn(t)
		c.write(t, binReq(binproto.OpPing, 1))
		c.write(t, []byte("*1\r\n$4\r\nPING\r\n")) // framing lost
		c.expectReply(t, binproto.OpPing, 1, binOK{})
		c.expectDisconnect(t, binproto.ClassProto, "bad magic byte")
	})
}

func TestQuitStopsPipeline(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		c := e.conn(t)
		c.write(t, append(append(cmd("SET", "q", "1"), cmd("QUIT")...), cmd("SET", "q", "2")...))
		c.expect(t, "OK")
		c.expect(t, "OK")
		c.expectEOF(t)
		c = e.conn(t)
		c.write(t, cmd("GET", "q"))
		c.expect(t, "1")

		c = e.conn(t)
		c.write(t, append(binReq(opQuit, 1), binReq(binproto.OpPing, 2)...))
		c.expectReply(t, opQuit, 1, binOK{})
		c.expectEOF(t)
	})
}

func TestOpenRejected(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		e.h.rejectOpen.Store(&binproto.Error{Class: binproto.ClassNoAuth, Msg: "go away"})
		c := e.conn(t)
		c.write(t, cmd("PING"))
		c.expect(t, respErr("NOAUTH go away"))
		c.expectEOF(t)
		c = e.conn(t)
		c.write(t, binReq(binproto.OpPing, 1))
		c.expectDisconnect(t, binproto.ClassNoAuth, "go away")
		if n := e.h.closed.Load(); n != 0 {
			t.Fatalf("Close called %d times for connections never opened", n)
		}
	})
}

// TestParked checks that a parked request holds back the pipelined
// requests behind it, which then get their replies in order, and that the
// server keeps serving other clients meanwhile.
func TestParked(t *testing.T) {
	t.Parallel()
	forEach(t, Config{}, func(t *testing.T, e *env) {
		const wait = 150 * time.Millisecond
		c := e.conn(t)
		start := time.Now()
		var p []byte
		p = append(p, cmd("SET", "a", "1")...)
		p = append(p, cmd("BLOCK", strconv.Itoa(int(wait/time.Millisecond)), "unblocked")...)
		for i := range 5 {
			p = append(p, cmd("ECHO", strconv.Itoa(i))...)
		}
		p = append(p, cmd("SET", "a", "2")...)
		c.write(t, p)
		c.expect(t, "OK")

		// Meanwhile another client is served, and sees the hold-back.
		other := e.conn(t)
		other.write(t, cmd("GET", "a"))
		other.expect(t, "1")
		if time.Since(start) >= wait {
			t.Fatal("other client waited for the parked request")
		}

		c.expect(t, "unblocked")
		if d := time.Since(start); d < wait {
			t.Fatalf("parked reply after %v, want >= %v", d, wait)
		}
		for i := range 5 {
			c.expect(t, strconv.Itoa(i))
		}
		c.expect(t, "OK")
		// Requests arriving while parked, in separate reads.
		c.write(t, cmd("BLOCK", "50", "x"))
		time.Sleep(10 * time.Millisecond)
		c.write(t, cmd("ECHO", "after"))
		c.expect(t, "x")
		c.expect(t, "after")

		// A client that leaves while parked: the late completion is ignored.
		parks := e.h.parks.Load()
		gone := e.conn(t)
		gone.write(t, cmd("BLOCK", "30", "nobody"))
		eventually(t, "parked", func() bool { return e.h.parks.Load() == parks+1 })
		_ = gone.Close()
		eventually(t, "closed", func() bool { return e.h.closed.Load() == 1 })
		time.Sleep(50 * time.Millisecond)

		b := e.conn(t)
		p = binReq(opBlock, 1, int(wait/time.Millisecond), "done")
		for i := range 5 {
			p = append(p, binReq(binproto.OpPing, uint32(2+i), strconv.Itoa(i))...)
		}
		b.write(t, p)
		b.expectReply(t, opBlock, 1, "done")
		for i := range 5 {
			b.expectReply(t, binproto.OpPing, uint32(2+i), strconv.Itoa(i))
		}
	})
}

func TestPush(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		c := e.conn(t)
		// RESP2: pushes are arrays; RESP3: push type.
		for _, v := range []int{2, 3} {
			c.write(t, cmd("HELLO", strconv.Itoa(v)))
			c.expect(t, []any{"proto", int64(v)})
			c.write(t, cmd("PUSH", "3"))
			next := 0
			gotOK := false
			for range 4 {
				r, err := c.read()
				if err != nil {
					t.Fatal(err)
				}
				want := fmt.Sprint([]any{"chan", strconv.Itoa(next)})
				switch r := r.(type) {
				case string:
					gotOK = gotOK || r == "OK"
				case []any:
					if v != 2 || fmt.Sprint(r) != want {
						t.Fatalf("RESP%d: push %#v, want %s", v, r, want)
					}
					next++
				case respPush:
					if v != 3 || fmt.Sprint([]any(r)) != want {
						t.Fatalf("RESP%d: push %#v, want %s", v, r, want)
					}
					next++
				default:
					t.Fatalf("unexpected %#v", r)
				}
			}
			if !gotOK || next != 3 {
				t.Fatalf("RESP%d: OK %v, %d pushes", v, gotOK, next)
			}
		}

		b := e.conn(t)
		b.write(t, binReq(opPush, 9, 3))
		next := 0
		for range 4 {
			f, err := b.readFrame()
			if err != nil {
				t.Fatal(err)
			}
			if f.Flags == binproto.FlagReply {
				if f.ID != 9 || f.Value != (binOK{}) {
					t.Fatalf("reply %+v", f)
				}
				continue
			}
			want := fmt.Sprint([]any{"chan", strconv.Itoa(next)})
			if f.Flags != binproto.FlagPush || f.ID != 0 || f.Op != binproto.OpMessage || fmt.Sprint(f.Value) != want {
				t.Fatalf("push %+v %#v, want %s", f.Header, f.Value, want)
			}
			next++
		}

		// Push to a closed connection fails.
		_ = b.Close()
		eventually(t, "close", func() bool { return e.h.closed.Load() == 1 })
		e.h.connMu.Lock()
		bc := e.h.conns[1]
		e.h.connMu.Unlock()
		if err := bc.Push(binproto.OpMessage, func(w *Writer) { w.Null() }); !errors.Is(err, ErrConnClosed) {
			t.Fatalf("push after close: %v", err)
		}
	})
}

func TestPipelining(t *testing.T) {
	const n = 10_000
	forEach(t, Config{}, func(t *testing.T, e *env) {
		c := e.conn(t)
		var p []byte
		for i := range n {
			p = append(p, cmd("SET", "k"+strconv.Itoa(i), strconv.Itoa(i))...)
			p = append(p, cmd("GET", "k"+strconv.Itoa(i))...)
		}
		werr := make(chan error, 1)
		go func() { _, err := c.Write(p); werr <- err }()
		for i := range n {
			c.expect(t, "OK")
			c.expect(t, strconv.Itoa(i))
		}
		if err := <-werr; err != nil {
			t.Fatal(err)
		}

		b := e.conn(t)
		p = p[:0]
		for i := range n {
			p = append(p, binReq(binproto.OpPing, uint32(i+1), strconv.Itoa(i))...)
		}
		go func() { _, err := b.Write(p); werr <- err }()
		for i := range n {
			b.expectReply(t, binproto.OpPing, uint32(i+1), strconv.Itoa(i))
		}
		if err := <-werr; err != nil {
			t.Fatal(err)
		}
	})
}

// TestSplitReads feeds requests in pieces of random sizes, down to a byte.
func TestSplitReads(t *testing.T) {
	t.Parallel()
	forEach(t, Config{}, func(t *testing.T, e *env) {
		val := string(bytes.Repeat([]byte("x"), 3000))
		// send writes p in random pieces; it runs on its own goroutine.
		send := func(c *client, p []byte, seed uint64) {
			rng := mrand.New(mrand.NewPCG(seed, 2))
			for len(p) > 0 {
				k := min(len(p), 1+rng.IntN(40))
				if rng.IntN(4) == 0 {
					k = 1
				}
				if _, err := c.Write(p[:k]); err != nil {
					return // the reader fails
				}
				p = p[k:]
				if rng.IntN(8) == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}
		c := e.conn(t)
		var p []byte
		for i := range 20 {
			p = append(p, cmd("SET", "s"+strconv.Itoa(i), val)...)
			p = append(p, cmd("GET", "s"+strconv.Itoa(i))...)
		}
		go send(c, p, 1)
		for range 20 {
			c.expect(t, "OK")
			c.expect(t, val)
		}
		b := e.conn(t)
		p = p[:0]
		for i := range 20 {
			p = append(p, binReq(binproto.OpPing, uint32(i+1), val)...)
		}
		go send(b, p, 2)
		for i := range 20 {
			b.expectReply(t, binproto.OpPing, uint32(i+1), val)
		}
	})
}

// heapWatch samples the live heap until stopped and reports the peak.
func heapWatch() (stop func() uint64) {
	var (
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

func heapNow() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestOutputHardLimit: a client that asks for 256 MiB of replies and reads
// none of them is disconnected at the hard limit (once it has read nothing
// on hold for holdWait, 250 ms here), and the server's heap stays bounded
// meanwhile.
func TestOutputHardLimit(t *testing.T) {
	const (
		hard  = 2 << 20
		reply = 64 << 10
		total = 256 << 20
		bound = 64 << 20 // heap growth allowed, far below total
	)
	// The client reads nothing, so the disconnect comes holdWait after the
	// hold begins, found by a sweep: 250 ms and 50 ms sweeps rather than
	// 2 s and 1 s, or the six disconnects took some 16 s, serially. The
	// heap peaks as the hold begins (the server executes nothing more),
	// so the shorter wait lets it grow no less.
	cfg := Config{OutputHardLimit: hard, OutputSoftLimit: -1,
		waits: waits{hold: 250 * time.Millisecond, maxTick: 50 * time.Millisecond}}
	forEach(t, cfg, func(t *testing.T, e *env) {
		for _, binary := range []bool{false, true} {
			before := e.stats().OutputBufferDisconnects
			c := e.conn(t)
			var p []byte
			for i := range total / reply {
				if binary {
					p = append(p, binReq(opBig, uint32(i+1), reply)...)
				} else {
					p = append(p, cmd("BIG", strconv.Itoa(reply))...)
				}
			}
			base := heapNow()
			stop := heapWatch()
			go func() { _, _ = c.Write(p) }() // fails once disconnected
			eventually(t, "output-limit disconnect", func() bool {
				return e.stats().OutputBufferDisconnects > before
			})
			peak := stop()
			t.Logf("binary %v: heap grew by at most %d KiB", binary, (max(peak, base)-base)>>10)
			if peak > base+bound {
				t.Fatalf("heap grew by %d MiB (limit %d MiB)", (peak-base)>>20, bound>>20)
			}
			c.expectEOF(t)
		}
	})
}

// TestOutputSoftLimit: pending output above the soft limit for longer than
// OutputSoftSeconds disconnects the client.
func TestOutputSoftLimit(t *testing.T) {
	t.Parallel()
	cfg := Config{OutputHardLimit: -1, OutputSoftLimit: 1 << 20, OutputSoftSeconds: 200 * time.Millisecond}
	forEach(t, cfg, func(t *testing.T, e *env) {
		c := e.conn(t)
		var p []byte
		for range 512 { // 32 MiB of replies, never read
			p = append(p, cmd("BIG", strconv.Itoa(64<<10))...)
		}
		go func() { _, _ = c.Write(p) }()
		eventually(t, "soft-limit disconnect", func() bool {
			return e.stats().OutputBufferDisconnects == 1
		})
		c.expectEOF(t)
	})
}

func TestMaxClients(t *testing.T) {
	t.Parallel()
	forEach(t, Config{MaxClients: 2}, func(t *testing.T, e *env) {
		c1, c2 := e.conn(t), e.conn(t)
		for _, c := range []*client{c1, c2} {
			c.write(t, cmd("PING"))
			c.expect(t, "PONG")
		}
		c3 := e.conn(t)
		c3.write(t, cmd("PING"))
		c3.expect(t, respErr("ERR max number of clients reached"))
		c3.expectEOF(t)
		b := e.conn(t)
		b.write(t, binReq(binproto.OpPing, 1))
		b.expectDisconnect(t, binproto.ClassLimit, maxClientsMsg)

		// A refused client that never sends is closed too.
		silent := e.conn(t)
		silent.expectEOF(t)

		st := e.stats()
		if st.Rejected != 3 || st.Connected != 2 || st.ConnectionsTotal != 5 {
			t.Fatalf("stats %+v", st)
		}
		_ = c1.Close()
		eventually(t, "slot freed", func() bool { return e.stats().Connected == 1 })
		c4 := e.conn(t)
		c4.write(t, cmd("PING"))
		c4.expect(t, "PONG")
	})
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = 150 * time.Millisecond
	forEach(t, Config{IdleTimeout: idle}, func(t *testing.T, e *env) {
		start := time.Now()
		c := e.conn(t)
		c.write(t, cmd("PING"))
		c.expect(t, "PONG")
		b := e.conn(t)
		b.write(t, binReq(binproto.OpPing, 1))
		b.expectReply(t, binproto.OpPing, 1, binOK{})
		// A parked client is not idle.
		p := e.conn(t)
		p.write(t, cmd("BLOCK", strconv.Itoa(int(3*idle/time.Millisecond)), "late"))

		c.expectEOF(t)
		if d := time.Since(start); d < idle {
			t.Fatalf("closed after %v, before the idle timeout", d)
		}
		b.expectDisconnect(t, binproto.ClassErr, idleMsg)
		p.expect(t, "late")
		p.expectEOF(t) // idle again afterwards
	})
}

func TestQueryBufferLimit(t *testing.T) {
	const limit = 64 << 10
	forEach(t, Config{QueryBufferLimit: limit}, func(t *testing.T, e *env) {
		// A bulk far larger than the limit, never finished.
		c := e.conn(t)
		c.write(t, []byte("*2\r\n$4\r\nECHO\r\n$1000000\r\n"))
		go func() { _, _ = c.Write(make([]byte, 2*limit)) }()
		c.expectEOF(t)

		b := e.conn(t)
		b.write(t, header(0, binproto.OpPing, 1, 1000000))
		go func() { _, _ = b.Write(make([]byte, 2*limit)) }()
		b.expectDisconnect(t, binproto.ClassLimit, queryLimitMsg)

		// Complete requests piling up behind a parked one count too.
		p := e.conn(t)
		p.write(t, cmd("BLOCK", "5000", "x"))
		var pile []byte
		for len(pile) < 2*limit {
			pile = append(pile, cmd("PING")...)
		}
		go func() { _, _ = p.Write(pile) }()
		p.expectEOF(t)

		ok := e.conn(t)
		ok.write(t, cmd("PING"))
		ok.expect(t, "PONG")
	})
}

// TestHugeDeclarations: a 4 GiB bulk and a 2^32-element array are refused
// from their headers, without the server allocating for them.
func TestHugeDeclarations(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc

		c := e.conn(t)
		c.write(t, []byte("*2\r\n$3\r\nGET\r\n$4294967296\r\n"))
		c.expect(t, respErr("ERR Protocol error: invalid bulk length"))
		c.expectEOF(t)
		c = e.conn(t)
		c.write(t, []byte("*4294967296\r\n"))
		c.expect(t, respErr("ERR Protocol error: invalid multibulk length"))
		c.expectEOF(t)

		b := e.conn(t)
		// argc 2^32-1 in a small body: an error reply; the connection stays.
		b.write(t, append(header(0, binproto.OpGet, 1, 8), 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0))
		b.expectReply(t, binproto.OpGet, 1, binErr{binproto.ClassLimit, "too many elements"})
		// A BYTES argument declaring 4 GiB-1.
		b.write(t, append(header(0, binproto.OpGet, 2, 10), 0, 0, 0, 1, 1, 0xff, 0xff, 0xff, 0xff, 0))
		b.expectReply(t, binproto.OpGet, 2, binErr{binproto.ClassLimit, "value too large"})
		b.write(t, binReq(binproto.OpPing, 3))
		b.expectReply(t, binproto.OpPing, 3, binOK{})
		// A frame declaring a 4 GiB-1 body: DISCONNECT.
		b.write(t, header(0, binproto.OpSet, 4, 0xffffffff))
		b.expectDisconnect(t, binproto.ClassLimit, "frame too large")

		runtime.ReadMemStats(&ms)
		if d := ms.TotalAlloc - before; d > 32<<20 {
			t.Fatalf("allocated %d MiB", d>>20)
		}
	})
}

// TestBadInput: random bytes, half frames and hundreds of abandoned
// half-open connections leave the server serving others, data intact.
func TestBadInput(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		good := e.conn(t)
		good.write(t, cmd("SET", "keep", "safe"))
		good.expect(t, "OK")

		rng := mrand.New(mrand.NewPCG(3, 4))
		var wg sync.WaitGroup
		for i := range 40 {
			junk := make([]byte, 1+rng.IntN(2048))
			for j := range junk {
				junk[j] = byte(rng.Uint32())
			}
			if i%2 == 0 {
				junk[0] = binproto.Magic
			}
			c := e.conn(t)
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = c.Write(junk)
				_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				_, _ = c.Read(make([]byte, 64))
				_ = c.Close()
			}()
		}
		wg.Wait()

		halves := [][]byte{
			[]byte("*3\r\n$3\r\nSET\r\n$4\r\nkeep\r\n$5\r\nbr"),
			[]byte("*3\r\n$3\r\nSE"),
			[]byte("GET keep"),
			binReq(binproto.OpSet, 1, "keep", "broken")[:20],
			binReq(binproto.OpSet, 1, "keep", "broken")[:5],
		}
		var open []*client
		for i := range 300 {
			c := e.conn(t)
			c.write(t, halves[i%len(halves)])
			open = append(open, c)
		}

		good.write(t, cmd("GET", "keep"))
		good.expect(t, "safe")
		fresh := e.conn(t)
		fresh.write(t, binReq(binproto.OpGet, 1, "keep"))
		fresh.expectReply(t, binproto.OpGet, 1, "safe")

		for _, c := range open {
			_ = c.Close()
		}
		eventually(t, "half-open connections gone", func() bool { return e.stats().Connected == 2 })
		good.write(t, cmd("GET", "keep"))
		good.expect(t, "safe")
	})
}

// TestShutdown: in-flight replies are written, parked and idle clients are
// closed, and Shutdown returns promptly.
func TestShutdown(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		idle := e.conn(t)
		idle.write(t, cmd("PING"))
		idle.expect(t, "PONG")
		parked := e.conn(t)
		parked.write(t, binReq(opBlock, 1, 60_000, "never"))
		parkedR := e.conn(t)
		parkedR.write(t, cmd("BLOCK", "60000", "never"))
		never := e.conn(t) // sends nothing

		busy := e.conn(t)
		const n = 100
		var p []byte
		for range n {
			p = append(p, cmd("SET", "k", "v")...)
		}
		busy.write(t, p)
		if _, err := busy.br.Peek(1); err != nil { // the batch is being served
			t.Fatal(err)
		}
		eventually(t, "parked requests", func() bool { return e.h.parks.Load() == 2 })

		start := time.Now()
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			done <- e.srv.Shutdown(ctx)
		}()
		for range n {
			busy.expect(t, "OK")
		}
		busy.expectEOF(t)
		idle.expectEOF(t)
		parked.expectDisconnect(t, binproto.ClassErr, shutdownMsg)
		parkedR.expectEOF(t)
		never.expectEOF(t)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Shutdown took %v", d)
		}
		if o, c := e.h.opened.Load(), e.h.closed.Load(); o != c {
			t.Fatalf("opened %d, closed %d", o, c)
		}
		if err := e.srv.Serve(e.h); !errors.Is(err, ErrServerClosed) {
			t.Fatalf("Serve after Shutdown: %v", err)
		}
	})
}

func TestStats(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		c := e.conn(t)
		req := cmd("ECHO", "hello")
		c.write(t, req)
		c.expect(t, "hello")
		want := Stats{BytesIn: uint64(len(req)), BytesOut: uint64(len("$5\r\nhello\r\n")), ConnectionsTotal: 1, Connected: 1}
		// The writer counts its bytes once its write has returned, which
		// may be just after the client has read them.
		eventually(t, fmt.Sprintf("stats %+v", want), func() bool { return e.stats() == want })
		_ = c.Close()
		eventually(t, "disconnect counted", func() bool { return e.stats().Connected == 0 })
	})
}

// selfSigned returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	c := testcert.Valid(t)
	return c.TLS, c.Pool
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	cfg := Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}

	if err := NewGnet(cfg).Serve(newTestHandler()); !errors.Is(err, ErrTLSUnsupported) {
		t.Fatalf("gnet with TLS: %v", err)
	}

	e := startEnv(t, "std", cfg)
	dial := func() *client {
		c, err := tls.Dial("tcp", e.srv.Addr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return newClient(c)
	}
	c := dial()
	var p []byte
	for i := range 1000 {
		p = append(p, cmd("SET", "t"+strconv.Itoa(i), strconv.Itoa(i))...)
	}
	p = append(p, cmd("GET", "t999")...)
	c.write(t, p)
	for range 1000 {
		c.expect(t, "OK")
	}
	c.expect(t, "999")
	c.write(t, cmd("BLOCK", "20", "tls-parked"))
	c.expect(t, "tls-parked")

	b := dial()
	b.write(t, binReq(binproto.OpGet, 1, "t5"))
	b.expectReply(t, binproto.OpGet, 1, "5")

	// A plain-text client fails the handshake and is closed.
	raw, err := net.Dial("tcp", e.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	newClient(raw).write(t, cmd("PING"))
	newClient(raw).expectEOF(t)

	c.write(t, cmd("PING"))
	c.expect(t, "PONG")
}

// TestOpenBeforeFirstByte: a connection is opened with the handler when it
// is accepted, not when its first byte arrives, and closed when it goes,
// even if it never sent anything.
func TestOpenBeforeFirstByte(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		c := e.conn(t)
		eventually(t, "silent connection opened", func() bool { return e.h.opened.Load() == 1 })
		_ = c.Close()
		eventually(t, "silent connection closed", func() bool { return e.h.closed.Load() == 1 })
	})
}

// TestPushBeforeFirstByte (from review): Open now runs before the first
// byte, so a handler can hold the Conn before its protocol is known; a push
// then fails with ErrNotReady instead of being written as RESP to what may
// turn out a binary client (and racing with the first byte's choice), and
// works once the protocol is known.
func TestPushBeforeFirstByte(t *testing.T) {
	forEach(t, Config{}, func(t *testing.T, e *env) {
		c := e.conn(t)
		eventually(t, "opened", func() bool { return e.h.opened.Load() == 1 })
		e.h.connMu.Lock()
		sc := e.h.conns[0]
		e.h.connMu.Unlock()
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() { // pushes racing the first byte
			for {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				err := sc.Push(binproto.OpMessage, func(w *Writer) { w.Push(1); w.BulkString("x") })
				if err != nil && !errors.Is(err, ErrNotReady) {
					done <- err
					return
				}
				if err == nil {
					done <- nil
					return
				}
			}
		}()
		if err := sc.Push(binproto.OpMessage, func(w *Writer) { w.Null() }); !errors.Is(err, ErrNotReady) && err != nil {
			t.Fatalf("push before the first byte: %v", err)
		}
		c.write(t, binReq(binproto.OpPing, 7))
		// Every frame before the PING's reply is a well-formed binary push.
		for {
			f, err := c.readFrame()
			if err != nil {
				t.Fatal(err)
			}
			if f.Flags == binproto.FlagPush {
				continue
			}
			if f.ID != 7 {
				t.Fatalf("frame %+v, want the reply to PING 7", f.Header)
			}
			break
		}
		close(stop)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := sc.Push(binproto.OpMessage, func(w *Writer) { w.Push(1); w.BulkString("y") }); err != nil {
			t.Fatalf("push after the first byte: %v", err)
		}
		for { // the racing goroutine's one successful push may come first
			f, err := c.readFrame()
			if err != nil {
				t.Fatal(err)
			}
			if f.Flags != binproto.FlagPush || f.Op != binproto.OpMessage {
				t.Fatalf("frame %+v, want a push", f.Header)
			}
			if v := fmt.Sprint(f.Value); v == "[y]" {
				break
			} else if v != "[x]" {
				t.Fatalf("push %s, want [x] or [y]", v)
			}
		}
	})
}

// TestOpenRefusedSilentClosed (from review): a connection Handler.Open
// refuses that never sends a byte is closed after rejectWait, as one
// MaxClients refuses, instead of holding a client slot for ever.
func TestOpenRefusedSilentClosed(t *testing.T) {
	// The client never sends, so a shorter wait (and sweep) cannot fail it
	// early: 250 ms rather than rejectWait, 1 to 2 s with 1 s sweeps.
	const wait = 250 * time.Millisecond
	forEach(t, Config{waits: waits{reject: wait, maxTick: 50 * time.Millisecond}}, func(t *testing.T, e *env) {
		e.h.rejectOpen.Store(&binproto.Error{Class: binproto.ClassNoAuth, Msg: "go away"})
		c := e.conn(t)
		start := time.Now()
		c.expectEOF(t)
		if d := time.Since(start); d < wait/2 {
			t.Fatalf("closed after %v, want about %v", d, wait)
		}
		eventually(t, "gone", func() bool { return e.stats().Connected == 0 })
	})
}

// TestRefusedSilentHonoursIdleTimeout (from review): a refused connection
// that stays silent is closed after IdleTimeout when that is shorter than
// rejectWait, as it was before refusals waited for the first byte.
func TestRefusedSilentHonoursIdleTimeout(t *testing.T) {
	forEach(t, Config{IdleTimeout: 100 * time.Millisecond}, func(t *testing.T, e *env) {
		e.h.rejectOpen.Store(&binproto.Error{Class: binproto.ClassNoAuth, Msg: "go away"})
		// A timing check: on a loaded machine (CI running many packages'
		// tests at once) one attempt took 883 ms. Closing after rejectWait
		// would fail every attempt.
		var took []time.Duration
		for range 3 {
			c := e.conn(t)
			start := time.Now()
			c.expectEOF(t)
			d := time.Since(start)
			if d < rejectWait*3/4 {
				return
			}
			took = append(took, d)
		}
		t.Fatalf("closed after %v, want about the 100ms idle timeout", took)
	})
}

// TestOutputHardLimitReadingClient: the hard limit is for a client that
// does not read. One that does gets every reply of a pipeline whose
// replies add up to far more than the limit, and a single reply larger
// than the limit (a large value must stay readable).
func TestOutputHardLimitReadingClient(t *testing.T) {
	t.Parallel()
	forEach(t, Config{OutputHardLimit: 1 << 20}, func(t *testing.T, e *env) {
		c := e.conn(t)
		const n, size = 40, 100 << 10
		c.write(t, bytes.Repeat(cmd("BIG", strconv.Itoa(size)), n))
		for i := range n {
			got, err := c.read()
			if err != nil {
				t.Fatalf("reply %d of %d (%d KiB each; hard limit 1 MiB): %v", i+1, n, size>>10, err)
			}
			if s, _ := got.(string); len(s) != size {
				t.Fatalf("reply %d: %d bytes", i+1, len(s))
			}
		}
		c.write(t, cmd("BIG", strconv.Itoa(3<<20)))
		got, err := c.read()
		if s, _ := got.(string); err != nil || len(s) != 3<<20 {
			t.Fatalf("one 3 MiB reply over a 1 MiB limit: %d bytes, %v", len(s), err)
		}
		c.write(t, cmd("PING"))
		c.expect(t, "PONG")
		if d := e.stats().OutputBufferDisconnects; d != 0 {
			t.Fatalf("%d output-limit disconnects", d)
		}
	})
}

// TestIdleExempt: a connection exempted with SetIdleExempt (a MONITOR
// client, which only receives) outlives the idle timeout that closes
// the others.
func TestIdleExempt(t *testing.T) {
	t.Parallel()
	const idle = 150 * time.Millisecond
	forEach(t, Config{IdleTimeout: idle}, func(t *testing.T, e *env) {
		x := e.conn(t)
		x.write(t, cmd("NOIDLE"))
		x.expect(t, "OK")
		c := e.conn(t)
		c.write(t, cmd("PING"))
		c.expect(t, "PONG")
		c.expectEOF(t)       // idle after x, and closed
		time.Sleep(3 * idle) // x, idle for longer, would be closed by now
		x.write(t, cmd("PING"))
		x.expect(t, "PONG")
	})
}
