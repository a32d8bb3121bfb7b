package core

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// Keys meets every live key matching its pattern once, skips expired
// ones, and stops when fn says so; while writers add and delete other keys
// (growing the tables), each key present throughout is met exactly once.
func TestKeysEachOnce(t *testing.T) {
	ks, now := newOpsKS(t, Options{Shards: 4})
	for i := range 3000 {
		if err := ks.Set(fmt.Appendf(nil, "stable:%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ks.SetOpt(nil, []byte("stable:gone"), []byte("v"), SetOptions{TTL: 10}); err != nil {
		t.Fatal(err)
	}
	now.Add(20)

	count := func(match string) map[string]int {
		seen := map[string]int{}
		ks.Keys([]byte(match), func(key []byte) bool {
			seen[string(key)]++
			return true
		})
		return seen
	}
	seen := count("*")
	if len(seen) != 3000 || seen["stable:gone"] != 0 {
		t.Fatalf("KEYS *: %d keys (expired one %d times), want the 3000 live", len(seen), seen["stable:gone"])
	}
	if got := count("stable:1?"); len(got) != 10 {
		t.Fatalf("KEYS stable:1?: %d keys, want 10", len(got))
	}
	stops := 0
	ks.Keys(nil, func([]byte) bool { stops++; return stops < 7 })
	if stops != 7 {
		t.Fatalf("fn called %d times after it returned false at 7", stops)
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				key := fmt.Appendf(nil, "churn:%d:%d", w, i)
				_ = ks.Set(key, []byte("x"))
				if i%3 == 0 {
					ks.Delete(key)
				}
			}
		}()
	}
	for range 20 {
		seen := count("stable:*")
		for i := range 3000 {
			if n := seen[fmt.Sprintf("stable:%d", i)]; n != 1 {
				stop.Store(true)
				wg.Wait()
				t.Fatalf("stable:%d met %d times while other keys churned", i, n)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
}
