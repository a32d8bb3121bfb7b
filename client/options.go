package client

import (
	"crypto/tls"
	"time"
)

// Defaults of the options.
const (
	// DefaultPoolSize is the number of connections a Client multiplexes
	// over. Two fit the reference 2-vCPU node: one per server event loop.
	DefaultPoolSize = 2
	// DefaultDialTimeout bounds dialling and the HELLO handshake.
	DefaultDialTimeout = 5 * time.Second
	// DefaultWriteTimeout bounds one write to a connection.
	DefaultWriteTimeout = 10 * time.Second
)

// Option configures a Client; pass them to New.
type Option func(*options)

type options struct {
	poolSize     int
	dialTimeout  time.Duration
	readTimeout  time.Duration
	writeTimeout time.Duration
	name         string
	token        string
	tls          *tls.Config
	minBackoff   time.Duration
	maxBackoff   time.Duration
}

func defaultOptions() options {
	return options{
		poolSize:     DefaultPoolSize,
		dialTimeout:  DefaultDialTimeout,
		writeTimeout: DefaultWriteTimeout,
		minBackoff:   10 * time.Millisecond,
		maxBackoff:   time.Second,
	}
}

// WithPoolSize sets how many connections the client opens (default
// DefaultPoolSize). Values below 1 mean 1.
func WithPoolSize(n int) Option { return func(o *options) { o.poolSize = max(n, 1) } }

// WithDialTimeout bounds connecting plus the HELLO handshake (default
// DefaultDialTimeout; 0 means no bound but the context's).
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// WithReadTimeout bounds how long a call waits for its reply when its
// context has no deadline. 0 (the default) means calls wait as long as their
// context allows.
func WithReadTimeout(d time.Duration) Option { return func(o *options) { o.readTimeout = d } }

// WithWriteTimeout bounds each write to a connection (default
// DefaultWriteTimeout); a write that times out breaks the connection.
func WithWriteTimeout(d time.Duration) Option { return func(o *options) { o.writeTimeout = d } }

// WithClientName sets the name sent in HELLO, shown in the server's client
// list (at most 256 bytes).
func WithClientName(name string) Option { return func(o *options) { o.name = name } }

// WithAuthToken sets the access token sent in HELLO.
func WithAuthToken(token string) Option { return func(o *options) { o.token = token } }

// WithTLS makes every connection use TLS with cfg. When cfg.ServerName is
// empty the host part of the address is used.
func WithTLS(cfg *tls.Config) Option { return func(o *options) { o.tls = cfg } }

// withBackoff sets the reconnect backoff bounds (tests).
func withBackoff(lo, hi time.Duration) Option {
	return func(o *options) { o.minBackoff, o.maxBackoff = lo, hi }
}
