package core

import (
	"fmt"
	"testing"
)

// TestActiveExpiryReachesEveryShard: a cycle whose budget runs out on a
// shard full of expired keys left the shards after it unsampled, and the
// next cycle started again at the first shard: under a load that keeps
// the first shards busy, the keys that expired in the others were never
// reclaimed by the cycle (Redis resumes at the next database). Each cycle
// now starts at the shard after the one where the last ran out of time.
func TestActiveExpiryReachesEveryShard(t *testing.T) {
	now := int64(1_000_000)
	k, err := New(Options{NoActiveExpiry: true, Shards: 2, Clock: func() int64 { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	// Many keys in shard 0, a few in shard 1, all with a TTL.
	in1 := 0
	for i := 0; i < 4000 || in1 < 20; i++ {
		key := fmt.Appendf(nil, "k%d", i)
		s, _ := k.shardFor(key)
		if s == &k.shards[1] {
			if in1 == 20 {
				continue
			}
			in1++
		} else if i >= 4000 {
			continue
		}
		if _, err := k.SetOpt(nil, key, []byte("v"), SetOptions{TTL: 10}); err != nil {
			t.Fatal(err)
		}
	}
	now += 100 // all expired
	// A budget of 0 lets each cycle run one pass: shard 0 alone needs
	// many to be cleaned, as a shard under a heavy expiring load does.
	for range 4 {
		k.ActiveExpireCycle(0)
	}
	if n := k.shards[1].keys.Load(); n == int64(in1) {
		t.Fatalf("shard 1 still holds its %d expired keys after 4 cycles: only shard 0 was sampled (it has %d left)", n, k.shards[0].keys.Load())
	}
}
