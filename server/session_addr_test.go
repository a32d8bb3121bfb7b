package server

import (
	"net"
	"testing"
)

// TestSessionAddr: the peer address CLIENT LIST and MONITOR show, now
// formatted when asked rather than kept with every session, reads as the
// address's String() did, for IPv4 (also in its 16-byte form), IPv6 with
// and without a zone, and other kinds of address; and a TCP one is
// formatted without allocating (MONITOR writes it on every line).
func TestSessionAddr(t *testing.T) {
	for _, a := range []net.Addr{
		&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 54321},
		&net.TCPAddr{IP: net.IP{10, 1, 2, 3}, Port: 7379},
		&net.TCPAddr{IP: net.IPv6loopback, Port: 6379},
		&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 1, Zone: "eth0"},
		&net.TCPAddr{IP: net.ParseIP("2001:db8::ff00:42:8329"), Port: 65535},
		&net.UnixAddr{Name: "/tmp/ringdb.sock", Net: "unix"},
	} {
		if got, want := string(appendNetAddr(nil, a)), a.String(); got != want {
			t.Errorf("%#v: %q, want %q", a, got, want)
		}
	}
	if got := appendNetAddr([]byte("x"), nil); string(got) != "x" {
		t.Errorf("nil address appended %q", got)
	}
	buf := make([]byte, 0, 64)
	a := &net.TCPAddr{IP: net.IPv4(192, 168, 1, 20), Port: 40000}
	if n := testing.AllocsPerRun(100, func() { buf = appendNetAddr(buf[:0], a) }); n != 0 {
		t.Errorf("a TCP address took %.0f allocations", n)
	}
}
