package client

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// call is one request waiting for its reply. body and err are written once,
// by whoever removes the call from conn.pending, before done is closed.
type call struct {
	id   uint32
	op   binproto.Opcode // the request's, which its reply echoes (§9)
	done chan struct{}
	body []byte
	err  error
}

// conn is one multiplexed connection: callers queue frames and whoever
// holds the writer role (see flush) sends everything queued in one
// (vectored) write; a reader goroutine hands each reply to the call
// registered under its id.
type conn struct {
	nc           net.Conn
	lim          binproto.Limits
	writeTimeout time.Duration
	gather       bool     // copy frames into one buffer before writing (TLS)
	tail         *tlsTail // under the TLS connection; nil without TLS

	mu      sync.Mutex
	pending map[uint32]*call // REQUIRES: mu held
	out     net.Buffers      // frames not yet taken by the writer; REQUIRES: mu held
	nextID  uint32           // REQUIRES: mu held
	err     error            // non-nil once broken; REQUIRES: mu held

	spare net.Buffers // recycled out; REQUIRES: mu held

	writing  atomic.Bool   // some goroutine is writing (see flush)
	gathered []byte        // TLS write scratch; REQUIRES: writing held
	wake     chan struct{} // capacity 1: work for writeLoop
	dead     chan struct{} // closed once broken

	// A write cut short by its caller's context, for writeLoop to finish
	// by restBy (zero: no bound): rest over TCP, tail's held bytes under
	// TLS. Sending on resume hands it the writer role. REQUIRES: writing
	// held.
	rest   net.Buffers
	restBy time.Time
	resume chan struct{} // capacity 1

	// The write deadline, and a cutWrite that may be running, while a
	// caller whose context can be cancelled writes. REQUIRES: writing held.
	cutBy      time.Time
	cutting    sync.WaitGroup
	cutWriteFn func() // c.cutWrite, bound once: no allocation per write

	inflight atomic.Int64 // calls sent and not yet answered or forgotten
	writes   atomic.Int64 // write calls issued (tests)
}

