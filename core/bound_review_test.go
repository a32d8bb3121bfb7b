package core

// Review of the keyspace-wide memory bound (b003e01): writes that fail at
// the bound after evicting, and writes that fail because the shard holding
// the memory was busy.

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNearBoundWriteThatCannotFitEvictsNothing: neverFits counts the index
// tables as what eviction cannot free, but not the ghost filters, which
// are counted in used and which evicting keys does not shrink either (4
// bytes a key, rounded up to a power of two per shard: 2 MiB for 400,000
// keys). A value between what the bound leaves once the filters are
// counted and what neverFits computes passed the check, evicted every key
// in the keyspace, and then failed with a plain ErrOOM: a failed SET
// destroyed all the data (TestImpossibleWriteEvictsNothing, for a value
// just under the bound rather than over it).
func TestNearBoundWriteThatCannotFitEvictsNothing(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 64 << 20, Eviction: AllKeys, Shards: 16})
	const keys = 400_000
	for i := range keys {
		require.NoError(t, ks.Set(fmt.Appendf(nil, "k%d", i), make([]byte, 10)))
	}
	require.Zero(t, ks.Stats().Evicted)
	var index, ghost int64
	for i := range ks.shards {
		index += ks.shards[i].table.Load().bytes()
		ghost += int64(len(ks.shards[i].ghost)) * 4
	}
	require.Greater(t, ghost, int64(1<<20), "the ghost filters hold over 1 MiB")
	// Under what neverFits leaves for data (the bound less the reserve and
	// the index), over what evicting every key can free.
	n := int(ks.limit(false)-index) - 1<<20
	err := ks.Set([]byte("blob"), make([]byte, n))
	st := ks.Stats()
	if err == nil {
		return // it fit: nothing lost
	}
	require.ErrorIs(t, err, ErrOOM)
	require.Zero(t, st.Evicted, "SET of %d bytes under a 64 MiB bound failed with %v after evicting %d of %d keys (%d left, UsedBytes %d: index %d, ghost filters %d)",
		n, err, st.Evicted, keys, ks.Len(), st.UsedBytes, index, ghost)
	var be *BoundError
	require.True(t, errors.As(err, &be), "a write failed without evicting must say why: %v", err)
}
