package server

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringdb/ringdb/internal/procid"
)

// execGate lets EXEC run its queue with no other command running, so that
// no client sees part of a transaction: every command execution (Serve,
// both protocols) enters the gate shared, EXEC takes it exclusively.
//
// The shared side follows core's epoch reader slots (core/epoch.go): a
// read-mostly flag word, and one padded counter per P. Entering reads the
// flag, increments the counter of the current P, and reads the flag
// again; leaving decrements the same counter. The counters are only a
// hint of locality: a goroutine may move to another P while inside, so
// they are atomic adds, never plain stores, and a counter may be shared.
// Two sequentially consistent operations on a line the core usually owns
// already, and no write to a shared line: a few ns per command.
//
// The exclusive side serialises on mu, sets the flag, and waits until
// every counter is zero. The flag is set only while mu is held, so a
// command that finds it set waits on mu instead of spinning.
//
// Background goroutines (active expiry, eviction, replication senders) do
// not enter the gate: they may run during an EXEC. They never expose a
// partial transaction (they only delete expired or evicted keys).
type execGate struct {
	closed atomic.Uint32 // 1 while an EXEC holds the gate; REQUIRES: mu held to set
	_      [60]byte
	slots  []gateSlot
	mask   uint32
	mu     sync.Mutex // serialises exclusive holders
}

// gateSlot is one P's count of commands inside the gate, alone on its
// cache line (two lines, against the adjacent-line prefetcher).
type gateSlot struct {
	n atomic.Int64
	_ [120]byte
}

func newExecGate() *execGate {
	size := 1
	for size < max(runtime.GOMAXPROCS(0), 8) {
		size <<= 1
	}
	return &execGate{slots: make([]gateSlot, size), mask: uint32(size - 1)}
}

// enter enters the gate shared, waiting while an exclusive holder is in.
// The caller must call exit with the slot returned.
func (g *execGate) enter() *gateSlot {
	for {
		if g.closed.Load() == 0 {
			p := procid.Pin()
			procid.Unpin()
			s := &g.slots[uint32(p)&g.mask]
			s.n.Add(1)
			if g.closed.Load() == 0 {
				return s
			}
			s.n.Add(-1) // an EXEC closed the gate meanwhile: let it drain
		}
		// The flag is set only under mu: this waits for the holder.
		g.mu.Lock()
		g.mu.Unlock() //nolint:staticcheck // an empty critical section is the wait
	}
}

// exit leaves the gate entered with s.
func (g *execGate) exit(s *gateSlot) { s.n.Add(-1) }

// lock takes the gate exclusively for a caller inside it with own (nil
// for a caller outside): it leaves own first, or it would wait for
// itself. It waits for every command inside to leave; commands never
// block inside the gate, so the wait is as long as the longest of them.
func (g *execGate) lock(own *gateSlot) {
	if own != nil {
		g.exit(own)
	}
	g.mu.Lock()
	g.closed.Store(1)
	for i := range g.slots {
		for spins := 0; g.slots[i].n.Load() != 0; spins++ {
			if spins < 64 {
				runtime.Gosched()
			} else {
				time.Sleep(20 * time.Microsecond)
			}
		}
	}
}

// unlock releases the gate taken by lock and, for a caller that was inside
// (had is true), enters it again, returning the new slot (nil otherwise).
func (g *execGate) unlock(had bool) *gateSlot {
	g.closed.Store(0)
	g.mu.Unlock()
	if !had {
		return nil
	}
	return g.enter()
}
