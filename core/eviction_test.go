package core_test

import (
	"bytes"
	"container/list"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/ringdb/ringdb/core"
)

const evMaxMemory = 16 << 20

// evValue returns the deterministic value of key id i with size n.
func evValue(buf []byte, i, n int) []byte {
	buf = buf[:0]
	var x [8]byte
	binary.LittleEndian.PutUint64(x[:], uint64(i)*0x9e3779b97f4a7c15)
	for len(buf) < n {
		buf = append(buf, x[:]...)
		x[0]++
	}
	return buf[:n]
}

func evKey(i int) []byte { return []byte(fmt.Sprintf("ev:%08d", i)) }

// evSize draws a value size: mostly small, some a few pages large.
func evSize(rng *rand.Rand) int {
	switch c := rng.IntN(100); {
	case c < 70:
		return 64 + rng.IntN(1024)
	case c < 95:
		return 1024 + rng.IntN(8192)
	default:
		return 32<<10 + rng.IntN(96<<10)
	}
}

func evCheckBound(t *testing.T, ks *core.Keyspace, when string) core.Stats {
	t.Helper()
	st := ks.Stats()
	if st.UsedBytes > evMaxMemory {
		t.Fatalf("%s: UsedBytes %d exceeds MaxMemory %d (Keys=%d Evicted=%d)", when, st.UsedBytes, evMaxMemory, st.Keys, st.Evicted)
	}
	return st
}

// TestEvictionMemoryBound writes 3x MaxMemory under each evicting policy:
// the bound holds after every write, keys get evicted, and no write fails.
func TestEvictionMemoryBound(t *testing.T) {
	t.Parallel() // its own keyspace: overlaps the others, under -race too
	for _, c := range []struct {
		name   string
		policy core.EvictionPolicy
		opts   core.Options
	}{
		{"allkeys", core.AllKeys, core.Options{}},
		{"allkeys-4KiB-pages", core.AllKeys, core.Options{PageSize: 4096}},
		{"volatile-all-keys-with-ttl", core.Volatile, core.Options{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := c.opts
			opts.MaxMemory = evMaxMemory
			opts.Eviction = c.policy
			opts.NoActiveExpiry = true
			now := int64(1_700_000_000_000)
			opts.Clock = func() int64 { return now }
			ks, err := core.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer ks.Close()
			rng := rand.New(rand.NewPCG(7, 7))
			var buf []byte
			written, i := 0, 0
			for ; written < 3*evMaxMemory; i++ {
				n := evSize(rng)
				buf = evValue(buf, i, n)
				if c.policy == core.Volatile {
					_, err = ks.SetOpt(nil, evKey(i), buf, core.SetOptions{TTL: 3600_000})
				} else {
					err = ks.Set(evKey(i), buf)
				}
				if err != nil {
					t.Fatalf("write %d (%d bytes, %d written so far): %v", i, n, written, err)
				}
				written += n
				evCheckBound(t, ks, fmt.Sprintf("after write %d", i))
				if i%64 == 0 {
					// Overwrite an older key now and then, and read one.
					j := rng.IntN(i + 1)
					var ok bool
					buf, ok = ks.Get(buf[:0], evKey(j))
					if ok && !bytes.HasPrefix(evValue(nil, j, len(buf)), buf) {
						t.Fatalf("Get(%s) returned a wrong value of %d bytes", evKey(j), len(buf))
					}
				}
			}
			st := evCheckBound(t, ks, "at the end")
			t.Logf("%d writes, %d MiB written: Keys=%d UsedBytes=%d (%.1f%% of MaxMemory) Evicted=%d",
				i, written>>20, st.Keys, st.UsedBytes, 100*float64(st.UsedBytes)/evMaxMemory, st.Evicted)
			if st.Evicted == 0 {
				t.Errorf("Evicted = 0 after writing 3x MaxMemory")
			}
			if st.Keys <= 0 || int64(ks.Len()) != st.Keys {
				t.Errorf("Stats().Keys = %d, Len() = %d", st.Keys, ks.Len())
			}
			last := i - 1
			got, ok := ks.Get(nil, evKey(last))
			if !ok || !bytes.Equal(got, evValue(nil, last, len(got))) {
				t.Errorf("the last key written is missing or wrong (ok=%v, %d bytes)", ok, len(got))
			}
			if st.UsedBytes < evMaxMemory/2 {
				t.Errorf("UsedBytes %d: less than half of MaxMemory in use after filling 3x", st.UsedBytes)
			}
		})
	}
}

