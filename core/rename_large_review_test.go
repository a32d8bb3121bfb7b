package core

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRenameLargeSameShardEvictedForSlot: RENAME of a large value to a new
// key of the same shard at the bound, where the index must grow for the
// new key and making room for it evicts the source itself and frees its
// buffer. moveLarge then found src gone, and the caller copied from the
// page it had looked up before, which no pin kept: copyRecord's pin and
// unpin of a page the shard had already dropped freed the buffer a second
// time, taking its bytes out of the shard's used bytes and LentBytes again
// (both went negative); had the copy found room, it would have read the
// freed buffer (unmapped outside -race).
func TestRenameLargeSameShardEvictedForSlot(t *testing.T) {
	ks, _ := newOpsKS(t, Options{Shards: 1, PageSize: 4096, Eviction: AllKeys})
	s := &ks.shards[0]
	src, dst := []byte("src"), []byte("dst")
	val := refPattern(200_000, 7)
	require.NoError(t, ks.Set(src, val)) // the head of the small log, never read
	for i := 0; ; i++ {
		// Up to where the next new key grows the index by more than the
		// page of reserve a write leaves.
		if tb := s.table.Load(); uint64(s.live+s.tombs+1)*4 > tb.size*3 &&
			newTableBytes(tableSizeFor(s.live+1))-tb.bytes() > 2*int64(ks.pageSize) {
			break
		}
		require.NoError(t, ks.Set(fmt.Appendf(nil, "k%d", i), []byte("v")))
	}
	// The bound as the shard holds it: its limit is used plus two pages,
	// the pool empty, so growing the index evicts.
	require.NoError(t, ks.SetMaxMemory(s.used.Load()+2*int64(ks.pageSize)))
	ks.Settle()
	require.True(t, ks.Exists(src))

	err := ks.Rename(src, dst)
	if err == nil {
		got, ok := ks.Get(nil, dst)
		require.True(t, ok)
		require.True(t, bytes.Equal(got, val), "dst holds other bytes than src did")
	} else {
		require.ErrorIs(t, err, ErrOOM)
	}
	ks.Settle()
	require.Zero(t, ks.Stats().LentBytes, "a buffer freed twice")
	ks.Flush()
	require.Equal(t, s.table.Load().bytes()+s.ghostBytes.Load(), s.used.Load(), "used bytes after FLUSHALL")
	checkUsed(t, ks)
}

// TestRenameLargeToEmptyKey: RENAME of a large value to the empty key.
// moveLarge gave the new page the key append([]byte(nil), dst...), which
// for an empty dst is nil, the mark of a page whose key is the one its
// buffer holds: the record went on answering to src's name from dst's
// slot, so GET of the empty key missed, and eviction or compaction,
// which finds a record's slot by its key, would not find it (the fuzz
// seed seed-large-values-bounded failed on it).
func TestRenameLargeToEmptyKey(t *testing.T) {
	ks, _ := newOpsKS(t, Options{Shards: 4})
	val := refPattern(100_000, 9)
	for _, empty := range [][]byte{{}, nil} {
		require.NoError(t, ks.Set([]byte("big"), val))
		require.NoError(t, ks.Rename([]byte("big"), empty))
		got, ok := ks.Get(nil, empty)
		require.True(t, ok, "the empty key is missing after RENAME")
		require.True(t, bytes.Equal(got, val))
		require.False(t, ks.Exists([]byte("big")))
		var keys [][]byte
		ks.Keys(nil, func(k []byte) bool { keys = append(keys, append([]byte{}, k...)); return true })
		require.Equal(t, [][]byte{{}}, keys)
		// And back: the buffer's own key again, under its own name.
		require.NoError(t, ks.Rename(empty, []byte("big")))
		got, ok = ks.Get(got[:0], []byte("big"))
		require.True(t, ok)
		require.True(t, bytes.Equal(got, val))
		require.Equal(t, 1, ks.Len())
		ks.Delete([]byte("big"))
	}
}
