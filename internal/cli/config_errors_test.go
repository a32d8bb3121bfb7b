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

// An empty --maxmemory on the command line is a usage error rather than
// the memory-share default: "0" is how to ask for no bound, and the
// default is had by leaving the flag out.
func TestParseEmptyMaxmemory(t *testing.T) {
	_, err := Parse([]string{"--maxmemory", ""}, env(nil), fourGiB, io.Discard)
	require.ErrorIs(t, err, ErrUsage)
	require.Contains(t, err.Error(), "--maxmemory")
	o, err := Parse(nil, env(map[string]string{"RINGDB_MAXMEMORY": ""}), fourGiB, io.Discard)
	require.NoError(t, err, "an empty variable counts as unset")
	total := float64(4 << 30)
	require.Equal(t, int64(total*DefaultMemoryShare), o.Config.MaxMemory)
}

// README: "A bad value prints a message naming the flag". A malformed
// --listen or --metrics-listen was reported as "listen address: ..." or
// "metrics address: ...", naming neither flag.
func TestParseBadAddressNamesTheFlag(t *testing.T) {
	for _, tc := range []struct{ flag, value string }{
		{"--listen", "bogus"},
		{"--listen", "127.0.0.1:99999"},
		{"--metrics-listen", "bogus"},
		{"--metrics-listen", "127.0.0.1:nosuchservice"},
	} {
		_, err := Parse([]string{tc.flag, tc.value}, env(nil), fourGiB, io.Discard)
		require.ErrorIs(t, err, ErrUsage, tc.flag)
		require.Contains(t, err.Error(), tc.flag+" ", tc.flag)
		require.Contains(t, err.Error(), tc.value, tc.flag)
	}
}

// A bad --log-level said only `--log-level: slog: level string "verbose":
// unknown name`, without the levels there are.
func TestParseBadLogLevelListsLevels(t *testing.T) {
	_, err := Parse([]string{"--log-level", "verbose"}, env(nil), fourGiB, io.Discard)
	require.ErrorIs(t, err, ErrUsage)
	require.Contains(t, err.Error(), `--log-level "verbose"`)
	require.Contains(t, err.Error(), "debug, info, warn or error")
}
