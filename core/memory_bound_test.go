package core

// Memory-bound and reclamation cases a review found broken: each test
// failed on the code before the fix.

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The memory bound is documented as hard ("MaxMemory bounds everything the
// keyspace holds"). With AllKeys, writes of tiny keys make the index grow;
// ensureIndex reserves room for the new table only, but rebuild then also
// doubles the S3-FIFO ghost filter (resizeGhost), whose bytes are added to
// used without any reservation, so UsedBytes goes past MaxMemory.
func TestGhostResizeKeepsMaxMemory(t *testing.T) {
	SkipOneGoroutineUnderRace(t)
	t.Parallel() // one goroutine, its own keyspace: overlaps the others
	const maxMem = 16 << 20
	ks, _ := newOpsKS(t, Options{MaxMemory: maxMem, Eviction: AllKeys, Shards: 1})
	worst := int64(0)
	var key []byte
	const writes = 1_500_000
	for i := 0; i < writes; i++ {
		// Set copies the key: one buffer serves every write (1.5M
		// formatted keys took most of the test's time under -race).
		key = strconv.AppendInt(key[:0], int64(i), 16)
		if err := ks.Set(key, nil); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if u := ks.UsedBytes(); u > worst {
			worst = u
		}
	}
	if worst > maxMem {
		t.Fatalf("UsedBytes reached %d, over MaxMemory %d by %d bytes", worst, maxMem, worst-maxMem)
	}
}

// Keys whose tags crowd the top of the tag space overflow the index's pad
// slots. put used to double the table (and rebuild kept doubling while
// copySlots failed) without reserving the memory, so a client that could
// pick such keys (the hash was unseeded) pushed UsedBytes far past
// MaxMemory even under noeviction. The hash is seeded now; this test picks
// the keys with this keyspace's own hash, as an attacker no longer can.
func TestCrowdedKeysKeepMaxMemory(t *testing.T) {
	SkipOneGoroutineUnderRace(t)
	t.Parallel() // its own keyspace: overlaps the others
	const maxMem = 2 << 20
	ks, _ := newOpsKS(t, Options{MaxMemory: maxMem, Eviction: NoEviction, Shards: 1})
	var keys [][]byte
	k := []byte("f")
	for i := 0; len(keys) < 2600; i++ {
		k = strconv.AppendInt(k[:1], int64(i), 10)
		if ks.hash(k)>>tagShift >= 1<<tagBits-1<<10 { // top 1/4096 of tags
			keys = append(keys, bytes.Clone(k))
		}
	}
	worst, oom := int64(0), 0
	for _, k := range keys {
		if err := ks.Set(k, []byte("v")); err != nil {
			oom++
		}
		if u := ks.Stats().UsedBytes; u > worst {
			worst = u
		}
	}
	if worst > maxMem {
		t.Fatalf("%d one-byte keys (%d refused) took UsedBytes to %d, over MaxMemory %d (index %d slots)",
			len(keys), oom, worst, maxMem, ks.shards[0].table.Load().size)
	}
}

// A write whose value can never fit under MaxMemory still
// runs eviction to exhaustion before failing: with AllKeys it evicts every
// key of the shard and then returns ErrOOM, so a failed SET destroys data.
// (Redis evicts down to maxmemory and then accepts or refuses the write; it
// never empties the keyspace for a write it then refuses.)
func TestImpossibleWriteEvictsNothing(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 64 << 20, Eviction: AllKeys, Shards: 16})
	for i := 0; i < 1000; i++ {
		if err := ks.Set(fmt.Appendf(nil, "k%d", i), make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
	}
	err := ks.Set([]byte("blob"), make([]byte, 65<<20)) // over the bound itself
	st := ks.Stats()
	if err != nil && st.Evicted > 0 {
		t.Fatalf("SET failed with %v yet evicted %d keys (%d of 1000 left, UsedBytes %d of %d)",
			err, st.Evicted, ks.Len(), st.UsedBytes, st.MaxBytes)
	}
}

// Flush and GetDel drop every key, but the pages they retire are only
// reclaimed by a later write to the same shard (or a Delete): Flush and
// GetDel never call reclaimRetired, and the active expiry cycle returns
// early on an empty shard. The arena memory stays held, and UsedBytes stays
// at its pre-flush level, for as long as no one writes again.
func TestFlushAndGetDelReleaseMemory(t *testing.T) {
	SkipOneGoroutineUnderRace(t)
	t.Parallel() // its own keyspace: overlaps the others
	fill := func(ks *Keyspace) {
		for i := 0; i < 100_000; i++ {
			if err := ks.Set(fmt.Appendf(nil, "k%d", i), make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, how := range []string{"Flush", "GetDel"} {
		t.Run(how, func(t *testing.T) {
			ks, _ := newOpsKS(t, Options{Shards: 4})
			empty := ks.Stats().UsedBytes
			fill(ks)
			full := ks.Stats().UsedBytes
			if how == "Flush" {
				ks.Flush()
			} else {
				for i := 0; i < 100_000; i++ {
					if how == "GetDel" {
						ks.GetDel(nil, fmt.Appendf(nil, "k%d", i))
					} else {
						ks.Delete(fmt.Appendf(nil, "k%d", i))
					}
				}
			}
			ks.ActiveExpireCycle(time.Second)
			after := ks.Stats().UsedBytes
			// A Delete of every key leaves at most a tail page per log plus
			// the index: allow 4 pages per shard.
			if limit := empty + 4*4*int64(ks.pageSize); after > limit {
				t.Fatalf("after %s of every key UsedBytes is %d (full %d, empty %d): memory not released",
					how, after, full, empty)
			}
		})
	}
}

// The key hash is seeded per keyspace: the same key lands on a different
// index position in another keyspace (checked over many keys, so a chance
// agreement of one cannot fail the test).
func TestHashIsSeeded(t *testing.T) {
	a, _ := newOpsKS(t, Options{})
	b, _ := newOpsKS(t, Options{})
	same := 0
	for i := range 64 {
		k := fmt.Appendf(nil, "key%d", i)
		if a.hash(k) == b.hash(k) {
			same++
		}
	}
	if same == 64 {
		t.Fatal("two keyspaces hash every key alike: the hash is not seeded")
	}
}

// PERSIST rewrites the record without its TTL. Under NoEviction at the
// bound that rewrite fails, and Persist returned false with no error: the
// caller was told the key had no TTL while it kept it (and later expired).
// Found by FuzzKeyspace's tight-bound configuration.
func TestPersistAtBoundReportsOOM(t *testing.T) {
	ks, _ := newOpsKS(t, Options{MaxMemory: 48 << 10, Shards: 1, Eviction: NoEviction})
	big := make([]byte, 14200)
	_, err := ks.SetOpt(nil, []byte("a"), big, SetOptions{TTL: 1500})
	require.NoError(t, err)
	require.NoError(t, ks.Set([]byte("b"), big))
	// Fill what is left until a write fails.
	for i := 0; ; i++ {
		if err := ks.Set([]byte(fmt.Sprintf("f%d", i)), big[:2000]); err != nil {
			require.ErrorIs(t, err, ErrOOM)
			break
		}
	}
	ok, err := ks.Persist([]byte("a"))
	if ok {
		require.NoError(t, err)
		require.Equal(t, int64(-1), ks.PTTL([]byte("a")))
		return
	}
	require.ErrorIs(t, err, ErrOOM, "PERSIST of a key with a TTL returned false")
	require.Positive(t, ks.PTTL([]byte("a")), "a failed PERSIST keeps the TTL")
}
