package transport

import (
	"fmt"
	"io"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestRegistryList: the hub's registry (a list through the connections)
// holds exactly the connections registered and not yet unregistered,
// whichever end or middle they leave from; unregistering twice, or a
// connection never registered, changes nothing.
func TestRegistryList(t *testing.T) {
	h := newHub(Config{})
	cs := make([]*connState, 5)
	for i := range cs {
		cs[i] = new(connState)
		h.register(cs[i])
	}
	require.Equal(t, 5, h.count())
	require.ElementsMatch(t, cs, h.snapshot())

	h.unregister(cs[2]) // middle
	h.unregister(cs[4]) // the last registered: the list's head
	h.unregister(cs[0]) // the first registered: the list's tail
	h.unregister(cs[0])
	h.unregister(new(connState))
	require.Equal(t, 2, h.count())
	require.ElementsMatch(t, []*connState{cs[1], cs[3]}, h.snapshot())

	h.register(cs[2])
	h.unregister(cs[1])
	h.unregister(cs[3])
	require.Equal(t, []*connState{cs[2]}, h.snapshot())
	h.unregister(cs[2])
	require.Zero(t, h.count())
	require.Empty(t, h.snapshot())
}

// TestSweepClosesManyAtOnce: one sweep closing many idle connections of
// a loop (each close takes it out of the list being walked) closes every
// one of them, and spares the one that is busy. (The busy one pings every
// 50 ms; with a 300 ms timeout a loaded host once stalled it past that,
// and it was closed as idle too.)
func TestSweepClosesManyAtOnce(t *testing.T) {
	t.Parallel()
	e := startEnv(t, "gnet", Config{Loops: 1, IdleTimeout: time.Second})
	idle := make([]*client, 40)
	for i := range idle {
		idle[i] = e.conn(t)
		idle[i].write(t, cmd("PING"))
		idle[i].expect(t, "PONG")
	}
	busy := e.conn(t)
	done := make(chan error, 1)
	go func() {
		for i, c := range idle {
			_, err := io.Copy(io.Discard, c.br) // nil at EOF
			if err != nil {
				done <- fmt.Errorf("idle connection %d: %w", i, err)
				return
			}
		}
		done <- nil
	}()
	for {
		busy.write(t, cmd("PING"))
		busy.expect(t, "PONG")
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			busy.write(t, cmd("PING"))
			busy.expect(t, "PONG")
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestGnetConnFootprint: an idle gnet connection's own state stays within
// the 512-byte size class (with no allocation header: objects over 512
// bytes that hold pointers get one). Past it, every connection takes the
// 640-byte class: 128 bytes more per idle client, where RSS per idle
// connection is held to Redis's (BENCHMARKS.md, "idle connections").
func TestGnetConnFootprint(t *testing.T) {
	if n := unsafe.Sizeof(gnetConn{}); n > 512 {
		t.Fatalf("gnetConn is %d bytes, over the 512-byte size class", n)
	}
}
