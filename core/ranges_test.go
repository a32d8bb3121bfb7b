package core

import (
	"bytes"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Table tests for GetRange and SetRange, in the style of
// ops_test.go: every expected result is what redis-server 7.0.15 answered
// to GETRANGE and SETRANGE (redis-cli), unless a row says
// otherwise.

// getRangeRedis are GETRANGE s start end on "Hello World" as Redis 7.0.15
// answers them.
var getRangeRedis = []struct {
	start, end int64
	want       string
}{
	{0, 4, "Hello"},
	{-5, -1, "World"},
	{-1, -5, ""},
	{0, -1, "Hello World"},
	{5, 3, ""},
	{-100, 100, "Hello World"},
	{100, 200, ""},
	{-3, -3, "r"},
	{0, 0, "H"},
	{-1, -1, "d"},
	{11, 11, ""},
	{10, 10, "d"},
	{math.MinInt64, math.MaxInt64, "Hello World"},
	{math.MinInt64, math.MinInt64, "H"},
	{math.MaxInt64, math.MaxInt64, ""},
	{-11, -11, "H"},
	{-12, -12, "H"},
	{3, -3, "lo Wor"},
}

// TestOpsGetRange runs the Redis table on each way a value can be stored:
// its first (compact) record, a rewritten (aligned, word-copied) record,
// and with a TTL.
func TestOpsGetRange(t *testing.T) {
	const val = "Hello World"
	for _, form := range []string{"compact", "aligned", "ttl"} {
		t.Run(form, func(t *testing.T) {
			ks, _ := newOpsKS(t, Options{})
			key := opsB("s")
			switch form {
			case "compact":
				require.NoError(t, ks.Set(key, opsB(val)))
			case "aligned":
				require.NoError(t, ks.Set(key, opsB("other value")))
				require.NoError(t, ks.Set(key, opsB(val)))
				require.True(t, recordOf(ks, key).aligned)
			case "ttl":
				_, err := ks.SetOpt(nil, key, opsB(val), SetOptions{TTL: 100_000})
				require.NoError(t, err)
			}
			for _, tc := range getRangeRedis {
				got, ok := ks.GetRange(opsB("prefix:"), key, tc.start, tc.end)
				assert.True(t, ok, "GETRANGE s %d %d", tc.start, tc.end)
				assert.Equal(t, "prefix:"+tc.want, string(got), "GETRANGE s %d %d", tc.start, tc.end)
			}
		})
	}
	t.Run("missing, expired, empty", func(t *testing.T) {
		ks, now := newOpsKS(t, Options{})
		seedOps(t, ks, []opsKV{{"gone", "value", 1000}, {"empty", "", 0}})
		now.Add(1001)
		for _, k := range []string{"nokey", "gone"} {
			got, ok := ks.GetRange(opsB("d"), opsB(k), 0, -1)
			assert.False(t, ok, k)
			assert.Equal(t, "d", string(got), k)
		}
		got, ok := ks.GetRange(nil, opsB("empty"), 0, -1)
		assert.True(t, ok)
		assert.Empty(t, got)
		got, ok = ks.GetRange(nil, opsB("empty"), -1, 0)
		assert.True(t, ok)
		assert.Empty(t, got)
	})
	t.Run("binary", func(t *testing.T) {
		ks, _ := newOpsKS(t, Options{})
		require.NoError(t, ks.Set(opsB("b"), opsB("\x00\xff\r\n\x00")))
		got, _ := ks.GetRange(nil, opsB("b"), 1, 3)
		assert.Equal(t, "\xff\r\n", string(got))
	})
}

// TestGetRangeCountsReads: GETRANGE is a read in keyspace_hits/misses, as
// in Redis (lookupKeyRead).
func TestGetRangeCountsReads(t *testing.T) {
	ks, _ := newOpsKS(t, Options{})
	require.NoError(t, ks.Set(opsB("k"), opsB("v")))
	before := ks.Stats()
	ks.GetRange(nil, opsB("k"), 5, 9) // a hit, though the range is empty
	ks.GetRange(nil, opsB("nokey"), 0, -1)
	after := ks.Stats()
	assert.Equal(t, before.Hits+1, after.Hits)
	assert.Equal(t, before.Misses+1, after.Misses)
}

// TestGetRangeLargeCopiesOnlyTheRange: a range of a large value is cut
// from its buffer, never copied whole first.
func TestGetRangeLargeCopiesOnlyTheRange(t *testing.T) {
	ks, _ := newOpsKS(t, Options{})
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>11)
	}
	key := opsB("big")
	require.NoError(t, ks.Set(key, big))
	for _, tc := range []struct {
		start, end int64
		want       []byte
	}{
		{0, 9, big[:10]},
		{-10, -1, big[len(big)-10:]},
		{1 << 20, 1<<20 + 99, big[1<<20 : 1<<20+100]},
		{-5, 1 << 40, big[len(big)-5:]},
	} {
		got, ok := ks.GetRange(nil, key, tc.start, tc.end)
		require.True(t, ok)
		require.Equal(t, tc.want, got, "GETRANGE big %d %d", tc.start, tc.end)
		assert.Less(t, cap(got), 4096, "GETRANGE big %d %d: the result's buffer has room for the whole value", tc.start, tc.end)
	}
	got, _ := ks.GetRange(nil, key, 0, -1)
	require.True(t, bytes.Equal(big, got))

	// A small range allocates no more than the range, whatever the value.
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	buf := make([]byte, 0, 64)
	for range 100 {
		buf, _ = ks.GetRange(buf[:0], key, 1000, 1063)
	}
	runtime.ReadMemStats(&ms)
	assert.Less(t, ms.TotalAlloc-before, uint64(1<<20), "100 64-byte ranges of a 3 MiB value")
}

