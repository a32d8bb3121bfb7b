//go:build !unix

package server

import "time"

// processCPU returns zeros where getrusage is not available; INFO cpu then
// reports 0.000000.
func processCPU() (sys, user time.Duration) { return 0, 0 }
