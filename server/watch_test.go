package server

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/transport"
	"github.com/ringdb/ringdb/transport/binproto"
)

// watchStep is one step of a WATCH scenario: a command of the watching
// client (a) or of another one (b), or a pause.
type watchStep struct {
	who   byte // 'a' or 'b'; 0 for a pause
	args  []string
	want  string // the reply redis-server 7.0.15 gives, checked when set
	pause time.Duration
}

func wa(args ...string) watchStep { return watchStep{who: 'a', args: args} }
func wb(args ...string) watchStep { return watchStep{who: 'b', args: args} }

// expect sets the step's expected reply.
func (st watchStep) expect(want string) watchStep { st.want = want; return st }

func pause(d time.Duration) watchStep { return watchStep{pause: d} }

// watchCase is a WATCH scenario: b flushes and runs setup, a watches the
// keys, the steps run, then a sends MULTI, PING and EXEC. abort is what
// Redis 7.0.15 does with the EXEC: a null array, or [PONG].
type watchCase struct {
	name  string
	setup []watchStep
	watch []string
	steps []watchStep
	abort bool
}

// Expiry scenarios: a deadline far enough for WATCH to come before it on
// a loaded machine (the step after WATCH checks the key is still there),
// and a pause well past it.
const (
	watchTTL   = "300" // ms
	watchPause = 450 * time.Millisecond
)

