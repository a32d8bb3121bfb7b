package core

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// appendChunk is chunk i of a value built by appends: its index and
// filler, so a reader can check any prefix it sees.
func appendChunk(i int) []byte {
	c := bytes.Repeat([]byte{byte('a' + i%26)}, 1000)
	copy(c, fmt.Sprintf("<%06d>", i))
	return c
}

// Building a large value from small APPENDs must not copy the whole value
// each time: a value that outgrows the arena pages gets a buffer with room
// to grow, and appends fill that room in place.
func TestAppendLargeValueGrowsInPlace(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	key := []byte("log")
	var want []byte
	before := largeBufsMade.Load()
	setsBefore := ks.Stats().Sets
	const chunks = 3000       // 3 MB
	pages := map[*page]bool{} // the pages the value has lived in
	for i := range chunks {
		c := appendChunk(i)
		want = append(want, c...)
		n, err := ks.Append(key, c)
		if err != nil || n != len(want) {
			t.Fatalf("append %d: n %d err %v, want %d", i, n, err, len(want))
		}
		if _, pg, _ := entryOf(ks, key); pg.large {
			pages[pg] = true
		}
	}
	// Each new page is a copy of the whole value.
	if len(pages) > 16 {
		t.Errorf("the value was copied to %d large pages in %d appends", len(pages), chunks)
	}
	got, ok := ks.Get(nil, key)
	if !ok || !bytes.Equal(got, want) {
		t.Fatalf("value after %d appends differs (%d bytes, want %d)", chunks, len(got), len(want))
	}
	// Doubling to 1 MiB, then 1 MiB at a time: about a dozen buffers.
	if made := largeBufsMade.Load() - before; made > 16 {
		t.Errorf("%d large buffers made for %d appends", made, chunks)
	}
	if n := ks.StrLen(key); n != len(want) {
		t.Fatalf("StrLen %d, want %d", n, len(want))
	}
	if sets := ks.Stats().Sets - setsBefore; sets != chunks {
		t.Fatalf("Stats.Sets counted %d appends, want %d", sets, chunks)
	}
	// The spare room is memory held: it is counted.
	if used := ks.Stats().UsedBytes; used < int64(len(want)) {
		t.Fatalf("UsedBytes %d under the value's %d bytes", used, len(want))
	}
	// Everything else sees the grown value too.
	if err := ks.Rename(key, []byte("log2")); err != nil {
		t.Fatal(err)
	}
	if got, _ := ks.Get(nil, []byte("log2")); !bytes.Equal(got, want) {
		t.Fatal("value differs after RENAME")
	}
	if got, ok := ks.GetDel(nil, []byte("log2")); !ok || !bytes.Equal(got, want) {
		t.Fatal("GETDEL value differs")
	}
	// The buffers the value outgrew wait in the pool until it decays.
	for range largePoolIdle {
		ks.ActiveExpireCycle(time.Second)
	}
	// Left: the index and at most the two arena pages a shard pools.
	if used := ks.Stats().UsedBytes; used > int64(2*ks.pageSize)+64<<10 {
		t.Fatalf("UsedBytes %d after deleting the only key", used)
	}
}

// Appends in place keep a key's TTL, and the TTL bytes Volatile eviction
// looks for.
func TestAppendInPlaceKeepsTTL(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	key := []byte("k")
	if _, err := ks.SetOpt(nil, key, make([]byte, 200_000), SetOptions{TTL: 100_000}); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if _, err := ks.Append(key, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	if ttl := ks.PTTL(key); ttl <= 0 {
		t.Fatalf("PTTL %d after appends", ttl)
	}
	r, pg, ok := entryOf(ks, key)
	if !ok || !pg.large || len(r.val) != 250_000 || pg.ttl != pg.live || pg.live != r.size {
		t.Fatalf("found %v large %v: value %d, page live %d ttl %d, record %d", ok, pg.large, len(r.val), pg.live, pg.ttl, r.size)
	}
}

// Readers copying a large value while it grows in place see a whole
// prefix of it: every chunk they get is complete and in order.
func TestAppendInPlaceUnderReaders(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	key := []byte("log")
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for !stop.Load() {
				v, ok := ks.Get(buf[:0], key)
				buf = v
				if !ok {
					continue
				}
				if len(v)%1000 != 0 {
					bad.Add(1)
					continue
				}
				for i := 0; i < len(v); i += 1000 {
					if !bytes.Equal(v[i:i+1000], appendChunk(i/1000)) {
						bad.Add(1)
						break
					}
				}
			}
		}()
	}
	for i := range 1500 {
		if _, err := ks.Append(key, appendChunk(i)); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Fatalf("%d reads saw a torn or foreign value", n)
	}
}

