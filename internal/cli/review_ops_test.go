package cli

import (
	"io"
	"path/filepath"
	"strings"
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

// An empty --listen is a usage error, not the default address: the
// operator asked for something and would get a server somewhere else.
func TestParseEmptyListen(t *testing.T) {
	_, err := Parse([]string{"--listen", ""}, env(nil), fourGiB, io.Discard)
	require.ErrorIs(t, err, ErrUsage)
	require.True(t, strings.Contains(err.Error(), "--listen"), err.Error())
}