// watchCases are the scenarios, with what Redis 7.0.15 does: any command
// that modifies a watched key aborts the transaction, whoever runs it and
// whatever it leaves; one that modifies nothing does not.
func watchCases() []watchCase {
	abort := func(name string, setup []watchStep, steps ...watchStep) watchCase {
		return watchCase{name: name, setup: setup, watch: []string{"k"}, steps: steps, abort: true}
	}
	ran := func(name string, setup []watchStep, steps ...watchStep) watchCase {
		return watchCase{name: name, setup: setup, watch: []string{"k"}, steps: steps}
	}
	set := []watchStep{wb("SET", "k", "v")}
	setTTL := []watchStep{wb("SET", "k", "v", "EX", "100")}
	setOther := []watchStep{wb("SET", "o", "v")}
	setBoth := []watchStep{wb("SET", "k", "v"), wb("SET", "o", "v")}
	far := "99999999999999" // a deadline in ms, far away
	return []watchCase{
		// Writes that leave the same value, or the same deadline.
		abort("SET of the same value", set, wb("SET", "k", "v")),
		abort("SET XX of the same value", set, wb("SET", "k", "v", "XX")),
		abort("SET KEEPTTL of the same value", setTTL, wb("SET", "k", "v", "KEEPTTL")),
		abort("SET NX GET of a missing key", nil, wb("SET", "k", "v", "NX", "GET")),
		abort("SETNX of a missing key", nil, wb("SETNX", "k", "v")),
		abort("SETEX of the same value", set, wb("SETEX", "k", "100", "v")),
		abort("PSETEX of the same value", set, wb("PSETEX", "k", "100000", "v")),
		abort("GETSET of the same value", set, wb("GETSET", "k", "v")),
		abort("SET PXAT in the past", set, wb("SET", "k", "v", "PXAT", "1")),
		abort("SET PXAT in the past of a missing key", nil, wb("SET", "k", "v", "PXAT", "1")),
		abort("INCR then DECR", []watchStep{wb("SET", "k", "1")}, wb("INCR", "k"), wb("DECR", "k")),
		abort("INCRBY 0", []watchStep{wb("SET", "k", "1")}, wb("INCRBY", "k", "0")),
		abort("DECRBY 0", []watchStep{wb("SET", "k", "1")}, wb("DECRBY", "k", "0")),
		abort("INCRBYFLOAT 0", []watchStep{wb("SET", "k", "1")}, wb("INCRBYFLOAT", "k", "0")),
		abort("APPEND of nothing", set, wb("APPEND", "k", "")),
		abort("APPEND of nothing to a missing key", nil, wb("APPEND", "k", "")),
		abort("SETRANGE of the same bytes", set, wb("SETRANGE", "k", "0", "v")),
		abort("PEXPIREAT to the same deadline", []watchStep{wb("SET", "k", "v", "PXAT", far)}, wb("PEXPIREAT", "k", far)),
		abort("EXPIREAT to the same deadline", []watchStep{wb("SET", "k", "v", "EXAT", "99999999999")}, wb("EXPIREAT", "k", "99999999999")),
		abort("EXPIRE GT later", setTTL, wb("EXPIRE", "k", "200", "GT")),
		abort("EXPIRE LT on a key without TTL", set, wb("EXPIRE", "k", "10", "LT")),
		abort("EXPIRE 0", set, wb("EXPIRE", "k", "0")),
		abort("PEXPIRE in the past", set, wb("PEXPIRE", "k", "-1")),
		abort("GETEX PXAT to the same deadline", []watchStep{wb("SET", "k", "v", "PXAT", far)}, wb("GETEX", "k", "PXAT", far)),
		abort("GETEX EX", set, wb("GETEX", "k", "EX", "100")),
		abort("GETEX PXAT in the past", set, wb("GETEX", "k", "PXAT", "1")),
		abort("GETEX PERSIST of a key with TTL", setTTL, wb("GETEX", "k", "PERSIST")),
		abort("PERSIST of a key with TTL", setTTL, wb("PERSIST", "k")),
		abort("DEL", set, wb("DEL", "k")),
		abort("UNLINK", set, wb("UNLINK", "k")),
		abort("GETDEL", set, wb("GETDEL", "k")),

		// Commands that change nothing.
		ran("SET NX of an existing key", set, wb("SET", "k", "x", "NX")),
		ran("SET NX GET of an existing key", set, wb("SET", "k", "x", "NX", "GET")),
		ran("SETNX of an existing key", set, wb("SETNX", "k", "x")),
		ran("SET XX of a missing key", nil, wb("SET", "k", "x", "XX")),
		ran("SET with an invalid expire", set, wb("SET", "k", "x", "EX", "0")),
		ran("DEL of a missing key", nil, wb("DEL", "k")),
		ran("UNLINK of a missing key", nil, wb("UNLINK", "k")),
		ran("GETDEL of a missing key", nil, wb("GETDEL", "k")),
		ran("PERSIST of a key without TTL", set, wb("PERSIST", "k")),
		ran("GETEX PERSIST of a key without TTL", set, wb("GETEX", "k", "PERSIST")),
		ran("GETEX without options", set, wb("GETEX", "k")),
		ran("GETEX EX of a missing key", nil, wb("GETEX", "k", "EX", "100")),
		ran("EXPIRE of a missing key", nil, wb("EXPIRE", "k", "100")),
		ran("EXPIRE in the past of a missing key", nil, wb("EXPIRE", "k", "-1")),
		ran("PEXPIREAT in the past of a missing key", nil, wb("PEXPIREAT", "k", "1")),
		ran("EXPIRE NX of a key with TTL", setTTL, wb("EXPIRE", "k", "100", "NX")),
		ran("EXPIRE GT earlier", setTTL, wb("EXPIRE", "k", "10", "GT")),
		ran("EXPIRE LT XX of a key without TTL", set, wb("EXPIRE", "k", "10", "LT", "XX")),
		ran("SETRANGE of nothing", set, wb("SETRANGE", "k", "0", "")),
		ran("SETRANGE of nothing to a missing key", nil, wb("SETRANGE", "k", "0", "")),
		ran("SETRANGE at a negative offset", set, wb("SETRANGE", "k", "-1", "x")),
		ran("INCR of a non-integer", set, wb("INCR", "k")),
		ran("INCR past the largest integer", []watchStep{wb("SET", "k", "9223372036854775807")}, wb("INCR", "k")),
		ran("MSET with an odd argument count", nil, wb("MSET", "k", "v", "x")),
		ran("MSETNX with an existing key", []watchStep{wb("SET", "a", "1")}, wb("MSETNX", "a", "1", "k", "2")),
		ran("RENAME to itself", set, wb("RENAME", "k", "k")),
		ran("RENAMENX to itself", set, wb("RENAMENX", "k", "k")),
		ran("RENAME of a missing key", nil, wb("RENAME", "k", "o")),
		ran("RENAMENX onto the existing watched key", setBoth, wb("RENAMENX", "o", "k")),
		ran("RENAMENX of the watched key onto an existing one", setBoth, wb("RENAMENX", "k", "o")),
		ran("COPY onto an existing key without REPLACE", setBoth, wb("COPY", "o", "k")),
		ran("COPY of the watched key", set, wb("COPY", "k", "o")),
		ran("COPY of a missing key", set, wb("COPY", "o", "k", "REPLACE")),
		ran("reads", set, wb("GET", "k"), wb("EXISTS", "k"), wb("TOUCH", "k"), wb("STRLEN", "k"), wb("TTL", "k"), wb("GETRANGE", "k", "0", "-1")),
		ran("a write to another key", set, wb("SET", "o", "v"), wb("DEL", "o")),

		// Several keys.
		abort("FLUSHALL of the watched key", set, wb("FLUSHALL")),
		abort("FLUSHDB of the watched key", set, wb("FLUSHDB")),
		ran("FLUSHALL while the watched key is missing", setOther, wb("FLUSHALL")),
		abort("RENAME into the watched key", setOther, wb("RENAME", "o", "k")),
		abort("RENAME out of the watched key", set, wb("RENAME", "k", "o")),
		abort("RENAMENX into the watched key", setOther, wb("RENAMENX", "o", "k")),
		abort("RENAMENX out of the watched key", set, wb("RENAMENX", "k", "o")),
		abort("COPY REPLACE onto the watched key", setBoth, wb("COPY", "o", "k", "REPLACE")),
		abort("COPY onto the missing watched key", setOther, wb("COPY", "o", "k")),
		abort("MSET", nil, wb("MSET", "a", "1", "k", "2")),
		abort("MSET of the same value", set, wb("MSET", "a", "1", "k", "v")),
		abort("MSETNX", nil, wb("MSETNX", "a", "1", "k", "2")),
		{name: "one of several watched keys", watch: []string{"x", "k", "y"}, steps: []watchStep{wb("SET", "k", "v")}, abort: true},

		// The watching client's own writes, and other transactions.
		abort("its own write before MULTI", set, wa("SET", "k", "v")),
		abort("its own INCR then DECR", []watchStep{wb("SET", "k", "1")}, wa("INCR", "k"), wa("DECR", "k")),
		ran("its own write to another key", set, wa("SET", "o", "v")),
		abort("another client's EXEC writing it", nil, wb("MULTI"), wb("SET", "k", "v"), wb("EXEC").expect(arrR(okR))),
		ran("another client's EXEC reading it", set, wb("MULTI"), wb("GET", "k"), wb("EXEC").expect(arrR(bulkR("v")))),
		ran("a write before WATCH", nil),

		// What forgets the watches and the touches.
		ran("UNWATCH", set, wb("SET", "k", "v"), wa("UNWATCH")),
		ran("DISCARD", set, wb("SET", "k", "v"), wa("MULTI"), wa("DISCARD")),
		ran("RESET", set, wb("SET", "k", "v"), wa("RESET").expect(simpleR("RESET"))),
		ran("an aborted EXEC", set, wb("SET", "k", "v"), wa("MULTI"), wa("EXEC").expect("*-1\r\n"), wb("SET", "k", "w")),
		ran("an EXEC that ran", set, wa("MULTI"), wa("EXEC").expect(arrR()), wb("SET", "k", "w")),
		abort("a touch, then WATCH of another key", set, wb("SET", "k", "v"), wa("WATCH", "o")),

		// Expiry.
		abort("a key that expires after WATCH", []watchStep{wb("SET", "k", "v", "PX", watchTTL)},
			wa("EXISTS", "k").expect(intR(1)), pause(watchPause)),
		abort("a key that expires after WATCH, then read", []watchStep{wb("SET", "k", "v", "PX", watchTTL)},
			wa("EXISTS", "k").expect(intR(1)), pause(watchPause), wb("GET", "k").expect(nullR)),
		ran("a key expired before WATCH", []watchStep{wb("SET", "k", "v", "PX", "1"), pause(20 * time.Millisecond)}),
		ran("a key expired before WATCH, then read", []watchStep{wb("SET", "k", "v", "PX", "1"), pause(20 * time.Millisecond)},
			wb("GET", "k").expect(nullR)),
		ran("a key expired before WATCH, then deleted", []watchStep{wb("SET", "k", "v", "PX", "1"), pause(20 * time.Millisecond)},
			wb("DEL", "k").expect(intR(0))),
		ran("a key expired before WATCH, then FLUSHALL", []watchStep{wb("SET", "k", "v", "PX", "1"), pause(20 * time.Millisecond)},
			wb("FLUSHALL")),
		abort("a key expired before WATCH, then set", []watchStep{wb("SET", "k", "v", "PX", "1"), pause(20 * time.Millisecond)},
			wb("SET", "k", "v")),
	}
}

