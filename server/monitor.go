package server

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringdb/ringdb/transport"
	"github.com/ringdb/ringdb/transport/binproto"
)

// MONITOR, as Redis 7.0 serves it (checked against redis-server 7.0.15):
//
//   - After +OK the connection receives, as a status line, every command
//     any client runs, once it has run: "+<unix secs>.<micros> [0 <addr>]
//     "name" "arg" ...", each argument quoted and escaped as sdscatrepr
//     does. Commands refused before they run (unknown, wrong arity,
//     NOAUTH, queued by MULTI) are not shown; those EXEC runs are, each
//     as it runs and then EXEC itself. A write refused with OOM is not
//     shown either: Redis refuses it before it runs (here it fails in
//     the keyspace, having changed nothing). Admin commands and subcommands
//     (CONFIG GET, CLIENT LIST, SLOWLOG, SHUTDOWN, MONITOR...) are never
//     shown. The passwords of AUTH and HELLO ... AUTH show as
//     "(redacted)".
//   - A monitor may still run commands that do not touch the keyspace
//     (PING, INFO, CLIENT ..., RESET, QUIT), and sees them too; a read or
//     a write is refused with "Replica can't interact with the keyspace".
//     A second MONITOR gets no reply, as in Redis. RESET and QUIT end the
//     monitoring; MONITOR inside MULTI fails at EXEC. A monitor is never
//     closed for idleness.
//   - Commands of binary-protocol clients are shown under their command
//     name; the binary protocol has no MONITOR (docs/PROTOCOL.md).
//   - A monitor whose replies are off (CLIENT REPLY OFF) gets no lines
//     until CLIENT REPLY ON, not even that of its own OFF; after CLIENT
//     REPLY SKIP (whose own line it gets) none until its next command
//     has run, that command's line included: Redis's addReply drops a
//     monitor line as it drops a reply. The lines missed are lost.
//
// The line is formatted once per command, on the goroutine that ran it,
// and handed to each monitor with transport.Conn.Push: it never blocks,
// and a monitor that does not read is disconnected by the output-buffer
// limits like any client, so the server holds at most the hard limit for
// it. Redis counts a monitor as a normal client, whose default limits are
// off; here every client has them.

// msgMonitorKeyspace is Redis's refusal of a read or write sent by a
// monitor (a replica, to Redis).
const msgMonitorKeyspace = "Replica can't interact with the keyspace"

// monitorHub is the server's list of monitoring sessions.
type monitorHub struct {
	_ [64]byte // off the cache line of the Server's written fields
	// list holds the monitors, copy-on-write, and is nil when there are
	// none: with no monitor, all a command pays is one atomic load of
	// this read-mostly word (and a test of its own session's monitor
	// flag, a field the connection owns).
	list atomic.Pointer[[]*session]
	_    [56]byte
	mu   sync.Mutex // serialises changes to list
}

// add makes sess a monitor.
func (m *monitorHub) add(sess *session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var next []*session
	if old := m.list.Load(); old != nil {
		next = append(next, *old...)
	}
	next = append(next, sess)
	m.list.Store(&next)
}

// remove stops sess's monitoring.
func (m *monitorHub) remove(sess *session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.list.Load()
	if old == nil {
		return
	}
	next := make([]*session, 0, len(*old))
	for _, s := range *old {
		if s != sess {
			next = append(next, s)
		}
	}
	if len(next) == 0 {
		m.list.Store(nil)
		return
	}
	m.list.Store(&next)
}

// has reports whether sess monitors (CLIENT LIST's flag O). Safe from
// any goroutine.
func (m *monitorHub) has(sess *session) bool {
	if l := m.list.Load(); l != nil {
		for _, s := range *l {
			if s == sess {
				return true
			}
		}
	}
	return false
}

// cmdMonitor is MONITOR.
func cmdMonitor(c *cmdCtx) {
	sess := c.sess
	switch {
	case c.inExec:
		// Redis refuses it to a client that expects one reply per
		// command (CLIENT_DENY_BLOCKING, which MULTI sets).
		c.errReply("MONITOR isn't allowed for DENY BLOCKING client")
	case sess.monitor:
		// Redis ignores a second MONITOR, without a reply.
	default:
		sess.monitor = true
		c.conn.SetIdleExempt(true) // as Redis spares its monitors
		c.srv.mon.add(sess)
		c.w.OK()
	}
}

