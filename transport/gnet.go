package transport

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	gerrors "github.com/panjf2000/gnet/v2/pkg/errors"

	"github.com/ringdb/ringdb/internal/bufpool"
	"github.com/ringdb/ringdb/transport/binproto"
)

// NewGnet returns the default Server: gnet event loops, Config.Loops of
// them (default GOMAXPROCS). A loop reads a connection, decodes its
// requests, executes them inline in OnTraffic and writes all the replies of
// one read with one write. Nothing blocks a loop: pushes and completions of
// parked requests from other goroutines are queued on the connection and
// written by its loop after a gnet Wake. Config.TLS is not supported: Serve
// returns ErrTLSUnsupported.
//
// gnet's outbound buffer has no limit of its own; the transport reads it
// (OutboundBuffered) after every write and on every housekeeping tick and
// enforces the output limits itself.
func NewGnet(cfg Config) Server {
	return &gnetServer{
		hub:   newHub(cfg),
		ready: make(chan struct{}),
		done:  make(chan struct{}),
		loops: make(map[gnet.EventLoop]*gnetLoop),
		lnDup: -1,
	}
}

// gnetServer is the gnet transport. It is the gnet.EventHandler.
type gnetServer struct {
	gnet.BuiltinEventEngine
	*hub

	ready chan struct{} // closed by OnBoot
	done  chan struct{} // closed when Serve returns
	addr  net.Addr      // set before ready is closed
	state atomic.Int32

	// engMu orders every call into gnet from outside its loops against the
	// engine's shutdown: once OnShutdown has run, the pollers are about to
	// close and no task may be queued on them.
	engMu   sync.Mutex
	eng     gnet.Engine // REQUIRES: engMu
	stopped bool        // REQUIRES: engMu
	// lnDup is a duplicate of the engine's listening descriptor, taken at
	// boot for stopAccepting (-1: none), closed once the engine has
	// stopped. REQUIRES: engMu
	lnDup int
	loops map[gnet.EventLoop]*gnetLoop // REQUIRES: engMu
}

// gnetLoop is the transport's state for one event loop. Everything but the
// counters belongs to the loop's goroutine.
type gnetLoop struct {
	counters
	el    gnet.EventLoop
	conns map[*gnetConn]struct{}
	out   []byte // output scratch, reused by every connection of the loop
	sweep gnet.RunnableFunc

	resume      gnet.RunnableFunc // serves held connections that have drained
	resumeArmed bool              // a resume is scheduled
}

// keep retains out's storage for the next batch unless it grew large; a
// large one goes back to the pool shared with the decoders (gnet has
// copied whatever it did not write).
func (l *gnetLoop) keep(out []byte) {
	if cap(out) > retainOut {
		bufpool.Put(out)
		l.out = nil
		return
	}
	l.out = out[:0]
}

// gnetConn is one gnet connection.
type gnetConn struct {
	connState
	c    gnet.Conn
	loop *gnetLoop

	// lingerAt is when the connection, quitting with its output written,
	// was half-closed; 0 before. Until the peer closes, or lingerWait has
	// passed, its input is read and dropped: closing a socket with unread
	// input makes the kernel reset it, and the peer loses the replies it
	// has not read yet (std's lingerClose does the same).
	lingerAt int64
}

// closeWritten decides what a quitting connection whose pending output is
// pend does at time now: close at once (aborted, or closeWait has passed),
// linger half-closed once its output is written, or wait.
func (g *gnetConn) closeWritten(pend, now int64) gnet.Action {
	switch {
	case g.abortive || time.Duration(now-g.quitAt) > closeWait:
		return gnet.Close
	case g.lingerAt != 0:
		if time.Duration(now-g.lingerAt) > lingerWait {
			return gnet.Close
		}
	case pend == 0:
		if shutdownWrite(g.c) != nil {
			return gnet.Close
		}
		g.lingerAt = max(now, 1)
	}
	return gnet.None
}

// wake implements connTransport: a gnet Wake runs OnTraffic on the loop.
func (g *gnetConn) wake() { _ = g.c.Wake(nil) }

// sendQueued implements connTransport.
func (g *gnetConn) sendQueued() int64 { return socketSendQueued(uintptr(g.c.Fd())) }

// abort implements connTransport.
func (g *gnetConn) abort() { _ = g.c.Close() }

// closeRequested implements connTransport: the wake runs on the loop
// whatever the socket's state, and closeWritten bounds the close.
func (g *gnetConn) closeRequested() {}