// watchPair is the two clients of one server a scenario runs on.
type watchPair struct {
	name string
	a, b rawClient
}

// runWatchCases runs every scenario on each pair in lockstep, checking
// each reply against the step's expectation and the first pair's reply,
// and EXEC's against the scenario's.
func runWatchCases(t *testing.T, pairs []watchPair) {
	t.Helper()
	for _, tc := range watchCases() {
		replies := make([]string, len(pairs))
		do := func(st watchStep) {
			t.Helper()
			if st.who == 0 {
				time.Sleep(st.pause)
				return
			}
			for i, p := range pairs {
				c := p.a
				if st.who == 'b' {
					c = p.b
				}
				replies[i] = c.do(t, st.args...)
				if st.want != "" && replies[i] != st.want {
					t.Errorf("%s: %s: %c %q: got %q, want %q", tc.name, p.name, st.who, st.args, replies[i], st.want)
				}
				if i > 0 && replies[i] != replies[0] {
					t.Errorf("%s: %c %q: %s answered %q, %s %q", tc.name, st.who, st.args, p.name, replies[i], pairs[0].name, replies[0])
				}
			}
		}
		do(wb("FLUSHALL").expect(okR))
		for _, st := range tc.setup {
			do(st)
		}
		do(wa(append([]string{"WATCH"}, tc.watch...)...).expect(okR))
		for _, st := range tc.steps {
			do(st)
		}
		do(wa("MULTI").expect(okR))
		do(wa("PING").expect(simpleR("QUEUED")))
		want := arrR(simpleR("PONG"))
		if tc.abort {
			want = "*-1\r\n"
		}
		do(wa("EXEC").expect(want))
	}
}

