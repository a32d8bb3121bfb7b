package core

import (
	"errors"
	"fmt"
	"testing"
)

// TestNoEvictionReusesDeletedRoom: under NoEviction a full keyspace is made
// writable again by deleting keys, as in Redis. Deleting a tenth of the
// keys (every tenth one, so each page keeps most of its records) must make
// room for most of that much new data. Compaction only took pages a
// quarter dead, so such deletes made room for a sixth of what they freed,
// and every later write of the same size failed with ErrOOM.
func TestNoEvictionReusesDeletedRoom(t *testing.T) {
	for _, size := range []int{100, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			k, err := New(Options{NoActiveExpiry: true, MaxMemory: 4 << 20, Eviction: NoEviction})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			val := make([]byte, size)
			n := 0
			for ; ; n++ {
				err := k.Set(fmt.Appendf(nil, "key:%d", n), val)
				if errors.Is(err, ErrOOM) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			deleted := 0
			for i := 0; i < n; i += 10 {
				if k.Delete(fmt.Appendf(nil, "key:%d", i)) {
					deleted++
				}
			}
			added := 0
			for i := range deleted {
				err := k.Set(fmt.Appendf(nil, "new:%d", i), val)
				if err == nil {
					added++
				} else if !errors.Is(err, ErrOOM) {
					t.Fatal(err)
				}
			}
			st := k.Stats()
			t.Logf("%d keys filled the bound; %d deleted, then %d stored; used %d of %d", n, deleted, added, st.UsedBytes, int64(4<<20))
			if added < deleted*3/4 {
				t.Errorf("deleting %d keys of %d bytes made room for only %d of them", deleted, size, added)
			}
			if st.UsedBytes > 4<<20 {
				t.Errorf("used %d, over the bound", st.UsedBytes)
			}
			checkPageAccounts(t, k)
		})
	}
}
