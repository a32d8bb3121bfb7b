package server

import (
	"errors"
	"fmt"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/transport"
)

// configParam is one CONFIG GET/SET setting.
type configParam struct {
	name string
	get  func(s *Server) string
	// parse validates a new value and returns a function that applies it;
	// nil means the setting is read-only. CONFIG SET validates every pair
	// before applying any, so that it applies all or none as Redis 7.0
	// does: whatever can refuse the value (a setter the keyspace or the
	// transport lacks) is checked here, not in apply.
	parse func(s *Server, v string) (apply func() error, err error)
	// immutable: Redis never lets CONFIG SET change it, not even to the
	// value it has (databases, cluster-enabled). Other read-only settings
	// accept their own value, as Redis accepts them.
	immutable bool
}

// Optional abilities of the keyspace and the transport, detected by type
// assertion. While they are missing, CONFIG SET accepts only the current
// value of the settings they would change.
type (
	maxMemorySetter interface{ SetMaxMemory(int64) error }
	evictionSetter  interface {
		SetEviction(core.EvictionPolicy) error
	}
	maxClientsSetter  interface{ SetMaxClients(int) }
	idleTimeoutSetter interface{ SetIdleTimeout(time.Duration) }
	outputLimiter     interface {
		SetOutputLimits(hard, soft int64, softFor time.Duration)
		OutputLimits() (hard, soft int64, softFor time.Duration)
	}
)

// errRuntimeChange reports a setting that can only change at startup.
var errRuntimeChange = errors.New("changing it at runtime is not supported; restart with the new value")

// evictionNames maps Redis policy names (and ringdb's own) to ringdb's
// policies: every allkeys-* policy is ringdb's allkeys eviction and every
// volatile-* policy its volatile eviction.
var evictionNames = map[string]core.EvictionPolicy{
	"noeviction":      core.NoEviction,
	"allkeys":         core.AllKeys,
	"allkeys-lru":     core.AllKeys,
	"allkeys-lfu":     core.AllKeys,
	"allkeys-random":  core.AllKeys,
	"volatile":        core.Volatile,
	"volatile-lru":    core.Volatile,
	"volatile-lfu":    core.Volatile,
	"volatile-random": core.Volatile,
	"volatile-ttl":    core.Volatile,
}

// redisPolicyName is the Redis name CONFIG GET and INFO report for p.
func redisPolicyName(p core.EvictionPolicy) string {
	switch p {
	case core.AllKeys:
		return "allkeys-lru"
	case core.Volatile:
		return "volatile-lru"
	}
	return "noeviction"
}

// parseConfigInt parses an integer setting in [lo, hi], with Redis's
// errors for a value that is not an integer or is out of range. It reads
// the value as Redis's string2ll does (parseInt), which refuses what
// strconv.ParseInt takes: a '+' sign, leading zeros, "-0".
func parseConfigInt(v string, lo, hi int64) (int64, error) {
	n, ok := parseInt([]byte(v))
	if !ok {
		return 0, errors.New("argument couldn't be parsed into an integer")
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
	}
	return n, nil
}

func constParam(name, value string) configParam {
	return configParam{name: name, get: func(*Server) string { return value }}
}