// idleChanged implements connTransport: the loop's sweep reads the timeout
// each time.
func (g *gnetConn) idleChanged() {}

// Serve implements Server.
func (s *gnetServer) Serve(h Handler) error {
	if !s.state.CompareAndSwap(stateNew, stateServing) {
		return ErrServerClosed
	}
	defer close(s.done)
	if s.cfg.TLS != nil {
		return ErrTLSUnsupported
	}
	s.h = h
	addr, err := numericPort(s.cfg.Addr)
	if err != nil {
		return err
	}
	err = gnet.Run(s, "tcp://"+addr,
		gnet.WithMulticore(true),
		gnet.WithNumEventLoop(s.cfg.Loops),
		gnet.WithTicker(true),
		gnet.WithReuseAddr(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(gnetLogger{closing: &s.closing}),
	)
	s.engMu.Lock()
	closeListenerDup(s.lnDup)
	s.lnDup = -1
	s.engMu.Unlock()
	switch {
	case err != nil:
		return err
	case !s.closing.Load():
		return errEngineStopped
	}
	return nil
}

// numericPort returns addr with a port given as a service name ("x11")
// replaced by its number: net.Listen takes either, gnet's address URL only
// a number.
func numericPort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if _, err := strconv.ParseUint(port, 10, 16); err == nil || port == "" {
		return addr, nil
	}
	n, err := net.LookupPort("tcp", port)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// Ready implements Server.
func (s *gnetServer) Ready() <-chan struct{} { return s.ready }

// Addr implements Server.
func (s *gnetServer) Addr() net.Addr { return s.addr }

// Stats implements StatsProvider.
func (s *gnetServer) Stats() Stats {
	var st Stats
	s.engMu.Lock()
	for _, l := range s.loops {
		l.addTo(&st)
	}
	s.engMu.Unlock()
	return st
}

// Shutdown implements Server: it asks every connection to close after its
// in-flight replies, waits for them (sweeping often, so that drained
// connections close at once), then stops the engine.
func (s *gnetServer) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	if s.state.Swap(stateClosed) == stateNew {
		return nil
	}
	// Ready first: a select would pick at random between ready and an
	// ended ctx, and return leaving the connections open and the engine
	// running. An engine not booted yet is stopped by OnBoot instead.
	select {
	case <-s.ready:
	default:
		select {
		case <-s.ready:
		case <-s.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.closeAll()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	var err error
	for err == nil && s.count() > 0 {
		select {
		case <-ctx.Done():
			err = ctx.Err()
			s.abortAll()
		case <-t.C:
			s.sweepAll()
		}
	}
	s.stopEngine()
	select {
	case <-s.done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	return err
}

// stopEngine makes the engine shut down. Where it can (Linux), it shuts
// the listening socket first: gnet's acceptor then fails its next accept,
// exits and stops the engine, and only then the event loops, which run
// the registrations of the connections it accepted before (OnOpen closes
// them). Stopping the loops first, as a task returning ErrEngineShutdown
// on any loop does, left the acceptor running for a while: it kept
// accepting, and queued each connection to a loop that never ran again,
// so the socket stayed open, unanswered, until the process exited. The
// task remains the way elsewhere, and the fallback should the acceptor
// not stop.
func (s *gnetServer) stopEngine() {
	s.engMu.Lock()
	if s.stopped {
		s.engMu.Unlock()
		return
	}
	shut := stopAccepting(s.lnDup) // under engMu: Serve closes lnDup
	s.engMu.Unlock()
	if shut {
		time.AfterFunc(time.Second, s.stopLoops)
		return
	}
	s.stopLoops()
}

// stopLoops queues a task returning ErrEngineShutdown on a loop, which
// stops them all at once (Engine.Stop polls every 500 ms).
func (s *gnetServer) stopLoops() {
	s.engMu.Lock()
	defer s.engMu.Unlock()
	if s.stopped {
		return
	}
	for _, l := range s.loops {
		err := l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			return gerrors.ErrEngineShutdown
		}))
		if err == nil {
			return
		}
	}
	eng := s.eng
	go func() { _ = eng.Stop(context.Background()) }()
}

// sweepAll queues a housekeeping sweep on every loop.
func (s *gnetServer) sweepAll() {
	s.engMu.Lock()
	defer s.engMu.Unlock()
	if s.stopped {
		return
	}
	for _, l := range s.loops {
		_ = l.el.Execute(context.Background(), l.sweep)
	}
}

