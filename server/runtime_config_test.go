package server

import (
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringdb/ringdb/core"
)

// TestConfigSetAllOrNothing: as in Redis 7.0, a CONFIG SET of several
// parameters applies all of them or none. The fake transport cannot change
// maxclients or timeout at run time, so a CONFIG SET that also changes one
// of them fails, and must leave maxmemory, the policy and the password as
// they were.
func TestConfigSetAllOrNothing(t *testing.T) {
	srv := newDirectServer(t, Config{MaxMemory: 1 << 30})
	c := newDirectClient(t, srv)
	for _, args := range [][]string{
		{"maxmemory", "100mb", "maxclients", "50"},
		{"maxmemory-policy", "allkeys-lru", "timeout", "5"},
		{"requirepass", "s3cret", "maxclients", "50"},
		{"maxmemory", "100mb", "maxmemory-policy", "volatile-lru", "requirepass", "s3cret", "timeout", "5"},
	} {
		got := c.do(t, append([]string{"CONFIG", "SET"}, args...)...)
		if !strings.HasPrefix(got, "-ERR CONFIG SET failed (possibly related to argument '") {
			t.Fatalf("CONFIG SET %q = %q, want an error", args, got)
		}
		for _, want := range [][2]string{{"maxmemory", "1073741824"}, {"maxmemory-policy", "noeviction"}, {"requirepass", ""}, {"maxclients", "10000"}, {"timeout", "0"}} {
			if got := c.do(t, "CONFIG", "GET", want[0]); got != bulksR(want[0], want[1]) {
				t.Errorf("after the failed CONFIG SET %q: CONFIG GET %s = %q, want %q", args, want[0], got, want[1])
			}
		}
		if got := newDirectClient(t, srv).do(t, "GET", "k"); got != nullR {
			t.Errorf("after the failed CONFIG SET %q: a new client's GET = %q, want no password asked", args, got)
		}
		if got := srv.Keyspace().Stats().MaxBytes; got != 1<<30 {
			t.Errorf("after the failed CONFIG SET %q: keyspace bound = %d", args, got)
		}
	}
}

// TestConfigPolicyReportsRedisName: CONFIG GET maxmemory-policy and INFO's
// maxmemory_policy report a Redis policy name, as they do for a policy set
// at startup, also after CONFIG SET with ringdb's own names ("allkeys",
// "volatile"): tools compare the value with Redis's names, and CONFIG SET
// of what CONFIG GET answered must work on Redis too.
func TestConfigPolicyReportsRedisName(t *testing.T) {
	srv := newDirectServer(t, Config{})
	c := newDirectClient(t, srv)
	for _, tc := range [][2]string{
		{"allkeys", "allkeys-lru"}, {"VOLATILE", "volatile-lru"}, {"allkeys-lfu", "allkeys-lfu"},
		{"volatile-ttl", "volatile-ttl"}, {"NoEviction", "noeviction"},
	} {
		if got := c.do(t, "CONFIG", "SET", "maxmemory-policy", tc[0]); got != okR {
			t.Fatalf("CONFIG SET maxmemory-policy %s = %q", tc[0], got)
		}
		if got := c.do(t, "CONFIG", "GET", "maxmemory-policy"); got != bulksR("maxmemory-policy", tc[1]) {
			t.Errorf("after CONFIG SET maxmemory-policy %s: CONFIG GET = %q, want %q", tc[0], got, tc[1])
		}
		if got := c.do(t, "INFO", "memory"); !strings.Contains(got, "\r\nmaxmemory_policy:"+tc[1]+"\r\n") {
			t.Errorf("after CONFIG SET maxmemory-policy %s: INFO memory = %q, want maxmemory_policy:%s", tc[0], got, tc[1])
		}
	}
}

