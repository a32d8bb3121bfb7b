package core

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUsedBytesNeverReadsOverBound: UsedBytes and Stats summed the
// shards' used bytes one after another while budget moved between them:
// a shard read before it freed memory and gave the budget up, and the
// shard that took it read after it grew, so the sum came out over
// MaxMemory though no moment's total was (up to ~1.5 MB over a 32 MiB
// bound under concurrent churn; INFO's used_memory and its peak showed
// it). Here the move happens, deterministically, right after shard 0 is
// read.
func TestUsedBytesNeverReadsOverBound(t *testing.T) {
	const maxMem = 32 << 20
	ks, _ := newOpsKS(t, Options{MaxMemory: maxMem, Shards: 8, Eviction: AllKeys})
	coldLargeInShard0(t, ks) // 30 MB in shard 0
	key := keysInShard(ks, 1, 1)[0]
	val := make([]byte, 10<<20)
	moved := false
	got := ks.sumUsed(func(i int) {
		if i == 0 && !moved {
			moved = true
			// Shard 1 takes 10 MB that evicting in shard 0 frees.
			require.NoError(t, ks.Set(key, val))
		}
	})
	require.True(t, moved)
	require.Positive(t, ks.Stats().Evicted, "shard 0 gave nothing up")
	require.LessOrEqual(t, got, int64(maxMem), "the sum read %d bytes over the bound", got-maxMem)
	require.Equal(t, ks.UsedBytes(), got, "nothing changed since")
	checkUsed(t, ks)
}
