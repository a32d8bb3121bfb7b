package cli

import (
	"io"
	"os"
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

// An encrypted (passphrase-protected) key, as openssl writes with -aes256,
// is named as such: Go's "tls: failed to parse private key" left the
// operator guessing at the file's format, where Redis has
// tls-key-file-pass. Both PEM forms: PKCS#8 and OpenSSL's legacy
// Proc-Type header.
func TestParseEncryptedKeyIsNamed(t *testing.T) {
	dir := t.TempDir()
	cert := writeFile(t, dir, "c.pem", testCertPEM)
	for name, key := range map[string]string{
		"pkcs8":  "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n",
		"legacy": "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,0123456789ABCDEF0123456789ABCDEF\n\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END RSA PRIVATE KEY-----\n",
	} {
		t.Run(name, func(t *testing.T) {
			key := writeFile(t, dir, name+".key", key)
			_, err := Parse([]string{"--tls-cert", cert, "--tls-key", key}, env(nil), fourGiB, io.Discard)
			require.ErrorIs(t, err, ErrUsage)
			require.Contains(t, err.Error(), "--tls-key")
			require.Contains(t, err.Error(), "encrypted")
			require.Contains(t, err.Error(), "openssl pkey")
		})
	}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
	return p
}

// testCertPEM is a self-signed certificate (its key is not needed: the
// key file is refused first).
const testCertPEM = `-----BEGIN CERTIFICATE-----
MIIBgjCCASegAwIBAgIUeaoQ+OvGScGy1H+bE/deflehbSAwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLcmluZ2RiIHRlc3QwHhcNMjYxMTI5MDgxNDE2WhcNMzYxMTI2
MDgxNDE2WjAWMRQwEgYDVQQDDAtyaW5nZGIgdGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABONUIoa8EnY+IRMKhf/bGkCk1n8MdkH8cDI56XwEW8MjWupCnUpU
JLuX4pZCWx3L5lQnwEwASnY9E0WHQOhfWVejUzBRMB0GA1UdDgQWBBSIqpnDlWp5
l8sKvRuJkzYzcLel/TAfBgNVHSMEGDAWgBSIqpnDlWp5l8sKvRuJkzYzcLel/TAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQCMq06FvidQ5KgJHu8q
Rkdy6GxChvN7F11jndbHyUTo9wIhAKiLxs0XTUCZHPR4jUs00w3nnLfDcJzMfh/g
Vef8b0DY
-----END CERTIFICATE-----
`
