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
	for i := 0; i < 20*keys; i++ {
		j := rng.IntN(keys)
		val[0] = byte(i)
		require.NoError(t, ks.Set(key(j), val))
		if u := ks.Stats().UsedBytes; u > maxUsed {
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
