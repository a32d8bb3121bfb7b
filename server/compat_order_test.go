package server

import (
	"regexp"
	"strconv"
	"testing"
)

// Each test encodes a reply of Redis 7.0.15 (checked with redis-cli / raw
// RESP against a real redis-server on the same inputs) that ringdb once
// answered differently.

// TestSubcommandErrorsBeforeAuth: Redis 7.0 resolves subcommands in
// its command table, so an unknown subcommand or a subcommand with the
// wrong number of arguments is answered before the authentication check,
// like an unknown command or a wrong arity (which ringdb already does).
// ringdb answered NOAUTH.
func TestSubcommandErrorsBeforeAuth(t *testing.T) {
	srv := newDirectServer(t, Config{AuthToken: "s3cret"})
	c := newDirectClient(t, srv)
	runSteps(t, c, []step{
		s(errR("ERR unknown subcommand 'foo'. Try CLIENT HELP."), "CLIENT", "foo"),
		s(errR("ERR unknown subcommand 'foo'. Try COMMAND HELP."), "COMMAND", "foo"),
		s(arity("client|getname"), "CLIENT", "GETNAME", "x"),
		s(arity("config|get"), "CONFIG", "GET"),
		s(errR("NOAUTH "+msgNoAuth), "CLIENT", "ID"), // a valid one still needs AUTH
		s(errR("NOAUTH "+msgNoAuth), "CONFIG", "GET", "maxmemory"),
	}, false)
}

// TestClientListIDOrder: Redis 7.0 answers CLIENT LIST ID id ... with
// one line per id argument, in argument order (a repeated id is listed
// again). ringdb listed the matching clients once each, by id.
func TestClientListIDOrder(t *testing.T) {
	ts := startServer(t, TransportStd, Config{})
	a, b := ts.raw(t), ts.raw(t)
	ida := a.do(t, "CLIENT", "ID")
	idb := b.do(t, "CLIENT", "ID")
	ida, idb = ida[1:len(ida)-2], idb[1:len(idb)-2]
	got := a.do(t, "CLIENT", "LIST", "ID", idb, ida, idb)
	var ids []string
	for _, m := range regexp.MustCompile(`(?m)^id=(\d+) `).FindAllStringSubmatch(got, -1) {
		ids = append(ids, m[1])
	}
	want := []string{idb, ida, idb}
	if strconv.Quote(joinIDs(ids)) != strconv.Quote(joinIDs(want)) {
		t.Fatalf("CLIENT LIST ID %s %s %s listed ids %v, Redis lists %v", idb, ida, idb, ids, want)
	}
}

func joinIDs(ids []string) string {
	out := ""
	for _, id := range ids {
		out += id + ","
	}
	return out
}
