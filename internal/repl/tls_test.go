package repl

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringdb/ringdb/internal/testcert"
	"github.com/ringdb/ringdb/server"
)

// writeTLSFiles writes a self-signed certificate for 127.0.0.1 (its own
// CA) and its key to dir.
func writeTLSFiles(t *testing.T, dir string) (certFile, keyFile string) {
	return testcert.Valid(t).Write(t, dir)
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
