package server

import (
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringdb/ringdb/transport"
)

// Client pause: CLIENT PAUSE timeout [WRITE|ALL] and CLIENT UNPAUSE, with
// Redis 7.0's semantics, checked against redis-server 7.0.15.
//
//   - ALL (the default) holds back every command of every client, the
//     pausing client's own and CLIENT UNPAUSE included: in Redis 7.0 only
//     the timeout ends an ALL pause. WRITE holds back the commands that
//     may write (flagWrite, and EXEC of a transaction that queued one);
//     reads, WAIT, CONFIG, INFO and CLIENT UNPAUSE go on.
//   - What Redis refuses before it looks at the pause is refused at once:
//     an unknown command or subcommand, a wrong argument count, NOAUTH,
//     and inside MULTI a command MULTI does not take. The rest is held
//     back, commands queued inside MULTI included (as Redis checks the
//     pause before it queues).
//   - A held command is postponed (transport.Conn.Postpone): its event
//     loop goes on serving other connections, and the connection's later
//     requests wait behind it. When the pause ends, by its timeout or
//     CLIENT UNPAUSE, each is served again from the start, so a new pause
//     may hold it again; its connection's pipeline then follows in order.
//   - A second CLIENT PAUSE while paused keeps the stricter mode (ALL over
//     WRITE) and the later end, as Redis's pauseClients does; it never
//     shortens a pause. A timeout of 0 (or one that overflows Redis's
//     clock, which 7.0 does not check: it wraps to a deadline in the past)
//     adds no time, so while paused it only raises the mode.
//   - A held command counts as a blocked client in INFO (blocked_clients)
//     and shows flags=b in CLIENT LIST, as in Redis 7.0, and it is counted
//     in INFO commandstats only when it runs.
//
// Differences from Redis 7.0:
//   - Redis resumes held clients one after another, in the order they
//     were paused; here they resume in parallel (each on its own event
//     loop), so when one of them sends CLIENT PAUSE again, the commands of
//     others resumed at the same moment may run before it or be held by
//     it. Each connection's own order is kept.
//   - During a WRITE pause Redis also stops active expiry and eviction, so
//     that the dataset does not change; here the keyspace's background
//     work goes on, and a key may expire or be evicted while writes are
//     held back.
//   - An OOM refusal comes when a held write runs, after the pause; Redis
//     refuses it before pausing.

// Replies to a bad timeout, as Redis 7.0's getTimeoutFromObjectOrReply
// words them (CLIENT PAUSE, WAIT).
const (
	msgTimeoutNotInt   = "timeout is not an integer or out of range"
	msgTimeoutNegative = "timeout is negative"
)

// Pause modes, in order of strictness: a second CLIENT PAUSE keeps the
// stricter one.
const (
	pauseOff   uint32 = iota
	pauseWrite        // hold back commands that may write
	pauseAll          // hold back every command
)

// clientPause is the server's pause state.
//
// mode is the one word every command reads (one atomic load; no lock, no
// allocation while no pause is on); it sits alone on its cache line, so
// that writes to the fields around it never make a command miss on it.
// The rest is touched only while a pause is on, under mu.
type clientPause struct {
	_    [64]byte
	mode atomic.Uint32 // pauseOff, pauseWrite or pauseAll; REQUIRES: mu held to store
	_    [60]byte

	mu      sync.Mutex
	end     int64       // transport.Monotime when the pause ends; math.MaxInt64: never. REQUIRES: mu
	timer   *time.Timer // ends the pause at end; nil until the first timed pause. REQUIRES: mu
	waiting []*session  // sessions with a postponed request, in the order they were held. REQUIRES: mu
	stopped bool        // the server has shut down: no new timers. REQUIRES: mu
}

// pauseHolds reports whether a pause in mode m holds back the request in
// ctx (which names cmd): every command under ALL, one that may write
// under WRITE.
func pauseHolds(ctx *cmdCtx, cmd *command, m uint32) bool {
	switch m {
	case pauseAll:
		return true
	case pauseWrite:
		return cmd.flags&flagWrite != 0 || !ctx.bin && isExec(cmd) && ctx.sess.tx != nil && ctx.sess.tx.writes
	}
	return false
}

// refusedBeforePause reports whether Redis would refuse the RESP request
// in ctx before it looks at the pause, for reasons serveRESP leaves to
// the handler or to queueTx: an unknown subcommand, a subcommand's wrong
// argument count, or, inside MULTI, a command that cannot be queued. Such
// a request is answered at once, paused or not. A subcommand it finds is
// recorded as the session's last command, as Redis shows a held
// CLIENT PAUSE as client|pause.
func refusedBeforePause(ctx *cmdCtx, cmd *command) bool {
	if ctx.sess.tx != nil && cmd.flags&flagTxCtl == 0 && cmd.flags&(flagBlocking|flagNoMulti) != 0 {
		return true
	}
	if cmd.subs == nil || len(ctx.argv) < 2 {
		return false
	}
	sub, ok := cmd.subs[strings.ToLower(string(ctx.argv[1]))]
	if !ok || !arityOK(sub.arity, len(ctx.argv)) {
		return true
	}
	ctx.sess.lastCmd.Store(&sub.full)
	return false
}

