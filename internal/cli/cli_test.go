package cli

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/server"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func fourGiB() (int64, error) { return 4 << 30, nil }

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1024": 1024, "3GiB": 3 << 30, "3gib": 3 << 30, "512MB": 512 << 20, "512mb": 512 << 20,
		"1.5GiB": 3 << 29, "10 KiB": 10 << 10, "7B": 7,
		// As Redis (and CONFIG SET maxmemory) read them: k/m/g are powers
		// of 1000, kb/mb/gb powers of 1024.
		"64k": 64e3, "64kb": 64 << 10, "2m": 2e6, "2g": 2e9, "2gb": 2 << 30, "1t": 1e12,
	} {
		got, err := ParseSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "GiB", "3XB", "-1", "1e30GiB", "abc", "0.5", "0.4B"} { // a fraction of a byte is not "no bound"
		_, err := ParseSize(bad)
		require.Error(t, err, bad)
	}
}

func TestParseDefaults(t *testing.T) {
	o, err := Parse(nil, env(nil), fourGiB, io.Discard)
	require.NoError(t, err)
	c := o.Config
	require.Equal(t, "127.0.0.1:7379", c.Addr)
	require.Equal(t, server.TransportGnet, c.Transport)
	total := float64(4 << 30)
	require.Equal(t, int64(total*DefaultMemoryShare), c.MaxMemory)
	require.Equal(t, core.NoEviction, c.Eviction)
	require.Equal(t, "127.0.0.1:9379", c.MetricsAddr)
	require.False(t, c.Pprof, "pprof is off by default")
	require.Equal(t, slog.LevelInfo, c.LogLevel)
}

// --pprof and RINGDB_PPROF turn on /debug/pprof.
func TestParsePprof(t *testing.T) {
	o, err := Parse([]string{"--pprof"}, env(nil), fourGiB, io.Discard)
	require.NoError(t, err)
	require.True(t, o.Config.Pprof)
	o, err = Parse(nil, env(map[string]string{"RINGDB_PPROF": "true"}), fourGiB, io.Discard)
	require.NoError(t, err)
	require.True(t, o.Config.Pprof)
	o, err = Parse([]string{"--metrics-listen", ""}, env(nil), fourGiB, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "off", o.Config.MetricsAddr, "an empty address turns the endpoint off")
	// pprof lives on the metrics endpoint: asking for it with the endpoint
	// off is a usage error, not a silent no-op.
	for _, args := range [][]string{{"--pprof", "--metrics-listen", "off"}, {"--pprof", "--metrics-listen", ""}} {
		_, err = Parse(args, env(nil), fourGiB, io.Discard)
		require.ErrorIs(t, err, ErrUsage, "%q", args)
		require.ErrorContains(t, err, "--pprof")
	}
	_, err = Parse(nil, env(map[string]string{"RINGDB_PPROF": "1", "RINGDB_METRICS_LISTEN": "off"}), fourGiB, io.Discard)
	require.ErrorIs(t, err, ErrUsage)
}

// --loops and RINGDB_LOOPS set the number of event loops; 0 (the default)
// means one per core, and a negative count, or one past gnet's 256 (it
// would run 256 while the descriptor budget counted them all: --loops
// 600000 cut maxclients to 1), is a usage error.
func TestParseLoops(t *testing.T) {
	o, err := Parse(nil, env(nil), fourGiB, io.Discard)
	require.NoError(t, err)
	require.Zero(t, o.Config.Loops)
	o, err = Parse([]string{"--loops", "1"}, env(nil), fourGiB, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 1, o.Config.Loops)
	o, err = Parse(nil, env(map[string]string{"RINGDB_LOOPS": "3"}), fourGiB, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 3, o.Config.Loops)
	_, err = Parse([]string{"--loops", "-1"}, env(nil), fourGiB, io.Discard)
	require.ErrorIs(t, err, ErrUsage)
	_, err = Parse([]string{"--loops", "many"}, env(nil), fourGiB, io.Discard)
	require.ErrorIs(t, err, ErrUsage)
	o, err = Parse([]string{"--loops", "256"}, env(nil), fourGiB, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 256, o.Config.Loops)
	_, err = Parse([]string{"--loops", "257"}, env(nil), fourGiB, io.Discard)
	require.ErrorIs(t, err, ErrUsage)
	require.ErrorContains(t, err, "--loops must be 0 (one per core) to 256")
}

