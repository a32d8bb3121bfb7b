package server

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// TestShutdownCommand: SHUTDOWN's refusals answer as Redis 7.0.15's; a
// plain SHUTDOWN gets no reply, its connection closes, the server stops
// accepting, and Run returns nil, as after SIGTERM. Other clients' replies
// in flight are still written.
func TestShutdownCommand(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			s, err := New(Config{Addr: "127.0.0.1:0", Transport: kind, Loops: 2, MetricsAddr: metricsOff}, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			ran := make(chan error, 1)
			go func() { ran <- s.Run(context.Background()) }()
			select {
			case <-s.tr.Ready():
			case err := <-ran:
				t.Fatalf("Run: %v", err)
			}
			other := dialRaw(t, s.Addr())
			c := dialRaw(t, s.Addr())
			for _, tc := range []struct {
				want string
				args []string
			}{
				{errR("ERR No shutdown in progress."), []string{"SHUTDOWN", "ABORT"}},
				{errR("ERR syntax error"), []string{"SHUTDOWN", "NOSAVE", "SAVE"}},
				{errR("ERR syntax error"), []string{"SHUTDOWN", "ABORT", "NOW"}},
				{errR("ERR syntax error"), []string{"SHUTDOWN", "foo"}},
				{errR("ERR Errors trying to SHUTDOWN. Check logs."), []string{"SHUTDOWN", "SAVE"}},
			} {
				if got := c.do(t, tc.args...); got != tc.want {
					t.Fatalf("%q = %q, want %q", tc.args, got, tc.want)
				}
			}
			if got := other.do(t, "SET", "k", "v"); got != okR {
				t.Fatalf("SET = %q", got)
			}
			// Pipelined after SHUTDOWN, PING is never answered.
			c.send(t, "SHUTDOWN", "NOSAVE")
			c.send(t, "PING")
			c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if b, err := io.ReadAll(c.conn); err != nil || len(b) != 0 {
				t.Fatalf("after SHUTDOWN: read %q, %v; want EOF and nothing", b, err)
			}
			select {
			case err := <-ran:
				if err != nil {
					t.Fatalf("Run = %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run still running 5 s after SHUTDOWN")
			}
			if conn, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
				conn.Close()
				t.Fatal("still accepting after SHUTDOWN")
			}
		})
	}
}

// TestShutdownCommandWithoutRun: a server started with Start (a library
// user's) stops too.
func TestShutdownCommandWithoutRun(t *testing.T) {
	ts := startServer(t, TransportStd, Config{})
	c := ts.raw(t)
	c.send(t, "SHUTDOWN")
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(c.conn); err != nil || len(b) != 0 {
		t.Fatalf("after SHUTDOWN: read %q, %v; want EOF and nothing", b, err)
	}
	select {
	case <-ts.served:
	case <-time.After(5 * time.Second):
		t.Fatal("transport still serving 5 s after SHUTDOWN")
	}
}
