package server

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ringdb/ringdb/transport"
)

// TestCommandCountNeverGoesBack: total_commands_processed (INFO, binary
// STATS) is a counter. While clients run commands and disconnect, a reader
// must never see it smaller than a value it saw before: a closing
// session's commands move from the open sessions to the closed total, and
// a read must see them in exactly one of the two places.
func TestCommandCountNeverGoesBack(t *testing.T) {
	srv := newDirectServer(t, Config{})
	defer churnSessions(t, srv, []string{"PING"})()
	var prev uint64
	for range 200_000 {
		n := srv.commandCount()
		if n < prev {
			t.Fatalf("total_commands_processed went back from %d to %d", prev, n)
		}
		prev = n
	}
}

// churnSessions opens a session on srv, runs cmds in it and closes it,
// over and over in a goroutine, until the returned stop is called (which
// waits for it). One session at a time: a zero transport.Conn has ID 0,
// the session table's key.
func churnSessions(t *testing.T, srv *Server, cmds ...[]string) (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !done.Load() {
			c := &transport.Conn{}
			if err := srv.h.Open(c); err != nil {
				t.Error(err)
				return
			}
			for _, args := range cmds {
				w := transport.NewWriter(nil, transport.ProtoRESP, 2)
				srv.h.Serve(c, &transport.Request{Argv: argvOf(args)}, w)
			}
			srv.h.Close(c)
		}
	}()
	return func() { done.Store(true); wg.Wait() }
}

// TestCommandStatsNeverGoBack: INFO commandstats' and errorstats'
// counters, like total_commands_processed, never go back while sessions
// close and their counts move to the closed totals.
func TestCommandStatsNeverGoBack(t *testing.T) {
	srv := newDirectServer(t, Config{MetricsAddr: "127.0.0.1:0"})
	defer churnSessions(t, srv, []string{"CONFIG", "GET", "maxmemory"}, []string{"CONFIG", "NOPE"}, []string{"GET"})()
	configGet := srv.cmds.slot(srv.cmds.lookup([]byte("config")), configSubs["get"])
	get := srv.cmds.lookup([]byte("get")).idx
	var calls, rejected, errs uint64
	for range 20_000 {
		cs := srv.cmdStatsSinceReset()
		if cs.calls[configGet] < calls || cs.rejected[get] < rejected || cs.errTotal < errs {
			t.Fatalf("went back: config|get calls %d → %d, get rejected %d → %d, error replies %d → %d",
				calls, cs.calls[configGet], rejected, cs.rejected[get], errs, cs.errTotal)
		}
		calls, rejected, errs = cs.calls[configGet], cs.rejected[get], cs.errTotal
	}
	if calls == 0 || rejected == 0 || errs == 0 {
		t.Errorf("nothing counted: config|get calls %d, get rejected %d, error replies %d", calls, rejected, errs)
	}
}
