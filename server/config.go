package server

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"time"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/transport"
)

// MaxLoops is the most event loops Config.Loops may ask for (gnet's
// limit).
const MaxLoops = transport.MaxLoops

// Version is the ringdb server version reported by HELLO and INFO.
const Version = "0.1.0"

// redisCompatVersion is the Redis version whose command semantics ringdb
// follows. INFO reports it as redis_version because tools read that field to
// decide which commands they may send.
const redisCompatVersion = "7.0.0"

// Transport kinds accepted by Config.Transport.
const (
	// TransportGnet runs one gnet event loop per core (the default).
	TransportGnet = "gnet"
	// TransportStd runs a goroutine per connection on the standard
	// library's net package; it is the transport that supports TLS.
	TransportStd = "std"
)

// Defaults of Config, chosen for the reference 2 vCPU / 4 GB node. The
// wire-level ones are the transport's (docs/PROTOCOL.md §11 lists them).
const (
	// DefaultAddr binds to loopback only.
	DefaultAddr = transport.DefaultAddr
	// DefaultMetricsAddr is where the stats package serves /metrics.
	DefaultMetricsAddr = "127.0.0.1:9379"
	// DefaultMaxClients caps concurrent connections.
	DefaultMaxClients = transport.DefaultMaxClients
	// DefaultQueryBufferLimit caps the unexecuted input per connection.
	DefaultQueryBufferLimit = transport.DefaultQueryBufferLimit
	// DefaultOutputHardLimit disconnects a client at once.
	DefaultOutputHardLimit = transport.DefaultOutputHardLimit
	// DefaultOutputSoftLimit disconnects a client that stays above it for
	// DefaultOutputSoftSeconds.
	DefaultOutputSoftLimit = transport.DefaultOutputSoftLimit
	// DefaultOutputSoftSeconds is how long a client may stay over the soft
	// output limit.
	DefaultOutputSoftSeconds = transport.DefaultOutputSoftSeconds
	// DefaultMaxArgs is the largest argument count of one request.
	DefaultMaxArgs = 1 << 20
)

// Config configures a Server. The zero value of each field means its
// default, so Config{} is usable; DefaultConfig returns the defaults
// spelled out. cmd/ringdb-server maps flags and RINGDB_* environment
// variables onto it.
type Config struct {
	// Addr is the listen address (default DefaultAddr, loopback). Port 0
	// picks a free port; Server.Addr reports it.
	Addr string
	// Transport is TransportGnet or TransportStd. Empty means gnet, or std
	// when TLS is configured.
	Transport string
	// MaxMemory bounds the keyspace in bytes (pages, index and large
	// values). 0 means unbounded; cmd/ringdb-server derives its default
	// from the container's or host's memory.
	MaxMemory int64
	// OnMaxMemory, when set, is called with the new bound each time
	// CONFIG SET maxmemory changes it, so that what is sized from the
	// bound outside the server follows it: cmd/ringdb-server gives the Go
	// heap a soft limit of what the bound leaves of the host's memory.
	OnMaxMemory func(int64)
	// Eviction is the policy applied at MaxMemory (default
	// core.NoEviction: writes fail with OOM).
	Eviction core.EvictionPolicy
	// MaxKeySize is the largest key accepted (default core.DefaultMaxKeySize,
	// 64 KiB).
	MaxKeySize int
	// MaxValueSize is the largest value accepted (default
	// core.DefaultMaxValueSize, 512 MiB). The wire decoders' limits follow
	// it: a RESP bulk longer than max(MaxKeySize, MaxValueSize) is a
	// protocol error that closes the connection (as Redis's
	// proto-max-bulk-len), while a value that grows past it (APPEND) or a
	// binary argument over it gets an error reply.
	MaxValueSize int
	// MaxArgs is the largest argument count of one request (default
	// DefaultMaxArgs).
	MaxArgs int64
	// AuthToken, when set, is required before any other command: as the
	// RESP password (AUTH, HELLO AUTH, CONFIG requirepass) and as the
	// binary HELLO auth_token. Empty means no authentication.
	AuthToken string
	// TLSCertFile and TLSKeyFile, set together, enable TLS on every
	// connection (std transport only).
	TLSCertFile string
	TLSKeyFile  string
	// MaxClients caps concurrent connections (default DefaultMaxClients).
	MaxClients int
	// IdleTimeout closes connections idle that long; 0 (the default)
	// disables it.
	IdleTimeout time.Duration
	// QueryBufferLimit caps the received but unexecuted bytes per
	// connection (default DefaultQueryBufferLimit).
	QueryBufferLimit int64
	// OutputHardLimit disconnects a client whose pending output exceeds it
	// (default DefaultOutputHardLimit).
	OutputHardLimit int64
	// OutputSoftLimit disconnects a client whose pending output stays above
	// it for OutputSoftSeconds (defaults DefaultOutputSoftLimit and
	// DefaultOutputSoftSeconds).
	OutputSoftLimit   int64
	OutputSoftSeconds time.Duration
	// Loops is the number of gnet event loops (default GOMAXPROCS, at
	// most MaxLoops).
	Loops int
	// MetricsAddr is where the stats package serves /metrics (default
	// DefaultMetricsAddr; "off" disables it, and with it the per-command
	// counters). Start binds it and Shutdown closes it.
	MetricsAddr string
	// Pprof serves net/http/pprof under /debug/pprof/ on MetricsAddr.
	Pprof bool
	// LogLevel is the level cmd/ringdb-server gives the logger it passes to
	// New (default slog.LevelInfo). New does not change the logger.
	LogLevel slog.Level
	// EnableDebugCommands registers test-only commands such as
	// DEBUG.SLEEPREPLY. Never set it in production.
	EnableDebugCommands bool
	// CrashOnPanic lets a command that panics crash the process, for
	// tests and fuzzing, where a bug must not go unnoticed. By default
	// the server recovers: it logs the panic with its stack, counts it
	// (ringdb_command_panics_total), and closes that client's connection,
	// so that one bad request does not take every client's data down.
	CrashOnPanic bool
}

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config {
	var c Config
	c.applyDefaults()
	return c
}

