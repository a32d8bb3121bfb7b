package cli

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A key pair that cannot be loaded is a usage error that names the flags,
// found while parsing (it used to surface from server.New as
// "ringdb: ringdb: tls: open ...", naming no flag).
func TestParseBadKeyPairNamesTheFlags(t *testing.T) {
	dir := t.TempDir()
	_, err := Parse([]string{"--tls-cert", filepath.Join(dir, "c.pem"), "--tls-key", filepath.Join(dir, "k.pem")}, env(nil), fourGiB, io.Discard)
	require.ErrorIs(t, err, ErrUsage)
	require.Contains(t, err.Error(), "--tls-cert")
	require.Contains(t, err.Error(), "c.pem")
}
