package server

import (
	"bytes"
	"strconv"

	"github.com/ringdb/ringdb/transport/binproto"
)

// Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH, over RESP, with
// Redis 7.0's replies.
//
// After MULTI, serveRESP looks up and checks each command as usual, then
// queues a copy of it (queueTx) instead of running it. EXEC takes the
// execution gate exclusively (gate.go), so that no other command of any
// client runs meanwhile, checks the watched keys, and runs the queue,
// answering an array of the replies.
//
// WATCH is Redis 7.0's: EXEC answers a null array when a watched key was
// modified after WATCH, by any client, itself included, or expired or was
// evicted (watch.go).

// Transaction limits (docs/PROTOCOL.md, "Limits"). A command past them
// gets a LIMIT error and marks the transaction failed, as any rejected
// command does: EXEC then answers EXECABORT.
const (
	// maxTxCommands bounds the commands one MULTI may queue.
	maxTxCommands = 100_000
	// maxTxBytes bounds the memory one MULTI may queue: its arguments'
	// bytes plus txArgCost per argument and txCmdCost per command. It is
	// the binary protocol's largest frame, so one SET of a value of the
	// largest default size can be queued.
	maxTxBytes = 512<<20 + 1<<20
	txArgCost  = 24 // a slice header
	txCmdCost  = 48 // a queued entry and its argv header
	// maxWatchedKeys bounds the keys one connection may WATCH, a repeated
	// key counting each time it is named.
	maxWatchedKeys = 1024
)

// Replies, as Redis 7.0 words them.
const (
	msgNotInTx       = "Command not allowed inside a transaction"
	msgExecAbort     = "Transaction discarded because of previous errors."
	msgExecAbortWhy  = "Transaction discarded because of: "
	msgMultiNested   = "MULTI calls can not be nested"
	msgWatchInMulti  = "WATCH inside MULTI is not allowed"
	msgExecNoMulti   = "EXEC without MULTI"
	msgDiscardNoMult = "DISCARD without MULTI"
)

var (
	msgTxLimit    = "transaction queue limit reached (" + strconv.Itoa(maxTxCommands) + " commands or " + strconv.Itoa(maxTxBytes) + " bytes)"
	msgWatchLimit = "too many watched keys (" + strconv.Itoa(maxWatchedKeys) + " at most)"
)

// txState is a session's open transaction (MULTI until EXEC or DISCARD).
type txState struct {
	cmds  []queuedCmd
	bytes int  // charged against maxTxBytes
	dirty bool // a command was rejected: EXEC answers EXECABORT
	// writes says a queued command may write: a WRITE pause holds EXEC
	// back (pause.go), as Redis's does for a transaction with a write
	// among the commands it kept.
	writes bool
}

// queuedCmd is a command queued by MULTI, with its own copy of argv.
type queuedCmd struct {
	cmd  *command
	argv [][]byte
}

// watchedKey is a key the session watches.
type watchedKey struct {
	key []byte
	// existed says the key existed when WATCH registered it: EXEC aborts
	// when it is gone, removed by expiry or eviction (a command that
	// removes it touches it).
	existed bool
}

// flagTx marks the session's open transaction, if any, failed: a command
// was rejected while queuing.
func (s *session) flagTx() {
	if s.tx != nil {
		s.tx.dirty = true
	}
}

// unwatch forgets the session's watched keys: it takes them out of the
// registry, then clears the dirty flag, which no touch can set once they
// are out.
func (s *session) unwatch() {
	if len(s.watched) > 0 {
		reg := s.ctx.srv.watch
		for i := range s.watched {
			reg.remove(s, s.watched[i].key)
		}
		reg.watching.Add(-1)
	}
	clear(s.watched)
	if cap(s.watched) > 64 {
		s.watched = nil // do not keep 1,024 watches' room for life
	} else {
		s.watched = s.watched[:0]
	}
	s.watchDirty.Store(false)
}

// rejectArity answers a wrong argument count for cmd, as Redis's
// rejectCommand: the transaction is marked failed, and for EXEC itself,
// inside MULTI or not, the transaction is discarded with EXECABORT.
func (c *cmdCtx) rejectArity(cmd *command) {
	if isExec(cmd) {
		c.execAbort("wrong number of arguments for 'exec' command")
		return
	}
	c.sess.flagTx()
	c.arityErr(cmd.name)
}

