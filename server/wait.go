package server

import (
	"math"
	"sync"
	"time"

	"github.com/ringdb/ringdb/transport"
)

// WAIT numreplicas timeout, with Redis 7.0's replies. It answers how many
// replicas have acknowledged the connection's writes. ringdb has no
// replication yet, so that is always 0: WAIT 0 (or a negative count)
// answers 0 at once, and WAIT n with n >= 1 parks its request until the
// timeout in milliseconds, then answers 0; a timeout of 0, or one too
// large for any clock (Redis 7.0 then waits for ever as well), waits until
// the client disconnects or the server shuts down (the connection then
// closes with no reply, as Redis's does). Inside MULTI it answers at once,
// as Redis's does for a client that may not block.
//
// The parked requests live in a registry, replWaits, and one function,
// finish, answers them: the timer's, or a future replication layer's
// when replicas acknowledge (ack). During a WRITE pause Redis delays the
// acknowledgements, not WAIT itself; that layer will have to do the same.

// replWaits is the registry of parked WAIT requests.
type replWaits struct {
	mu      sync.Mutex
	waiting map[*replWait]struct{} // REQUIRES: mu
}

// replWait is one parked WAIT request.
type replWait struct {
	sess  *session
	need  int64 // numreplicas
	p     *transport.Parked
	timer *time.Timer // nil: no timeout
	quiet bool        // CLIENT REPLY OFF or SKIP: no reply
}

// cmdWait is WAIT numreplicas timeout.
func cmdWait(c *cmdCtx) {
	need, ok := parseInt(c.argv[1])
	if !ok {
		c.notInteger()
		return
	}
	ms, ok := parseInt(c.argv[2])
	switch {
	case !ok:
		c.errReply(msgTimeoutNotInt)
		return
	case ms < 0:
		c.errReply(msgTimeoutNegative)
		return
	}
	const acked = 0 // no replica has acknowledged anything: there are none
	if acked >= need || c.inExec {
		c.w.Int(acked)
		return
	}
	c.srv.waits.add(c, need, ms)
}

// add parks the request in c until need replicas acknowledge, or for ms
// milliseconds (0: no timeout).
func (r *replWaits) add(c *cmdCtx, need, ms int64) {
	w := &replWait{sess: c.sess, need: need, p: c.conn.Park(), quiet: c.quiet}
	c.sess.parked.Add(1)
	// Holding mu until w is entered keeps a short timer's callback, which
	// takes mu in finish, from finding it missing.
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waiting == nil {
		r.waiting = make(map[*replWait]struct{})
	}
	r.waiting[w] = struct{}{}
	c.sess.wait = w
	if ms > 0 && ms <= math.MaxInt64/int64(time.Millisecond) {
		w.timer = time.AfterFunc(time.Duration(ms)*time.Millisecond, func() { r.finish(w, 0) })
	}
}

// finish answers w with acked, the number of replicas that acknowledged,
// and forgets it; it does nothing for a request answered or dropped
// already.
func (r *replWaits) finish(w *replWait, acked int64) {
	r.mu.Lock()
	_, ok := r.waiting[w]
	if ok {
		delete(r.waiting, w)
		w.sess.wait = nil
	}
	r.mu.Unlock()
	if !ok {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.sess.parked.Add(-1)
	// The reply is interaction, as Redis counts it: CLIENT LIST's idle
	// restarts from it, not from the WAIT read long before.
	w.sess.lastActive.Store(w.sess.ctx.srv.clockSec.Load())
	w.p.Complete(func(tw *transport.Writer) {
		if !w.quiet { // CLIENT REPLY OFF or SKIP
			tw.Int(acked)
		}
	})
}

// ack answers every request waiting for at most acked replicas: what the
// replication layer calls when acknowledgements arrive.
func (r *replWaits) ack(acked int64) {
	r.mu.Lock()
	var done []*replWait
	for w := range r.waiting {
		if w.need <= acked {
			done = append(done, w)
		}
	}
	r.mu.Unlock()
	for _, w := range done {
		r.finish(w, acked)
	}
}

// drop forgets the parked WAIT of a session whose connection has closed:
// it can no longer be answered.
func (r *replWaits) drop(sess *session) {
	r.mu.Lock()
	w := sess.wait
	if w != nil {
		delete(r.waiting, w)
		sess.wait = nil
	}
	r.mu.Unlock()
	if w == nil {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	sess.parked.Add(-1)
}
