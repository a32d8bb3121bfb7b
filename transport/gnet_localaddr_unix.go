//go:build unix

package transport

import (
	"net"
	"syscall"

	"github.com/panjf2000/gnet/v2"
)

// gnetLocalAddr is the server's end of c. gnet reports the address it was
// told to listen on, which for a wildcard host or port 0 is not the one
// the client reached; the socket is asked then (one getsockname per
// connection).
func gnetLocalAddr(c gnet.Conn) net.Addr {
	a, ok := c.LocalAddr().(*net.TCPAddr)
	if !ok || a.Port != 0 && !a.IP.IsUnspecified() {
		return c.LocalAddr()
	}
	sa, err := syscall.Getsockname(c.Fd())
	if err != nil {
		return c.LocalAddr()
	}
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), sa.Addr[:]...)), Port: sa.Port}
	case *syscall.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), sa.Addr[:]...)), Port: sa.Port}
	}
	return c.LocalAddr()
}