// applyDefaults replaces zero fields by their defaults.
func (c *Config) applyDefaults() {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Transport == "" {
		c.Transport = TransportGnet
		if c.TLSCertFile != "" || c.TLSKeyFile != "" {
			c.Transport = TransportStd
		}
	}
	if c.MaxKeySize == 0 {
		c.MaxKeySize = core.DefaultMaxKeySize
	}
	if c.MaxValueSize == 0 {
		c.MaxValueSize = core.DefaultMaxValueSize
	}
	if c.MaxArgs == 0 {
		c.MaxArgs = DefaultMaxArgs
	}
	if c.MaxClients == 0 {
		c.MaxClients = DefaultMaxClients
	}
	if c.QueryBufferLimit == 0 {
		c.QueryBufferLimit = DefaultQueryBufferLimit
	}
	if c.OutputHardLimit == 0 {
		c.OutputHardLimit = DefaultOutputHardLimit
	}
	if c.OutputSoftLimit == 0 {
		c.OutputSoftLimit = DefaultOutputSoftLimit
	}
	if c.OutputSoftSeconds == 0 {
		c.OutputSoftSeconds = DefaultOutputSoftSeconds
	}
	if c.MetricsAddr == "" {
		c.MetricsAddr = DefaultMetricsAddr
	}
}

// Validate reports every invalid field of c (after defaults), joined into
// one error whose message is fit for an operator.
func (c Config) Validate() error {
	c.applyDefaults()
	var errs []error
	switch c.Transport {
	case TransportGnet, TransportStd:
	default:
		errs = append(errs, fmt.Errorf("transport %q: want %q or %q", c.Transport, TransportGnet, TransportStd))
	}
	if err := checkAddr(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("listen address: %w", err))
	}
	if c.MetricsAddr != "off" {
		if err := checkAddr(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("metrics address: %w", err))
		}
	}
	if c.MaxMemory < 0 {
		errs = append(errs, fmt.Errorf("maxmemory %d: must not be negative", c.MaxMemory))
	}
	if c.Eviction > core.Volatile {
		errs = append(errs, fmt.Errorf("eviction %v: want noeviction, allkeys or volatile", c.Eviction))
	}
	if c.MaxKeySize < 0 || c.MaxValueSize < 0 || c.MaxArgs < 0 {
		errs = append(errs, errors.New("key, value and argument limits must not be negative"))
	}
	if c.maxFrame() > math.MaxUint32 {
		errs = append(errs, fmt.Errorf("max value size %d: a frame cannot carry it", c.MaxValueSize))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("tls: set both the certificate and the key file, or neither"))
	}
	if c.TLSCertFile != "" && c.Transport != TransportStd {
		errs = append(errs, errors.New("tls: needs the std transport (--transport std)"))
	}
	if c.MaxClients < 0 {
		errs = append(errs, fmt.Errorf("maxclients %d: must not be negative", c.MaxClients))
	}
	if c.IdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("idle timeout %v: must not be negative", c.IdleTimeout))
	}
	if c.QueryBufferLimit < 0 || c.OutputHardLimit < 0 || c.OutputSoftLimit < 0 || c.OutputSoftSeconds < 0 {
		errs = append(errs, errors.New("buffer limits must not be negative"))
	}
	if c.Loops < 0 || c.Loops > transport.MaxLoops {
		errs = append(errs, fmt.Errorf("loops %d: must be 0 (one per core) to %d", c.Loops, transport.MaxLoops))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ringdb: invalid config: %w", err)
	}
	return nil
}

// maxBulk is the largest single argument the decoders accept: a key or a
// value.
func (c *Config) maxBulk() int64 { return int64(max(c.MaxValueSize, c.MaxKeySize)) }

// maxFrame is the largest binary frame body: one SET of a maximum value
// under a maximum key, plus room for the header fields (with the default
// limits, 512 MiB + 1 MiB as docs/PROTOCOL.md §11 says).
func (c *Config) maxFrame() int64 {
	return int64(c.MaxValueSize) + max(1<<20, int64(c.MaxKeySize)+4096)
}

// checkAddr rejects a host:port a listener could never bind: no port, or
// a port that is not a number from 0 to 65535 or a service name. Whether
// the host can be bound is left to Run.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("%q: bad port %q", addr, port)
	}
	return nil
}