// TestConfigSetLowerMaxMemoryEvicts: CONFIG SET maxmemory far below what
// the server holds, under allkeys-lru, makes later SETs evict (Redis evicts
// at once; ringdb as writes need room) instead of answering OOM.
func TestConfigSetLowerMaxMemoryEvicts(t *testing.T) {
	s := newDirectServer(t, Config{MaxMemory: 256 << 20, Eviction: core.AllKeys})
	d := newDirectClient(t, s)
	val := strings.Repeat("v", 64)
	for i := range 20000 {
		d.do(t, "SET", "k"+strconv.Itoa(i), val)
	}
	if got := d.do(t, "CONFIG", "SET", "maxmemory", "1mb"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET maxmemory 1mb: %q", got)
	}
	// Redis evicts at once; so does ringdb, in the background.
	deadline := time.Now().Add(10 * time.Second)
	for s.ks.Stats().UsedBytes > 1<<20 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if used := s.ks.Stats().UsedBytes; used > 1<<20 {
		t.Fatalf("%d bytes used 10 s after CONFIG SET maxmemory 1mb", used)
	}
	for i := range 20000 {
		if got := d.do(t, "SET", "n"+strconv.Itoa(i), val); got != "+OK\r\n" {
			t.Fatalf("SET %d after lowering maxmemory: %q", i, got)
		}
	}
	st := s.ks.Stats()
	if st.Evicted == 0 || st.UsedBytes > 1<<20 {
		t.Fatalf("evicted %d, used %d bytes against a 1 MiB bound", st.Evicted, st.UsedBytes)
	}
}

// TestConfigSetMaxClientsAndTimeoutLive: over the real transports, CONFIG
// SET maxclients and timeout take effect at once, as in Redis (they used to
// answer that a restart was needed).
func TestConfigSetMaxClientsAndTimeoutLive(t *testing.T) {
	t.Parallel() // its own servers; it mostly waits (pauses, timeouts)
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		if got := c.do(t, "CONFIG", "SET", "maxclients", "1"); got != "+OK\r\n" {
			t.Fatalf("CONFIG SET maxclients 1: %q", got)
		}
		over := ts.raw(t)
		if got := over.do(t, "PING"); got != "-ERR max number of clients reached\r\n" {
			t.Fatalf("a second client under maxclients 1: %q", got)
		}
		if got := c.do(t, "CONFIG", "SET", "timeout", "1"); got != "+OK\r\n" {
			t.Fatalf("CONFIG SET timeout 1: %q", got)
		}
		// The idle clock restarts when the server takes the last command
		// (or answers it): no sooner than it was sent, no later than its
		// reply is read. A client slow to read the reply (a loaded
		// machine) would otherwise see the close come early.
		sent := time.Now()
		if got := c.do(t, "CONFIG", "GET", "timeout"); !strings.Contains(got, "1") {
			t.Fatalf("CONFIG GET timeout: %q", got)
		}
		start := time.Now()
		// How late this process's timers run meanwhile: the server's
		// sweep, in this process, is as late, and a loaded machine
		// (-race beside other packages on 2 cores) has made the close
		// come after 3.1 s. The bound allows for what was measured.
		late := lateness()
		_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.r.ReadByte(); err == nil {
			t.Fatal("read a reply nobody asked for")
		}
		d, early, lag := time.Since(start), time.Since(sent), late()
		if early < 900*time.Millisecond || d > 3*time.Second+lag {
			t.Fatalf("the idle client was closed %v after the last command was sent, %v after its reply (timers %v late meanwhile), want about 1 s", early, d, lag)
		}
	})
}

// lateness starts measuring how late this process's timers fire: a
// goroutine sleeps 10 ms at a time and adds up how much each sleep
// overran. The function it returns stops it and reports the sum.
func lateness() func() time.Duration {
	stop := make(chan struct{})
	done := make(chan time.Duration)
	go func() {
		var sum time.Duration
		for {
			select {
			case <-stop:
				done <- sum
				return
			default:
			}
			t0 := time.Now()
			time.Sleep(10 * time.Millisecond)
			sum += max(time.Since(t0)-10*time.Millisecond, 0)
		}
	}()
	return func() time.Duration {
		close(stop)
		return <-done
	}
}

// TestSubSecondIdleTimeoutReadsBack: CONFIG GET timeout is in whole
// seconds; a sub-second Config.IdleTimeout used to read back as 0, which
// means off.
func TestSubSecondIdleTimeoutReadsBack(t *testing.T) {
	s := newDirectServer(t, Config{IdleTimeout: 300 * time.Millisecond})
	d := newDirectClient(t, s)
	if got := d.do(t, "CONFIG", "GET", "timeout"); !strings.Contains(got, "$1\r\n1\r\n") {
		t.Fatalf("CONFIG GET timeout with a 300 ms timeout: %q", got)
	}
}

