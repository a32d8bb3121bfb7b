package client

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Client is a ringdb client over the binary protocol. It is safe for
// concurrent use; share one per process and server.
type Client struct {
	addr   string
	o      options
	slots  []*slot
	closed atomic.Bool
	// bg is the context of background redials; Close cancels it, so that
	// none outlives the Client.
	bg       context.Context
	bgCancel context.CancelFunc
}

// slot is one pooled connection and its reconnect state.
type slot struct {
	cur      atomic.Pointer[conn]
	dialling atomic.Bool   // a background redial is running
	sem      chan struct{} // capacity 1: held while (re)dialling
	backoff  time.Duration // REQUIRES: sem held
	next     time.Time     // earliest next dial; REQUIRES: sem held
	// dials counts finished dials; lastErr is the last one's error, nil
	// if it succeeded. REQUIRES: sem held to write (dials is read without).
	dials   atomic.Uint64
	lastErr error // REQUIRES: sem held
}

// New connects to the ringdb server at addr ("host:port"), opening the
// whole pool and running the HELLO handshake on each connection. It fails
// if any connection cannot be opened within ctx and the dial timeout;
// errors.Is(err, ErrAuth) reports a missing or wrong token.
func New(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	c := &Client{addr: addr, o: defaultOptions()}
	c.bg, c.bgCancel = context.WithCancel(context.Background())
	for _, opt := range opts {
		opt(&c.o)
	}
	c.slots = make([]*slot, c.o.poolSize)
	for i := range c.slots {
		c.slots[i] = &slot{sem: make(chan struct{}, 1)}
		cn, err := dial(ctx, addr, &c.o)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("ringdb: connect %s: %w", addr, err)
		}
		c.slots[i].cur.Store(cn)
	}
	return c, nil
}

// Close closes every connection at once, without waiting for replies.
// Calls in flight (whose writes may or may not have been applied) and later
// calls fail with ErrClosed. Close is idempotent.
func (c *Client) Close() error {
	c.closed.Store(true)
	c.bgCancel()
	for _, s := range c.slots {
		if s == nil {
			continue
		}
		if cn := s.cur.Load(); cn != nil {
			cn.fail(ErrClosed)
		}
	}
	return nil
}

// Addr returns the server address the client was created with.
func (c *Client) Addr() string { return c.addr }

// conn returns the healthy connection with the fewest calls in flight,
// the lowest slot on a tie. At low load every call therefore goes to the
// same warm connection (round-robin would wake a different idle server
// loop and reader goroutine per call, doubling latency); under load calls
// spread over the pool. Broken connections are re-dialled in the
// background, or in the caller when none is healthy.
func (c *Client) conn(ctx context.Context) (*conn, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	var best *conn
	var bestLoad int64
	var broken *slot
	for _, s := range c.slots {
		cn := s.cur.Load()
		if cn == nil || cn.broken() {
			if broken == nil {
				broken = s
			}
			continue
		}
		if load := cn.inflight.Load(); best == nil || load < bestLoad {
			best, bestLoad = cn, load
		}
	}
	if best == nil {
		return c.redial(ctx, broken)
	}
	if broken != nil && broken.dialling.CompareAndSwap(false, true) {
		go func() {
			defer broken.dialling.Store(false)
			var ctx context.Context
			var cancel context.CancelFunc
			if c.o.dialTimeout > 0 {
				ctx, cancel = context.WithTimeout(c.bg, c.o.dialTimeout+c.o.maxBackoff)
			} else {
				ctx, cancel = context.WithCancel(c.bg)
			}
			defer cancel()
			_, _ = c.redial(ctx, broken)
		}()
	}
	return best, nil
}

