// Package cli turns ringdb-server's command line and RINGDB_* environment
// into a server.Config. It lives apart from cmd/ so that it can be tested.
package cli

import (
	"bufio"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/server"
)

// DefaultMemoryShare is the share of the container's memory limit (or of
// host memory) that --maxmemory defaults to. The rest is left for connection
// buffers, the replication backlog and the Go runtime.
const DefaultMemoryShare = 0.6

// Options is the parsed command line.
type Options struct {
	Config  server.Config
	Version bool
}

// ErrUsage wraps every configuration error: the caller prints it and exits
// with status 2.
var ErrUsage = errors.New("ringdb: bad configuration")

// Parse reads args (without the program name) and the environment through
// getenv. A flag --name other than --version can also be set as
// RINGDB_NAME (upper case, dashes as underscores); the command line wins. memTotal reports the memory the
// process may use (for the --maxmemory default).
func Parse(args []string, getenv func(string) string, memTotal func() (int64, error), stderr io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("ringdb-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", server.DefaultAddr, "listen address (host:port)")
	tr := fs.String("transport", server.TransportGnet, "transport: gnet or std (std carries TLS)")
	maxmem := fs.String("maxmemory", "", fmt.Sprintf("memory bound for the data, e.g. 3GiB or 512MB (default %.0f%% of the container's memory limit, or of host memory)", DefaultMemoryShare*100))
	evict := fs.String("eviction", "noeviction", "eviction policy at maxmemory: noeviction, allkeys or volatile")
	cert := fs.String("tls-cert", "", "TLS certificate file (PEM); needs --tls-key and the std transport")
	key := fs.String("tls-key", "", "TLS private key file (PEM)")
	metrics := fs.String("metrics-listen", server.DefaultMetricsAddr, "address of the /metrics HTTP endpoint (empty or off disables it; RINGDB_METRICS_LISTEN=off, since an empty variable counts as unset)")
	pprofOn := fs.Bool("pprof", false, "serve /debug/pprof on the --metrics-listen address")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	token := fs.String("auth-token", "", "password every client must give first (AUTH, HELLO AUTH, or the binary HELLO's auth_token), as Redis's requirepass; empty for none. Prefer RINGDB_AUTH_TOKEN: a command line is visible to other users of the host")
	loops := fs.Int("loops", 0, "gnet event loops (0: one per core, GOMAXPROCS); 1 leaves the other cores to a load generator or application on the same host")
	fs.BoolVar(&o.Version, "version", false, "print the version and exit")

	// Environment first, so that the command line overrides it; a bad
	// variable only matters if the command line does not override it.
	type envError struct {
		flag string
		err  error
	}
	var envErrs []envError
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "version" {
			// An action, not a setting; and images commonly carry their
			// product's version in the environment (the redis image has
			// REDIS_VERSION=7.x.y), which must not stop the server, or
			// make it print its version and exit.
			return
		}
		name := "RINGDB_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if err := f.Value.Set(v); err != nil {
				envErrs = append(envErrs, envError{f.Name, fmt.Errorf("%w: %s=%q: %v", ErrUsage, name, v, err)})
			}
		}
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	for _, e := range envErrs {
		if !isSet(fs, e.flag) {
			return o, e.err
		}
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	if o.Version {
		return o, nil
	}

	if *listen == "" {
		// server.Config would read an empty Addr as the default and
		// listen where the operator did not ask.
		return o, fmt.Errorf("%w: --listen must not be empty (default %s)", ErrUsage, server.DefaultAddr)
	}
	c := server.Config{Addr: *listen, Transport: *tr, TLSCertFile: *cert, TLSKeyFile: *key, MetricsAddr: *metrics, Pprof: *pprofOn, Loops: *loops, AuthToken: *token}
	if c.Loops < 0 || c.Loops > server.MaxLoops {
		return o, fmt.Errorf("%w: --loops must be 0 (one per core) to %d, not %d", ErrUsage, server.MaxLoops, c.Loops)
	}
	if c.MetricsAddr == "" {
		c.MetricsAddr = "off"
	}
	if c.Pprof && c.MetricsAddr == "off" {
		// pprof is served on the metrics endpoint: with that off, --pprof
		// would do nothing, and the operator who asked for profiles would
		// find out only when the port refused them.
		return o, fmt.Errorf("%w: --pprof serves on the --metrics-listen address, which is off", ErrUsage)
	}
	if c.Transport != server.TransportGnet && c.Transport != server.TransportStd {
		return o, fmt.Errorf("%w: --transport must be gnet or std, not %q", ErrUsage, c.Transport)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return o, fmt.Errorf("%w: --tls-cert and --tls-key go together", ErrUsage)
	}
	if c.TLSCertFile != "" && c.Transport == server.TransportGnet {
		if isSet(fs, "transport") || getenv("RINGDB_TRANSPORT") != "" {
			return o, fmt.Errorf("%w: TLS needs --transport std", ErrUsage)
		}
		c.Transport = server.TransportStd
	}
	p, err := core.ParseEvictionPolicy(*evict)
	if err != nil {
		return o, fmt.Errorf("%w: --eviction %q: want noeviction, allkeys or volatile", ErrUsage, *evict)
	}
	c.Eviction = p
	if *maxmem == "" && isSet(fs, "maxmemory") {
		// Not the default: that is had by leaving the flag out, and "0"
		// is how to ask for no bound.
		return o, fmt.Errorf("%w: --maxmemory must not be empty (0 means unbounded)", ErrUsage)
	}
	if *maxmem != "" {
		if c.MaxMemory, err = ParseSize(*maxmem); err != nil {
			return o, fmt.Errorf("%w: --maxmemory: %v", ErrUsage, err)
		}
	} else {
		total, err := memTotal()
		if err != nil {
			return o, fmt.Errorf("%w: cannot find the memory size for the --maxmemory default (%v); set --maxmemory", ErrUsage, err)
		}
		c.MaxMemory = int64(float64(total) * DefaultMemoryShare)
	}
	// server.Config.Validate checks the addresses too, but names neither
	// flag ("listen address: ...").
	for _, a := range []struct{ flag, addr string }{{"--listen", c.Addr}, {"--metrics-listen", c.MetricsAddr}} {
		if a.addr == "off" && a.flag == "--metrics-listen" {
			continue
		}
		if err := checkAddr(a.addr); err != nil {
			return o, fmt.Errorf("%w: %s %q: %v", ErrUsage, a.flag, a.addr, err)
		}
	}
	if c.LogLevel, err = parseLevel(*level); err != nil {
		return o, fmt.Errorf("%w: --log-level %q: want debug, info, warn or error", ErrUsage, *level)
	}
	if err := c.Validate(); err != nil {
		return o, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if c.TLSCertFile != "" {
		// Loaded here too (server.New loads them again) so that a missing
		// or malformed file is reported against the flags that name it.
		if _, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile); err != nil {
			if encryptedKey(c.TLSKeyFile) {
				// Go says only "failed to parse private key".
				return o, fmt.Errorf("%w: --tls-key %s is encrypted (passphrase-protected); ringdb reads unencrypted keys only: decrypt it with openssl pkey -in %[2]s -out <new file>, readable by ringdb alone", ErrUsage, c.TLSKeyFile)
			}
			return o, fmt.Errorf("%w: --tls-cert %s / --tls-key %s: %v", ErrUsage, c.TLSCertFile, c.TLSKeyFile, err)
		}
	}
	o.Config = c
	return o, nil
}

