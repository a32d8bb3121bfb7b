package core

import "testing"

// SkipOneGoroutineUnderRace (exported for the core_test package) skips,
// under the race detector, a heavy test that drives its own keyspace from
// one goroutine: there is nothing concurrent for the detector to check,
// the plain run (CI's first test step) runs it whole, and under -race each
// took 15-34 s of CI's 15 minutes.
func SkipOneGoroutineUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("one goroutine, nothing for the race detector: run whole without -race")
	}
}
