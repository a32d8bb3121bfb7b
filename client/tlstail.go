package client

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// tlsTail sits under a TLS connection, so that a write its caller's
// context cuts short need not break the connection. TLS cannot go on
// after a failed write (its record sequence is lost), so tlsTail never
// fails one that the caller's own deadline cut, while armed: it keeps the
// unwritten bytes, and those of every write after them, for writeLoop to
// send (finish), and reports them written. Over plain TCP, writeBatch does
// the same with the unwritten net.Buffers.
//
// tls.Conn serializes its writes, so Write never runs concurrently with
// itself; finish runs concurrently with Writes only while the tail is cut,
// when they just append.
type tlsTail struct {
	net.Conn
	mu    sync.Mutex
	armed bool      // a caller's deadline may cut writes; REQUIRES: mu held
	limit time.Time // the write timeout's deadline, zero if none; REQUIRES: mu held
	cut   bool      // held holds bytes: writes append; REQUIRES: mu held
	held  []byte    // REQUIRES: mu held
}

// Write writes b, or holds what a timeout before limit left unwritten.
func (t *tlsTail) Write(b []byte) (int, error) {
	t.mu.Lock()
	if t.cut {
		t.held = append(t.held, b...)
		t.mu.Unlock()
		return len(b), nil
	}
	armed, limit := t.armed, t.limit
	t.mu.Unlock()
	n, err := t.Conn.Write(b)
	if err != nil && armed && errors.Is(err, os.ErrDeadlineExceeded) && (limit.IsZero() || time.Now().Before(limit)) {
		t.mu.Lock()
		t.cut = true
		t.held = append(t.held, b[n:]...)
		t.mu.Unlock()
		return len(b), nil
	}
	return n, err
}

// arm lets writes until disarm be cut by a deadline before limit (the
// write timeout's, zero if none) without failing.
func (t *tlsTail) arm(limit time.Time) {
	t.mu.Lock()
	t.armed, t.limit = true, limit
	t.mu.Unlock()
}

// disarm ends arm and reports whether bytes are held for finish.
func (t *tlsTail) disarm() (cut bool) {
	t.mu.Lock()
	t.armed = false
	cut = t.cut
	t.mu.Unlock()
	return cut
}

// finish writes the held bytes, and any held meanwhile, by deadline (zero:
// none), then lets writes through again.
func (t *tlsTail) finish(deadline time.Time) error {
	_ = t.Conn.SetWriteDeadline(deadline)
	for {
		t.mu.Lock()
		b := t.held
		t.held = nil
		if len(b) == 0 {
			t.cut = false
			t.mu.Unlock()
			return nil
		}
		t.mu.Unlock()
		if _, err := t.Conn.Write(b); err != nil {
			return err
		}
	}
}