func TestParseFlagsAndEnv(t *testing.T) {
	e := env(map[string]string{
		"RINGDB_LISTEN":         "0.0.0.0:7000",
		"RINGDB_MAXMEMORY":      "1GiB",
		"RINGDB_EVICTION":       "allkeys",
		"RINGDB_LOG_LEVEL":      "debug",
		"RINGDB_TRANSPORT":      "std",
		"RINGDB_TLS_CERT":       "",
		"RINGDB_METRICS_LISTEN": "",
	})
	o, err := Parse([]string{"--listen", "127.0.0.1:7001"}, e, fourGiB, io.Discard)
	require.NoError(t, err)
	c := o.Config
	require.Equal(t, "127.0.0.1:7001", c.Addr, "the command line wins over the environment")
	require.Equal(t, int64(1<<30), c.MaxMemory)
	require.Equal(t, core.AllKeys, c.Eviction)
	require.Equal(t, slog.LevelDebug, c.LogLevel)
	require.Equal(t, server.TransportStd, c.Transport)

	o, err = Parse([]string{"--version"}, env(nil), fourGiB, io.Discard)
	require.NoError(t, err)
	require.True(t, o.Version)
}

func TestParseBadConfig(t *testing.T) {
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
	}{
		"unknown flag":     {args: []string{"--nope"}},
		"bad size":         {args: []string{"--maxmemory", "lots"}},
		"bad policy":       {args: []string{"--eviction", "allkeys-lru-ish"}},
		"bad transport":    {args: []string{"--transport", "carrier-pigeon"}},
		"cert without key": {args: []string{"--tls-cert", "c.pem"}},
		"tls on gnet":      {args: []string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--transport", "gnet"}},
		"bad level":        {args: []string{"--log-level", "loud"}},
		"bad env":          {env: map[string]string{"RINGDB_MAXMEMORY": "12 parsecs"}},
		"stray argument":   {args: []string{"extra"}},
	} {
		_, err := Parse(c.args, env(c.env), fourGiB, io.Discard)
		require.Error(t, err, name)
		require.True(t, errors.Is(err, ErrUsage), name)
	}
	_, err := Parse(nil, env(nil), func() (int64, error) { return 0, errors.New("no /proc") }, io.Discard)
	require.ErrorIs(t, err, ErrUsage, "no memory size and no --maxmemory")
}

// TestMetricsOffFromEnvironment: an empty environment variable counts as
// unset, so RINGDB_METRICS_LISTEN=off is how the environment disables the
// endpoint.
func TestMetricsOffFromEnvironment(t *testing.T) {
	env := map[string]string{"RINGDB_METRICS_LISTEN": "off", "RINGDB_MAXMEMORY": "64MiB"}
	o, err := Parse(nil, func(k string) string { return env[k] }, fourGiB, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "off", o.Config.MetricsAddr)
}

// TestBadEnvironmentOverriddenByFlag: a malformed variable is an error
// only when the command line does not set the same flag.
func TestBadEnvironmentOverriddenByFlag(t *testing.T) {
	env := map[string]string{"RINGDB_LOOPS": "many", "RINGDB_PPROF": "maybe", "RINGDB_MAXMEMORY": "64MiB"}
	getenv := func(k string) string { return env[k] }
	_, err := Parse(nil, getenv, fourGiB, io.Discard)
	require.ErrorIs(t, err, ErrUsage)
	o, err := Parse([]string{"--loops", "1", "--pprof=false"}, getenv, fourGiB, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 1, o.Config.Loops)
	require.False(t, o.Config.Pprof)
}

