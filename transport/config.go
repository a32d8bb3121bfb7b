package transport

import (
	"cmp"
	"runtime"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
	"github.com/ringdb/ringdb/transport/resp"
)

// Defaults of the Config fields (docs/PROTOCOL.md, "Limits").
const (
	// DefaultAddr is the listen address when Config.Addr is empty: loopback
	// only, as DESIGN.md requires.
	DefaultAddr = "127.0.0.1:7379"
	// DefaultMaxClients is the default cap on concurrent connections.
	DefaultMaxClients = 10_000
	// ReservedFDs is how many file descriptors are kept out of the
	// clients' reach for the process's own use (listeners, pollers, the
	// metrics endpoint, logs), as Redis's CONFIG_MIN_RESERVED_FDS.
	ReservedFDs = 32
	// refuseRoom is how many connections past MaxClientsForFDs can be open
	// at once awaiting their refusal (which waits for the first byte).
	refuseRoom = 16
	// DefaultQueryBufferLimit is the default cap on the input a connection
	// may have buffered and not yet executed: 1 GiB.
	DefaultQueryBufferLimit = 1 << 30
	// DefaultOutputHardLimit is the default pending output at which a
	// client is disconnected: 256 MiB.
	DefaultOutputHardLimit = 256 << 20
	// DefaultOutputSoftLimit is the default pending output a client may
	// keep for at most DefaultOutputSoftSeconds: 64 MiB.
	DefaultOutputSoftLimit = 64 << 20
	// DefaultOutputSoftSeconds is how long pending output may stay above
	// the soft limit by default.
	DefaultOutputSoftSeconds = 60 * time.Second
)

// Internal timings. They are not configurable because nothing depends on
// their exact values; the package's tests may shorten the first four
// (Config.waits), and the code reads them from settings.waits.
const (
	// rejectWait is how long a connection refused by MaxClients may take to
	// send its first byte (which tells its protocol, so that the refusal
	// can be written in it) before it is closed silently.
	rejectWait = time.Second
	// closeWait bounds how long a closing connection may take to drain its
	// pending output (QUIT, a protocol error, shutdown) before it is closed
	// anyway.
	closeWait = 5 * time.Second
	// handshakeWait bounds a TLS handshake.
	handshakeWait = 10 * time.Second
	// notifyWait bounds what a TLS connection closed at once (CLIENT KILL,
	// an output limit) waits on before its socket is closed: the write
	// its writer is in, then the close_notify alert. Either goes through
	// at once unless the client has stopped reading and its socket is
	// full, when neither ever would; short, as the close is meant to be
	// immediate.
	notifyWait = 100 * time.Millisecond
	// holdWait is how long a client on hold for its output at the hard
	// limit may go without reading any of it before it is disconnected.
	// Progress shows only once a piece of output has gone (std: a 64 KiB
	// write; TCP: a window update, about as much), so a reader must keep
	// up a few KB/s at least. It was 2 s, and a client reading steadily
	// but starved of CPU for that long (a throttled container, a loaded
	// host) lost its connection; NATS raised its slow-consumer write
	// deadline from 2 to 10 s for the same reason. Memory does not depend
	// on it: a client on hold is served nothing more.
	holdWait = 10 * time.Second
	// maxTick is the longest interval between two housekeeping sweeps (idle
	// timeout, soft output limit, refused connections).
	maxTick = time.Second
	// minTick is the shortest one.
	minTick = 10 * time.Millisecond
	// retainOut is the largest output scratch buffer kept between batches.
	retainOut = 256 << 10
	// turnOut is the most output one connection's requests make in one
	// turn of an event loop: past it the rest of its input waits for the
	// loop's next round (connState.yield), after the other connections
	// ready then, so that a client pipelining GETs of large values delays
	// the others by one turn rather than by its whole pipeline.
	turnOut = 1 << 20
	// turnDelay is how long a connection that ended a turn served by the
	// loop's task of turns waits for its next one: long enough for the
	// loop to poll its other connections first.
	turnDelay = 50 * time.Microsecond
	// paceWait is how long a std connection whose writer writes nothing
	// (its client reads nothing) waits for each next turn (armPacer).
	paceWait = 10 * time.Millisecond
)

