//go:build linux

package benchmarks

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"unsafe"
)

// BenchmarkDependentMisses models a lookup like a Get in BenchmarkCompare:
// a load from a random 8-byte slot of an index of the given size, then a read of two
// adjacent cache lines at an address that depends on it, in a 100 MiB arena
// (1M records of ~100 bytes). Each iteration's index position depends on the
// previous iteration's loads, so nothing overlaps: ns/op is the latency of
// the chain. Comparing index sizes shows what a smaller index would save a
// lookup on this machine:
//
//	go test -run '^$' -bench DependentMisses -benchtime 2s
//
// Both regions are mapped like ringdb's arena (anonymous, MADV_HUGEPAGE).
func BenchmarkDependentMisses(b *testing.B) {
	const arenaSize = 100 << 20
	arena := mapTouched(b, arenaSize)
	for _, idx := range []int{64 << 10, 2 << 20, 5<<20 + 256<<10, 13 << 20} {
		b.Run(fmt.Sprintf("index=%dKiB", idx>>10), func(b *testing.B) {
			index := mapTouched(b, idx)
			slots := uint64(idx / 8)
			var sum uint64
			x := uint64(1)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				x += 1 + sum&1 // depends on the previous iteration's loads
				h := mix64(x)
				p := h % slots * 8
				v := uint64(index[p]) | uint64(index[p+1])<<8
				r := (h>>20 ^ v) % (arenaSize - 128)
				sum += uint64(arena[r]) + uint64(arena[r+64])
			}
			sink = sum
		})
	}
}

var sink uint64

func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}

// mapTouched maps n bytes with a huge-page hint and writes every byte, so
// the timed loop measures cache and TLB misses, not page faults.
func mapTouched(b *testing.B, n int) []byte {
	m, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = syscall.Munmap(m) })
	_ = syscall.Madvise(m, 14) // MADV_HUGEPAGE
	for i := range m {
		m[i] = byte(i * 7)
	}
	return m
}

// BenchmarkOverlappedMisses is BenchmarkDependentMisses at ringdb's index
// size with independent iterations: the next lookup's index position does
// not depend on this one's loads, so an out-of-order core may start the
// next lookup's misses while this one's are outstanding, as it could for
// back-to-back Gets of unrelated keys. work=N adds N steps of arithmetic
// that depend on the record (as a Get's key compare, value copy and
// bookkeeping do) before the next lookup; locked adds the three locked
// instructions of a Get's epoch enter, hit count and exit. It shows how
// much work per lookup the core's window can hide:
//
//	go test -run '^$' -bench OverlappedMisses -benchtime 1s -cpu 1
func BenchmarkOverlappedMisses(b *testing.B) {
	const arenaSize, idx = 100 << 20, 13 << 20
	arena := mapTouched(b, arenaSize)
	index := mapTouched(b, idx)
	slots := uint64(idx / 8)
	run := func(b *testing.B, work int, locked bool) {
		var acc uint64
		var slot struct{ epoch, hits atomic.Uint64 }
		for i := 0; i < b.N; i++ {
			if locked {
				slot.epoch.CompareAndSwap(0, 1)
			}
			h := mix64(uint64(i))
			p := h % slots * 8
			v := uint64(index[p]) | uint64(index[p+1])<<8
			r := (h>>20 ^ v) % (arenaSize - 128)
			d := uint64(arena[r]) + uint64(arena[r+64])
			for j := 0; j < work; j++ {
				d = d ^ d>>3 + uint64(j)
			}
			acc += d
			if locked {
				slot.hits.Add(1)
				slot.epoch.Store(0)
			}
		}
		sink = acc
	}
	for _, work := range []int{0, 20, 50, 100} {
		b.Run(fmt.Sprintf("work=%d", work), func(b *testing.B) { run(b, work, false) })
	}
	b.Run("work=0/locked", func(b *testing.B) { run(b, 0, true) })
}

// BenchmarkPageSizeChase follows a random cycle through 256 MiB mapped
// with huge pages or with 4 KiB pages only: the latency of one miss with
// and without TLB misses on top.
//
//	go test -run '^$' -bench PageSizeChase -benchtime 20000000x -cpu 1
func BenchmarkPageSizeChase(b *testing.B) {
	for _, huge := range []bool{true, false} {
		b.Run(fmt.Sprintf("huge=%v", huge), func(b *testing.B) {
			const n = 256 << 20
			m, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = syscall.Munmap(m) })
			advice := 15 // MADV_NOHUGEPAGE
			if huge {
				advice = 14 // MADV_HUGEPAGE
			}
			_ = syscall.Madvise(m, advice)
			// One pointer per 64-byte line, linking the lines in a random
			// cycle (Sattolo's shuffle).
			lines := n / 64
			next := unsafe.Slice((*uint64)(unsafe.Pointer(&m[0])), n/8)
			perm := make([]uint32, lines)
			for i := range perm {
				perm[i] = uint32(i)
			}
			x := uint64(88172645463325252)
			for i := lines - 1; i > 0; i-- {
				x = mix64(x + 1)
				j := int(x % uint64(i))
				perm[i], perm[j] = perm[j], perm[i]
			}
			for i := range perm {
				next[int(perm[i])*8] = uint64(perm[(i+1)%lines]) * 8
			}
			b.ResetTimer()
			p := uint64(0)
			for i := 0; i < b.N; i++ {
				p = next[p]
			}
			sink = p
		})
	}
}
