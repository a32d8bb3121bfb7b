package server

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/transport"
	"github.com/ringdb/ringdb/transport/binproto"
)

// txCase is a command and the reply redis-server 7.0.15 gives it.
type txCase struct {
	args []string
	want string
}

// runTxCases sends each case on one fresh direct client.
func runTxCases(t *testing.T, cfg Config, cases []txCase) {
	t.Helper()
	c := newDirectClient(t, newDirectServer(t, cfg))
	for _, tc := range cases {
		if got := c.do(t, tc.args...); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.args, got, tc.want)
		}
	}
}

func cmdArgs(s ...string) []string { return s }

// TestTxReplies: every reply and error of MULTI, EXEC, DISCARD, WATCH and
// UNWATCH, as redis-server 7.0.15 answers the same sequence on one
// connection.
func TestTxReplies(t *testing.T) {
	execAbort := errR("EXECABORT Transaction discarded because of previous errors.")
	runTxCases(t, Config{EnableDebugCommands: true}, []txCase{
		{cmdArgs("EXEC"), errR("ERR EXEC without MULTI")},
		{cmdArgs("DISCARD"), errR("ERR DISCARD without MULTI")},
		{cmdArgs("EXEC", "foo"), errR("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")},
		{cmdArgs("DISCARD", "foo"), errR("ERR wrong number of arguments for 'discard' command")},
		{cmdArgs("MULTI", "foo"), errR("ERR wrong number of arguments for 'multi' command")},
		{cmdArgs("WATCH"), errR("ERR wrong number of arguments for 'watch' command")},
		{cmdArgs("UNWATCH", "foo"), errR("ERR wrong number of arguments for 'unwatch' command")},
		// Nested MULTI and WATCH inside MULTI do not fail the transaction.
		{cmdArgs("MULTI"), okR},
		{cmdArgs("MULTI"), errR("ERR MULTI calls can not be nested")},
		{cmdArgs("WATCH", "a"), errR("ERR WATCH inside MULTI is not allowed")},
		{cmdArgs("EXEC"), "*0\r\n"},
		// A runtime error does not stop the others.
		{cmdArgs("SET", "s", "x"), okR},
		{cmdArgs("MULTI"), okR},
		{cmdArgs("INCR", "s"), simpleR("QUEUED")},
		{cmdArgs("SET", "t", "1"), simpleR("QUEUED")},
		{cmdArgs("UNWATCH"), simpleR("QUEUED")},
		{cmdArgs("PING"), simpleR("QUEUED")},
		{cmdArgs("EXEC"), arrR(errR("ERR value is not an integer or out of range"), okR, okR, simpleR("PONG"))},
		{cmdArgs("GET", "t"), bulkR("1")},
		// Rejected while queuing: the transaction is discarded.
		{cmdArgs("MULTI"), okR},
		{cmdArgs("nosuch"), errR("ERR unknown command 'nosuch', with args beginning with: ")},
		{cmdArgs("SET", "t", "2"), simpleR("QUEUED")},
		{cmdArgs("EXEC"), execAbort},
		{cmdArgs("GET", "t"), bulkR("1")},
		{cmdArgs("MULTI"), okR},
		{cmdArgs("GET"), errR("ERR wrong number of arguments for 'get' command")},
		{cmdArgs("EXEC"), execAbort},
		{cmdArgs("MULTI"), okR},
		{cmdArgs("DISCARD", "foo"), errR("ERR wrong number of arguments for 'discard' command")},
		{cmdArgs("EXEC"), execAbort},
		{cmdArgs("MULTI"), okR},
		{cmdArgs("MULTI", "foo"), errR("ERR wrong number of arguments for 'multi' command")},
		{cmdArgs("EXEC"), execAbort},
		{cmdArgs("MULTI"), okR},
		{cmdArgs("WATCH"), errR("ERR wrong number of arguments for 'watch' command")},
		{cmdArgs("EXEC"), execAbort},
		{cmdArgs("MULTI"), okR},
		{cmdArgs("SHUTDOWN"), errR("ERR Command not allowed inside a transaction")},
		{cmdArgs("EXEC"), execAbort},
		{cmdArgs("MULTI"), okR},
		{cmdArgs("CLIENT", "NOSUCH"), errR("ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.")},
		{cmdArgs("EXEC"), execAbort},
		// Ours only: a parking command would break EXEC's reply.
		{cmdArgs("MULTI"), okR},
		{cmdArgs("DEBUG.SLEEPREPLY", "1"), errR("ERR Command not allowed inside a transaction")},
		{cmdArgs("EXEC"), execAbort},
		// EXEC's own argument count discards the transaction.
		{cmdArgs("MULTI"), okR},
		{cmdArgs("SET", "t", "3"), simpleR("QUEUED")},
		{cmdArgs("EXEC", "foo"), errR("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")},
		{cmdArgs("EXEC"), errR("ERR EXEC without MULTI")},
		{cmdArgs("GET", "t"), bulkR("1")},
		// DISCARD drops the queue.
		{cmdArgs("MULTI"), okR},
		{cmdArgs("SET", "t", "4"), simpleR("QUEUED")},
		{cmdArgs("DISCARD"), okR},
		{cmdArgs("GET", "t"), bulkR("1")},
		// A command that takes a subcommand may come without one (COMMAND).
		{cmdArgs("MULTI"), okR},
		{cmdArgs("COMMAND"), simpleR("QUEUED")},
		{cmdArgs("COMMAND", "COUNT"), simpleR("QUEUED")},
		{cmdArgs("DISCARD"), okR},
		// AUTH is queued and runs in EXEC.
		{cmdArgs("MULTI"), okR},
		{cmdArgs("AUTH", "x"), simpleR("QUEUED")},
		{cmdArgs("AUTH", "a", "b"), simpleR("QUEUED")},
		{cmdArgs("EXEC"), arrR(errR("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"), errR("WRONGPASS invalid username-password pair or user is disabled."))},
	})
}

