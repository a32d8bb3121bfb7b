package server

import (
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringdb/ringdb/core"
)

// hitsMisses runs cmds (after setup) on a fresh server and returns how far
// they moved keyspace_hits and keyspace_misses.
func hitsMisses(t *testing.T, setup, cmds [][]string) (uint64, uint64) {
	t.Helper()
	s := newDirectServer(t, Config{})
	d := newDirectClient(t, s)
	for _, c := range setup {
		d.do(t, c...)
	}
	st0 := s.ks.Stats()
	for _, c := range cmds {
		d.do(t, c...)
	}
	st1 := s.ks.Stats()
	return st1.Hits - st0.Hits, st1.Misses - st0.Misses
}

// Redis 7.0 counts one keyspace hit for GETEX with an expiry option on an
// existing key (getexCommand does one lookupKeyRead); ringdb once counted
// two (an Exists before the GetEx).
func TestGetExWithExpiryCountsOneHit(t *testing.T) {
	for _, opt := range [][]string{{"EX", "100"}, {"PX", "100000"}, {"EXAT", "9999999999"}, {"PXAT", "9999999999999"}} {
		getex := append([]string{"GETEX", "k"}, opt...)
		h, m := hitsMisses(t, [][]string{{"SET", "k", "v"}}, [][]string{getex})
		if h != 1 || m != 0 {
			t.Errorf("%v on an existing key: keyspace_hits +%d, keyspace_misses +%d; Redis 7.0 gives +1, +0", getex, h, m)
		}
	}
}

// Redis 7.0 counts GETSET and SET ... GET as reads: both run
// getGenericCommand (lookupKeyReadOrReply) before writing, so an existing
// key is a keyspace hit and a missing one a miss (ringdb once counted
// neither).
func TestGetSetAndSetGetCountHitsAndMisses(t *testing.T) {
	for _, tc := range []struct {
		setup        [][]string
		cmd          []string
		hits, misses uint64
	}{
		{[][]string{{"SET", "k", "v"}}, []string{"GETSET", "k", "v2"}, 1, 0},
		{nil, []string{"GETSET", "k", "v2"}, 0, 1},
		{[][]string{{"SET", "k", "v"}}, []string{"SET", "k", "v2", "GET"}, 1, 0},
		{nil, []string{"SET", "k", "v2", "GET"}, 0, 1},
	} {
		h, m := hitsMisses(t, tc.setup, [][]string{tc.cmd})
		if h != tc.hits || m != tc.misses {
			t.Errorf("%v (key exists: %v): keyspace_hits +%d, keyspace_misses +%d; Redis 7.0 gives +%d, +%d",
				tc.cmd, tc.setup != nil, h, m, tc.hits, tc.misses)
		}
	}
}

// Redis increments total_commands_processed after a command has run, so
// the INFO that reports it is not included: the first command on a fresh
// server, INFO stats, reports 0.
func TestInfoTotalCommandsExcludesItself(t *testing.T) {
	s := newDirectServer(t, Config{})
	d := newDirectClient(t, s)
	info := d.do(t, "INFO", "stats")
	if n := infoField(t, info, "total_commands_processed"); n != 0 {
		t.Errorf("first command INFO stats: total_commands_processed:%d; Redis 7.0 reports 0", n)
	}
	d.do(t, "PING")
	info = d.do(t, "INFO", "stats")
	if n := infoField(t, info, "total_commands_processed"); n != 2 {
		t.Errorf("after INFO, PING: total_commands_processed:%d; Redis 7.0 reports 2", n)
	}
}

// Redis 7.0 refuses a connection over maxclients before it counts it in
// total_connections_received (acceptCommonHandler bumps
// stat_rejected_conn and returns before stat_numconnections++), and writes
// the refusal straight to the socket, outside the reply buffers that
// total_net_output_bytes counts; it reads nothing from it.
func TestInfoConnectionsReceivedExcludesRejected(t *testing.T) {
	for _, kind := range []string{TransportStd, TransportGnet} {
		t.Run(kind, func(t *testing.T) { testInfoExcludesRejected(t, kind) })
	}
}

