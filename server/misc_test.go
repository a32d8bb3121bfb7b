package server

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// infoField extracts an integer field from an INFO reply.
func infoField(t *testing.T, info, name string) int64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:(-?\d+)\r$`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("INFO has no %s: %q", name, info)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// TestInfoCounters: hits, misses and network bytes move exactly as the
// operations dictate.
func TestInfoCounters(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		c.do(t, "SET", "a", "1")
		before := c.do(t, "INFO")
		sent := 0
		for _, args := range [][]string{{"GET", "a"}, {"GET", "a"}, {"MGET", "a", "nokey"}, {"GET", "nokey"}} {
			sent += len(respCommand(args...))
			c.do(t, args...)
		}
		infoReq := len(respCommand("INFO"))
		after := c.do(t, "INFO")
		if d := infoField(t, after, "keyspace_hits") - infoField(t, before, "keyspace_hits"); d != 3 {
			t.Errorf("keyspace_hits moved by %d, want 3", d)
		}
		if d := infoField(t, after, "keyspace_misses") - infoField(t, before, "keyspace_misses"); d != 2 {
			t.Errorf("keyspace_misses moved by %d, want 2", d)
		}
		if infoField(t, after, "connected_clients") != 1 {
			t.Errorf("connected_clients = %d", infoField(t, after, "connected_clients"))
		}
		if got := infoField(t, after, "total_commands_processed") - infoField(t, before, "total_commands_processed"); got != 5 {
			t.Errorf("total_commands_processed moved by %d, want 5", got)
		}
		if d := infoField(t, after, "total_net_input_bytes") - infoField(t, before, "total_net_input_bytes"); d != int64(sent+infoReq) {
			t.Errorf("total_net_input_bytes moved by %d, want %d", d, sent+infoReq)
		}
		if d := infoField(t, after, "total_net_output_bytes") - infoField(t, before, "total_net_output_bytes"); d < int64(len(before)) {
			t.Errorf("total_net_output_bytes moved by %d, want at least %d", d, len(before))
		}
	})
}

func respCommand(args ...string) string {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString(bulkR(a))
	}
	return b.String()
}

// TestArity: every command with a fixed arity refuses one argument more
// and one less, with Redis's message.
func TestArity(t *testing.T) {
	srv := newDirectServer(t, Config{EnableDebugCommands: true})
	c := newDirectClient(t, srv)
	for _, cmd := range srv.cmds.list {
		want := arity(cmd.name)
		if cmd.name == "exec" {
			// Redis's EXEC discards the transaction over any rejection,
			// a wrong argument count included, MULTI or not.
			want = errR("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")
		}
		if cmd.arity > 0 {
			for _, n := range []int{cmd.arity - 1, cmd.arity + 1} {
				if n < 1 {
					continue
				}
				args := append([]string{strings.ToUpper(cmd.name)}, strings.Split(strings.Repeat("x ", n-1), " ")[:n-1]...)
				if got := c.do(t, args...); got != want {
					t.Errorf("%q: got %q, want %q", args, got, want)
				}
			}
		} else if -cmd.arity > 1 {
			n := -cmd.arity - 1
			args := append([]string{cmd.name}, strings.Split(strings.Repeat("x ", n-1), " ")[:n-1]...)
			if got := c.do(t, args...); got != want {
				t.Errorf("%q: got %q, want %q", args, got, want)
			}
		}
	}
}

// TestCommandTable checks the table's invariants: unique names and
// opcodes, a handler per protocol entry, binary bounds.
func TestCommandTable(t *testing.T) {
	cmds := commandList(Config{EnableDebugCommands: true})
	names, ops := map[string]bool{}, map[uint16]bool{}
	for _, c := range cmds {
		if c.name == "" || strings.ToLower(c.name) != c.name || names[c.name] {
			t.Errorf("bad or duplicate name %q", c.name)
		}
		names[c.name] = true
		if c.resp == nil && c.bin == nil {
			t.Errorf("%s has no handler", c.name)
		}
		if c.resp != nil && c.arity == 0 {
			t.Errorf("%s has arity 0", c.name)
		}
		if c.bin != nil {
			if c.op == 0 || ops[uint16(c.op)] || !c.op.Known() {
				t.Errorf("%s: bad or duplicate opcode %v", c.name, c.op)
			}
			ops[uint16(c.op)] = true
			if c.binMax >= 0 && c.binMax < c.binMin {
				t.Errorf("%s: binary bounds %d..%d", c.name, c.binMin, c.binMax)
			}
		}
	}
	if len(ops) != 25 {
		t.Errorf("%d opcodes served, want every one of version 1 (25)", len(ops))
	}
}

func TestParseInt(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1": 1, "-1": -1, "9223372036854775807": math.MaxInt64, "-9223372036854775808": math.MinInt64} {
		if got, ok := parseInt([]byte(in)); !ok || got != want {
			t.Errorf("parseInt(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "-", "+1", "01", "-0", " 1", "1 ", "1.0", "9223372036854775808", "-9223372036854775809", "99999999999999999999", "abc"} {
		if _, ok := parseInt([]byte(in)); ok {
			t.Errorf("parseInt(%q) accepted", in)
		}
	}
}

// TestParseMemory: CONFIG SET maxmemory as redis-server 7.0.15 answers it
// ("", "b" and "kb" set 0; a space or a sign is an error), plus ringdb's
// IEC units.
func TestParseMemory(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "100": 100, "01": 1, "1k": 1000, "1K": 1000, "1kb": 1024, "1KB": 1024,
		"1Gb": 1 << 30, "3gb": 3 << 30, "2MiB": 2 << 20, "1g": 1e9, "": 0, "b": 0, "kb": 0,
		"100\x00x": 100, "1\x002k": 1, "\x00": 0, "1k\x00x": 1000} { // a C string ends at NUL
		if got, ok := parseMemory(in); !ok || got != want {
			t.Errorf("parseMemory(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"abc", "-1", "+1", " 1", "1 ", "1.5gb", "1kbb", "9223372036854775808", "9007199254740992kb",
		"1\u212a", "1\u212ab", "t", "tb", "kib", "GiB"} { // Kelvin sign; extension units need digits
		if _, ok := parseMemory(in); ok {
			t.Errorf("parseMemory(%q) accepted", in)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", false}, // Redis's stringmatchlen: an empty name matches only ""
		{"max*", "maxmemory", true}, {"max*", "timeout", false},
		{"?et", "get", true}, {"[gs]et", "set", true}, {"[^gs]et", "set", false},
		{"[a-c]x", "bx", true}, {"a\\*", "a*", true}, {"a\\*", "ab", false}, {"*y*", "maxmemory-policy", true},
	} {
		if got := globMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// TestGlobMatchIsNotExponential: CONFIG GET and COMMAND LIST take client
// patterns. A backtracking matcher tries every way to split the subject
// among the stars (here C(40,20), about 10^11 ways) and never finishes;
// the keyspace's matcher answers at once.
func TestGlobMatchIsNotExponential(t *testing.T) {
	p := strings.Repeat("*a", 20) + "!"
	if globMatch(p, strings.Repeat("a", 40)) {
		t.Fatal("matched a subject without '!'")
	}
	if !globMatch(p, strings.Repeat("a", 40)+"!") {
		t.Fatal("did not match")
	}
}

// TestUnknownCommandMessage: Redis clips the argument list at 128 bytes.
func TestUnknownCommandMessage(t *testing.T) {
	long := strings.Repeat("a", 200)
	got := unknownCommandMsg(argvOf([]string{"nope", long, "b"}))
	want := "unknown command 'nope', with args beginning with: '" + strings.Repeat("a", 128) + "' "
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	got = unknownCommandMsg(argvOf([]string{"nope", strings.Repeat("a", 100), strings.Repeat("b", 100), "c"}))
	want = "unknown command 'nope', with args beginning with: '" + strings.Repeat("a", 100) + "' '" + strings.Repeat("b", 25) + "' "
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestConfigRuntime: maxmemory and maxmemory-policy change at run time;
// immutable settings refuse a new value with a clear error.
func TestConfigRuntime(t *testing.T) {
	srv := newDirectServer(t, Config{MaxMemory: 1 << 30, Eviction: 1})
	c := newDirectClient(t, srv)
	runSteps(t, c, []step{
		s(bulksR("maxmemory", "1073741824"), "CONFIG", "GET", "maxmemory"),
		s(bulksR("maxmemory-policy", "allkeys-lru"), "CONFIG", "GET", "maxmemory-policy"),
		s(okR, "CONFIG", "SET", "maxmemory", "1gb"),
		s(okR, "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"),
		s(bulksR("maxmemory-policy", "allkeys-lfu"), "CONFIG", "GET", "maxmemory-policy"),
		s(okR, "CONFIG", "SET", "maxmemory-policy", "allkeys"),
		s(okR, "CONFIG", "SET", "maxmemory", "2gb"),
		s(bulksR("maxmemory", "2147483648"), "CONFIG", "GET", "maxmemory"),
		s(okR, "CONFIG", "SET", "maxmemory-policy", "volatile-ttl"),
		s(bulksR("maxmemory-policy", "volatile-ttl"), "CONFIG", "GET", "maxmemory-policy"),
		s(errR("ERR CONFIG SET failed (possibly related to argument 'save') - can't set immutable config"), "CONFIG", "SET", "save", "3600 1"),
		s(okR, "CONFIG", "SET", "save", ""),
		s(okR, "CONFIG", "SET", "appendonly", "no"),
		s(bulksR("maxclients", "10000"), "CONFIG", "GET", "maxclients"),
		s(bulksR("databases", "1"), "CONFIG", "GET", "databases"),
	}, false)
}

// TestResp3Replies checks RESP3 encodings after HELLO 3: nulls, maps and
// verbatim strings, as Redis 7 sends them.
func TestResp3Replies(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		runSteps(t, ts.raw(t), resp3Steps(), false)
	})
}

// TestResp3AgainstRedis proves resp3Steps against a real Redis 7.0
// (compareRedis).
func TestResp3AgainstRedis(t *testing.T) {
	runSteps(t, compareRedis(t), resp3Steps(), true)
}

func resp3Steps() []step {
	return []step{
		sc(hasPrefix("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"), "HELLO", "3"),
		s(okR, "FLUSHALL"),
		s("_\r\n", "GET", "nokey"),
		s("*2\r\n_\r\n_\r\n", "MGET", "a", "b"),
		s("%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n", "CONFIG", "GET", "maxmemory"),
		sc(hasPrefix("=16\r\ntxt:# Keyspace\r\n"), "INFO", "keyspace"),
		sc(hasPrefix("="), "CLIENT", "INFO"),
		s("_\r\n", "CLIENT", "GETNAME"),
		s("_\r\n", "RANDOMKEY"),
		s("*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0"),
		s("_\r\n", "SET", "k", "v", "XX"),
		s(intR(-2), "TTL", "k"),
		sc(hasPrefix("*14\r\n"), "HELLO", "2"), // the reply already speaks RESP2
		s(nullR, "GET", "nokey"),
	}
}

// TestInfoReplicationAndPersistence: clients and exporters read role from
// INFO replication and loading from INFO persistence (go-redis's failover
// client, redis_exporter), cluster_enabled from INFO cluster; Redis 7.0
// lists the default sections in this order (with Modules, which ringdb
// has nothing for).
func TestInfoReplicationAndPersistence(t *testing.T) {
	s := newDirectServer(t, Config{})
	d := newDirectClient(t, s)
	repl := d.do(t, "INFO", "replication")
	if !strings.Contains(repl, "# Replication\r\nrole:master\r\n") {
		t.Fatalf("INFO replication = %q", repl)
	}
	if infoField(t, repl, "connected_slaves") != 0 || infoField(t, repl, "master_repl_offset") != 0 {
		t.Fatalf("INFO replication = %q", repl)
	}
	if p := d.do(t, "INFO", "persistence"); infoField(t, p, "loading") != 0 {
		t.Fatalf("INFO persistence = %q", p)
	}
	var heads []string
	for _, line := range strings.Split(d.do(t, "INFO"), "\r\n") {
		if strings.HasPrefix(line, "# ") {
			heads = append(heads, line[2:])
		}
	}
	want := "Server Clients Memory Persistence Stats Replication CPU Errorstats Cluster Keyspace"
	if got := strings.Join(heads, " "); got != want {
		t.Fatalf("INFO sections %q, want %q", got, want)
	}
}