// holdPaused postpones the request in ctx if the pause in force, mode m
// as the caller last read it, holds it back, and reports whether it did.
// The caller has found m != pauseOff; the pause is checked again under
// mu, since it may have ended since.
func (s *Server) holdPaused(ctx *cmdCtx, cmd *command, m uint32) bool {
	if !pauseHolds(ctx, cmd, m) || !ctx.bin && refusedBeforePause(ctx, cmd) {
		return false
	}
	p := &s.pause
	p.mu.Lock()
	defer p.mu.Unlock()
	if !pauseHolds(ctx, cmd, p.mode.Load()) {
		return false
	}
	sess := ctx.sess
	sess.parked.Add(1)
	sess.postponed = ctx.conn.Postpone()
	p.waiting = append(p.waiting, sess)
	return true
}

// pauseClients starts or extends a pause of ms milliseconds in mode m
// (CLIENT PAUSE): the stricter mode and the later end of the pause in
// force and of this one hold.
func (s *Server) pauseClients(ms int64, m uint32) {
	now := transport.Monotime()
	var end int64
	switch {
	case ms > math.MaxInt64-time.Now().UnixMilli():
		// Redis 7.0 adds the timeout to its clock unchecked: the sum
		// wraps to a deadline in the past, which ends nothing sooner and
		// nothing later. Take it as it behaves, as 0.
		end = now
	case ms > (math.MaxInt64-now)/int64(time.Millisecond):
		end = math.MaxInt64 // beyond any clock: until CLIENT UNPAUSE
	default:
		end = now + ms*int64(time.Millisecond)
	}
	p := &s.pause
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	cur := p.mode.Load()
	if cur == pauseOff && end <= now {
		return // Redis's pause of 0 ms ends before it could hold anything
	}
	if m > cur {
		p.mode.Store(m)
	}
	if cur != pauseOff && end <= p.end {
		return
	}
	p.end = end
	switch {
	case end == math.MaxInt64:
		if p.timer != nil {
			p.timer.Stop()
		}
	case p.timer == nil:
		p.timer = time.AfterFunc(time.Duration(end-now), s.pauseExpired)
	default:
		p.timer.Reset(time.Duration(end - now))
	}
}

// pauseExpired is the pause timer's callback: it ends the pause, unless a
// later CLIENT PAUSE has moved its end meanwhile.
func (s *Server) pauseExpired() {
	p := &s.pause
	p.mu.Lock()
	if p.mode.Load() == pauseOff || p.end == math.MaxInt64 {
		p.mu.Unlock()
		return
	}
	if now := transport.Monotime(); now < p.end {
		p.timer.Reset(time.Duration(p.end - now)) // moved after this run was due
		p.mu.Unlock()
		return
	}
	held := p.endLocked()
	p.mu.Unlock()
	resume(held)
}

// unpauseClients ends the pause in force, if any (CLIENT UNPAUSE).
func (s *Server) unpauseClients() {
	p := &s.pause
	p.mu.Lock()
	held := p.endLocked()
	p.mu.Unlock()
	resume(held)
}

// endLocked ends the pause and returns the requests it held back, which
// the caller resumes once mu is released. REQUIRES: p.mu held.
func (p *clientPause) endLocked() []*transport.Postponed {
	if p.timer != nil {
		p.timer.Stop()
	}
	held := make([]*transport.Postponed, 0, len(p.waiting))
	for _, sess := range p.waiting {
		held = append(held, sess.postponed)
		sess.postponed = nil
		sess.parked.Add(-1) // before the request can be held again
	}
	clear(p.waiting)
	p.waiting = p.waiting[:0]
	p.end = 0
	p.mode.Store(pauseOff)
	return held
}

// resume serves the held requests again, in the order they were held.
func resume(held []*transport.Postponed) {
	for _, r := range held {
		r.Retry()
	}
}

// dropPaused forgets the postponed request of a session whose connection
// has closed: it will never be served.
func (s *Server) dropPaused(sess *session) {
	p := &s.pause
	p.mu.Lock()
	defer p.mu.Unlock()
	if sess.postponed == nil {
		return
	}
	sess.postponed = nil
	sess.parked.Add(-1)
	if i := slices.Index(p.waiting, sess); i >= 0 {
		p.waiting = slices.Delete(p.waiting, i, i+1)
	}
}

// stopPause stops the pause timer at shutdown. The connections, and the
// requests they had postponed, are gone by then.
func (s *Server) stopPause() {
	p := &s.pause
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	if p.timer != nil {
		p.timer.Stop()
	}
}

// clientPauseCmd is CLIENT PAUSE timeout [WRITE|ALL], checked in Redis
// 7.0's order: the argument count, the mode, then the timeout.
func clientPauseCmd(c *cmdCtx) {
	argv := c.argv
	if len(argv) > 4 {
		c.errReply("unknown subcommand or wrong number of arguments for '" + clip(string(argv[1]), 128) + "'. Try CLIENT HELP.")
		return
	}
	m := pauseAll
	if len(argv) == 4 {
		switch {
		case eqFold(argv[3], "write"):
			m = pauseWrite
		case eqFold(argv[3], "all"):
		default:
			c.errReply("CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	ms, ok := parseInt(argv[2])
	switch {
	case !ok:
		c.errReply(msgTimeoutNotInt)
	case ms < 0:
		c.errReply(msgTimeoutNegative)
	default:
		c.srv.pauseClients(ms, m)
		c.w.OK()
	}
}

// clientUnpauseCmd is CLIENT UNPAUSE.
func clientUnpauseCmd(c *cmdCtx) {
	c.srv.unpauseClients()
	c.w.OK()
}
