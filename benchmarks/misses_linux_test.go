//go:build linux

package benchmarks

import (
	"fmt"
	"syscall"
	"testing"
)

// BenchmarkDependentMisses models a lookup like a Get in BenchmarkCompare:
// one random 8-byte load from an index of the given size, then a read of two
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
