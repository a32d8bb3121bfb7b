package server

import (
	"sync/atomic"
	"time"

	"github.com/ringdb/ringdb/stats"
	"github.com/ringdb/ringdb/transport"
	"github.com/ringdb/ringdb/transport/binproto"
)

// Per-command counters.
//
// Each session counts its own calls, one counter per command and per
// subcommand, and its own error replies (by command, refused or failed,
// class and reply prefix); nothing shared is written per request, so two
// event loops never touch the same cache line. The call counter replaces
// the session's plain command counter (session.countCmd), so counting per
// command costs no extra atomic operation, and errors are looked at only
// when the writer's error count moved. A scrape or an INFO sums the open
// sessions and the totals folded in from closed ones (cmdCountsNow). One
// command in stats.SampleEvery per session is timed into the latency
// histograms and into Server.timed, from which INFO commandstats
// estimates usec. Without a metrics endpoint (MetricsAddr "off") none of
// this runs.

// metricsOff is the MetricsAddr that disables the endpoint.
const metricsOff = "off"

// callCounts is a session's per-command call counters, by stat slot
// (commandTable.slot: a command, or a subcommand on its own). Each counter
// has one writer (the session's Serve calls, which never overlap) and is
// read by scrapes and INFO (each).
//
// Most clients use a handful of commands: the first len(few) distinct
// ones are counted in few, each word holding its slot plus one above
// callCountBits and its count below; the next ones in more, a table of
// such words made when few is full (a client library's connection
// setup, HELLO and CLIENT SETINFO, and a cache's GET, SET, DEL, EXPIRE,
// MGET and PING come to eight); and only a session that uses more than
// both hold gets a counter for every slot (all). A counter per slot from
// the first command (about 140 of them, 1.1 KB) made up a third of an
// idle connection's memory, which came to 1.6 times Redis's.
type callCounts struct {
	few  [6]atomic.Uint64
	more atomic.Pointer[moreCounts]
	all  atomic.Pointer[slotCounts]
}

// moreCounts holds the words of callCounts past few, a slot's word
// found by probing from slot % len(w).
type moreCounts struct {
	w [24]atomic.Uint64
}

// addWord counts a call of the slot tagged tag in word w, if w is free or
// that slot's and not full, and reports whether it did.
func addWord(w *atomic.Uint64, tag uint64) bool {
	switch v := w.Load(); {
	case v == 0:
		w.Store(tag<<callCountBits | 1)
		return true
	case v>>callCountBits == tag && v&callCountMax != callCountMax:
		w.Add(1)
		return true
	}
	return false
}

// slotCounts is a counter for every stat slot.
type slotCounts struct {
	n []atomic.Uint64
}

// callCountBits is the width of the count in a word of callCounts.few:
// 2^48 commands, nine years at a million a second, before it is full
// and the slot goes on in callCounts.all.
const (
	callCountBits = 48
	callCountMax  = 1<<callCountBits - 1
)

// add counts a call of stat slot i, of slots in all. Only the session's
// Serve calls call it.
func (cc *callCounts) add(i, slots int) {
	tag := uint64(i + 1)
	for j := range cc.few {
		if addWord(&cc.few[j], tag) {
			return
		}
	}
	m := cc.more.Load()
	if m == nil {
		m = new(moreCounts)
		cc.more.Store(m)
	}
	for k := range len(m.w) { // a free word ends the probe: it takes the call
		if addWord(&m.w[(i+k)%len(m.w)], tag) {
			return
		}
	}
	all := cc.all.Load()
	if all == nil {
		all = &slotCounts{n: make([]atomic.Uint64, slots)}
		cc.all.Store(all)
	}
	all.n[i].Add(1)
}

// each calls f with every slot counted and its count (a slot may come
// twice: from few and from all).
func (cc *callCounts) each(f func(slot int, n uint64)) {
	for j := range cc.few {
		v := cc.few[j].Load()
		if v == 0 {
			break
		}
		f(int(v>>callCountBits)-1, v&callCountMax)
	}
	if m := cc.more.Load(); m != nil {
		for j := range m.w {
			if v := m.w[j].Load(); v != 0 {
				f(int(v>>callCountBits)-1, v&callCountMax)
			}
		}
	}
	if all := cc.all.Load(); all != nil {
		for i := range all.n {
			if n := all.n[i].Load(); n != 0 {
				f(i, n)
			}
		}
	}
}

