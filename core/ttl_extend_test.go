package core

import (
	"sync/atomic"
	"testing"
)

// TestMSetNoPairsAfterClose: MSET with no pairs locks no shard for its
// keys; it must still read the closed flag under a lock (a plain read raced
// with Close under -race) and report ErrClosed once closed.
func TestMSetNoPairsAfterClose(t *testing.T) {
	k, err := New(Options{NoActiveExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100000; i++ {
			_ = k.MSet()
		}
	}()
	k.Close()
	<-done
	if err := k.MSet(); err != ErrClosed {
		t.Fatalf("MSet() after Close = %v, want ErrClosed", err)
	}
}

// TestReadDuringTTLExtensionSeesKeyLive: a lock-free read decodes the
// record (deadline d1) and only then reads the clock. If a writer that
// still saw the key live extends the deadline to d2 in between, and the
// clock passes d1 only after that write, the key was live at every instant
// of the read, so the read must not report it missing. The test clock
// forces the interleaving: the reader's first clock read runs the writer
// to completion, then moves the clock past d1.
func TestReadDuringTTLExtensionSeesKeyLive(t *testing.T) {
	const d1 = int64(1_700_000_001_000)
	const d2 = d1 + 60_000
	writes := []struct {
		name  string
		setup func(k *Keyspace, key []byte)
		write func(k *Keyspace, key []byte)
	}{
		{
			// An aligned record: value and deadline rewritten in place.
			name: "SET PXAT in place",
			setup: func(k *Keyspace, key []byte) {
				k.SetOpt(nil, key, []byte("v1"), SetOptions{ExpireAt: d1})
				k.SetOpt(nil, key, []byte("v1"), SetOptions{ExpireAt: d1}) // now aligned
			},
			write: func(k *Keyspace, key []byte) {
				k.SetOpt(nil, key, []byte("v2"), SetOptions{ExpireAt: d2})
			},
		},
		{
			// A compact record: the write publishes a new one.
			name: "PEXPIREAT",
			setup: func(k *Keyspace, key []byte) {
				k.SetOpt(nil, key, []byte("v1"), SetOptions{ExpireAt: d1})
			},
			write: func(k *Keyspace, key []byte) {
				if ok, err := k.PExpireAt(key, d2, ExpireAlways); !ok || err != nil {
					panic("PEXPIREAT failed")
				}
			},
		},
	}
	reads := []struct {
		name string
		live func(k *Keyspace, key []byte) bool
	}{
		{"Get", func(k *Keyspace, key []byte) bool { _, ok := k.Get(nil, key); return ok }},
		{"Exists", func(k *Keyspace, key []byte) bool { return k.Exists(key) }},
		{"PTTL", func(k *Keyspace, key []byte) bool { return k.PTTL(key) >= 0 }},
	}
	for _, w := range writes {
		for _, r := range reads {
			t.Run(w.name+"/"+r.name, func(t *testing.T) {
				var now atomic.Int64
				now.Store(d1 - 1)
				var armed atomic.Bool
				var k *Keyspace
				key := []byte("key")
				clock := func() int64 {
					if armed.CompareAndSwap(true, false) {
						done := make(chan struct{})
						go func() { w.write(k, key); close(done) }()
						<-done
						now.Store(d1 + 1)
					}
					return now.Load()
				}
				var err error
				if k, err = New(Options{NoActiveExpiry: true, Clock: clock}); err != nil {
					t.Fatal(err)
				}
				defer k.Close()
				w.setup(k, key)
				armed.Store(true)
				live := r.live(k, key)
				if armed.Load() {
					t.Fatal("the read did not read the clock: interleaving not exercised")
				}
				if got := k.PExpireTime(key); got != d2 {
					t.Fatalf("deadline after the write = %d, want %d", got, d2)
				}
				if !live {
					t.Errorf("%s reported the key missing; it was live throughout (clock <= d1 before the write, deadline d2 after it)", r.name)
				}
			})
		}
	}
}
