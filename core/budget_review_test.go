package core

// Cases found reviewing the keyspace-wide bound (budget.go): a public
// write that runs again after shed must act once, and the budget must
// still add up to the bound whatever runs meanwhile.

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

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

// TestBudgetAddsUpAfterSetMaxMemoryDuringShed: writes of large values in
// every shard collect budget from the others (shed) while the bound is
// changed. setBudget hands out the whole new bound; budget a collect had
// taken before must not be added on top of it when the collect ends.
func TestBudgetAddsUpAfterSetMaxMemoryDuringShed(t *testing.T) {
	t.Parallel() // its own keyspace: overlaps the others, under -race too
	ks, _ := newOpsKS(t, Options{MaxMemory: 16 << 20, Shards: 8, Eviction: AllKeys})
	val := make([]byte, 1<<20)
	for round := range 20 {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					n := 300_000 + (i*7919+w*104729)%len(val[300_000:])
					if err := ks.Set(fmt.Appendf(nil, "r%d:w%d:%d", round, w, i%40), val[:n]); err != nil && !errors.Is(err, ErrOOM) {
						t.Error(err)
						return
					}
				}
			}()
		}
		for i := range 10 {
			time.Sleep(time.Millisecond)
			require.NoError(t, ks.SetMaxMemory(int64(16+8*(i%2))<<20))
		}
		close(stop)
		wg.Wait()
		ks.Settle()
		checkBudget(t, ks)
	}
	checkUsed(t, ks)
}

// TestRenameCopyAfterShedEvictedSource: RENAME and COPY of a key in the
// shard that holds the bound to a key in another shard need room there;
// the write sheds, and the collect evicts the coldest keys of the full
// shard, the source among them. The run after it found no source and
// answered as if there had been none (ErrNoSuchKey, COPY 0): a write that
// failed for memory must say so.
func TestRenameCopyAfterShedEvictedSource(t *testing.T) {
	for _, op := range []string{"RENAME", "COPY"} {
		t.Run(op, func(t *testing.T) {
			ks, _ := newOpsKS(t, Options{MaxMemory: 32 << 20, Shards: 8, Eviction: AllKeys})
			// Shard 0 holds the bound in values of 3 MB, and shard 2 the
			// rest of the pool: copying one to shard 1 needs budget that
			// only evicting in shard 0 frees.
			keys := keysInShard(ks, 0, 20)
			val := make([]byte, 3<<20) // one source: fresh ones are slow to copy under -race
			for n := 0; ks.pool.Load() > 3<<20+int64(ks.pageSize); n++ {
				require.NoError(t, ks.Set(keys[n], val))
			}
			if n := ks.pool.Load() - int64(ks.pageSize); n > 0 {
				require.NoError(t, ks.Set(keysInShard(ks, 2, 1)[0], make([]byte, n)))
			}
			require.Zero(t, ks.Stats().Evicted)
			src := keys[0] // the coldest key
			dst := keysInShard(ks, 1, 1)[0]
			var ok bool
			var err error
			if op == "RENAME" {
				err = ks.Rename(src, dst)
				ok = err == nil
			} else {
				ok, err = ks.Copy(src, dst, false)
			}
			// The room comes from shard 0 or 2: the shed for RENAME
			// and COPY does not evict their source (keepKey). It used
			// to evict src, the coldest key, and fail with ErrOOM.
			require.NoError(t, err, "%s of an existing key", op)
			require.True(t, ok, "%s of an existing key answered 0 with no error", op)
			require.True(t, ks.Exists(dst))
			require.Equal(t, op == "COPY", ks.Exists(src), "%s: src after it", op)
			checkUsed(t, ks)
		})
	}
}

