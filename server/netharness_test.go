package server

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/transport"
)

// transportKinds are the transports every network test runs over: the two
// real ones on 127.0.0.1:0 and the in-memory pipe.
var transportKinds = []string{TransportGnet, TransportStd, "pipe"}

// testServer is a running server and a way to reach it.
type testServer struct {
	*Server
	kind string
	pipe *transport.Pipe
}

// startServer starts a server of the given transport kind and stops it at
// the end of the test.
func startServer(t testing.TB, kind string, cfg Config) *testServer {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.CrashOnPanic = true // a panic is a bug: fail the test
	if cfg.MetricsAddr == "" {
		cfg.MetricsAddr = metricsOff
	}
	ts := &testServer{kind: kind}
	if kind == "pipe" {
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		cfg.Transport = TransportStd
		cfg.applyDefaults()
		tc, err := cfg.transportConfig()
		if err != nil {
			t.Fatal(err)
		}
		ks, err := core.New(core.Options{MaxMemory: cfg.MaxMemory, Eviction: cfg.Eviction, MaxKeySize: cfg.MaxKeySize, MaxValueSize: cfg.MaxValueSize})
		if err != nil {
			t.Fatal(err)
		}
		ts.pipe = transport.NewPipe(tc)
		ts.Server = newServer(cfg, testLogger(t), ks, ts.pipe)
	} else {
		cfg.Transport = kind
		if cfg.Loops == 0 {
			cfg.Loops = 2
		}
		s, err := New(cfg, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		ts.Server = s
	}
	if err := ts.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ts.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return ts
}

// forEachTransport runs f once per transport kind, each with its own
// server.
func forEachTransport(t *testing.T, cfg Config, f func(t *testing.T, ts *testServer)) {
	for _, kind := range transportKinds {
		t.Run(kind, func(t *testing.T) {
			f(t, startServer(t, kind, cfg))
		})
	}
}

// dial opens a raw connection to the server.
func (ts *testServer) dial(t testing.TB) net.Conn {
	t.Helper()
	var c net.Conn
	var err error
	if ts.pipe != nil {
		c, err = ts.pipe.Dial()
	} else {
		c, err = net.DialTimeout("tcp", ts.Addr(), 5*time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// raw returns a RESP client on a new connection.
func (ts *testServer) raw(t testing.TB) *netClient {
	c := ts.dial(t)
	return &netClient{conn: c, r: bufio.NewReader(c)}
}

// redis returns a go-redis client speaking RESP protocol proto (2 or 3).
func (ts *testServer) redis(t testing.TB, proto int, opt func(*redis.Options)) *redis.Client {
	t.Helper()
	o := &redis.Options{
		Addr:            ts.Addr(),
		Protocol:        proto,
		DisableIdentity: false,
		MaxRetries:      -1,
		DialTimeout:     5 * time.Second,
		ReadTimeout:     5 * time.Second,
		WriteTimeout:    5 * time.Second,
	}
	if ts.pipe != nil {
		o.Addr = "ringdb-pipe"
		o.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) { return ts.pipe.Dial() }
	}
	if opt != nil {
		opt(o)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}