// isExec reports whether cmd is RESP's EXEC.
func isExec(cmd *command) bool { return cmd.resp != nil && cmd.name == "exec" }

// execAbort answers an EXEC rejected before it ran (Redis's
// execCommandAbort, from rejectCommand): the transaction, if any, and the
// watched keys are discarded, and the error says why.
func (c *cmdCtx) execAbort(why string) {
	c.sess.tx = nil
	c.sess.multi.Store(0)
	c.sess.unwatch()
	c.w.ErrorPrefix(binproto.ClassErr, "EXECABORT", msgExecAbortWhy+why)
}

// queueTx queues argv, which names cmd, in the session's open transaction
// and answers QUEUED, or answers why it cannot be queued, marks the
// transaction failed and records the refusal in ctx (Redis's
// rejected_calls). It reports whether it answered QUEUED. argv is copied:
// the transport owns it. The limits are checked before anything is
// copied.
func (s *Server) queueTx(ctx *cmdCtx, cmd *command, argv [][]byte) bool {
	sess := ctx.sess
	tx := sess.tx
	flags := cmd.flags
	var sub *subcommand
	// COMMAND alone takes no subcommand: resolve one only when named, as
	// serveRESP's authentication check does.
	if cmd.subs != nil && len(argv) >= 2 {
		if sub = lookupSub(ctx, cmd.subs); sub == nil {
			tx.dirty = true // lookupSub answered: unknown subcommand or arity
			return false
		}
		flags |= sub.flags
	}
	if flags&(flagBlocking|flagNoMulti) != 0 {
		// Blocking commands run non-blocking inside a Redis EXEC; here
		// they would park in the middle of EXEC's reply, so they are
		// refused as Redis refuses its no-multi commands (SHUTDOWN,
		// CLIENT REPLY).
		tx.dirty = true
		ctx.refused = refusedCmd
		ctx.errReply(msgNotInTx)
		return false
	}
	if tx.dirty {
		// EXEC will discard it all: nothing is worth keeping.
		ctx.w.Simple("QUEUED")
		return true
	}
	args := 0
	for _, a := range argv {
		args += len(a)
	}
	cost := args + len(argv)*txArgCost + txCmdCost
	if len(tx.cmds) >= maxTxCommands || cost > maxTxBytes-tx.bytes {
		tx.dirty = true
		ctx.refused = refusedCmd
		ctx.w.Error(binproto.ClassLimit, msgTxLimit)
		return false
	}
	buf := make([]byte, 0, args)
	cp := make([][]byte, len(argv))
	for i, a := range argv {
		n := len(buf)
		buf = append(buf, a...)
		cp[i] = buf[n:len(buf):len(buf)]
	}
	tx.cmds = append(tx.cmds, queuedCmd{cmd: cmd, argv: cp})
	tx.bytes += cost
	tx.writes = tx.writes || cmd.flags&flagWrite != 0
	sess.multi.Store(int32(len(tx.cmds)) + 1)
	ctx.w.Simple("QUEUED")
	return true
}

// cmdMulti is MULTI.
func cmdMulti(c *cmdCtx) {
	if c.sess.tx != nil {
		c.errReply(msgMultiNested)
		return
	}
	c.sess.tx = &txState{}
	c.sess.multi.Store(1)
	c.w.OK()
}

// cmdDiscard is DISCARD: drop the queue and the watched keys.
func cmdDiscard(c *cmdCtx) {
	if c.sess.tx == nil {
		c.errReply(msgDiscardNoMult)
		return
	}
	c.sess.tx = nil
	c.sess.multi.Store(0)
	c.sess.unwatch()
	c.w.OK()
}

