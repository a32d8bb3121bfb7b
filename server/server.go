package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/internal/slotlist"
	"github.com/ringdb/ringdb/stats"
	"github.com/ringdb/ringdb/transport"
)

// Server ties a core.Keyspace to a transport and serves the command table
// on it. Create it with New, start it with Start or Run, stop it with
// Shutdown. All methods are safe for concurrent use.
type Server struct {
	cfg  Config
	log  *slog.Logger
	ks   *core.Keyspace
	tr   transport.Server
	cmds *commandTable
	h    *connHandler
	slow *slowlog
	gate *execGate // entered by every command, taken by EXEC
	// watch is WATCH's registry, touched by every write (watch.go).
	watch *watchRegistry
	mon   monitorHub // MONITOR's sessions (monitor.go)
	// pause is CLIENT PAUSE's state, read by every command (pause.go).
	pause clientPause
	waits replWaits // parked WAIT requests (wait.go)

	started time.Time
	runID   string

	// Settings CONFIG SET may change.
	authToken   atomic.Pointer[string]
	maxMemory   atomic.Int64
	policyName  atomic.Pointer[string]
	maxClients  atomic.Int64
	idleTimeout atomic.Int64 // seconds

	sessMu sync.Mutex
	// maxMemMu orders CONFIG SET maxmemory's three stores (the keyspace's
	// bound, maxMemory, Config.OnMaxMemory), so that concurrent ones
	// leave all three at the same value.
	maxMemMu sync.Mutex
	// sessions are the open sessions, each knowing its index
	// (session.slot): a map took some 30 bytes per connection, and as
	// much again in the tables it outgrew. REQUIRES: sessMu held.
	sessions   slotlist.List[*session]
	killedOpen int // sessions CLIENT KILL closed that are not gone yet; REQUIRES: sessMu held
	connsTotal atomic.Uint64
	closedCmds atomic.Uint64 // commands of sessions that have closed
	clockSec   atomic.Int64  // unix seconds, refreshed once a second
	// peakMem is the highest used memory seen (MEMORY STATS), sampled
	// once a second and at each MEMORY STATS; startupMem what the empty
	// keyspace took at start.
	peakMem    atomic.Int64
	startupMem int64
	// rates holds INFO's instantaneous_* rates, from the tick's samples
	// (nil: none taken yet).
	rates atomic.Pointer[rateSample]
	// statBase holds INFO's counters as CONFIG RESETSTAT found them (nil:
	// never reset); INFO shows the counts since.
	statBase atomic.Pointer[statBaseline]

	startOnce sync.Once
	startErr  error
	served    chan struct{} // closed when Serve returns
	serveErr  error         // Serve's result, valid once served is closed
	stopTick  chan struct{}

	shutOnce sync.Once
	shutErr  error

	// SHUTDOWN asks for a graceful stop: Run wakes on shutReq; a server
	// not in Run shuts itself down.
	shutReqOnce sync.Once
	shutReq     chan struct{}
	inRun       atomic.Bool

	panics atomic.Uint64 // commands that panicked and were recovered
	// crossProtoLogged is when (unix seconds) a cross-protocol scripting
	// attempt was last logged: at most one a minute, as Redis logs them.
	crossProtoLogged atomic.Int64

	// Monitoring (metrics.go); met and lat are nil when MetricsAddr is off.
	met    *stats.Server
	lat    *stats.Latency
	timed  []timedSum   // by stat slot: the sampled calls' time
	closed metricsState // REQUIRES: sessMu held
}

