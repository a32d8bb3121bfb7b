package transport

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// Conn is one client connection as a Handler sees it. ID, Proto,
// RemoteAddr and the session are safe to read from Serve; Park's completion,
// Push, Close and RESPVersion are safe from any goroutine. Proto is set by
// the connection's first byte, before its first Serve, and never changes;
// in Handler.Open it is not known yet.
type Conn struct {
	id      uint64
	proto   Proto
	version atomic.Int32 // RESP version: 2 or 3
	remote  net.Addr
	local   net.Addr
	fd      int // the socket's descriptor, -1 when there is none
	session any
	ops     connOps
	w       *Writer // the Writer Serve is given; SetRESPVersion retargets it

	lifted  Lifter // RestrictUntil's condition; processing context only
	batchAt int64  // Monotime when the current batch began; processing context only

	idleExempt atomic.Bool // SetIdleExempt: never closed by the idle timeout
}

// monoEpoch is the origin of Monotime.
var monoEpoch = time.Now()

// Monotime returns monotonic nanoseconds since the process started (about
// 25 ns: one vDSO clock read). BatchStart is on the same clock.
func Monotime() int64 { return int64(time.Since(monoEpoch)) }

// BatchStart returns the Monotime at which the transport began serving the
// batch the current request belongs to: the requests of one read (or of one
// wake-up of a parked or held connection), served one after another. A
// handler that times only some requests can bound the time of one it did
// not time by the time since then. Call only from Serve.
func (c *Conn) BatchStart() int64 { return c.batchAt }

// connOps is what each transport implements behind a Conn.
type connOps interface {
	// park marks the request being served as parked and returns its handle.
	park(c *Conn) *Parked
	// postpone parks the request being served, keeping a copy of it to
	// serve again, and returns its handle.
	postpone(c *Conn) *Postponed
	// push queues an out-of-band message; it fails when the connection is
	// closed or over its output limit.
	push(c *Conn, op binproto.Opcode, fn func(w *Writer)) error
	// close closes the connection once pending output is written.
	close(c *Conn)
	// abort closes the connection without waiting for pending output.
	abort(c *Conn)
	// pendingOutput returns the output not yet written; any goroutine.
	pendingOutput() int64
}

// ID returns the connection's unique id (CLIENT ID).
func (c *Conn) ID() uint64 { return c.id }

// Proto returns the connection's protocol.
func (c *Conn) Proto() Proto { return c.proto }

// RESPVersion returns 2 or 3.
func (c *Conn) RESPVersion() int { return int(c.version.Load()) }

// SetRESPVersion switches RESP2/RESP3 (HELLO); it applies from the reply
// being written by the current Serve on. Call only from Serve.
func (c *Conn) SetRESPVersion(v int) {
	if v != 3 {
		v = 2
	}
	c.version.Store(int32(v))
	if c.w != nil {
		c.w.setVersion(v)
	}
}

// Lifter says whether the pre-authentication limits RestrictUntil applies
// to a connection are lifted (the client has authenticated, or the server
// no longer requires it). A handler's session can be one without a
// closure made for every connection.
type Lifter interface {
	Lifted() bool
}

// RestrictUntil applies the request limits for a client that has not
// authenticated to a server that requires it, as Redis does since
// CVE-2021-32675, to every request parsed while lifted.Lifted() is false: a
// RESP request of at most resp.UnauthMaxArray elements and
// resp.UnauthMaxBulk bytes per bulk string, a binary frame of at most
// binproto.UnauthMaxFrame bytes. A larger one is a protocol error,
// answered before its data is read, and the connection is closed. The
// transport calls lifted before parsing each request, in the processing
// context; nil removes the limits for good. Call only from Open or Serve.
func (c *Conn) RestrictUntil(lifted Lifter) { c.lifted = lifted }

// SetIdleExempt exempts the connection from the idle timeout (on) or
// subjects it to it again (off), as Redis exempts its replicas and MONITOR
// clients: a connection that only receives is not idle. Turned off, the
// connection is idle from its last read, as before. Safe from any
// goroutine; the sweep that checks idleness sees it at its next pass.
func (c *Conn) SetIdleExempt(on bool) { c.idleExempt.Store(on) }

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// LocalAddr returns the server's end of the connection (the address the
// client connected to, which differs from the listen address when that is
// a wildcard); nil when the transport does not know it.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// FD returns the connection's socket descriptor, as CLIENT LIST shows it,
// or -1 when it has none (the in-memory pipe) or the transport cannot
// tell. The transport owns the descriptor: it is for display only.
func (c *Conn) FD() int { return c.fd }