// cmdWatch is WATCH key [key ...].
func cmdWatch(c *cmdCtx) {
	sess := c.sess
	if sess.tx != nil {
		c.errReply(msgWatchInMulti)
		return
	}
	keys := c.argv[1:]
	if len(keys) > maxWatchedKeys-len(sess.watched) {
		c.w.Error(binproto.ClassLimit, msgWatchLimit)
		return
	}
	for _, k := range keys {
		if len(k) > c.srv.cfg.MaxKeySize {
			c.w.Error(binproto.ClassLimit, "key too large")
			return
		}
	}
	ks, reg := c.srv.ks, c.srv.watch
outer:
	for _, k := range keys {
		for i := range sess.watched {
			if bytes.Equal(sess.watched[i].key, k) {
				continue outer // watched already: the first WATCH holds
			}
		}
		if len(sess.watched) == 0 {
			reg.watching.Add(1) // before the first key is in: see watching
		}
		// Registered before it is looked at: a write either touches it
		// from now on or came before the look.
		reg.add(sess, k)
		exists, _ := ks.Meta(k)
		sess.watched = append(sess.watched, watchedKey{key: bytes.Clone(k), existed: exists})
	}
	c.w.OK()
}

// cmdUnwatch is UNWATCH.
func cmdUnwatch(c *cmdCtx) {
	c.sess.unwatch()
	c.w.OK()
}

// watchedSame reports whether no watched key was touched since WATCH and
// every one that existed then still does (it did not expire, nor was it
// evicted). It costs one lookup per watched key, whatever the values'
// sizes. REQUIRES: the execution gate held exclusively (no command can
// touch meanwhile).
func (s *session) watchedSame() bool {
	if s.watchDirty.Load() {
		return false
	}
	for i := range s.watched {
		if !s.watched[i].existed {
			continue
		}
		if exists, _ := s.ctx.srv.ks.Meta(s.watched[i].key); !exists {
			return false
		}
	}
	return true
}

// cmdExec is EXEC: run the queue with no other command running, or
// answer a null array when a watched key changed, or EXECABORT when a
// command was rejected while queuing.
func cmdExec(c *cmdCtx) {
	sess := c.sess
	tx := sess.tx
	if tx == nil {
		c.errReply(msgExecNoMulti)
		return
	}
	sess.tx = nil
	// CLIENT LIST shows the queue until it has run, as Redis does.
	defer sess.multi.Store(0)
	if tx.dirty {
		sess.unwatch()
		c.w.ErrorPrefix(binproto.ClassErr, "EXECABORT", msgExecAbort)
		return
	}
	if len(tx.cmds) == 0 && len(sess.watched) == 0 {
		c.w.Array(0)
		return
	}
	exec, argv := c.cmd, c.argv
	c.inExec = true
	c.srv.execLocked(c, tx.cmds)
	c.inExec = false
	c.execDone()
	c.cmd, c.argv, c.sub, c.oom = exec, argv, nil, false
	sess.unwatch()
}

// execLocked takes the execution gate exclusively, then checks the
// watched keys and runs cmds, writing EXEC's reply. The gate is given
// back (and c re-enters it) however the queue ends.
func (s *Server) execLocked(c *cmdCtx, cmds []queuedCmd) {
	had := c.gate != nil
	s.gate.lock(c.gate)
	c.gate = nil
	defer func() { c.gate = s.gate.unlock(had) }()
	// One instant for the whole transaction, as Redis's EXEC: no key
	// expires between two of its commands. The gate keeps every other
	// command out meanwhile.
	s.ks.FreezeClock()
	defer s.ks.ThawClock()
	if !c.sess.watchedSame() {
		c.w.NullArray()
		return
	}
	c.w.Array(len(cmds))
	for _, q := range cmds {
		s.runQueued(c, q.cmd, q.argv)
	}
	if s.met != nil {
		c.errsCounted = true
	}
}

// runQueued runs one queued command inside EXEC: its handler, then the
// counts serveRESP and serveCounted keep for a command run on its own.
// The slow log times EXEC as a whole.
func (s *Server) runQueued(c *cmdCtx, cmd *command, argv [][]byte) {
	c.cmd, c.argv, c.sub, c.refused, c.oom = cmd, argv, nil, notRefused, false
	sess := c.sess
	if s.met == nil {
		cmd.resp(c)
	} else {
		errs0, _ := c.w.Errors()
		cmd.resp(c)
		if n, _ := c.w.Errors(); n != errs0 {
			sess.countErr(s.errKeyOf(c))
		}
	}
	sess.countCmd(cmd, c.sub)
	if mons := s.mon.list.Load(); mons != nil {
		s.feedMonitors(c, *mons) // each as it runs, EXEC after them
	}
}