// New validates cfg, fills in its defaults, creates the keyspace and the
// transport, and returns a server that is not yet listening. logger may be
// nil (slog.Default is used).
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.applyDefaults()
	if logger == nil {
		logger = slog.Default()
	}
	// As Redis: clients past what the open-file limit allows would make
	// accept fail, which stops a gnet server.
	if n := transport.MaxClientsForFDs(cfg.Loops); n > 0 && cfg.MaxClients > n {
		logger.Warn("maxclients reduced to fit the open-file limit; raise ulimit -n for more", "requested", cfg.MaxClients, "maxclients", n)
		cfg.MaxClients = n
	}
	tcfg, err := cfg.transportConfig()
	if err != nil {
		return nil, err
	}
	if tcfg.TLS != nil {
		warnCertValidity(logger, cfg.TLSCertFile, tcfg.TLS.Certificates[0].Leaf, time.Now())
	}
	mk, ok := transportFactories[cfg.Transport]
	if !ok {
		return nil, fmt.Errorf("ringdb: transport %q is not available", cfg.Transport)
	}
	tr, err := mk(tcfg)
	if err != nil {
		return nil, fmt.Errorf("ringdb: transport %s: %w", cfg.Transport, err)
	}
	ks, err := core.New(core.Options{
		MaxMemory:    cfg.MaxMemory,
		Eviction:     cfg.Eviction,
		MaxKeySize:   cfg.MaxKeySize,
		MaxValueSize: cfg.MaxValueSize,
	})
	if err != nil {
		return nil, fmt.Errorf("ringdb: keyspace: %w", err)
	}
	return newServer(cfg, logger, ks, tr), nil
}

// newServer assembles a Server around an existing keyspace and transport.
func newServer(cfg Config, logger *slog.Logger, ks *core.Keyspace, tr transport.Server) *Server {
	s := &Server{
		cfg:      cfg,
		log:      logger,
		ks:       ks,
		tr:       tr,
		cmds:     newCommandTable(commandList(cfg)),
		started:  time.Now(),
		served:   make(chan struct{}),
		stopTick: make(chan struct{}),
		shutReq:  make(chan struct{}),
		slow:     newSlowlog(),
		gate:     newExecGate(),
		watch:    newWatchRegistry(),
	}
	s.h = &connHandler{s: s}
	s.newMetrics()
	var id [20]byte
	_, _ = rand.Read(id[:])
	s.runID = hex.EncodeToString(id[:])
	tok := cfg.AuthToken
	s.authToken.Store(&tok)
	s.maxMemory.Store(cfg.MaxMemory)
	name := redisPolicyName(cfg.Eviction)
	s.policyName.Store(&name)
	s.maxClients.Store(int64(cfg.MaxClients))
	// In whole seconds, as Redis's timeout; a fraction rounds up, so that
	// a sub-second timeout does not read back as 0 ("off").
	s.idleTimeout.Store(int64((cfg.IdleTimeout + time.Second - 1) / time.Second))
	s.clockSec.Store(s.started.Unix())
	s.startupMem = ks.UsedBytes()
	s.peakMem.Store(s.startupMem)
	return s
}

// transportConfig derives the transport's configuration, loading the TLS
// key pair when one is configured.
func (c *Config) transportConfig() (transport.Config, error) {
	tc := transport.Config{
		Addr:              c.Addr,
		MaxClients:        c.MaxClients,
		IdleTimeout:       c.IdleTimeout,
		QueryBufferLimit:  c.QueryBufferLimit,
		OutputHardLimit:   c.OutputHardLimit,
		OutputSoftLimit:   c.OutputSoftLimit,
		OutputSoftSeconds: c.OutputSoftSeconds,
		Loops:             c.Loops,
		RESP:              transport.RESPLimits{MaxBulk: c.maxBulk(), MaxArray: c.MaxArgs},
	}
	tc.Binary.MaxFrame = c.maxFrame()
	tc.Binary.MaxValue = c.maxBulk()
	tc.Binary.MaxArray = c.MaxArgs
	if c.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return tc, fmt.Errorf("ringdb: tls: %w", err)
		}
		tc.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return tc, nil
}

// warnCertValidity warns when the server's certificate is expired or not
// yet valid: it is served anyway (as Redis serves it, and clients that skip
// verification still connect), but every client that verifies it refuses
// the handshake, and nothing in the server's log said why.
func warnCertValidity(log *slog.Logger, file string, leaf *x509.Certificate, now time.Time) {
	switch {
	case leaf == nil:
	case now.After(leaf.NotAfter):
		log.Warn("TLS certificate has expired: clients that verify it will refuse to connect", "tls_cert", file, "not_after", leaf.NotAfter)
	case now.Before(leaf.NotBefore):
		log.Warn("TLS certificate is not valid yet: clients that verify it will refuse to connect", "tls_cert", file, "not_before", leaf.NotBefore)
	}
}

