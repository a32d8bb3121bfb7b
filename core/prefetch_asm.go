//go:build amd64 || arm64

package core

import "unsafe"

// prefetchLine asks the CPU to bring the cache line holding p into its
// caches (PREFETCHT0 on amd64, PRFM PLDL1KEEP on arm64). It is a hint: it
// reads nothing in the Go memory model's sense and does not wait for the
// line. p must point into an allocation (checkptr builds check it).
//
//go:noescape
func prefetchLine(p unsafe.Pointer)