// dial connects, runs the HELLO handshake synchronously and starts the
// connection's goroutines.
func dial(ctx context.Context, addr string, o *options) (*conn, error) {
	var dctx context.Context
	var cancel context.CancelFunc
	if o.dialTimeout > 0 { // 0: no timeout of its own, as for reads and writes
		dctx, cancel = context.WithTimeout(ctx, o.dialTimeout)
	} else {
		dctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, timedOut(dctx, &wrapped{ErrConnLost, err})
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	var tail *tlsTail
	if o.tls != nil {
		cfg := o.tls.Clone()
		if cfg.ServerName == "" {
			host, _, _ := net.SplitHostPort(addr)
			cfg.ServerName = host
		}
		tail = &tlsTail{Conn: nc}
		tc := tls.Client(tail, cfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			nc.Close()
			return nil, timedOut(dctx, &wrapped{ErrConnLost, err})
		}
		nc = tc
	}
	c := &conn{
		nc:           nc,
		writeTimeout: o.writeTimeout,
		gather:       o.tls != nil,
		tail:         tail,
		pending:      make(map[uint32]*call),
		wake:         make(chan struct{}, 1),
		resume:       make(chan struct{}, 1),
		dead:         make(chan struct{}),
	}
	c.cutWriteFn = c.cutWrite
	if err := c.hello(dctx, o); err != nil {
		nc.Close()
		return nil, timedOut(dctx, err)
	}
	go c.writeLoop()
	go c.readLoop()
	return c, nil
}

// timedOut makes err, a failure to connect, match ctx's error once ctx has
// ended and err is the socket's timeout: the deadline set from ctx (or
// moved to now when it is cancelled) often fires before ctx's own timer,
// and "i/o timeout" does not match context.DeadlineExceeded.
func timedOut(ctx context.Context, err error) error {
	cerr := ctxEnded(ctx)
	if cerr == nil || errors.Is(err, cerr) || !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	return &wrapped{ErrConnLost, fmt.Errorf("%w: %w", cerr, err)}
}

// hello sends HELLO and reads its reply before any other traffic.
func (c *conn) hello(ctx context.Context, o *options) (err error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.nc.SetDeadline(dl)
		defer c.nc.SetDeadline(time.Time{})
	}
	// A cancelled context ends the handshake at once, not at the deadline.
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Now()) })
	defer func() {
		// stop reports false once the callback has started: it may still
		// be moving the deadline to now after any reset above, leaving a
		// connection that fails its first read. The context has ended, so
		// the handshake fails with it, even if the reply came in.
		if !stop() {
			err = &wrapped{ErrConnLost, ctx.Err()}
		}
	}()
	e := newReq(binproto.OpHello, 4)
	e.int(binproto.Version).int(binproto.Version)
	if o.name != "" {
		e.str(o.name)
	} else {
		e.null()
	}
	if o.token != "" {
		e.str(o.token)
	} else {
		e.null()
	}
	b := e.finish()
	binary.BigEndian.PutUint32(b[4:], 1)
	if _, err := c.nc.Write(b); err != nil {
		return &wrapped{ErrConnLost, err}
	}
	var hdr [binproto.HeaderSize]byte
	var body []byte
	for {
		if _, err := io.ReadFull(c.nc, hdr[:]); err != nil {
			return &wrapped{ErrConnLost, err}
		}
		h, err := binproto.ParseHeader(hdr[:])
		if err != nil {
			return protoErr(err)
		}
		if h.Length > 1<<20 {
			return protoErr(binproto.ErrFrameTooLarge)
		}
		body = make([]byte, h.Length)
		if _, err := io.ReadFull(c.nc, body); err != nil {
			return &wrapped{ErrConnLost, err}
		}
		if h.Flags&binproto.FlagPush == 0 {
			if h.ID != 1 || h.Op != binproto.OpHello {
				// Not the answer to our HELLO (§9: a reply echoes its
				// request's id and opcode): not a ringdb server, or one
				// out of step; nothing after it can be trusted.
				return protoErr(fmt.Errorf("HELLO answered by a reply with id %d and opcode %#04x", h.ID, uint16(h.Op)))
			}
			break
		}
		if h.Op == binproto.OpDisconnect { // the server refuses us before the reply
			// A failure to connect (max clients, shutdown): ErrConnLost,
			// as any other, and the push's class too.
			r := binproto.NewReader(body, binproto.Limits{})
			if v, err := r.Next(); err == nil && v.Kind == binproto.KindError {
				return &wrapped{ErrConnLost, serverError(v)}
			}
			return protoErr(fmt.Errorf("malformed DISCONNECT push during HELLO"))
		}
		// Any other push kind is ignored (§8).
	}
	r := binproto.NewReader(body, binproto.Limits{})
	v, err := r.Next()
	if err != nil {
		return protoErr(err)
	}
	switch v.Kind {
	case binproto.KindError:
		return serverError(v)
	case binproto.KindMap:
	default:
		return protoErr(fmt.Errorf("HELLO reply is %v, want MAP", v.Kind))
	}
	for i := int64(0); i < v.Int; i++ {
		k, err := r.Next()
		if err != nil {
			return protoErr(err)
		}
		val, err := r.Skip()
		if err != nil {
			return protoErr(err)
		}
		if k.Kind != binproto.KindBytes || val.Kind != binproto.KindInt {
			continue
		}
		switch string(k.Bytes) {
		case "max_frame":
			c.lim.MaxFrame = val.Int
		case "max_value":
			c.lim.MaxValue = max(val.Int, binproto.MaxErrorMessage)
		case "max_array":
			c.lim.MaxArray = val.Int
		}
	}
	c.nextID = 1
	if testHookHelloDone != nil {
		testHookHelloDone()
	}
	return nil
}

// testHookHelloDone, if set by a test, runs when a handshake has read and
// applied the server's reply.
var testHookHelloDone func()

