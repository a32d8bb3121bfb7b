package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/ringdb/ringdb/internal/bufpool"
	"github.com/ringdb/ringdb/internal/slotlist"
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
		stop:  make(chan struct{}),
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
	stopped bool // REQUIRES: engMu
	// ln is the listener the accept loop takes connections from; Shutdown
	// closes it first, as the std transport does. REQUIRES: engMu
	ln net.Listener
	// stop is closed by Shutdown once the connections have drained: Serve
	// then stops the engine.
	stop     chan struct{}
	stopOnce sync.Once
	loops    map[gnet.EventLoop]*gnetLoop // REQUIRES: engMu
}

// gnetLoop is the transport's state for one event loop. Everything but the
// counters belongs to the loop's goroutine.
type gnetLoop struct {
	counters
	el gnet.EventLoop
	// conns are the loop's open connections, each knowing its index
	// (gnetConn.slot): a map took some 30 bytes per connection, and as
	// much again in the tables it outgrew. A walk that may close the
	// connection it visits goes from the end (slotlist.List.Remove).
	conns slotlist.List[*gnetConn]
	decs  decPool // the decoders of connections with no input
	// scratch is the Writer and Request of the request being served, by
	// whichever of the loop's connections.
	scratch replyScratch
	out     []byte // output scratch, reused by every connection of the loop
	sweep   gnet.RunnableFunc

	resume      gnet.RunnableFunc // serves held connections that have drained
	resumeArmed bool              // a resume is scheduled

	// quitSweep sweeps the loop every minTick while connections of it
	// quit with output still to write, or linger half-closed (armQuit):
	// the housekeeping sweep that closes them runs only every second.
	quitSweep gnet.RunnableFunc
	quitArmed bool // a quit sweep is scheduled

	nextTurn  gnet.RunnableFunc // serves the next turn of turns
	turns     []*gnetConn       // connections that ended their turn (queueTurn)
	turnSpare []*gnetConn       // turns' previous storage, for reuse
	turnArmed bool              // nextTurn is queued or its timer set
	inTurn    bool              // nextTurn is running

	pollStream  gnet.RunnableFunc // goes on with streams whose socket was full
	streams     []*gnetConn       // those connections (waitStream)
	streamSpare []*gnetConn       // streams' previous storage, for reuse
	streamArmed bool              // pollStream's timer is set
	// streamDelay is how long the streams wait for the next look:
	// streamWait, doubled at each look at which none of them moved, up
	// to streamWaitMax (a client that stops reading is not looked at a
	// thousand times a second for as long as it does not read).
	streamDelay time.Duration
	inPoll      bool // pollStreams is running
	// streamPolls counts pollStreams' runs (tests see a stalled stream
	// back off).
	streamPolls atomic.Int64
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
	// was half-closed; 0 before. Until the peer closes, or the linger is
	// over (lingerDone), its input is read and dropped (std's lingerClose
	// does the same).
	lingerAt int64
	// turnQueued: the connection is in its loop's turns (queueTurn).
	turnQueued bool
	// streamQueued: the connection is in its loop's streams (waitStream),
	// with streamPend of gnet's output buffered for it then.
	streamQueued bool
	// slot is the connection's index in its loop's conns; -1 once closed.
	slot       int32
	streamPend int
}

// buffered sets pendOut to how much of g's output gnet holds, not yet
// written to the socket, and returns it; it counts in the loop's bytesOut
// what has been written since it last looked: what pendOut held, with
// what was handed to gnet since (every Write adds it to pendOut), less
// what gnet holds now. Output is counted once written, as std's writer
// and Redis count it, not when handed to gnet: replies a client never
// reads (it resets the connection, is killed, or passes an output limit)
// are not network traffic. Every look at gnet's buffer goes through here,
// after each write, on every sweep and when the connection closes, so the
// count lags the socket by a sweep at most; what gnet still writes after
// OnClose goes uncounted. REQUIRES: g's loop's goroutine.
func (g *gnetConn) buffered() int64 {
	pend := int64(g.c.OutboundBuffered())
	if w := g.pendOut.Swap(pend) - pend; w > 0 && !g.reject { // Redis does not count a refused client's traffic
		g.loop.bytesOut.Add(uint64(w))
	}
	return pend
}

// open reports whether g is still one of its loop's connections.
// REQUIRES: the loop's goroutine.
func (g *gnetConn) open() bool { return g.slot >= 0 }

