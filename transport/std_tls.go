package transport

import (
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// tlsSock is the socket under a std connection's TLS session. It passes
// everything through, but can hold the deadlines set on it to a bound
// (limit): an aborted connection ends its TLS session with a close_notify
// alert, which tls.Conn sends under a 5 s write deadline of its own, and
// whatever waits on a client that does not read must not wait past the
// bound.
type tlsSock struct {
	net.Conn
	mu    sync.Mutex
	limit time.Time // the latest deadline allowed; zero: none. REQUIRES: mu
}

// bound holds every deadline of s, those in force and those set later, to
// at most d from now: a read or write waiting on the socket then returns
// by that time. A later call sets a new bound. It does not block.
func (s *tlsSock) bound(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = time.Now().Add(d)
	_ = s.Conn.SetDeadline(s.limit)
}

// clamp returns deadline t held to the bound. REQUIRES: s.mu.
func (s *tlsSock) clamp(t time.Time) time.Time {
	if !s.limit.IsZero() && (t.IsZero() || t.After(s.limit)) {
		return s.limit
	}
	return t
}

// SetDeadline implements net.Conn.
func (s *tlsSock) SetDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Conn.SetDeadline(s.clamp(t))
}

// SetReadDeadline implements net.Conn.
func (s *tlsSock) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Conn.SetReadDeadline(s.clamp(t))
}

// SetWriteDeadline implements net.Conn.
func (s *tlsSock) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Conn.SetWriteDeadline(s.clamp(t))
}

// closeNotify runs as the writer exits: an aborted TLS connection's
// session is ended with close_notify, as Redis ends a TLS client's
// (SSL_shutdown), so that the client reads a clean end of stream rather
// than a truncation, and the socket closed. The alert goes out at once
// when the socket has room; it gets notifyWait otherwise, the socket being
// closed without it then. None goes after a write that failed: the record
// it was writing may be cut short, and the stream is then broken anyway.
// A connection closed gracefully has sent it already (lingerClose), and
// one without TLS has been closed by abort. REQUIRES: the writer
// goroutine, which has stopped writing.
func (n *netConn) closeNotify() {
	if n.sock == nil || !n.stopped.Load() {
		return
	}
	if tc, ok := n.nc.(*tls.Conn); ok && !n.wfail {
		// A fresh bound: the writer may have been busy (serving a
		// wake-up) for some time since the abort.
		n.sock.bound(notifyWait)
		_ = tc.CloseWrite()
	}
	_ = n.raw.Close()
}
