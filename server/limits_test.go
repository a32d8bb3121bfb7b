package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ringdb/ringdb/core"
)

// TestOOM: under noeviction a write that needs memory past MaxMemory gets
// Redis's OOM error; reads and deletes keep working.
func TestOOM(t *testing.T) {
	forEachTransport(t, Config{MaxMemory: 4 << 20}, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		rdb := ts.redis(t, 3, nil)
		val := strings.Repeat("x", 1024)
		var err error
		n := 0
		for ; n < 100_000; n++ {
			if err = rdb.Set(ctx, fmt.Sprint("k", n), val, 0).Err(); err != nil {
				break
			}
		}
		if err == nil || err.Error() != "OOM command not allowed when used memory > 'maxmemory'." {
			t.Fatalf("after %d SETs: err = %v, want OOM", n, err)
		}
		if got, err := rdb.Get(ctx, "k0").Result(); err != nil || got != val {
			t.Errorf("GET under OOM: %v", err)
		}
		if d, err := rdb.Del(ctx, "k0", "k1").Result(); err != nil || d != 2 {
			t.Errorf("DEL under OOM = %d, %v", d, err)
		}
		b := newBinClient(t, ts)
		b.hello(nil, nil)
		var last any
		for i := range 1000 {
			if last = b.call(0x0011, fmt.Sprint("b", i), val); last != (okV{}) {
				break
			}
		}
		if e, ok := last.(binErr); !ok || e.class != 0x03 {
			t.Errorf("binary SET under OOM = %v, want class OOM", last)
		}
		info, _ := rdb.Info(ctx, "memory").Result()
		if !strings.Contains(info, "maxmemory:4194304\r\n") || !strings.Contains(info, "maxmemory_policy:noeviction\r\n") {
			t.Errorf("INFO memory = %q", info)
		}
	})
}

// TestEviction: with allkeys eviction writes keep succeeding past the
// bound and INFO reports evicted keys.
func TestEviction(t *testing.T) {
	srv := newDirectServer(t, Config{MaxMemory: 4 << 20, Eviction: 1})
	c := newDirectClient(t, srv)
	val := strings.Repeat("x", 1024)
	for i := range 20_000 {
		if got := c.do(t, "SET", fmt.Sprint("k", i), val); got != okR {
			t.Fatalf("SET %d = %q", i, got)
		}
	}
	info := c.do(t, "INFO", "stats", "memory")
	if strings.Contains(info, "evicted_keys:0\r\n") || !strings.Contains(info, "maxmemory_policy:allkeys-lru\r\n") {
		t.Errorf("INFO = %q", info)
	}
}

// TestSizeLimits: keys and values over their limits get a clear ERR (RESP)
// or LIMIT (binary) error; a bulk over the decoder's limit is a protocol
// error that closes the connection, as Redis's proto-max-bulk-len is.
func TestSizeLimits(t *testing.T) {
	forEachTransport(t, Config{MaxKeySize: 16, MaxValueSize: 64}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		long := strings.Repeat("k", 17)
		runSteps(t, c, []step{
			s(errR("ERR key too large (17 bytes, limit 16)"), "SET", long, "v"),
			s(nullR, "GET", long),
			s(okR, "SET", "k", strings.Repeat("v", 60)),
			s(errR("ERR string exceeds maximum allowed size (proto-max-bulk-len)"), "APPEND", "k", "12345"),
			s(intR(64), "APPEND", "k", "1234"),
		}, false)
		c.send(t, "SET", "k", strings.Repeat("v", 65))
		if got := c.read(t); got != errR("ERR Protocol error: invalid bulk length") {
			t.Errorf("oversized bulk = %q", got)
		}
		c.expectClosed(t)

		ctx := context.Background()
		rdb := ts.redis(t, 2, nil)
		err := rdb.Set(ctx, long, "v", 0).Err()
		var re redis.Error
		if err == nil || !strings.HasPrefix(err.Error(), "ERR key too large") {
			t.Errorf("go-redis long key: %v (%T %v)", err, re, err)
		}
		b := newBinClient(t, ts)
		b.hello(nil, nil)
		wantV(t, "binary APPEND too large", b.call(0x0017, "k", "x"), errV(0x06, "value too large"))
		wantV(t, "binary long key", b.call(0x0011, long, "v"), errV(0x06, "key too large"))
		wantV(t, "binary big value", b.call(0x0011, "k", strings.Repeat("v", 65)), errV(0x06, "value too large"))
		wantV(t, "still open", b.call(0x0002), okV{})
	})
}