// TestWatchCases: WATCH aborts EXEC exactly when Redis 7.0 does
// (watchCases; TestWatchAgainstRedis proves the expectations).
func TestWatchCases(t *testing.T) {
	srv := newDirectServer(t, Config{})
	runWatchCases(t, []watchPair{{"ringdb", newDirectClient(t, srv), newDirectClient(t, srv)}})
	if keys, entries := srv.watch.keys(); keys != 0 || entries != 0 || srv.watch.watching.Load() != 0 {
		t.Errorf("registry after the last EXEC: %d keys, %d entries, %d sessions", keys, entries, srv.watch.watching.Load())
	}
}

// TestWatchAgainstRedis runs watchCases on a Redis 7.0 and on ringdb
// side by side, comparing every reply.
func TestWatchAgainstRedis(t *testing.T) {
	dial := compareRedisDialer(t)
	srv := newDirectServer(t, Config{})
	runWatchCases(t, []watchPair{
		{"redis", dial(t), dial(t)},
		{"ringdb", newDirectClient(t, srv), newDirectClient(t, srv)},
	})
}

// TestWatchCasesCoverWrites: every write command of the table is in a
// scenario where it aborts a transaction, so a new one cannot be added
// without saying what it touches.
func TestWatchCasesCoverWrites(t *testing.T) {
	covered := make(map[string]bool)
	for _, tc := range watchCases() {
		if !tc.abort {
			continue
		}
		for _, st := range tc.steps {
			if st.who != 0 {
				covered[strings.ToLower(st.args[0])] = true
			}
		}
	}
	for _, c := range commandList(Config{}) {
		if c.resp != nil && c.flags&flagWrite != 0 && !covered[c.name] {
			t.Errorf("write command %s aborts no scenario of watchCases", c.name)
		}
	}
}

