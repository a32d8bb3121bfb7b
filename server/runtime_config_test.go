package server

import (
	"strings"
	"testing"
)

// TestConfigSetAllOrNothing: as in Redis 7.0, a CONFIG SET of several
// parameters applies all of them or none. The fake transport cannot change
// maxclients or timeout at run time, so a CONFIG SET that also changes one
// of them fails, and must leave maxmemory, the policy and the password as
// they were.
func TestConfigSetAllOrNothing(t *testing.T) {
	srv := newDirectServer(t, Config{MaxMemory: 1 << 30})
	c := newDirectClient(t, srv)
	for _, args := range [][]string{
		{"maxmemory", "100mb", "maxclients", "50"},
		{"maxmemory-policy", "allkeys-lru", "timeout", "5"},
		{"requirepass", "s3cret", "maxclients", "50"},
		{"maxmemory", "100mb", "maxmemory-policy", "volatile-lru", "requirepass", "s3cret", "timeout", "5"},
	} {
		got := c.do(t, append([]string{"CONFIG", "SET"}, args...)...)
		if !strings.HasPrefix(got, "-ERR CONFIG SET failed (possibly related to argument '") {
			t.Fatalf("CONFIG SET %q = %q, want an error", args, got)
		}
		for _, want := range [][2]string{{"maxmemory", "1073741824"}, {"maxmemory-policy", "noeviction"}, {"requirepass", ""}, {"maxclients", "10000"}, {"timeout", "0"}} {
			if got := c.do(t, "CONFIG", "GET", want[0]); got != bulksR(want[0], want[1]) {
				t.Errorf("after the failed CONFIG SET %q: CONFIG GET %s = %q, want %q", args, want[0], got, want[1])
			}
		}
		if got := newDirectClient(t, srv).do(t, "GET", "k"); got != nullR {
			t.Errorf("after the failed CONFIG SET %q: a new client's GET = %q, want no password asked", args, got)
		}
		if got := srv.Keyspace().Stats().MaxBytes; got != 1<<30 {
			t.Errorf("after the failed CONFIG SET %q: keyspace bound = %d", args, got)
		}
	}
}
