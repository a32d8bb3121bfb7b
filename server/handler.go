package server

import (
	"fmt"
	"runtime/debug"
	"strconv"

	"github.com/ringdb/ringdb/transport"
	"github.com/ringdb/ringdb/transport/binproto"
)

// connHandler is the server's transport.Handler.
type connHandler struct {
	s *Server
}

// Prefetch brings the keys of a pipelined batch into cache before the
// batch runs (transport.Prefetcher). Keys of commands that take none are
// looked up too, harmlessly: nothing is counted or changed.
func (h *connHandler) Prefetch(c *transport.Conn, keys [][]byte) {
	h.s.ks.Prefetch(keys)
}

// Open creates the connection's session.
func (h *connHandler) Open(c *transport.Conn) error {
	s := h.s
	now := s.now()
	sess := &session{
		created: now,
		authed:  s.token() == "",
	}
	sess.ctx = cmdCtx{srv: s, sess: sess, conn: c}
	sess.restrict()
	sess.resp.Store(2)
	sess.lastActive.Store(now)
	c.SetSession(sess)
	s.connsTotal.Add(1)
	s.sessMu.Lock()
	s.sessions.Add(sess)
	s.sessMu.Unlock()
	return nil
}

// Close forgets the connection's session.
func (h *connHandler) Close(c *transport.Conn) {
	sess, ok := c.Session().(*session)
	if !ok {
		return
	}
	sess.stopTimers()
	s := h.s
	s.stopMonitor(sess)
	s.dropPaused(sess)
	s.waits.drop(sess)
	sess.unwatch() // out of the registry: nothing left behind
	s.sessMu.Lock()
	if s.sessions.Remove(sess) {
		if sess.killed.Load() {
			s.killedOpen--
		}
		s.closedCmds.Add(sess.cmdCount())
		s.foldSessionLocked(sess)
	}
	s.sessMu.Unlock()
}

// Serve dispatches one request to its command.
func (h *connHandler) Serve(c *transport.Conn, req *transport.Request, w *transport.Writer) {
	sess, ok := c.Session().(*session)
	if !ok {
		w.Error(binproto.ClassErr, "connection has no session")
		return
	}
	ctx := &sess.ctx
	ctx.w = w
	ctx.gate = h.s.gate.enter() // EXEC may leave it and enter another
	defer h.finish(ctx)
	ctx.quiet = sess.replyOff || sess.replySkip
	mark := len(w.Bytes())
	if h.s.met != nil {
		h.serveCounted(sess, c, req, w)
	} else {
		h.dispatch(ctx, c, req)
	}
	// CLIENT REPLY, as Redis's resetClient: the reply of a request run
	// while replies are off, or skipped, is dropped (unless the request
	// turned them on again: CLIENT REPLY ON answers); a SKIP applies to
	// the request after its own.
	if ctx.quiet && (sess.replyOff || sess.replySkip) {
		w.Truncate(mark)
	}
	if !ctx.postponed { // a postponed request is served again: SKIP is its
		sess.replySkip, sess.replySkipNext = sess.replySkipNext, false
		sess.syncMuted()
	}
}