var configParams = []configParam{
	{
		name: "maxmemory",
		get:  func(s *Server) string { return strconv.FormatInt(s.maxMemory.Load(), 10) },
		parse: func(s *Server, v string) (func() error, error) {
			n, ok := parseMemory(v)
			if !ok {
				return nil, errors.New("argument must be a memory value")
			}
			if n == s.maxMemory.Load() {
				return func() error { return nil }, nil
			}
			ms, ok := any(s.ks).(maxMemorySetter)
			if !ok {
				return nil, errRuntimeChange
			}
			return func() error {
				s.maxMemMu.Lock()
				defer s.maxMemMu.Unlock()
				if err := ms.SetMaxMemory(n); err != nil {
					return err
				}
				s.maxMemory.Store(n)
				if f := s.cfg.OnMaxMemory; f != nil {
					f(n)
				}
				return nil
			}, nil
		},
	},
	{
		name: "maxmemory-policy",
		get:  func(s *Server) string { return *s.policyName.Load() },
		parse: func(s *Server, v string) (func() error, error) {
			name := strings.ToLower(v)
			p, ok := evictionNames[name]
			if !ok {
				return nil, errors.New("argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")
			}
			if name == p.String() {
				// ringdb's own name ("allkeys", "volatile"): CONFIG GET and
				// INFO report a Redis name, as for a policy set at startup,
				// since tools compare it with Redis's.
				name = redisPolicyName(p)
			}
			es, ok := any(s.ks).(evictionSetter)
			if p != s.policy() && !ok {
				return nil, errRuntimeChange
			}
			return func() error {
				if p != s.policy() {
					if err := es.SetEviction(p); err != nil {
						return err
					}
				}
				s.policyName.Store(&name)
				return nil
			}, nil
		},
	},
	{
		name: "maxclients",
		get:  func(s *Server) string { return strconv.FormatInt(s.maxClients.Load(), 10) },
		parse: func(s *Server, v string) (func() error, error) {
			n, err := parseConfigInt(v, 1, 4294967295)
			if err != nil {
				return nil, err
			}
			if m := transport.MaxClientsForFDs(s.cfg.Loops); m > 0 && n > int64(m) {
				return nil, fmt.Errorf("The operating system is not able to handle the specified number of clients, try with %d", m)
			}
			if n == s.maxClients.Load() {
				return func() error { return nil }, nil
			}
			ms, ok := s.tr.(maxClientsSetter)
			if !ok {
				return nil, errRuntimeChange
			}
			return func() error {
				ms.SetMaxClients(int(n))
				s.maxClients.Store(n)
				return nil
			}, nil
		},
	},
	{
		// One set of limits for every client: Redis's three classes are
		// shown with it, and a SET must give them alike.
		name: "client-output-buffer-limit",
		get: func(s *Server) string {
			hard, soft, secs := s.outputLimits()
			l := fmt.Sprintf("%d %d %d", hard, soft, secs)
			// Redis names the replica class "slave" here.
			return "normal " + l + " slave " + l + " pubsub " + l
		},
		parse: func(s *Server, v string) (func() error, error) {
			// Split at each space, as Redis's sdssplitlen: "" is no
			// class at all (nothing changes), and two spaces in a row
			// make an empty word.
			var f []string
			if v != "" {
				f = strings.Split(v, " ")
			}
			if len(f)%4 != 0 {
				return nil, errors.New("Wrong number of arguments in buffer limit configuration.")
			}
			if len(f) == 0 {
				return func() error { return nil }, nil
			}
			var hard, soft, secs int64
			for i := 0; i < len(f); i += 4 {
				switch strings.ToLower(f[i]) {
				case "normal", "replica", "slave", "pubsub":
				default:
					return nil, errors.New("Invalid client class specified in buffer limit configuration.")
				}
				h, okH := parseMemory(f[i+1])
				so, okS := parseMemory(f[i+2])
				se, err := strconv.ParseInt(f[i+3], 10, 64)
				if !okH || !okS || err != nil || se < 0 || se > math.MaxInt64/int64(time.Second) {
					return nil, errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
				}
				if i > 0 && (h != hard || so != soft || se != secs) {
					return nil, errors.New("one limit applies to every client class here: give each class the same values")
				}
				hard, soft, secs = h, so, se
			}
			ol, ok := s.tr.(outputLimiter)
			if !ok {
				return nil, errRuntimeChange
			}
			return func() error {
				// 0 is no limit, as in Redis; the transport takes
				// <= 0 so.
				ol.SetOutputLimits(hard, soft, time.Duration(secs)*time.Second)
				return nil
			}, nil
		},
	},
	{
		name: "timeout",
		get:  func(s *Server) string { return strconv.FormatInt(s.idleTimeout.Load(), 10) },
		parse: func(s *Server, v string) (func() error, error) {
			n, err := parseConfigInt(v, 0, 2147483647)
			if err != nil {
				return nil, err
			}
			if n == s.idleTimeout.Load() {
				return func() error { return nil }, nil
			}
			ts, ok := s.tr.(idleTimeoutSetter)
			if !ok {
				return nil, errRuntimeChange
			}
			return func() error {
				ts.SetIdleTimeout(time.Duration(n) * time.Second)
				s.idleTimeout.Store(n)
				return nil
			}, nil
		},
	},
	{
		name: "requirepass",
		get:  func(s *Server) string { return s.token() },
		parse: func(s *Server, v string) (func() error, error) {
			return func() error { s.authToken.Store(&v); return nil }, nil
		},
	},
	{
		name: "bind",
		get: func(s *Server) string {
			host, _, _ := net.SplitHostPort(s.localAddr())
			return host
		},
	},
	{
		name: "port",
		get: func(s *Server) string {
			_, port, _ := net.SplitHostPort(s.localAddr())
			return port
		},
	},
	{
		name: "proto-max-bulk-len",
		get:  func(s *Server) string { return strconv.FormatInt(s.cfg.maxBulk(), 10) },
	},
	{
		name: "slowlog-log-slower-than",
		get:  func(s *Server) string { return strconv.FormatInt(s.slow.threshold.Load(), 10) },
		parse: func(s *Server, v string) (func() error, error) {
			n, err := parseConfigInt(v, -1, 9223372036854775807)
			if err != nil {
				return nil, err
			}
			return func() error { s.slow.threshold.Store(n); return nil }, nil
		},
	},
	{
		name: "slowlog-max-len",
		get:  func(s *Server) string { return strconv.FormatInt(s.slow.maxLen.Load(), 10) },
		parse: func(s *Server, v string) (func() error, error) {
			n, err := parseConfigInt(v, 0, 9223372036854775807)
			if err != nil {
				return nil, err
			}
			return func() error { s.slow.setMaxLen(n); return nil }, nil
		},
	},
	constParam("appendonly", "no"),
	constParam("save", ""),
	{name: "databases", get: func(*Server) string { return "1" }, immutable: true},
	{name: "cluster-enabled", get: func(*Server) string { return "no" }, immutable: true},
}

