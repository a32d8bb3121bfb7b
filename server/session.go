package server

import (
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringdb/ringdb/internal/bufpool"
	"github.com/ringdb/ringdb/transport"
)

// maxKeptBuffer bounds the scratch buffers a session keeps between
// requests, so that one large value does not pin its size for the life of
// the connection.
const maxKeptBuffer = 64 << 10

// session is the server's per-connection state, stored with
// transport.Conn.SetSession when the connection opens.
//
// The fields in the first group belong to the connection: only its own
// Serve calls touch them, and those never overlap. The second group is read
// by other connections (CLIENT LIST, INFO) and is guarded by mu or atomic.
type session struct {
	created int64 // unix seconds
	// ctx is reused for every request; its srv, sess and conn are set at
	// open for good, and stand for the session's own (which took 32
	// bytes of every connection, with its local address: laddr).
	ctx cmdCtx

	authed    bool // AUTH/HELLO succeeded, or no token is configured
	helloDone bool // binary protocol: a HELLO has succeeded

	restricting bool // the transport checks the pre-authentication limits

	monitor bool // MONITOR is on (monitor.go)
	// CLIENT REPLY (RESP only): replyOff drops every reply until CLIENT
	// REPLY ON; replySkip drops the reply of the request being served,
	// replySkipNext that of the next one (CLIENT REPLY SKIP). Processing
	// context only.
	replyOff, replySkip, replySkipNext bool
	// noEvict is CLIENT NO-EVICT's setting, shown as flag e. There is no
	// client eviction (maxmemory-clients) to exempt the client from.
	// REQUIRES: mu held.
	noEvict bool
	// muted mirrors replyOff || replySkip for the goroutines that feed
	// this session as a monitor (monitor.go): Redis's addReply drops a
	// monitor line for a client with replies off or skipped as it drops
	// a reply. Set by syncMuted whenever either changes.
	muted atomic.Bool
	// resp mirrors the RESP version for CLIENT LIST (next to muted:
	// apart, each took 4 bytes of padding).
	resp atomic.Int32

	timedAt int64 // transport.Monotime when the slow log last timed a command of this session

	buf  []byte   // scratch for values read from the keyspace
	keys [][]byte // scratch for SCAN and KEYS

	tx      *txState     // the open transaction (MULTI), nil outside one
	watched []watchedKey // WATCH's keys, until EXEC, DISCARD, UNWATCH, RESET or close
	// watchDirty is set by a touch of a watched key (watch.go), from any
	// connection's command; EXEC reads it holding the gate exclusively.
	watchDirty atomic.Bool
	// multi is CLIENT LIST's multi= for other sessions to read: the
	// commands queued plus one from MULTI until EXEC has run them (or
	// DISCARD), 0 outside a transaction.
	multi atomic.Int32

	// postponed is the request CLIENT PAUSE holds back (pause.go), nil
	// when none. REQUIRES: srv.pause.mu held.
	postponed *transport.Postponed
	// wait is the session's parked WAIT (wait.go), nil when none.
	// REQUIRES: srv.waits.mu held.
	wait *replWait

	mu     sync.Mutex               // guards names, noEvict, timers, errs
	names  *clientNames             // nil until one is set
	timers map[*time.Timer]struct{} // DEBUG.SLEEPREPLY completions pending

	cmds       atomic.Uint64          // commands executed, when calls is not kept (see cmdCount)
	lastCmd    atomic.Pointer[string] // name of the last command
	lastActive atomic.Int64           // unix seconds of the last command, or of output Redis counts as interaction (monitor lines, WAIT's reply): CLIENT LIST idle=
	parked     atomic.Int32           // requests parked and not yet completed
	killed     atomic.Bool            // closed by CLIENT KILL, maybe not gone yet
	slot       int32                  // index in Server.sessions; -1 once gone. REQUIRES: Server.sessMu held

	// Per-command counters (metrics.go), kept only with a metrics endpoint.
	tick  uint32                     // requests served; picks the timed ones
	calls atomic.Pointer[callCounts] // allocated on the first command
	errs  map[errKey]uint64          // REQUIRES: mu held
}