// send registers calls[i] under a fresh id, patches the id into frames[i]
// and queues the frames for the writer, all under one lock so a pipeline's
// frames stay contiguous. The frames are owned by the connection afterwards.
// It returns an error matching ErrNotExecuted if the connection is broken,
// and one matching ErrLimit, sending nothing, if a frame is longer than the
// server's maximum (the server would drop the connection for it).
func (c *conn) send(ctx context.Context, frames [][]byte, calls []*call) error {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		if errors.Is(err, ErrNotExecuted) {
			return err
		}
		return &wrapped{ErrNotExecuted, err}
	}
	for _, f := range frames {
		if n := int64(len(f) - binproto.HeaderSize); c.lim.MaxFrame > 0 && n > c.lim.MaxFrame {
			c.mu.Unlock()
			return &wrapped{ErrLimit, fmt.Errorf("request body of %d bytes exceeds the server's max frame of %d", n, c.lim.MaxFrame)}
		}
	}
	for i, f := range frames {
		// Ids wrap after 2^32 requests: one still pending (a call that
		// waits long, as a blocking command may) is skipped, or its reply
		// would go to the new call and the old one would wait for ever.
		id := c.nextID
		for {
			if c.nextID++; c.nextID == 0 {
				c.nextID = 1
			}
			if c.pending[id] == nil {
				break
			}
			id = c.nextID
		}
		binary.BigEndian.PutUint32(f[4:], id)
		calls[i].id = id
		calls[i].op = binproto.Opcode(binary.BigEndian.Uint16(f[2:]))
		c.pending[id] = calls[i]
		c.inflight.Add(1)
		c.out = append(c.out, f)
	}
	c.mu.Unlock()
	dl, _ := ctx.Deadline()
	if !dl.IsZero() {
		// A write to a server that reads takes microseconds: never cut one
		// shorter than writeGrace, or a caller with a tight deadline would
		// break the connection every call on it shares.
		dl = later(dl, time.Now().Add(writeGrace))
	}
	c.flush(ctx, dl)
	return nil
}

// writeGrace is the least time a caller's write gets, whatever its
// context's deadline: past its deadline a call returns at once anyway;
// the write only bounds how long a caller can be held by a server that
// stopped reading.
const writeGrace = 50 * time.Millisecond

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// forget drops a call whose caller stopped waiting; its reply, if it comes,
// is discarded by the reader.
func (c *conn) forget(cl *call) {
	c.mu.Lock()
	if c.pending[cl.id] == cl {
		delete(c.pending, cl.id)
		c.inflight.Add(-1)
	}
	c.mu.Unlock()
}

// broken reports whether the connection has failed.
func (c *conn) broken() bool {
	select {
	case <-c.dead:
		return true
	default:
		return false
	}
}

// fail breaks the connection once: every pending call gets an error
// wrapping ErrConnLost and cause (ErrClosed alone if cause is ErrClosed).
// A cause matching ErrNotExecuted asserts that the server has executed
// none of the pending calls.
func (c *conn) fail(cause error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	err := error(&wrapped{ErrConnLost, cause})
	if errors.Is(cause, ErrClosed) {
		err = ErrClosed
	}
	c.err = err
	pend := c.pending
	c.pending = nil
	// The frames still queued never reached the wire (a writer takes
	// what it writes out of c.out first, under mu): their calls were not
	// run, and are re-sent on a fresh connection (doc.go), writes too.
	for _, f := range c.out {
		if cl := pend[binary.BigEndian.Uint32(f[4:])]; cl != nil {
			cl.err = notExecuted(err)
		}
	}
	c.out = nil
	close(c.dead)
	c.mu.Unlock()
	c.nc.Close()
	for _, cl := range pend {
		if cl.err == nil {
			cl.err = err
		}
		close(cl.done)
	}
}

// flush writes the queued frames unless another goroutine is writing
// already; that writer then picks them up (see release). The caller that
// queued a frame usually writes it itself, with everything queued by others
// since the last write, in one writev (or one Write of a gathered buffer
// under TLS). It writes one batch only, so a caller never works for others
// for long; what is queued meanwhile goes to the writer goroutine.
//
// The caller's deadline (but at least writeGrace from now), if earlier
// than the write timeout, bounds its write, and so does its context's
// cancellation (the write then gets writeGrace more): a caller must not
// stay blocked in a write (a server that stopped reading) long past its
// context. A write so cut short is finished by writeLoop within the write
// timeout, since the connection, with part of a frame on the wire, is
// shared by other calls.
func (c *conn) flush(ctx context.Context, deadline time.Time) {
	if !c.writing.CompareAndSwap(false, true) {
		return
	}
	// Let callers that are about to queue do so first, so that this write
	// carries their frames too: this yield is what coalesces concurrent
	// calls. With nothing else runnable it returns at once.
	runtime.Gosched()
	if c.writeBatch(ctx, deadline) == handedOff {
		return // writeLoop holds the writer role now
	}
	c.release(true)
}

