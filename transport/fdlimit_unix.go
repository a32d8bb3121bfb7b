//go:build unix

package transport

import (
	"math"
	"syscall"
)

// openFileLimit returns the process's limit on open file descriptors
// (RLIMIT_NOFILE, which the Go runtime raises to the hard limit at start),
// or 0 when there is none (RLIM_INFINITY is over MaxInt32 too) or it
// cannot be read.
func openFileLimit() int {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil || rl.Cur > math.MaxInt32 {
		return 0
	}
	return int(rl.Cur)
}