// TestEvictionNoEviction: writes fail with ErrOOM once full, reads and
// deletes keep working, and freed memory can be written again.
func TestEvictionNoEviction(t *testing.T) {
	core.SkipOneGoroutineUnderRace(t)
	t.Parallel() // its own keyspace: overlaps the others
	for _, c := range []struct {
		name   string
		policy core.EvictionPolicy
	}{
		{"noeviction", core.NoEviction},
		{"volatile-without-ttl-keys", core.Volatile},
	} {
		t.Run(c.name, func(t *testing.T) {
			ks, err := core.New(core.Options{MaxMemory: evMaxMemory, Eviction: c.policy, NoActiveExpiry: true})
			if err != nil {
				t.Fatal(err)
			}
			defer ks.Close()
			rng := rand.New(rand.NewPCG(8, 8))
			var buf []byte
			sizes := map[int]int{}
			// Fill with values of 200..2200 bytes until the first ErrOOM. The
			// bound is enforced per shard, so keep writing 2200-byte values
			// to fresh keys until 400 in a row are refused: then every shard
			// has refused one (16 shards: a miss has odds below 1e-9).
			written, i, refused, firstOOM := 0, 0, 0, -1
			for ; refused < 400 && i < 1_000_000; i++ {
				n := 2200
				if firstOOM < 0 {
					n = 200 + rng.IntN(2001)
				}
				buf = evValue(buf, i, n)
				err := ks.Set(evKey(i), buf)
				evCheckBound(t, ks, fmt.Sprintf("after write %d", i))
				if err != nil {
					if !errors.Is(err, core.ErrOOM) {
						t.Fatalf("write %d: got %v, want ErrOOM", i, err)
					}
					if firstOOM < 0 {
						firstOOM = written
					}
					refused++
					continue
				}
				refused = 0
				sizes[i] = n
				written += n
			}
			st := ks.Stats()
			t.Logf("first ErrOOM after %d bytes of values; full after %d keys, %d bytes of values: UsedBytes=%d (%.1f%% of MaxMemory) Evicted=%d",
				firstOOM, len(sizes), written, st.UsedBytes, 100*float64(st.UsedBytes)/evMaxMemory, st.Evicted)
			if firstOOM < 0 || refused < 400 {
				t.Fatalf("never full: %d writes, %d bytes, %d refused in a row", i, written, refused)
			}
			if st.Evicted != 0 {
				t.Errorf("Evicted = %d with no evictable key", st.Evicted)
			}
			if firstOOM < evMaxMemory/2 {
				t.Errorf("ErrOOM after only %d bytes of values (MaxMemory %d)", firstOOM, evMaxMemory)
			}
			// Still full: nothing was freed, so writes as large fail again.
			for j := 0; j < 100; j++ {
				if err := ks.Set(evKey(5_000_000+j), evValue(nil, j, 2200)); !errors.Is(err, core.ErrOOM) {
					t.Fatalf("write %d while full: got %v, want ErrOOM", j, err)
				}
			}
			// Reads keep working and return every stored value.
			ids := make([]int, 0, len(sizes))
			for j := range sizes {
				ids = append(ids, j)
			}
			sort.Ints(ids)
			for _, j := range ids {
				got, ok := ks.Get(buf[:0], evKey(j))
				if !ok || !bytes.Equal(got, evValue(nil, j, sizes[j])) {
					t.Fatalf("Get(%s) while full: ok=%v, %d bytes, want %d bytes", evKey(j), ok, len(got), sizes[j])
				}
				buf = got
			}
			if ks.Len() != len(ids) {
				t.Errorf("Len() = %d, want %d", ks.Len(), len(ids))
			}
			// Deletes keep working: free the oldest half.
			n := len(ids)
			for _, j := range ids[:n/2] {
				if !ks.Delete(evKey(j)) {
					t.Fatalf("Delete(%s) while full returned false", evKey(j))
				}
			}
			evCheckBound(t, ks, "after deleting half")
			// A quarter of MaxMemory fits again.
			for j, w := 0, 0; w < evMaxMemory/4; j++ {
				v := evValue(buf, 2_000_000+j, 1000)
				if err := ks.Set(evKey(2_000_000+j), v); err != nil {
					t.Fatalf("write %d after deleting half the keys (%d bytes so far): %v", j, w, err)
				}
				w += len(v)
				evCheckBound(t, ks, "refill after delete")
			}
			for _, j := range ids[n/2:] {
				got, ok := ks.Get(buf[:0], evKey(j))
				if !ok || !bytes.Equal(got, evValue(nil, j, sizes[j])) {
					t.Fatalf("Get(%s) after refill: ok=%v, %d bytes", evKey(j), ok, len(got))
				}
				buf = got
			}
			// Flush frees everything.
			ks.Flush()
			if ks.Len() != 0 {
				t.Errorf("Len() after Flush = %d", ks.Len())
			}
			for j, w := 0, 0; w < evMaxMemory*6/10; j++ {
				v := evValue(buf, 3_000_000+j, 1000)
				if err := ks.Set(evKey(3_000_000+j), v); err != nil {
					t.Fatalf("write %d after Flush (%d bytes so far): %v", j, w, err)
				}
				w += len(v)
				evCheckBound(t, ks, "refill after Flush")
			}
		})
	}
}

