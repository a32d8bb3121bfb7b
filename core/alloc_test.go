package core

import (
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// The read path and an overwriting write must not allocate.
func TestHotPathsAllocateNothing(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true})
	require.NoError(t, err)
	defer ks.Close()
	key := []byte("0123456789abcdef")
	val := make([]byte, 64)
	require.NoError(t, ks.Set(key, val))
	buf := make([]byte, 0, 128)

	require.Zero(t, testing.AllocsPerRun(1000, func() {
		var ok bool
		buf, ok = ks.Get(buf[:0], key)
		if !ok {
			panic("missing")
		}
	}), "Get")
	require.Zero(t, testing.AllocsPerRun(1000, func() {
		if err := ks.Set(key, val); err != nil {
			panic(err)
		}
	}), "overwriting Set")
	require.Zero(t, testing.AllocsPerRun(1000, func() { ks.Exists(key) }), "Exists")
	require.Zero(t, testing.AllocsPerRun(1000, func() { ks.PTTL(key) }), "PTTL")
	_, err = ks.SetOpt(nil, key, val, SetOptions{TTL: 60_000})
	require.NoError(t, err)
	require.Zero(t, testing.AllocsPerRun(1000, func() {
		if _, err := ks.SetOpt(nil, key, val, SetOptions{TTL: 60_000}); err != nil {
			panic(err)
		}
	}), "overwriting SetOpt with TTL")
}

// Records live in arena pages and the index is pointer-free, so the number
// of heap objects must not grow with the number of keys.
func TestHeapObjectsDoNotGrowWithKeys(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true})
	require.NoError(t, err)
	defer ks.Close()
	val := make([]byte, 64)
	key := make([]byte, 0, 32)
	objects := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapObjects
	}
	fill := func(from, to int) {
		for i := from; i < to; i++ {
			key = fmt.Appendf(key[:0], "key-%012d", i)
			require.NoError(t, ks.Set(key, val))
		}
	}
	fill(0, 10_000)
	base := objects()
	fill(10_000, 210_000)
	grown := objects()
	// 200,000 more keys; allow a few hundred objects for pages and tables
	// (about 80 pages of 256 KiB), and other runtime noise.
	t.Logf("heap objects: %d with 10k keys, %d with 210k keys", base, grown)
	require.Less(t, int64(grown)-int64(base), int64(2000))
}

// Shards sit in one array; each must start on a cache line so that its
// reader-side fields and its mutex keep lines of their own.
func TestShardLayout(t *testing.T) {
	var s shard
	require.Zero(t, unsafe.Sizeof(s)%64, "shard size %d", unsafe.Sizeof(s))
	require.GreaterOrEqual(t, unsafe.Offsetof(s.mu), uintptr(64))
}

// Reads of metadata count as keyspace hits or misses, as Redis counts
// EXISTS, TTL and STRLEN; Meta, used on the way to a write, does not.
func TestMetadataReadsCountHitsAndMisses(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true})
	require.NoError(t, err)
	defer ks.Close()
	require.NoError(t, ks.Set([]byte("k"), []byte("v")))
	before := ks.Stats()
	ks.Exists([]byte("k"))
	ks.PTTL([]byte("k"))
	ks.StrLen([]byte("k"))
	ks.TTL([]byte("missing"))
	ks.PExpireTime([]byte("missing"))
	ks.Meta([]byte("k"))
	ks.Meta([]byte("missing"))
	after := ks.Stats()
	require.Equal(t, uint64(3), after.Hits-before.Hits)
	require.Equal(t, uint64(2), after.Misses-before.Misses)
}