// TestWatchEviction: a watched key evicted after WATCH aborts the
// transaction, as Redis's eviction touches it.
func TestWatchEviction(t *testing.T) {
	srv := newDirectServer(t, Config{MaxMemory: 4 << 20, Eviction: core.AllKeys})
	a, b := newDirectClient(t, srv), newDirectClient(t, srv)
	a.expect(t, okR, "SET", "k", "v")
	a.expect(t, okR, "WATCH", "k")
	val := strings.Repeat("x", 1000)
	for i := 0; b.do(t, "EXISTS", "k") == intR(1); i++ {
		if i == 100_000 {
			t.Fatal("k never evicted")
		}
		b.expect(t, okR, "SET", "fill:"+strconv.Itoa(i), val)
	}
	a.expect(t, okR, "MULTI")
	a.expect(t, simpleR("QUEUED"), "PING")
	a.expect(t, "*-1\r\n", "EXEC")
}

// TestWatchActiveExpiry: a watched key that the active expiry cycle
// reclaims after WATCH, with no command looking at it, aborts the
// transaction.
func TestWatchActiveExpiry(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixMilli())
	srv := newDirectServerOpts(t, Config{}, core.Options{Clock: now.Load})
	a := newDirectClient(t, srv)
	a.expect(t, okR, "SET", "k", "v", "PX", "100")
	a.expect(t, okR, "WATCH", "k")
	now.Add(1000)
	if n := srv.ks.ActiveExpireCycle(time.Second); n != 1 {
		t.Fatalf("active expiry reclaimed %d keys, want 1", n)
	}
	a.expect(t, okR, "MULTI")
	a.expect(t, "*-1\r\n", "EXEC")
}