// TestTxNoAuth: a command refused for authentication fails the
// transaction (after the client has authenticated, a password set by
// CONFIG SET does not log it out, so use a fresh session).
func TestTxNoAuth(t *testing.T) {
	runTxCases(t, Config{AuthToken: "pw"}, []txCase{
		{cmdArgs("MULTI"), errR("NOAUTH Authentication required.")},
		{cmdArgs("EXEC"), errR("EXECABORT Transaction discarded because of: NOAUTH Authentication required.")},
		{cmdArgs("AUTH", "pw"), okR},
		{cmdArgs("MULTI"), okR},
		{cmdArgs("INCR", "n"), simpleR("QUEUED")},
		{cmdArgs("EXEC"), arrR(intR(1))},
	})
}

// TestTxQuit: QUIT inside MULTI acts at once, as in Redis.
func TestTxQuit(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		if got := c.do(t, "MULTI"); got != okR {
			t.Fatalf("MULTI: %q", got)
		}
		if got := c.do(t, "QUIT"); got != okR {
			t.Fatalf("QUIT: %q", got)
		}
		c.expectClosed(t)
	})
}

// TestTxWatch: a watched key changed by another client makes EXEC answer
// a null array and run nothing; EXEC, DISCARD and UNWATCH forget the
// watches; a write of the same value is a change too, as in Redis
// (watch_test.go has the full table).
func TestTxWatch(t *testing.T) {
	srv := newDirectServer(t, Config{})
	a, b := newDirectClient(t, srv), newDirectClient(t, srv)
	do := func(c *directClient, want string, args ...string) {
		t.Helper()
		if got := c.do(t, args...); got != want {
			t.Errorf("%q: got %q, want %q", args, got, want)
		}
	}
	do(a, okR, "SET", "k", "1")
	do(a, okR, "WATCH", "k", "k", "missing")
	do(b, okR, "SET", "k", "2")
	do(a, okR, "MULTI")
	do(a, simpleR("QUEUED"), "SET", "x", "1")
	do(a, "*-1\r\n", "EXEC")
	do(a, nullR, "GET", "x")
	// The watches went with that EXEC.
	do(a, okR, "MULTI")
	do(a, simpleR("QUEUED"), "SET", "x", "1")
	do(a, arrR(okR), "EXEC")
	// A key created, deleted, or given a deadline is a change.
	for _, write := range [][]string{{"SET", "missing", "v"}, {"DEL", "k"}, {"EXPIRE", "x", "100"}} {
		do(a, okR, "WATCH", "k", "missing", "x")
		b.do(t, write...)
		do(a, okR, "MULTI")
		do(a, "*-1\r\n", "EXEC")
	}
	// UNWATCH and DISCARD forget them.
	do(a, okR, "WATCH", "k")
	do(a, okR, "UNWATCH")
	do(b, okR, "SET", "k", "3")
	do(a, okR, "MULTI")
	do(a, arrR(), "EXEC")
	do(a, okR, "WATCH", "k")
	do(a, okR, "MULTI")
	do(a, okR, "DISCARD")
	do(b, okR, "SET", "k", "4")
	do(a, okR, "MULTI")
	do(a, simpleR("QUEUED"), "GET", "k")
	do(a, arrR(bulkR("4")), "EXEC")
	// The same value written back aborts it, as in Redis.
	do(a, okR, "WATCH", "k")
	do(b, okR, "SET", "k", "4")
	do(a, okR, "MULTI")
	do(a, simpleR("QUEUED"), "INCR", "k")
	do(a, "*-1\r\n", "EXEC")
	do(a, okR, "MULTI")
	do(a, simpleR("QUEUED"), "INCR", "k")
	do(a, arrR(intR(5)), "EXEC")
	// RESP3: a null.
	a.do(t, "HELLO", "3")
	do(a, okR, "WATCH", "k")
	do(b, okR, "SET", "k", "6")
	do(a, okR, "MULTI")
	do(a, "_\r\n", "EXEC")
}

