package core

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMSetDuplicateKeyAtTheBound: an MSET that names a key twice
// (Redis allows it: the last value wins) must still store all or nothing.
// pairsGrowth looks every pair up against the keyspace as it was before the
// MSET, so the second pair of a key whose first pair changes its record's
// length is taken for an in-place rewrite (needing nothing) although the
// first pair's new record makes it a new one. With the tail page holding
// room for the first record only, at the NoEviction bound, the first pair
// was stored and the second failed with ErrOOM.
func TestMSetDuplicateKeyAtTheBound(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 1 << 20, Shards: 1, PageSize: 16 << 10, Eviction: NoEviction})
	s := &ks.shards[0]
	v100 := bytes.Repeat([]byte{'a'}, 100)
	v200 := bytes.Repeat([]byte{'b'}, 200)
	// k rewritten once: its record is aligned, a value of 100 bytes.
	require.NoError(t, ks.Set([]byte("k"), v100))
	require.NoError(t, ks.Set([]byte("k"), v100))
	// Fill records of 1005 bytes: 16 to a 16 KiB page, 304 bytes left in
	// each full page, as in the tail once the bound refuses a new page.
	fill := make([]byte, 995)
	for i := 0; ; i++ {
		key := fmt.Appendf(nil, "f%05d", i)
		require.Equal(t, 1005, recordSize(len(key), len(fill), false, false))
		if err := ks.Set(key, fill); err != nil {
			require.ErrorIs(t, err, ErrOOM)
			break
		}
	}
	s.mu.Lock()
	room := s.tailRoom(qSmall)
	s.mu.Unlock()
	a1, a2 := recordSize(1, 100, false, true), recordSize(1, 200, false, true)
	t.Logf("tail room %d, records %d and %d", room, a2, a1)
	require.True(t, room >= int64(a2)+7 && room < int64(a2+a1), "tail room %d: the setup is off", room)

	err := ks.MSet([]byte("k"), v200, []byte("k"), v100)
	if err != nil {
		got, ok := ks.Get(nil, []byte("k"))
		require.True(t, ok)
		require.Equal(t, v100, got, "MSET failed (%v) yet stored its first pair", err)
	} else {
		got, _ := ks.Get(nil, []byte("k"))
		require.Equal(t, v100, got)
	}
	checkUsed(t, ks)
}