// encryptedKey reports whether the PEM file at path holds an encrypted
// private key: PKCS#8 "ENCRYPTED PRIVATE KEY", or OpenSSL's legacy form
// with a "Proc-Type: 4,ENCRYPTED" header.
func encryptedKey(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			return false
		}
		if blk.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(blk.Headers["Proc-Type"], "ENCRYPTED") {
			return true
		}
	}
}

// checkAddr rejects a host:port no listener could bind: no port, or a
// port that is neither a number from 0 to 65535 nor a service name.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port, e.g. 127.0.0.1:7379")
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

// ParseSize parses a byte size: a plain number of bytes, or a number with a
// unit, case-insensitive. The redis.conf units mean what they mean to Redis
// (and to CONFIG SET maxmemory): k, m, g, t are powers of 1000 and kb, mb,
// gb, tb powers of 1024; KiB, MiB, GiB, TiB are powers of 1024 and B is one
// byte. "0" means unbounded.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("%q is not a size (want e.g. 3GiB)", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size (want e.g. 3GiB)", s)
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1e3, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1e6, "mb": 1 << 20, "mib": 1 << 20,
		"g": 1e9, "gb": 1 << 30, "gib": 1 << 30,
		"t": 1e12, "tb": 1 << 40, "tib": 1 << 40,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%q: unknown unit %q (want B, k, kb, m, mb, g, gb, t, tb, KiB, MiB, GiB or TiB)", s, t[i:])
	}
	v := f * mult
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if v < 1 && f != 0 {
		// 0 means no bound; a fraction of a byte is a mistake, not that.
		return 0, fmt.Errorf("%q is less than one byte", s)
	}
	return int64(v), nil
}