// TestGetRangeAllocatesNothing: into a buffer with room, a range of an
// aligned record (read word by word) and of a compact one allocate
// nothing, as Get does not.
func TestGetRangeAllocatesNothing(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true})
	require.NoError(t, err)
	defer ks.Close()
	compact, aligned := opsB("compact"), opsB("aligned")
	require.NoError(t, ks.Set(compact, bytes.Repeat([]byte("c"), 100)))
	require.NoError(t, ks.Set(aligned, bytes.Repeat([]byte("a"), 100)))
	require.NoError(t, ks.Set(aligned, bytes.Repeat([]byte("A"), 100)))
	require.True(t, recordOf(ks, aligned).aligned)
	buf := make([]byte, 0, 128)
	for _, key := range [][]byte{compact, aligned} {
		require.Zero(t, testing.AllocsPerRun(1000, func() {
			var ok bool
			buf, ok = ks.GetRange(buf[:0], key, 3, 50)
			if !ok || len(buf) != 48 {
				panic("bad range")
			}
		}), "GetRange %s", key)
	}
}

// TestGetRangeReadersNeverTear: ranges read while the value is overwritten
// in place (same length: aligned records) come from one write only. Every
// write fills the value with one byte; a torn range mixes two. Run with
// -race.
func TestGetRangeReadersNeverTear(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1, PageSize: 8 << 10})
	require.NoError(t, err)
	defer ks.Close()
	key := opsB("hot")
	const n = 61
	require.NoError(t, ks.Set(key, bytes.Repeat([]byte{0}, n)))
	iters := 20000
	if testing.Short() {
		iters = 5000
	}
	var stop atomic.Bool
	var failed atomic.Value
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer stop.Store(true)
		buf := make([]byte, n)
		for c := 1; c <= iters; c++ {
			for i := range buf {
				buf[i] = byte(c)
			}
			if c%3 == 0 {
				if _, err := ks.SetRange(key, 0, buf); err != nil { // in place too
					failed.CompareAndSwap(nil, err)
					return
				}
			} else if err := ks.Set(key, buf); err != nil {
				failed.CompareAndSwap(nil, err)
				return
			}
		}
	}()
	ranges := [][2]int64{{3, 21}, {0, -1}, {-9, -2}, {7, 8}, {16, 23}}
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := r; !stop.Load(); i++ {
				rg := ranges[i%len(ranges)]
				var ok bool
				buf, ok = ks.GetRange(buf[:0], key, rg[0], rg[1])
				lo, hi := valueSpan(n, rg[0], rg[1])
				if !ok || len(buf) != hi-lo {
					failed.CompareAndSwap(nil, fmt.Errorf("GETRANGE %v: %q, %v", rg, buf, ok))
					return
				}
				if len(buf) > 0 && bytes.Count(buf, buf[:1]) != len(buf) {
					failed.CompareAndSwap(nil, fmt.Errorf("GETRANGE %v: torn %x", rg, buf))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
}

func TestOpsSetRange(t *testing.T) {
	cases := []struct {
		name    string
		pre     []opsKV
		advance int64
		offset  int64
		val     string
		want    int
		wantErr error
		after   opsState
	}{
		{name: "SETRANGE k 0 '' (missing)", val: "", want: 0, after: opsState{"k", "", opsAbsent}},
		{name: "SETRANGE k 5 '' (missing)", offset: 5, val: "", want: 0, after: opsState{"k", "", opsAbsent}},
		{name: "SETRANGE k 3 xy (missing)", offset: 3, val: "xy", want: 5, after: opsState{"k", "\x00\x00\x00xy", -1}},
		{name: "SETRANGE k 0 abc (missing)", val: "abc", want: 3, after: opsState{"k", "abc", -1}},
		{name: "SETRANGE k 1 ipp (hello, keeps TTL)", pre: []opsKV{{"k", "hello", 100_000}}, offset: 1, val: "ipp", want: 5, after: opsState{"k", "hippo", 100_000}},
		{name: "SETRANGE k 1 ipp (hello)", pre: []opsKV{{"k", "hello", 0}}, offset: 1, val: "ipp", want: 5, after: opsState{"k", "hippo", -1}},
		{name: "SETRANGE k 3 LOWORLD (hello, grows)", pre: []opsKV{{"k", "hello", 0}}, offset: 3, val: "LOWORLD", want: 10, after: opsState{"k", "helLOWORLD", -1}},
		{name: "SETRANGE k 8 x (hello, pads)", pre: []opsKV{{"k", "hello", 100_000}}, advance: 1000, offset: 8, val: "x", want: 9, after: opsState{"k", "hello\x00\x00\x00x", 99_000}},
		{name: "SETRANGE k 0 '' (hello)", pre: []opsKV{{"k", "hello", 100_000}}, val: "", want: 5, after: opsState{"k", "hello", 100_000}},
		{name: "SETRANGE k 1000 '' (hello)", pre: []opsKV{{"k", "hello", 0}}, offset: 1000, val: "", want: 5, after: opsState{"k", "hello", -1}},
		{name: "SETRANGE k 5 '!' (hello, appends)", pre: []opsKV{{"k", "hello", 0}}, offset: 5, val: "!", want: 6, after: opsState{"k", "hello!", -1}},
		{name: "SETRANGE k 0 xy (empty value)", pre: []opsKV{{"k", "", 0}}, val: "xy", want: 2, after: opsState{"k", "xy", -1}},
		{name: "SETRANGE k 2 xy (expired)", pre: []opsKV{{"k", "hello", 1000}}, advance: 1001, offset: 2, val: "xy", want: 4, after: opsState{"k", "\x00\x00xy", -1}},
		{name: "SETRANGE k 2 '' (expired)", pre: []opsKV{{"k", "hello", 1000}}, advance: 1001, offset: 2, val: "", want: 0, after: opsState{"k", "", opsAbsent}},
		{name: "SETRANGE k 1 \\x00\\xff (binary)", pre: []opsKV{{"k", "a\r\nb", 0}}, offset: 1, val: "\x00\xff", want: 4, after: opsState{"k", "a\x00\xffb", -1}},
		{name: "SETRANGE k -1 x", pre: []opsKV{{"k", "hello", 0}}, offset: -1, val: "x", wantErr: ErrOffsetRange, after: opsState{"k", "hello", -1}},
		{name: "SETRANGE k -1 '' (offset checked first)", pre: []opsKV{{"k", "hello", 0}}, offset: -1, val: "", wantErr: ErrOffsetRange, after: opsState{"k", "hello", -1}},
		{name: "SETRANGE k -1 '' (missing)", offset: -1, val: "", wantErr: ErrOffsetRange, after: opsState{"k", "", opsAbsent}},
		{name: "SETRANGE k MinInt64 x", offset: math.MinInt64, val: "x", wantErr: ErrOffsetRange, after: opsState{"k", "", opsAbsent}},
		{name: "SETRANGE k 536870912 x (missing)", offset: 536870912, val: "x", wantErr: ErrValueTooLarge, after: opsState{"k", "", opsAbsent}},
		{name: "SETRANGE k 536870912 x", pre: []opsKV{{"k", "hello", 0}}, offset: 536870912, val: "x", wantErr: ErrValueTooLarge, after: opsState{"k", "hello", -1}},
		{name: "SETRANGE k MaxInt64 x", pre: []opsKV{{"k", "hello", 0}}, offset: math.MaxInt64, val: "x", wantErr: ErrValueTooLarge, after: opsState{"k", "hello", -1}},
		{name: "SETRANGE k 536870912 '' (no size check)", pre: []opsKV{{"k", "hello", 0}}, offset: 536870912, val: "", want: 5, after: opsState{"k", "hello", -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{})
			seedOps(t, ks, tc.pre)
			now.Add(tc.advance)
			n, err := ks.SetRange(opsB("k"), tc.offset, opsB(tc.val))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.want, n)
			}
			checkOpsState(t, ks, []opsState{tc.after})
		})
	}
}

