//go:build !linux || race

package bufpool

// bigOK reports whether big buffers are reserved address space: not here
// (GrowTo grows as Grow does).
func bigOK() bool { return false }

func reserve(int) []byte { return nil }

func release([]byte) {}

func unreserve([]byte) {}
