package server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// waitMuted waits until the session id's monitor feed is muted (CLIENT
// REPLY OFF, or a SKIP in effect) or not, as want says: a muted client
// sends no reply to say it is.
func waitMuted(t *testing.T, s *Server, id uint64, want bool) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("session %d muted %v", id, want), func() bool {
		s.sessMu.Lock()
		sess := s.sessionByIDLocked(id)
		s.sessMu.Unlock()
		return sess != nil && sess.muted.Load() == want
	})
}

// TestMonitorClientReplyOff: a monitor whose replies are off gets no
// feed, as in Redis 7.0, whose addReply drops everything for a client
// with CLIENT_REPLY_OFF or CLIENT_REPLY_SKIP, monitor lines included
// (checked against redis-server 7.0.15): not the line of its own CLIENT
// REPLY OFF, not the commands others run until CLIENT REPLY ON, whose
// +OK and own line come next and after which the feed goes on. A SKIP's
// own line is shown; from then on the feed is dropped until the next
// command of the monitor has run, that command's line included. ringdb
// streamed the feed whatever CLIENT REPLY said.
func TestMonitorClientReplyOff(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		m := ts.raw(t)
		idReply := m.do(t, "CLIENT", "ID")
		id, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(idReply, ":"), "\r\n"), 10, 64)
		if err != nil {
			t.Fatalf("CLIENT ID = %q", idReply)
		}
		if got := m.do(t, "MONITOR"); got != okR {
			t.Fatalf("MONITOR = %q", got)
		}
		o := ts.raw(t)
		addr := clientAddr(o)

		m.send(t, "CLIENT", "REPLY", "OFF")
		waitMuted(t, ts.Server, id, true)
		// The feed is pushed as the command runs, before its reply: once
		// o has its reply, the monitor has been fed the line, or not.
		if got := o.do(t, "SET", "a", "1"); got != okR {
			t.Fatalf("SET a = %q", got)
		}
		m.send(t, "CLIENT", "REPLY", "ON")
		if got := m.read(t); got != okR {
			t.Fatalf("CLIENT REPLY ON = %q, want +OK (the feed before it dropped)", got)
		}
		if got := monitorArgs(t, m, ""); got != `"CLIENT" "REPLY" "ON"` {
			t.Fatalf("monitor line after CLIENT REPLY ON: %s", got)
		}
		o.do(t, "SET", "b", "2")
		if got := monitorArgs(t, m, addr); got != `"SET" "b" "2"` {
			t.Fatalf("monitor line after replies on again: %s", got)
		}

		m.send(t, "CLIENT", "REPLY", "SKIP")
		if got := monitorArgs(t, m, ""); got != `"CLIENT" "REPLY" "SKIP"` {
			t.Fatalf("monitor line of its own SKIP: %s", got)
		}
		waitMuted(t, ts.Server, id, true)
		o.do(t, "SET", "c", "3") // dropped: the SKIP is in effect
		m.send(t, "PING")        // its reply and its line dropped
		waitMuted(t, ts.Server, id, false)
		o.do(t, "SET", "d", "4")
		if got := monitorArgs(t, m, addr); got != `"SET" "d" "4"` {
			t.Fatalf("monitor line after the skipped PING: %s, want SET d", got)
		}
	})
}