// TestReadsCountedOnceAfterShed: SET ... GET, GETEX and COPY read a key
// and count a hit or a miss (INFO keyspace_hits); when their write sheds
// and runs again, the read runs again too, and was counted twice.
func TestReadsCountedOnceAfterShed(t *testing.T) {
	for _, op := range []string{"SET GET", "COPY"} {
		t.Run(op, func(t *testing.T) {
			ks, _ := newOpsKS(t, Options{MaxMemory: 32 << 20, Shards: 8, Eviction: AllKeys})
			// Shard 1 holds a value of 3 MB; shard 0 the rest of the
			// bound. Writing 3 MB to shard 2 needs budget shard 0 holds.
			src := keysInShard(ks, 1, 1)[0]
			key := keysInShard(ks, 2, 1)[0]
			big := make([]byte, 3<<20)
			require.NoError(t, ks.Set(src, big))
			require.NoError(t, ks.Set(key, []byte("v")))
			keys := keysInShard(ks, 0, 20)
			for n := 0; ks.pool.Load() > 3<<20+int64(ks.pageSize); n++ {
				require.NoError(t, ks.Set(keys[n], big))
			}
			if n := ks.pool.Load() - int64(ks.pageSize); n > 0 {
				require.NoError(t, ks.Set(keysInShard(ks, 3, 1)[0], make([]byte, n)))
			}
			before := ks.Stats()
			var err error
			switch op {
			case "SET GET":
				_, err = ks.SetOpt(nil, key, big, SetOptions{Get: true})
			case "COPY":
				_, err = ks.Copy(src, key, true)
			}
			require.NoError(t, err)
			after := ks.Stats()
			require.Positive(t, after.Evicted-before.Evicted, "the write took room from shard 0")
			require.EqualValues(t, 1, after.Hits-before.Hits, "%s read one key", op)
			require.EqualValues(t, 0, after.Misses-before.Misses)
			checkUsed(t, ks)
		})
	}
	t.Run("GETEX", func(t *testing.T) {
		// Under NoEviction a write that needs a page its shard's limit
		// has no room for takes the other shards' unused budget (shed).
		ks, _ := newOpsKS(t, Options{MaxMemory: 32 << 20, Shards: 8, Eviction: NoEviction})
		s := &ks.shards[2]
		keys := keysInShard(ks, 2, 400)
		val := make([]byte, 1000)
		n := 0
		for ; ; n++ {
			_, err := ks.SetOpt(nil, keys[n], val, SetOptions{TTL: 1 << 30})
			require.NoError(t, err)
			if tl := s.q[qSmall].tail; tl != nil && tl.used+1200 > len(tl.buf) {
				break // the next record needs a new page
			}
		}
		// Shard 2 keeps no budget beyond its use and reserve page; the
		// pool has none: shard 0 holds it.
		ks.lockAll()
		spare := s.limit.Load() - s.used.Load() - int64(ks.pageSize)
		s.limit.Add(-spare)
		ks.shards[0].limit.Add(spare + ks.pool.Swap(0))
		ks.unlockAll()
		checkBudget(t, ks)
		before := ks.Stats()
		_, ok, err := ks.GetEx(nil, keys[n], GetExOptions{Persist: true})
		require.NoError(t, err)
		require.True(t, ok)
		require.Less(t, ks.shards[0].limit.Load(), 32<<20-int64(ks.pageSize), "GETEX took budget from shard 0")
		after := ks.Stats()
		require.EqualValues(t, 1, after.Hits-before.Hits, "GETEX read one key")
		checkUsed(t, ks)
	})
}

// TestMSetTakesRoomFromOtherShards is TestWriteTakesRoomFromOtherShards
// with MSET: multi-key writes lock their shards with lockSet, which did
// not feed a starved shard (only k.lock did), so a shard written by MSET
// alone evicted its own small keys while shard 0 kept its cold large
// values, far over an even share of the bound.
func TestMSetTakesRoomFromOtherShards(t *testing.T) {
	const maxMem = 32 << 20
	ks, _ := newOpsKS(t, Options{MaxMemory: maxMem, Shards: 8, Eviction: AllKeys})
	coldLargeInShard0(t, ks)
	before := ks.shards[0].used.Load()
	require.Greater(t, before, int64(maxMem/2), "shard 0 holds most of the bound")
	small := make([]byte, 200)
	var keys [][]byte
	for i := 0; len(keys) < 60_000; i += 2 { // about 16 MB, half the bound
		a, b := fmt.Appendf(nil, "small:%d", i), fmt.Appendf(nil, "small:%d", i+1)
		if s, _ := ks.shardFor(a); s == &ks.shards[0] {
			continue
		}
		if s, _ := ks.shardFor(b); s == &ks.shards[0] {
			continue
		}
		require.NoError(t, ks.MSet(a, small, b, small), "small keys %d", len(keys))
		keys = append(keys, a, b)
	}
	missing := 0
	for _, key := range keys {
		if !ks.Exists(key) {
			missing++
		}
	}
	require.Zero(t, missing, "small keys evicted while shard 0 held %d bytes (%d before)", ks.shards[0].used.Load(), before)
	checkUsed(t, ks)
}

