package workload

import "testing"

// Goroutines seeded 1, 2, ... must draw unrelated keys: with seeds spaced by
// the splitmix64 increment they walked one sequence a step apart, so every
// goroutine hit the key (and lock, and cache line) its neighbour had just
// hit.
func TestRandSeedsDrawUnrelatedSequences(t *testing.T) {
	const draws = 4096
	seen := make(map[uint64]uint64, 4*draws)
	for seed := uint64(1); seed <= 4; seed++ {
		r := NewRand(seed)
		for range draws {
			v := r.Next()
			if prev, ok := seen[v]; ok {
				t.Fatalf("seed %d drew %#x, which seed %d drew too", seed, v, prev)
			}
			seen[v] = seed
		}
	}
	// Two generators with the same seed agree (the benchmark relies on it).
	a, b := NewRand(7), NewRand(7)
	for range 100 {
		if a.Next() != b.Next() {
			t.Fatal("same seed, different sequences")
		}
	}
}

func TestAppendKey(t *testing.T) {
	for _, c := range []struct {
		i    int
		want string
	}{{0, "key:000000000000"}, {7, "key:000000000007"}, {1048575, "key:000001048575"}, {999999999999, "key:999999999999"}} {
		if got := string(AppendKey(nil, c.i)); got != c.want {
			t.Errorf("AppendKey(%d) = %q, want %q", c.i, got, c.want)
		}
	}
	d := NewDataset(1000)
	for i := range 1000 {
		if got := AppendKey(nil, i); string(got) != string(d.Key(i)) {
			t.Fatalf("AppendKey(%d) = %q, dataset has %q", i, got, d.Key(i))
		}
	}
}
