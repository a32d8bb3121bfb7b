package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ringdb/ringdb/internal/bufpool"
	"github.com/ringdb/ringdb/transport/binproto"
)

// Read buffer sizes of the std transport: a connection starts small, so that
// many idle clients cost little, and doubles its buffer while reads fill it.
const (
	minReadBuf = 4 << 10
	maxReadBuf = 64 << 10
)

// NewStd returns a Server on the standard library's net package, with TLS
// when Config.TLS is set. Each connection has a reader goroutine, which
// reads and executes requests inline, and a writer goroutine, which writes
// the replies of each read batch with one write and runs the work other
// goroutines queue (pushes, completions of parked requests). Because
// reading never waits for writing, a client that stops reading keeps its
// output growing until an output limit disconnects it.
func NewStd(cfg Config) Server {
	return newNetServer(cfg, func(addr string) (net.Listener, error) {
		return listenTCP(addr)
	})
}

// netServer serves connections from a net.Listener: the std transport and
// the in-memory Pipe.
type netServer struct {
	*hub
	listen func(addr string) (net.Listener, error)

	ready chan struct{} // closed once listening
	done  chan struct{} // closed when Serve returns
	state atomic.Int32
	wg    sync.WaitGroup // connection goroutines

	lnMu sync.Mutex
	ln   net.Listener // REQUIRES: lnMu

	counters          // the accept loop's: accepted, rejected
	retired  counters // closed connections' traffic, folded in. REQUIRES: hub.mu
}

func newNetServer(cfg Config, listen func(string) (net.Listener, error)) *netServer {
	return &netServer{
		hub:    newHub(cfg),
		listen: listen,
		ready:  make(chan struct{}),
		done:   make(chan struct{}),
	}
}

// Serve implements Server.
func (s *netServer) Serve(h Handler) error {
	if !s.state.CompareAndSwap(stateNew, stateServing) {
		return ErrServerClosed
	}
	defer close(s.done)
	s.h = h
	ln, err := s.listen(s.cfg.Addr)
	if err != nil {
		return err
	}
	s.lnMu.Lock()
	s.ln = ln
	closed := s.state.Load() == stateClosed
	s.lnMu.Unlock()
	if closed {
		_ = ln.Close()
		return nil
	}
	close(s.ready)

	stop := make(chan struct{})
	var sweeper sync.WaitGroup
	sweeper.Add(1)
	go func() {
		defer sweeper.Done()
		s.sweeper(stop)
	}()
	defer func() {
		// The connections first: a Shutdown's closing ones are swept
		// too (output limits, drainMoving).
		s.wg.Wait()
		close(stop)
		sweeper.Wait()
	}()

	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			if isTemporary(err) {
				// Out of file descriptors, say: back off as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			s.closing.Store(true)
			s.abortAll()
			return err
		}
		delay = 0
		s.accept(c)
	}
}

// isTemporary reports whether an Accept error may go away by itself.
func isTemporary(err error) bool {
	var ne interface{ Temporary() bool }
	return errors.As(err, &ne) && ne.Temporary()
}

// accept starts serving c.
func (s *netServer) accept(c net.Conn) {
	s.accepted.Add(1)
	if s.overOpen() {
		s.rejected.Add(1)
		_ = c.Close()
		return
	}
	reject := !s.admit()
	if reject {
		s.rejected.Add(1)
	}
	n := &netConn{
		srv:   s,
		nc:    c,
		raw:   c,
		kick:  make(chan struct{}, 1),
		wdone: make(chan struct{}),
	}
	if s.cfg.TLS != nil {
		n.sock = &tlsSock{Conn: c}
		n.nc = tls.Server(n.sock, s.cfg.TLS)
		n.handshaking = true
	}
	n.init(s.hub, n, &n.counters, nil, c.RemoteAddr(), c.LocalAddr(), connFD(c), reject)
	// Turns bound the output a batch builds before its writer gets it
	// (resumeHeld): a pipeline of 2000 GETs of 100 KB read at once
	// was built into one 200 MB buffer (grown by doubling, page-faulted
	// afresh each time) before a byte of it went out: 10x gnet's time,
	// and 600 MB of peak RSS.
	n.turnOut = turnOut
	s.wg.Add(1)
	s.register(&n.connState)
	go n.run()
}