// TestConcurrentLargeWritesInOneShardUnderVolatile: shard 0 holds the
// bound in values with a TTL; eight clients rewrite values of 1 to 1.5 MB
// without one in shard 1, which has nothing Volatile may evict: every
// byte must come from shard 0. The budget one write's shed collected was
// taken by the others (pending serves any allocation over a page), and
// after three rounds the write ran local-only, which set its shard's
// localOnly; while it was set, every other write of the shard that
// needed budget failed at once with ErrOOM instead of shedding: 5 to 27
// of 400 writes failed in 3 of 8 runs, with 19 MB of TTL keys in shard 0.
func TestConcurrentLargeWritesInOneShardUnderVolatile(t *testing.T) {
	t.Parallel() // its own keyspace: overlaps the others, under -race too
	rounds := 10
	if raceEnabled {
		rounds = 4 // 36 s under -race otherwise
	}
	for round := range rounds {
		ks, _ := newOpsKS(t, Options{MaxMemory: 32 << 20, Shards: 8, Eviction: Volatile})
		fillShardToBound(t, ks, 1<<40)
		keys := keysInShard(ks, 1, 8)
		var mu sync.Mutex
		ooms, total := 0, 0
		var wg sync.WaitGroup
		for w := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				big := make([]byte, 1_500_000)
				for i := range 50 {
					err := ks.Set(keys[w], big[:1_000_000+i*10_000])
					if err != nil && !errors.Is(err, ErrOOM) {
						t.Error(err)
						return
					}
					mu.Lock()
					total++
					if err != nil {
						ooms++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		require.Zero(t, ooms, "round %d: %d of %d writes failed with ErrOOM while shard 0 held %d bytes in %d keys with a TTL",
			round, ooms, total, ks.shards[0].used.Load(), ks.shards[0].keys.Load())
		checkUsed(t, ks)
		ks.Close()
	}
}

// TestRenameIntoStarvedShardKeepsSource: lockSet feeds the starved shards
// of its set before it locks them, and feeding evicts in the shards over
// their share: RENAME of shard 0's coldest key into a starved shard
// evicted the key it was renaming, and failed with ErrNoSuchKey.
func TestRenameIntoStarvedShardKeepsSource(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 32 << 20, Shards: 8, Eviction: AllKeys})
	bigKeys, _ := coldLargeInShard0(t, ks)
	s1 := &ks.shards[1]
	small := keysInShard(ks, 1, 20_000)
	for i := 0; s1.starved.Load() == 0; i++ {
		require.Less(t, i, len(small), "shard 1 never starved")
		require.NoError(t, ks.Set(small[i], make([]byte, 200)))
	}
	require.Zero(t, ks.Stats().Evicted)
	err := ks.Rename(bigKeys[0], small[len(small)-1])
	if err != nil {
		require.ErrorIs(t, err, ErrOOM, "RENAME of an existing key")
	}
	checkUsed(t, ks)
}

// TestMSetCountsItsSetsOnceAfterShed: MSET and MSETNX store their pairs
// one by one; when a later pair needs budget other shards hold, the write
// runs again after shed, and the pairs the first run had stored were
// counted as sets a second time (INFO's and /metrics' set counts).
func TestMSetCountsItsSetsOnceAfterShed(t *testing.T) {
	for _, nx := range []bool{false, true} {
		t.Run(fmt.Sprintf("nx=%v", nx), func(t *testing.T) {
			ks, _ := newOpsKS(t, Options{MaxMemory: 32 << 20, Shards: 8, Eviction: AllKeys})
			fillShardToBound(t, ks, 0)
			small := keysInShard(ks, 1, 2)
			big := keysInShard(ks, 2, 1)[0]
			before := ks.Stats()
			pairs := [][]byte{small[0], []byte("v"), small[1], []byte("w"), big, make([]byte, 1<<20)}
			var err error
			if nx {
				var ok bool
				ok, err = ks.MSetNX(pairs...)
				require.True(t, ok)
			} else {
				err = ks.MSet(pairs...)
			}
			require.NoError(t, err)
			after := ks.Stats()
			require.Positive(t, after.Evicted-before.Evicted, "the write took room from shard 0, so it ran again")
			require.EqualValues(t, 3, after.Sets-before.Sets, "MSET of three pairs")
			checkUsed(t, ks)
		})
	}
}