// stopMonitor ends sess's monitoring, if it monitors: RESET, QUIT, a
// CLIENT KILL of itself, or the connection closing. After QUIT nothing
// more is written to the connection, as in Redis: its own QUIT is not
// shown to it. Call only from sess's own Serve or Close.
func (s *Server) stopMonitor(sess *session) {
	if sess.monitor {
		sess.monitor = false
		sess.ctx.conn.SetIdleExempt(false)
		s.mon.remove(sess)
	}
}

// monitorRefuses answers the refusal of a read or write sent by a
// monitor, as Redis refuses it to a replica, and reports whether it did.
// A container's subcommand is resolved first, as Redis resolves it
// before the check (an unknown one gets that error instead).
func (s *Server) monitorRefuses(ctx *cmdCtx, cmd *command, argv [][]byte) bool {
	flags := cmd.flags
	if cmd.subs != nil && len(argv) >= 2 {
		sub := lookupSub(ctx, cmd.subs)
		if sub == nil {
			ctx.sess.flagTx()
			return true // lookupSub answered
		}
		flags |= sub.flags
	}
	if flags&(flagRead|flagWrite) == 0 {
		return false
	}
	ctx.refused = refusedCmd
	ctx.sess.flagTx()
	ctx.errReply(msgMonitorKeyspace)
	return true
}

// feedMonitors shows the command ctx has just run to the monitors mons
// (not empty), unless it is not shown: refused before it ran (or with
// OOM, which Redis answers before running it), or admin. The line is
// formatted once, and each monitor gets a copy through Conn.Push, which
// never blocks. A monitor over its output limit is disconnected by Push,
// and its Close removes it from the list.
func (s *Server) feedMonitors(ctx *cmdCtx, mons []*session) {
	cmd := ctx.cmd
	if cmd == nil || ctx.refused != notRefused || ctx.oom {
		return
	}
	flags := cmd.flags
	if ctx.sub != nil {
		flags |= ctx.sub.flags
	}
	if flags&flagAdmin != 0 {
		return
	}
	line, ok := monitorLine(ctx, time.Now(), s.cfg.OutputHardLimit)
	if !ok {
		// No monitor could take it: Push would disconnect each one.
		// Disconnect them without building a line that may be four
		// times the size of a 512 MiB argument.
		for _, m := range mons {
			s.log.Warn("monitor disconnected: a command's line is over the output buffer limit", "client", m.addr(), "id", m.id(), "command", cmd.name)
			m.ctx.conn.Abort()
		}
		return
	}
	write := func(w *transport.Writer) { w.Simple(line) }
	now := s.clockSec.Load()
	for _, m := range mons {
		if m.muted.Load() {
			continue // CLIENT REPLY OFF or SKIP: no line, as no reply
		}
		err := m.ctx.conn.Push(0, write)
		if errors.Is(err, transport.ErrOutputLimit) {
			s.log.Warn("monitor disconnected: output buffer limit reached", "client", m.addr(), "id", m.id())
		} else if err == nil && m.lastActive.Load() != now {
			// Output is interaction, as Redis counts it: a monitor
			// receiving lines is not idle in CLIENT LIST. Stored once a
			// second at most, so that commands on every core do not
			// keep writing the monitor's cache line.
			m.lastActive.Store(now)
		}
	}
}

// monitorLine returns the monitor line of the command in ctx, run at now,
// without the status line's + and CRLF: "<secs>.<micros> [0 <addr>]
// "name" "arg" ...". It measures the line first and allocates it once,
// at its size; a line that would not fit in limit bytes of output (with
// + and CRLF) is not built, and ok is false.
func monitorLine(ctx *cmdCtx, now time.Time, limit int64) (line string, ok bool) {
	var head [80]byte
	h := appendMonitorHead(head[:0], now, ctx.sess)
	var size lineWriter
	size.args(ctx)
	if n := int64(len(h)) + int64(size.n); n+3 > limit {
		return "", false
	}
	var sb strings.Builder
	sb.Grow(len(h) + size.n)
	sb.Write(h)
	w := lineWriter{sb: &sb}
	w.args(ctx)
	return sb.String(), true
}

