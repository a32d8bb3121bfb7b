//go:build unix

package transport

import (
	"syscall"

	"github.com/panjf2000/gnet/v2"
)

// shutdownWrite half-closes c: the peer gets the data already written, then
// end of file, while c stays readable.
func shutdownWrite(c gnet.Conn) error { return syscall.Shutdown(c.Fd(), syscall.SHUT_WR) }
