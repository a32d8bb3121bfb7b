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
	var stop atomic.Bool
	var wg sync.WaitGroup
	// One client at a time: a zero transport.Conn has ID 0, the session
	// table's key.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			c := &transport.Conn{}
			if err := srv.h.Open(c); err != nil {
				t.Error(err)
				return
			}
			w := transport.NewWriter(nil, transport.ProtoRESP, 2)
			srv.h.Serve(c, &transport.Request{Argv: argvOf([]string{"PING"})}, w)
			srv.h.Close(c)
		}
	}()
	var prev uint64
	for range 200_000 {
		n := srv.commandCount()
		if n < prev {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("total_commands_processed went back from %d to %d", prev, n)
		}
		prev = n
	}
	stop.Store(true)
	wg.Wait()
}