// TestWatchBinaryWrites: a write of a binary-protocol client touches the
// keys a RESP client watches, as the same command over RESP does.
func TestWatchBinaryWrites(t *testing.T) {
	srv := newDirectServer(t, Config{})
	a := newDirectClient(t, srv)
	bc := transport.NewDetachedConn(transport.ProtoBinary)
	if err := srv.h.Open(bc); err != nil {
		t.Fatal(err)
	}
	defer srv.h.Close(bc)
	b := func(op binproto.Opcode, args ...binproto.Value) any {
		w := transport.NewWriter(nil, transport.ProtoBinary, 0)
		srv.h.Serve(bc, &transport.Request{Op: op, ID: 1, Args: args}, w)
		return decode(t, w.Bytes())
	}
	str := func(s string) binproto.Value { return binproto.Value{Kind: binproto.KindBytes, Bytes: []byte(s)} }
	num := func(n int64) binproto.Value { return binproto.Value{Kind: binproto.KindInt, Int: n} }
	null := binproto.Value{Kind: binproto.KindNull}
	if r, ok := b(binproto.OpHello, num(1), num(1), null, null).(map[string]any); !ok {
		t.Fatalf("HELLO = %v", r)
	}
	far := time.Now().Add(time.Hour).UnixMilli()
	for _, c := range []struct {
		name  string
		setup []string // RESP, by a, before WATCH
		op    binproto.Opcode
		args  []binproto.Value
		abort bool
	}{
		{"SET of the same value", []string{"SET", "k", "v"}, binproto.OpSet, []binproto.Value{str("k"), str("v")}, true},
		{"SET NX of an existing key", []string{"SET", "k", "v"}, binproto.OpSet, []binproto.Value{str("k"), str("x"), num(binproto.SetNX)}, false},
		{"MSET", nil, binproto.OpMSet, []binproto.Value{str("a"), str("1"), str("k"), str("2")}, true},
		{"INCRBY 0", []string{"SET", "k", "1"}, binproto.OpIncrBy, []binproto.Value{str("k"), num(0)}, true},
		{"APPEND", []string{"SET", "k", "v"}, binproto.OpAppend, []binproto.Value{str("k"), str("")}, true},
		{"GETDEL", []string{"SET", "k", "v"}, binproto.OpGetDel, []binproto.Value{str("k")}, true},
		{"GETDEL of a missing key", nil, binproto.OpGetDel, []binproto.Value{str("k")}, false},
		{"GETEX PXAT", []string{"SET", "k", "v"}, binproto.OpGetEx, []binproto.Value{str("k"), num(binproto.ExpPXAt), num(far)}, true},
		{"GETEX PERSIST of a key without TTL", []string{"SET", "k", "v"}, binproto.OpGetEx, []binproto.Value{str("k"), num(binproto.ExpPersist)}, false},
		{"DEL", []string{"SET", "k", "v"}, binproto.OpDel, []binproto.Value{str("o"), str("k")}, true},
		{"DEL of a missing key", nil, binproto.OpDel, []binproto.Value{str("k")}, false},
		{"RENAME into", []string{"SET", "o", "v"}, binproto.OpRename, []binproto.Value{str("o"), str("k")}, true},
		{"PEXPIREAT", []string{"SET", "k", "v"}, binproto.OpPExpireAt, []binproto.Value{str("k"), num(far)}, true},
		{"EXPIRE of a missing key", nil, binproto.OpExpire, []binproto.Value{str("k"), num(100)}, false},
		{"PERSIST", []string{"SET", "k", "v", "EX", "100"}, binproto.OpPersist, []binproto.Value{str("k")}, true},
		{"PERSIST of a key without TTL", []string{"SET", "k", "v"}, binproto.OpPersist, []binproto.Value{str("k")}, false},
		{"FLUSHALL", []string{"SET", "k", "v"}, binproto.OpFlushAll, nil, true},
	} {
		a.expect(t, okR, "FLUSHALL")
		if c.setup != nil {
			a.expect(t, okR, c.setup...)
		}
		a.expect(t, okR, "WATCH", "k")
		if r, isErr := b(c.op, c.args...).(binErr); isErr {
			t.Errorf("%s: %v", c.name, r)
		}
		a.expect(t, okR, "MULTI")
		want := arrR()
		if c.abort {
			want = "*-1\r\n"
		}
		if got := a.do(t, "EXEC"); got != want {
			t.Errorf("binary %s: EXEC = %q, want %q", c.name, got, want)
		}
	}
}

