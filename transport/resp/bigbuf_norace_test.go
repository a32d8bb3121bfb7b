//go:build !race

// The race detector makes sync.Pool drop items at random, so this test of
// the pool's saving runs in the ordinary (CI) test run only.

package resp

import (
	"runtime"
	"testing"
)

// Once warm, the pool saves the scratch: without it every 300 KB command
// split over reads allocated its scratch afresh (twice over, growing).
func TestSplitBigCommandsReuseScratch(t *testing.T) {
	d := NewDecoder(Limits{})
	cmd := bigSet("key", 300_000, 'x')
	feedSplit(t, d, cmd, 16<<10) // warm the pool
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const rounds = 40
	for range rounds {
		feedSplit(t, d, cmd, 16<<10)
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / rounds; per > uint64(len(cmd))/4 {
		t.Fatalf("%d bytes allocated per %d-byte command split over reads", per, len(cmd))
	}
}
