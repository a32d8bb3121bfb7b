package server

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ringdb/ringdb/transport"
	"github.com/ringdb/ringdb/transport/binproto"
)

// The slow log keeps the most recent commands that ran longer than
// slowlog-log-slower-than microseconds, as Redis's SLOWLOG does.
//
// Reading the clock costs about 25 ns here, a few percent of a pipelined
// GET's whole server cost, so not every command is timed (Redis times
// every one):
//   - commands without the fast flag (KEYS, SCAN, DEL, MSET, FLUSHALL,
//     INFO, ...) other than SET, SETEX and PSETEX (flagO1: O(1), not
//     flagged fast by Redis only for their options), commands whose
//     arguments add up to slowArgBytes or more, and every command when
//     the threshold is 0, are timed exactly;
//   - any other command whose reply added slowReplyBytes or more (a GET of
//     a large value) is charged the time since its batch began
//     (transport.Conn.BatchStart) or since the last command timed in it,
//     whichever is later: an upper bound, since fast commands before it in
//     the same pipelined batch are included;
//   - the rest, fast commands on small values, are not timed: each takes
//     well under a microsecond.
const (
	slowArgBytes   = 64 << 10
	slowReplyBytes = 64 << 10

	// Redis's defaults and its truncation of logged arguments.
	defaultSlowlogThreshold = 10000 // µs
	defaultSlowlogMaxLen    = 128
	slowlogMaxArgc          = 32
	slowlogMaxString        = 128
)

// slowEntry is one logged command.
type slowEntry struct {
	id       int64
	unix     int64 // seconds
	micros   int64
	args     [][]byte
	addr     string
	name     string
	truncArg int // arguments left out past slowlogMaxArgc (0: none)
}

// slowlog is the server's slow log. Entries are added rarely (only
// commands over the threshold), so a mutex is enough.
type slowlog struct {
	threshold atomic.Int64 // µs; negative disables
	maxLen    atomic.Int64

	mu sync.Mutex
	// entries[head:] is the log, oldest first: dropping the oldest entry
	// moves head, and the slice is compacted once head reaches half its
	// length, so an add costs O(1) amortized however long the log
	// (copying the whole log on each add cost 180 µs per command at a
	// slowlog-max-len of 50000). REQUIRES: mu
	entries []slowEntry
	head    int   // REQUIRES: mu
	nextID  int64 // REQUIRES: mu
}

func newSlowlog() *slowlog {
	l := &slowlog{}
	l.threshold.Store(defaultSlowlogThreshold)
	l.maxLen.Store(defaultSlowlogMaxLen)
	return l
}

