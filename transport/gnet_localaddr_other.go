//go:build !unix

package transport

import (
	"net"

	"github.com/panjf2000/gnet/v2"
)

// gnetLocalAddr is the address gnet reports for c's server end: the
// listen address. Only Unix builds ask the socket (getsockname) for the
// address a client reached on a wildcard host or port 0.
func gnetLocalAddr(c gnet.Conn) net.Addr { return c.LocalAddr() }
