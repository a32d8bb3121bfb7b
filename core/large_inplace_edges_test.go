package core

import (
	"bytes"
	"testing"
	"time"
)

// A record that SetMaxMemory's smaller pages turned into a large value keeps
// the aligned layout it had in its arena page. Once its deadline has been
// set in place, a reader that finds it expired must still see a miss, not
// retry for ever.
func TestLargeAlignedRecordDeadlineInPlace(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1, Eviction: AllKeys})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	key := bytes.Repeat([]byte("K"), 2000)
	val := bytes.Repeat([]byte("v"), 300)
	for range 2 { // a rewrite: the record is aligned
		if err := ks.Set(key, val); err != nil {
			t.Fatal(err)
		}
	}
	if err := ks.SetMaxMemory(64 << 10); err != nil {
		t.Fatal(err)
	}
	ks.Settle()
	largePageOf(t, ks, key)
	r, _, _ := entryOf(ks, key)
	if !r.aligned {
		t.Skip("the record was not moved as an aligned record")
	}
	if ok, err := ks.PExpire(key, 1, ExpireAlways); !ok || err != nil {
		t.Fatalf("PEXPIRE: %v %v", ok, err)
	}
	time.Sleep(5 * time.Millisecond)
	done := make(chan bool, 2)
	go func() {
		_, ok := ks.Get(nil, key)
		done <- ok
	}()
	go func() {
		done <- ks.Exists(key)
	}()
	for range 2 {
		select {
		case ok := <-done:
			if ok {
				t.Fatal("the key was found after its deadline")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a read of the expired key did not return")
		}
	}
}

// The spare room APPEND gives a large value is an optimization: it must
// never make an APPEND fail where storing the grown value would succeed.
func TestAppendHeadroomNeverCausesOOM(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1, MaxMemory: 256 << 10, Eviction: AllKeys})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	key := []byte("k")
	val := bytes.Repeat([]byte("v"), 130_000)
	if err := ks.Set(key, val); err != nil {
		t.Fatal(err)
	}
	add := bytes.Repeat([]byte("w"), 20_000)
	n, err := ks.Append(key, add)
	if err != nil || n != len(val)+len(add) {
		t.Fatalf("APPEND: %d %v (SET of the grown value succeeds: %v)", n, err,
			ks.Set([]byte("k2"), append(val, add...)))
	}
	if got, _ := ks.Get(nil, key); !bytes.Equal(got, append(val, add...)) {
		t.Fatal("value differs after APPEND")
	}
	if st := ks.Stats(); st.UsedBytes > st.MaxBytes {
		t.Fatalf("UsedBytes %d over MaxMemory %d", st.UsedBytes, st.MaxBytes)
	}
}
