package transport

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// startTLS starts a std server with TLS and cfg, and returns it with a
// client TLS config that trusts it.
func startTLS(t *testing.T, cfg Config) (*env, *tls.Config) {
	t.Helper()
	cert, pool := selfSigned(t)
	cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	e := startEnv(t, "std", cfg)
	return e, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// TestTLSHandshakeSurvivesIdleTimeoutChange: CONFIG SET timeout
// (SetIdleTimeout) ends the reader's wait of every connection so that it
// waits under the new timeout; a connection still in its TLS handshake was
// aborted by that, its handshake failing on the expired deadline.
func TestTLSHandshakeSurvivesIdleTimeoutChange(t *testing.T) {
	t.Parallel()
	e, ccfg := startTLS(t, Config{})
	raw, err := net.Dial("tcp", e.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	eventually(t, "connection accepted", func() bool { return e.stats().Connected == 1 })
	e.srv.(*netServer).SetIdleTimeout(time.Minute)
	c := tls.Client(raw, ccfg)
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if err := c.Handshake(); err != nil {
		t.Fatalf("handshake after SetIdleTimeout: %v", err)
	}
	cl := newClient(c)
	cl.write(t, cmd("PING"))
	cl.expect(t, "PONG")
}
