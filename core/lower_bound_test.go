package core

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// numKey returns prefix followed by i in decimal, as fmt's "prefix%d",
// built in dst (the keyspace copies the keys it stores): under -race fmt
// costs as much as a small write, in loops of tens of thousands of them.
func numKey(dst []byte, prefix string, i int) []byte {
	return strconv.AppendInt(append(dst[:0], prefix...), int64(i), 10)
}

// TestLoweredMaxMemoryEvicts: with AllKeys, lowering MaxMemory below what
// the keyspace holds must make later writes evict down to the new bound,
// as a bound set at start does, neither failing them with ErrOOM nor
// emptying the keyspace.
func TestLoweredMaxMemoryEvicts(t *testing.T) {
	t.Parallel() // its own keyspace: overlaps the others, under -race too
	for _, frac := range []int64{25, 50, 90} {
		t.Run(fmt.Sprintf("%d%%", frac), func(t *testing.T) {
			k, err := New(Options{NoActiveExpiry: true, MaxMemory: 64 << 20, Eviction: AllKeys})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			val := make([]byte, 100)
			var key []byte
			for i := range 50000 {
				key = numKey(key, "old", i)
				if err := k.Set(key, val); err != nil {
					t.Fatal(err)
				}
			}
			used := k.Stats().UsedBytes
			bound := used * frac / 100
			if err := k.SetMaxMemory(bound); err != nil {
				t.Fatal(err)
			}
			ooms := 0
			for i := range 50000 {
				key = numKey(key, "new", i)
				if err := k.Set(key, val); err != nil {
					ooms++
				}
			}
			st := k.Stats()
			t.Logf("used %d, bound %d: %d OOM, %d evicted, %d keys, now %d bytes", used, bound, ooms, st.Evicted, st.Keys, st.UsedBytes)
			if ooms > 0 {
				t.Errorf("%d of 50000 writes failed with ErrOOM after the bound was lowered", ooms)
			}
			if st.UsedBytes > bound {
				t.Errorf("used %d bytes, over the new bound %d", st.UsedBytes, bound)
			}
			if st.Keys < int64(frac)*50000/100/4 {
				t.Errorf("only %d keys left under a bound of %d%% of 50000 keys' memory", st.Keys, frac)
			}
		})
	}
}

// TestSetMaxMemoryWhileWriting changes the bound (and with it the page
// size) back and forth under concurrent writers and readers: no race, no
// value of another key, page accounts intact, and the last bound held.
func TestSetMaxMemoryWhileWriting(t *testing.T) {
	k, err := New(Options{NoActiveExpiry: true, MaxMemory: 32 << 20, Eviction: AllKeys})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	done := make(chan struct{})
	errs := make(chan error, 4)
	for w := range 3 {
		go func() {
			var buf []byte
			for i := 0; ; i++ {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				key := fmt.Appendf(nil, "w%d-%d", w, i%20000)
				if err := k.Set(key, append(key, make([]byte, i%300)...)); err != nil && err != ErrOOM {
					errs <- err
					return
				}
				var ok bool
				if buf, ok = k.Get(buf[:0], key); ok && string(buf[:len(key)]) != string(key) {
					errs <- fmt.Errorf("Get(%s) = %q", key, buf)
					return
				}
			}
		}()
	}
	for i := range 40 {
		bound := int64(32 << 20)
		if i%2 == 0 {
			bound = 1 << 20
		}
		if err := k.SetMaxMemory(bound); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // let the writers fill pages of this size
	}
	if err := k.SetMaxMemory(2 << 20); err != nil {
		t.Fatal(err)
	}
	close(done)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20000 {
		_ = k.Set(fmt.Appendf(nil, "after%d", i), make([]byte, 100))
	}
	checkPageAccounts(t, k)
	if st := k.Stats(); st.UsedBytes > 2<<20 {
		t.Fatalf("used %d bytes, over the last bound %d", st.UsedBytes, 2<<20)
	}
}

// TestLoweredMaxMemoryEvictsAtOnce: as Redis does on CONFIG SET maxmemory,
// a lower bound under AllKeys is reached without waiting for writes;
// under NoEviction nothing is evicted.
func TestLoweredMaxMemoryEvictsAtOnce(t *testing.T) {
	for _, pol := range []EvictionPolicy{AllKeys, NoEviction} {
		t.Run(pol.String(), func(t *testing.T) {
			k, err := New(Options{NoActiveExpiry: true, MaxMemory: 64 << 20, Eviction: pol})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			var key []byte
			for i := range 50000 {
				key = numKey(key, "k", i)
				if err := k.Set(key, make([]byte, 100)); err != nil {
					t.Fatal(err)
				}
			}
			used := k.Stats().UsedBytes
			bound := used / 4
			if err := k.SetMaxMemory(bound); err != nil {
				t.Fatal(err)
			}
			k.Settle() // the background eviction is done
			st := k.Stats()
			t.Logf("used %d -> %d bytes (bound %d), %d keys left", used, st.UsedBytes, bound, st.Keys)
			switch {
			case pol == AllKeys && st.UsedBytes > bound:
				t.Fatalf("still %d bytes once settled after lowering the bound to %d, with no writes", st.UsedBytes, bound)
			case pol == AllKeys && st.Keys < 50000/4/4:
				t.Fatalf("only %d keys left under a quarter of the memory", st.Keys)
			case pol == NoEviction && (st.Evicted != 0 || st.Keys != 50000):
				t.Fatalf("noeviction: %d evicted, %d keys", st.Evicted, st.Keys)
			}
		})
	}
}
