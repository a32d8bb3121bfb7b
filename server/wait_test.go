package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/resp"
)

// The replies these tests expect were taken from redis-server 7.0.15,
// which has no replicas either.

// TestWaitErrors: the count is checked first, then the timeout, with
// Redis 7.0's messages.
func TestWaitErrors(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	for _, tc := range []struct {
		want string
		args []string
	}{
		{errR("ERR wrong number of arguments for 'wait' command"), []string{"WAIT"}},
		{errR("ERR wrong number of arguments for 'wait' command"), []string{"WAIT", "0"}},
		{errR("ERR wrong number of arguments for 'wait' command"), []string{"WAIT", "0", "0", "0"}},
		{errR("ERR value is not an integer or out of range"), []string{"WAIT", "a", "-1"}},
		{errR("ERR value is not an integer or out of range"), []string{"WAIT", "1.0", "0"}},
		{errR("ERR value is not an integer or out of range"), []string{"WAIT", "9999999999999999999", "1"}},
		{errR("ERR timeout is not an integer or out of range"), []string{"WAIT", "0", "a"}},
		{errR("ERR timeout is not an integer or out of range"), []string{"WAIT", "1", "-0"}},
		{errR("ERR timeout is not an integer or out of range"), []string{"WAIT", "1", "99999999999999999999"}},
		{errR("ERR timeout is negative"), []string{"WAIT", "0", "-1"}},
		// No replica is needed: answered at once, whatever the timeout.
		{intR(0), []string{"WAIT", "0", "0"}},
		{intR(0), []string{"WAIT", "-5", "0"}},
		{intR(0), []string{"WAIT", "0", "9223372036854775807"}},
	} {
		if got := c.do(t, tc.args...); got != tc.want {
			t.Errorf("%q = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestWait: WAIT for a replica parks until its timeout and answers 0,
// holding back the requests pipelined behind it while other clients are
// served; it counts as a blocked client meanwhile.
func TestWait(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		const timeout = 400 * time.Millisecond
		a, b := ts.raw(t), ts.raw(t)
		var p []byte
		p = resp.AppendCommand(p, []byte("WAIT"), []byte("1"), []byte("400"))
		p = resp.AppendCommand(p, []byte("PING"))
		start := time.Now()
		a.conn.Write(p)
		if got := b.do(t, "SET", "k", "v"); got != okR {
			t.Fatalf("other client's SET = %q", got)
		}
		end := start.Add(timeout) // the earliest the WAIT can be answered
		if waitBlockedWhileHeld(t, b, a, start, timeout) {
			// Past end the WAIT may have been answered.
			got := b.do(t, "CLIENT", "LIST")
			if !strings.Contains(got, "flags=b ") || !strings.Contains(got, " cmd=wait ") {
				if time.Now().Before(end) {
					t.Errorf("CLIENT LIST while waiting = %q", got)
				} else {
					t.Logf("CLIENT LIST answered past the WAIT's earliest end, %q: the machine is too slow to check it", got)
				}
			}
		}
		a.expectHeld(t, end)
		if got := a.read(t); got != intR(0) {
			t.Fatalf("WAIT 1 400 = %q", got)
		}
		if d := time.Since(start); d < timeout {
			t.Errorf("WAIT answered after %v, before its timeout", d)
		}
		if got := a.read(t); got != simpleR("PONG") {
			t.Fatalf("PING behind WAIT = %q", got)
		}
		waitBlocked(t, b, "0")
	})
}

// TestWaitForever: WAIT with timeout 0 waits until the client leaves,
// which forgets it.
func TestWaitForever(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		a, b := ts.raw(t), ts.raw(t)
		a.send(t, "WAIT", "1", "0")
		waitBlocked(t, b, "1")
		a.expectPending(t)
		a.conn.Close()
		waitBlocked(t, b, "0")
		ts.waits.mu.Lock()
		n := len(ts.waits.waiting)
		ts.waits.mu.Unlock()
		if n != 0 {
			t.Errorf("%d WAIT requests left after their clients left", n)
		}
	})
}

// TestWaitInMulti: inside MULTI, WAIT is queued and EXEC answers it at
// once, as Redis does for a client that may not block.
func TestWaitInMulti(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		for _, s := range []struct{ args, want string }{
			{"MULTI", okR},
			{"WAIT 1 0", simpleR("QUEUED")},
			{"WAIT 0 0", simpleR("QUEUED")},
			{"WAIT 1 -1", simpleR("QUEUED")},
			{"EXEC", arrR(intR(0), intR(0), errR("ERR timeout is negative"))},
		} {
			if got := c.do(t, strings.Fields(s.args)...); got != s.want {
				t.Fatalf("%s = %q, want %q", s.args, got, s.want)
			}
		}
	})
}

