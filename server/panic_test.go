package server

import (
	"io"
	"testing"
	"time"
)

// debugServer starts a server with the DEBUG commands on 127.0.0.1:0 and
// CrashOnPanic off (a panic is what these tests provoke), shut down at
// the end of the test.
func debugServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Addr, cfg.EnableDebugCommands = "127.0.0.1:0", true
	if cfg.MetricsAddr == "" {
		// Not the default port: a server running on the machine holds it.
		cfg.MetricsAddr = "127.0.0.1:0"
	}
	s, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(t.Context()) })
	return s
}

// TestCommandPanicIsContained: by default a command that panics (a bug)
// closes only its own connection: the server logs and counts it, and
// every other client goes on, its data intact.
func TestCommandPanicIsContained(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			s := debugServer(t, Config{Transport: kind, Loops: 2, MetricsAddr: "127.0.0.1:0"})
			other := dialRaw(t, s.Addr())
			if got := other.do(t, "SET", "k", "v"); got != okR {
				t.Fatalf("SET = %q", got)
			}
			bad := dialRaw(t, s.Addr())
			bad.send(t, "DEBUG.PANIC")
			bad.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if b, err := io.ReadAll(bad.conn); err != nil || len(b) != 0 {
				t.Fatalf("after the panic: read %q, %v; want the connection closed", b, err)
			}
			if got := other.do(t, "GET", "k"); got != bulkR("v") {
				t.Fatalf("other client's GET = %q", got)
			}
			// The gate was left: a transaction still runs.
			for _, c := range [][]string{{"MULTI"}, {"INCR", "n"}} {
				other.do(t, c...)
			}
			if got := other.do(t, "EXEC"); got != arrR(intR(1)) {
				t.Fatalf("EXEC = %q", got)
			}
			waitMetric(t, s.MetricsAddr(), "ringdb_command_panics_total", 1)
		})
	}
}

// TestCommandPanicEndsTheBatch: the commands a client pipelined behind a
// command that panicked are not run. The connection is aborted, and its
// client gets no reply to any of them, so it cannot know they ran: on the
// gnet transport the rest of the batch used to be served (SET applied)
// while the abort took effect.
func TestCommandPanicEndsTheBatch(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			s := debugServer(t, Config{Transport: kind, Loops: 1})
			bad := dialRaw(t, s.Addr())
			if _, err := bad.conn.Write([]byte("*1\r\n$11\r\nDEBUG.PANIC\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n")); err != nil {
				t.Fatal(err)
			}
			bad.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if b, err := io.ReadAll(bad.conn); err != nil || len(b) != 0 {
				t.Fatalf("after the panic: read %q, %v; want the connection closed", b, err)
			}
			other := dialRaw(t, s.Addr())
			if got := other.do(t, "EXISTS", "after"); got != intR(0) {
				t.Fatalf("EXISTS after = %q: the command pipelined behind the panic ran", got)
			}
		})
	}
}

// TestCommandPanicInExecDropsItsReply: a command that panics inside EXEC,
// after GETs of large values written by reference, sends nothing of EXEC's
// reply: the values lent were streamed to the client while the abort took
// effect.
func TestCommandPanicInExecDropsItsReply(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			s := debugServer(t, Config{Transport: kind, Loops: 1})
			if err := s.ks.Set([]byte("big"), make([]byte, 4<<20)); err != nil {
				t.Fatal(err)
			}
			bad := dialRaw(t, s.Addr())
			for _, c := range [][]string{{"MULTI"}, {"GET", "big"}, {"GET", "big"}, {"DEBUG.PANIC"}} {
				if got := bad.do(t, c...); got != okR && got != simpleR("QUEUED") {
					t.Fatalf("%v: %q", c, got)
				}
			}
			bad.send(t, "EXEC")
			bad.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if b, err := io.ReadAll(bad.r); err != nil || len(b) != 0 {
				t.Fatalf("after the panic in EXEC: read %d bytes (%.40q), %v; want the connection closed, nothing of the reply sent", len(b), b, err)
			}
		})
	}
}
