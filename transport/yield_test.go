package transport

import (
	"bytes"
	"io"
	"strconv"
	"testing"
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
