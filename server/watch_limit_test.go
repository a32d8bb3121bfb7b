package server

import (
	"strings"
	"testing"
)

// TestWatchMSetRefusedByLimit: an MSET refused for a key or a value over
// its limit writes nothing, so, as any command that changes nothing, it
// must not abort a transaction watching one of its keys; neither does
// MSETNX. One that wrote does.
func TestWatchMSetRefusedByLimit(t *testing.T) {
	srv := newDirectServer(t, Config{MaxKeySize: 16, MaxValueSize: 16})
	a, b := newDirectClient(t, srv), newDirectClient(t, srv)
	long := strings.Repeat("x", 17)
	for _, tc := range []struct {
		name  string
		write []string
		abort bool
	}{
		{"MSET with a key over the limit", []string{"MSET", "k", "2", long, "v"}, false},
		{"MSET with a value over the limit", []string{"MSET", "k", "2", "o", long}, false},
		{"MSETNX with a key over the limit", []string{"MSETNX", "k", "2", long, "v"}, false},
		{"MSET within the limits", []string{"MSET", "k", "2", "o", "v"}, true},
	} {
		if got := b.do(t, "SET", "k", "1"); got != okR {
			t.Fatalf("%s: SET: %q", tc.name, got)
		}
		if got := a.do(t, "WATCH", "k"); got != okR {
			t.Fatalf("%s: WATCH: %q", tc.name, got)
		}
		reply := b.do(t, tc.write...)
		if tc.abort != (reply == okR) {
			t.Fatalf("%s: %q", tc.name, reply)
		}
		if got := b.do(t, "GET", "k"); !tc.abort && got != bulkR("1") {
			t.Fatalf("%s: refused with %q, yet k is now %q", tc.name, reply, got)
		}
		a.do(t, "MULTI")
		a.do(t, "PING")
		want := arrR(simpleR("PONG"))
		if tc.abort {
			want = "*-1\r\n"
		}
		if got := a.do(t, "EXEC"); got != want {
			t.Errorf("%s (answered %q): EXEC = %q, want %q", tc.name, reply, got, want)
		}
	}
}
