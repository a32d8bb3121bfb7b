package core

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// Without a memory bound nothing forces eviction, but overwrites must not
// let garbage grow without limit: the log is compacted when less than half
// of it is live.
func TestOverwritesKeepGarbageBounded(t *testing.T) {
	SkipOneGoroutineUnderRace(t)
	t.Parallel() // one goroutine, its own keyspace: overlaps the others
	ks, err := New(Options{NoActiveExpiry: true, Shards: 4, PageSize: 16 << 10})
	require.NoError(t, err)
	defer ks.Close()
	const keys = 20_000
	val := make([]byte, 64)
	key := func(i int) []byte { return fmt.Appendf(nil, "key:%08d", i) }
	for i := 0; i < keys; i++ {
		require.NoError(t, ks.Set(key(i), val))
	}
	filled := ks.Stats().UsedBytes
	rng := rand.New(rand.NewPCG(1, 2))
	maxUsed := int64(0)
	var kb []byte
	for i := 0; i < 20*keys; i++ {
		j := rng.IntN(keys)
		val[0] = byte(i)
		kb = fmt.Appendf(kb[:0], "key:%08d", j) // key(j), without a new slice each time
		require.NoError(t, ks.Set(kb, val))
		if u := ks.UsedBytes(); u > maxUsed {
			maxUsed = u
		}
	}
	t.Logf("used after fill %d, max during 20x overwrites %d", filled, maxUsed)
	// Twice the live data, plus a tail page and a page in flight per log.
	require.Less(t, maxUsed, 2*filled+4*4*16<<10, "garbage grew without bound")
	for i := 0; i < keys; i += 97 {
		_, ok := ks.Get(nil, key(i))
		require.True(t, ok)
	}
}

// CONFIG SET maxmemory / maxmemory-policy at run time: a lower bound is
// enforced by the next writes, and the policy switch takes effect.
func TestSetMaxMemoryAtRunTime(t *testing.T) {
	ks, err := New(Options{NoActiveExpiry: true, Shards: 4, PageSize: 16 << 10})
	require.NoError(t, err)
	defer ks.Close()
	val := make([]byte, 100)
	for i := 0; i < 50_000; i++ {
		require.NoError(t, ks.Set(fmt.Appendf(nil, "k%d", i), val))
	}
	require.Greater(t, ks.Stats().UsedBytes, int64(4<<20))
	require.NoError(t, ks.SetMaxMemory(2<<20))
	// Writes that fit the shards' partly filled tail pages still land; the
	// first one that needs a page must fail.
	var oomErr error
	for i := 0; i < 1000 && oomErr == nil; i++ {
		oomErr = ks.Set(fmt.Appendf(nil, "new%d", i), val)
	}
	require.ErrorIs(t, oomErr, ErrOOM, "noeviction refuses writes over the new bound")
	require.NoError(t, ks.SetEviction(AllKeys))
	for i := 0; i < 5_000; i++ {
		require.NoError(t, ks.Set(fmt.Appendf(nil, "n%d", i), val))
	}
	st := ks.Stats()
	require.LessOrEqual(t, st.UsedBytes, int64(2<<20))
	require.Equal(t, int64(2<<20), st.MaxBytes)
	require.Positive(t, st.Evicted)
	require.Error(t, ks.SetMaxMemory(-1))
}
