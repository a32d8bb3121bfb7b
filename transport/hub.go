package transport

import (
	"sync"
	"sync/atomic"
	"time"
)

// Server lifecycle states, shared by the transports.
const (
	stateNew int32 = iota
	stateServing
	stateClosed
)

// connIDs numbers connections; ids are unique per process (CLIENT ID).
var connIDs atomic.Uint64

// hub is the state one server shares with all its connections: settings,
// the handler, the client count and the registry used by Shutdown.
type hub struct {
	*settings
	h Handler

	epoch   time.Time    // time origin of now
	active  atomic.Int64 // open connections, refused ones excluded (MaxClients)
	closing atomic.Bool  // Shutdown has begun

	// MaxClients and IdleTimeout as they are now (CONFIG SET changes
	// them); idleFrom is now() when SetIdleTimeout last changed the
	// timeout, so a connection is idle only from then on.
	maxClients  atomic.Int64
	idleTimeout atomic.Int64 // nanoseconds; 0: off
	idleFrom    atomic.Int64
	// The output-buffer limits as they are now (CONFIG SET
	// client-output-buffer-limit changes them): bytes, <= 0 for none, and
	// the soft limit's period in nanoseconds.
	outHard, outSoft, outSoftNs atomic.Int64

	// The registry: every open connection, in a list through
	// connState.regPrev/regNext (a map took some 30 bytes per connection,
	// and as much again in the tables it outgrew).
	mu     sync.Mutex
	conns  *connState // the first. REQUIRES: mu
	nconns int        // REQUIRES: mu
}

func newHub(cfg Config) *hub {
	h := &hub{
		settings: newSettings(cfg),
		epoch:    time.Now(),
	}
	h.maxClients.Store(int64(h.cfg.MaxClients))
	h.idleTimeout.Store(int64(h.cfg.IdleTimeout))
	h.SetOutputLimits(h.cfg.OutputHardLimit, h.cfg.OutputSoftLimit, h.cfg.OutputSoftSeconds)
	return h
}

// SetOutputLimits changes the output-buffer limits at run time (CONFIG
// SET client-output-buffer-limit): hard and soft in bytes, <= 0 for no
// limit, and how long a client may stay over soft. They apply to every
// connection from its next check, and the sweeps that enforce the soft
// period follow it from their next interval (sweepInterval).
func (h *hub) SetOutputLimits(hard, soft int64, softFor time.Duration) {
	h.outHard.Store(hard)
	h.outSoft.Store(soft)
	h.outSoftNs.Store(int64(max(softFor, 0)))
}

// OutputLimits returns the output-buffer limits as SetOutputLimits last
// set them.
func (h *hub) OutputLimits() (hard, soft int64, softFor time.Duration) {
	return h.outHard.Load(), h.outSoft.Load(), h.outSoftFor()
}

// outSoftFor is how long a client may stay over the soft output limit.
func (h *hub) outSoftFor() time.Duration { return time.Duration(h.outSoftNs.Load()) }

// SetMaxClients changes MaxClients at run time (CONFIG SET maxclients).
// Connections already open stay, as in Redis; new ones past n are refused.
// n <= 0 means no limit.
func (h *hub) SetMaxClients(n int) { h.maxClients.Store(int64(n)) }

// SetIdleTimeout changes IdleTimeout at run time (CONFIG SET timeout); 0
// turns it off. Every open connection gets the whole new timeout from now.
func (h *hub) SetIdleTimeout(d time.Duration) {
	h.idleFrom.Store(h.now())
	h.idleTimeout.Store(int64(max(d, 0)))
	for _, cs := range h.snapshot() {
		cs.mu.Lock()
		if !cs.closed {
			cs.tr.idleChanged()
		}
		cs.mu.Unlock()
	}
}

// sweepInterval is how long a housekeeping sweep waits for the next: a
// quarter of the idle timeout and of the soft output limit's period as
// they are now (CONFIG SET changes both), so that either is overshot by
// a quarter at most (once the sweep already scheduled when they changed
// has run), within [minTick, the interval chosen at start]. Set
// at run time to 1 s, a soft period was overshot by the whole interval
// chosen for the 60 s at start (one second).
func (h *hub) sweepInterval() time.Duration {
	d := h.tick
	if t := h.idleTimeoutNow() / 4; t > 0 && t < d {
		d = t
	}
	if t := h.outSoftFor() / 4; h.outSoft.Load() > 0 && t < d {
		d = t
	}
	return max(d, minTick)
}

// idleTimeoutNow returns the idle timeout as SetIdleTimeout last set it.
func (h *hub) idleTimeoutNow() time.Duration { return time.Duration(h.idleTimeout.Load()) }

// now returns monotonic nanoseconds since the hub was made.
func (h *hub) now() int64 { return int64(time.Since(h.epoch)) }

// admit counts a new connection against MaxClients and reports whether it
// may stay.
func (h *hub) admit() bool {
	n := h.active.Add(1)
	if m := h.maxClients.Load(); m > 0 && n > m {
		h.active.Add(-1)
		return false
	}
	return true
}

// overOpen reports whether a new connection would take the open connections,
// refused ones included, past MaxOpen: it is then closed at once, before
// it holds a file descriptor the process needs.
func (h *hub) overOpen() bool {
	return h.cfg.MaxOpen > 0 && h.count() >= h.cfg.MaxOpen
}

// register adds cs to the registry; once Shutdown has begun, cs is asked to
// close at once, so that no connection slips past Shutdown's snapshot.
func (h *hub) register(cs *connState) {
	h.mu.Lock()
	h.link(cs)
	h.mu.Unlock()
	if h.closing.Load() {
		cs.requestClose(shutdownClass, shutdownMsg)
	}
}

// unregister removes cs from the registry.
func (h *hub) unregister(cs *connState) {
	h.mu.Lock()
	h.unlink(cs)
	h.mu.Unlock()
}

// link adds cs to the registry. REQUIRES: h.mu held; cs not in it.
func (h *hub) link(cs *connState) {
	cs.regPrev, cs.regNext = nil, h.conns
	if h.conns != nil {
		h.conns.regPrev = cs
	}
	h.conns = cs
	h.nconns++
}

// unlink removes cs from the registry, if it is in it. REQUIRES: h.mu
// held.
func (h *hub) unlink(cs *connState) {
	if cs.regPrev == nil && h.conns != cs {
		return // not in it
	}
	if cs.regPrev != nil {
		cs.regPrev.regNext = cs.regNext
	} else {
		h.conns = cs.regNext
	}
	if cs.regNext != nil {
		cs.regNext.regPrev = cs.regPrev
	}
	cs.regPrev, cs.regNext = nil, nil
	h.nconns--
}

// snapshot returns the registered connections.
func (h *hub) snapshot() []*connState {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*connState, 0, h.nconns)
	for cs := h.conns; cs != nil; cs = cs.regNext {
		out = append(out, cs)
	}
	return out
}

// count returns the number of registered connections.
func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nconns
}

// closeAll asks every registered connection to close after its in-flight
// replies (Shutdown's first step).
func (h *hub) closeAll() {
	for _, cs := range h.snapshot() {
		cs.requestClose(shutdownClass, shutdownMsg)
	}
}

// abortAll closes every registered connection at once (Shutdown's last
// resort when its context ends).
func (h *hub) abortAll() {
	for _, cs := range h.snapshot() {
		cs.mu.Lock()
		if !cs.closed {
			cs.closing = true
			cs.tr.abort()
		}
		cs.mu.Unlock()
	}
}