// appendMonitorHead appends a monitor line's time and client, Redis's
// "<secs>.<micros> [<db> <addr>] " (the leading + is the status line's).
func appendMonitorHead(b []byte, now time.Time, sess *session) []byte {
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := now.Nanosecond() / 1000
	for d := 100000; d > 1 && us < d; d /= 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(us), 10)
	b = append(b, " [0 "...)
	n := len(b)
	if b = sess.appendAddr(b); len(b) == n {
		b = append(b, "?:0"...) // Redis's address of a peer it cannot name
	}
	return append(b, "] "...)
}

// lineWriter writes the arguments of a monitor line to sb, or, with sb
// nil, only counts their bytes in n: the same walk measures the line and
// then writes it.
type lineWriter struct {
	sb *strings.Builder
	n  int
}

func (w *lineWriter) byte(c byte) {
	if w.sb == nil {
		w.n++
		return
	}
	w.sb.WriteByte(c)
}

func (w *lineWriter) str(s string) {
	if w.sb == nil {
		w.n += len(s)
		return
	}
	w.sb.WriteString(s)
}

// redacted is what a monitor sees for a password, quoted.
const redacted = `"(redacted)"`

// args writes the command in ctx: a RESP command's arguments as sent, or
// a binary request's command name and arguments.
func (w *lineWriter) args(ctx *cmdCtx) {
	if ctx.bin {
		w.binary(ctx.cmd, ctx.args)
	} else {
		w.resp(ctx.argv)
	}
}

// resp writes a RESP command's arguments, quoted, the passwords of AUTH
// and HELLO ... AUTH redacted as the slow log redacts them (redactRESP).
//
// Redis redacts a password as the command reads it, so on some error
// paths it shows one in the clear: AUTH with more than two arguments (a
// syntax error), HELLO whose version, or an option before the AUTH one,
// is refused. ringdb hides every argument of AUTH and the user and
// password of every AUTH option of HELLO, whatever becomes of the
// command.
func (w *lineWriter) resp(argv [][]byte) {
	hide := redactRESP(argv)
	for i, a := range argv {
		if i > 0 {
			w.byte(' ')
			if hide != nil && hide(i) {
				w.str(redacted)
				continue
			}
		}
		w.repr(a)
	}
}

// binary writes a binary request as a RESP monitor sees it: the
// command's name, then its arguments (INT in decimal, quoted, as Redis
// shows an integer; NULL as (nil), unquoted, which no RESP argument can
// show), HELLO's redacted as in the slow log (binRedact).
func (w *lineWriter) binary(cmd *command, args []binproto.Value) {
	hide := binRedact(cmd)
	w.byte('"')
	w.str(cmd.name) // lower-case letters, digits and dots: nothing to escape
	w.byte('"')
	var num [20]byte
	for i, a := range args {
		w.byte(' ')
		switch {
		case hide != nil && hide(i+1):
			w.str(redacted)
		case a.Kind == binproto.KindInt:
			w.byte('"')
			w.str(string(strconv.AppendInt(num[:0], a.Int, 10)))
			w.byte('"')
		case a.Kind == binproto.KindNull:
			w.str("(nil)")
		default:
			w.repr(a.Bytes)
		}
	}
}

// repr writes p quoted and escaped as Redis's sdscatrepr: \\, \",
// \n, \r, \t, \a, \b, printable ASCII as is, any other byte as \xhh.
func (w *lineWriter) repr(p []byte) {
	const hex = "0123456789abcdef"
	w.byte('"')
	for _, c := range p {
		switch c {
		case '\\', '"':
			w.byte('\\')
			w.byte(c)
		case '\n':
			w.str(`\n`)
		case '\r':
			w.str(`\r`)
		case '\t':
			w.str(`\t`)
		case '\a':
			w.str(`\a`)
		case '\b':
			w.str(`\b`)
		default:
			if c >= ' ' && c <= '~' {
				w.byte(c)
			} else {
				w.str(`\x`)
				w.byte(hex[c>>4])
				w.byte(hex[c&15])
			}
		}
	}
	w.byte('"')
}
