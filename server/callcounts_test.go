package server

import (
	"testing"
	"unsafe"
)

// callCounts counts a session's first six commands in one small block,
// the next 24 in a second, and only then a counter per stat slot, and
// each reports every call once.
func TestCallCountsFewThenAll(t *testing.T) {
	const slots = 140
	var cc callCounts
	want := make([]uint64, slots)
	add := func(i int, times int) {
		for range times {
			cc.add(i, slots)
			want[i]++
		}
	}
	got := func() []uint64 {
		g := make([]uint64, slots)
		cc.each(func(i int, n uint64) { g[i] += n })
		return g
	}
	check := func(what string) {
		t.Helper()
		g := got()
		for i := range want {
			if g[i] != want[i] {
				t.Fatalf("%s: slot %d counted %d, want %d", what, i, g[i], want[i])
			}
		}
	}
	for i, s := range []int{0, 7, 139, 7, 3, 50, 51} {
		add(s, i+1)
	}
	check("six distinct slots")
	if cc.all.Load() != nil {
		t.Fatal("a counter per slot for six distinct commands")
	}
	if size := unsafe.Sizeof(cc); size > 64 {
		t.Fatalf("callCounts takes %d bytes, want at most 64", size)
	}
	add(99, 3) // the seventh
	add(0, 2)  // one of the six, still in few
	check("a seventh slot")
	if cc.more.Load() == nil || cc.all.Load() != nil {
		t.Fatal("the seventh distinct command was not counted in more")
	}
	// more takes 23 more distinct slots (99's is the first of its 24),
	// whatever their probe order.
	for s := 100; s < 99+len(cc.more.Load().w); s++ {
		add(s, 1)
	}
	check("thirty distinct slots")
	if cc.all.Load() != nil {
		t.Fatal("a counter per slot for thirty distinct commands")
	}
	add(1, 4) // the thirty-first
	add(7, 1)
	check("a thirty-first slot")
	if cc.all.Load() == nil {
		t.Fatal("the thirty-first distinct command was not counted per slot")
	}
	// A word at the most its count holds goes on in all (or in a
	// further word of more).
	cc.few[1].Store(uint64(7+1)<<callCountBits | callCountMax)
	want[7] = callCountMax
	add(7, 5)
	check("a full word")
}