func testInfoExcludesRejected(t *testing.T, kind string) {
	ts := startServer(t, kind, Config{MaxClients: 1})
	c1 := ts.dial(t)
	rawExchange(t, c1, respCmd("PING"), "+PONG\r\n")
	// The transport counts a reply's bytes once its write returns, which
	// may be after the client has read it: wait for c1's bytes first.
	var before string
	for deadline := time.Now().Add(5 * time.Second); ; {
		before = string(ts.infoText([]string{"stats"}))
		if infoField(t, before, "total_net_output_bytes") == int64(len("+PONG\r\n")) &&
			infoField(t, before, "total_net_input_bytes") == int64(len(respCmd("PING"))) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("c1's PING never fully counted: %q", before)
		}
		time.Sleep(5 * time.Millisecond)
	}

	c2 := ts.dial(t)
	rawExchange(t, c2, respCmd("PING"), "-ERR max number of clients reached\r\n")
	deadline := time.Now().Add(5 * time.Second)
	var after string
	for {
		after = string(ts.infoText([]string{"stats"}))
		if infoField(t, after, "rejected_connections") == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d := infoField(t, after, "rejected_connections") - infoField(t, before, "rejected_connections"); d != 1 {
		t.Fatalf("rejected_connections +%d, want +1", d)
	}
	if d := infoField(t, after, "total_connections_received") - infoField(t, before, "total_connections_received"); d != 0 {
		t.Errorf("a refused connection moved total_connections_received by +%d; Redis 7.0: +0 (only rejected_connections moves)", d)
	}
	for _, f := range []string{"total_net_input_bytes", "total_net_output_bytes"} {
		if d := infoField(t, after, f) - infoField(t, before, f); d != 0 {
			t.Errorf("a refused connection moved %s by +%d; Redis 7.0: +0", f, d)
		}
	}
}

// TestInfoKeyspaceCountsExpires: INFO keyspace's expires is the number of
// keys with a TTL (it was always 0), and avg_ttl Redis's running estimate of
// the TTL left, from the active cycle's samples (it was always 0). The
// cycle is run by hand here, with the clock stopped.
func TestInfoKeyspaceCountsExpires(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixMilli())
	s := newDirectServerOpts(t, Config{}, core.Options{NoActiveExpiry: true, Clock: now.Load})
	d := newDirectClient(t, s)
	d.expect(t, okR, "SET", "a", "1")
	d.expect(t, okR, "SET", "b", "1", "EX", "100")
	d.expect(t, okR, "SET", "c", "1", "PX", "100000")
	// Redis 7.0.15 answers the same until its cycle has sampled.
	d.expect(t, bulkR("# Keyspace\r\ndb0:keys=3,expires=2,avg_ttl=0\r\n"), "INFO", "keyspace")
	s.ks.ActiveExpireCycle(time.Second)
	d.expect(t, bulkR("# Keyspace\r\ndb0:keys=3,expires=2,avg_ttl=100000\r\n"), "INFO", "keyspace")
	d.expect(t, intR(1), "PERSIST", "b")
	d.expect(t, intR(1), "DEL", "c")
	d.expect(t, intR(1), "EXPIRE", "a", "100")
	s.ks.ActiveExpireCycle(time.Second)
	d.expect(t, bulkR("# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=100000\r\n"), "INFO", "keyspace")
	d.expect(t, intR(1), "PERSIST", "a")
	s.ks.ActiveExpireCycle(time.Second)
	d.expect(t, bulkR("# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n"), "INFO", "keyspace")
}