// PendingOutput returns the output queued for the client and not yet
// written to its socket, as the transport last saw it: replies, pushes,
// and what is left of values written by reference (Writer.BulkRef). It
// is what the output-buffer limits measure (CLIENT LIST's omem). Safe
// from any goroutine.
func (c *Conn) PendingOutput() int64 {
	if c.ops == nil {
		return 0 // a Conn no transport serves (handler tests)
	}
	return c.ops.pendingOutput()
}

// Session returns the handler's per-connection state.
func (c *Conn) Session() any { return c.session }

// SetSession stores the handler's per-connection state (from Open or Serve).
func (c *Conn) SetSession(s any) { c.session = s }

// Park defers the reply to the request being served: Serve returns without
// writing, and the transport holds back the connection's later requests (so
// replies stay in order) until the returned handle is completed. The
// connection stays readable meanwhile, subject to the query-buffer limit.
func (c *Conn) Park() *Parked { return c.ops.park(c) }

// Postpone parks the request being served, as Park does, to be served
// again rather than answered: Serve returns without writing, the
// transport keeps its own copy of the request and holds back the
// connection's later requests, and once the returned handle's Retry is
// called it passes the copy to Handler.Serve again, in the connection's
// processing context, before any request behind it. A handler uses it for
// a request it cannot run yet but will run later as it stands (CLIENT
// PAUSE): unlike Parked.Complete, which writes a reply from another
// goroutine, the request then runs where requests run, so it may park,
// close the connection or change its RESP version as on its first pass.
// The copy costs an allocation of the request's size. Call only from
// Serve.
func (c *Conn) Postpone() *Postponed { return c.ops.postpone(c) }

// Push sends an out-of-band message written by fn: a RESP3 push (an array in
// RESP2) or a binary push frame with opcode op and id 0. It never blocks; it
// returns ErrConnClosed when the connection is closed, ErrNotReady before the
// connection's first byte has chosen its protocol, and ErrOutputLimit
// (and disconnects the client) when the message would take the
// connection's queued pushes over OutputHardLimit.
//
// fn runs on the calling goroutine before Push returns, under the same rules
// as for Parked.Complete. Pushes are written between replies, never inside
// one; a push made from Serve is written after the replies of the current
// read.
func (c *Conn) Push(op binproto.Opcode, fn func(w *Writer)) error { return c.ops.push(c, op, fn) }

// Close closes the connection after pending output has been written. Called
// from Serve, it also stops the connection's later requests, pipelined or
// not, from being served. Safe from any goroutine; later calls do nothing.
func (c *Conn) Close() { c.ops.close(c) }

// Abort closes the connection at once, dropping output not yet written
// (CLIENT KILL: Redis frees the client with whatever it had pending).
// Over TLS the session still ends with a close_notify alert, as from
// Redis, unless the client has stopped reading: its socket full, it is
// closed without one within 200 ms (the write under way, then the alert,
// get 100 ms each). Safe from any goroutine; after Close, it still cuts
// the wait short.
func (c *Conn) Abort() { c.ops.abort(c) }

// Parked is a request whose reply comes later.
type Parked struct {
	complete func(fn func(w *Writer))
}

// Complete writes the parked request's reply with fn and resumes the
// connection. It may be called from any goroutine, exactly once (later calls
// are ignored); calls after the connection has closed are ignored too.
//
// fn runs on the calling goroutine before Complete returns, with the
// connection's output lock held: it must not block or call methods of the
// connection, and what it writes is copied, so its arguments may be reused
// afterwards. The request's binary frame (id and opcode) is added by the
// transport, as for Serve.
func (p *Parked) Complete(fn func(w *Writer)) { p.complete(fn) }

// Postponed is a request to be served again (Conn.Postpone).
type Postponed struct {
	retry func()
}

// Retry resumes the connection by serving the postponed request again. It
// may be called from any goroutine, exactly once (later calls are
// ignored); a call after the connection has closed is ignored too, and the
// request is then never served. It does not block: the request is served
// later, in the connection's processing context.
func (p *Postponed) Retry() { p.retry() }
