//go:build linux

package transport

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// socketSendQueued returns the bytes in the kernel's send queue of socket
// fd that the peer has not acknowledged yet (SIOCOUTQ), or 0.
func socketSendQueued(fd uintptr) int64 {
	var n int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n))); e != 0 {
		return 0
	}
	return int64(n)
}

// socketRecvQueued returns the bytes waiting in the kernel's receive queue
// of socket fd, not read yet (FIONREAD), or 0.
func socketRecvQueued(fd uintptr) int64 {
	var n int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); e != 0 {
		return 0
	}
	return int64(n)
}

// socketAcked returns how many bytes the peer of TCP socket fd has
// acknowledged since it connected (TCP_INFO's tcpi_bytes_acked), or 0. It
// grows as the peer reads what the server wrote.
func socketAcked(fd uintptr) int64 {
	info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0
	}
	return int64(info.Bytes_acked)
}
