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
// Each session counts its own calls, one counter per command, and its own
// error replies; nothing shared is written per request, so two event loops
// never touch the same cache line. The call counter replaces the session's
// plain command counter (session.countCmd), so counting per command costs
// no extra atomic operation. A scrape sums the open sessions and the
// totals folded in from closed ones (Server.Sample). One command in
// stats.SampleEvery per session is timed into the latency histograms.
// Without a metrics endpoint (MetricsAddr "off") none of this runs.

// metricsOff is the MetricsAddr that disables the endpoint.
const metricsOff = "off"

// callCounts is a session's per-command call counters, indexed by
// command.idx. Each counter has one writer (the session's Serve calls, which
// never overlap) and is read by scrapes.
type callCounts struct {
	n []atomic.Uint64
}

// errKey names an error counter: command and error class.
type errKey struct {
	cmd   int
	class binproto.Class
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
	s.closed.calls = make([]uint64, len(s.cmds.all))
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
	cmd := ctx.cmd
	if cmd == nil {
		return
	}
	if timed {
		h.s.lat.Observe(cmd.idx, time.Since(t0))
	}
	if ctx.errsCounted {
		ctx.errsCounted = false // EXEC counted its commands' errors (runQueued)
		return
	}
	if n, class := w.Errors(); n != errs0 {
		sess.countErr(cmd.idx, class)
	}
}

// countErr counts a failed call of the command at idx, by error class.
func (s *session) countErr(idx int, class binproto.Class) {
	s.mu.Lock()
	if s.errs == nil {
		s.errs = make(map[errKey]uint64)
	}
	s.errs[errKey{idx, class}]++
	s.mu.Unlock()
}

// countCmd counts an executed command (past arity and authentication
// checks): per command when the metrics endpoint is on, else only in
// s.cmds. Either way it is one uncontended atomic add: only the session's
// own Serve calls write these counters.
func (s *session) countCmd(cmd *command) {
	if s.srv.met == nil {
		s.cmds.Add(1)
		return
	}
	cc := s.calls.Load()
	if cc == nil {
		cc = &callCounts{n: make([]atomic.Uint64, len(s.srv.cmds.all))}
		s.calls.Store(cc)
	}
	cc.n[cmd.idx].Add(1)
}

// cmdCount returns the number of commands the session has executed.
func (s *session) cmdCount() uint64 {
	n := s.cmds.Load()
	if cc := s.calls.Load(); cc != nil {
		for i := range cc.n {
			n += cc.n[i].Load()
		}
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
		for i := range cc.n {
			s.closed.calls[i] += cc.n[i].Load()
		}
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
	snap.MemoryUsed = st.UsedBytes
	snap.MemoryMax = s.maxMemory.Load()
	snap.Evicted, snap.Expired = st.Evicted, st.Expired
	snap.SlowCommands = s.slow.logged()
	snap.CommandPanics = s.panics.Load()

	calls := make([]uint64, len(s.cmds.all))
	errs := make(map[errKey]uint64)
	s.sessMu.Lock()
	snap.Connected = max(ts.Connected, int64(len(s.sessions))) - int64(s.killedOpen)
	copy(calls, s.closed.calls)
	for k, v := range s.closed.errs {
		errs[k] += v
	}
	for _, sess := range s.sessions {
		if cc := sess.calls.Load(); cc != nil {
			for i := range cc.n {
				calls[i] += cc.n[i].Load()
			}
		}
		sess.mu.Lock()
		for k, v := range sess.errs {
			errs[k] += v
		}
		sess.mu.Unlock()
	}
	s.sessMu.Unlock()

	for i, n := range calls {
		if n > 0 {
			snap.Commands = append(snap.Commands, stats.CommandCount{Name: s.cmds.all[i].name, Calls: n})
		}
	}
	for k, v := range errs {
		snap.Errors = append(snap.Errors, stats.ErrorCount{Name: s.cmds.all[k.cmd].name, Class: k.class.String(), Count: v})
	}
}
