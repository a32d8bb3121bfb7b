//go:build linux && !race

package core

import (
	"fmt"
	"runtime"
	"testing"
)

// Large values live outside the Go heap, so that a dropped one is given
// back at once rather than after a collection: on the heap, a SET load of
// 300 KB values at the bound kept RSS at 3.8x maxmemory.
func TestLargeValuesOffHeap(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	val := make([]byte, 1<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 64
	for i := range n {
		if err := ks.Set(fmt.Appendf(nil, "big%d", i), val); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Fatalf("the Go heap grew by %d bytes for %d MiB of large values", grew, n)
	}
	if used := ks.Stats().UsedBytes; used < n<<20 {
		t.Fatalf("UsedBytes %d for %d MiB of large values", used, n)
	}
}