// evLRU is an exact LRU cache of a fixed number of entries.
type evLRU struct {
	cap   int
	order *list.List // front = most recent
	items map[uint32]*list.Element
}

func newEvLRU(capacity int) *evLRU {
	return &evLRU{cap: capacity, order: list.New(), items: make(map[uint32]*list.Element, capacity+1)}
}

// access returns whether k was cached, and caches it.
func (l *evLRU) access(k uint32) bool {
	if e, ok := l.items[k]; ok {
		l.order.MoveToFront(e)
		return true
	}
	l.items[k] = l.order.PushFront(k)
	if l.order.Len() > l.cap {
		old := l.order.Back()
		l.order.Remove(old)
		delete(l.items, old.Value.(uint32))
	}
	return false
}

// TestEvictionZipfHitRatio runs a read-through Zipf trace (GET, and SET on a
// miss) against a cache holding about 10% of the key space, next to an exact
// LRU holding as many entries as ringdb does at steady state.
func TestEvictionZipfHitRatio(t *testing.T) {
	core.SkipOneGoroutineUnderRace(t)
	t.Parallel() // one goroutine, its own keyspace: overlaps the others
	const (
		keySpace = 100_000
		valSize  = 100
		zipfS    = 1.07
	)
	warmup, measured := 200_000, 600_000
	if testing.Short() {
		warmup, measured = 100_000, 300_000
	}
	keys := make([][]byte, keySpace)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("zipf:%06d", i))
	}
	key := func(i uint32) []byte { return keys[i] }
	val := evValue(nil, 0, valSize)

	// Calibrate the memory cost of one entry on an unbounded keyspace.
	cal, err := core.New(core.Options{NoActiveExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	base := cal.Stats().UsedBytes
	for i := uint32(0); i < keySpace; i++ {
		if err := cal.Set(key(i), val); err != nil {
			t.Fatal(err)
		}
	}
	perEntry := float64(cal.Stats().UsedBytes-base) / keySpace
	cal.Close()
	maxMemory := int64(perEntry * keySpace / 10)

	ks, err := core.New(core.Options{MaxMemory: maxMemory, Eviction: core.AllKeys, NoActiveExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()

	rng := rand.New(rand.NewPCG(42, 4242))
	perm := rng.Perm(keySpace)
	zipf := rand.NewZipf(rng, zipfS, 1, keySpace-1)
	trace := make([]uint32, warmup+measured)
	for i := range trace {
		trace[i] = uint32(perm[zipf.Uint64()])
	}

	var buf []byte
	hits := 0
	lenSum, lenSamples, lenMin, lenMax := 0, 0, int(^uint(0)>>1), 0
	for i, k := range trace {
		var ok bool
		buf, ok = ks.Get(buf[:0], key(k))
		if ok {
			if !bytes.Equal(buf, val) {
				t.Fatalf("Get(%s) returned a wrong value", key(k))
			}
		} else if err := ks.Set(key(k), val); err != nil {
			t.Fatalf("request %d: Set(%s): %v", i, key(k), err)
		}
		if i >= warmup {
			if ok {
				hits++
			}
			if (i-warmup)%1000 == 0 {
				l := ks.Len()
				lenSum += l
				lenSamples++
				lenMin, lenMax = min(lenMin, l), max(lenMax, l)
				if st := ks.Stats(); st.UsedBytes > maxMemory {
					t.Fatalf("request %d: UsedBytes %d > MaxMemory %d", i, st.UsedBytes, maxMemory)
				}
			}
		}
	}
	ours := float64(hits) / float64(measured)
	capacity := lenSum / lenSamples

	lru := newEvLRU(capacity)
	lruHits := 0
	for i, k := range trace {
		if lru.access(k) && i >= warmup {
			lruHits++
		}
	}
	theirs := float64(lruHits) / float64(measured)
	st := ks.Stats()
	t.Logf("Zipf s=%.2f over %d keys, %d+%d requests; %.1f B/entry calibrated, MaxMemory=%d", zipfS, keySpace, warmup, measured, perEntry, maxMemory)
	t.Logf("ringdb holds %d entries on average (min %d, max %d; %.1f%% of the key space); Evicted=%d UsedBytes=%d",
		capacity, lenMin, lenMax, 100*float64(capacity)/keySpace, st.Evicted, st.UsedBytes)
	t.Logf("hit ratio: ringdb %.4f, exact LRU(%d entries) %.4f", ours, capacity, theirs)
	if capacity < keySpace/50 || capacity > keySpace/3 {
		t.Errorf("ringdb holds %d entries; the cache was sized for about %d", capacity, keySpace/10)
	}
	if st.Evicted == 0 {
		t.Errorf("Evicted = 0")
	}
	if ours < theirs {
		t.Errorf("hit ratio %.4f is below the exact LRU's %.4f at the same capacity (%d entries)", ours, theirs, capacity)
	}
}
