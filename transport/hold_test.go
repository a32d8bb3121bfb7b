package transport

import (
	"bytes"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// A client that reads its output all the time, at about 1 MB/s, while its
// deep pipeline keeps it on hold at the hard limit, is not cut off as an
// output-limit overflow. (holdStalled watched pendOut alone, the
// transport's own buffer: once the kernel's socket buffers are full, MBs
// on TCP, that moves only when the kernel frees a large part of its send
// buffer, which at this rate took over a second; it now adds the kernel's
// send queue.) It runs with a hold wait of 2 s, a fifth of the default.
func TestSteadyReaderOnHoldNotCutOff(t *testing.T) {
	t.Parallel()
	const wait = 2 * time.Second
	forEach(t, Config{OutputHardLimit: 1 << 20, waits: waits{hold: wait}}, func(t *testing.T, e *env) {
		c := e.conn(t)
		c.write(t, bytes.Repeat(cmd("BIG", strconv.Itoa(100<<10)), 400))
		buf := make([]byte, 64<<10)
		got := 0
		start := time.Now()
		for time.Since(start) < 2*wait+time.Second {
			n, err := c.Conn.Read(buf)
			got += n
			if err != nil {
				t.Fatalf("after %d bytes in %v: %v", got, time.Since(start), err)
			}
			if d := e.stats().OutputBufferDisconnects; d != 0 {
				t.Fatalf("reading client disconnected by the output limit after %d bytes in %v", got, time.Since(start))
			}
			time.Sleep(60 * time.Millisecond)
		}
	})
}

// The same with one reply over the hard limit and a reader at ~320 KB/s:
// std's writer lowered pendOut only once a whole 1 MiB piece had gone out,
// so on the in-memory pipe (no kernel buffer at all) the reader showed no
// progress for over a second and was cut off; pieces are 64 KiB now.
func TestSlowReaderOnHoldNotCutOff(t *testing.T) {
	t.Parallel()
	forEach(t, Config{OutputHardLimit: 256 << 10}, func(t *testing.T, e *env) {
		c := e.conn(t)
		const size = 1 << 20
		c.write(t, cmd("BIG", strconv.Itoa(size)))
		want := len("$"+strconv.Itoa(size)+"\r\n") + size + 2
		buf := make([]byte, 32<<10)
		got := 0
		for got < want {
			n, err := c.Conn.Read(buf)
			got += n
			if err != nil {
				if err == io.EOF {
					t.Fatalf("connection closed after %d of %d bytes (output-limit disconnects: %d)", got, want, e.stats().OutputBufferDisconnects)
				}
				t.Fatalf("after %d of %d bytes: %v", got, want, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// The reply that put a connection on hold may take its pending output past
// the hard limit by slack (connState.slack). A push (pub/sub message,
// invalidation) that arrives while that large reply is being read must not
// abort the connection: push once checked the hard limit without slack.
func TestPushWhileSlackPendingNotCutOff(t *testing.T) {
	t.Parallel()
	forEach(t, Config{OutputHardLimit: 256 << 10}, func(t *testing.T, e *env) {
		c := e.conn(t)
		const size = 4 << 20
		c.write(t, cmd("BIG", strconv.Itoa(size)))
		time.Sleep(100 * time.Millisecond) // BIG's 4 MiB pending, not read yet
		// Opened at accept, but a loaded host may take its time.
		conn := serverConn(t, e, 0)
		err := conn.Push(binproto.OpMessage, func(w *Writer) {
			w.Push(2)
			w.BulkString("chan")
			w.BulkString("hello")
		})
		if err != nil {
			t.Errorf("Push while the slack reply is pending: %v", err)
		}
		got, rerr := c.read()
		if s, _ := got.(string); rerr != nil || len(s) != size {
			t.Fatalf("BIG: %d bytes, %v (output-limit disconnects: %d)", len(s), rerr, e.stats().OutputBufferDisconnects)
		}
		if _, err := c.read(); err != nil {
			t.Fatalf("push: %v (output-limit disconnects: %d)", err, e.stats().OutputBufferDisconnects)
		}
	})
}

// Progress on hold counts from the most output pending since the client
// last read. std's sweeper could look between hold and the enqueue of the
// batch that put the connection on hold, taking the pending output
// without that batch as its mark; a client then had to read the whole
// batch (up to its turn, 1 MiB) before any reading counted, and one
// starved of CPU on a loaded host was disconnected while reading.
func TestHoldProgressCountsFromOutputAddedLater(t *testing.T) {
	const wait = time.Second
	cs, _ := newTestState(pingHandler{}, Config{OutputHardLimit: 1000, waits: waits{hold: wait}})
	cs.process(nil, cmd("PING")) // detect the protocol
	cs.hold(nil, 0)
	now := cs.hub.now()
	step := func(pend int64, d time.Duration) bool {
		now += int64(d)
		return cs.holdStalled(pend, now)
	}
	if step(900, 0) { // the sweeper, before the batch is counted
		t.Fatal("stalled at once")
	}
	if step(1200, wait*9/10) { // the batch's 300 bytes, counted
		t.Fatal("stalled before holdWait")
	}
	if step(1100, wait*9/10) {
		t.Fatal("a client that read 100 bytes of its output in holdWait was taken for a stalled one")
	}
	if step(1100, wait*9/10) {
		t.Fatal("stalled before holdWait since it last read")
	}
	if step(1150, 0) { // a push or a parked request's reply
		t.Fatal("stalled before holdWait since it last read")
	}
	if !step(1150, wait*2/10) {
		t.Fatal("a client that read nothing for holdWait, output added meanwhile, was not taken for a stalled one")
	}
}