// TestWaitUnderPause: WRITE does not hold WAIT back (Redis 7.0 delays
// the replicas' acknowledgements instead, and there are none); ALL does.
func TestWaitUnderPause(t *testing.T) {
	t.Parallel() // its own servers; it mostly waits (pauses, timeouts)
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		a, w := ts.raw(t), ts.raw(t)
		a.do(t, "CLIENT", "PAUSE", "60000", "WRITE")
		if got := w.do(t, "WAIT", "0", "0"); got != intR(0) {
			t.Fatalf("WAIT 0 0 under WRITE = %q", got)
		}
		a.do(t, "CLIENT", "UNPAUSE")
		start := time.Now()
		a.do(t, "CLIENT", "PAUSE", "600")
		w.send(t, "WAIT", "0", "0")
		w.expectHeld(t, start.Add(600*time.Millisecond))
		if got := w.read(t); got != intR(0) {
			t.Fatalf("WAIT 0 0 under ALL = %q", got)
		}
	})
}

// TestWaitAck: the registry's ack, which the replication layer will call,
// answers each WAIT whose count is reached with the count acknowledged,
// and leaves the others waiting.
func TestWaitAck(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		one, two, b := ts.raw(t), ts.raw(t), ts.raw(t)
		one.send(t, "WAIT", "1", "0")
		two.send(t, "WAIT", "2", "0")
		waitBlocked(t, b, "2")
		ts.waits.ack(1)
		if got := one.read(t); got != intR(1) {
			t.Fatalf("WAIT 1 after one ack = %q", got)
		}
		two.expectPending(t)
		ts.waits.ack(2)
		if got := two.read(t); got != intR(2) {
			t.Fatalf("WAIT 2 after two acks = %q", got)
		}
		waitBlocked(t, b, "0")
	})
}

// TestWaitShutdown: a shutdown does not wait for a WAIT without timeout;
// its client is closed without a reply, as Redis closes it.
func TestWaitShutdown(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{})
			a, b := ts.raw(t), ts.raw(t)
			a.send(t, "WAIT", "1", "0")
			waitBlocked(t, b, "1")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ts.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			a.expectClosed(t)
		})
	}
}

// TestGoRedisPauseAndWait: go-redis's ClientPause, ClientUnpause and Wait
// get the replies it expects.
func TestGoRedisPauseAndWait(t *testing.T) {
	t.Parallel() // its own servers; it mostly waits (pauses, timeouts)
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		rdb, other := ts.redis(t, 3, nil), ts.redis(t, 2, nil)
		n, err := rdb.Wait(ctx, 0, time.Second).Result()
		check(t, "WAIT 0 1000", n, err, 0)
		n, err = rdb.Wait(ctx, 1, 100*time.Millisecond).Result()
		check(t, "WAIT 1 100", n, err, 0)
		if err := rdb.Do(ctx, "CLIENT", "PAUSE", "60000", "WRITE").Err(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- other.Set(ctx, "k", "v", 0).Err() }()
		select {
		case err := <-done:
			t.Fatalf("SET answered during a WRITE pause: %v", err)
		case <-time.After(quiet):
		}
		ok, err := rdb.ClientUnpause(ctx).Result()
		check(t, "CLIENT UNPAUSE", ok, err, true)
		if err := <-done; err != nil {
			t.Fatalf("SET after the pause: %v", err)
		}
		ok, err = rdb.ClientPause(ctx, 300*time.Millisecond).Result()
		check(t, "CLIENT PAUSE 300", ok, err, true)
		v, err := other.Get(ctx, "k").Result()
		check(t, "GET after an ALL pause", v, err, "v")
	})
}

// TestWaitCommandInfo: COMMAND INFO and DOCS describe WAIT as Redis 7.0
// does (redis-server 7.0.15's reply): arity 3, flag noscript, no keys,
// @slow @connection, its cluster tips, group generic.
func TestWaitCommandInfo(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	want := arrR(arrR(bulkR("wait"), intR(3), arrR(simpleR("noscript")), intR(0), intR(0), intR(0), arrR(simpleR("@slow"), simpleR("@connection")),
		arrR(bulkR("request_policy:all_shards"), bulkR("response_policy:agg_min")), arrR(), arrR()))
	if got := c.do(t, "COMMAND", "INFO", "wait"); got != want {
		t.Errorf("COMMAND INFO wait = %q, want %q", got, want)
	}
	if got := c.do(t, "COMMAND", "DOCS", "wait"); !strings.Contains(got, bulkR("group")+bulkR("generic")) {
		t.Errorf("COMMAND DOCS wait = %q", got)
	}
}