// TestInfoCPU: INFO cpu has Redis's fields, seconds with six decimals, and
// the process's CPU time grows with work; it is in the default sections,
// between stats and keyspace as in Redis.
func TestInfoCPU(t *testing.T) {
	s := newDirectServer(t, Config{})
	d := newDirectClient(t, s)
	re := regexp.MustCompile(`^\$\d+\r\n# CPU\r\nused_cpu_sys:(\d+\.\d{6})\r\nused_cpu_user:(\d+\.\d{6})\r\nused_cpu_sys_children:0\.000000\r\nused_cpu_user_children:0\.000000\r\n\r\n$`)
	total := func() float64 {
		m := re.FindStringSubmatch(d.do(t, "INFO", "cpu"))
		if m == nil {
			t.Fatalf("INFO cpu = %q", d.do(t, "INFO", "cpu"))
		}
		sys, _ := strconv.ParseFloat(m[1], 64)
		user, _ := strconv.ParseFloat(m[2], 64)
		return sys + user
	}
	before := total()
	for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
		d.do(t, "SET", "k", "v")
	}
	if after := total(); after <= before {
		t.Fatalf("CPU time did not grow: %v then %v", before, after)
	}
	info := d.do(t, "INFO")
	st, cpu, ks := strings.Index(info, "# Stats\r\n"), strings.Index(info, "# CPU\r\n"), strings.Index(info, "# Keyspace\r\n")
	if st < 0 || cpu < st || ks < cpu {
		t.Fatalf("default INFO sections out of order: stats at %d, cpu at %d, keyspace at %d", st, cpu, ks)
	}
}

// CONFIG RESETSTAT was accepted and reset nothing, so a user measuring a
// hit ratio over a window with it (as with Redis) read totals since the
// start. INFO's stats counters now start again from 0, Redis 7.0's
// command counted after it ran; the counters behind /metrics keep
// counting, as monitoring counters must.
func TestConfigResetStat(t *testing.T) {
	s := newDirectServer(t, Config{})
	d := newDirectClient(t, s)
	d.do(t, "SET", "k", "v")
	for range 3 {
		d.do(t, "GET", "k")
	}
	d.do(t, "GET", "nosuch")
	info := d.do(t, "INFO", "stats")
	if h, m := infoField(t, info, "keyspace_hits"), infoField(t, info, "keyspace_misses"); h != 3 || m != 1 {
		t.Fatalf("before RESETSTAT: keyspace_hits:%d keyspace_misses:%d, want 3 and 1", h, m)
	}
	d.do(t, "CONFIG", "RESETSTAT")
	d.do(t, "GET", "k")
	info = d.do(t, "INFO", "stats")
	for name, want := range map[string]int64{
		"keyspace_hits": 1, "keyspace_misses": 0, "total_commands_processed": 2, // RESETSTAT and GET
		"total_connections_received": 0, "total_sets": 0, "expired_keys": 0, "evicted_keys": 0,
	} {
		if got := infoField(t, info, name); got != want {
			t.Errorf("after RESETSTAT and a GET: %s:%d, want %d", name, got, want)
		}
	}
	if st := s.ks.Stats(); st.Hits != 4 || st.Misses != 1 {
		t.Errorf("the counters behind /metrics after RESETSTAT: hits %d misses %d, want 4 and 1 (not reset)", st.Hits, st.Misses)
	}
}

// TestInfoMemoryPeakAndRSS: INFO memory carries the fields Redis's
// exporters read besides used_memory: the process's RSS, and a peak that
// stays at the highest used_memory seen after keys are deleted.
func TestInfoMemoryPeakAndRSS(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	before := c.do(t, "INFO", "memory")
	if rss := infoField(t, before, "used_memory_rss"); rss < 1<<20 {
		t.Errorf("used_memory_rss = %d", rss)
	}
	val := strings.Repeat("v", 1000)
	for i := range 5000 {
		c.expect(t, okR, "SET", "k"+strconv.Itoa(i), val)
	}
	full := c.do(t, "INFO", "memory")
	used := infoField(t, full, "used_memory")
	if peak := infoField(t, full, "used_memory_peak"); peak < used || used < 5_000_000 {
		t.Fatalf("used_memory %d, used_memory_peak %d", used, peak)
	}
	c.expect(t, okR, "FLUSHALL")
	after := c.do(t, "INFO", "memory")
	if peak := infoField(t, after, "used_memory_peak"); peak < used {
		t.Errorf("after FLUSHALL used_memory_peak = %d, below the %d used before", peak, used)
	}
	if u := infoField(t, after, "used_memory"); u >= used {
		t.Errorf("used_memory %d after FLUSHALL, %d before", u, used)
	}
	for _, f := range []string{"used_memory_startup", "used_memory_dataset", "used_memory_overhead"} {
		infoField(t, after, f)
	}
}
