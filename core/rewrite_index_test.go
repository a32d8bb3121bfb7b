package core

import (
	"errors"
	"fmt"
	"testing"
)

// TestRewriteAtIndexLoadLimit: rewriting a key takes no new index slot, so
// it must not need room for a bigger index. put grew the table before
// looking the key up: with the table at its load limit and no room left
// for a bigger one, every write failed with ErrOOM under NoEviction, also
// rewrites of existing keys that fitted in the room their pages had.
func TestRewriteAtIndexLoadLimit(t *testing.T) {
	k, err := New(Options{NoActiveExpiry: true, Shards: 1, PageSize: 64 << 10, Eviction: NoEviction})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	s := &k.shards[0]
	full := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return uint64(s.live+s.tombs+1)*4 > s.table.Load().size*3
	}
	n := 0
	for ; n < 100 || !full(); n++ {
		if err := k.Set(fmt.Appendf(nil, "key:%d", n), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	// Room for the records of the tail page and the reserve page, not for
	// a bigger table.
	if err := k.SetMaxMemory(k.UsedBytes() + 64<<10); err != nil {
		t.Fatal(err)
	}
	if err := k.Set([]byte("new key"), []byte("v")); !errors.Is(err, ErrOOM) {
		t.Fatalf("a new key with the table full and no room to grow it: %v", err)
	}
	for i := range 10 {
		if err := k.Set(fmt.Appendf(nil, "key:%d", i), []byte("longer value")); err != nil {
			t.Fatalf("rewriting key:%d of %d: %v", i, n, err)
		}
	}
	if v, ok := k.Get(nil, []byte("key:9")); !ok || string(v) != "longer value" {
		t.Fatalf("key:9 = %q, %v", v, ok)
	}
}
