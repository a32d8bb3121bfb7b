package server

import (
	"strings"
	"testing"
)

// TestResetCommand: RESET as redis-server 7.0.15 answered the same
// sequence: it discards MULTI (acting at once inside it) and the watched
// keys, returns to RESP2, clears the client name, and answers +RESET
// (every expected reply recorded from Redis, HELLO's id and version
// aside).
func TestResetCommand(t *testing.T) {
	s := newDirectServer(t, Config{})
	c := newDirectClient(t, s)
	sess := c.conn.Session().(*session)
	c.do(t, "HELLO", "3", "SETNAME", "nm")
	if c.conn.RESPVersion() != 3 {
		t.Fatal("HELLO 3 did not switch to RESP3")
	}
	c.expect(t, okR, "WATCH", "w")
	c.expect(t, okR, "MULTI")
	c.expect(t, simpleR("QUEUED"), "SET", "a", "1")
	c.expect(t, simpleR("RESET"), "RESET")
	c.expect(t, errR("ERR EXEC without MULTI"), "EXEC")
	c.expect(t, nullR, "CLIENT", "GETNAME") // RESP2's null: no name, and RESP2 again
	c.expect(t, nullR, "GET", "a")          // the queued SET never ran
	if c.conn.RESPVersion() != 2 || sess.resp.Load() != 2 {
		t.Errorf("RESP version after RESET: conn %d, session %d, want 2", c.conn.RESPVersion(), sess.resp.Load())
	}
	if info := sess.info(0); !strings.Contains(info, " name= ") || !strings.Contains(info, " multi=-1 ") || !strings.Contains(info, " resp=2 ") {
		t.Errorf("CLIENT INFO after RESET = %q", info)
	}
	c.expect(t, errR("ERR wrong number of arguments for 'reset' command"), "RESET", "x")
	c.expect(t, okR, "MULTI")
	c.expect(t, simpleR("RESET"), "RESET")
	c.expect(t, errR("ERR DISCARD without MULTI"), "DISCARD")

	// The watched keys went with it: a change to w no longer aborts a
	// transaction.
	c.expect(t, okR, "WATCH", "w")
	c.expect(t, simpleR("RESET"), "RESET")
	c.expect(t, okR, "SET", "w", "changed")
	c.expect(t, okR, "MULTI")
	c.expect(t, arrR(), "EXEC")
}

// TestResetDeauthenticates: with a password set, RESET (allowed before
// AUTH, as in Redis) leaves the connection unauthenticated, held to the
// pre-authentication limits again; without one it stays authenticated.
func TestResetDeauthenticates(t *testing.T) {
	s := newDirectServer(t, Config{AuthToken: "pw"})
	c := newDirectClient(t, s)
	sess := c.conn.Session().(*session)
	noAuth := errR("NOAUTH " + msgNoAuth)
	c.expect(t, simpleR("RESET"), "RESET")
	c.expect(t, noAuth, "GET", "k")
	c.expect(t, okR, "AUTH", "pw")
	c.expect(t, nullR, "GET", "k")
	if sess.restricting {
		t.Fatal("still held to the pre-authentication limits after AUTH")
	}
	c.expect(t, simpleR("RESET"), "RESET")
	if !sess.restricting {
		t.Error("RESET did not restore the pre-authentication limits")
	}
	c.expect(t, noAuth, "GET", "k")
	c.expect(t, okR, "AUTH", "pw")
	c.expect(t, okR, "CONFIG", "SET", "requirepass", "")
	c.expect(t, simpleR("RESET"), "RESET")
	c.expect(t, nullR, "GET", "k")
}