// TestTxLimits: the queue and the watched keys are bounded, and the bound
// is checked before anything is copied.
func TestTxLimits(t *testing.T) {
	srv := newDirectServer(t, Config{})
	c := newDirectClient(t, srv)
	serve := func(argv [][]byte) string {
		w := transport.NewWriter(nil, transport.ProtoRESP, 2)
		srv.h.Serve(c.conn, &transport.Request{Argv: argv}, w)
		return string(w.Bytes())
	}
	limit := errR("ERR " + msgTxLimit)

	// Bytes: one SET whose arguments share one 1 MiB array but count
	// 600 MiB; nothing is copied before the check refuses it.
	big := make([]byte, 1<<20)
	argv := [][]byte{[]byte("MSET")}
	for range 600 {
		argv = append(argv, []byte("k"), big)
	}
	c.do(t, "MULTI")
	if got := serve(argv); got != limit {
		t.Fatalf("600 MiB queued: %q", got)
	}
	if got := c.do(t, "PING"); got != simpleR("QUEUED") {
		t.Fatalf("PING after the limit: %q", got)
	}
	if got := c.do(t, "EXEC"); got != errR("EXECABORT "+msgExecAbort) {
		t.Fatalf("EXEC: %q", got)
	}

	// Commands.
	c.do(t, "MULTI")
	for i := range maxTxCommands {
		if got := c.do(t, "INCR", "n"); got != simpleR("QUEUED") {
			t.Fatalf("INCR %d: %q", i, got)
		}
	}
	if got := c.do(t, "INCR", "n"); got != limit {
		t.Fatalf("past the limit: %q", got)
	}
	if got := c.do(t, "EXEC"); got != errR("EXECABORT "+msgExecAbort) {
		t.Fatalf("EXEC: %q", got)
	}
	c.do(t, "MULTI")
	for range 3 {
		c.do(t, "INCR", "n")
	}
	if got := c.do(t, "EXEC"); got != arrR(intR(1), intR(2), intR(3)) {
		t.Fatalf("EXEC after: %q", got)
	}

	// Watched keys.
	keys := []string{"WATCH"}
	for i := range maxWatchedKeys {
		keys = append(keys, "w"+strconv.Itoa(i))
	}
	if got := c.do(t, keys...); got != okR {
		t.Fatalf("WATCH %d keys: %q", maxWatchedKeys, got)
	}
	if got := c.do(t, "WATCH", "one-more"); got != errR("ERR "+msgWatchLimit) {
		t.Fatalf("WATCH past the limit: %q", got)
	}
	c.do(t, "UNWATCH")
	if got := c.do(t, "WATCH", "one-more"); got != okR {
		t.Fatalf("WATCH after UNWATCH: %q", got)
	}
	if got := c.do(t, "WATCH", string(make([]byte, srv.cfg.MaxKeySize+1))); got != errR("ERR key too large") {
		t.Fatalf("WATCH of a key too large: %q", got)
	}
}