// loopOf returns the state of event loop el, made on first use.
func (s *gnetServer) loopOf(el gnet.EventLoop) *gnetLoop {
	s.engMu.Lock()
	defer s.engMu.Unlock()
	l := s.loops[el]
	if l == nil {
		l = &gnetLoop{el: el, conns: make(map[*gnetConn]struct{})}
		l.sweep = func(context.Context) error {
			s.sweep(l)
			return nil
		}
		l.resume = func(context.Context) error {
			s.resumeHeld(l)
			return nil
		}
		s.loops[el] = l
	}
	return l
}

// OnBoot implements gnet.EventHandler: it learns the bound address (the
// port may have been 0) and reports readiness. If Shutdown has begun, it
// stops the engine before it starts: a Shutdown that saw ready still open
// may have returned already (its ctx had ended).
func (s *gnetServer) OnBoot(eng gnet.Engine) gnet.Action {
	s.engMu.Lock()
	s.eng = eng
	s.lnDup = dupListener(eng)
	s.engMu.Unlock()
	s.addr = boundAddr(eng, s.cfg.Addr)
	close(s.ready)
	// After close(ready): Shutdown sets closing before it looks at ready,
	// so one of the two sees the other.
	if s.closing.Load() {
		s.engMu.Lock()
		s.stopped = true // the engine never runs: nothing to stop (stopEngine)
		s.engMu.Unlock()
		return gnet.Shutdown
	}
	return gnet.None
}

// boundAddr returns the address of the engine's listener, or addr resolved
// if it cannot be read.
func boundAddr(eng gnet.Engine, addr string) net.Addr {
	if fd, err := eng.Dup(); err == nil {
		f := os.NewFile(uintptr(fd), "gnet-listener")
		ln, err := net.FileListener(f)
		_ = f.Close()
		if err == nil {
			a := ln.Addr()
			_ = ln.Close()
			return a
		}
	}
	if a, err := net.ResolveTCPAddr("tcp", addr); err == nil {
		return a
	}
	return nil
}

// OnShutdown implements gnet.EventHandler: from here on no task may be
// queued on a loop.
func (s *gnetServer) OnShutdown(gnet.Engine) {
	s.engMu.Lock()
	s.stopped = true
	s.engMu.Unlock()
}

// OnOpen implements gnet.EventHandler.
func (s *gnetServer) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	l := s.loopOf(c.EventLoop())
	l.accepted.Add(1)
	if s.closing.Load() {
		// Shutting down: accepted before the listener was shut, this
		// connection is closed at once, as a refused one would be.
		return nil, gnet.Close
	}
	if s.overOpen() {
		l.rejected.Add(1)
		return nil, gnet.Close
	}
	reject := !s.admit()
	if reject {
		l.rejected.Add(1)
	}
	g := &gnetConn{c: c, loop: l}
	g.init(s.hub, g, &l.counters, c.RemoteAddr(), gnetLocalAddr(c), reject)
	c.SetContext(g)
	l.conns[g] = struct{}{}
	s.register(&g.connState)
	return nil, gnet.None
}

// OnTraffic implements gnet.EventHandler. It runs for every read and for
// every Wake.
func (s *gnetServer) OnTraffic(c gnet.Conn) gnet.Action {
	g, _ := c.Context().(*gnetConn)
	if g == nil {
		return gnet.Close
	}
	in, _ := c.Next(-1)
	g.pendOut.Store(int64(c.OutboundBuffered()))
	return s.write(g, g.process(g.loop.out[:0], in))
}

// write writes out, and goes on serving a connection on hold for its
// output (connState.hold) for as long as gnet takes the replies without
// buffering much; a connection still on hold then is served again by
// resumeHeld. It decides whether the connection closes now.
func (s *gnetServer) write(g *gnetConn, out []byte) gnet.Action {
	for {
		act := s.writeOnce(g, out)
		if act != gnet.None || !g.held || g.quit {
			return act
		}
		if g.pendOut.Load() > g.resumeAt() {
			s.armResume(g.loop)
			return act
		}
		out = g.process(g.loop.out[:0], nil)
	}
}

// armResume schedules resumeHeld on l's loop, soon, unless it is already.
// REQUIRES: l's goroutine.
func (s *gnetServer) armResume(l *gnetLoop) {
	if l.resumeArmed {
		return
	}
	l.resumeArmed = true
	time.AfterFunc(minTick, func() {
		s.engMu.Lock()
		defer s.engMu.Unlock()
		if !s.stopped {
			_ = l.el.Execute(context.Background(), l.resume)
		}
	})
}

