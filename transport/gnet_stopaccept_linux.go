package transport

import (
	"syscall"

	"github.com/panjf2000/gnet/v2"
)

// dupListener returns a duplicate of the engine's listening descriptor,
// or -1. It is taken at boot, before the engine runs: gnet rewrites its
// own descriptor field when it stops.
func dupListener(eng gnet.Engine) int {
	fd, err := eng.Dup()
	if err != nil {
		return -1
	}
	return fd
}

// stopAccepting shuts the listening socket through fd, a duplicate of its
// descriptor (the socket is shared, so the listener itself stops). On
// Linux that ends the listening state: the connections waiting in its
// accept queue are reset, and the acceptor's next accept fails. It
// reports whether it did.
func stopAccepting(fd int) bool {
	return fd >= 0 && syscall.Shutdown(fd, syscall.SHUT_RD) == nil
}

// closeListenerDup closes fd from dupListener, if any. Until then the
// socket outlives gnet's own descriptor: it must be closed once the
// engine has stopped.
func closeListenerDup(fd int) {
	if fd >= 0 {
		_ = syscall.Close(fd)
	}
}
