//go:build linux && !race

package core

import (
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Arena pages live outside the Go heap: the garbage collector never scans or
// paces on them. They are carved from 64 MiB slabs mapped with
// MADV_HUGEPAGE: a random read touches a record, and with 4 KiB pages nearly
// every such read also missed the TLB (on virtual machines a two-level page
// walk), which profiles showed as the largest single cost of Get.
//
// Freed pages go back to the kernel with MADV_DONTNEED and are kept, mapped,
// for reuse by any shard.
//
// Race-detector builds use heap pages instead (mem_heap.go), because the race
// detector only watches Go heap memory; that way the stress tests check the
// epoch protocol on real page reuse.

const slabSize = 64 << 20

var arena struct {
	mu   sync.Mutex
	cur  []byte           // the unused rest of the newest slab
	free map[int][][]byte // freed pages by size
}

func allocPage(size int) []byte {
	arena.mu.Lock()
	defer arena.mu.Unlock()
	if l := arena.free[size]; len(l) > 0 {
		p := l[len(l)-1]
		arena.free[size] = l[:len(l)-1]
		return p
	}
	if len(arena.cur) < size {
		n := slabSize
		if size > n {
			n = size
		}
		b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			return make([]byte, size)
		}
		_ = syscall.Madvise(b, 14) // MADV_HUGEPAGE; a hint, errors are harmless
		arena.cur = b
	}
	p := arena.cur[:size:size]
	arena.cur = arena.cur[size:]
	return p
}

func freePage(b []byte) {
	_ = syscall.Madvise(b, syscall.MADV_DONTNEED) // give the memory back
	arena.mu.Lock()
	defer arena.mu.Unlock()
	if arena.free == nil {
		arena.free = make(map[int][][]byte)
	}
	arena.free[len(b)] = append(arena.free[len(b)], b)
}

// allocLargeBuf returns a buffer of n bytes (a multiple of 4 KiB) for large
// values, mapped on its own so that freeLarge gives its memory back at once.
// On the Go heap a dropped value stayed resident until a collection found
// it, and with values of hundreds of KiB churning the heap grew to twice the
// live data (RSS 3.8x maxmemory in a SET load of 300 KB values at the
// bound). nil means the kernel refused the memory.
func allocLargeBuf(n int) []byte {
	largeBufsMade.Add(1)
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil
	}
	return b
}

// freeLarge unmaps a buffer from allocLargeBuf (its capacity is the
// mapping's length).
func freeLarge(b []byte) {
	_ = syscall.Munmap(b[:cap(b)])
}

// allocSlots returns n index slots. Large tables come from the huge-page
// arena too (a Get's first miss is its index slot); mem is then the memory
// to hand to freePage once no reader can hold the table.
func allocSlots(n int) (slots []atomic.Uint64, mem []byte) {
	size := n * 8
	if size < 64<<10 {
		return make([]atomic.Uint64, n), nil
	}
	size = (size + 64<<10 - 1) &^ (64<<10 - 1) // round for reuse
	mem = allocPage(size)
	if len(mem) == 0 || uintptr(unsafe.Pointer(&mem[0]))%8 != 0 {
		return make([]atomic.Uint64, n), nil
	}
	clear(mem[:n*8])
	return unsafe.Slice((*atomic.Uint64)(unsafe.Pointer(&mem[0])), n), mem
}