// TestMultiKeyWriteTakesRoomFromItsOwnShards: shard 0 holds the bound in
// cold values of 2.5 MB, and a multi-key write with a key there needs
// room in shard 1, where it writes 2.5 MB. The shed for RENAME, COPY and
// MSET evicted nothing in the write's own shards (then keepShards), so it
// found nothing to take, ran local-only, evicted every key of shard 1 and
// failed with ErrOOM, while shard 0's other values were evictable. The
// key RENAME and COPY read must stay; nothing else of shard 0 need.
func TestMultiKeyWriteTakesRoomFromItsOwnShards(t *testing.T) {
	for _, op := range []string{"MSET", "RENAME", "COPY"} {
		t.Run(op, func(t *testing.T) {
			ks, _ := newOpsKS(t, Options{MaxMemory: 32 << 20, Shards: 8, Eviction: AllKeys})
			bigKeys, val := coldLargeInShard0(t, ks)
			small := keysInShard(ks, 1, 50)
			for _, key := range small[1:] {
				require.NoError(t, ks.Set(key, make([]byte, 200)))
			}
			require.Zero(t, ks.Stats().Evicted)
			src, dst := bigKeys[0], small[0] // src is shard 0's coldest key
			var err error
			switch op {
			case "MSET":
				err = ks.MSet(keysInShard(ks, 0, 13)[12], []byte("v"), dst, val)
			case "RENAME":
				err = ks.Rename(src, dst)
			case "COPY":
				var ok bool
				ok, err = ks.Copy(src, dst, false)
				require.True(t, ok || err != nil, "COPY of an existing key answered 0")
			}
			require.NoError(t, err, "%s with shard 0 holding %d bytes of cold values", op, ks.shards[0].used.Load())
			got, ok := ks.Get(nil, dst)
			require.True(t, ok)
			require.Len(t, got, len(val))
			require.Equal(t, op == "COPY", ks.Exists(src), "%s: src after it", op)
			for _, key := range small[1:] {
				require.True(t, ks.Exists(key), "%s evicted shard 1's keys", op)
			}
			checkUsed(t, ks)
		})
	}
}

// TestCedeReturnsWithOnlyTheKeptKey: cede, evicting for a write that
// reads keep, moves keep instead of evicting it; with nothing else in the
// shard every step moved it to a new page, and the next freed the old,
// so memory went down at every other step and cede (which counted its
// tries since memory last went down) never gave up (FuzzKeyspace, 8
// shards, RENAMENX).
func TestCedeReturnsWithOnlyTheKeptKey(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 32 << 20, Shards: 8, Eviction: AllKeys})
	src := keysInShard(ks, 0, 1)[0]
	require.NoError(t, ks.Set(src, make([]byte, 100)))
	done := make(chan struct{})
	go func() {
		defer close(done)
		ks.shards[0].cede(1<<20, true, src)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("cede of 1 MiB from a shard holding only the kept key did not return")
	}
	require.True(t, ks.Exists(src))
	require.Zero(t, ks.Stats().Evicted)
}

// TestFailedShedHoldsNoBudget: under Volatile, shard 0 holds the bound in
// keys without a TTL and shard 2 a megabyte it no longer uses. A 3 MB
// write in shard 1 collects what it can (that megabyte, the pool and the
// other shards' spare pages), not enough, and fails. What it collected
// was held for it (pending) and stayed with shard 1, where no other
// shard's write could take it (spare leaves pending out) until an active
// expiry cycle: a 1 MB write in shard 3 then failed with ErrOOM with that
// budget unused.
func TestFailedShedHoldsNoBudget(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 32 << 20, Shards: 8, Eviction: Volatile})
	freed := keysInShard(ks, 2, 1)[0]
	require.NoError(t, ks.Set(freed, make([]byte, 1<<20)))
	fillShardToBound(t, ks, 0)
	require.True(t, ks.Delete(freed))
	err := ks.Set(keysInShard(ks, 1, 1)[0], make([]byte, 3<<20))
	require.ErrorIs(t, err, ErrOOM, "3 MB with nothing Volatile may evict")
	require.NoError(t, ks.Set(keysInShard(ks, 3, 1)[0], make([]byte, 1<<20)),
		"1 MB with shard 1 holding %d bytes over its use", ks.shards[1].limit.Load()-ks.shards[1].used.Load())
	checkUsed(t, ks)
}

