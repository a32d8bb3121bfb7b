package transport

import (
	"net"
	"syscall"
	"testing"
)

// TestListenTCPKeepAlive: connections accepted from listenTCP's listener
// have Go's default TCP keep-alive (on, 15 s idle, 15 s interval, 9
// probes) and no Nagle delay, though no call set them on the connection:
// Linux copies them from the listener.
func TestListenTCPKeepAlive(t *testing.T) {
	ln, err := listenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct {
		name       string
		level, opt int
		want       int
	}{
		{"SO_KEEPALIVE", syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
		{"TCP_KEEPIDLE", syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, keepIdleSecs},
		{"TCP_KEEPINTVL", syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, keepIntervalSecs},
		{"TCP_KEEPCNT", syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, keepCount},
		{"TCP_NODELAY", syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1},
	} {
		var v int
		var gerr error
		if err := rc.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), o.level, o.opt) }); err != nil {
			t.Fatal(err)
		}
		if gerr != nil || v != o.want {
			t.Errorf("%s = %d (%v), want %d", o.name, v, gerr, o.want)
		}
	}
}

// TestServedSocketOptions: the socket a transport serves a client on has
// TCP_NODELAY (replies are not held back by Nagle's algorithm) and the
// keep-alive listenTCP gave the listener. The gnet transport serves a dup
// of Go's accepted socket and relies on Go having set TCP_NODELAY.
func TestServedSocketOptions(t *testing.T) {
	for _, kind := range []string{"gnet", "std"} {
		t.Run(kind, func(t *testing.T) {
			e := startEnv(t, kind, Config{})
			c := e.conn(t)
			c.write(t, cmd("PING"))
			c.expect(t, "PONG")
			e.h.connMu.Lock()
			fd := e.h.conns[0].FD()
			e.h.connMu.Unlock()
			if fd < 0 {
				t.Fatal("no descriptor")
			}
			for _, o := range []struct {
				name       string
				level, opt int
				want       int
			}{
				{"TCP_NODELAY", syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1},
				{"SO_KEEPALIVE", syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
				{"TCP_KEEPIDLE", syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, keepIdleSecs},
			} {
				if v, err := syscall.GetsockoptInt(fd, o.level, o.opt); err != nil || v != o.want {
					t.Errorf("%s = %d (%v), want %d", o.name, v, err, o.want)
				}
			}
		})
	}
}