// largePageOf returns the page key's record lives in.
func largePageOf(t *testing.T, ks *Keyspace, key []byte) *page {
	t.Helper()
	_, pg, ok := entryOf(ks, key)
	if !ok || !pg.large {
		t.Fatalf("%q: found %v, large %v", key, ok, ok && pg.large)
	}
	return pg
}

// A sliding TTL on a large value (EXPIRE, GETEX EX at every read) changes
// its deadline in place instead of copying the value, and the TTL
// bookkeeping Volatile eviction relies on follows.
func TestLargeValueDeadlineInPlace(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	key := []byte("big")
	val := bytes.Repeat([]byte("v"), 300_000)
	if err := ks.Set(key, val); err != nil {
		t.Fatal(err)
	}
	pg := largePageOf(t, ks, key)
	s := &ks.shards[0]
	ttlState := func() (int, int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.ttlKeys, pg.ttl
	}
	if n, b := ttlState(); n != 0 || b != 0 {
		t.Fatalf("before EXPIRE: ttlKeys %d, page TTL bytes %d", n, b)
	}
	for i := range 20 {
		if ok, err := ks.PExpire(key, int64(60_000+i), ExpireAlways); !ok || err != nil {
			t.Fatalf("PEXPIRE %d: %v %v", i, ok, err)
		}
	}
	if ttl := ks.PTTL(key); ttl < 59_000 || ttl > 60_019 {
		t.Fatalf("PTTL %d after PEXPIRE 60019", ttl)
	}
	if n, b := ttlState(); n != 1 || b != pg.live {
		t.Fatalf("after EXPIRE: ttlKeys %d, page TTL bytes %d of %d", n, b, pg.live)
	}
	if _, ok, err := ks.GetEx(nil, key, GetExOptions{TTL: 120_000}); !ok || err != nil {
		t.Fatalf("GETEX: %v %v", ok, err)
	}
	if ttl := ks.PTTL(key); ttl < 119_000 {
		t.Fatalf("PTTL %d after GETEX PX 120000", ttl)
	}
	if ok, err := ks.Persist(key); !ok || err != nil {
		t.Fatalf("PERSIST: %v %v", ok, err)
	}
	if ttl := ks.PTTL(key); ttl != -1 {
		t.Fatalf("PTTL %d after PERSIST", ttl)
	}
	if n, b := ttlState(); n != 0 || b != 0 {
		t.Fatalf("after PERSIST: ttlKeys %d, page TTL bytes %d", n, b)
	}
	if got := largePageOf(t, ks, key); got != pg {
		t.Fatal("the value moved to another page: it was copied")
	}
	if got, _ := ks.Get(nil, key); !bytes.Equal(got, val) {
		t.Fatal("value changed")
	}
	// A deadline set in place expires the key like any other.
	if ok, err := ks.PExpire(key, 1, ExpireAlways); !ok || err != nil {
		t.Fatalf("PEXPIRE 1: %v %v", ok, err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, ok := ks.Get(nil, key); ok {
		t.Fatal("Get found the key after its in-place deadline")
	}
	if ks.Exists(key) {
		t.Fatal("Exists found the key after its in-place deadline")
	}
}

// APPENDs of 1 MiB to a large value copy it a number of times that grows
// with the logarithm of its size: the room given past 1 MiB is a quarter
// of the value. With 1 MiB of room, every other APPEND copied the whole
// value (256 APPENDs of 1 MiB took 40 s, against Redis's 2.3 s).
func TestAppendLargeChunksCopiesLogarithmically(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	key := []byte("log")
	chunk := bytes.Repeat([]byte("c"), 1<<20)
	before := largeBufsMade.Load()
	const chunks = 64
	for i := range chunks {
		if n, err := ks.Append(key, chunk); err != nil || n != (i+1)<<20 {
			t.Fatalf("append %d: %d, %v", i, n, err)
		}
	}
	made := largeBufsMade.Load() - before
	t.Logf("%d large buffers made", made)
	if made > 24 {
		t.Errorf("%d large buffers made for %d appends of 1 MiB, want at most 24", made, chunks)
	}
	if n := ks.StrLen(key); n != chunks<<20 {
		t.Fatalf("StrLen %d", n)
	}
	// The buffers outgrown wait in the pool (counted) until it decays;
	// then what is held is the value and its room.
	for range largePoolIdle {
		ks.ActiveExpireCycle(time.Second)
	}
	if used := ks.Stats().UsedBytes; used > chunks<<20*3/2 {
		t.Errorf("UsedBytes %d MiB for a %d MiB value: the room to grow is too large", used>>20, chunks)
	}
}
