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
	const chunks = 3000 // 3 MB
	s := &ks.shards[0]
	pages := map[*page]bool{} // the pages the value has lived in
	for i := range chunks {
		c := appendChunk(i)
		want = append(want, c...)
		n, err := ks.Append(key, c)
		if err != nil || n != len(want) {
			t.Fatalf("append %d: n %d err %v, want %d", i, n, err, len(want))
		}
		s.mu.Lock()
		_, _, _, pg, _, _ := s.find(ks.hash(key), key, ks.clock)
		s.mu.Unlock()
		if pg.large {
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
	s := &ks.shards[0]
	s.mu.Lock()
	_, _, r, pg, ok, _ := s.find(ks.hash(key), key, ks.clock)
	s.mu.Unlock()
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
