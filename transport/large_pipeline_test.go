package transport

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestLargePipelineTakesTurns: one client's pipeline of large replies,
// read as fast as they come, does not hold up another client of the same
// event loop until it ends: the other's request is served within a few of
// its turns. Before, the loop made up to the hard limit's worth (all 300
// of the replies here) before it served anything else. gnet only: std
// serves each connection on its own goroutine.
//
// The count starts when b's request reaches the server, not when the test
// saw a's pipeline under way: b's PING is sent by the handler serving a's
// first request, on the loop's goroutine, so that it is in the server's
// socket before the loop could serve a second one, however late any other
// goroutine runs. (When the test sent it, a test goroutine kept from
// running on a loaded host counted a's requests served meanwhile, and
// one sent after a batch had ended missed the batch.) The replies are
// 256 KiB, four to a turn (turnOut): 300 of 1 MiB took over 60 s to read
// under -race on a loaded 2-core host, past the client's deadline.
func TestLargePipelineTakesTurns(t *testing.T) {
	t.Parallel()
	const n, size = 300, 256 << 10
	e := startEnv(t, "gnet", Config{Loops: 1})
	a, b := e.conn(t), e.conn(t)
	// Reading 75 MiB under -race on a loaded host takes a while; the
	// deadline only bounds how long a hung pipeline takes to fail.
	_ = a.SetDeadline(time.Now().Add(3 * time.Minute))
	b.write(t, cmd("PING"))
	b.expect(t, "PONG")
	sent := make(chan error, 1)
	onBig := func(k int64) {
		if k == 1 {
			_, err := b.Write(cmd("PING"))
			sent <- err
		}
	}
	e.h.onBig.Store(&onBig)
	done := readBigs(a, n, size)
	a.write(t, bytes.Repeat(cmd("BIG", strconv.Itoa(size)), n))
	if err := <-sent; err != nil {
		t.Fatalf("b's PING: %v", err)
	}
	b.expect(t, "PONG")
	at := e.h.bigsAtPing.Load() - 1
	t.Logf("b's PING served after %d more of a's %d requests", at, n)
	if at > 64 {
		t.Fatalf("b's PING waited for %d of a's %d requests", at, n)
	}
	if err := <-done; err != nil {
		t.Fatalf("a's pipeline: %v", err)
	}
}

// TestSlowReaderNotIdle: with an idle timeout, a client slowly reading a
// long pipeline of large replies (longer than the timeout in all) is not
// idle, as in Redis, where a write to a client counts as interaction: it
// was taken for idle mid-read, and closed once its replies had gone out,
// so its next request failed. One that reads none of them is idle, and
// closed.
func TestSlowReaderNotIdle(t *testing.T) {
	t.Parallel()
	// A second: under -race on a loaded host a reader goroutine can miss
	// its turn for a few hundred milliseconds (it did at 300 ms, 1 run in
	// 4 with the host's load at 4.6).
	const idle = time.Second
	const n, size = 40, 1 << 20
	forEach(t, Config{IdleTimeout: idle}, func(t *testing.T, e *env) {
		slow, stalled := e.conn(t), e.conn(t)
		p := bytes.Repeat(cmd("BIG", strconv.Itoa(size)), n)
		slow.write(t, p)
		stalled.write(t, p)
		start := time.Now()
		for i := range n {
			got, err := slow.read()
			if s, _ := got.(string); err != nil || len(s) != size {
				t.Fatalf("slow reader, reply %d after %v: %d bytes, %v", i+1, time.Since(start), len(s), err)
			}
			// The last replies may all be in the kernel's buffers, where
			// the server sees no progress (nor would Redis): read them
			// at once.
			if i < n-12 {
				time.Sleep(idle / 10)
			}
		}
		if d := time.Since(start); d < 2*idle {
			t.Fatalf("read in %v: not longer than the timeout", d)
		}
		// Still open: it was closed once its last reply had gone out.
		slow.write(t, cmd("PING"))
		slow.expect(t, "PONG")
		// The stalled client was closed: it gets what was in flight, then
		// EOF (or a reset).
		_ = stalled.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.Copy(io.Discard, stalled); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("stalled client: %v, want it closed", err)
		}
	})
}

// TestYieldedInputNotChargedToQueryLimit: the input a connection holds
// back because its turn ended (connState.yield) is not the client's doing:
// a client that pipelines GETs of mid-sized values (3 KiB here, 70 MB of
// replies in all, under the hard output limit) and reads its replies as
// fast as they come is not disconnected by the query-buffer limit. gnet
// read 64 KiB of requests per read but served only 1 MiB of replies (7 KiB
// of these requests) per turn, so the unserved input grew past the limit
// and the connection was cut off after about a fifth of its replies;
// before turns it was served as it was read. (A client that stops reading
// is held at the hard output limit, and its input is charged as before.)
func TestYieldedInputNotChargedToQueryLimit(t *testing.T) {
	t.Parallel()
	const size = 3 << 10
	req := cmd("BIG", strconv.Itoa(size))
	n := (512 << 10) / len(req)
	forEach(t, Config{Loops: 1, QueryBufferLimit: 256 << 10}, func(t *testing.T, e *env) {
		a := e.conn(t)
		werr := make(chan error, 1)
		go func() {
			_, err := a.Write(bytes.Repeat(req, n))
			werr <- err
		}()
		for i := range n {
			got, err := a.read()
			if s, _ := got.(string); err != nil || len(s) != size {
				t.Fatalf("reply %d of %d: %v", i, n, err)
			}
		}
		if err := <-werr; err != nil {
			t.Fatalf("write: %v", err)
		}
	})
}