// TestTxIsolation: transactions incrementing a and b run while readers
// over RESP and the binary protocol read both; no reader ever sees them
// differ. Without the gate a reader between the two INCRs would.
func TestTxIsolation(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		const writers, rounds = 2, 300
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for range writers {
			rdb := ts.redis(t, 2, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					_, err := rdb.TxPipelined(context.Background(), func(p redis.Pipeliner) error {
						p.Incr(context.Background(), "a")
						p.Incr(context.Background(), "b")
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		raw := ts.raw(t)
		bin := newBinClient(t, ts)
		bin.hello("reader", nil)
		reads := 0
		for running := true; running; reads++ {
			select {
			case <-done:
				running = false
			default:
			}
			got := raw.do(t, "MGET", "a", "b")
			if body, ok := strings.CutPrefix(got, "*2\r\n"); !ok || len(body)%2 != 0 || body[:len(body)/2] != body[len(body)/2:] {
				t.Fatalf("RESP MGET a b saw a partial transaction: %q", got)
			}
			v, ok := bin.call(binproto.OpMGet, "a", "b").([]any)
			if !ok || len(v) != 2 || v[0] != v[1] {
				t.Fatalf("binary MGET a b saw a partial transaction: %v", v)
			}
		}
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		want := bulksR(strconv.Itoa(writers*rounds), strconv.Itoa(writers*rounds))
		if got := raw.do(t, "MGET", "a", "b"); got != want {
			t.Fatalf("after: %q, want %q", got, want)
		}
		t.Logf("%d reads", reads)
	})
}

// TestTxGoRedis: go-redis TxPipelined (a rate limiter's INCR + EXPIRE)
// and Watch (an optimistic read-modify-write that retries on conflict).
func TestTxGoRedis(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		for _, proto := range []int{2, 3} {
			rdb := ts.redis(t, proto, nil)
			ctx := context.Background()
			key := "rate:" + strconv.Itoa(proto)
			var incr *redis.IntCmd
			cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				incr = p.Incr(ctx, key)
				p.Expire(ctx, key, time.Minute)
				return nil
			})
			noErr(t, "TxPipelined", err)
			check(t, "TxPipelined cmds", len(cmds), nil, 2)
			check(t, "INCR in tx", incr.Val(), incr.Err(), int64(1))
			ttl, err := rdb.TTL(ctx, key).Result()
			checkDur(t, "TTL", ttl, err, 59*time.Second, time.Minute)

			// Watch: a conflicting write between the read and EXEC
			// fails the first attempt with TxFailedErr.
			other := ts.redis(t, proto, nil)
			wkey := "watched:" + strconv.Itoa(proto)
			noErr(t, "SET", rdb.Set(ctx, wkey, "10", 0).Err())
			attempts := 0
			for {
				attempts++
				err := rdb.Watch(ctx, func(tx *redis.Tx) error {
					n, err := tx.Get(ctx, wkey).Int()
					if err != nil {
						return err
					}
					if attempts == 1 {
						if err := other.Set(ctx, wkey, "20", 0).Err(); err != nil {
							return err
						}
					}
					_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, wkey, strconv.Itoa(n+1), 0)
						return nil
					})
					return err
				}, wkey)
				if errors.Is(err, redis.TxFailedErr) && attempts < 5 {
					continue
				}
				noErr(t, "Watch", err)
				break
			}
			check(t, "attempts", attempts, nil, 2)
			v, err := rdb.Get(ctx, wkey).Result()
			check(t, "after Watch", v, err, "21")
		}
	})
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestTxClientList: CLIENT LIST shows a client inside MULTI as
// redis-server 7.0.15 does: flag x, multi= the commands queued, cmd= the
// last one queued (a subcommand by its full name); inside and after EXEC,
// cmd=exec.
func TestTxClientList(t *testing.T) {
	ts := startServer(t, TransportStd, Config{})
	a, b := ts.raw(t), ts.raw(t)
	line := func(list, name string) string {
		t.Helper()
		for _, l := range strings.Split(list, "\n") {
			if strings.Contains(l, " name="+name+" ") {
				return l
			}
		}
		t.Fatalf("no client %q in %q", name, list)
		return ""
	}
	want := func(l string, fields ...string) {
		t.Helper()
		for _, f := range fields {
			if !strings.Contains(l, " "+f+" ") {
				t.Errorf("%q lacks %q", l, f)
			}
		}
	}
	a.do(t, "CLIENT", "SETNAME", "aa")
	a.do(t, "MULTI")
	a.do(t, "SET", "a", "1")
	a.do(t, "CLIENT", "SETNAME", "bee")
	want(line(b.do(t, "CLIENT", "LIST"), "aa"), "flags=x", "multi=2", "cmd=client|setname")
	a.do(t, "CLIENT", "INFO")
	want(line(a.do(t, "EXEC"), "bee"), "flags=x", "multi=3", "cmd=exec")
	want(line(b.do(t, "CLIENT", "LIST"), "bee"), "flags=N", "multi=-1", "cmd=exec")
}

// TestTxClockFrozen: the commands EXEC runs see one instant, as in Redis,
// where a transaction's time is sampled once: here each read of the clock
// moves it 60 ms on, so a key set with PX 100 expired between two GETs
// of the same EXEC (the second answered null) and PTTL counted down.
func TestTxClockFrozen(t *testing.T) {
	var now atomic.Int64
	now.Store(1_700_000_000_000)
	tick := func() int64 { return now.Add(60) }
	srv := newDirectServerOpts(t, Config{}, core.Options{Clock: tick, NoActiveExpiry: true})
	c := newDirectClient(t, srv)
	c.expect(t, okR, "MULTI")
	for _, cmd := range [][]string{{"SET", "k", "v", "PX", "100"}, {"GET", "k"}, {"GET", "k"}, {"PTTL", "k"}} {
		c.expect(t, simpleR("QUEUED"), cmd...)
	}
	c.expect(t, arrR(okR, bulkR("v"), bulkR("v"), intR(100)), "EXEC")
	// The clock runs again: 60 ms a read.
	c.expect(t, bulkR("v"), "GET", "k")
	c.expect(t, nullR, "GET", "k")
}
