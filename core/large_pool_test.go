package core

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func TestLargeClass(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{1, 4096},
		{4096, 4096},
		{16 << 10, 16 << 10},
		{16<<10 + 1, 20 << 10}, // 4 KiB pages, then a quarter of 16 KiB
		{40000, 40960},
		{65536, 65536},
		{65537, 81920},
		{300000, 327680},
		{1 << 20, 1 << 20},
		{1<<20 + 1, 1<<20 + 4096}, // past 1 MiB: pages only
		{512 << 20, 512 << 20},
	} {
		if got := largeClass(tc.n); got != tc.want {
			t.Errorf("largeClass(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
	for n := 1; n < 2<<20; n += 997 {
		c := largeClass(n)
		if c < n || c%4096 != 0 || c > n+n/4+4096 {
			t.Fatalf("largeClass(%d) = %d: not a page multiple within 25%% of n", n, c)
		}
		if largeClass(c) != c {
			t.Fatalf("largeClass(%d) = %d, but largeClass(%d) = %d", n, c, c, largeClass(c))
		}
	}
}

// At the memory bound every new large value evicts an older one. The
// victim's buffer, of the same size class, must carry the new value: before
// the pool, each such SET mapped a fresh buffer (a page fault per 4 KiB) and
// unmapped the victim's.
func TestLargeBufferOfVictimReused(t *testing.T) {
	const maxMem = 4 << 20
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1, MaxMemory: maxMem, Eviction: AllKeys})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	val := make([]byte, 300_000)
	const writes = 200
	before := largeBufsMade.Load()
	for i := range writes {
		val[0], val[len(val)-1] = byte(i), byte(i>>8)
		if err := ks.Set(fmt.Appendf(nil, "k%d", i), val); err != nil {
			t.Fatalf("set %d: %v", i, err)
		}
		if used := ks.Stats().UsedBytes; used > maxMem {
			t.Fatalf("after set %d UsedBytes %d > MaxMemory %d", i, used, maxMem)
		}
	}
	made := largeBufsMade.Load() - before
	// About 12 values fit; after that every write should reuse a victim's.
	if made > writes/4 {
		t.Errorf("%d buffers made for %d large values at the bound", made, writes)
	}
	got, ok := ks.Get(nil, fmt.Appendf(nil, "k%d", writes-1))
	if !ok || len(got) != len(val) || got[0] != byte(writes-1) || got[len(got)-1] != byte((writes-1)>>8) {
		t.Fatalf("newest value lost or wrong (found %v, %d bytes)", ok, len(got))
	}
	if ev := ks.Stats().Evicted; ev < writes/2 {
		t.Fatalf("only %d evictions: the test did not run at the bound", ev)
	}
}

// Overwriting a large value with one of the same size class reuses the old
// value's buffer once readers are done with it.
func TestLargeOverwriteReusesBuffer(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	key := []byte("big")
	before := largeBufsMade.Load()
	for i := range 50 {
		v := bytes.Repeat([]byte{byte(i)}, 100_000+i) // one size class
		if err := ks.Set(key, v); err != nil {
			t.Fatal(err)
		}
		got, _ := ks.Get(nil, key)
		if !bytes.Equal(got, v) {
			t.Fatalf("overwrite %d: value differs", i)
		}
	}
	if made := largeBufsMade.Load() - before; made > 3 {
		t.Errorf("%d buffers made for 50 overwrites of one size class", made)
	}
}

// Pooled buffers count as used memory; a pool nobody reuses is freed by the
// active expiry cycle within largePoolIdle cycles, and by Flush at once.
func TestLargePoolCountedAndDecays(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	s := &ks.shards[0]
	fill := func() { fillLargePool(t, ks, []byte("k")) }
	pooled := func() int64 { return pooledBytes(s) }
	fill()
	p := pooled()
	if p == 0 {
		t.Fatal("nothing pooled: the test does not exercise the pool")
	}
	used := ks.Stats().UsedBytes
	// Live: the 70,000-byte value (class 81,920) and the index.
	if want := int64(81920) + p + s.table.Load().bytes(); used < want {
		t.Fatalf("UsedBytes %d, below value+pool+index %d: the pool is not counted", used, want)
	}
	for i := 0; i < largePoolIdle-1; i++ {
		ks.ActiveExpireCycle(time.Second)
	}
	if pooled() != p {
		t.Fatalf("pool decayed after %d idle cycles, want %d", largePoolIdle-1, largePoolIdle)
	}
	ks.ActiveExpireCycle(time.Second)
	if got := pooled(); got != 0 {
		t.Fatalf("pool still holds %d bytes after %d idle cycles", got, largePoolIdle)
	}
	// Left: the live value and the index (the cycle also freed the
	// retired 200,000-byte value, which no reader held).
	if after, want := ks.Stats().UsedBytes, int64(81920)+s.table.Load().bytes(); after != want {
		t.Fatalf("UsedBytes %d after the decay, want %d", after, want)
	}

	fill()
	if pooled() == 0 {
		t.Fatal("nothing pooled the second time")
	}
	ks.Flush()
	if got := pooled(); got != 0 {
		t.Fatalf("pool holds %d bytes after Flush", got)
	}
}

