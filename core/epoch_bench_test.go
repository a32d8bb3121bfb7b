package core

import "testing"

// BenchmarkEpochEnterExit is the fixed cost a lock-free read pays for page
// reclamation: announce an epoch, count a hit, leave. With -cpu 2 it shows
// whether reader slots stay in their core's cache.
func BenchmarkEpochEnterExit(b *testing.B) {
	e := newEpochs()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rs := e.enter()
			rs.hits.Add(1)
			rs.exit()
		}
	})
}
