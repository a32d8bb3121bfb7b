package core

// The memory bound is the keyspace's as a whole: a shard may hold more than
// an even share of it, and a write in one shard may take the room other
// shards hold. Before, MaxMemory was split evenly among the shards: 20
// values of 30 MB under a 1 GB bound were refused from the 19th on with
// 570 MB used, and a value over a sixteenth of the bound never fit.

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// keysInShard returns n keys that hash to shard idx of ks.
// The keys are "key:0", "key:1", ... in order, those of other shards
// skipped: a shard's n keys take about n times the shard count tries, so
// each is built in a scratch buffer (numKey, not fmt) and copied only when
// it is kept.
func keysInShard(ks *Keyspace, idx, n int) [][]byte {
	keys := make([][]byte, 0, n)
	var key []byte
	for i := 0; len(keys) < n; i++ {
		key = numKey(key, "key:", i)
		if s, _ := ks.shardFor(key); s == &ks.shards[idx] {
			keys = append(keys, bytes.Clone(key))
		}
	}
	return keys
}

// coldLargeInShard0 stores 12 values of 2.5 MB in shard 0 of ks (a 32 MiB
// bound over 8 shards in the tests that call it): most of the bound, held
// by one shard. It returns their keys and the value.
func coldLargeInShard0(t *testing.T, ks *Keyspace) ([][]byte, []byte) {
	t.Helper()
	bigKeys := keysInShard(ks, 0, 12)
	val := make([]byte, 2_500_000)
	for _, key := range bigKeys {
		require.NoError(t, ks.Set(key, val))
	}
	return bigKeys, val
}

// checkUsed fails unless every shard's used bytes are within its limit,
// and the limits and the pool add up to the bound (checkBudget).
func checkUsed(t *testing.T, ks *Keyspace) {
	t.Helper()
	ks.Settle()
	if i, used, limit := overLimit(ks); i >= 0 {
		t.Fatalf("shard %d uses %d bytes, over its limit of %d", i, used, limit)
	}
	checkBudget(t, ks)
}

// overLimit returns the first shard whose used bytes are over its limit,
// with both, or -1: each read under that shard's lock, where they must
// agree.
func overLimit(ks *Keyspace) (int, int64, int64) {
	for i := range ks.shards {
		s := &ks.shards[i]
		s.mu.Lock()
		used, limit := s.used.Load(), s.limit.Load()
		s.mu.Unlock()
		if used > limit {
			return i, used, limit
		}
	}
	return -1, 0, 0
}

// checkBudget fails unless, with no write running, the shards' limits and
// the pool add up to MaxMemory and the used bytes are within it.
func checkBudget(t *testing.T, ks *Keyspace) {
	t.Helper()
	m := ks.maxMemory.Load()
	if m <= 0 {
		return
	}
	ks.lockAll()
	var used, held int64
	for i := range ks.shards {
		used += ks.shards[i].used.Load()
		held += ks.shards[i].limit.Load()
	}
	pool := ks.pool.Load()
	ks.unlockAll()
	require.Equal(t, m, held+pool, "the shards' limits (%d) and the pool (%d) do not add up to MaxMemory", held, pool)
	require.LessOrEqual(t, used, m, "used bytes over MaxMemory")
	require.GreaterOrEqual(t, pool, int64(0), "negative pool")
}

func TestBoundIsKeyspaceWide(t *testing.T) {
	const maxMem = 64 << 20
	for _, same := range []bool{false, true} {
		t.Run(fmt.Sprintf("sameShard=%v", same), func(t *testing.T) {
			ks, _ := newOpsKS(t, Options{MaxMemory: maxMem, Shards: 16, Eviction: NoEviction})
			var keys [][]byte
			if same {
				keys = keysInShard(ks, 3, 10)
			} else {
				for i := range 10 {
					keys = append(keys, fmt.Appendf(nil, "big:%d", i))
				}
			}
			// Ten values of 5 MB: each over a sixteenth of the bound, 50 MB
			// in all, under it.
			val := make([]byte, 5_000_000)
			for i, key := range keys {
				val[0] = byte(i)
				require.NoError(t, ks.Set(key, val), "value %d of 5 MB under a 64 MiB bound", i)
			}
			var got []byte // one buffer for the reads: fresh 5 MB copies are slow under -race
			for i, key := range keys {
				var ok bool
				got, ok = ks.Get(got[:0], key)
				require.True(t, ok)
				require.Len(t, got, len(val))
				require.Equal(t, byte(i), got[0])
			}
			st := ks.Stats()
			require.GreaterOrEqual(t, st.UsedBytes, int64(50_000_000))
			// A further 20 MB does not fit: the bound holds.
			err := ks.Set([]byte("one-too-many"), make([]byte, 20_000_000))
			require.ErrorIs(t, err, ErrOOM)
			var be *BoundError
			require.False(t, errors.As(err, &be), "a value that fits an empty keyspace is not a BoundError: %v", err)
			checkUsed(t, ks)
			require.EqualValues(t, 10, ks.Len())
		})
	}
}

// TestBoundErrorForValueOverBound: a value larger than the bound leaves
// for data fails with a *BoundError (an ErrOOM) saying so, and nothing is
// evicted for it.
func TestBoundErrorForValueOverBound(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 64 << 20, Shards: 16, Eviction: AllKeys})
	require.NoError(t, ks.Set([]byte("small"), []byte("v")))
	for _, n := range []int{64 << 20, 70_000_000} {
		err := ks.Set([]byte("big"), make([]byte, n))
		var be *BoundError
		require.ErrorIs(t, err, ErrOOM)
		require.True(t, errors.As(err, &be), "Set of %d bytes under 64 MiB = %v, want a *BoundError", n, err)
		require.GreaterOrEqual(t, be.Need, int64(n))
		require.Less(t, be.Room, be.Need)
		require.EqualValues(t, 64<<20, be.MaxMemory)
		require.True(t, ks.Exists([]byte("small")), "a key was evicted for a write that could not fit")
	}
	// SETRANGE checks before building the value.
	_, err := ks.SetRange([]byte("small"), 70_000_000, []byte("x"))
	var be *BoundError
	require.True(t, errors.As(err, &be), "SETRANGE to 70 MB = %v", err)
	checkUsed(t, ks)
}

