package core

import (
	"errors"
	"fmt"
	"runtime"
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
			const bound = 512 << 10
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

// TestNoEvictionRewritesAtTheBoundConcurrent runs TTL rewrites at a full
// NoEviction bound, each compacting its record's page through the
// reserve, while readers check every value embeds its key: no reader
// sees a torn, moved-away or foreign record.
func TestNoEvictionRewritesAtTheBoundConcurrent(t *testing.T) {
	k, err := New(Options{NoActiveExpiry: true, MaxMemory: 512 << 10, Eviction: NoEviction})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	value := func(key []byte, i int) []byte { return append(key, make([]byte, i%150)...) }
	n := 0
	for ; ; n++ {
		key := fmt.Appendf(nil, "key:%d", n)
		if _, err := k.SetOpt(nil, key, value(key, n), SetOptions{TTL: 7200_000}); errors.Is(err, ErrOOM) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	errs := make(chan error, 4)
	for r := range 2 {
		go func() {
			var buf []byte
			for i := r; ; i += 7 {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				j := i % n
				key := fmt.Appendf(nil, "key:%d", j)
				v, ok := k.Get(buf[:0], key)
				if !ok || string(v) != string(value(key, j)) {
					errs <- fmt.Errorf("Get(%s) = %q, %v", key, v, ok)
					return
				}
				buf = v
				runtime.Gosched() // leave the writer a core (2-core CI under -race)
			}
		}()
	}
	failed := 0
	for w := range 2 {
		for i := w; i < n; i += 2 {
			key := fmt.Appendf(nil, "key:%d", i)
			var err error
			if i%3 == 0 {
				_, err = k.Persist(key)
			} else {
				_, err = k.Expire(key, int64(3600+i), ExpireAlways)
			}
			if err != nil {
				failed++
			}
		}
	}
	close(done)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d rewrites failed at the bound", failed, n)
	}
	checkPageAccounts(t, k)
}
