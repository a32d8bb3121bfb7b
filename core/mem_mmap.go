//go:build linux && !race

package core

import "syscall"

// Arena pages live outside the Go heap: the garbage collector never scans or
// paces on them, and freed pages go straight back to the kernel.
//
// Race-detector builds use heap pages instead (mem_heap.go), because the race
// detector only watches Go heap memory; that way the stress tests check the
// epoch protocol on real page reuse.

func allocPage(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]byte, size)
	}
	return b
}

func freePage(b []byte) {
	// A heap fallback page from allocPage is not mapped; Munmap fails with
	// EINVAL and the garbage collector takes it.
	_ = syscall.Munmap(b)
}