// Ready implements Server.
func (s *netServer) Ready() <-chan struct{} { return s.ready }

// Addr implements Server.
func (s *netServer) Addr() net.Addr {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Stats implements StatsProvider.
func (s *netServer) Stats() Stats {
	var st Stats
	s.counters.addTo(&st)
	s.hub.mu.Lock()
	s.retired.addTo(&st)
	for cs := s.conns; cs != nil; cs = cs.regNext {
		cs.st.addTo(&st)
	}
	s.hub.mu.Unlock()
	return st
}

// Shutdown implements Server.
func (s *netServer) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.lnMu.Lock()
	prev := s.state.Swap(stateClosed)
	if s.ln != nil {
		_ = s.ln.Close()
	}
	s.lnMu.Unlock()
	if prev == stateNew {
		return nil
	}
	s.closeAll()
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for s.count() > 0 {
		select {
		case <-ctx.Done():
			s.abortAll()
			return ctx.Err()
		case <-t.C:
		}
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sweeper enforces the soft output limit on connections whose output is
// not moving (the writer checks it whenever output is queued).
func (s *netServer) sweeper(stop <-chan struct{}) {
	t := time.NewTimer(s.sweepInterval())
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		t.Reset(s.sweepInterval()) // the limits may have changed (CONFIG SET)
		now := s.now()
		for _, cs := range s.snapshot() {
			if n, ok := cs.tr.(*netConn); ok {
				n.drainMoving()
			}
			if cs.outputOver(cs.pendOut.Load(), now) {
				cs.mu.Lock()
				if !cs.closed {
					cs.overflow, cs.closing = true, true
					cs.tr.abort()
				}
				cs.mu.Unlock()
			}
		}
	}
}

// retire removes a finished connection from the registry and folds its
// counters into the server's, in one step so that Stats never counts it
// twice or not at all.
func (s *netServer) retire(n *netConn) {
	s.hub.mu.Lock()
	s.unlink(&n.connState)
	r, c := &s.retired, &n.counters
	r.bytesIn.Add(c.bytesIn.Load())
	r.bytesOut.Add(c.bytesOut.Load())
	r.gone.Add(c.gone.Load())
	r.obufDisc.Add(c.obufDisc.Load())
	s.hub.mu.Unlock()
}

// netConn is one connection of a netServer.
type netConn struct {
	connState
	counters
	srv *netServer
	nc  net.Conn // the connection, TLS-wrapped with TLS
	raw net.Conn // the socket under nc: closing it aborts at once
	// sock is the socket under the TLS session, whose deadlines an
	// abort bounds; nil without TLS.
	sock *tlsSock

	// procMu is the processing context: process runs only with it held,
	// on the reader or the writer goroutine.
	procMu sync.Mutex
	batch  []byte // output scratch. REQUIRES: procMu
	// pacer serves the next turn of a connection whose writer wrote
	// nothing for paceWait (armPacer): paced says it is armed, paceMark
	// is what the writer had written then. ended: the connection is
	// finished, and serves nothing more. REQUIRES: procMu
	pacer    *time.Timer
	paced    bool
	paceMark uint64
	ended    bool

	kick  chan struct{} // wakes the writer
	wdone chan struct{} // closed when the writer has exited

	outq       []byte // output queued for the writer. REQUIRES: connState.mu
	spare      []byte // the writer's previous buffer, for reuse. REQUIRES: connState.mu
	wakeReq    bool   // process(nil) is due. REQUIRES: connState.mu
	flushClose bool   // close once outq is written. REQUIRES: connState.mu
	// stopped: aborted; the writer writes nothing more and exits, the
	// reader serves nothing more. Set under connState.mu, read anywhere.
	stopped atomic.Bool
	// wfail: a write failed, perhaps within a TLS record, after which no
	// close_notify can go (closeNotify). The writer goroutine's.
	wfail bool
	// handshaking: the reader is in the TLS handshake, whose deadline is
	// its own (idleChanged leaves it alone). REQUIRES: connState.mu
	handshaking bool

	// draining: a close is under way, its writes bounded by closeWait
	// deadlines, each write that goes through moving the deadline on
	// (moved): a client that reads slowly but steadily gets all its
	// replies, one that stops reading is closed.
	draining atomic.Bool
	// drainAcked is what the client had acknowledged when the sweeper
	// last looked at the closing connection (drainMoving).
	drainAcked atomic.Int64
}

// signal wakes the writer without blocking.
func (n *netConn) signal() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// wake implements connTransport.
func (n *netConn) wake() {
	n.wakeReq = true
	n.signal()
}

// sendQueued implements connTransport.
func (n *netConn) sendQueued() int64 { return n.socketQueue(socketSendQueued) }

// inputWaiting implements connTransport. Under TLS it sees the socket's
// encrypted bytes, which are input all the same.
func (n *netConn) inputWaiting() bool { return n.socketQueue(socketRecvQueued) > 0 }

// socketQueue returns what queue says of the socket, or 0 without one
// (net.Pipe: a write completes only as it is read).
func (n *netConn) socketQueue(queue func(fd uintptr) int64) int64 {
	sc, ok := n.raw.(syscall.Conn)
	if !ok {
		return 0
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	var q int64
	_ = rc.Control(func(fd uintptr) { q = queue(fd) })
	return q
}

// closeRequested implements connTransport: the writer may be blocked
// writing to a client that does not read, and turns the request into a
// close (enqueue's closeWait deadline) only once that write returns, so the
// deadline is set now. Without it Shutdown waited for its context, and
// Conn.Close from another goroutine never closed such a client.
func (n *netConn) closeRequested() {
	n.draining.Store(true)
	_ = n.nc.SetWriteDeadline(time.Now().Add(n.hub.waits.close))
}

// moved moves the closeWait deadline of a connection that is closing on,
// after a write went through: the deadline bounds a close whose output
// does not move (a piece of flushPiece in closeWait), not one that takes
// long to drain.
func (n *netConn) moved() {
	if n.draining.Load() {
		_ = n.nc.SetWriteDeadline(time.Now().Add(n.hub.waits.close))
	}
}

// drainMoving moves the closeWait deadline of a closing connection whose
// client has acknowledged more of its output since the sweeper last
// looked: the client is reading. A writer blocked on a full socket is
// woken only once a good share of the socket's buffer has room (Linux: a
// third to a half), and a client reading slowly but steadily from a
// buffer grown to megabytes took longer than closeWait to make it, so
// moved alone cut it off while it read, losing replies to requests the
// server had executed.
func (n *netConn) drainMoving() {
	if !n.draining.Load() {
		return
	}
	if a := n.socketQueue(socketAcked); a > n.drainAcked.Swap(a) {
		n.moved()
	}
}

// idleChanged implements connTransport: the reader waits under a deadline
// computed from the old timeout (or none). Ending its wait now makes it
// look at the connection again (timedOut) and wait under the new one. A
// reader still in the TLS handshake is left alone: the expired deadline
// failed the handshake, and CONFIG SET timeout aborted every client
// connecting at that moment; it reads the timeout once the handshake is
// done.
func (n *netConn) idleChanged() {
	if n.handshaking {
		return
	}
	_ = n.nc.SetReadDeadline(time.Now())
}

// decoders implements connTransport: a connection keeps its decoder.
func (n *netConn) decoders() *decPool { return nil }

// abort implements connTransport. Without TLS, or before the TLS
// handshake is done, it closes the socket. A TLS session is ended with
// close_notify rather than cut under the client: the writer sends it as it
// exits (closeNotify), and abort bounds by notifyWait whatever it waits on
// meanwhile (a write to a client that reads nothing, which the closed
// socket would have ended at once). It never waits itself, and gives up
// the connection's MaxClients place at once (leaveLocked).
func (n *netConn) abort() {
	if n.stopped.Swap(true) {
		return // a second abort must not move the bound on
	}
	n.leaveLocked()
	if n.sock != nil && !n.handshaking {
		n.sock.bound(notifyWait)
	} else {
		_ = n.raw.Close()
	}
	n.signal()
}

// run serves the connection on the reader goroutine until it closes.
func (n *netConn) run() {
	defer n.srv.wg.Done()
	go n.writeLoop()
	n.readLoop()
	<-n.wdone
	_ = n.raw.Close()
	n.procMu.Lock()
	n.ended = true
	if n.pacer != nil {
		n.pacer.Stop()
	}
	n.finish()
	n.procMu.Unlock()
	n.srv.retire(n)
}

// readLoop reads and serves until the connection is to close; by then the
// writer has been told to flush and close, or to stop.
func (n *netConn) readLoop() {
	if tc, ok := n.nc.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(context.Background(), n.handshakeTimeout())
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			// At debug, as every client that is not one (a plain-text
			// client, a port scanner, a handshake never finished) makes
			// one: without it an operator whose clients refuse the
			// certificate found nothing in the log at any level.
			if !n.srv.closing.Load() {
				slog.Debug("TLS handshake failed", "client", n.raw.RemoteAddr().String(), "err", err)
			}
			n.stop()
			return
		}
		n.mu.Lock()
		n.handshaking = false
		n.mu.Unlock()
	}
	buf := make([]byte, minReadBuf)
	deadline := false // a read deadline is set
	for {
		switch t := n.hub.idleTimeoutNow(); {
		case n.refused():
			_ = n.nc.SetReadDeadline(time.Now().Add(n.refuseWait() - time.Duration(n.srv.now()-n.born)))
			deadline = true
		case t > 0:
			_ = n.nc.SetReadDeadline(time.Now().Add(t))
			deadline = true
		case deadline:
			_ = n.nc.SetReadDeadline(time.Time{}) // the timeout was turned off
			deadline = false
		}
		k, err := n.nc.Read(buf)
		if n.stopped.Load() {
			// Aborted: a TLS socket is still open, for close_notify,
			// but what it reads is not served.
			return
		}
		if k > 0 {
			n.procMu.Lock()
			if n.stopped.Load() { // aborted while it waited
				n.procMu.Unlock()
				return
			}
			quit := n.enqueue(n.process(n.batch[:0], buf[:k]))
			n.armPacer()
			n.procMu.Unlock()
			if quit {
				return
			}
			if k == len(buf) && len(buf) < maxReadBuf {
				buf = make([]byte, 2*len(buf))
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			// Also set by idleChanged, from outside this loop.
			deadline = true
			if !n.timedOut() {
				return
			}
		case errors.Is(err, net.ErrClosed):
			// Closed by the writer or aborted: it knows already.
			n.stop()
			return
		default:
			// EOF, or the peer reset: write what is pending, then close.
			n.procMu.Lock()
			n.enqueue(n.disconnect(n.batch[:0], 0, "", false))
			n.procMu.Unlock()
			return
		}
	}
}

// handshakeTimeout bounds the TLS handshake: handshakeWait, but no longer
// than the idle timeout (as Redis counts a TLS client idle from accept,
// handshake included) or, for a connection to be refused, the time it may
// stay silent (refuseWait, counted from accept as after the handshake): a
// client that connects and never handshakes otherwise held its MaxClients
// slot, or one of the places kept for refusals, for handshakeWait whatever
// the configuration.
func (n *netConn) handshakeTimeout() time.Duration {
	d := handshakeWait
	if t := n.hub.idleTimeoutNow(); t > 0 {
		d = min(d, t)
	}
	if n.refused() {
		d = min(d, n.refuseWait())
	}
	return d
}

// timedOut handles a read deadline: it reports whether to keep reading (a
// parked client is never idle) or disconnects an idle or refused client.
func (n *netConn) timedOut() bool {
	n.procMu.Lock()
	defer n.procMu.Unlock()
	if n.quit {
		return false
	}
	now := n.srv.now()
	if n.refused() && time.Duration(now-n.born) < n.refuseWait() {
		return true // woken early by idleChanged
	}
	if !n.refused() && !n.idle(now) {
		return true
	}
	msg := idleMsg
	if n.refused() {
		msg = ""
	}
	n.enqueue(n.disconnect(n.batch[:0], binproto.ClassErr, msg, false))
	return false
}

// stop aborts the connection.
func (n *netConn) stop() {
	n.mu.Lock()
	n.abort()
	n.mu.Unlock()
}

// enqueue hands out to the writer, enforces the output limits and, once
// the connection has quit, tells the writer to close it. It reports
// whether the connection has quit. REQUIRES: procMu.
func (n *netConn) enqueue(out []byte) bool {
	n.mu.Lock()
	if len(out) > 0 {
		if len(n.outq) == 0 {
			n.outq, n.batch = out, n.outq[:0]
		} else {
			n.outq = append(n.outq, out...)
			n.batch = out[:0]
		}
		n.pendOut.Add(int64(len(out)))
		n.handed += int64(len(out))
	}
	if cap(n.batch) > retainOut {
		n.batch = nil
	}
	if !n.quit && n.overOutput(n.pendOut.Load()) {
		n.overflow, n.closing = true, true
		n.setQuit(true)
	}
	if n.quit && !n.flushClose && !n.stopped.Load() {
		if n.abortive {
			n.abort()
		} else {
			n.flushClose = true
			n.draining.Store(true)
			_ = n.nc.SetWriteDeadline(time.Now().Add(n.hub.waits.close))
		}
	}
	n.signal()
	n.mu.Unlock()
	return n.quit
}

// writeLoop is the writer goroutine: it runs the work other goroutines
// queue and writes the queued output, until the connection closes.
func (n *netConn) writeLoop() {
	defer close(n.wdone)
	defer n.closeNotify()
	for range n.kick {
		n.mu.Lock()
		wake := n.wakeReq
		n.wakeReq = false
		n.mu.Unlock()
		if wake && !n.stopped.Load() {
			n.procMu.Lock()
			n.enqueue(n.process(n.batch[:0], nil))
			n.procMu.Unlock()
		}
		if !n.flush() {
			return
		}
		for {
			more, ok := n.writeStream()
			if !ok || more && !n.flush() {
				return
			}
			if !more && !n.resumeHeld() {
				break
			}
			if !n.flush() {
				return
			}
		}
	}
}

// writeStream writes the connection's value written by reference, if it
// has one, straight from the memory lent (connState.streamChunk), once the
// output queued before it has been flushed; once it is all written it has
// process append what follows it and serve the requests after it. It
// reports whether it made output to flush or wrote a piece (more), and
// false once the connection is closed (ok).
func (n *netConn) writeStream() (more, ok bool) {
	for {
		if n.stopped.Load() {
			return false, false
		}
		n.procMu.Lock()
		if !n.streaming || n.abortive {
			n.procMu.Unlock()
			return false, true
		}
		n.mu.Lock()
		queued := len(n.outq) > 0
		n.mu.Unlock()
		if queued {
			n.procMu.Unlock()
			return true, true // the header first
		}
		piece := n.streamChunk(flushPiece)
		if piece == nil {
			n.enqueue(n.process(n.batch[:0], nil))
			n.procMu.Unlock()
			return true, true
		}
		n.procMu.Unlock()
		// Outside procMu: the reader goes on stashing input meanwhile.
		// Nothing releases the value before streamSent: process only
		// once it has all been sent, finish only once this goroutine
		// has ended.
		k, err := n.nc.Write(piece)
		if !n.reject {
			n.bytesOut.Add(uint64(k))
		}
		n.procMu.Lock()
		n.streamSent(len(piece))
		n.procMu.Unlock()
		if err == nil {
			n.moved()
		} else {
			n.wfail = true
			n.mu.Lock()
			n.abort()
			n.mu.Unlock()
			return false, false
		}
	}
}

// resumeHeld serves a connection on hold for its output (connState.hold),
// or the next turn of one whose batch ended its turn (connState.yield),
// once the writer has written its output, and reports whether that
// produced more output to flush. So a long pipeline's output is made as
// fast as the client reads it, a turn at a time, rather than all of it in
// memory first; the pacer (armPacer) serves a client that reads nothing.
func (n *netConn) resumeHeld() bool {
	n.procMu.Lock()
	defer n.procMu.Unlock()
	if !n.held && !n.yielded || n.quit || n.stopped.Load() {
		return false
	}
	out := n.process(n.batch[:0], nil)
	more := len(out) > 0
	n.enqueue(out)
	n.armPacer()
	return more
}

// armPacer has the pacer look at a connection whose batch ended its turn
// in paceWait, unless it will already. The writer serves the next turn
// once it has written the output (resumeHeld); a client that reads
// nothing would then never be served again, where Redis makes all its
// replies and its output limits disconnect it: when the writer has
// written nothing for paceWait, the pacer serves the turn. REQUIRES:
// procMu.
func (n *netConn) armPacer() {
	if !n.yielded || n.quit || n.paced || n.ended {
		return
	}
	n.paced, n.paceMark = true, n.bytesOut.Load()
	if n.pacer == nil {
		n.pacer = time.AfterFunc(paceWait, n.pace)
	} else {
		n.pacer.Reset(paceWait)
	}
}

// pace is the pacer's timer function.
func (n *netConn) pace() {
	n.procMu.Lock()
	defer n.procMu.Unlock()
	n.paced = false
	if n.ended || !n.yielded || n.quit || n.stopped.Load() {
		// Aborted: nothing more is served. (Over TLS the writer may
		// wait notifyWait on the client before the connection ends.)
		return
	}
	if n.bytesOut.Load() == n.paceMark && n.enqueue(n.process(n.batch[:0], nil)) {
		return
	}
	n.armPacer()
}

// flush writes the queued output. It returns false once the connection is
// closed: aborted, failed, or flushed after quitting.
func (n *netConn) flush() bool {
	for {
		n.mu.Lock()
		if n.stopped.Load() {
			n.mu.Unlock()
			return false
		}
		buf := n.outq
		if len(buf) == 0 {
			// A value written by reference is written after the flush,
			// and its end queued after it: the close waits for both.
			closeNow := n.flushClose && n.streamLeft.Load() == 0
			n.mu.Unlock()
			if closeNow {
				n.lingerClose()
				return false
			}
			return true
		}
		n.outq, n.spare = n.spare[:0], nil
		n.mu.Unlock()

		// In pieces, so that pendOut follows a slow reader's progress
		// (connState.holdStalled).
		var err error
		for rest := buf; len(rest) > 0 && err == nil; {
			if n.stopped.Load() {
				// Aborted: the rest is dropped (a TLS socket is
				// still open, for close_notify).
				n.pendOut.Add(-int64(len(rest)))
				break
			}
			piece := rest[:min(len(rest), flushPiece)]
			var k int
			k, err = n.nc.Write(piece)
			if !n.reject {
				n.bytesOut.Add(uint64(k))
			}
			n.pendOut.Add(-int64(len(piece)))
			rest = rest[len(piece):]
			if err != nil {
				n.wfail = true
				n.pendOut.Add(-int64(len(rest)))
			} else {
				n.moved()
			}
		}

		n.mu.Lock()
		if cap(buf) <= retainOut {
			n.spare = buf[:0]
		} else {
			// Only this goroutine holds buf (outq was swapped above): a
			// large one goes back to the pool Writer.room took it from.
			bufpool.Put(buf)
		}
		if err != nil {
			n.abort()
		}
		n.mu.Unlock()
	}
}

// flushPiece is the most the writer hands the network in one write: small
// enough that pendOut shows a slow reader's progress (on net.Pipe, where a
// write returns only once read, within holdWait at a few dozen KB/s).
const flushPiece = 64 << 10

// lingerClose closes the connection once its output has been written,
// without losing that output: it half-closes, then reads and drops input
// until the peer closes or the linger is over (lingerDone), or the send
// queue has not moved for closeWait (drainStalled, which std uses only
// here, on the writer goroutine, the reader having ended).
func (n *netConn) lingerClose() {
	c := n.nc
	if cw, ok := c.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		at := n.hub.now()
		var b [4096]byte
		for !n.stopped.Load() {
			_ = c.SetReadDeadline(time.Now().Add(lingerLook))
			if _, err := c.Read(b[:]); err != nil {
				if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
					break
				}
			}
			q, now := n.sendQueued(), n.hub.now()
			if lingerDone(q, at, now) || n.drainStalled(q, now) {
				break
			}
		}
	}
	_ = c.Close()
}

// lingerLook is how often lingerClose looks at the send queue when the
// peer sends nothing.
const lingerLook = 100 * time.Millisecond

// connFD returns c's socket descriptor, or -1 when it has none.
func connFD(c net.Conn) int {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if rc.Control(func(d uintptr) { fd = int(d) }) != nil {
		return -1
	}
	return fd
}