// TestSetRangeLimits: the value limit is MaxValueSize, offset+len(value)
// up to it included; over it the error comes before any allocation, also
// when the offset is absurd.
func TestSetRangeLimits(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxValueSize: 100})
	n, err := ks.SetRange(opsB("k"), 99, opsB("x"))
	require.NoError(t, err)
	assert.Equal(t, 100, n)
	_, err = ks.SetRange(opsB("k"), 99, opsB("xy"))
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 101, le.Size)
	assert.Equal(t, 100, le.Limit)
	_, err = ks.SetRange(opsB("k"), math.MaxInt64, opsB("xy"))
	require.ErrorAs(t, err, &le)
	assert.Equal(t, math.MaxInt, le.Size)
	_, err = ks.SetRange(opsB("k"), 0, make([]byte, 101))
	require.ErrorIs(t, err, ErrValueTooLarge)
	_, err = ks.SetRange(make([]byte, DefaultMaxKeySize+1), 0, opsB("x"))
	require.ErrorIs(t, err, ErrKeyTooLarge)

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	big, _ := newOpsKS(t, Options{})
	for _, off := range []int64{DefaultMaxValueSize, math.MaxInt64 - 1, 1 << 40} {
		_, err = big.SetRange(opsB("k"), off, opsB("x"))
		require.ErrorIs(t, err, ErrValueTooLarge, "offset %d", off)
	}
	runtime.ReadMemStats(&ms)
	assert.Less(t, ms.TotalAlloc-before, uint64(16<<20), "refused SETRANGEs allocated")
}