// add logs a command that ran for ns nanoseconds if that is over the
// threshold. args[0] is the command's name.
func (l *slowlog) add(sess *session, now int64, ns int64, args [][]byte, redact func(i int) bool) {
	th := l.threshold.Load()
	if th < 0 || ns/1000 < th {
		return
	}
	e := slowEntry{unix: now, micros: ns / 1000, addr: sess.addr()}
	sess.mu.Lock()
	e.name = sess.names.get().name
	sess.mu.Unlock()
	n := len(args)
	if n > slowlogMaxArgc {
		e.truncArg = n - (slowlogMaxArgc - 1)
		n = slowlogMaxArgc - 1
	}
	e.args = make([][]byte, n)
	for i := range n {
		a := args[i]
		switch {
		case i > 0 && redact != nil && redact(i):
			a = []byte("(redacted)")
		case len(a) > slowlogMaxString:
			a = append(a[:slowlogMaxString:slowlogMaxString], "... ("+strconv.Itoa(len(a)-slowlogMaxString)+" more bytes)"...)
		default:
			a = append([]byte(nil), a...)
		}
		e.args[i] = a
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e.id = l.nextID
	l.nextID++
	limit := l.maxLen.Load()
	if limit <= 0 {
		l.resetLocked()
		return
	}
	l.entries = append(l.entries, e)
	l.trimLocked(limit)
}

// logLocked returns the entries held, oldest first. REQUIRES: mu.
func (l *slowlog) logLocked() []slowEntry { return l.entries[l.head:] }

// trimLocked keeps the newest limit entries. REQUIRES: mu.
func (l *slowlog) trimLocked(limit int64) {
	if over := int64(len(l.logLocked())) - limit; over > 0 {
		clear(l.entries[l.head : l.head+int(over)]) // let their arguments go
		l.head += int(over)
	}
	if l.head > 0 && l.head >= len(l.entries)/2 {
		n := copy(l.entries, l.entries[l.head:])
		clear(l.entries[n:])
		l.entries = l.entries[:n]
		l.head = 0
	}
}

// resetLocked empties the log. REQUIRES: mu.
func (l *slowlog) resetLocked() {
	clear(l.entries)
	l.entries = l.entries[:0]
	l.head = 0
}

// setMaxLen applies slowlog-max-len, dropping the oldest entries past it.
func (l *slowlog) setMaxLen(n int64) {
	l.mu.Lock()
	l.maxLen.Store(n)
	l.trimLocked(max(n, 0))
	l.mu.Unlock()
}

// redactRESP reports, for a command as sent, which arguments the slow log
// and MONITOR must not show, as Redis hides them: AUTH's, HELLO's after
// AUTH, and the value CONFIG SET gives requirepass. nil when none.
func redactRESP(argv [][]byte) func(i int) bool {
	switch {
	case eqFold(argv[0], "auth"):
		return func(int) bool { return true }
	case eqFold(argv[0], "hello"):
		// Walk the options as HELLO parses them (Redis's helloCommand
		// redacts as it goes): a SETNAME value spelled "auth" is not an
		// AUTH, and every AUTH pair is hidden, not only the first. Past
		// an option HELLO refuses (a syntax error) Redis stops parsing
		// and shows the rest as sent; the walk goes on, so that no
		// password after it is shown.
		var hide []int
		for j := 2; j < len(argv); j++ {
			more := len(argv) - 1 - j
			switch {
			case eqFold(argv[j], "auth") && more >= 2:
				hide = append(hide, j+1, j+2)
				j += 2
			case eqFold(argv[j], "setname") && more >= 1:
				j++
			}
		}
		if hide == nil {
			return nil
		}
		return func(i int) bool { return slices.Contains(hide, i) }
	case eqFold(argv[0], "config") && len(argv) > 1 && eqFold(argv[1], "set"):
		return func(i int) bool { return i >= 3 && i%2 == 1 && eqFold(argv[i-1], "requirepass") }
	}
	return nil
}

// slowMark is what the slow log notes before a command runs (slowBegin),
// for slowEnd to time it.
type slowMark struct {
	on    bool  // the slow log is enabled
	exact bool  // timed exactly from t0
	t0    int64 // transport.Monotime before the command, when exact
	n0    int   // the writer's length before the command, when not exact
}

// slowBegin decides how the command about to run in ctx is timed (see the
// comment at the top of this file) and reads the clock only if exactly.
// ctx.argv (RESP) or ctx.args (binary) holds the request.
func (s *Server) slowBegin(ctx *cmdCtx, cmd *command) slowMark {
	th := s.slow.threshold.Load()
	if th < 0 {
		return slowMark{}
	}
	if th == 0 || cmd.flags&(flagFast|flagO1) == 0 || ctx.argBytesOver(slowArgBytes) {
		return slowMark{on: true, exact: true, t0: transport.Monotime()}
	}
	return slowMark{on: true, n0: ctx.w.Len()}
}

// slowEnd logs the command that ran since slowBegin returned m if it took
// the threshold or longer. An untimed command whose reply came to
// slowReplyBytes or more is charged the time since its batch began or
// since the last command timed in it.
func (s *Server) slowEnd(ctx *cmdCtx, cmd *command, m slowMark) {
	if !m.on {
		return
	}
	start := m.t0
	if !m.exact {
		if ctx.w.Len()-m.n0 < slowReplyBytes {
			return
		}
		if start = ctx.conn.BatchStart(); start == 0 {
			return // not served by a transport (handler tests)
		}
		start = max(start, ctx.sess.timedAt)
	}
	t1 := transport.Monotime()
	ctx.sess.timedAt = t1
	// The threshold is read again: a CONFIG SET may have just changed
	// it, and Redis compares with the new one.
	if (t1-start)/1000 < s.slow.threshold.Load() {
		return
	}
	if ctx.bin {
		s.slow.add(ctx.sess, s.clockSec.Load(), t1-start, binArgv(cmd, ctx.args), binRedact(cmd))
	} else {
		s.slow.add(ctx.sess, s.clockSec.Load(), t1-start, ctx.argv, redactRESP(ctx.argv))
	}
}

// argBytesOver reports whether the request's arguments (past the command
// name) add up to n bytes or more.
func (c *cmdCtx) argBytesOver(n int) bool {
	if c.bin {
		for i := range c.args {
			if n -= len(c.args[i].Bytes); n <= 0 {
				return true
			}
		}
		return false
	}
	for _, a := range c.argv[1:] {
		if n -= len(a); n <= 0 {
			return true
		}
	}
	return false
}

// binArgv renders a binary request as a command line for the slow log.
func binArgv(cmd *command, args []binproto.Value) [][]byte {
	argv := make([][]byte, 0, 1+min(len(args), slowlogMaxArgc))
	argv = append(argv, []byte(cmd.name))
	for i := range args {
		if len(argv) > slowlogMaxArgc {
			// add counts only how many are left out.
			argv = append(argv, nil)
			continue
		}
		v := &args[i]
		switch v.Kind {
		case binproto.KindInt:
			argv = append(argv, strconv.AppendInt(nil, v.Int, 10))
		default:
			argv = append(argv, v.Bytes)
		}
	}
	return argv
}

// binRedact hides a binary HELLO's token.
func binRedact(cmd *command) func(int) bool {
	if cmd.op == binproto.OpHello {
		return func(int) bool { return true }
	}
	return nil
}

var slowlogSubs = nameSubcommands("slowlog", map[string]*subcommand{
	"get":   {arity: -2, flags: flagAdmin, run: slowlogGet},
	"len":   {arity: 2, flags: flagAdmin, run: func(c *cmdCtx) { c.w.Int(int64(c.srv.slow.len())) }},
	"reset": {arity: 2, flags: flagAdmin, run: func(c *cmdCtx) { c.srv.slow.reset(); c.w.OK() }},
	"help":  {arity: 2, run: slowlogHelp},
})

func cmdSlowlog(c *cmdCtx) { dispatchSub(c, slowlogSubs) }

// logged returns the number of commands ever logged (the next id).
func (l *slowlog) logged() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(l.nextID)
}

