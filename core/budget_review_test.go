package core

// Cases found reviewing the keyspace-wide bound (budget.go): a public
// write that runs again after shed must act once, and the budget must
// still add up to the bound whatever runs meanwhile.

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMSetNXRunsAgainAfterShed: MSETNX writes its pairs one by one; when
// a later pair needs budget other shards hold, the write returns a
// shedError and runs again. Its first run had stored the earlier pairs,
// so the second found one of its own keys live and answered 0, with that
// key written and the others not.
func TestMSetNXRunsAgainAfterShed(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 32 << 20, Shards: 8, Eviction: AllKeys})
	fillShardToBound(t, ks, 0)
	small := keysInShard(ks, 1, 1)[0]
	big := keysInShard(ks, 2, 1)[0]
	ok, err := ks.MSetNX(small, []byte("v"), big, make([]byte, 1<<20))
	require.NoError(t, err)
	require.True(t, ok, "MSETNX of two new keys answered 0")
	require.True(t, ks.Exists(small))
	require.True(t, ks.Exists(big))
	checkUsed(t, ks)
}