// TestMaxClients: past MaxClients a new client gets an error and is
// closed; the others keep working.
func TestMaxClients(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{MaxClients: 2})
			a, b := ts.raw(t), ts.raw(t)
			a.do(t, "PING")
			b.do(t, "PING")
			c := ts.raw(t)
			c.send(t, "PING")
			if got := c.read(t); !strings.HasPrefix(got, "-ERR max number of clients reached") {
				t.Errorf("third client = %q", got)
			}
			c.expectClosed(t)
			if got := a.do(t, "CONFIG", "GET", "maxclients"); got != bulksR("maxclients", "2") {
				t.Errorf("CONFIG GET maxclients = %q", got)
			}
			if got := a.do(t, "INFO", "stats"); strings.Contains(got, "rejected_connections:0\r\n") {
				t.Errorf("INFO stats = %q", got)
			}
		})
	}
}

// TestIdleTimeout: Config.IdleTimeout reaches the transport; an idle
// client is disconnected, an active one is not.
func TestIdleTimeout(t *testing.T) {
	t.Parallel() // its own servers; it mostly waits (pauses, timeouts)
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{IdleTimeout: 300 * time.Millisecond})
			idle, busy := ts.raw(t), ts.raw(t)
			idle.do(t, "PING")
			for range 8 {
				busy.do(t, "PING")
				time.Sleep(100 * time.Millisecond)
			}
			idle.expectClosed(t)
			if got := busy.do(t, "CONFIG", "GET", "timeout"); got != bulksR("timeout", "1") {
				// Redis reports whole seconds; 300ms rounds up to 1 (0
				// would read as "off").
				t.Errorf("CONFIG GET timeout = %q", got)
			}
		})
	}
}

// TestOutputLimit: a client that stops reading is disconnected at the
// output hard limit; the server's memory stays bounded and others are
// served.
func TestOutputLimit(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{OutputHardLimit: 1 << 20, OutputSoftLimit: 512 << 10, OutputSoftSeconds: time.Second})
			ts.Keyspace().Set([]byte("big"), []byte(strings.Repeat("v", 64<<10)))
			slow := ts.dial(t)
			var req []byte
			for range 2000 { // 128 MiB of replies
				req = append(req, "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n"...)
			}
			go slow.Write(req)
			other := ts.raw(t)
			deadline := time.Now().Add(10 * time.Second)
			for {
				info := other.do(t, "INFO", "stats")
				if !strings.Contains(info, "client_output_buffer_disconnects:0\r\n") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("slow reader not disconnected: %q", info)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if got := other.do(t, "PING"); got != simpleR("PONG") {
				t.Errorf("other client PING = %q", got)
			}
		})
	}
}

// TestLargeValuesReadableUnderOutputLimit: a value larger than the output
// hard limit can be read back, and a reading client's pipeline of large
// GETs is served whole, on both transports; neither counts as an
// output-limit disconnect.
func TestLargeValuesReadableUnderOutputLimit(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{OutputHardLimit: 1 << 20, OutputSoftLimit: 512 << 10})
			ctx := context.Background()
			rc := ts.redis(t, 2, nil)
			huge := strings.Repeat("h", 3<<20)
			if err := rc.Set(ctx, "huge", huge, 0).Err(); err != nil {
				t.Fatal(err)
			}
			if got, err := rc.Get(ctx, "huge").Result(); err != nil || got != huge {
				t.Fatalf("GET of a 3 MiB value under a 1 MiB limit: %d bytes, %v", len(got), err)
			}
			mid := strings.Repeat("m", 300<<10)
			rc.Set(ctx, "mid", mid, 0)
			pipe := rc.Pipeline()
			gets := make([]*redis.StringCmd, 20)
			for i := range gets {
				gets[i] = pipe.Get(ctx, "mid")
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			for i, g := range gets {
				if g.Val() != mid {
					t.Fatalf("pipelined GET %d: %d bytes", i, len(g.Val()))
				}
			}
			if info := rc.Info(ctx, "stats").Val(); !strings.Contains(info, "client_output_buffer_disconnects:0\r\n") {
				t.Fatalf("INFO stats: %s", info)
			}
		})
	}
}