// redial replaces s's broken connection. Concurrent callers wait for one
// dialler; a failed dial doubles the wait before the next attempt. Callers
// that were waiting while a dial failed get its error rather than each
// waiting out a backoff and dialling in turn (with the server down, the
// n-th caller would fail only after n backoffs).
func (c *Client) redial(ctx context.Context, s *slot) (*conn, error) {
	seen := s.dials.Load()
	// Close ends the wait and the dial too: a caller re-dialling a server
	// that does not answer the handshake would otherwise hold on for the
	// dial timeout (for ever with none) after Close.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.bg, cancel)()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, c.closedOr(ctx.Err())
	}
	defer func() { <-s.sem }()
	if cn := s.cur.Load(); cn != nil && !cn.broken() {
		return cn, nil
	}
	if s.dials.Load() != seen && s.lastErr != nil {
		return nil, s.lastErr // a dial failed while this caller waited
	}
	if wait := time.Until(s.next); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, c.closedOr(ctx.Err())
		}
	}
	if c.closed.Load() {
		return nil, ErrClosed
	}
	cn, err := dial(ctx, c.addr, &c.o)
	if err != nil {
		if c.closed.Load() {
			return nil, ErrClosed // the dial was cut short by Close
		}
		err = fmt.Errorf("ringdb: reconnect %s: %w", c.addr, err)
		// ctxEnded, not ctx.Err(): the dial's reads time out at the
		// context's deadline, before its timer marks it done.
		if ctxEnded(ctx) == nil { // not this caller's context: the server's answer
			// Only then the backoff: a caller whose own time ran out
			// mid-dial says nothing of the server, and made the other
			// callers wait for it.
			s.backoff = min(max(2*s.backoff, c.o.minBackoff), c.o.maxBackoff)
			s.next = time.Now().Add(s.backoff)
			s.lastErr = err
			s.dials.Add(1)
		}
		return nil, err
	}
	s.backoff, s.next = 0, time.Time{}
	s.lastErr = nil
	s.dials.Add(1)
	s.cur.Store(cn)
	if c.closed.Load() { // lost a race with Close
		cn.fail(ErrClosed)
		return nil, ErrClosed
	}
	return cn, nil
}

// notExecuted marks err, the failure of a call that no attempt sent, as
// matching ErrNotExecuted. ErrClosed stays as it is.
func notExecuted(err error) error {
	if errors.Is(err, ErrNotExecuted) || err == ErrClosed {
		return err
	}
	return &wrapped{ErrNotExecuted, err}
}

// closedOr returns ErrClosed once the Client is closed, else err.
func (c *Client) closedOr(err error) error {
	if c.closed.Load() {
		return ErrClosed
	}
	return err
}

// callCtx applies the read timeout to a context without a deadline.
func (c *Client) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.o.readTimeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			return context.WithTimeout(ctx, c.o.readTimeout)
		}
	}
	return ctx, func() {}
}

// do sends one request frame and returns its reply body. A request the
// server is known not to have executed (ErrNotExecuted: it never reached
// a broken connection, or a DISCONNECT push came before its reply) is
// re-sent on a fresh connection, up to three times; a request lost in
// flight otherwise is retried once only when idempotent.
func (c *Client) do(ctx context.Context, frame []byte, idempotent bool) ([]byte, error) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	retriedInFlight := false
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			frame = append([]byte(nil), frame...) // the old writer may still read it
		}
		if err := ctxEnded(ctx); err != nil {
			return nil, err // nothing sent
		}
		cn, err := c.conn(ctx)
		if err != nil {
			if cerr := ctxEnded(ctx); cerr != nil {
				return nil, cerr // the (re)dial ran out of the caller's time
			}
			if !retriedInFlight {
				err = notExecuted(err) // no attempt reached the server
			}
			return nil, err
		}
		cl := &call{done: make(chan struct{})}
		if err := cn.send(ctx, [][]byte{frame}, []*call{cl}); err != nil {
			if errors.Is(err, ErrNotExecuted) && attempt < 3 {
				continue
			}
			return nil, err
		}
		select {
		case <-cl.done:
		case <-ctx.Done():
			cn.forget(cl)
			return nil, ctx.Err()
		}
		if cl.err != nil {
			if err := ctxEnded(ctx); err != nil {
				// The connection broke because this call's own write ran
				// past its deadline (or it raced with the context's end).
				return nil, err
			}
			if errors.Is(cl.err, ErrNotExecuted) && attempt < 3 {
				continue
			}
			if idempotent && !retriedInFlight && errors.Is(cl.err, ErrConnLost) {
				retriedInFlight = true
				continue
			}
			return nil, cl.err
		}
		return cl.body, nil
	}
}

// writeCount returns the number of writes issued by all connections (tests).
func (c *Client) writeCount() int64 {
	var n int64
	for _, s := range c.slots {
		if cn := s.cur.Load(); cn != nil {
			n += cn.writes.Load()
		}
	}
	return n
}

// ctxEnded returns ctx.Err(), or context.DeadlineExceeded once the deadline
// has passed even if ctx's timer has not fired yet (a socket deadline set
// from it can expire first).
func ctxEnded(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}