// A large value read into a buffer too small for it comes back in a fresh
// buffer (from the pool) that starts with the caller's bytes; the caller's
// buffer is left as it was, so MGet's earlier values, which point into it,
// stay intact.
func TestReadLargeValuesIntoSmallBuffers(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	vals := make([][]byte, 5)
	keys := make([][]byte, len(vals))
	for i := range vals {
		vals[i] = bytes.Repeat([]byte{byte('a' + i)}, 70_000+i*50_000)
		keys[i] = fmt.Appendf(nil, "k%d", i)
		if err := ks.Set(keys[i], vals[i]); err != nil {
			t.Fatal(err)
		}
	}
	small := append(make([]byte, 0, 16), "prefix"...)
	got, ok := ks.Get(small, keys[1])
	if !ok || string(got[:6]) != "prefix" || !bytes.Equal(got[6:], vals[1]) {
		t.Fatalf("Get into a small buffer: %v, %d bytes", ok, len(got))
	}
	if string(small) != "prefix" || cap(small) != 16 {
		t.Fatal("Get changed the caller's buffer")
	}
	buf, out := ks.MGet(nil, nil, keys[0], []byte("missing"), keys[1], keys[2], keys[3], keys[4])
	want := [][]byte{vals[0], nil, vals[1], vals[2], vals[3], vals[4]}
	for i := range want {
		if !bytes.Equal(out[i], want[i]) || (want[i] == nil) != (out[i] == nil) {
			t.Fatalf("MGet value %d wrong (%d bytes)", i, len(out[i]))
		}
	}
	_ = buf
	prev, err := ks.SetOpt(nil, keys[2], []byte("x"), SetOptions{Get: true})
	if err != nil || !prev.HadPrev || !bytes.Equal(prev.Prev, vals[2]) {
		t.Fatalf("SET GET: %v, %d bytes", err, len(prev.Prev))
	}
	gd, ok := ks.GetDel(append(make([]byte, 0, 8), 'p'), keys[3])
	if !ok || gd[0] != 'p' || !bytes.Equal(gd[1:], vals[3]) {
		t.Fatal("GetDel of a large value wrong")
	}
}

// A cycle that spends its budget on the first shard still ages the other
// shards' pools.
func TestLargePoolDecaysPastAnExhaustedBudget(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	// Fill the second shard's pool, through a key that hashes there.
	var key []byte
	for i := 0; ; i++ {
		key = fmt.Appendf(key[:0], "k%d", i)
		if s, _ := ks.shardFor(key); s == &ks.shards[1] {
			break
		}
	}
	fillLargePool(t, ks, key)
	s := &ks.shards[1]
	pooled := func() int64 { return pooledBytes(s) }
	if pooled() == 0 {
		t.Fatal("nothing pooled: the test does not exercise the pool")
	}
	for range largePoolIdle {
		ks.ActiveExpireCycle(0) // the budget runs out in the first shard
	}
	if got := pooled(); got != 0 {
		t.Fatalf("pool still holds %d bytes after %d cycles that stopped at shard 0", got, largePoolIdle)
	}
}

// pooledBytes is what s's pool of large buffers holds.
func pooledBytes(s *shard) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.largeFree == nil {
		return 0
	}
	return s.largeFree.bytes
}

// fillLargePool leaves buffers in the pool of key's shard: each write
// retires the previous value's buffer, of another size class, and the next
// write's reclaim pools it where nothing of the new class can use it.
func fillLargePool(t *testing.T, ks *Keyspace, key []byte) {
	t.Helper()
	for _, n := range []int{50_000, 100_000, 200_000, 70_000} {
		if err := ks.Set(key, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
}
