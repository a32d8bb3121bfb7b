package server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/ringdb/ringdb/core"
)

// Tests of RENAMENX, COPY, TOUCH, OBJECT and MEMORY beyond the
// compatibility table: what depends on settings, on memory, or on
// ringdb's own storage.

// TestObjectUnderPolicies: OBJECT FREQ and IDLETIME answer by
// maxmemory-policy as Redis does (FREQ only under an LFU policy, where
// IDLETIME gets Redis's error); shared integers stop being shared when a
// bound is set with an LRU or LFU policy, and not with another.
func TestObjectUnderPolicies(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	c.expect(t, okR, "SET", "k", "1")
	c.expect(t, errR("ERR "+msgNoIdleTime), "OBJECT", "IDLETIME", "k")
	c.expect(t, okR, "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
	c.expect(t, intR(0), "OBJECT", "FREQ", "k")
	c.expect(t, bulkR("1"), "GET", "k")
	c.expect(t, intR(1), "OBJECT", "FREQ", "k")
	c.expect(t, intR(1), "TOUCH", "k")
	c.expect(t, intR(2), "OBJECT", "FREQ", "k")
	c.expect(t, intR(1), "TOUCH", "k")
	c.expect(t, intR(1), "TOUCH", "k")
	c.expect(t, intR(3), "OBJECT", "FREQ", "k") // the most it reads
	c.expect(t, nullR, "OBJECT", "FREQ", "nokey")
	c.expect(t, errR("ERR "+msgLFUIsSet), "OBJECT", "IDLETIME", "k")
	// Without a bound any policy shares.
	c.expect(t, intR(2147483647), "OBJECT", "REFCOUNT", "k")
	c.expect(t, okR, "CONFIG", "SET", "maxmemory", "1gb")
	c.expect(t, intR(1), "OBJECT", "REFCOUNT", "k")
	c.expect(t, okR, "CONFIG", "SET", "maxmemory-policy", "volatile-lru")
	c.expect(t, intR(1), "OBJECT", "REFCOUNT", "k")
	c.expect(t, errR("ERR "+msgLFUNotSet), "OBJECT", "FREQ", "k")
	for _, p := range []string{"volatile-ttl", "allkeys-random", "noeviction"} {
		c.expect(t, okR, "CONFIG", "SET", "maxmemory-policy", p)
		c.expect(t, intR(2147483647), "OBJECT", "REFCOUNT", "k")
	}
	// The encoding follows the value, whatever wrote it (unlike Redis,
	// which answers "raw" after APPEND).
	c.expect(t, intR(2), "APPEND", "k", "2")
	c.expect(t, bulkR("int"), "OBJECT", "ENCODING", "k")
	c.expect(t, intR(3), "APPEND", "k", "x")
	c.expect(t, bulkR("embstr"), "OBJECT", "ENCODING", "k")
}

// TestObjectCountsReads: OBJECT looks its key up as a read, MEMORY USAGE
// does not (as in Redis 7.0.15).
func TestObjectCountsReads(t *testing.T) {
	s := newDirectServer(t, Config{})
	c := newDirectClient(t, s)
	c.expect(t, okR, "SET", "k", "v")
	c.do(t, "OBJECT", "ENCODING", "k")
	c.do(t, "OBJECT", "REFCOUNT", "nokey")
	c.do(t, "MEMORY", "USAGE", "k")
	c.do(t, "MEMORY", "USAGE", "nokey")
	st := s.ks.Stats()
	if st.Hits != 1 || st.Misses != 1 {
		t.Fatalf("hits %d misses %d, want 1 and 1", st.Hits, st.Misses)
	}
}

// TestMemoryUsageFollowsValue: MEMORY USAGE is at least the key and value
// and at most a little more (its shard's index share, a large value's size
// class), so it grows with the value; a large value counts its whole
// buffer.
func TestMemoryUsageFollowsValue(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	usage := func(key string) int64 {
		t.Helper()
		got := c.do(t, "MEMORY", "USAGE", key)
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(got, ":"), "\r\n"), 10, 64)
		if err != nil {
			t.Fatalf("MEMORY USAGE %s = %q", key, got)
		}
		return n
	}
	prev := int64(0)
	for _, n := range []int{0, 10, 100, 1000, 10_000, 100_000, 1 << 20} {
		key := fmt.Sprintf("k%d", n)
		c.expect(t, okR, "SET", key, strings.Repeat("v", n))
		u := usage(key)
		// A key alone in its shard has the whole (smallest) index to itself.
		if u < int64(n+len(key)) || u > int64(n+n/4+1024) || n >= 1000 && u <= prev {
			t.Errorf("MEMORY USAGE of a %d-byte value = %d (previous %d)", n, u, prev)
		}
		prev = u
	}
	if u := usage("k1048576"); u > 1<<20+1<<20/4 {
		t.Errorf("MEMORY USAGE of a 1 MiB value = %d, over its size class", u)
	}
}