// TestSetRangeMemoryBound: a SETRANGE whose result cannot fit the memory
// bound fails with ErrOOM under noeviction, before building the value, and
// leaves the key as it was; one that fits counts against the bound.
func TestSetRangeMemoryBound(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 4 << 20, Shards: 1, PageSize: 64 << 10})
	require.NoError(t, ks.Set(opsB("k"), opsB("hello")))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	_, err := ks.SetRange(opsB("k"), 100<<20, opsB("x"))
	require.ErrorIs(t, err, ErrOOM)
	_, err = ks.SetRange(opsB("new"), 100<<20, opsB("x"))
	require.ErrorIs(t, err, ErrOOM)
	runtime.ReadMemStats(&ms)
	assert.Less(t, ms.TotalAlloc-before, uint64(8<<20), "a SETRANGE refused for memory built its value")
	checkOpsState(t, ks, []opsState{{"k", "hello", -1}, {"new", "", opsAbsent}})

	used := ks.Stats().UsedBytes
	n, err := ks.SetRange(opsB("k"), 1<<20, opsB("x"))
	require.NoError(t, err)
	require.Equal(t, 1<<20+1, n)
	assert.GreaterOrEqual(t, ks.Stats().UsedBytes-used, int64(1<<20), "a 1 MiB value is counted")
	// Filling the bound with such values ends in ErrOOM, not past it.
	var oom error
	for i := 0; i < 10 && oom == nil; i++ {
		_, oom = ks.SetRange(fmt.Appendf(nil, "k%d", i), 1<<20, opsB("x"))
	}
	require.ErrorIs(t, oom, ErrOOM)
	assert.LessOrEqual(t, ks.Stats().UsedBytes, int64(4<<20))
}

