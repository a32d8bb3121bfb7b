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

// TestCommandInfoDescribesSubcommands: COMMAND INFO takes a subcommand's
// full name ("client|id", in any case) and describes it, as Redis 7.0
// does, and a container's description lists its subcommands; a name that
// is no subcommand is null.
func TestCommandInfoDescribesSubcommands(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	clientID := arrR(bulkR("client|id"), intR(2), arrR(simpleR("noscript"), simpleR("loading"), simpleR("stale")), intR(0), intR(0), intR(0),
		arrR(simpleR("@slow"), simpleR("@connection")), arrR(), arrR(), arrR())
	c.expect(t, arrR(clientID), "COMMAND", "INFO", "client|id")
	c.expect(t, arrR(clientID, "$-1\r\n"), "COMMAND", "INFO", "CLIENT|ID", "client|nosuch")
	for _, name := range []string{"client|id|x", "get|x", "client|", "|id", "nosuch|id"} {
		c.expect(t, arrR("$-1\r\n"), "COMMAND", "INFO", name)
	}
	if got := c.do(t, "COMMAND", "INFO", "config|set"); !strings.HasPrefix(got, "*1\r\n*10\r\n$10\r\nconfig|set\r\n:-4\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n") {
		t.Errorf("COMMAND INFO config|set = %q", got)
	}
	// The container lists its subcommands, each described in full.
	got := c.do(t, "COMMAND", "INFO", "client")
	v, err := parseValue(got)
	if err != nil {
		t.Fatal(err)
	}
	info := v.([]any)[0].([]any)
	subs := info[9].([]any)
	if len(subs) != len(clientSubs) {
		t.Fatalf("COMMAND INFO client lists %d subcommands, want %d: %q", len(subs), len(clientSubs), got)
	}
	if !strings.Contains(got, clientID) {
		t.Errorf("COMMAND INFO client = %q, want it to hold %q", got, clientID)
	}
	// Commands that are no containers keep an empty list.
	if got := c.do(t, "COMMAND", "INFO", "get"); !strings.HasSuffix(got, "*0\r\n"+arrR(keySpecR(1, 0, 1, "RO", "access"))+"*0\r\n") {
		t.Errorf("COMMAND INFO get = %q", got)
	}
}

// TestCommandListSubcommandsAndFilters: COMMAND LIST names the
// subcommands too ("client|id"), as Redis 7.0 does, and takes its ACLCAT
// and MODULE filters besides PATTERN.
func TestCommandListSubcommandsAndFilters(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	c.expect(t, bulksR("client|id"), "COMMAND", "LIST", "FILTERBY", "PATTERN", "*|id")
	c.expect(t, bulksR("config", "config|get", "config|help", "config|resetstat", "config|rewrite", "config|set"),
		"COMMAND", "LIST", "FILTERBY", "PATTERN", "CONFIG*")
	if got := c.do(t, "COMMAND", "LIST"); !strings.Contains(got, bulkR("client")+bulkR("client|getname")) {
		t.Errorf("COMMAND LIST = %q, want client's subcommands after it", got)
	}
	// As redis-server 7.0.15: the admin subcommands, not their
	// containers nor their HELP.
	c.expect(t, bulksR("client|kill", "client|list", "client|no-evict", "client|pause", "client|unpause",
		"config|get", "config|resetstat", "config|rewrite", "config|set",
		"latency|doctor", "latency|graph", "latency|histogram", "latency|history", "latency|latest", "latency|reset",
		"slowlog|get", "slowlog|len", "slowlog|reset", "shutdown", "monitor", "role", "lastsave"),
		"COMMAND", "LIST", "FILTERBY", "ACLCAT", "Admin")
	c.expect(t, arrR(), "COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch")
	c.expect(t, arrR(), "COMMAND", "LIST", "FILTERBY", "ACLCAT", "@admin")
	c.expect(t, arrR(), "COMMAND", "LIST", "FILTERBY", "MODULE", "x")
	if got := c.do(t, "COMMAND", "LIST", "FILTERBY", "ACLCAT", "string"); !strings.HasPrefix(got, "*21\r\n"+bulkR("get")) {
		t.Errorf("COMMAND LIST FILTERBY ACLCAT string = %q", got)
	}
	c.expect(t, errR("ERR syntax error"), "COMMAND", "LIST", "FILTERBY", "BOGUS", "x")
	c.expect(t, errR("ERR syntax error"), "COMMAND", "LIST", "FILTERBY", "PATTERN")
}

// TestClientReplyUnknownMode: CLIENT REPLY with a mode other than ON, OFF
// or SKIP is a syntax error in Redis 7.0 (OFF and SKIP, which answer
// nothing: TestClientReplyAgainstRedis).
func TestClientReplyUnknownMode(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	c.expect(t, errR("ERR syntax error"), "CLIENT", "REPLY", "maybe")
	c.expect(t, okR, "CLIENT", "REPLY", "on")
}

// TestHelloSetsNameAsItReadsOptions: Redis 7.0's HELLO names the client
// at the SETNAME option, so the name holds when a later option is refused
// or the command ends in NOAUTH.
func TestHelloSetsNameAsItReadsOptions(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	c.expect(t, errR("ERR Syntax error in HELLO option 'bogus'"), "HELLO", "2", "SETNAME", "n1", "bogus")
	c.expect(t, bulkR("n1"), "CLIENT", "GETNAME")
	c.expect(t, errR("WRONGPASS "+msgWrongPass), "HELLO", "2", "SETNAME", "n2", "AUTH", "nobody", "pw")
	c.expect(t, bulkR("n2"), "CLIENT", "GETNAME")
	c.expect(t, errR("ERR "+msgBadClientName), "HELLO", "2", "SETNAME", "n3", "SETNAME", "a b")
	c.expect(t, bulkR("n3"), "CLIENT", "GETNAME")
	// The version is checked before any option.
	c.expect(t, errR("NOPROTO unsupported protocol version"), "HELLO", "1", "SETNAME", "n4")
	c.expect(t, bulkR("n3"), "CLIENT", "GETNAME")

	c = newDirectClient(t, newDirectServer(t, Config{AuthToken: "pw"}))
	if got := c.do(t, "HELLO", "3", "SETNAME", "early"); !strings.HasPrefix(got, "-NOAUTH HELLO must be called") {
		t.Errorf("HELLO 3 SETNAME early without AUTH = %q", got)
	}
	c.expect(t, okR, "AUTH", "pw")
	c.expect(t, bulkR("early"), "CLIENT", "GETNAME")
}