// TestConfigSetImmutable: Redis 7.0 refuses CONFIG SET databases and
// cluster-enabled even at their current value, and applies nothing else
// given with them.
func TestConfigSetImmutable(t *testing.T) {
	s := newDirectServer(t, Config{})
	d := newDirectClient(t, s)
	for _, args := range [][]string{
		{"CONFIG", "SET", "databases", "1"},
		{"CONFIG", "SET", "cluster-enabled", "no"},
		{"CONFIG", "SET", "databases", "1", "maxmemory", "10mb"},
	} {
		want := "-ERR CONFIG SET failed (possibly related to argument '" + args[2] + "') - can't set immutable config\r\n"
		if got := d.do(t, args...); got != want {
			t.Errorf("%q = %q, want %q", args, got, want)
		}
	}
	if got := d.do(t, "CONFIG", "GET", "maxmemory"); strings.Contains(got, "10485760") {
		t.Fatalf("maxmemory applied with a refused databases: %q", got)
	}
}

// TestConfigSetMaxMemoryTellsOnMaxMemory: CONFIG SET maxmemory hands the
// new bound to Config.OnMaxMemory, through which cmd/ringdb-server keeps
// the Go heap's soft limit at what the bound leaves of the host's memory.
// Without it, raising maxmemory at run time left the heap the room of the
// old, lower bound, so data and heap together could pass the host's
// memory. A CONFIG SET that fails, or sets the value it has, calls nothing.
func TestConfigSetMaxMemoryTellsOnMaxMemory(t *testing.T) {
	var got []int64
	srv := newDirectServer(t, Config{MaxMemory: 1 << 30, OnMaxMemory: func(n int64) { got = append(got, n) }})
	c := newDirectClient(t, srv)
	for _, st := range []struct {
		args []string
		want string
	}{
		{[]string{"maxmemory", "2gb"}, okR},
		{[]string{"maxmemory", "2gb"}, okR},
		{[]string{"maxmemory", "100mb", "maxclients", "50"}, ""}, // fails: the fake transport cannot change maxclients
		{[]string{"maxmemory", "0"}, okR},
	} {
		r := c.do(t, append([]string{"CONFIG", "SET"}, st.args...)...)
		if st.want != "" && r != st.want {
			t.Fatalf("CONFIG SET %q = %q, want %q", st.args, r, st.want)
		}
	}
	if want := []int64{2 << 30, 0}; !slices.Equal(got, want) {
		t.Errorf("OnMaxMemory got %v, want %v", got, want)
	}
}

// TestConcurrentConfigSetMaxMemoryAgrees: CONFIG SET maxmemory from two
// clients at once leaves the keyspace's bound, CONFIG GET's value and the
// last bound OnMaxMemory was given equal. Each set stored the three one
// after another, so two sets could interleave them and leave the heap
// limit sized for a bound the keyspace did not have.
func TestConcurrentConfigSetMaxMemoryAgrees(t *testing.T) {
	var last atomic.Int64
	srv := newDirectServer(t, Config{MaxMemory: 1 << 30, OnMaxMemory: func(n int64) {
		runtime.Gosched() // widen the window between the stores
		last.Store(n)
	}})
	a, b := newDirectClient(t, srv), newDirectClient(t, srv)
	for i := range 300 {
		var wg sync.WaitGroup
		for j, c := range []*directClient{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v := strconv.Itoa((2*i + j + 1) << 20) // a new value each time
				if r := c.do(t, "CONFIG", "SET", "maxmemory", v); r != okR {
					t.Errorf("CONFIG SET maxmemory %s = %q", v, r)
				}
			}()
		}
		wg.Wait()
		ks, got, cb := srv.ks.Stats().MaxBytes, srv.maxMemory.Load(), last.Load()
		if ks != got || cb != got {
			t.Fatalf("round %d: keyspace bound %d, CONFIG GET %d, OnMaxMemory last given %d", i, ks, got, cb)
		}
	}
}