// HeapLimit is the Go heap's soft limit (debug.SetMemoryLimit) for a
// process that may use total bytes and bounds its data at maxMemory: what
// the bound leaves, or no limit (math.MaxInt64, Go's default) when the data
// is unbounded (0) or the bound leaves nothing.
func HeapLimit(total, maxMemory int64) int64 {
	if maxMemory > 0 && total > maxMemory {
		return total - maxMemory
	}
	return math.MaxInt64
}

// MemoryLimit returns the memory this process may use: the tightest cgroup
// memory limit (v2 memory.max, or v1 memory.limit_in_bytes) of this
// process's cgroup and its ancestors, as /proc/self/cgroup names them, when
// one is set and below the host's MemTotal; else MemTotal.
func MemoryLimit() (int64, error) {
	host, err := hostMemory()
	self, _ := os.ReadFile("/proc/self/cgroup")
	if v, ok := cgroupMemoryLimit("/sys/fs/cgroup", string(self)); ok && (err != nil || v < host) {
		return v, nil
	}
	return host, err
}

// cgroupMemoryLimit returns the smallest memory limit set on the cgroups
// that /proc/self/cgroup's text selfCgroup places the process in, and on
// their ancestors, under the cgroup mount root. Inside a cgroup namespace
// the paths are "/" and the files at the root are the container's own;
// without one the process's path is followed down from the host's root.
// "max" (v2) and v1's near-MaxInt64 "unlimited" are no limit.
func cgroupMemoryLimit(root, selfCgroup string) (int64, bool) {
	var dirs []string
	for _, line := range strings.Split(selfCgroup, "\n") {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "": // v2 unified hierarchy
			for _, d := range ancestors(parts[2]) {
				dirs = append(dirs, root+d+"/memory.max", root+"/unified"+d+"/memory.max")
			}
		case slices.Contains(strings.Split(parts[1], ","), "memory"): // v1
			for _, d := range ancestors(parts[2]) {
				dirs = append(dirs, root+"/memory"+d+"/memory.limit_in_bytes")
			}
		}
	}
	dirs = append(dirs, root+"/memory.max", root+"/memory/memory.limit_in_bytes")
	best, found := int64(0), false
	for _, p := range dirs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || v <= 0 || v >= math.MaxInt64-(1<<20) {
			continue // "max", or v1's page-rounded MaxInt64: no limit
		}
		if !found || v < best {
			best, found = v, true
		}
	}
	return best, found
}

// ancestors returns a cgroup path and its parents, "/a/b" -> "/a/b", "/a"
// (the root itself is checked by the caller).
func ancestors(p string) []string {
	p = path.Clean("/" + p)
	var out []string
	for p != "/" && p != "." {
		out = append(out, p)
		p = path.Dir(p)
	}
	return out
}

func hostMemory() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); n == 1 {
			return kb << 10, nil
		}
	}
	return 0, errors.New("no MemTotal in /proc/meminfo")
}