// maxOpenFor returns the most connections, refused ones included, that the
// process's open-file limit leaves room for when the transport runs loops
// event loops (each holds two descriptors: its poller and its wake-up
// event), ReservedFDs kept aside; 0 when no limit is known.
func maxOpenFor(loops int) int {
	n := openFileLimit()
	if n <= 0 {
		return 0
	}
	loops = loopCount(loops)
	return max(n-ReservedFDs-2*(loops+1), 1)
}

// MaxLoops is the most gnet event loops a server runs (gnet's own limit:
// it runs no more, whatever it is asked).
const MaxLoops = 256

// loopCount is the number of event loops Config.Loops asks for: 0 (or
// less) for GOMAXPROCS, and at most MaxLoops.
func loopCount(loops int) int {
	if loops <= 0 {
		loops = runtime.GOMAXPROCS(0)
	}
	return min(loops, MaxLoops)
}

// MaxClientsForFDs returns the most clients the process's open-file limit
// leaves room for with loops event loops (0: GOMAXPROCS), with room for
// refusals past them, or 0 when no limit is known. As Redis does, the
// server caps maxclients at it.
func MaxClientsForFDs(loops int) int {
	n := maxOpenFor(loops)
	if n == 0 {
		return 0
	}
	return max(n-refuseRoom, 1)
}

// settings is a Config with its defaults filled in and the decoder limits
// converted, shared read-only by every connection of a server.
type settings struct {
	cfg     Config
	respLim resp.Limits
	binLim  binproto.Limits
	tick    time.Duration // housekeeping interval
	waits   waits         // all set
}

// waits holds the internal timings that Config.waits lets this package's
// tests shorten: a zero field takes its constant (rejectWait, closeWait,
// holdWait, maxTick).
type waits struct {
	reject, close, hold, maxTick time.Duration
}

// withDefaults returns w with its zero fields set to their constants.
func (w waits) withDefaults() waits {
	return waits{
		reject:  cmp.Or(w.reject, rejectWait),
		close:   cmp.Or(w.close, closeWait),
		hold:    cmp.Or(w.hold, holdWait),
		maxTick: cmp.Or(w.maxTick, maxTick),
	}
}

func newSettings(cfg Config) *settings {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.MaxClients == 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	if cfg.QueryBufferLimit == 0 {
		cfg.QueryBufferLimit = DefaultQueryBufferLimit
	}
	if cfg.OutputHardLimit == 0 {
		cfg.OutputHardLimit = DefaultOutputHardLimit
	}
	if cfg.OutputSoftLimit == 0 {
		cfg.OutputSoftLimit = DefaultOutputSoftLimit
	}
	if cfg.OutputSoftSeconds <= 0 {
		cfg.OutputSoftSeconds = DefaultOutputSoftSeconds
	}
	if cfg.MaxOpen == 0 {
		cfg.MaxOpen = maxOpenFor(cfg.Loops)
	}
	if cfg.IdleTimeout < 0 {
		cfg.IdleTimeout = 0
	}
	cfg.Loops = loopCount(cfg.Loops)
	s := &settings{
		cfg: cfg,
		respLim: resp.Limits{
			MaxBulk:   cfg.RESP.MaxBulk,
			MaxArray:  cfg.RESP.MaxArray,
			MaxInline: cfg.RESP.MaxInline,
		},
		binLim: cfg.Binary,
		waits:  cfg.waits.withDefaults(),
	}
	// Sweep often enough that an idle timeout or the soft-limit period is
	// overshot by at most a quarter, within [minTick, maxTick].
	s.tick = s.waits.maxTick
	if d := cfg.IdleTimeout / 4; d > 0 && d < s.tick {
		s.tick = d
	}
	if d := cfg.OutputSoftSeconds / 4; d < s.tick {
		s.tick = d
	}
	s.tick = max(s.tick, minTick)
	return s
}