// Start binds the listener and serves in the background. It returns once
// the server accepts connections, or the error that prevented it. Calling
// it again returns the first result.
func (s *Server) Start() error {
	s.startOnce.Do(func() {
		if s.met != nil {
			if s.startErr = s.met.Start(); s.startErr != nil {
				return
			}
		}
		go func() {
			s.serveErr = s.tr.Serve(s.h)
			close(s.served)
		}()
		select {
		case <-s.tr.Ready():
		case <-s.served:
			s.startErr = s.serveErr
			if s.startErr == nil {
				s.startErr = errors.New("ringdb: transport stopped before it was ready")
			}
			if s.met != nil {
				_ = s.met.Shutdown(context.Background())
			}
			return
		}
		go s.tick()
		if s.met != nil {
			s.met.SetReady(true)
			s.log.Info("ringdb metrics", "addr", s.MetricsAddr(), "pprof", s.cfg.Pprof)
		}
		s.log.Info("ringdb listening", "addr", s.Addr(), "transport", s.cfg.Transport, "tls", s.cfg.TLSCertFile != "", "version", Version)
	})
	return s.startErr
}

// tick refreshes the coarse clock used for client idle times, and samples
// the peak of used memory.
func (s *Server) tick() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stopTick:
			return
		case now := <-t.C:
			s.clockSec.Store(now.Unix())
			s.notePeak(s.ks.UsedBytes())
			s.sampleRates(now)
		}
	}
}

// Run starts the server and serves until ctx ends, then shuts down
// gracefully: in-flight replies get up to drainWait to be written, then
// connections still holding output (clients that stopped reading) are
// dropped, so that Run returns within 5 seconds. It returns nil after a
// shutdown, dropped connections included (they are logged). A client's
// SHUTDOWN ends it as ctx would.
func (s *Server) Run(ctx context.Context) error {
	s.inRun.Store(true)
	if err := s.Start(); err != nil {
		s.Shutdown(context.Background())
		return err
	}
	select {
	case <-ctx.Done():
	case <-s.shutReq:
	case <-s.served:
		s.Shutdown(context.Background())
		if s.serveErr != nil {
			return s.serveErr
		}
		return errors.New("ringdb: transport stopped unexpectedly")
	}
	sctx, cancel := context.WithTimeout(context.Background(), drainWait)
	defer cancel()
	err := s.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("shutdown: dropped connections that did not read their replies", "after", drainWait)
		return nil
	}
	return err
}

// requestShutdown starts a graceful shutdown on a client's behalf (the
// SHUTDOWN command): Run's, or, for a server not in Run, the same steps on
// a goroutine of its own.
func (s *Server) requestShutdown() {
	s.shutReqOnce.Do(func() {
		close(s.shutReq)
		if !s.inRun.Load() {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), drainWait)
				defer cancel()
				_ = s.Shutdown(ctx)
			}()
		}
	})
}

// drainWait is how long Run lets connections take their last replies at
// shutdown; with the transports' stop after it, Run returns within 5 s.
const drainWait = 3500 * time.Millisecond

// Addr returns the bound address once Start has returned nil, such as
// "127.0.0.1:7379"; before that, the configured one.
func (s *Server) Addr() string {
	select {
	case <-s.tr.Ready():
		if a := s.tr.Addr(); a != nil {
			return a.String()
		}
	default:
	}
	return s.cfg.Addr
}

// localAddr is Addr for CLIENT LIST and CONFIG GET.
func (s *Server) localAddr() string { return s.Addr() }

// Shutdown stops accepting connections, lets in-flight replies be written,
// closes every connection and then the keyspace. It returns when done or
// when ctx ends; later calls return the first result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutOnce.Do(func() {
		if s.met != nil {
			s.met.SetReady(false)
		}
		started := false
		select {
		case <-s.tr.Ready():
			started = true
		default:
		}
		if started {
			s.shutErr = s.tr.Shutdown(ctx)
			select {
			case <-s.served:
			case <-ctx.Done():
				if s.shutErr == nil {
					s.shutErr = ctx.Err()
				}
			}
			close(s.stopTick)
		}
		if s.met != nil {
			if err := s.met.Shutdown(ctx); err != nil && s.shutErr == nil {
				s.shutErr = err
			}
		}
		s.stopPause()
		s.ks.Close()
		s.log.Info("ringdb stopped")
	})
	return s.shutErr
}

