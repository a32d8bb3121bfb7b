package server

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRole: ROLE answers as a Redis primary without replicas, the same
// arrays in RESP2 and RESP3 (redis-server 7.0.15: *3 $6 master :0 *0 in
// both), and takes no argument.
func TestRole(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		want := arrR(bulkR("master"), intR(0), arrR())
		if got := c.do(t, "ROLE"); got != want {
			t.Errorf("ROLE = %q, want %q", got, want)
		}
		if got := c.do(t, "ROLE", "x"); got != errR("ERR wrong number of arguments for 'role' command") {
			t.Errorf("ROLE x = %q", got)
		}
		c.do(t, "HELLO", "3")
		if got := c.do(t, "role"); got != want {
			t.Errorf("RESP3 ROLE = %q, want %q", got, want)
		}
		// go-redis has no ROLE method; Do reads the reply.
		v, err := ts.redis(t, 3, nil).Do(context.Background(), "role").Slice()
		if err != nil || len(v) != 3 || v[0] != "master" || v[1] != int64(0) || len(v[2].([]any)) != 0 {
			t.Errorf("go-redis ROLE = %#v, %v", v, err)
		}
	})
}

// TestLastSave: LASTSAVE answers the time the server started, as a Redis
// that has not saved since it started does (ringdb saves nothing), and
// INFO persistence shows it as rdb_last_save_time.
func TestLastSave(t *testing.T) {
	before := time.Now().Unix()
	ts := startServer(t, TransportGnet, Config{})
	after := time.Now().Unix()
	c := ts.raw(t)
	got := c.do(t, "LASTSAVE")
	n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(got, ":"), "\r\n"), 10, 64)
	if err != nil || n < before || n > after {
		t.Fatalf("LASTSAVE = %q, want the start time, in [%d, %d]", got, before, after)
	}
	c.do(t, "SET", "k", "v")
	c.do(t, "FLUSHALL")
	if again := c.do(t, "LASTSAVE"); again != got {
		t.Errorf("LASTSAVE changed from %q to %q with nothing saved", got, again)
	}
	if got := c.do(t, "LASTSAVE", "x"); got != errR("ERR wrong number of arguments for 'lastsave' command") {
		t.Errorf("LASTSAVE x = %q", got)
	}
	if info := c.do(t, "INFO", "persistence"); !strings.Contains(info, "\r\nrdb_last_save_time:"+strconv.FormatInt(n, 10)+"\r\n") {
		t.Errorf("INFO persistence = %q, want rdb_last_save_time:%d", info, n)
	}
	last, err := ts.redis(t, 2, nil).LastSave(context.Background()).Result()
	if err != nil || last != n {
		t.Errorf("go-redis LastSave = %d, %v; want %d", last, err, n)
	}
}

// TestRoleLastSaveIntrospection: COMMAND INFO describes ROLE and
// LASTSAVE as redis-server 7.0.15 does (arity 1, flags without admin, so
// MONITOR shows them, though their ACL categories include @admin), and
// INFO commandstats counts them as it did for ROLE, ROLE x (rejected)
// and LASTSAVE.
func TestRoleLastSaveIntrospection(t *testing.T) {
	ts := startServer(t, TransportStd, metricsOn)
	c := ts.raw(t)
	cats := arrR(simpleR("@admin"), simpleR("@fast"), simpleR("@dangerous"))
	for name, want := range map[string]string{
		"role": arrR(arrR(bulkR("role"), intR(1), arrR(simpleR("noscript"), simpleR("loading"), simpleR("stale"), simpleR("fast")),
			intR(0), intR(0), intR(0), cats, arrR(), arrR(), arrR())),
		"lastsave": arrR(arrR(bulkR("lastsave"), intR(1), arrR(simpleR("loading"), simpleR("stale"), simpleR("fast")),
			intR(0), intR(0), intR(0), cats, arrR(bulkR("nondeterministic_output")), arrR(), arrR())),
	} {
		if got := c.do(t, "COMMAND", "INFO", name); got != want {
			t.Errorf("COMMAND INFO %s = %q, want %q", name, got, want)
		}
	}
	m := startMonitor(t, ts)
	c.do(t, "CONFIG", "RESETSTAT")
	c.do(t, "ROLE")
	c.do(t, "LASTSAVE")
	c.do(t, "ROLE", "x")
	for _, want := range []string{`"ROLE"`, `"LASTSAVE"`} {
		if got := monitorArgs(t, m, clientAddr(c)); got != want {
			t.Errorf("monitor saw %s, want %s", got, want)
		}
	}
	got := cmdstatLines(t, infoBody(t, c.do(t, "INFO", "commandstats")))
	for _, want := range []string{
		"cmdstat_role:calls=1,usec=*,rejected_calls=1,failed_calls=0",
		"cmdstat_lastsave:calls=1,usec=*,rejected_calls=0,failed_calls=0",
	} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("INFO commandstats %q, want %s", got, want)
		}
	}
}
