package core

import (
	"math"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/ringdb/ringdb/internal/procid"
)

// Epoch-based reclamation protects arena pages from reuse while a lock-free
// reader may still hold an address into them (as in FASTER / Tsavorite).
//
// A reader announces the current global epoch in a slot before it loads any
// index entry, and clears the slot when it has finished reading. A writer
// that unlinks a page stamps it with the epoch it bumped past; the page may be
// reused only when every announced epoch is newer than that stamp. All
// operations are sync/atomic (sequentially consistent), so the race detector
// sees the happens-before edges that make page reuse safe.
//
// Reader slots also carry the read-path hit and miss counters: the reader has
// just taken the slot's cache line exclusively, so counting there costs no
// extra cache traffic between cores.

type readerSlot struct {
	epoch  atomic.Uint64 // 0 when idle, otherwise the announced epoch
	hits   atomic.Uint64
	misses atomic.Uint64
	_      [40]byte // keep each slot on its own cache line
}

type epochs struct {
	global atomic.Uint64
	_      [56]byte
	slots  []readerSlot
	mask   uint32
}

func newEpochs() *epochs {
	n := runtime.GOMAXPROCS(0) * slotsPerP
	if n < 64 {
		n = 64
	}
	size := 1
	for size < n {
		size <<= 1
	}
	e := &epochs{slots: make([]readerSlot, size), mask: uint32(size - 1)}
	e.global.Store(1)
	return e
}

// slotsPerP is how many reader slots each P starts its search from: a
// reader begins at the first slot of its P's group, so the slots a core
// uses stay in that core's cache instead of moving between cores (with
// random starting slots, every other read paid a cache-line transfer).
const slotsPerP = 32

// enter announces a reader and returns its slot. The caller must call exit.
//
// The P is only a hint for where to start: the reader may move to another
// P right after, so the slot is still claimed with a CAS, and a busy slot
// (its owner was descheduled mid-read, or came from another P) is skipped.
func (e *epochs) enter() *readerSlot {
	cur := e.global.Load()
	p := procid.Pin()
	procid.Unpin()
	i := uint32(p*slotsPerP) & e.mask
	for n := uint32(1); ; n++ {
		s := &e.slots[i]
		if s.epoch.Load() == 0 && s.epoch.CompareAndSwap(0, cur) {
			return s
		}
		i = (i + 1) & e.mask
		if n&e.mask == 0 {
			// Every slot is held: more readers than slots were preempted
			// mid-read. Let them run and leave instead of spinning until
			// this goroutine is preempted in turn.
			runtime.Gosched()
		}
	}
}

// exit clears the slot: the reader holds nothing any more. A release
// store (relstore_amd64.go): a reclaimer that sees the 0 sees it after
// every load the reader made.
func (s *readerSlot) exit() { storeRel64((*uint64)(unsafe.Pointer(&s.epoch)), 0) }

// countHit and countMiss count a read on the slot. Only the reader
// holding the slot writes its counters, so a release store of the
// incremented value is enough; the next holder claims the slot with a
// CAS and sees it.
func (s *readerSlot) countHit()  { storeRel64((*uint64)(unsafe.Pointer(&s.hits)), s.hits.Load()+1) }
func (s *readerSlot) countMiss() { storeRel64((*uint64)(unsafe.Pointer(&s.misses)), s.misses.Load()+1) }

// retireStamp advances the global epoch and returns the stamp for something
// that was just unlinked: readers that announced an epoch <= stamp may still
// hold it.
func (e *epochs) retireStamp() uint64 { return e.global.Add(1) - 1 }

// safe reports whether every reader that could hold something retired with
// stamp has left.
func (e *epochs) safe(stamp uint64) bool { return e.minActive() > stamp }

func (e *epochs) minActive() uint64 {
	m := uint64(math.MaxUint64)
	for i := range e.slots {
		if v := e.slots[i].epoch.Load(); v != 0 && v < m {
			m = v
		}
	}
	return m
}

// waitSafe spins until stamp is safe. Readers never block inside an epoch,
// so the wait is as long as one in-flight read.
func (e *epochs) waitSafe(stamp uint64) {
	for !e.safe(stamp) {
		runtime.Gosched()
	}
}

func (e *epochs) counts() (hits, misses uint64) {
	for i := range e.slots {
		hits += e.slots[i].hits.Load()
		misses += e.slots[i].misses.Load()
	}
	return
}