// Keyspace returns the server's keyspace, for tests and embedding.
func (s *Server) Keyspace() *core.Keyspace { return s.ks }

// token returns the current authentication token ("" when none).
func (s *Server) token() string { return *s.authToken.Load() }

// policy returns the keyspace's eviction policy as CONFIG last set it.
func (s *Server) policy() core.EvictionPolicy { return evictionNames[*s.policyName.Load()] }

// now returns the coarse clock in unix seconds.
func (s *Server) now() int64 { return s.clockSec.Load() }

// sessionList returns the open sessions by id, leaving out those CLIENT
// KILL has closed (Redis frees them at once; here the transport may take a
// moment to finish them).
func (s *Server) sessionList() []*session {
	s.sessMu.Lock()
	list := make([]*session, 0, s.sessions.Len())
	for _, ss := range s.sessions.Items() {
		if !ss.killed.Load() {
			list = append(list, ss)
		}
	}
	s.sessMu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].id() < list[j].id() })
	return list
}

// connectedClients is INFO's connected_clients: the transport's count (from
// accept; a session opens just after) or the sessions', whichever is
// larger, without the clients CLIENT KILL closed, which Redis frees at once.
func (s *Server) connectedClients() int64 {
	s.sessMu.Lock()
	n, killed := int64(s.sessions.Len()), int64(s.killedOpen)
	s.sessMu.Unlock()
	// The transport's count is read after the sessions: a connection
	// leaves it before its session is forgotten (transport finish), so a
	// count read earlier could still hold a killed client the sessions no
	// longer do, and show it once more (seen in CI: 21 clients for 20).
	return max(s.transportStats().Connected, n) - killed
}

// killSessions marks every session match accepts as killed, counting it
// once even when several clients kill it at the same time, and closes it
// at once, dropping its pending output; the caller's own session (self) is
// left for the caller to close after its reply.
func (s *Server) killSessions(match func(*session) bool, self *session) (killed int64, selfKilled bool) {
	var victims []*session
	s.sessMu.Lock()
	for _, ss := range s.sessions.Items() {
		if ss.killed.Load() || !match(ss) || !ss.killed.CompareAndSwap(false, true) {
			continue
		}
		s.killedOpen++
		killed++
		if ss == self {
			selfKilled = true
		} else {
			victims = append(victims, ss)
		}
	}
	s.sessMu.Unlock()
	for _, ss := range victims {
		ss.ctx.conn.Abort() // Redis frees a killed client with its pending output
	}
	return killed, selfKilled
}

// commandCount is the number of commands executed so far.
func (s *Server) commandCount() uint64 {
	s.sessMu.Lock()
	// Read under sessMu, as Close moves a session's count from the table to
	// closedCmds: read before, a session closing in between would be in
	// neither, and the counter would go back.
	n := s.closedCmds.Load()
	for _, ss := range s.sessions.Items() {
		n += ss.cmdCount()
	}
	s.sessMu.Unlock()
	return n
}

// outputLimits returns the output-buffer limits in force (CONFIG
// client-output-buffer-limit): bytes, 0 for none, and the soft limit's
// period in seconds.
func (s *Server) outputLimits() (hard, soft, secs int64) {
	if ol, ok := s.tr.(outputLimiter); ok {
		h, so, d := ol.OutputLimits()
		return max(h, 0), max(so, 0), int64(d / time.Second)
	}
	return max(s.cfg.OutputHardLimit, 0), max(s.cfg.OutputSoftLimit, 0), int64(s.cfg.OutputSoftSeconds / time.Second)
}

// maxPendingOutput is the largest output a client has queued and not yet
// read (INFO's client_recent_max_output_buffer: as Redis 7.0, among the
// current clients).
func (s *Server) maxPendingOutput() int64 {
	var n int64
	s.sessMu.Lock()
	for _, ss := range s.sessions.Items() {
		n = max(n, ss.ctx.conn.PendingOutput())
	}
	s.sessMu.Unlock()
	return n
}

// parkedCount is the number of requests parked and not yet completed.
func (s *Server) parkedCount() int64 {
	var n int64
	s.sessMu.Lock()
	for _, ss := range s.sessions.Items() {
		if !ss.killed.Load() {
			n += int64(ss.parked.Load())
		}
	}
	s.sessMu.Unlock()
	return n
}
