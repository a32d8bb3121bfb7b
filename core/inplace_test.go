package core

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkAlignment asserts the invariant in-place writes rely on: every
// aligned record's value starts on an 8-byte boundary of its page.
func checkAlignment(t *testing.T, ks *Keyspace) {
	t.Helper()
	aligned := 0
	for i := range ks.shards {
		s := &ks.shards[i]
		s.mu.Lock()
		tb := s.table.Load()
		for j := range tb.slots {
			a := slotAddr(tb.slots[j].Load())
			if a == 0 {
				continue
			}
			r, pg := s.recordAt(a)
			if !r.aligned {
				continue
			}
			aligned++
			require.False(t, pg.large, "aligned record in a large buffer")
			require.Zero(t, addrOff(a)%8, "record %q starts at page offset %d", r.key, addrOff(a))
			require.Zero(t, (addrOff(a)+r.voff)%8, "value of %q at page offset %d not 8-byte aligned", r.key, addrOff(a)+r.voff)
			require.Zero(t, (addrOff(a)+r.seqOff)%4, "sequence of %q at page offset %d not 4-byte aligned", r.key, addrOff(a)+r.seqOff)
			require.Less(t, r.seqOff+4, r.voff+1)
		}
		s.mu.Unlock()
	}
	require.NotZero(t, aligned, "no aligned records at all")
}

// recordOf returns key's current record.
func recordOf(ks *Keyspace, key []byte) record {
	r, _, _ := entryOf(ks, key)
	return r
}

// entryOf returns key's current record, its page, and whether it was
// found, looked up under the shard's lock.
func entryOf(ks *Keyspace, key []byte) (record, *page, bool) {
	s, h := ks.shardFor(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, r, pg, ok := s.lookup(s.table.Load(), h, key)
	return r, pg, ok
}

// Overwriting a value with one of the same length and deadline writes in
// place: no new record, so no page fills up and nothing needs compacting.
func TestInPlaceOverwriteMakesNoGarbage(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 4, PageSize: 16 << 10})
	require.NoError(t, err)
	defer ks.Close()
	key := func(i int) []byte { return fmt.Appendf(nil, "key:%d", i) }
	val := func(i, round, n int) []byte {
		return bytes.Repeat([]byte{byte('a' + (i+round)%26)}, n)
	}
	lens := []int{0, 1, 7, 8, 13, 61, 64, alignedMax}
	const keys = 2000
	for i := range keys {
		require.NoError(t, ks.Set(key(i), val(i, 0, lens[i%len(lens)])))
	}
	// A first write is compact; the first rewrite makes the record aligned.
	require.False(t, recordOf(ks, key(3)).aligned, "a key's first record is compact")
	for i := range keys {
		require.NoError(t, ks.Set(key(i), val(i, 1, lens[i%len(lens)])))
	}
	require.True(t, recordOf(ks, key(3)).aligned, "a rewritten key's record is aligned")
	used := ks.Stats().UsedBytes
	for round := 2; round <= 20; round++ {
		for i := range keys {
			require.NoError(t, ks.Set(key(i), val(i, round, lens[i%len(lens)])))
		}
	}
	require.Equal(t, used, ks.Stats().UsedBytes, "same-length overwrites allocated memory")
	require.EqualValues(t, keys*21, ks.Stats().Sets)
	for i := range keys {
		got, ok := ks.Get(nil, key(i))
		require.True(t, ok)
		require.Equal(t, string(val(i, 20, lens[i%len(lens)])), string(got))
	}
	checkAlignment(t, ks)

	// A different length or a different deadline takes the ordinary path.
	require.NoError(t, ks.Set(key(5), []byte("longer than before, surely")))
	got, _ := ks.Get(nil, key(5))
	require.Equal(t, "longer than before, surely", string(got))
	_, err = ks.SetOpt(nil, key(6), val(6, 99, lens[6%len(lens)]), SetOptions{TTL: 100_000})
	require.NoError(t, err)
	pttl := ks.PTTL(key(6))
	require.Greater(t, pttl, int64(90_000))
	// KEEPTTL with the same length stays in place and keeps the deadline.
	used = ks.Stats().UsedBytes
	_, err = ks.SetOpt(nil, key(6), val(6, 100, lens[6%len(lens)]), SetOptions{KeepTTL: true})
	require.NoError(t, err)
	require.Equal(t, used, ks.Stats().UsedBytes)
	got, _ = ks.Get(nil, key(6))
	require.Equal(t, val(6, 100, lens[6%len(lens)]), got)
	pttl = ks.PTTL(key(6))
	require.Greater(t, pttl, int64(90_000))
	// A new deadline of the same length of value is stored in place too,
	// by SET ... PX and by PEXPIRE.
	_, err = ks.SetOpt(nil, key(6), val(6, 102, lens[6%len(lens)]), SetOptions{TTL: 500_000})
	require.NoError(t, err)
	require.Equal(t, used, ks.Stats().UsedBytes)
	pttl = ks.PTTL(key(6))
	require.Greater(t, pttl, int64(490_000))
	got, _ = ks.Get(nil, key(6))
	require.Equal(t, val(6, 102, lens[6%len(lens)]), got)
	ok, err := ks.PExpire(key(6), 200_000, ExpireAlways)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, used, ks.Stats().UsedBytes)
	pttl = ks.PTTL(key(6))
	require.Greater(t, pttl, int64(190_000))
	require.LessOrEqual(t, pttl, int64(200_000))
	// A plain SET drops the TTL: new deadline, new record.
	require.NoError(t, ks.Set(key(6), val(6, 101, lens[6%len(lens)])))
	pttl = ks.PTTL(key(6))
	require.Equal(t, int64(-1), pttl)
	checkAlignment(t, ks)
}