// TestWatchRegistryFreed: the registry holds a key while a session
// watches it and forgets it when the session unwatches in any way or
// closes; while nobody watches, the count touch reads is 0.
func TestWatchRegistryFreed(t *testing.T) {
	srv := newDirectServer(t, Config{})
	reg := srv.watch
	check := func(what string, keys, entries int, watching int64) {
		t.Helper()
		k, e := reg.keys()
		if k != keys || e != entries || reg.watching.Load() != watching {
			t.Errorf("%s: %d keys, %d entries, %d watching; want %d, %d, %d", what, k, e, reg.watching.Load(), keys, entries, watching)
		}
	}
	var clients []*directClient
	for i := range 10 {
		c := newDirectClient(t, srv)
		clients = append(clients, c)
		c.expect(t, okR, "WATCH", "shared", "own:"+strconv.Itoa(i), "shared")
	}
	check("10 clients watching", 11, 20, 10)
	// Each way out: UNWATCH, DISCARD, EXEC (ran or aborted), RESET, a
	// rejected EXEC, closing the connection.
	clients[0].expect(t, okR, "UNWATCH")
	clients[1].expect(t, okR, "MULTI")
	clients[1].expect(t, okR, "DISCARD")
	clients[2].expect(t, okR, "MULTI")
	clients[2].expect(t, arrR(), "EXEC")
	clients[3].expect(t, simpleR("RESET"), "RESET")
	clients[4].expect(t, okR, "MULTI")
	clients[4].expect(t, errR("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"), "EXEC", "x")
	clients[4].expect(t, errR("ERR EXEC without MULTI"), "EXEC")
	check("5 clients watching", 6, 10, 5)
	clients[5].expect(t, okR, "SET", "shared", "v") // dirty: still registered until EXEC
	check("a touch", 6, 10, 5)
	clients[5].expect(t, okR, "MULTI")
	clients[5].expect(t, "*-1\r\n", "EXEC")
	check("4 clients watching", 5, 8, 4)
	for _, c := range clients[6:] {
		srv.h.Close(c.conn)
	}
	check("every client gone", 0, 0, 0)

	// Over a real transport: a client that disconnects without UNWATCH
	// leaves nothing behind.
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		if got := c.do(t, "WATCH", "a", "b"); got != okR {
			t.Fatalf("WATCH: %q", got)
		}
		if k, _ := ts.watch.keys(); k != 2 {
			t.Fatalf("%d keys watched, want 2", k)
		}
		c.conn.Close()
		deadline := time.Now().Add(5 * time.Second)
		for {
			k, e := ts.watch.keys()
			if k == 0 && e == 0 && ts.watch.watching.Load() == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after the client closed: %d keys, %d entries, %d watching", k, e, ts.watch.watching.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// TestWatchRaceNoLostTouch: a write that completes after WATCH returned
// and before EXEC was sent aborts the transaction, even when it writes
// the value back, with commands on several event loops at once. Each
// writer notes the WATCH generation it saw before sending its SET and
// publishes it once the SET is answered; a watcher whose generation a
// writer published before EXEC must see EXEC abort.
func TestWatchRaceNoLostTouch(t *testing.T) {
	ts := startServer(t, TransportGnet, Config{Loops: 2})
	const keys = 4
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	var writers, watchers sync.WaitGroup
	var stop atomic.Bool
	var lost, aborted, ran atomic.Int64
	for k := range keys {
		key := "race:" + strconv.Itoa(k)
		var gen, seen atomic.Int64 // WATCH's generation; the last one a completed SET saw
		wc := ts.raw(t)
		if got := wc.do(t, "SET", key, "v"); got != okR {
			t.Fatalf("SET: %q", got)
		}
		for range 2 {
			c := ts.raw(t)
			writers.Add(1)
			go func() {
				defer writers.Done()
				for !stop.Load() {
					g := gen.Load()
					if got := c.do(t, "SET", key, "v"); got != okR {
						t.Errorf("SET: %q", got)
						return
					}
					for {
						old := seen.Load()
						if old >= g || seen.CompareAndSwap(old, g) {
							break
						}
					}
				}
			}()
		}
		watchers.Add(1)
		go func() {
			defer watchers.Done()
			for i := int64(1); i <= int64(rounds); i++ {
				if got := wc.do(t, "WATCH", key); got != okR {
					t.Errorf("WATCH: %q", got)
					return
				}
				gen.Store(i)
				if got := wc.do(t, "MULTI"); got != okR {
					t.Errorf("MULTI: %q", got)
					return
				}
				wc.do(t, "PING")
				touched := seen.Load() >= i // a SET sent after WATCH was answered
				got := wc.do(t, "EXEC")
				switch {
				case got == "*-1\r\n":
					aborted.Add(1)
				case touched:
					lost.Add(1)
				default:
					ran.Add(1)
				}
			}
		}()
	}
	// The watchers end first; then the writers.
	watchers.Wait()
	stop.Store(true)
	writers.Wait()
	if lost.Load() != 0 {
		t.Errorf("%d EXECs ran after a write that came after their WATCH (%d aborted, %d ran)", lost.Load(), aborted.Load(), ran.Load())
	}
	if aborted.Load() == 0 {
		t.Errorf("no EXEC aborted (%d ran): the writers never wrote in time", ran.Load())
	}
	t.Logf("%d aborted, %d ran", aborted.Load(), ran.Load())
	if k, e := ts.watch.keys(); k != 0 || e != 0 {
		t.Errorf("registry after the last EXEC: %d keys, %d entries", k, e)
	}
}

// BenchmarkWatchExecLargeValues: WATCH, MULTI and EXEC of 16 keys of
// 8 MiB each. WATCH used to hash every watched value, at WATCH and again at
// EXEC (46 ms an iteration); now each costs a lookup, whatever its size.
func BenchmarkWatchExecLargeValues(b *testing.B) {
	srv := newDirectServer(b, Config{})
	a := newDirectClient(b, srv)
	big := strings.Repeat("x", 8<<20)
	var watch []string
	for i := range 16 {
		k := "big:" + strconv.Itoa(i)
		if err := srv.ks.Set([]byte(k), []byte(big)); err != nil {
			b.Fatal(err)
		}
		watch = append(watch, k)
	}
	cmd := append([]string{"WATCH"}, watch...)
	for b.Loop() {
		a.expect(b, okR, cmd...)
		a.expect(b, okR, "MULTI")
		a.expect(b, arrR(), "EXEC")
	}
}

// BenchmarkServeSetWatched is BenchmarkServe's SET while another session
// watches a key: the cost of a touch once someone watches (a hash, a
// shard lock and a map lookup), against BenchmarkServe's SET, where
// nobody does (one atomic load).
func BenchmarkServeSetWatched(b *testing.B) {
	for _, key := range []string{"other", "key"} {
		b.Run("watched="+key, func(b *testing.B) {
			h := newHotPath(b, Config{MetricsAddr: metricsOff})
			w := newDirectClient(b, h.srv)
			w.expect(b, okR, "WATCH", key)
			req := &transport.Request{Argv: argvOf([]string{"SET", "key", "value"})}
			h.serve(req)
			b.ReportAllocs()
			for b.Loop() {
				h.serve(req)
			}
		})
	}
}

// TestWatchShardShrinks: a registry shard emptied after holding many keys
// gets a new map, not the room the old one grew to.
func TestWatchShardShrinks(t *testing.T) {
	r := newWatchRegistry()
	sh := &r.shards[0]
	s1, s2 := &session{}, &session{}
	var keys [][]byte
	for i := 0; len(keys) < shardShrinkPeak+10; i++ {
		if k := []byte("k" + strconv.Itoa(i)); r.shard(k) == sh {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		r.add(s1, k)
		r.add(s2, k)
	}
	if n, e := r.keys(); n != len(keys) || e != 2*len(keys) || sh.peak != len(keys) {
		t.Fatalf("%d keys, %d entries, peak %d; want %d, %d, %d", n, e, sh.peak, len(keys), 2*len(keys), len(keys))
	}
	r.remove(s1, []byte("not watched")) // no effect
	for _, k := range keys {
		r.remove(s1, k)
	}
	if n, e := r.keys(); n != len(keys) || e != len(keys) {
		t.Fatalf("after s1 left: %d keys, %d entries", n, e)
	}
	for _, k := range keys {
		r.remove(s2, k)
	}
	if n, e := r.keys(); n != 0 || e != 0 || sh.peak != 0 {
		t.Fatalf("emptied: %d keys, %d entries, peak %d", n, e, sh.peak)
	}
}