// SlotIndex implements slotlist.Item: g's index in its loop's conns.
func (g *gnetConn) SlotIndex() *int32 { return &g.slot }

// closeWritten decides what a quitting connection whose pending output is
// pend does at time now: close at once (aborted, or its output stalled:
// drainStalled, which counts the socket's send queue too), linger
// half-closed once its output is written (lingerDone), or wait.
func (g *gnetConn) closeWritten(pend, now int64) gnet.Action {
	pend += g.streamLeft.Load() // a value written by reference is output too
	queued := g.sendQueued()
	switch {
	case g.abortive || g.drainStalled(pend+queued, now):
		return gnet.Close
	case g.lingerAt != 0:
		if lingerDone(queued, g.lingerAt, now) {
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

// inputWaiting implements connTransport.
func (g *gnetConn) inputWaiting() bool { return socketRecvQueued(uintptr(g.c.Fd())) > 0 }

// abort implements connTransport.
func (g *gnetConn) abort() { _ = g.c.Close() }

// closeRequested implements connTransport: the wake runs on the loop
// whatever the socket's state, and closeWritten bounds the close.
func (g *gnetConn) closeRequested() {}

// idleChanged implements connTransport: the loop's sweep reads the timeout
// each time.
func (g *gnetConn) idleChanged() {}

// decoders implements connTransport: the connection's loop's pool.
func (g *gnetConn) decoders() *decPool { return &g.loop.decs }

// Serve implements Server. The event loops are a gnet client engine: the
// transport accepts connections itself and enrolls each in a loop. gnet's
// own acceptor (gnet.Run) stops the whole engine on any accept error but
// a few, EMFILE included, so a burst of connections past the open-file
// limit stopped the server; here the accept loop backs off and retries,
// as net/http and the std transport do, and the connections wait in the
// listen backlog.
func (s *gnetServer) Serve(h Handler) error {
	if !s.state.CompareAndSwap(stateNew, stateServing) {
		return ErrServerClosed
	}
	defer close(s.done)
	if s.cfg.TLS != nil {
		return ErrTLSUnsupported
	}
	s.h = h
	ln, err := listenTCP(s.cfg.Addr)
	if err != nil {
		return err
	}
	cli, err := gnet.NewClient(s,
		gnet.WithMulticore(true),
		gnet.WithNumEventLoop(s.cfg.Loops),
		gnet.WithTicker(true),
		// Not "leave Nagle on": only "do not set TCP_NODELAY again" in
		// Enroll. Go sets it on every connection it accepts (the
		// default of net.TCPConn), and the loop's descriptor is a dup of
		// that socket: a second setsockopt per connection would be one
		// more system call under connection churn.
		gnet.WithTCPNoDelay(gnet.TCPDelay),
		gnet.WithLogger(gnetLogger{closing: &s.closing}),
	)
	if err != nil {
		_ = ln.Close()
		return err
	}
	s.addr = ln.Addr()
	s.engMu.Lock()
	s.ln = ln
	s.engMu.Unlock()
	if s.closing.Load() { // Shutdown came first
		_ = ln.Close()
		return nil
	}
	if err := cli.Start(); err != nil { // OnBoot closes ready
		_ = ln.Close()
		return err
	}
	accepted := make(chan error, 1)
	go func() { accepted <- s.acceptLoop(ln, cli) }()
	var acceptErr error
	select {
	case <-s.stop:
		_ = ln.Close()
		acceptErr = <-accepted
	case acceptErr = <-accepted:
		if acceptErr == nil && s.closing.Load() {
			// Shutdown closed the listener: the connections drain
			// before it stops the engine.
			<-s.stop
		}
	}
	_ = cli.Stop() // OnShutdown: no task is queued on a loop from now on
	switch {
	case acceptErr != nil:
		return acceptErr
	case !s.closing.Load():
		return errEngineStopped
	}
	return nil
}

// acceptLoop accepts connections and enrolls each in an event loop (where
// OnOpen decides whether it is served) until the listener is closed. An
// error that may go away by itself (out of file descriptors) is waited
// out; it returns any other.
//
// One connection at a time: gnet's Enroll waits for the loop to register
// it, so connections are opened (OnOpen, where the server creates their
// sessions) in the order they were accepted, as Redis creates its
// clients. Enrolling them concurrently cut connection churn's CPU by a
// tenth, but a connection accepted first could then be opened after a
// later one's commands had run: a client connected while a password was
// required came up authenticated when another client removed it first
// (fuzz TestRequirepassBySelfRestricts, 1 run in 15; BENCHMARKS.md,
// "Session 27").
func (s *gnetServer) acceptLoop(ln net.Listener, cli *gnet.Client) error {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if isTemporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		if _, err := cli.Enroll(c); err != nil {
			// gnet closes c on Unix, not on every failure on Windows; a
			// second Close is harmless.
			_ = c.Close()
			if isTemporary(err) || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// No descriptor to duplicate c's into: wait as for accept.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
			}
		}
	}
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
	s.stopAccepting()
	// Ready first: a select would pick at random between ready and an
	// ended ctx, and return leaving the connections open and the engine
	// running.
	select {
	case <-s.ready:
	default:
		select {
		case <-s.ready:
		case <-s.done:
			return nil
		case <-ctx.Done():
			// Serve has not started the engine yet, or is starting it
			// with the listener closed: no connection can have been
			// enrolled, so it may stop the engine as soon as it has one
			// (gnet.Run's OnBoot used to). Otherwise nobody would close
			// stop, and Serve would wait for it for ever.
			s.stopEngine()
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

// stopEngine makes Serve stop the engine (the listener is closed by then).
func (s *gnetServer) stopEngine() { s.stopOnce.Do(func() { close(s.stop) }) }

// stopAccepting closes the listener: new connections are refused from now
// on, as in Redis and the std transport, while those open drain.
func (s *gnetServer) stopAccepting() {
	s.engMu.Lock()
	ln := s.ln
	s.engMu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
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
		l = &gnetLoop{el: el}
		l.sweep = func(context.Context) error {
			if s.sweep(l) > 0 {
				s.armQuit(l)
			}
			return nil
		}
		l.quitSweep = func(context.Context) error {
			l.quitArmed = false
			if s.sweep(l) > 0 {
				s.armQuit(l)
			}
			return nil
		}
		l.resume = func(context.Context) error {
			s.resumeHeld(l)
			return nil
		}
		l.nextTurn = func(context.Context) error {
			s.nextTurns(l)
			return nil
		}
		l.pollStream = func(context.Context) error {
			s.pollStreams(l)
			return nil
		}
		s.loops[el] = l
	}
	return l
}

// OnBoot implements gnet.EventHandler: it reports readiness (Serve has
// learnt the bound address from its listener).
func (s *gnetServer) OnBoot(gnet.Engine) gnet.Action {
	close(s.ready)
	return gnet.None
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
		// Shutting down: accepted just before the listener closed, this
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
	g.init(s.hub, g, &l.counters, &l.scratch, c.RemoteAddr(), gnetLocalAddr(c), c.Fd(), reject)
	g.turnOut = turnOut
	c.SetContext(g)
	l.conns.Add(g)
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
	g.buffered()
	return s.write(g, g.process(g.loop.out[:0], in))
}

// write writes out, and goes on serving a connection on hold for its
// output (connState.hold) for as long as gnet takes the replies without
// buffering much; a connection still on hold then is served again by
// resumeHeld. One that ended its turn (connState.yield) goes on after the
// loop's other ready connections (queueTurn). It decides whether the
// connection closes now.
func (s *gnetServer) write(g *gnetConn, out []byte) gnet.Action {
	// What pump handed of values written by reference in this call, all
	// of them counted against one turn: a reply with many (MGET naming a
	// large value thousands of times) otherwise held the loop, and every
	// other client of it, for as long as its client read it.
	sent := 0
	for {
		act := s.writeOnce(g, out)
		if act == gnet.None && g.streaming && !g.abortive {
			if act = s.pump(g, &sent); act != gnet.None || g.chunkLeft() {
				return act // waits for the socket, or for its next turn
			}
			// All handed over: what follows the value, and the requests
			// after it.
			out = g.process(g.loop.out[:0], nil)
			continue
		}
		if act == gnet.None && g.yielded && !g.quit {
			s.queueTurn(g)
			return act
		}
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

// streamPiece is the most of a value written by reference handed to gnet
// in one write. streamLow is the most gnet may hold for the connection
// (its own copy of what the socket did not take) for another piece to be
// handed to it: waiting for gnet to have written everything cost a GET of
// a 300 KB value a streamWait whenever the socket took less than the
// value, and 10% of the rate of 50 clients GETting them. streamWait is
// how long a stream waits before it looks again (gnet tells nothing when
// its buffer has drained), and streamWaitMax how long once its client has
// read nothing for a while (pollStreams).
//
// streamTurn is what a connection's values written by reference may hand
// to the network in one turn, all values of the turn counted. A turn ends
// with a wait of about a millisecond (the next is served by a timer, and
// the Go runtime sleeps in whole milliseconds): 1 MiB a turn took
// fairness-vs-redis.sh's pipeline of 2 MiB GETs from 1.7-1.9 GB/s to
// 1.2-1.3 (the turn had restarted at each value, about 2 MiB a turn),
// with the PINGs of the other clients no faster (p99.9 3.9-4.5 ms).
const (
	streamTurn    = 2 << 20
	streamPiece   = 256 << 10
	streamLow     = 512 << 10
	streamWait    = time.Millisecond
	streamWaitMax = 16 * time.Millisecond
)

// pump writes g's value written by reference straight from the memory
// lent, a piece at a time while gnet holds at most streamLow for g (the
// socket takes the piece at once when gnet holds nothing; gnet copies
// what it does not take), until *sent, what write has handed of values
// written by reference so far, reaches streamTurn: then g's turn ends
// (queueTurn) and the loop serves its other connections first. A stream
// whose socket is full waits (waitStream). REQUIRES: g's loop's
// goroutine.
func (s *gnetServer) pump(g *gnetConn, sent *int) gnet.Action {
	for g.chunkLeft() {
		if pend := g.buffered(); pend > streamLow {
			s.waitStream(g, int(pend))
			return gnet.None
		}
		if *sent >= streamTurn {
			g.yielded = true
			s.queueTurn(g)
			return gnet.None
		}
		piece := g.streamChunk(streamPiece)
		if _, err := g.c.Write(piece); err != nil {
			return gnet.Close
		}
		g.streamSent(len(piece))
		g.pendOut.Add(int64(len(piece)))
		*sent += len(piece)
	}
	g.buffered()
	return gnet.None
}

// waitStream has g's stream, with pend bytes buffered by gnet, go on at
// the loop's next look at its streams (pollStreams): after streamWait, or
// up to streamWaitMax while the streams waiting already do not move. A
// stream that starts waiting makes the look after the one armed come
// after streamWait again. REQUIRES: g's loop's goroutine.
func (s *gnetServer) waitStream(g *gnetConn, pend int) {
	l := g.loop
	g.streamPend = pend
	if !g.streamQueued {
		g.streamQueued = true
		l.streams = append(l.streams, g)
		if !l.inPoll {
			l.streamDelay = streamWait
		}
	}
	if !l.streamArmed {
		l.streamArmed = true
		s.executeAfter(l, max(l.streamDelay, streamWait), l.pollStream)
	}
}

// pollStreams goes on with the streams of l that waited for their socket,
// and sets how long those still waiting then wait: streamWait if any of
// them has moved (gnet wrote some of its buffer) since it began to wait,
// else twice as long as they did, up to streamWaitMax. It runs on l's
// goroutine.
func (s *gnetServer) pollStreams(l *gnetLoop) {
	l.streamPolls.Add(1)
	l.streamArmed = false
	streams := l.streams
	l.streams = l.streamSpare[:0]
	moved := false
	for _, g := range streams {
		if g.open() && g.buffered() < int64(g.streamPend) {
			moved = true
			break
		}
	}
	if moved {
		l.streamDelay = streamWait
	} else {
		l.streamDelay = min(2*max(l.streamDelay, streamWait), streamWaitMax)
	}
	l.inPoll = true
	for i, g := range streams {
		streams[i] = nil
		g.streamQueued = false
		if !g.open() || !g.streaming {
			continue
		}
		if s.write(g, nil) == gnet.Close {
			_ = l.el.Close(g.c)
		}
	}
	l.inPoll = false
	l.streamSpare = streams[:0]
}

// queueTurn has g, which ended its turn (connState.yield), served again
// after the loop's other ready connections: by a task, which the loop runs
// once it has handled the events it polled; but from within that task
// (nextTurn), where a task queued would run at once (gnet runs every
// urgent task queued while it runs them), only after turnDelay, so that
// the loop polls in between. REQUIRES: g's loop's goroutine.
func (s *gnetServer) queueTurn(g *gnetConn) {
	l := g.loop
	if !g.turnQueued {
		g.turnQueued = true
		l.turns = append(l.turns, g)
	}
	if l.turnArmed {
		return
	}
	l.turnArmed = true
	if !l.inTurn {
		_ = l.el.Execute(context.Background(), l.nextTurn)
		return
	}
	s.executeAfter(l, turnDelay, l.nextTurn)
}

// nextTurns serves the next turn of l's connections that ended one. It
// runs on l's goroutine.
func (s *gnetServer) nextTurns(l *gnetLoop) {
	l.turnArmed, l.inTurn = false, true
	defer func() { l.inTurn = false }()
	turns := l.turns
	l.turns = l.turnSpare[:0]
	for i, g := range turns {
		turns[i] = nil
		g.turnQueued = false
		// A connection quitting goes on only to finish a value it is
		// writing by reference.
		if !g.open() || !g.yielded || g.quit && !g.streaming {
			continue
		}
		g.buffered()
		if s.write(g, g.process(l.out[:0], nil)) == gnet.Close {
			_ = l.el.Close(g.c)
		}
	}
	l.turnSpare = turns[:0]
}

// armQuit schedules a sweep of l's loop, soon, unless one is already: a
// connection of it quits, and the sweep closes it once its output is
// written (closeWritten). REQUIRES: l's goroutine.
func (s *gnetServer) armQuit(l *gnetLoop) {
	if l.quitArmed {
		return
	}
	l.quitArmed = true
	s.executeAfter(l, minTick, l.quitSweep)
}

// armResume schedules resumeHeld on l's loop, soon, unless it is already.
// REQUIRES: l's goroutine.
func (s *gnetServer) armResume(l *gnetLoop) {
	if l.resumeArmed {
		return
	}
	l.resumeArmed = true
	s.executeAfter(l, minTick, l.resume)
}

// executeAfter runs fn on l's loop after d, unless the engine has stopped
// by then (no task may be queued on a loop after OnShutdown).
func (s *gnetServer) executeAfter(l *gnetLoop, d time.Duration, fn gnet.RunnableFunc) {
	time.AfterFunc(d, func() {
		s.engMu.Lock()
		defer s.engMu.Unlock()
		if !s.stopped {
			_ = l.el.Execute(context.Background(), fn)
		}
	})
}

// resumeHeld serves again the connections of l on hold whose output has
// drained enough, and reschedules itself while any stays on hold. It runs
// on l's goroutine.
func (s *gnetServer) resumeHeld(l *gnetLoop) {
	l.resumeArmed = false
	for i := l.conns.Len() - 1; i >= 0; i-- { // closing g removes it: from the end
		g := l.conns.At(i)
		if g == nil || !g.held || g.quit {
			continue
		}
		pend := g.buffered()
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
		g.handed += int64(len(out))
		g.pendOut.Add(int64(len(out)))
	}
	l.keep(out)
	pend := g.buffered()
	switch {
	case g.quit:
		// Close once gnet has written the rest; the sweep checks.
		act := g.closeWritten(pend, s.now())
		if act == gnet.None {
			s.armQuit(l)
		}
		return act
	case g.overOutput(pend):
		if b := g.overflowed(l.out[:0], 0); len(b) > 0 {
			if _, err := g.c.Write(b); err == nil {
				g.handed += int64(len(b))
				g.pendOut.Add(int64(len(b))) // counted as OnClose finds it written
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
	g.buffered() // count what has been written
	g.loop.conns.Remove(g)
	s.unregister(&g.connState)
	g.finish()
	return gnet.None
}

// OnTick implements gnet.EventHandler: it queues a housekeeping sweep on
// every loop (idle timeout, soft output limit, refused connections,
// connections draining before close), as often as sweepInterval says;
// a loop whose connections drain before close sweeps itself every
// minTick meanwhile (armQuit). Sweeping every 10 ms whatever the
// configuration (as it did while no idle timeout was set) cost a server
// holding 10,000 idle connections 60% of a core.
func (s *gnetServer) OnTick() (time.Duration, gnet.Action) {
	s.sweepAll()
	if s.closing.Load() {
		return minTick, gnet.None
	}
	return s.sweepInterval(), gnet.None
}

// sweep checks every connection of loop l and returns how many of those
// it leaves open are quitting. It runs on l's goroutine.
func (s *gnetServer) sweep(l *gnetLoop) (quitting int) {
	now := s.now()
	for i := l.conns.Len() - 1; i >= 0; i-- { // closing g removes it: from the end
		g := l.conns.At(i)
		if g == nil {
			continue
		}
		pend := g.buffered()
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
		} else if g.quit {
			quitting++
		}
	}
	return quitting
}

// gnetLogger sends gnet's log lines to slog: its routine messages at debug
// level, its warnings and errors as such, except once the server is
// shutting down, when they are logged at debug level.
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