// INCR rewrites the number in place while its length stays the same.
func TestInPlaceIncr(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1, PageSize: 4 << 10})
	require.NoError(t, err)
	defer ks.Close()
	_, err = ks.IncrBy([]byte("n"), 100)
	require.NoError(t, err)
	_, err = ks.Incr([]byte("n")) // the first rewrite: an aligned record
	require.NoError(t, err)
	used := ks.Stats().UsedBytes
	for want := int64(102); want <= 999; want++ {
		got, err := ks.Incr([]byte("n"))
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	require.Equal(t, used, ks.Stats().UsedBytes, "INCR of a same-length number allocated")
	got, err := ks.Incr([]byte("n")) // 1000: one digit more, a new record
	require.NoError(t, err)
	require.Equal(t, int64(1000), got)
	v, _ := ks.Get(nil, []byte("n"))
	require.Equal(t, "1000", string(v))
}

// Readers racing in-place writers never see a value mixed from two writes,
// also while compaction moves the records they read (run it with -race:
// checkptr also checks every word's alignment).
func TestInPlaceReadersNeverTear(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 2, PageSize: 8 << 10})
	require.NoError(t, err)
	defer ks.Close()
	lens := []int{8, 37, 64, 200}
	const keys = 16
	key := func(i int) []byte { return fmt.Appendf(nil, "hot:%d", i) }
	// A value is its writer's counter in every 8-byte word, the tail
	// holding the counter's low bytes: a torn read mixes two counters.
	mk := func(dst []byte, n int, c uint64) []byte {
		dst = dst[:0]
		for len(dst)+8 <= n {
			dst = binary.LittleEndian.AppendUint64(dst, c)
		}
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], c)
		return append(dst, w[:n-len(dst)]...)
	}
	check := func(v []byte, n int) error {
		if len(v) != n {
			return fmt.Errorf("length %d, want %d", len(v), n)
		}
		var c uint64
		if n >= 8 {
			c = binary.LittleEndian.Uint64(v)
		} else {
			var w [8]byte
			copy(w[:], v)
			c = binary.LittleEndian.Uint64(w[:])
		}
		if want := mk(nil, n, c); !bytes.Equal(v, want) {
			return fmt.Errorf("torn value %x", v)
		}
		return nil
	}
	for i := range keys {
		require.NoError(t, ks.Set(key(i), mk(nil, lens[i%len(lens)], 0)))
	}
	iters := 20000
	if testing.Short() {
		iters = 5000
	}
	var wg sync.WaitGroup
	var stop atomic.Bool
	var failed atomic.Value
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for c := uint64(1); c <= uint64(iters); c++ {
				i := int(c*7+uint64(w)) % keys
				buf = mk(buf, lens[i%len(lens)], c<<8|uint64(w))
				if err := ks.Set(key(i), buf); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	// Churn of other keys fills pages, so compaction keeps moving the hot
	// records (aligned ones must stay aligned at their new place).
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(3, 4))
		for j := 0; j < iters; j++ {
			k := fmt.Appendf(nil, "churn:%d", rng.IntN(64))
			if err := ks.Set(k, make([]byte, 1+rng.IntN(300))); err != nil {
				failed.CompareAndSwap(nil, err)
				return
			}
		}
	}()
	var readers sync.WaitGroup
	for r := range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var buf []byte
			for n := 0; !stop.Load(); n++ {
				i := (n + r*5) % keys
				var ok bool
				buf, ok = ks.Get(buf[:0], key(i))
				if !ok {
					failed.CompareAndSwap(nil, fmt.Errorf("key %d missing", i))
					return
				}
				if err := check(buf, lens[i%len(lens)]); err != nil {
					failed.CompareAndSwap(nil, fmt.Errorf("key %d: %w", i, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	readers.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	checkAlignment(t, ks)
}

// Deadlines moved in place (SET ... PX, PEXPIRE) are read atomically by
// lock-free readers: every reader sees one of the deadlines written (all
// far in the future here), never a mix, and the race detector sees no race.
func TestInPlaceDeadlinesUnderReaders(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1, PageSize: 4 << 10})
	require.NoError(t, err)
	defer ks.Close()
	keys := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	val := []byte("twenty-four bytes, fixed")
	for range 2 { // written, then rewritten into an aligned record
		for _, k := range keys {
			_, err := ks.SetOpt(nil, k, val, SetOptions{TTL: 150_000})
			require.NoError(t, err)
		}
	}
	used := ks.Stats().UsedBytes
	iters := 20000
	if testing.Short() {
		iters = 5000
	}
	var wg sync.WaitGroup
	var stop atomic.Bool
	var failed atomic.Value
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(5, 6))
		for i := range iters {
			k := keys[i%len(keys)]
			ttl := 100_000 + rng.Int64N(100_000)
			var err error
			if i%2 == 0 {
				_, err = ks.SetOpt(nil, k, val, SetOptions{TTL: ttl})
			} else {
				_, err = ks.PExpire(k, ttl, ExpireAlways)
			}
			if err != nil {
				failed.CompareAndSwap(nil, err)
				return
			}
		}
	}()
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		var buf []byte
		for n := 0; !stop.Load(); n++ {
			k := keys[n%len(keys)]
			if p := ks.PTTL(k); p <= 0 || p > 200_000 {
				failed.CompareAndSwap(nil, fmt.Errorf("PTTL(%s) = %d", k, p))
				return
			}
			var ok bool
			if buf, ok = ks.Get(buf[:0], k); !ok || string(buf) != string(val) {
				failed.CompareAndSwap(nil, fmt.Errorf("Get(%s) = %q, %v", k, buf, ok))
				return
			}
		}
	}()
	wg.Wait()
	stop.Store(true)
	readers.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	require.Equal(t, used, ks.Stats().UsedBytes, "deadline moves allocated records")
}

// SET ... KEEPTTL on a key whose kept deadline is now keeps it for the rest
// of that millisecond, as Redis 7.0 does (a key expires strictly after its
// deadline, and SET does not check the deadline it sets), and not a
// millisecond longer.
func TestKeepTTLAtDeadline(t *testing.T) {
	now := int64(1_700_000_000_000)
	ks, err := New(Options{NoActiveExpiry: true, Clock: func() int64 { return now }})
	require.NoError(t, err)
	defer ks.Close()
	_, err = ks.SetOpt(nil, []byte("a"), []byte("0"), SetOptions{TTL: 999})
	require.NoError(t, err)
	now += 999
	_, err = ks.SetOpt(nil, []byte("a"), []byte("1"), SetOptions{KeepTTL: true})
	require.NoError(t, err)
	v, ok := ks.Get(nil, []byte("a"))
	require.True(t, ok)
	require.Equal(t, "1", string(v))
	now++
	_, ok = ks.Get(nil, []byte("a"))
	require.False(t, ok)
}
