package server

import (
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/resp"
)

// TestParkedRequest uses DEBUG.SLEEPREPLY to prove that a parked request
// completes from another goroutine, holds back the replies pipelined
// behind it (order is kept), and leaves the event loop free for other
// connections meanwhile.
func TestParkedRequest(t *testing.T) {
	forEachTransport(t, Config{EnableDebugCommands: true}, func(t *testing.T, ts *testServer) {
		a, b := ts.raw(t), ts.raw(t)
		var req []byte
		req = resp.AppendCommand(req, []byte("DEBUG.SLEEPREPLY"), []byte("300"))
		req = resp.AppendCommand(req, []byte("PING"))
		req = resp.AppendCommand(req, []byte("ECHO"), []byte("after"))
		start := time.Now()
		a.writeRaw(t, string(req))

		time.Sleep(50 * time.Millisecond)
		t0 := time.Now()
		if got := b.do(t, "PING"); got != simpleR("PONG") {
			t.Fatalf("other client PING = %q", got)
		}
		if d := time.Since(t0); d > 200*time.Millisecond {
			t.Errorf("other client waited %v behind a parked request", d)
		}
		if got := b.do(t, "INFO", "clients"); !strings.Contains(got, "blocked_clients:1\r\n") {
			t.Errorf("INFO clients while parked = %q", got)
		}
		if got := b.do(t, "CLIENT", "LIST"); !strings.Contains(got, "flags=b ") {
			t.Errorf("CLIENT LIST while parked = %q", got)
		}

		for _, want := range []string{okR, simpleR("PONG"), bulkR("after")} {
			if got := a.read(t); got != want {
				t.Fatalf("pipelined reply = %q, want %q", got, want)
			}
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("parked reply after %v, want >= 300ms", d)
		}
		if got := a.do(t, "PING"); got != simpleR("PONG") {
			t.Errorf("PING after parked = %q", got)
		}

		// A connection that goes away while parked: the late completion
		// is ignored.
		c := ts.raw(t)
		c.send(t, "DEBUG.SLEEPREPLY", "50")
		c.conn.Close()
		time.Sleep(150 * time.Millisecond)
		if got := b.do(t, "INFO", "clients"); !strings.Contains(got, "blocked_clients:0\r\n") {
			t.Errorf("INFO clients after = %q", got)
		}
		if got := b.do(t, "DEBUG.SLEEPREPLY", "x"); got != notIntR {
			t.Errorf("DEBUG.SLEEPREPLY x = %q", got)
		}
	})
}

// TestDebugCommandsOff: without EnableDebugCommands the test-only commands
// do not exist.
func TestDebugCommandsOff(t *testing.T) {
	srv := newDirectServer(t, Config{})
	c := newDirectClient(t, srv)
	if got := c.do(t, "DEBUG.SLEEPREPLY", "1"); !strings.HasPrefix(got, "-ERR unknown command 'DEBUG.SLEEPREPLY'") {
		t.Errorf("DEBUG.SLEEPREPLY = %q", got)
	}
}
