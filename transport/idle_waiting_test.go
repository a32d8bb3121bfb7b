package transport

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// A connection past its idle timeout whose request already waits in the
// socket, unread because the server was late to it, is not idle: a sweep
// that ran before the loop read it closed a client that had just sent a
// PING (TestSweepClosesManyAtOnce's busy client, on a loaded host). It is
// idle again once the timeout has passed since.
func TestIdleNotWithInputWaiting(t *testing.T) {
	const timeout = time.Second
	cs, tr := newTestState(pingHandler{}, Config{IdleTimeout: timeout})
	cs.process(nil, cmd("PING"))
	now := cs.hub.now() + int64(2*timeout)
	if !cs.idle(now) {
		t.Fatal("a connection silent for twice its timeout is not idle")
	}
	tr.waiting = true
	if cs.idle(now) {
		t.Fatal("a connection whose request waits unread was taken for idle")
	}
	tr.waiting = false
	if cs.idle(now + int64(timeout/2)) {
		t.Fatal("idle again before the timeout passed since its input was seen")
	}
	if !cs.idle(now + int64(timeout) + 1) {
		t.Fatal("not idle once the timeout passed since its input was seen")
	}
}

// socketRecvQueued counts what a peer sent and nobody has read yet.
func TestSocketRecvQueued(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("FIONREAD is read on Linux only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	queued := func() int64 {
		rc, err := s.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var q int64
		_ = rc.Control(func(fd uintptr) { q = socketRecvQueued(fd) })
		return q
	}
	if q := queued(); q != 0 {
		t.Fatalf("%d bytes queued before any was sent", q)
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "6 bytes queued", func() bool { return queued() == 6 })
	if _, err := io.ReadFull(s, make([]byte, 6)); err != nil {
		t.Fatal(err)
	}
	if q := queued(); q != 0 {
		t.Fatalf("%d bytes queued after all were read", q)
	}
}
