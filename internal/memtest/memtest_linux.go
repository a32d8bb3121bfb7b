// Package memtest measures memory for tests: how much of a buffer the
// kernel holds resident.
package memtest

import (
	"os"
	"syscall"
	"unsafe"
)

// Resident returns how many bytes of the whole pages inside b are resident
// (mincore), and how many bytes those pages span. b need not be aligned;
// the partial pages at its ends are left out.
func Resident(b []byte) (resident, spanned int) {
	page := os.Getpagesize()
	if len(b) == 0 {
		return 0, 0
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	first := (start + uintptr(page) - 1) &^ uintptr(page-1)
	end := (start + uintptr(len(b))) &^ uintptr(page-1)
	if end <= first {
		return 0, 0
	}
	b = b[first-start : end-start]
	vec := make([]byte, len(b)/page)
	_, _, errno := syscall.Syscall(syscall.SYS_MINCORE, first, uintptr(len(b)), uintptr(unsafe.Pointer(unsafe.SliceData(vec))))
	if errno != 0 {
		panic("mincore: " + errno.Error())
	}
	for _, v := range vec {
		if v&1 != 0 {
			resident += page
		}
	}
	return resident, len(b)
}