// resumeHeld serves again the connections of l on hold whose output has
// drained enough, and reschedules itself while any stays on hold. It runs
// on l's goroutine.
func (s *gnetServer) resumeHeld(l *gnetLoop) {
	l.resumeArmed = false
	for g := range l.conns {
		if !g.held || g.quit {
			continue
		}
		pend := int64(g.c.OutboundBuffered())
		g.pendOut.Store(pend)
		var act gnet.Action
		switch {
		case g.outputOver(pend, s.now()):
			act = s.write(g, g.overflowed(l.out[:0], 0))
		case pend > g.resumeAt():
			s.armResume(l)
			continue
		default:
			act = s.write(g, g.process(l.out[:0], nil))
		}
		if act == gnet.Close {
			_ = l.el.Close(g.c)
		}
	}
}

// writeOnce writes out with one write, updates the pending-output figure
// and decides whether the connection closes now.
func (s *gnetServer) writeOnce(g *gnetConn, out []byte) gnet.Action {
	l := g.loop
	if len(out) > 0 {
		if _, err := g.c.Write(out); err != nil {
			l.keep(out)
			return gnet.Close
		}
		if !g.reject {
			l.bytesOut.Add(uint64(len(out))) // written or buffered by gnet
		}
	}
	l.keep(out)
	pend := int64(g.c.OutboundBuffered())
	g.pendOut.Store(pend)
	switch {
	case g.quit:
		// Close once gnet has written the rest; the sweep checks.
		return g.closeWritten(pend, s.now())
	case g.overOutput(pend):
		if b := g.overflowed(l.out[:0], 0); len(b) > 0 {
			if _, err := g.c.Write(b); err == nil {
				l.bytesOut.Add(uint64(len(b)))
			}
		}
		return gnet.Close
	}
	return gnet.None
}

// OnClose implements gnet.EventHandler.
func (s *gnetServer) OnClose(c gnet.Conn, _ error) gnet.Action {
	g, _ := c.Context().(*gnetConn)
	if g == nil {
		return gnet.None
	}
	c.SetContext(nil)
	delete(g.loop.conns, g)
	s.unregister(&g.connState)
	g.finish()
	return gnet.None
}

// OnTick implements gnet.EventHandler: it queues a housekeeping sweep on
// every loop (idle timeout, soft output limit, refused connections,
// connections draining before close).
func (s *gnetServer) OnTick() (time.Duration, gnet.Action) {
	s.sweepAll()
	if s.closing.Load() {
		return minTick, gnet.None
	}
	// A timeout set at run time (SetIdleTimeout) shorter than the one the
	// interval was chosen for is overshot by a quarter at most too.
	if d := max(s.idleTimeoutNow()/4, minTick); d < s.tick {
		return d, gnet.None
	}
	return s.tick, gnet.None
}

// sweep checks every connection of loop l. It runs on l's goroutine.
func (s *gnetServer) sweep(l *gnetLoop) {
	now := s.now()
	for g := range l.conns {
		pend := int64(g.c.OutboundBuffered())
		g.pendOut.Store(pend)
		act := gnet.None
		switch {
		case g.quit:
			act = g.closeWritten(pend, now)
		case g.refused():
			if time.Duration(now-g.born) > g.refuseWait() {
				act = gnet.Close
			}
		case g.outputOver(pend, now):
			act = s.write(g, g.overflowed(l.out[:0], 0))
		case g.idle(now):
			act = s.write(g, g.disconnect(l.out[:0], binproto.ClassErr, idleMsg, false))
		}
		if act == gnet.Close {
			_ = l.el.Close(g.c)
		}
	}
}

// gnetLogger sends gnet's log lines to slog: its routine messages at debug
// level, its warnings and errors as such, except once the server is
// shutting down: the acceptor's failure on the listener stopAccepting
// shut is how the engine stops then, and is logged at debug level.
type gnetLogger struct{ closing *atomic.Bool }

func (gnetLogger) Debugf(format string, args ...any) { slog.Debug(fmt.Sprintf(format, args...)) }
func (gnetLogger) Infof(format string, args ...any)  { slog.Debug(fmt.Sprintf(format, args...)) }
func (gnetLogger) Warnf(format string, args ...any)  { slog.Warn(fmt.Sprintf(format, args...)) }
func (l gnetLogger) Errorf(format string, args ...any) {
	if l.closing != nil && l.closing.Load() {
		slog.Debug(fmt.Sprintf(format, args...))
		return
	}
	slog.Error(fmt.Sprintf(format, args...))
}
func (l gnetLogger) Fatalf(format string, args ...any) { l.Errorf(format, args...) }