// memoryStatsOf runs MEMORY STATS and returns its integer fields by name
// (db.0's flattened as db.0.<name>).
func memoryStatsOf(t *testing.T, c *directClient) map[string]int64 {
	t.Helper()
	v, err := parseValue(c.do(t, "MEMORY", "STATS"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	var walk func(prefix string, l []any)
	walk = func(prefix string, l []any) {
		for i := 0; i+1 < len(l); i += 2 {
			name := prefix + l[i].(string)
			switch x := l[i+1].(type) {
			case int64:
				out[name] = x
			case []any:
				walk(name+".", x)
			case string: // a double, a bulk string in RESP2
				f, err := strconv.ParseFloat(x, 64)
				if err != nil {
					t.Fatalf("MEMORY STATS %s = %q", name, x)
				}
				out[name] = int64(f)
			}
		}
	}
	walk("", v.([]any))
	return out
}

// TestMemoryStatsFromKeyspace: MEMORY STATS reports the keyspace's own
// numbers, consistent with INFO and DBSIZE.
func TestMemoryStatsFromKeyspace(t *testing.T) {
	// No active expiry: it frees retired tables in the background, which
	// would change used memory between MEMORY STATS and Stats below.
	s := newDirectServerOpts(t, Config{}, core.Options{NoActiveExpiry: true})
	c := newDirectClient(t, s)
	for i := range 300 {
		c.expect(t, okR, "SET", fmt.Sprintf("key:%d", i), strings.Repeat("x", i))
	}
	m := memoryStatsOf(t, c)
	st := s.ks.Stats()
	want := map[string]int64{
		"total.allocated":                 st.UsedBytes,
		"keys.count":                      300,
		"db.0.overhead.hashtable.main":    st.IndexBytes,
		"db.0.overhead.hashtable.expires": 0,
		"overhead.total":                  st.IndexBytes,
		"dataset.bytes":                   st.UsedBytes - st.IndexBytes,
		"startup.allocated":               s.startupMem,
		"keys.bytes-per-key":              (st.UsedBytes - s.startupMem) / 300,
	}
	for name, v := range want {
		if got, ok := m[name]; !ok || got != v {
			t.Errorf("MEMORY STATS %s = %d (present %v), want %d", name, got, ok, v)
		}
	}
	// The peak is sampled (every second and here): memory may have been
	// higher a moment ago (a table grown, the old one not yet freed).
	if p := m["peak.allocated"]; p < st.UsedBytes || m["peak.percentage"] < 50 || m["peak.percentage"] > 100 {
		t.Errorf("MEMORY STATS peak.allocated %d, peak.percentage %d, used %d", p, m["peak.percentage"], st.UsedBytes)
	}
	if len(m) != 19 { // 16, db.0 flattened into its 3
		t.Errorf("MEMORY STATS has %d fields: %v", len(m), m)
	}
	// The peak stays when memory goes down.
	c.expect(t, okR, "FLUSHALL")
	m = memoryStatsOf(t, c)
	if m["peak.allocated"] < st.UsedBytes || m["total.allocated"] >= st.UsedBytes || m["keys.count"] != 0 {
		t.Errorf("after FLUSHALL: %v (before: used %d)", m, st.UsedBytes)
	}
}

// TestMemoryDoctorNearNoEvictionBound: past 90% of a noeviction bound the
// doctor warns that writes are about to fail; with little memory in use
// it answers Redis's text for an empty instance.
func TestMemoryDoctorNearNoEvictionBound(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{MaxMemory: 64 << 20}))
	if got := c.do(t, "MEMORY", "DOCTOR"); !strings.Contains(got, "this instance is empty") {
		t.Fatalf("empty instance: %q", got)
	}
	// Fill every shard: the first OOM only says one shard is full.
	val := strings.Repeat("v", 4000)
	ooms := 0
	for i := 0; ooms < 2000; i++ {
		if i > 40_000 {
			t.Fatal("no OOM")
		}
		if got := c.do(t, "SET", fmt.Sprintf("k%d", i), val); got != okR {
			if !strings.HasPrefix(got, "-OOM") {
				t.Fatalf("SET: %q", got)
			}
			ooms++
		}
	}
	got := c.do(t, "MEMORY", "DOCTOR")
	if !strings.Contains(got, "maxmemory-policy is noeviction") {
		t.Fatalf("at the bound: %q", got)
	}
	c.expect(t, okR, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
	if got := c.do(t, "MEMORY", "DOCTOR"); !strings.Contains(got, "can't find any memory issue") {
		t.Fatalf("evicting at the bound: %q", got)
	}
}

// TestCopyAtBoundIsOOM: COPY needs memory for the copy; under noeviction
// at the bound it is refused with Redis's OOM error.
func TestCopyAtBoundIsOOM(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{MaxMemory: 4 << 20}))
	val := strings.Repeat("v", 40_000)
	c.expect(t, okR, "SET", "src", val)
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("no OOM")
		}
		got := c.do(t, "COPY", "src", fmt.Sprintf("dst%d", i))
		if got == intR(1) {
			continue
		}
		if got != errR("OOM "+msgOOM) {
			t.Fatalf("COPY: %q", got)
		}
		c.expect(t, intR(0), "EXISTS", fmt.Sprintf("dst%d", i))
		break
	}
}

