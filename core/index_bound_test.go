package core

import (
	"fmt"
	"testing"
)

// TestLoweredMaxMemoryShrinksIndex: the index counts against the bound,
// so evicting keys must also give back the index they needed. With small
// values the index is a large part of what the keyspace holds; lowering
// MaxMemory well below it (CONFIG SET maxmemory) evicted every key and
// left the index at its old size, over the new bound, so that every later
// write failed with ErrOOM under AllKeys, with nothing left to evict.
func TestLoweredMaxMemoryShrinksIndex(t *testing.T) {
	k, err := New(Options{NoActiveExpiry: true, MaxMemory: 64 << 20, Eviction: AllKeys})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	const n = 100000
	for i := range n {
		if err := k.Set(fmt.Appendf(nil, "k%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	used := k.Stats().UsedBytes
	bound := used / 6
	if err := k.SetMaxMemory(bound); err != nil {
		t.Fatal(err)
	}
	k.Settle()
	st := k.Stats()
	t.Logf("used %d -> %d bytes (bound %d), %d keys left, %d evicted", used, st.UsedBytes, bound, st.Keys, st.Evicted)
	if st.UsedBytes > bound {
		t.Errorf("still %d bytes once settled, over the new bound %d", st.UsedBytes, bound)
	}
	ooms := 0
	for i := range 1000 {
		if err := k.Set(fmt.Appendf(nil, "new%d", i), []byte("v")); err != nil {
			ooms++
		}
	}
	if ooms > 0 {
		t.Errorf("%d of 1000 writes failed (ErrOOM) under AllKeys after the bound was lowered", ooms)
	}
	if st := k.Stats(); st.UsedBytes > bound || st.Keys < n/6/4 {
		t.Errorf("after the writes: %d bytes (bound %d), %d keys: a sixth of the memory should hold more than %d", st.UsedBytes, bound, st.Keys, n/6/4)
	}
}
