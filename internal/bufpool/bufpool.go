// Package bufpool shares large scratch buffers across connections: the
// protocol decoders' split commands and frames, the reply output that grows
// past 64 KiB, and large values the keyspace reads for a reply. Each was
// allocated afresh and dropped per command, which cost the server a page
// fault per 4 KiB as the Go heap gave memory back and took it again, plus
// collections (a SET load of 300 KB values spent as much CPU there as in
// the keyspace; pipelined GETs of them more than in anything else).
// Buffers are pooled by power-of-two capacity through sync.Pool, so the
// garbage collector still frees those nobody asks for.
package bufpool

import (
	"math/bits"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Min is the smallest capacity the pool deals in; Put drops smaller
// buffers and Get rounds smaller requests up to it.
const Min = 4 << 10

// Max is the largest capacity the pool keeps. A bigger request gets a
// buffer of exactly its size, which Put leaves to the garbage collector:
// rounding a 100 MB value up to 128 MiB and keeping it until two
// collections have passed would hold far more than it saves.
const Max = 16 << 20

var pools [64]sync.Pool

// Get returns an empty buffer with a capacity of at least n: the next power
// of two, and at least Min; over Max, exactly n.
func Get(n int) []byte {
	if n > Max {
		return make([]byte, 0, n)
	}
	k := bits.Len(uint(max(n, Min) - 1))
	if p, _ := pools[k].Get().(*[]byte); p != nil {
		return (*p)[:0]
	}
	return make([]byte, 0, 1<<k)
}

// Put gives b to the pool for a later Get. The caller must hold no other
// reference to it. A big buffer (GrowTo) has its memory returned to the
// kernel and is kept for the next; other buffers whose capacity is not a
// power of two from Min to Max (not from Get) are left to the garbage
// collector.
func Put(b []byte) {
	c := cap(b)
	if c > Max {
		if !putBig(b) {
			giveBackSoon()
		}
		return
	}
	if c < Min || c&(c-1) != 0 {
		return
	}
	b = b[:0]
	pools[bits.Len(uint(c))-1].Put(&b)
}

// Grow returns b with extra appended, moving to a pooled buffer (and giving
// b back) when b lacks the room: the new capacity is at least twice b's and
// at least atLeast. Callers use it for scratch they expect to grow large.
func Grow(b []byte, extra []byte, atLeast int) []byte {
	n := len(b) + len(extra)
	if n <= cap(b) {
		return append(b, extra...)
	}
	nb := Get(max(n, 2*cap(b), atLeast))
	nb = append(append(nb, b...), extra...)
	Put(b)
	return nb
}

// giveBackDelay is how long after a buffer over Max is dropped the memory
// the collector frees is given back to the kernel; giveBackEvery is the
// least time between two such returns.
const (
	giveBackDelay = 100 * time.Millisecond
	giveBackEvery = time.Second
)

// givingBack is set while a return is scheduled or within giveBackEvery
// of the last one; giveBackAgain, when a buffer was dropped meanwhile.
var givingBack, giveBackAgain atomic.Bool

// giveBack returns freed memory to the kernel (debug.FreeOSMemory); tests
// replace it.
var giveBack atomic.Pointer[func()]

func init() {
	f := debug.FreeOSMemory
	giveBack.Store(&f)
}

// afterFunc runs f after d on a goroutine of its own (time.AfterFunc);
// sawBusy, when set, runs after a drop found a return scheduled or its
// window open. Tests set them, while no return is scheduled, to run the
// returns and windows themselves.
var (
	afterFunc = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	sawBusy   func()
)

// giveBackSoon has the memory of a dropped buffer over Max given back to
// the kernel soon, by a collection that returns what it frees
// (debug.FreeOSMemory) on a goroutine of its own, at most once a
// giveBackEvery (a drop within it is given back at its end). The
// runtime's scavenger otherwise returns freed heap at its own slow pace:
// one SET of a 100 MB value (gathered in a buffer that doubled up to 128
// MiB) left the server's RSS at 3x the value for many seconds, where
// Redis's is the value's. The keyspace is off the Go heap, so such a
// collection is short.
func giveBackSoon() {
	// The drop is flagged before the look: one that found the window open
	// and flagged itself after, as that window ended and found no flag,
	// was never given back. A drop that schedules a return clears the
	// flag, its own and those of drops the return covers.
	giveBackAgain.Store(true)
	if !givingBack.CompareAndSwap(false, true) {
		if sawBusy != nil {
			sawBusy()
		}
		return
	}
	giveBackAgain.Store(false)
	afterFunc(giveBackDelay, func() {
		(*giveBack.Load())()
		afterFunc(giveBackEvery, func() {
			givingBack.Store(false)
			if giveBackAgain.Swap(false) {
				giveBackSoon()
			}
		})
	})
}