var configSubs = nameSubcommands("config", map[string]*subcommand{
	"get":       {arity: -3, flags: flagAdmin, run: configGet},
	"set":       {arity: -4, flags: flagAdmin, run: configSet},
	"resetstat": {arity: 2, flags: flagAdmin, run: func(c *cmdCtx) { c.srv.resetStats(); c.w.OK() }},
	"rewrite":   {arity: 2, flags: flagAdmin, run: func(c *cmdCtx) { c.errReply("The server is running without a config file") }},
	"help":      {arity: 2, run: configHelp},
})

func cmdConfig(c *cmdCtx) { dispatchSub(c, configSubs) }

// configGet is CONFIG GET pattern [pattern ...]: a map of the matching
// settings, each once, sorted by name. As in Redis 7.0, a name without
// glob characters is answered under the name as typed (CONFIG GET
// MAXMEMORY answers MAXMEMORY); a pattern answers canonical names.
func configGet(c *cmdCtx) {
	type hit struct {
		name string
		p    *configParam
	}
	var hits []hit
	seen := make(map[*configParam]bool)
	for _, pat := range c.argv[2:] {
		if !strings.ContainsAny(string(pat), "[*?") {
			if p := findConfigParam(strings.ToLower(string(pat))); p != nil && !seen[p] {
				seen[p] = true
				hits = append(hits, hit{string(pat), p})
			}
			continue
		}
		lower := strings.ToLower(string(pat))
		for i := range configParams {
			p := &configParams[i]
			if !seen[p] && globMatch(lower, p.name) {
				seen[p] = true
				hits = append(hits, hit{p.name, p})
			}
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].name < hits[j].name })
	c.w.Map(len(hits))
	for _, h := range hits {
		c.w.BulkString(h.name)
		c.w.BulkString(h.p.get(c.srv))
	}
}

// configSet is CONFIG SET name value [name value ...]: every pair is
// validated before any is applied.
func configSet(c *cmdCtx) {
	args := c.argv[2:]
	if len(args)%2 != 0 {
		c.syntaxErr()
		return
	}
	// As Redis 7.0 does: first every name (unknown, duplicate, immutable;
	// the first of these errors in argument order wins), then every value,
	// then apply.
	params := make([]*configParam, 0, len(args)/2)
	for i := 0; i < len(args); i += 2 {
		name := strings.ToLower(string(args[i]))
		p := findConfigParam(name)
		if p == nil {
			c.errReply("Unknown option or number of arguments for CONFIG SET - '" + clip(string(args[i]), len(args[i])) + "'")
			return
		}
		for _, q := range params {
			if q == p {
				c.errReply(configSetFailed(clip(string(args[i]), len(args[i])), "duplicate parameter"))
				return
			}
		}
		if p.immutable || p.parse == nil && string(args[i+1]) != p.get(c.srv) {
			c.errReply(configSetFailed(clip(string(args[i]), len(args[i])), "can't set immutable config"))
			return
		}
		params = append(params, p)
	}
	applies := make([]func() error, 0, len(params))
	names := make([]string, 0, len(params))
	for i, p := range params {
		if p.parse == nil {
			continue // immutable, set to the value it has
		}
		apply, err := p.parse(c.srv, string(args[2*i+1]))
		if err != nil {
			c.errReply(configSetFailed(p.name, err.Error()))
			return
		}
		applies = append(applies, apply)
		names = append(names, p.name)
	}
	for i, apply := range applies {
		if err := apply(); err != nil {
			c.errReply(configSetFailed(names[i], err.Error()))
			return
		}
	}
	c.w.OK()
}

func findConfigParam(name string) *configParam {
	for i := range configParams {
		if configParams[i].name == name {
			return &configParams[i]
		}
	}
	return nil
}

// configSetFailed is Redis's CONFIG SET error text.
func configSetFailed(name, why string) string {
	return "CONFIG SET failed (possibly related to argument '" + name + "') - " + why
}

func configHelp(c *cmdCtx) {
	lines := []string{
		"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>", "    Set the configuration <directive> to <value>.",
		"RESETSTAT", "    Reset statistics reported by the INFO command.",
		"REWRITE", "    Rewrite the configuration file.",
		"HELP", "    Prints this help.",
	}
	c.w.Array(len(lines))
	for _, l := range lines {
		c.w.Simple(l)
	}
}