// keySpecR is a Redis 7.0 key specification in RESP2: the key at argv
// index, then a range to lastkey (from the end when negative) by step.
func keySpecR(index, lastkey, step int64, flags ...string) string {
	fl := make([]string, len(flags))
	for i, f := range flags {
		fl[i] = simpleR(f)
	}
	return arrR(bulkR("flags"), arrR(fl...),
		bulkR("begin_search"), arrR(bulkR("type"), bulkR("index"), bulkR("spec"), arrR(bulkR("index"), intR(index))),
		bulkR("find_keys"), arrR(bulkR("type"), bulkR("range"), bulkR("spec"),
			arrR(bulkR("lastkey"), intR(lastkey), bulkR("keystep"), intR(step), bulkR("limit"), intR(0))))
}

// TestCommandInfoSubcommandKeys: subcommands that take a key say where it
// is, with their own flags and key specifications, so that cluster
// clients can route them; the others still take none. As redis-server
// 7.0.15 answers.
func TestCommandInfoSubcommandKeys(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	c.expect(t, arrR(arrR(bulkR("object|encoding"), intR(3), arrR(simpleR("readonly")), intR(2), intR(2), intR(1),
		arrR(simpleR("@keyspace"), simpleR("@read"), simpleR("@slow")), bulksR("nondeterministic_output"),
		arrR(keySpecR(2, 0, 1, "RO")), arrR())),
		"COMMAND", "INFO", "object|encoding")
	c.expect(t, arrR(arrR(bulkR("memory|usage"), intR(-3), arrR(simpleR("readonly")), intR(2), intR(2), intR(1),
		arrR(simpleR("@read"), simpleR("@slow")), arrR(), arrR(keySpecR(2, 0, 1, "RO")), arrR())),
		"COMMAND", "INFO", "memory|usage")
	c.expect(t, arrR(arrR(bulkR("memory|purge"), intR(2), arrR(), intR(0), intR(0), intR(0),
		arrR(simpleR("@slow")), bulksR("request_policy:all_shards", "response_policy:all_succeeded"), arrR(), arrR())),
		"COMMAND", "INFO", "memory|purge")
	c.expect(t, arrR(arrR(bulkR("client|id"), intR(2), arrR(simpleR("noscript"), simpleR("loading"), simpleR("stale")), intR(0), intR(0), intR(0),
		arrR(simpleR("@slow"), simpleR("@connection")), arrR(), arrR(), arrR())),
		"COMMAND", "INFO", "client|id")
}
