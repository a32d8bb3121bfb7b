package repl

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
)

// writeTLSFiles writes a self-signed certificate for 127.0.0.1 (its own
// CA) and its key to dir.
func writeTLSFiles(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ringdb-cli test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestTLSCACert: -cacert verifies the server with a private CA, as
// redis-cli's --cacert. Without it -tls trusted only the system's CAs, so
// a server with a certificate from the operator's own CA could be reached
// only with -insecure, which verifies nothing.
func TestTLSCACert(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeTLSFiles(t, dir)
	addr := startServer(t, server.Config{Transport: server.TransportStd, TLSCertFile: certFile, TLSKeyFile: keyFile})

	if out, errOut, code := oneShot(t, "-a", addr, "-tls", "-cacert", certFile, "PING"); code != 0 || out != "PONG\n" {
		t.Errorf("-tls -cacert: %q %q exit %d", out, errOut, code)
	}
	if _, errOut, code := oneShot(t, "-a", addr, "-tls", "PING"); code != 1 || !strings.Contains(errOut, "certificate") {
		t.Errorf("-tls without -cacert: want a certificate error and exit 1, got %q exit %d", errOut, code)
	}
	if out, _, code := oneShot(t, "-a", addr, "-tls", "-insecure", "PING"); code != 0 || out != "PONG\n" {
		t.Errorf("-tls -insecure: %q exit %d", out, code)
	}
	if _, errOut, code := oneShot(t, "-a", addr, "-cacert", certFile, "PING"); code != 2 || !strings.Contains(errOut, "-tls") {
		t.Errorf("-cacert without -tls: want exit 2 naming -tls, got %q exit %d", errOut, code)
	}
	if _, errOut, code := oneShot(t, "-a", addr, "-tls", "-cacert", keyFile, "PING"); code != 2 || !strings.Contains(errOut, "-cacert") {
		t.Errorf("-cacert of a key file: want exit 2 naming -cacert, got %q exit %d", errOut, code)
	}
	if _, errOut, code := oneShot(t, "-a", addr, "-tls", "-cacert", filepath.Join(dir, "missing.pem"), "PING"); code != 2 || !strings.Contains(errOut, "missing.pem") {
		t.Errorf("missing -cacert file: want exit 2 naming it, got %q exit %d", errOut, code)
	}
}
