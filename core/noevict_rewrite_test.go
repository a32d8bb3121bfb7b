package core

import (
	"errors"
	"fmt"
	"testing"
)

// TestNoEvictionRewritesAtTheBound: at a full NoEviction bound, giving a
// key another deadline, or none, needs no more memory: its new record
// takes the old one's room. Redis runs EXPIRE, PERSIST and GETEX at its
// bound (they are not denyoom commands); here each rewrites the record,
// and with no free room left in the shard every one failed with ErrOOM,
// so a full cache could not have its TTLs moved or removed.
func TestNoEvictionRewritesAtTheBound(t *testing.T) {
	for _, size := range []int{100, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			const bound = 2 << 20
			k, err := New(Options{NoActiveExpiry: true, MaxMemory: bound, Eviction: NoEviction})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			val := make([]byte, size)
			for i := range val {
				val[i] = byte(i)
			}
			n := 0
			for ; ; n++ {
				_, err := k.SetOpt(nil, fmt.Appendf(nil, "key:%d", n), val, SetOptions{TTL: 7200_000})
				if errors.Is(err, ErrOOM) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			far := k.clock() + 3600_000
			for _, op := range []struct {
				name string
				run  func(key []byte) error
			}{
				{"Expire", func(key []byte) error {
					ok, err := k.Expire(key, 3600, ExpireAlways)
					if err == nil && !ok {
						err = errors.New("not set")
					}
					return err
				}},
				{"GetEx", func(key []byte) error {
					v, _, err := k.GetEx(nil, key, GetExOptions{ExpireAt: far + 1000})
					if err == nil && string(v) != string(val) {
						err = fmt.Errorf("read %d bytes", len(v))
					}
					return err
				}},
				{"Persist", func(key []byte) error {
					ok, err := k.Persist(key)
					if err == nil && !ok {
						err = errors.New("had no TTL")
					}
					return err
				}},
			} {
				failed := 0
				var first error
				for i := range n {
					if err := op.run(fmt.Appendf(nil, "key:%d", i)); err != nil {
						if failed++; first == nil {
							first = err
						}
					}
				}
				if failed > 0 {
					t.Errorf("%s: %d of %d keys failed at the bound (%v)", op.name, failed, n, first)
				}
				if st := k.Stats(); st.UsedBytes > bound || st.Keys != int64(n) {
					t.Errorf("%s: %d keys of %d, %d bytes used", op.name, st.Keys, n, st.UsedBytes)
				}
				checkPageAccounts(t, k)
			}
			// Every key reads back, without TTL.
			for i := range n {
				key := fmt.Appendf(nil, "key:%d", i)
				if v, ok := k.Get(nil, key); !ok || string(v) != string(val) {
					t.Fatalf("%s = %d bytes, %v", key, len(v), ok)
				}
				if ms := k.PTTL(key); ms != -1 {
					t.Fatalf("%s: PTTL %d after Persist", key, ms)
				}
			}
		})
	}
}
