package core

import (
	"fmt"
	"testing"
)

// Flush drops every key, so the ghost filter, sized to the live keys and
// counted in UsedBytes, must shrink with them: under AllKeys it held 4
// bytes per flushed key until the next table rebuild.
func TestReviewFlushShrinksGhost(t *testing.T) {
	SkipOneGoroutineUnderRace(t)
	t.Parallel() // its own keyspace: overlaps the others
	k, err := New(Options{NoActiveExpiry: true, Shards: 2, Eviction: AllKeys})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	empty := k.Stats().UsedBytes
	for i := 0; i < 200_000; i++ {
		if err := k.Set(fmt.Appendf(nil, "k%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	k.Flush()
	// Up to two pooled pages per shard stay (newTail's reserve).
	if after, limit := k.Stats().UsedBytes, empty+2*2*int64(k.pageSize)+2*64*4; after > limit {
		t.Fatalf("after Flush UsedBytes is %d, want <= %d (empty %d)", after, limit, empty)
	}
}
