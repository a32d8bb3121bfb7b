package core

import (
	"fmt"
	"sync"
	"testing"
)

// TestMSetWhileSetMaxMemoryChangesPageSize: MSET sizes its pairs against
// the large-value threshold, which SetMaxMemory changes (with the page
// size) holding every shard's lock; read before MSET took its locks, it
// was a data race (go test -race), and a size counted against the old
// threshold could let an MSET under NoEviction start storing pairs its
// shards had no room for. MSET with no pairs read the page size with no
// lock at all.
func TestMSetWhileSetMaxMemoryChangesPageSize(t *testing.T) {
	k, err := New(Options{NoActiveExpiry: true, MaxMemory: 64 << 20, Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		val := make([]byte, 3000)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			pairs := [][]byte{fmt.Appendf(nil, "a%d", i%100), val, fmt.Appendf(nil, "b%d", i%100), val[:10]}
			if err := k.MSet(pairs...); err != nil && err != ErrOOM {
				if _, ok := err.(*BoundError); !ok {
					t.Error(err)
					return
				}
			}
			if err := k.MSet(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := range 200 {
		bound := int64(64 << 20)
		if i%2 == 0 {
			bound = 1 << 20 // a smaller page size, and large-value threshold
		}
		if err := k.SetMaxMemory(bound); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}
