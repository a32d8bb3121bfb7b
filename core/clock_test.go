package core

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFreezeClock: while the clock is frozen, a key whose deadline the
// clock has since passed is still there, and writes compute deadlines from
// the frozen instant; thawed, the key is gone.
func TestFreezeClock(t *testing.T) {
	var now atomic.Int64
	now.Store(1_000_000)
	ks, err := New(Options{Clock: now.Load, NoActiveExpiry: true, Shards: 1})
	require.NoError(t, err)
	defer ks.Close()
	_, err = ks.SetOpt(nil, []byte("k"), []byte("v"), SetOptions{TTL: 100})
	require.NoError(t, err)
	ks.FreezeClock()
	now.Add(500)
	v, ok := ks.Get(nil, []byte("k"))
	require.True(t, ok, "expired while the clock was frozen")
	require.Equal(t, "v", string(v))
	_, err = ks.SetOpt(nil, []byte("j"), []byte("w"), SetOptions{TTL: 100})
	require.NoError(t, err)
	ms := ks.PTTL([]byte("j"))
	require.Equal(t, int64(100), ms, "deadline from the frozen instant")
	ks.ThawClock()
	_, ok = ks.Get(nil, []byte("k"))
	require.False(t, ok, "thawed, 400 ms past its deadline")
	_, ok = ks.Get(nil, []byte("j"))
	require.False(t, ok, "thawed, 400 ms past its deadline")
}
