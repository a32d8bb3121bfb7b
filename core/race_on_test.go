//go:build race

package core

// raceEnabled reports a -race build: a few long tests then run a smaller
// load (their full one runs in the ordinary test run, CI's too), so that
// CI's race step stays within its time.
const raceEnabled = true