// errKey names an error counter: where the error reply went and what it
// said.
type errKey struct {
	// slot is the stat slot of the command refused or failed, or -1 for
	// a request that named no command (an unknown command or opcode, or a
	// binary request before HELLO): counted only in INFO errorstats and
	// total_error_replies, as Redis counts it.
	slot int
	// how is notRefused for a command that ran and answered an error
	// (Redis's failed_calls), refusedCmd for one refused before it ran
	// (rejected_calls), refusedUnknownSub for an unknown subcommand,
	// counted under its container on /metrics only.
	how    refusal
	class  binproto.Class
	prefix string // the reply's first word: ERR, WRONGTYPE, EXECABORT...
}

// timedSum is the sampled timing of one stat slot: how many of its calls
// were timed and their total time, which INFO commandstats' usec is
// estimated from. Sessions of every event loop add to it, but only on a
// timed call (one in stats.SampleEvery), which also takes the latency
// histogram's lock.
type timedSum struct {
	n, ns atomic.Uint64
}

// metricsState is the server's share of the counters: totals of closed
// sessions. REQUIRES: Server.sessMu held for every field.
type metricsState struct {
	calls []uint64
	errs  map[errKey]uint64
}

// newMetrics creates the stats endpoint unless cfg turns it off.
func (s *Server) newMetrics() {
	if s.cfg.MetricsAddr == metricsOff {
		return
	}
	s.met = stats.New(stats.Config{Addr: s.cfg.MetricsAddr, Pprof: s.cfg.Pprof}, s)
	names := make([]string, len(s.cmds.all))
	for i, c := range s.cmds.all {
		names[i] = c.name
	}
	s.lat = s.met.Latency(names)
	s.timed = make([]timedSum, s.cmds.slots())
	s.closed.calls = make([]uint64, s.cmds.slots())
	s.closed.errs = make(map[errKey]uint64)
}

// MetricsAddr returns the bound address of the metrics endpoint once Start
// has returned nil, or "" when it is off.
func (s *Server) MetricsAddr() string {
	if s.met == nil || s.met.Addr() == nil {
		return ""
	}
	return s.met.Addr().String()
}

// serveCounted is connHandler.Serve's dispatch with per-command counting.
// A request that succeeds costs two reads of the writer's error count and,
// one time in stats.SampleEvery, two clock reads.
func (h *connHandler) serveCounted(sess *session, c *transport.Conn, req *transport.Request, w *transport.Writer) {
	ctx := &sess.ctx
	errs0, _ := w.Errors()
	sess.tick++
	timed := sess.tick&(stats.SampleEvery-1) == 1
	var t0 time.Time
	if timed {
		t0 = time.Now()
	}
	h.dispatch(ctx, c, req)
	if timed && ctx.cmd != nil && ctx.refused == notRefused {
		// Only what ran: a request queued by MULTI has no cmd, and a
		// refused one did not run.
		d := time.Since(t0)
		h.s.lat.Observe(ctx.cmd.idx, d)
		t := &h.s.timed[h.s.cmds.slot(ctx.cmd, ctx.sub)]
		t.n.Add(1)
		t.ns.Add(uint64(d))
	}
	if ctx.errsCounted {
		ctx.errsCounted = false // EXEC counted its commands' errors (runQueued)
		return
	}
	if n, _ := w.Errors(); n != errs0 {
		sess.countErr(h.s.errKeyOf(ctx))
	}
}

// errKeyOf names the error reply the request in ctx has just been given.
// An unknown subcommand left ctx.sub nil: its error goes to the command.
func (s *Server) errKeyOf(ctx *cmdCtx) errKey {
	k := errKey{slot: -1, how: ctx.refused}
	if ctx.cmd != nil {
		k.slot = s.cmds.slot(ctx.cmd, ctx.sub)
	}
	_, k.class = ctx.w.Errors()
	k.prefix = ctx.w.LastErrorPrefix()
	return k
}

// countErr counts an error reply.
func (s *session) countErr(k errKey) {
	s.mu.Lock()
	if s.errs == nil {
		s.errs = make(map[errKey]uint64)
	}
	s.errs[k]++
	s.mu.Unlock()
}

