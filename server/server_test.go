package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/internal/testcert"
)

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	if c.Addr != "127.0.0.1:7379" || c.Transport != TransportGnet || c.MaxClients != 10_000 ||
		c.MaxKeySize != 64<<10 || c.MaxValueSize != 512<<20 || c.IdleTimeout != 0 ||
		c.QueryBufferLimit != 1<<30 || c.OutputHardLimit != 256<<20 || c.OutputSoftLimit != 64<<20 ||
		c.OutputSoftSeconds != time.Minute || c.MetricsAddr != "127.0.0.1:9379" || c.Eviction != core.NoEviction {
		t.Errorf("DefaultConfig() = %+v", c)
	}
	if c.maxFrame() != 512<<20+1<<20 {
		t.Errorf("maxFrame = %d", c.maxFrame())
	}
	tls := Config{TLSCertFile: "c", TLSKeyFile: "k"}
	tls.applyDefaults()
	if tls.Transport != TransportStd {
		t.Errorf("TLS picks transport %q, want std", tls.Transport)
	}
}

func TestConfigValidate(t *testing.T) {
	type testCase struct {
		cfg  Config
		want string
	}
	var wide []testCase
	if strconv.IntSize == 64 { // a 32-bit int cannot hold more than a frame
		shift := 40
		wide = append(wide, testCase{Config{MaxValueSize: 1 << shift}, "a frame cannot carry it"})
	}
	for _, tc := range append([]testCase{
		{Config{Transport: "udp"}, `transport "udp"`},
		{Config{MaxMemory: -1}, "maxmemory -1"},
		{Config{Eviction: 9}, "eviction"},
		{Config{TLSCertFile: "x"}, "set both"},
		{Config{Transport: TransportGnet, TLSCertFile: "c", TLSKeyFile: "k"}, "needs the std transport"},
		{Config{MaxClients: -1}, "maxclients"},
		{Config{IdleTimeout: -time.Second}, "idle timeout"},
		{Config{Loops: -1}, "loops -1: must be 0 (one per core) to 256"},
		{Config{Loops: MaxLoops + 1}, "loops 257: must be 0 (one per core) to 256"},
	}, wide...) {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
		if _, err := New(tc.cfg, nil); err == nil {
			t.Errorf("New(%+v) succeeded", tc.cfg)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v", err)
	}
	if _, err := New(Config{Transport: TransportStd, TLSCertFile: "/nonexistent", TLSKeyFile: "/nonexistent"}, nil); err == nil {
		t.Error("New with missing TLS files succeeded")
	}
}

// TestRunAndShutdown: Run serves until its context ends, then shuts down
// cleanly; the port is released and the keyspace closed.
func TestRunAndShutdown(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			srv, err := New(Config{Addr: "127.0.0.1:0", Transport: kind, Loops: 2, MetricsAddr: "127.0.0.1:0"}, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Run(ctx) }()
			if err := srv.Start(); err != nil { // waits for the listener
				t.Fatal(err)
			}
			addr := srv.Addr()
			if strings.HasSuffix(addr, ":0") {
				t.Fatalf("Addr() = %q", addr)
			}
			rdb := redis.NewClient(&redis.Options{Addr: addr})
			defer rdb.Close()
			if err := rdb.Set(context.Background(), "k", "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if got := srv.Keyspace().Len(); got != 1 {
				t.Errorf("Keyspace().Len() = %d", got)
			}
			start := time.Now()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v", err)
				}
			case <-time.After(6 * time.Second):
				t.Fatal("Run did not return within 6s")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("shutdown took %v", d)
			}
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.SetReadDeadline(time.Now().Add(time.Second))
				c.Write([]byte("PING\r\n"))
				if n, _ := c.Read(make([]byte, 16)); n > 0 {
					t.Error("server still answering after shutdown")
				}
				c.Close()
			}
			if err := srv.Keyspace().Set([]byte("k"), []byte("v")); !errors.Is(err, core.ErrClosed) {
				t.Errorf("keyspace after shutdown: %v", err)
			}
			if err := srv.Shutdown(context.Background()); err != nil {
				t.Errorf("second Shutdown = %v", err)
			}
		})
	}
}

