package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync"
	"testing"

	"github.com/ringdb/ringdb/internal/testcert"
	"github.com/ringdb/ringdb/server"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	c := testcert.Valid(t)
	certFile, keyFile = c.Write(t, dir)
	return certFile, keyFile, c.Pool
}

func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	s := startServer(t, server.Config{TLSCertFile: certFile, TLSKeyFile: keyFile, Transport: server.TransportStd})
	ctx := testCtx(t)

	c := newClient(t, s.Addr(), WithTLS(&tls.Config{RootCAs: pool}))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := string(rune('a' + g))
			for range 50 {
				if err := c.Set(ctx, k, []byte(k), 0); err != nil {
					t.Error(err)
					return
				}
				if v, _, err := c.Get(ctx, k); err != nil || string(v) != k {
					t.Errorf("get %s: %q %v", k, v, err)
					return
				}
			}
		}()
	}
	wg.Wait()

	// An untrusted certificate fails the dial.
	if _, err := New(ctx, s.Addr(), WithTLS(&tls.Config{})); !errors.Is(err, ErrConnLost) {
		t.Fatalf("untrusted certificate: %v", err)
	}
}