// clientNames is what CLIENT SETNAME and SETINFO, or a binary HELLO, set
// on a session. It is made by the first: most sessions set none, and as
// fields of the session the three took 40 bytes of every connection.
type clientNames struct{ name, libName, libVer string }

// get returns the names n holds, all empty for a nil n.
func (n *clientNames) get() clientNames {
	if n == nil {
		return clientNames{}
	}
	return *n
}

// namesLocked returns the session's names for setting, making them on
// the first. REQUIRES: s.mu held.
func (s *session) namesLocked() *clientNames {
	if s.names == nil {
		s.names = new(clientNames)
	}
	return s.names
}

// appendAddr appends the peer's address as CLIENT LIST and MONITOR show
// it (nothing when the transport has none). A TCP peer's is formatted
// without allocating: MONITOR writes it on every line, and a string kept
// with every session took 16 bytes of each (32 with its header).
func (s *session) appendAddr(b []byte) []byte {
	if s.ctx.conn == nil { // a session made bare (tests)
		return b
	}
	return appendNetAddr(b, s.ctx.conn.RemoteAddr())
}

// appendNetAddr appends a.String() (nothing for a nil a), without
// allocating for a TCP address.
func appendNetAddr(b []byte, a net.Addr) []byte {
	if ta, ok := a.(*net.TCPAddr); ok && ta != nil {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return netip.AddrPortFrom(ip.Unmap().WithZone(ta.Zone), uint16(ta.Port)).AppendTo(b)
		}
	}
	if a == nil {
		return b
	}
	return append(b, a.String()...)
}

// addr returns the peer's address as appendAddr appends it.
func (s *session) addr() string { return string(s.appendAddr(nil)) }

// SlotIndex implements slotlist.Item: s's index in Server.sessions.
func (s *session) SlotIndex() *int32 { return &s.slot }

// id returns the connection's id (CLIENT ID).
func (s *session) id() uint64 {
	if s.ctx.conn == nil { // a session made bare (tests)
		return 0
	}
	return s.ctx.conn.ID()
}

// laddr returns the server's end of the connection, as CLIENT LIST shows
// it: rarely asked for, it is not kept with every session.
func (s *session) laddr() string {
	if a := s.ctx.conn.LocalAddr(); a != nil {
		return a.String()
	}
	return s.ctx.srv.localAddr()
}

// keepBuf stores b's backing array for reuse unless it has grown too large.
//
// A large one came from the pool shared with the protocol scratch (core
// puts large values read into it there) and goes back to it; b must not be
// used after the call.
func (s *session) keepBuf(b []byte) {
	if cap(b) <= maxKeptBuffer {
		s.buf = b[:0]
	} else {
		bufpool.Put(b)
		s.buf = nil
	}
}

// keepKeys stores the SCAN scratch slice for reuse, dropping the keys it
// references.
func (s *session) keepKeys(k [][]byte) {
	clear(k)
	if cap(k) <= 4096 {
		s.keys = k[:0]
	} else {
		s.keys = nil
	}
}