// finish ends Serve: it leaves the gate and clears the request from the
// context, and, unless CrashOnPanic is set, recovers a panicking command:
// it is logged with its stack and counted, and its connection aborted
// (whatever the command had written of its reply is dropped).
func (h *connHandler) finish(ctx *cmdCtx) {
	if !h.s.cfg.CrashOnPanic {
		if r := recover(); r != nil {
			name := "?"
			if ctx.cmd != nil {
				name = ctx.cmd.name
			}
			h.s.panics.Add(1)
			h.s.log.Error("command panicked: closing its connection", "command", name, "client", ctx.sess.addr(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			ctx.conn.Abort()
		}
	}
	if ctx.gate != nil {
		h.s.gate.exit(ctx.gate)
	}
	ctx.w, ctx.argv, ctx.args, ctx.cmd, ctx.gate = nil, nil, nil, nil, nil
	ctx.sub, ctx.refused, ctx.postponed, ctx.oom = nil, notRefused, false, false
}

// dispatch runs req in the protocol of c.
func (h *connHandler) dispatch(ctx *cmdCtx, c *transport.Conn, req *transport.Request) {
	if c.Proto() == transport.ProtoBinary {
		h.s.serveBinary(ctx, req)
	} else {
		h.s.serveRESP(ctx, req.Argv)
	}
}

// serveRESP runs a RESP command: lookup, arity, authentication, handler,
// in Redis's order.
func (s *Server) serveRESP(ctx *cmdCtx, argv [][]byte) {
	ctx.bin = false
	if len(argv) == 0 {
		ctx.errReply("empty command")
		return
	}
	sess := ctx.sess
	if isCrossProtocol(argv[0]) {
		s.refuseCrossProtocol(ctx)
		return
	}
	cmd := s.cmds.lookup(argv[0])
	// Recorded at lookup, before any refusal, as Redis records its
	// lastcmd: CLIENT LIST shows a refused command as itself (lookupSub
	// refines a container's to its subcommand), an unknown one as NULL.
	sess.lastActive.Store(s.clockSec.Load())
	if cmd == nil {
		sess.lastCmd.Store(&noCmd)
		sess.flagTx()
		ctx.errReply(unknownCommandMsg(argv))
		return
	}
	sess.lastCmd.Store(&cmd.name)
	ctx.cmd, ctx.argv = cmd, argv
	if !arityOK(cmd.arity, len(argv)) {
		ctx.refused = refusedCmd
		ctx.rejectArity(cmd)
		return
	}
	if sess.restricting && sess.authed {
		sess.restricting = false
		sess.ctx.conn.RestrictUntil(nil) // authenticated for good
	}
	if !sess.authed && cmd.flags&flagNoAuth == 0 && s.token() != "" {
		ctx.refused = refusedCmd
		if isExec(cmd) {
			// Redis's rejectCommand: EXEC's refusal is EXECABORT's.
			ctx.execAbort("NOAUTH " + msgNoAuth)
			return
		}
		sess.flagTx()
		// Redis resolves a subcommand, and checks its arity, first.
		if cmd.subs == nil || len(argv) < 2 || lookupSub(ctx, cmd.subs) != nil {
			ctx.w.Error(binproto.ClassNoAuth, msgNoAuth)
		}
		return
	}
	if sess.monitor && s.monitorRefuses(ctx, cmd, argv) {
		return
	}
	// After the refusals Redis makes first, before MULTI queues: a pause
	// holds queued commands back too.
	if pm := s.pause.mode.Load(); pm != pauseOff && s.holdPaused(ctx, cmd, pm) {
		ctx.cmd, ctx.postponed = nil, true // not run: nothing to count
		return
	}
	if sess.tx != nil && cmd.flags&flagTxCtl == 0 {
		if s.queueTx(ctx, cmd, argv) {
			ctx.cmd = nil // queued, not run: nothing to count
		}
		return
	}
	m := s.slowBegin(ctx, cmd)
	cmd.resp(ctx)
	s.slowEnd(ctx, cmd, m)
	if ctx.refused == notRefused { // lookupSub may have refused it
		sess.countCmd(cmd, ctx.sub) // after it ran, as Redis counts: INFO does not count itself
	}
	if mons := s.mon.list.Load(); mons != nil {
		s.feedMonitors(ctx, *mons) // after it ran, as Redis 7.0 shows it
	}
}

// noCmd is what CLIENT LIST shows as the last command of a client whose
// last command was unknown, or has run none yet, as Redis does.
var noCmd = "NULL"

// isCrossProtocol reports whether name, a RESP command's name, is POST or
// Host: (any case, up to a NUL, as strcasecmp reads it): what a browser
// made to send an HTTP request to the port sends first. Only a RESP
// connection can see them; a binary one starts with 0xB1.
func isCrossProtocol(name []byte) bool {
	return eqFold(name, "post") || eqFold(name, "host:")
}

// refuseCrossProtocol is Redis's securityWarningCommand: a web page can
// make a browser POST to a loopback port, and its request line and headers
// would reach the server as inline commands, its body as more of them. The
// connection is closed at once, without a reply, and nothing sent after it
// runs (Redis also drops the replies it has not written yet; the gnet
// transport may still send those of the same read). It is not counted as
// a command or an error; a warning is logged at most once a minute.
func (s *Server) refuseCrossProtocol(ctx *cmdCtx) {
	if now, last := s.now(), s.crossProtoLogged.Load(); now-last > 60 && s.crossProtoLogged.CompareAndSwap(last, now) {
		s.log.Warn("possible security attack: a client sent POST or Host:, as a web browser sends an HTTP request; connection closed (cross-protocol scripting)", "client", ctx.sess.addr())
	}
	ctx.conn.Close() // serves nothing more of the connection's input
	ctx.conn.Abort() // and closes it now
}

// serveBinary runs a binary-protocol request (docs/PROTOCOL.md §5, §7).
func (s *Server) serveBinary(ctx *cmdCtx, req *transport.Request) {
	ctx.bin = true
	sess := ctx.sess
	if req.Fault != nil {
		// A body the transport could not read: refused before it ran,
		// counted under its command (metrics, INFO errorstats), answered
		// even before HELLO, as the transport answered it itself before.
		ctx.cmd = s.cmds.lookupOp(req.Op)
		ctx.refused = refusedCmd
		ctx.w.Fault(req.Fault)
		return
	}
	if !sess.helloDone && req.Op != binproto.OpHello {
		ctx.w.Error(binproto.ClassProto, "HELLO required")
		ctx.conn.Close()
		return
	}
	cmd := s.cmds.lookupOp(req.Op)
	if cmd == nil {
		ctx.errReply("unknown opcode 0x" + strconv.FormatUint(uint64(req.Op)|0x10000, 16)[1:])
		return
	}
	ctx.cmd = cmd
	n := len(req.Args)
	if n < cmd.binMin || cmd.binMax >= 0 && n > cmd.binMax {
		ctx.refused = refusedCmd
		ctx.arityErr(cmd.name)
		return
	}
	sess.lastCmd.Store(&cmd.name)
	sess.lastActive.Store(s.clockSec.Load())
	ctx.args = req.Args
	if pm := s.pause.mode.Load(); pm != pauseOff && s.holdPaused(ctx, cmd, pm) {
		ctx.cmd, ctx.postponed = nil, true // not run: nothing to count
		return
	}
	m := s.slowBegin(ctx, cmd)
	cmd.bin(ctx)
	s.slowEnd(ctx, cmd, m)
	sess.countCmd(cmd, nil) // after it ran, as Redis counts
	if mons := s.mon.list.Load(); mons != nil {
		s.feedMonitors(ctx, *mons)
	}
}
