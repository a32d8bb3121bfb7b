package server

import (
	"strings"
	"testing"
)

// Differences from redis-server 7.0.15 found in review, each checked
// against it by hand.

// TestHelloAuthenticatesAsItReadsOptions: Redis 7.0's HELLO authenticates
// at the AUTH option, while it reads the options: a wrong password stops
// there (before a later SETNAME is checked, and before a later AUTH could
// succeed), and a good one holds even when a later option is refused.
func TestHelloAuthenticatesAsItReadsOptions(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{AuthToken: "pw"}))
	wrongPass := errR("WRONGPASS " + msgWrongPass)
	c.expect(t, wrongPass, "HELLO", "3", "AUTH", "default", "bad", "SETNAME", "a b")
	c.expect(t, wrongPass, "HELLO", "3", "AUTH", "default", "bad", "AUTH", "default", "pw")
	// A SETNAME before the AUTH is checked first.
	c.expect(t, errR("ERR "+msgBadClientName), "HELLO", "3", "SETNAME", "a b", "AUTH", "default", "bad")
	c.expect(t, errR("NOAUTH "+msgNoAuth), "GET", "k")

	// Authenticated by the AUTH option, although the name is refused.
	c.expect(t, errR("ERR "+msgBadClientName), "HELLO", "3", "AUTH", "default", "pw", "SETNAME", "a b")
	c.expect(t, nullR, "GET", "k") // and still in RESP2

	c2 := newDirectClient(t, newDirectServer(t, Config{AuthToken: "pw"}))
	c2.expect(t, errR("ERR Syntax error in HELLO option 'bogus'"), "HELLO", "2", "AUTH", "default", "pw", "bogus")
	c2.expect(t, nullR, "GET", "k")
	// A later wrong AUTH fails the command but does not undo the first.
	c2.expect(t, wrongPass, "HELLO", "2", "AUTH", "default", "pw", "AUTH", "default", "bad")
	if got := c2.do(t, "HELLO", "2", "AUTH", "default", "pw"); !strings.HasPrefix(got, "*14\r\n") {
		t.Errorf("HELLO 2 AUTH default pw = %q", got)
	}
}