// TestShedAfterBoundRemovedRunsAgain: under NoEviction a write that needs
// budget another shard holds sheds; when SetMaxMemory(0) removes the
// bound before its collect runs (here while another collect holds
// budgetMu), collect has nothing to do and returned 0, and the write
// failed with ErrOOM in a keyspace without a bound.
func TestShedAfterBoundRemovedRunsAgain(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 32 << 20, Shards: 8, Eviction: NoEviction})
	// Shard 0 holds every byte of budget no shard uses.
	ks.lockAll()
	for i := 1; i < len(ks.shards); i++ {
		s := &ks.shards[i]
		spare := s.limit.Load() - s.used.Load() - int64(ks.pageSize)
		s.limit.Add(-spare)
		ks.shards[0].limit.Add(spare)
	}
	ks.shards[0].limit.Add(ks.pool.Swap(0))
	ks.unlockAll()
	checkBudget(t, ks)

	ks.budgetMu.RLock() // another write's collect
	unbound := make(chan error)
	go func() { unbound <- ks.SetMaxMemory(0) }()
	time.Sleep(20 * time.Millisecond) // SetMaxMemory waits for budgetMu
	set := make(chan error)
	go func() { set <- ks.Set(keysInShard(ks, 1, 1)[0], make([]byte, 1<<20)) }()
	time.Sleep(20 * time.Millisecond) // the write sheds and waits for budgetMu
	ks.budgetMu.RUnlock()
	require.NoError(t, <-unbound)
	require.NoError(t, <-set, "SET of 1 MB once the bound was removed")
	require.Zero(t, ks.maxMemory.Load())
}

// TestNoFeedingForCommandsThatNeedNoRoom: a starved shard is fed (budget
// collected for it, evicting in the shards over their share) by the next
// command that locks it. DEL, GETDEL, OBJECT and MEMORY USAGE (Inspect)
// lock it too but need no room: each evicted one of shard 0's values for
// a shard that did not need it.
func TestNoFeedingForCommandsThatNeedNoRoom(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 32 << 20, Shards: 8, Eviction: AllKeys})
	coldLargeInShard0(t, ks)
	s1 := &ks.shards[1]
	small := keysInShard(ks, 1, 20_000)
	n := 0
	for ; s1.starved.Load() == 0; n++ {
		require.Less(t, n, len(small), "shard 1 never starved")
		require.NoError(t, ks.Set(small[n], make([]byte, 200)))
	}
	require.Zero(t, ks.Stats().Evicted)
	missing := small[len(small)-1]
	for _, c := range []struct {
		name string
		op   func()
	}{
		{"DEL", func() { ks.Delete(missing) }},
		{"GETDEL", func() { ks.GetDel(nil, missing) }},
		{"Inspect", func() { ks.Inspect(small[0], false) }},
	} {
		s1.starved.Store(1) // as the write before left it
		c.op()
		require.Zero(t, ks.Stats().Evicted, "%s evicted for a starved shard", c.name)
		require.NotZero(t, s1.starved.Load(), "%s fed the shard", c.name)
	}
	checkUsed(t, ks)
}

// TestExpiredKeyCountedOnceAfterShed: SET, MSET, RENAME and COPY replace
// an expired key through put, which counts it expired (Stats.Expired) as
// it finds it; when the write then sheds, the key is still there for the
// run after it, which counted it again.
func TestExpiredKeyCountedOnceAfterShed(t *testing.T) {
	for _, op := range []string{"SET", "MSET", "COPY"} {
		t.Run(op, func(t *testing.T) {
			ks, now := newOpsKS(t, Options{MaxMemory: 32 << 20, Shards: 8, Eviction: AllKeys})
			fillShardToBound(t, ks, 0)
			src := keysInShard(ks, 1, 1)[0]
			require.NoError(t, ks.Set(src, make([]byte, 1<<20)))
			key := keysInShard(ks, 2, 1)[0]
			_, err := ks.SetOpt(nil, key, []byte("v"), SetOptions{TTL: 1000})
			require.NoError(t, err)
			now.Add(2000)
			before := ks.Stats()
			switch op {
			case "SET":
				err = ks.Set(key, make([]byte, 1<<20))
			case "MSET":
				err = ks.MSet(key, make([]byte, 1<<20))
			case "COPY":
				_, err = ks.Copy(src, key, true)
			}
			require.NoError(t, err)
			after := ks.Stats()
			require.Positive(t, after.Evicted-before.Evicted, "the write took room from shard 0, so it ran again")
			require.EqualValues(t, 1, after.Expired-before.Expired, "%s replaced one expired key", op)
			checkUsed(t, ks)
		})
	}
}