// release ends a turn as the writer. Frames queued by callers that found
// the writer busy must not be left behind: they are handed to the writer
// goroutine (handoff) or written by it (its own loop).
func (c *conn) release(handoff bool) bool {
	c.writing.Store(false)
	c.mu.Lock()
	more := len(c.out) > 0
	c.mu.Unlock()
	if more && handoff {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	return more
}

// writeLoop is the background writer: it drains what callers left queued
// behind a busy writer, and finishes writes their callers cut short.
func (c *conn) writeLoop() {
	for {
		select {
		case <-c.wake:
			if !c.writing.CompareAndSwap(false, true) {
				continue // the writer will hand over what it leaves
			}
		case <-c.resume: // the writer role comes with it
			var err error
			if c.tail != nil {
				err = c.tail.finish(c.restBy)
			} else {
				_ = c.nc.SetWriteDeadline(c.restBy)
				_, err = c.rest.WriteTo(c.nc)
				c.rest = nil
			}
			if err != nil {
				c.fail(fmt.Errorf("write: %w", err))
				return
			}
		case <-c.dead:
			return
		}
		for {
			for c.writeBatch(context.Background(), time.Time{}) == wrote {
			}
			if !c.release(false) || !c.writing.CompareAndSwap(false, true) {
				break
			}
		}
	}
}

// The outcomes of writeBatch.
const (
	wroteNothing = iota // nothing was queued, or the write failed
	wrote
	handedOff // cut short by the caller's context; writeLoop finishes it
)

// writeBatch writes everything queued in one write call, within the write
// timeout or by deadline if that is set and earlier, and within writeGrace
// of ctx's end. A write cut short by deadline or ctx (not by the write
// timeout) is handed to writeLoop to finish, with the writer role; any
// other failure breaks the connection.
// REQUIRES: c.writing held.
func (c *conn) writeBatch(ctx context.Context, deadline time.Time) int {
	c.mu.Lock()
	bufs := c.out
	c.out, c.spare = c.spare, nil
	c.mu.Unlock()
	if len(bufs) == 0 {
		c.mu.Lock()
		c.spare = bufs
		c.mu.Unlock()
		return wroteNothing
	}
	var limit time.Time // the write timeout's deadline
	if c.writeTimeout > 0 {
		limit = time.Now().Add(c.writeTimeout)
		if deadline.IsZero() || limit.Before(deadline) {
			deadline = limit
		}
	}
	_ = c.nc.SetWriteDeadline(deadline) // zero: none (clears an earlier caller's)
	var stopCut func() bool
	if ctx.Done() != nil {
		// Cancellation has no deadline to set in advance: cutWrite moves
		// it when it comes, and must be done before the next writer (or
		// writeLoop finishing this write) sets its own.
		c.cutBy = deadline
		c.cutting.Add(1)
		stopCut = context.AfterFunc(ctx, c.cutWriteFn)
	}
	if c.tail != nil {
		c.tail.arm(limit)
	}
	var err error
	c.writes.Add(1)
	nb := bufs // WriteTo consumes its receiver: what is left unwritten
	if c.gather && len(bufs) > 1 {
		c.gathered = c.gathered[:0]
		for _, b := range bufs {
			c.gathered = append(c.gathered, b...)
		}
		_, err = c.nc.Write(c.gathered)
		if cap(c.gathered) > 1<<20 {
			c.gathered = nil
		}
	} else {
		_, err = nb.WriteTo(c.nc)
	}
	if stopCut != nil {
		if stopCut() {
			c.cutting.Done() // cutWrite will not run
		}
		c.cutting.Wait()
	}
	if c.tail != nil && c.tail.disarm() && err == nil {
		c.restBy = limit // tail holds the rest
		c.resume <- struct{}{}
		return handedOff
	}
	if err != nil {
		// A timeout before the write timeout's is the caller's. Over TCP
		// a timed-out write may go on where it stopped (TLS: see tlsTail).
		if c.tail == nil && errors.Is(err, os.ErrDeadlineExceeded) && (limit.IsZero() || time.Now().Before(limit)) {
			c.rest, c.restBy = nb, limit
			c.resume <- struct{}{}
			return handedOff
		}
		c.fail(fmt.Errorf("write: %w", err))
		return wroteNothing
	}
	clear(bufs)
	c.mu.Lock()
	c.spare = bufs[:0]
	c.mu.Unlock()
	return wrote
}

// cutWrite cuts the write under way short, writeGrace from now, when the
// context of the caller writing it ends (see writeBatch).
func (c *conn) cutWrite() {
	defer c.cutting.Done()
	if t := time.Now().Add(writeGrace); c.cutBy.IsZero() || t.Before(c.cutBy) {
		_ = c.nc.SetWriteDeadline(t)
	}
}

// readBody reads an n-byte body. Up to 1 MiB it is allocated at once;
// beyond, the buffer doubles as data arrives, so a peer that declares a
// huge length and sends nothing costs no more than it sent. The body
// returned has cap n.
func readBody(r io.Reader, n int) ([]byte, error) {
	if n <= 1<<20 {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	b := make([]byte, 0, 1<<20)
	for len(b) < n {
		if len(b) == cap(b) {
			// Sized exactly, not by append's rounding: the last step
			// makes cap(b) == n, so the value handed to the caller holds
			// no slack (append's growth left a 64 MiB value in ~80 MiB).
			nb := make([]byte, len(b), len(b)+min(cap(b), n-len(b)))
			copy(nb, b)
			b = nb
		}
		m := min(cap(b), n) - len(b)
		k, err := io.ReadFull(r, b[len(b):len(b)+m])
		b = b[:len(b)+k]
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// slabSize is the chunk small reply bodies are carved from, so a reply
// costs no allocation of its own.
const slabSize = 32 << 10

// readLoop reads frames and completes the call each reply belongs to.
func (c *conn) readLoop() {
	br := bufio.NewReaderSize(c.nc, 64<<10)
	// The server's max_frame bounds requests, not replies (an MGET reply
	// may be longer): a reply may use all the length field can say, and a
	// long body's buffer grows as its bytes arrive (readBody) rather than
	// being allocated from the declared length.
	lim := replyLimits
	var hdr [binproto.HeaderSize]byte
	var slab []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			c.fail(err)
			return
		}
		h, err := binproto.ParseHeader(hdr[:])
		if err == nil && (int64(h.Length) > lim.MaxFrame || uint64(h.Length) > math.MaxInt) {
			// The second: int(h.Length) must not go negative on 32-bit
			// platforms, where a reply of 2 GiB or more cannot be held.
			err = binproto.ErrFrameTooLarge
		}
		if err != nil {
			c.fail(protoErr(err))
			return
		}
		var body []byte
		n := int(h.Length)
		if n <= 512 {
			if len(slab) < n {
				slab = make([]byte, slabSize)
			}
			body, slab = slab[:n:n], slab[n:]
			if _, err := io.ReadFull(br, body); err != nil {
				c.fail(err)
				return
			}
		} else if body, err = readBody(br, n); err != nil {
			c.fail(err)
			return
		}
		if h.Flags&binproto.FlagPush != 0 {
			if h.Op == binproto.OpDisconnect {
				// The server has answered every request it executed and
				// will execute and send nothing more (§8): every call
				// still pending, or queued or sent from now on, never
				// ran, so fail them now as not executed (safe to retry)
				// rather than wait for the server to close the socket.
				disconnect := errors.New("server disconnected")
				r := binproto.NewReader(body, lim)
				if v, err := r.Next(); err == nil && v.Kind == binproto.KindError {
					disconnect = fmt.Errorf("server disconnected: %w", serverError(v))
				}
				c.fail(&wrapped{ErrNotExecuted, disconnect})
				return
			}
			continue // unknown pushes are ignored (§8)
		}
		c.mu.Lock()
		cl := c.pending[h.ID]
		if cl != nil && cl.op != h.Op {
			// A reply must echo its request's opcode (§9). One that does
			// not means the stream is out of step (a server bug, or
			// something between us and it splicing streams): its body
			// may be another request's answer, so trust nothing more on
			// this connection.
			c.mu.Unlock()
			c.fail(protoErr(fmt.Errorf("reply to request %d has opcode %#04x, the request's is %#04x", h.ID, uint16(h.Op), uint16(cl.op))))
			return
		}
		if cl != nil {
			delete(c.pending, h.ID)
			c.inflight.Add(-1)
		}
		c.mu.Unlock()
		if cl == nil {
			continue // the caller gave up: discard the late reply
		}
		cl.body = body
		close(cl.done)
	}
}
