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
// its turns. Before, the loop made up to the hard limit's worth (256 of
// the 300 replies here) before it served anything else. gnet only: std
// serves each connection on its own goroutine.
func TestLargePipelineTakesTurns(t *testing.T) {
	t.Parallel()
	const n, size = 300, 1 << 20
	e := startEnv(t, "gnet", Config{Loops: 1})
	a, b := e.conn(t), e.conn(t)
	b.write(t, cmd("PING"))
	b.expect(t, "PONG")
	done := make(chan error, 1)
	go func() {
		for range n {
			got, err := a.read()
			if s, _ := got.(string); err != nil || len(s) != size {
				done <- io.ErrUnexpectedEOF
				return
			}
		}
		done <- nil
	}()
	a.write(t, bytes.Repeat(cmd("BIG", strconv.Itoa(size)), n))
	eventually(t, "a's pipeline under way", func() bool { return e.h.bigs.Load() > 0 })
	b.write(t, cmd("PING"))
	b.expect(t, "PONG")
	at := e.h.bigsAtPing.Load()
	t.Logf("b's PING served after %d of a's %d requests", at, n)
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