func (l *slowlog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.logLocked())
}

func (l *slowlog) reset() {
	l.mu.Lock()
	l.resetLocked()
	l.mu.Unlock()
}

// slowlogGet is SLOWLOG GET [count]: the newest count entries (10 by
// default, -1 for all), newest first.
func slowlogGet(c *cmdCtx) {
	if len(c.argv) > 3 {
		c.errReply("unknown subcommand or wrong number of arguments for '" + clip(string(c.argv[1]), 128) + "'. Try SLOWLOG HELP.")
		return
	}
	count := int64(10)
	if len(c.argv) == 3 {
		n, ok := parseInt(c.argv[2])
		if !ok || n < -1 {
			c.errReply("count should be greater than or equal to -1")
			return
		}
		count = n
	}
	l := c.srv.slow
	l.mu.Lock()
	log := l.logLocked()
	n := int64(len(log))
	if count >= 0 && count < n {
		n = count
	}
	picked := make([]slowEntry, n)
	for i := range picked {
		picked[i] = log[len(log)-1-i]
	}
	l.mu.Unlock()
	c.w.Array(len(picked))
	for _, e := range picked {
		c.w.Array(6)
		c.w.Int(e.id)
		c.w.Int(e.unix)
		c.w.Int(e.micros)
		nargs := len(e.args)
		if e.truncArg > 0 {
			nargs++
		}
		c.w.Array(nargs)
		for _, a := range e.args {
			c.w.Bulk(a)
		}
		if e.truncArg > 0 {
			c.w.BulkString("... (" + strconv.Itoa(e.truncArg) + " more arguments)")
		}
		c.w.BulkString(e.addr)
		c.w.BulkString(e.name)
	}
}

func slowlogHelp(c *cmdCtx) {
	lines := strings.Split(`SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
GET [<count>]
    Return top <count> entries from the slowlog (default: 10, -1 mean all).
    Entries are made of:
    id, timestamp, time in microseconds, arguments array, client IP and port,
    client name
LEN
    Return the length of the slowlog.
RESET
    Reset the slowlog.
HELP
    Prints this help.`, "\n")
	c.w.Array(len(lines))
	for _, l := range lines {
		c.w.Simple(l)
	}
}