// countCmd counts an executed command (past arity and authentication
// checks), or its subcommand sub when not nil: per command when the
// metrics endpoint is on, else only in s.cmds. Either way it is one
// uncontended atomic add: only the session's own Serve calls write these
// counters.
func (s *session) countCmd(cmd *command, sub *subcommand) {
	if s.ctx.srv.met == nil {
		s.cmds.Add(1)
		return
	}
	cc := s.calls.Load()
	if cc == nil {
		cc = new(callCounts)
		s.calls.Store(cc)
	}
	i := cmd.idx
	if sub != nil {
		i = s.ctx.srv.cmds.subSlot[sub]
	}
	cc.add(i, s.ctx.srv.cmds.slots())
}

// cmdCount returns the number of commands the session has executed.
func (s *session) cmdCount() uint64 {
	n := s.cmds.Load()
	if cc := s.calls.Load(); cc != nil {
		cc.each(func(_ int, c uint64) { n += c })
	}
	return n
}

// foldSessionLocked adds a closing session's counters to the closed
// totals. REQUIRES: s.sessMu held.
func (s *Server) foldSessionLocked(sess *session) {
	if s.met == nil {
		return
	}
	if cc := sess.calls.Load(); cc != nil {
		cc.each(func(i int, n uint64) { s.closed.calls[i] += n })
	}
	sess.mu.Lock()
	for k, v := range sess.errs {
		s.closed.errs[k] += v
	}
	sess.errs = nil
	sess.mu.Unlock()
}

// Sample implements stats.Source: it reads the keyspace, transport and
// command counters. It runs at scrape time only.
func (s *Server) Sample(snap *stats.Snapshot) {
	st := s.ks.Stats()
	ts := s.transportStats()
	snap.Hits, snap.Misses = st.Hits, st.Misses
	snap.BytesIn, snap.BytesOut = ts.BytesIn, ts.BytesOut
	snap.ConnectionsTotal = max(ts.ConnectionsTotal, s.connsTotal.Load())
	snap.Rejected = ts.Rejected
	snap.OutputBufferDisconnects = ts.OutputBufferDisconnects
	snap.Keys = st.Keys
	snap.KeysExpiring, snap.AvgTTLMillis = s.ks.ExpiryStats()
	snap.MemoryUsed, snap.MemoryLent = st.UsedBytes, st.LentBytes
	snap.MemoryMax = s.maxMemory.Load()
	snap.Evicted, snap.Expired = st.Evicted, st.Expired
	snap.SlowCommands = s.slow.logged()
	snap.CommandPanics = s.panics.Load()

	snap.Connected = s.connectedClients()

	// /metrics counts per command: a subcommand's counts go to its
	// container, and errors that named no command are left out.
	cs := s.cmdCountsNow()
	calls := make([]uint64, len(s.cmds.all))
	for i, n := range cs.calls {
		calls[s.cmds.slotCommand(i)] += n
	}
	type cmdClass struct {
		cmd   int
		class binproto.Class
	}
	errs := make(map[cmdClass]uint64)
	for k, v := range cs.errs {
		if k.slot >= 0 {
			errs[cmdClass{s.cmds.slotCommand(k.slot), k.class}] += v
		}
	}
	for i, n := range calls {
		if n > 0 {
			snap.Commands = append(snap.Commands, stats.CommandCount{Name: s.cmds.all[i].name, Calls: n})
		}
	}
	for k, v := range errs {
		snap.Errors = append(snap.Errors, stats.ErrorCount{Name: s.cmds.all[k.cmd].name, Class: k.class.String(), Count: v})
	}
}

// cmdCounts is the sum of every session's per-command counters, closed
// ones included.
type cmdCounts struct {
	calls []uint64 // by stat slot
	errs  map[errKey]uint64
}

// cmdCountsNow sums the per-command counters of the open sessions and
// those folded in from closed ones. Each only grows, so sums taken one
// after another do too.
func (s *Server) cmdCountsNow() cmdCounts {
	cs := cmdCounts{calls: make([]uint64, s.cmds.slots()), errs: make(map[errKey]uint64)}
	if s.met == nil {
		return cs
	}
	s.sessMu.Lock()
	copy(cs.calls, s.closed.calls)
	for k, v := range s.closed.errs {
		cs.errs[k] += v
	}
	for _, sess := range s.sessions.Items() {
		if cc := sess.calls.Load(); cc != nil {
			cc.each(func(i int, n uint64) { cs.calls[i] += n })
		}
		sess.mu.Lock()
		for k, v := range sess.errs {
			cs.errs[k] += v
		}
		sess.mu.Unlock()
	}
	s.sessMu.Unlock()
	return cs
}
