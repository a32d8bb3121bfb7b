//go:build unix

package server

import (
	"syscall"
	"time"
)

// processCPU returns the system and user CPU time the process has used
// (getrusage RUSAGE_SELF), for INFO cpu.
func processCPU() (sys, user time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Stime.Nano()), time.Duration(ru.Utime.Nano())
}