// TestWriteTakesRoomFromOtherShards: one shard holds most of the bound in
// large values; small keys written to the other shards still fit, by
// evicting from it (AllKeys), not by failing or emptying themselves.
func TestWriteTakesRoomFromOtherShards(t *testing.T) {
	const maxMem = 32 << 20
	ks, _ := newOpsKS(t, Options{MaxMemory: maxMem, Shards: 8, Eviction: AllKeys})
	coldLargeInShard0(t, ks)
	before := ks.shards[0].used.Load()
	require.Greater(t, before, int64(maxMem/2), "shard 0 holds most of the bound")
	small := make([]byte, 200)
	var keys [][]byte
	for i := 0; len(keys) < 60_000; i++ { // about 16 MB, half the bound
		key := fmt.Appendf(nil, "small:%d", i)
		if s, _ := ks.shardFor(key); s == &ks.shards[0] {
			continue
		}
		require.NoError(t, ks.Set(key, small), "small key %d", len(keys))
		keys = append(keys, key)
		if len(keys)%5000 == 0 {
			require.LessOrEqual(t, ks.UsedBytes(), int64(maxMem))
		}
	}
	after := ks.shards[0].used.Load()
	require.Less(t, after, before, "the other shards' writes took room from shard 0")
	require.Positive(t, ks.Stats().Evicted)
	// Every small key is still there: the shards writing them held less
	// than their share, so they took the room from shard 0 and did not
	// evict their own keys.
	missing := 0
	for _, key := range keys {
		if !ks.Exists(key) {
			missing++
		}
	}
	require.Zero(t, missing, "small keys evicted while shard 0 held %d bytes", after)
	checkUsed(t, ks)
}

// TestBoundHoldsUnderConcurrentShards: writers in every shard, large and
// small values, at the bound, under each policy: no shard ever uses more
// than its limit (a sampler checks throughout), and at the end the limits
// and the pool still add up to the bound.
func TestBoundHoldsUnderConcurrentShards(t *testing.T) {
	for _, pol := range []EvictionPolicy{NoEviction, AllKeys, Volatile} {
		t.Run(pol.String(), func(t *testing.T) {
			const maxMem = 16 << 20
			ks, _ := newOpsKS(t, Options{MaxMemory: maxMem, Shards: 8, Eviction: pol})
			var wg sync.WaitGroup
			stop := make(chan struct{})
			var over string
			wg.Add(1)
			go func() {
				defer wg.Done()
				for over == "" {
					select {
					case <-stop:
						return
					default:
					}
					if i, used, limit := overLimit(ks); i >= 0 {
						over = fmt.Sprintf("shard %d used %d bytes, over its limit of %d", i, used, limit)
					}
				}
			}()
			var writers sync.WaitGroup
			for w := range 4 {
				writers.Add(1)
				go func() {
					defer writers.Done()
					buf := make([]byte, 300_000)
					for i := range 400 {
						key := fmt.Appendf(nil, "w%d:%d", w, i%150)
						n := 100
						if i%5 == 0 {
							n = 20_000 + (i*7919)%(len(buf)-20_000)
						}
						var err error
						if i%2 == 0 {
							_, err = ks.SetOpt(nil, key, buf[:n], SetOptions{TTL: 1 << 30})
						} else {
							err = ks.Set(key, buf[:n])
						}
						if err != nil && !errors.Is(err, ErrOOM) {
							t.Error(err)
							return
						}
						if i%50 == 49 {
							ks.Delete(fmt.Appendf(nil, "w%d:%d", w, (i*31)%150))
						}
					}
				}()
			}
			writers.Wait()
			close(stop)
			wg.Wait()
			require.Empty(t, over)
			checkUsed(t, ks)
		})
	}
}

// fillToOOM stores val under keys fill:0, fill:1, ... until the bound
// refuses one (NoEviction).
func fillToOOM(t *testing.T, ks *Keyspace, val []byte) {
	t.Helper()
	for i := 0; ; i++ {
		if err := ks.Set(fmt.Appendf(nil, "fill:%d", i), val); err != nil {
			require.ErrorIs(t, err, ErrOOM)
			return
		}
	}
}

// TestMSetNXAllOrNothingOnOOM: MSETNX whose last value does not fit under
// the bound stores none of its keys. It used to leave the first ones
// written; with shed a write runs again after collecting budget, and the
// run again found its own first key and answered "not set" (FuzzKeyspace,
// 8 shards at a tight bound, under -race).
func TestMSetNXAllOrNothingOnOOM(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 16 << 20, Shards: 4, Eviction: NoEviction})
	val := make([]byte, 1_000_000)
	fillToOOM(t, ks, val)
	before, stats := ks.Len(), ks.Stats()
	ok, err := ks.MSetNX([]byte("a"), []byte("1"), []byte("b"), []byte("2"), []byte("big"), val)
	require.ErrorIs(t, err, ErrOOM)
	require.False(t, ok)
	require.Equal(t, stats.Sets, ks.Stats().Sets, "MSETNX stored nothing, so counted no set")
	for _, key := range []string{"a", "b", "big"} {
		require.False(t, ks.Exists([]byte(key)), "MSETNX failed for memory yet stored %q", key)
	}
	require.Equal(t, before, ks.Len())
	checkUsed(t, ks)
}