// TestShutdownInFlight: a shutdown during a pipeline delivers only whole
// replies, then closes; a parked request does not hold shutdown up.
func TestShutdownInFlight(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			srv, err := New(Config{Addr: "127.0.0.1:0", Transport: kind, Loops: 2, EnableDebugCommands: true, MetricsAddr: "127.0.0.1:0"}, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			val := strings.Repeat("v", 10_000)
			srv.Keyspace().Set([]byte("big"), []byte(val))
			parked, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer parked.Close()
			parked.Write([]byte("DEBUG.SLEEPREPLY 60000\r\n"))
			c, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			go func() {
				var req []byte
				for range 2000 {
					req = append(req, "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n"...)
				}
				c.Write(req)
			}()
			r := bufio.NewReader(c)
			want := bulkR(val)
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if got, err := readReply(r); err != nil || got != want {
				t.Fatalf("first reply: %v", err)
			}
			type result struct {
				n       int
				partial int
				bad     bool
				err     error
			}
			done := make(chan result, 1)
			go func() {
				res := result{n: 1}
				for {
					got, err := readReply(r)
					if err != nil {
						res.partial, res.err = len(got), err
						break
					}
					if got != want {
						res.bad = true
						break
					}
					res.n++
				}
				done <- res
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown = %v", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Shutdown took %v with a parked request", d)
			}
			res := <-done
			if errors.Is(res.err, syscall.ECONNRESET) {
				// Closing a socket that still holds unread pipelined input
				// makes the kernel send a reset, and the client loses
				// replies already written: the transport must drain first.
				t.Errorf("connection reset after %d whole replies", res.n)
			}
			if res.bad || res.partial != 0 {
				t.Errorf("after %d whole replies: corrupted %v, partial reply of %d bytes (%v)", res.n, res.bad, res.partial, res.err)
			}
			t.Logf("%d whole replies before close", res.n)
			parked.SetReadDeadline(time.Now().Add(time.Second))
			if n, _ := parked.Read(make([]byte, 64)); n > 0 {
				t.Errorf("parked connection got a reply at shutdown")
			}
		})
	}
}

// TestListenError: Start reports a port already in use.
func TestListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, kind := range []string{TransportGnet, TransportStd} {
		srv, err := New(Config{Addr: ln.Addr().String(), Transport: kind, Loops: 1, MetricsAddr: "127.0.0.1:0"}, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(); err == nil {
			t.Errorf("%s: Start on a busy port succeeded", kind)
		}
		if err := srv.Run(context.Background()); err == nil {
			t.Errorf("%s: Run on a busy port succeeded", kind)
		}
		srv.Shutdown(context.Background())
	}
}

// TestTLS serves RESP over TLS with the std transport.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	ts := startServer(t, TransportStd, Config{TLSCertFile: certFile, TLSKeyFile: keyFile})
	rdb := ts.redis(t, 3, func(o *redis.Options) { o.TLSConfig = &tls.Config{InsecureSkipVerify: true} })
	ctx := context.Background()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := rdb.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Errorf("GET over TLS = %q, %v", got, err)
	}
	plain := ts.redis(t, 3, func(o *redis.Options) { o.DialTimeout = time.Second; o.ReadTimeout = time.Second })
	if err := plain.Ping(ctx).Err(); err == nil {
		t.Error("plain-text client served by a TLS server")
	}
}

// TestTLSCertValidityWarned: an expired (or not yet valid) certificate is
// served, as Redis serves it, but it used to be served silently: every
// client that verifies it refused the handshake and nothing in the log
// said why. New warns, naming the file and the date; a valid one is not
// warned about, and the listening line says TLS is on.
func TestTLSCertValidityWarned(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     string
	}{
		{"expired", now.Add(-48 * time.Hour), now.Add(-24 * time.Hour), "expired"},
		{"not yet valid", now.Add(24 * time.Hour), now.Add(48 * time.Hour), "not valid yet"},
		{"valid", now.Add(-time.Hour), now.Add(time.Hour), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certFile, keyFile := writeCert(t, t.TempDir(), tc.from, tc.to)
			var buf syncBuffer
			cfg := DefaultConfig()
			cfg.Addr, cfg.MetricsAddr, cfg.Transport = "127.0.0.1:0", metricsOff, TransportStd
			cfg.TLSCertFile, cfg.TLSKeyFile = certFile, keyFile
			srv, err := New(cfg, slog.New(slog.NewTextHandler(&buf, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			srv.Shutdown(context.Background())
			log := buf.String()
			if !strings.Contains(log, "tls=true") {
				t.Errorf("the listening line does not say TLS is on:\n%s", log)
			}
			warned := strings.Contains(log, "level=WARN")
			if tc.want == "" {
				if warned {
					t.Errorf("valid certificate warned about:\n%s", log)
				}
				return
			}
			if !warned || !strings.Contains(log, tc.want) || !strings.Contains(log, certFile) {
				t.Errorf("want a warning naming %s and %q, got:\n%s", certFile, tc.want, log)
			}
		})
	}
}

func writeSelfSigned(t *testing.T, dir string) (string, string) {
	t.Helper()
	return writeCert(t, dir, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

// writeCert writes a self-signed certificate for 127.0.0.1, valid from
// notBefore to notAfter, and its key to dir.
func writeCert(t *testing.T, dir string, notBefore, notAfter time.Time) (string, string) {
	return testcert.New(t, notBefore, notAfter).Write(t, dir)
}

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
