//go:build !linux

package transport

import "net"

// listenTCP listens on addr; each accepted connection gets Go's default
// TCP keep-alive (not every system copies a listener's to it).
func listenTCP(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
