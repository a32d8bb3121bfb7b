package core

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestVolatileAtBoundDoesNotChurn: under Volatile, with memory full of
// keys without a TTL and a few with one, a write that needs room used to
// go through page after page of the log (up to maxRoomTries), copying
// every record of each and freeing nothing, since only TTL records may go:
// about 45 ms a write with an 8 MiB shard, holding its lock, growing with
// the shard. Pages without TTL records are now left alone.
func TestVolatileAtBoundDoesNotChurn(t *testing.T) {
	k, err := New(Options{NoActiveExpiry: true, Shards: 1, PageSize: 4096, MaxMemory: 8 << 20, Eviction: Volatile})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if _, err := k.SetOpt(nil, []byte("ttl"), []byte("x"), SetOptions{TTL: 1 << 40}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; ; n++ {
		if err := k.Set(fmt.Appendf(nil, "k%d", n), make([]byte, 100)); errors.Is(err, ErrOOM) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	s := &k.shards[0]
	s.mu.Lock()
	moved0 := s.moved
	s.mu.Unlock()
	ttlFails := 0
	for j := range 10 {
		if _, err := k.SetOpt(nil, fmt.Appendf(nil, "t%d", j), make([]byte, 10), SetOptions{TTL: 1 << 40}); err != nil {
			ttlFails++
		}
		if err := k.Set(fmt.Appendf(nil, "new%d", j), make([]byte, 100)); err != nil && !errors.Is(err, ErrOOM) {
			t.Fatal(err)
		}
	}
	s.mu.Lock()
	moved := s.moved - moved0
	s.mu.Unlock()
	// Each write may go through the few pages that hold TTL records; a
	// page holds about 35 of these records.
	if perPage := 4096 / 110; moved > 20*4*perPage {
		t.Fatalf("20 writes at the bound moved %d records (%d keys, about %d pages): the log is being churned", moved, n, n/perPage)
	}
	t.Logf("moved %d records; %d of 10 writes with a TTL failed", moved, ttlFails)
	checkPageAccounts(t, k)
}

// TestPageAccountsUnderVolatileEviction runs a random workload at the bound
// under each policy and checks every page's live and TTL byte counts
// against the records the index points to.
func TestPageAccountsUnderVolatileEviction(t *testing.T) {
	SkipOneGoroutineUnderRace(t)
	t.Parallel() // its own keyspace: overlaps the others
	for _, pol := range []EvictionPolicy{NoEviction, AllKeys, Volatile} {
		t.Run(pol.String(), func(t *testing.T) {
			k, err := New(Options{NoActiveExpiry: true, Shards: 2, PageSize: 4096, MaxMemory: 1 << 20, Eviction: pol})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			rng := rand.New(rand.NewPCG(1, uint64(pol)))
			for i := range 60000 {
				key := fmt.Appendf(nil, "k%d", rng.IntN(5000))
				val := make([]byte, rng.IntN(3)*40+rng.IntN(2)*2000)
				switch rng.IntN(8) {
				case 0:
					_, _ = k.SetOpt(nil, key, val, SetOptions{TTL: int64(1 + rng.IntN(1<<30))})
				case 1:
					_, _ = k.SetOpt(nil, key, val, SetOptions{TTL: 1})
				case 2:
					k.Delete(key)
				case 3:
					k.Persist(key)
				case 4:
					_, _ = k.PExpire(key, int64(rng.IntN(1<<20)), ExpireAlways)
				case 5:
					_ = k.Rename(key, fmt.Appendf(nil, "k%d", rng.IntN(5000)))
				default:
					_ = k.Set(key, val)
				}
				if i%10000 == 0 {
					checkPageAccounts(t, k)
				}
			}
			checkPageAccounts(t, k)
		})
	}
}

// checkPageAccounts compares each page's live and ttl counts with the
// records the index points into it.
func checkPageAccounts(t *testing.T, k *Keyspace) {
	t.Helper()
	for i := range k.shards {
		s := &k.shards[i]
		s.mu.Lock()
		live, ttl := map[*page]int{}, map[*page]int{}
		tb := s.table.Load()
		for j := range tb.slots {
			v := tb.slots[j].Load()
			a := slotAddr(v)
			if v == slotTomb || a == 0 {
				continue
			}
			r, p := s.recordAt(a)
			live[p] += r.size
			if r.hasTTL() {
				ttl[p] += r.size
			}
		}
		for qi := range s.q {
			for p := s.q[qi].head; p != nil; p = p.next {
				if p.live != live[p] || p.ttl != ttl[p] {
					s.mu.Unlock()
					t.Fatalf("shard %d page %d: live %d ttl %d, index says %d and %d", i, p.idx, p.live, p.ttl, live[p], ttl[p])
				}
			}
		}
		s.mu.Unlock()
	}
}

// TestOverwritingExpiredKeyCountsExpiry: Redis counts a key that had
// expired as expired_keys when SET, MSET or RENAME replaces it (the write's
// lookup reclaims it first); ringdb's plain Set, MSet and Rename replaced
// it without counting, while SetOpt, Append and Incr counted it.
func TestOverwritingExpiredKeyCountsExpiry(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(k *Keyspace) error
	}{
		{"Set", func(k *Keyspace) error { return k.Set([]byte("k"), []byte("new")) }},
		{"Set same length", func(k *Keyspace) error { return k.Set([]byte("k"), []byte("v")) }},
		{"MSet", func(k *Keyspace) error { return k.MSet([]byte("k"), []byte("new")) }},
		{"Rename", func(k *Keyspace) error {
			if err := k.Set([]byte("src"), []byte("x")); err != nil {
				return err
			}
			return k.Rename([]byte("src"), []byte("k"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := New(Options{NoActiveExpiry: true, Shards: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			now := int64(1_000_000)
			k.clock = func() int64 { return now }
			if _, err := k.SetOpt(nil, []byte("k"), []byte("v"), SetOptions{TTL: 10}); err != nil {
				t.Fatal(err)
			}
			now += 11
			if err := tc.write(k); err != nil {
				t.Fatal(err)
			}
			if st := k.Stats(); st.Expired != 1 {
				t.Fatalf("Stats.Expired = %d after replacing an expired key, want 1", st.Expired)
			}
		})
	}
}