// TestCgroupMemoryLimit: the limit is found at the namespace root, or down
// the process's own path (no cgroup namespace, v1 or v2), the tightest of
// the process's cgroup and its ancestors wins, and "max" or v1's
// "unlimited" count as none.
func TestCgroupMemoryLimit(t *testing.T) {
	write := func(root, rel, v string) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(v+"\n"), 0o644))
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		self  string
		want  int64
		found bool
	}{
		{"v2 namespace root", map[string]string{"memory.max": "4294967296"}, "0::/\n", 4 << 30, true},
		{"v2 max", map[string]string{"memory.max": "max"}, "0::/\n", 0, false},
		{"v2 own path, no namespace", map[string]string{"memory.max": "max", "kubepods/pod1/c1/memory.max": "2147483648", "kubepods/memory.max": "8589934592"}, "0::/kubepods/pod1/c1\n", 2 << 30, true},
		{"v2 tighter parent", map[string]string{"a/memory.max": "1073741824", "a/b/memory.max": "max"}, "0::/a/b\n", 1 << 30, true},
		{"v2 hybrid unified mount", map[string]string{"unified/svc/memory.max": "3221225472"}, "0::/svc\n", 3 << 30, true},
		{"v1 own path", map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712", "memory/docker/abc/memory.limit_in_bytes": "1073741824"}, "4:memory:/docker/abc\n0::/\n", 1 << 30, true},
		{"v1 joint controllers", map[string]string{"memory/x/memory.limit_in_bytes": "536870912"}, "5:cpu,memory:/x\n", 512 << 20, true},
		{"v1 unlimited", map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712"}, "4:memory:/\n", 0, false},
		{"nothing", nil, "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for rel, v := range tc.files {
				write(root, rel, v)
			}
			got, found := cgroupMemoryLimit(root, tc.self)
			require.Equal(t, tc.found, found)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestHeapLimit: the heap gets what the data's bound leaves, and no limit
// when the data is unbounded or the bound takes everything.
func TestHeapLimit(t *testing.T) {
	for _, tc := range []struct{ total, max, want int64 }{
		{4 << 30, 3 << 30, 1 << 30},
		{4 << 30, 0, math.MaxInt64},
		{4 << 30, 4 << 30, math.MaxInt64},
		{4 << 30, 5 << 30, math.MaxInt64},
	} {
		if got := HeapLimit(tc.total, tc.max); got != tc.want {
			t.Errorf("HeapLimit(%d, %d) = %d, want %d", tc.total, tc.max, got, tc.want)
		}
	}
}

// TestVersionVariableIgnored: RINGDB_VERSION, as images set
// <PRODUCT>_VERSION (the redis image has REDIS_VERSION), made the server
// refuse to start ("RINGDB_VERSION=\"0.1.0\": parse error") or, set to
// "true", print its version and exit 0 instead of serving.
func TestVersionVariableIgnored(t *testing.T) {
	for _, v := range []string{"0.1.0", "true"} {
		o, err := Parse(nil, env(map[string]string{"RINGDB_VERSION": v, "RINGDB_MAXMEMORY": "64MiB"}), fourGiB, io.Discard)
		require.NoError(t, err, v)
		require.False(t, o.Version, v)
		require.Equal(t, int64(64<<20), o.Config.MaxMemory, v)
	}
}

// --auth-token (or RINGDB_AUTH_TOKEN, the variable ringdb-cli reads too)
// sets the password clients must give, so a restarted server is never
// open until someone runs CONFIG SET requirepass; the command line wins,
// and the default is none.
func TestParseAuthToken(t *testing.T) {
	o, err := Parse(nil, env(nil), fourGiB, io.Discard)
	require.NoError(t, err)
	require.Empty(t, o.Config.AuthToken)
	o, err = Parse(nil, env(map[string]string{"RINGDB_AUTH_TOKEN": "from-env"}), fourGiB, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "from-env", o.Config.AuthToken)
	o, err = Parse([]string{"--auth-token", "s p a c e"}, env(map[string]string{"RINGDB_AUTH_TOKEN": "from-env"}), fourGiB, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "s p a c e", o.Config.AuthToken)
}