// TestSetRangeLarge: SETRANGE into, across and past the edge of large
// values (own buffers) and values that grow into one; a pooled buffer's
// old bytes never show through the zero padding.
func TestSetRangeLarge(t *testing.T) {
	ks, _ := newOpsKS(t, Options{})
	big := bytes.Repeat([]byte("0123456789"), 20_000) // 200 KB
	key := opsB("big")
	_, err := ks.SetOpt(nil, key, big, SetOptions{TTL: 100_000})
	require.NoError(t, err)
	model := bytes.Clone(big)
	apply := func(off int, v string) {
		t.Helper()
		if need := off + len(v); need > len(model) {
			model = append(model, make([]byte, need-len(model))...)
		}
		copy(model[off:], v)
		n, err := ks.SetRange(key, int64(off), opsB(v))
		require.NoError(t, err)
		require.Equal(t, len(model), n)
		got, ok := ks.Get(nil, key)
		require.True(t, ok)
		require.True(t, bytes.Equal(model, got), "SETRANGE big %d %q", off, v)
		assert.Equal(t, int64(100_000), ks.PTTL(key), "TTL kept")
	}
	apply(100_000, "middle")
	apply(0, "start")
	apply(len(model)-2, "edge")
	apply(len(model)+50_000, "past") // zero padding in a large buffer
	// Recycle a large buffer full of 0xff, then grow a small value into
	// one: the padding must be zeros.
	junk := bytes.Repeat([]byte{0xff}, 300_000)
	require.NoError(t, ks.Set(opsB("junk"), junk))
	ks.Delete(opsB("junk"))
	require.NoError(t, ks.Set(opsB("small"), opsB("abc")))
	n, err := ks.SetRange(opsB("small"), 299_000, opsB("z"))
	require.NoError(t, err)
	require.Equal(t, 299_001, n)
	got, _ := ks.Get(nil, opsB("small"))
	want := append(append([]byte("abc"), make([]byte, 299_000-3)...), 'z')
	require.True(t, bytes.Equal(want, got), "padding of a grown value is not zeros")
}

// TestSetRangeInPlace: once a key has an aligned record, a SETRANGE that
// keeps the length writes in place (no new memory), as INCR does.
func TestSetRangeInPlace(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 1, PageSize: 4 << 10})
	require.NoError(t, err)
	defer ks.Close()
	key := opsB("k")
	require.NoError(t, ks.Set(key, opsB(strings.Repeat(".", 40))))
	_, err = ks.SetRange(key, 0, opsB("x")) // the first rewrite: aligned
	require.NoError(t, err)
	require.True(t, recordOf(ks, key).aligned)
	used, sets := ks.Stats().UsedBytes, ks.Stats().Sets
	want := []byte("x" + strings.Repeat(".", 39))
	for i := 1; i < 40; i++ {
		n, err := ks.SetRange(key, int64(i), []byte{byte('a' + i%26)})
		require.NoError(t, err)
		require.Equal(t, 40, n)
		want[i] = byte('a' + i%26)
	}
	assert.Equal(t, used, ks.Stats().UsedBytes, "same-length SETRANGE allocated")
	assert.Equal(t, sets+39, ks.Stats().Sets)
	got, _ := ks.Get(nil, key)
	assert.Equal(t, string(want), string(got))
}