// info is the session's CLIENT LIST / CLIENT INFO line, without the
// trailing newline, in Redis's field order.
func (s *session) info(now int64) string {
	s.mu.Lock()
	names, noEvict := s.names.get(), s.noEvict
	s.mu.Unlock()
	name, libName, libVer := names.name, names.libName, names.libVer
	cmd := noCmd
	if p := s.lastCmd.Load(); p != nil {
		cmd = *p
	}
	multi := int64(s.multi.Load()) - 1
	flags := ""
	if s.ctx.srv.mon.has(s) {
		flags = "O" // first, as Redis orders them
	}
	if multi >= 0 {
		flags += "x"
	}
	if s.parked.Load() > 0 {
		flags += "b"
	}
	if noEvict {
		flags += "e" // last, as Redis orders them
	}
	if flags == "" {
		flags = "N"
	}
	b := make([]byte, 0, 256)
	b = append(b, "id="...)
	b = strconv.AppendUint(b, s.id(), 10)
	b = append(b, " addr="...)
	b = s.appendAddr(b)
	b = append(b, " laddr="...)
	b = append(b, s.laddr()...)
	b = append(b, " fd="...)
	b = strconv.AppendInt(b, int64(s.ctx.conn.FD()), 10)
	b = append(b, " name="...)
	b = append(b, name...)
	b = append(b, " age="...)
	b = strconv.AppendInt(b, max(0, now-s.created), 10)
	b = append(b, " idle="...)
	b = strconv.AppendInt(b, max(0, now-s.lastActive.Load()), 10)
	b = append(b, " flags="...)
	b = append(b, flags...)
	b = append(b, " db=0 sub=0 psub=0 ssub=0 multi="...)
	b = strconv.AppendInt(b, multi, 10)
	b = append(b, " omem="...) // where Redis 7.0 has it, after multi
	b = strconv.AppendInt(b, s.ctx.conn.PendingOutput(), 10)
	b = append(b, " tot-cmds="...)
	b = strconv.AppendUint(b, s.cmdCount(), 10)
	b = append(b, " cmd="...)
	b = append(b, cmd...)
	b = append(b, " user=default redir=-1 resp="...)
	b = strconv.AppendInt(b, int64(s.resp.Load()), 10)
	b = append(b, " lib-name="...)
	b = append(b, libName...)
	b = append(b, " lib-ver="...)
	b = append(b, libVer...)
	return string(b)
}

// addTimerLocked records a pending completion timer so that closing the
// connection can stop it. REQUIRES: s.mu held.
func (s *session) addTimerLocked(t *time.Timer) {
	if s.timers == nil {
		s.timers = make(map[*time.Timer]struct{})
	}
	s.timers[t] = struct{}{}
}

// doneTimer forgets a timer that has fired; it reports false when the
// connection closed first (stopTimers took it). *pt is read under s.mu,
// which its writer holds.
func (s *session) doneTimer(pt **time.Timer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.timers[*pt]
	delete(s.timers, *pt)
	return ok
}

// stopTimers stops every pending completion timer: the connection is gone
// and its parked requests can no longer be completed.
func (s *session) stopTimers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.timers {
		if t.Stop() {
			s.parked.Add(-1)
		}
		delete(s.timers, t)
	}
}

// restrict holds the connection to the transport's pre-authentication
// limits until it authenticates: no large requests from strangers while a
// token is required (Redis's authRequired, so CONFIG SET requirepass
// counts). A RESP session opened without a password is authenticated, as
// in Redis (serveRESP drops the check on its first command); a binary one
// is not until its HELLO, which must carry a token set in between.
func (s *session) restrict() {
	s.ctx.conn.RestrictUntil(s) // the session itself: a closure was 32 B of garbage per connection
	s.restricting = true
}

// Lifted implements transport.Lifter: the pre-authentication limits are
// lifted once the session has authenticated (a binary one by its HELLO),
// or while no token is required.
func (s *session) Lifted() bool {
	if s.ctx.conn.Proto() == transport.ProtoBinary {
		return s.helloDone || s.ctx.srv.token() == ""
	}
	return s.authed || s.ctx.srv.token() == ""
}

// authenticate records a successful AUTH or HELLO: the session may run
// every command, and its requests are no longer held to the transport's
// pre-authentication limits (transport.Conn.Restrict).
func (s *session) authenticate() {
	s.authed = true
	s.restricting = false
	s.ctx.conn.RestrictUntil(nil)
}

// syncMuted publishes replyOff and replySkip to the monitor feed (muted).
// Processing context only.
func (s *session) syncMuted() { s.muted.Store(s.replyOff || s.replySkip) }