// TestStringRangeLimits: SETRANGE past MaxValueSize gets Redis's
// proto-max-bulk-len error (MaxValueSize is our proto-max-bulk-len), before
// any allocation; INCRBYFLOAT's result obeys the limit too; under
// noeviction a SETRANGE whose result cannot fit the memory bound gets OOM
// and leaves the key as it was.
func TestStringRangeLimits(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{MaxValueSize: 64}))
	c.expect(t, intR(64), "SETRANGE", "k", "63", "x")
	c.expect(t, errR("ERR string exceeds maximum allowed size (proto-max-bulk-len)"), "SETRANGE", "k", "63", "xy")
	c.expect(t, errR("ERR string exceeds maximum allowed size (proto-max-bulk-len)"), "SETRANGE", "new", "64", "x")
	c.expect(t, errR("ERR string exceeds maximum allowed size (proto-max-bulk-len)"), "SETRANGE", "new", "9223372036854775807", "x")
	c.expect(t, intR(64), "SETRANGE", "k", "9223372036854775807", "")
	c.expect(t, intR(0), "EXISTS", "new")
	c.expect(t, bulkR("1"+strings.Repeat("0", 19)), "INCRBYFLOAT", "f", "1e19")
	c.expect(t, errR("ERR value too large (71 bytes, limit 64)"), "INCRBYFLOAT", "f", "1e70")
	c.expect(t, bulkR("1"+strings.Repeat("0", 19)), "GET", "f")

	c = newDirectClient(t, newDirectServer(t, Config{MaxMemory: 4 << 20}))
	c.expect(t, okR, "SET", "k", "hello")
	// 100 MB cannot fit under a bound of 4 MiB (see
	// TestValueOverMaxMemory); the error says so.
	for _, key := range []string{"k", "new"} {
		if got := c.do(t, "SETRANGE", key, "104857600", "x"); !strings.HasPrefix(got, "-OOM value needs 104857601 bytes") || !strings.Contains(got, "more than maxmemory can hold") {
			t.Errorf("SETRANGE %s 104857600 x = %q", key, got)
		}
	}
	c.expect(t, bulkR("hello"), "GET", "k")
	c.expect(t, intR(0), "EXISTS", "new")
	c.expect(t, intR(100_001), "SETRANGE", "k", "100000", "x")
}

// TestValueOverMaxMemory: the memory bound is the keyspace's, not split
// among its shards: values each larger than a sixteenth of maxmemory are
// stored while their sum fits. One that could not fit an empty keyspace
// fails with an OOM error that says so, instead of claiming used memory
// is over maxmemory, and evicts nothing.
func TestValueOverMaxMemory(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{MaxMemory: 64 << 20, Eviction: core.AllKeys}))
	c.expect(t, okR, "SET", "small", "v")
	got := c.do(t, "SET", "v", strings.Repeat("x", 70_000_000))
	if !strings.HasPrefix(got, "-OOM value needs 70") || !strings.Contains(got, "more than maxmemory can hold") {
		t.Fatalf("SET of 70 MB under a 64 MiB bound = %q", got)
	}
	if used := infoField(t, c.do(t, "INFO", "memory"), "used_memory"); used > 1<<20 {
		t.Fatalf("used_memory %d after a refused SET", used)
	}
	c.expect(t, intR(1), "EXISTS", "small")
	for i := range 10 {
		c.expect(t, okR, "SET", "big"+strconv.Itoa(i), strings.Repeat("x", 5_000_000))
	}
	c.expect(t, intR(11), "DBSIZE")
	if used := infoField(t, c.do(t, "INFO", "memory"), "used_memory"); used < 50_000_000 || used > 64<<20 {
		t.Fatalf("used_memory %d with ten 5 MB values under 64 MiB", used)
	}
}
