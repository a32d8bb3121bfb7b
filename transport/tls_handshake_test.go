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

// expectClosedWithin checks that the server closes c within d.
func expectClosedWithin(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(d))
	var b [512]byte
	for {
		_, err := c.Read(b[:])
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("still open after %v", time.Since(start))
		}
		return
	}
}

// TestTLSHandshakeIdleTimeout: a client that connects and never finishes
// its TLS handshake is idle like any other, as Redis counts its TLS
// clients idle from accept: with a timeout set, it kept its slot (and
// its MaxClients count) for the whole 10 s handshake bound.
func TestTLSHandshakeIdleTimeout(t *testing.T) {
	t.Parallel()
	e, _ := startTLS(t, Config{IdleTimeout: 200 * time.Millisecond})
	raw, err := net.Dial("tcp", e.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	expectClosedWithin(t, raw, 1500*time.Millisecond)
	eventually(t, "slot freed", func() bool { return e.stats().Connected == 0 })
}

// TestTLSHandshakeRefused: a connection refused by MaxClients may stay
// silent for a second (rejectWait) before it is closed; in its TLS
// handshake it could hold one of the few places kept for refusals
// (refuseRoom) for the whole 10 s handshake bound.
func TestTLSHandshakeRefused(t *testing.T) {
	t.Parallel()
	e, ccfg := startTLS(t, Config{MaxClients: 1})
	c, err := tls.Dial("tcp", e.srv.Addr().String(), ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl := newClient(c)
	cl.write(t, cmd("PING"))
	cl.expect(t, "PONG")
	raw, err := net.Dial("tcp", e.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	expectClosedWithin(t, raw, 2500*time.Millisecond)
}
