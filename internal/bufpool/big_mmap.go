//go:build linux && !race

package bufpool

import (
	"syscall"
	"unsafe"
)

// bigOK reports whether big buffers are reserved address space: on 64-bit
// Linux outside race-detector builds (the race detector watches only the
// Go heap, so its builds keep every buffer there).
func bigOK() bool { return unsafe.Sizeof(uintptr(0)) == 8 }

// reserve maps n bytes of address space, committed by the kernel only as
// they are written (MAP_NORESERVE: no commit charge for what is never
// touched), or returns nil.
func reserve(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return b
}

// release returns b's memory to the kernel, keeping the mapping: it reads
// as zeros and is committed again as it is written.
func release(b []byte) { _ = syscall.Madvise(b, syscall.MADV_DONTNEED) }

// unreserve unmaps b, a whole mapping from reserve.
func unreserve(b []byte) { _ = syscall.Munmap(b) }
