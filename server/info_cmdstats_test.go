package server

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/ringdb/ringdb/stats"
	"github.com/ringdb/ringdb/transport/binproto"
)

// metricsOn is a Config that keeps the per-command counters.
var metricsOn = Config{MetricsAddr: "127.0.0.1:0"}

// usecRE matches the usec fields of a cmdstat_ line, which are
// measurements (estimates here, wall time in Redis), not counts.
var usecRE = regexp.MustCompile(`usec=\d+,usec_per_call=\d+\.\d\d,`)

// cmdstatLines returns INFO commandstats' lines, usec fields masked, in
// the order INFO gave them.
func cmdstatLines(t *testing.T, info string) []string {
	t.Helper()
	if !strings.HasPrefix(info, "# Commandstats\r\n") {
		t.Fatalf("INFO commandstats = %q", info)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimPrefix(info, "# Commandstats\r\n"), "\r\n") {
		if l != "" {
			lines = append(lines, usecRE.ReplaceAllString(l, "usec=*,"))
		}
	}
	return lines
}

// infoBody returns the text of a RESP INFO reply (a bulk or verbatim
// string) without its header.
func infoBody(t *testing.T, raw string) string {
	t.Helper()
	v, err := parseValue(raw)
	if err != nil {
		t.Fatalf("INFO reply %q: %v", raw, err)
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("INFO reply %q is not a string", raw)
	}
	return strings.TrimPrefix(s, "txt:")
}

// TestInfoCommandStatsAsRedis70: INFO commandstats and errorstats, and
// total_error_replies, after the same command sequences as redis-server
// 7.0.15 was sent (on one connection, INFO read on another; here on the
// same one, as direct clients all have id 0, which the session table
// holds one of); every
// expected line is what Redis answered, in Redis's order (its hash
// table's), with only usec masked. The sequences cover calls, failed
// calls (an error from a command that ran), rejected calls (arity,
// NOAUTH, refused inside MULTI, EXEC's own refusals), subcommands on
// their own lines, unknown commands and subcommands (in errorstats only),
// and commands queued by MULTI (counted when EXEC runs them).
func TestInfoCommandStatsAsRedis70(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cmds      [][]string
		cmdstats  []string
		errstats  string
		errTotal  int64
		processed int64 // with the two INFOs before INFO stats, as Redis counted them
	}{
		{
			name: "calls, failed and rejected",
			cmds: [][]string{
				{"CONFIG", "RESETSTAT"}, {"SET", "a", "b"}, {"GET", "a"}, {"INCR", "a"},
				{"CLIENT", "SETNAME", "foo"}, {"CONFIG", "GET", "maxmemory"}, {"CLIENT", "foo"},
				{"CONFIG"}, {"FOO"}, {"CLIENT", "SETNAME"}, {"GET"}, {"SET", "k", "v", "EX", "0"},
			},
			cmdstats: []string{
				"cmdstat_set:calls=2,usec=11,usec_per_call=5.50,rejected_calls=0,failed_calls=1",
				"cmdstat_config:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0",
				"cmdstat_config|get:calls=1,usec=7,usec_per_call=7.00,rejected_calls=0,failed_calls=0",
				"cmdstat_config|resetstat:calls=1,usec=71,usec_per_call=71.00,rejected_calls=0,failed_calls=0",
				"cmdstat_incr:calls=1,usec=4,usec_per_call=4.00,rejected_calls=0,failed_calls=1",
				"cmdstat_get:calls=1,usec=2,usec_per_call=2.00,rejected_calls=1,failed_calls=0",
				"cmdstat_client|setname:calls=1,usec=3,usec_per_call=3.00,rejected_calls=1,failed_calls=0",
			},
			errstats: "errorstat_ERR:count=7\r\n",
			errTotal: 7, processed: 9,
		},
		{
			name: "transactions",
			cmds: [][]string{
				{"CONFIG", "RESETSTAT"}, {"SET", "a", "b"},
				{"MULTI"}, {"SET", "k", "v"}, {"FOO"}, {"EXEC"},
				{"MULTI"}, {"INCR", "a"}, {"SET", "k", "v"}, {"EXEC"},
				{"EXEC"}, {"DISCARD"}, {"WATCH"}, {"CLIENT"}, {"COMMAND", "FOO"},
				{"MULTI"}, {"GET"}, {"EXEC"},
				{"MULTI"}, {"CLIENT", "SETNAME"}, {"EXEC"},
				{"MULTI"}, {"EXEC", "x"},
				{"MULTI"}, {"CLIENT", "NOPE"}, {"MULTI"}, {"SET", "k", "v", "EX", "0"}, {"EXEC"},
			},
			cmdstats: []string{
				"cmdstat_set:calls=2,usec=9,usec_per_call=4.50,rejected_calls=0,failed_calls=0",
				"cmdstat_config|resetstat:calls=1,usec=78,usec_per_call=78.00,rejected_calls=0,failed_calls=0",
				"cmdstat_incr:calls=1,usec=3,usec_per_call=3.00,rejected_calls=0,failed_calls=1",
				"cmdstat_watch:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0",
				"cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0",
				"cmdstat_multi:calls=7,usec=3,usec_per_call=0.43,rejected_calls=0,failed_calls=1",
				"cmdstat_exec:calls=6,usec=21,usec_per_call=3.50,rejected_calls=1,failed_calls=5",
				"cmdstat_client:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0",
				"cmdstat_client|setname:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0",
				"cmdstat_discard:calls=1,usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=1",
			},
			errstats: "errorstat_ERR:count=11\r\nerrorstat_EXECABORT:count=5\r\n",
			errTotal: 16, processed: 20,
		},
		{
			name: "authentication",
			cmds: [][]string{
				{"CONFIG", "RESETSTAT"}, {"CONFIG", "SET", "requirepass", "pw"}, {"RESET"},
				{"GET", "a"}, {"CLIENT", "SETNAME", "x"}, {"CLIENT", "FOO"}, {"CLIENT", "SETNAME"},
				{"EXEC"}, {"MULTI"}, {"AUTH", "bad"}, {"AUTH", "default", "bad"}, {"AUTH", "pw"},
				{"SELECT", "0"}, {"CONFIG", "SET", "requirepass", ""},
			},
			cmdstats: []string{
				"cmdstat_config|resetstat:calls=1,usec=69,usec_per_call=69.00,rejected_calls=0,failed_calls=0",
				"cmdstat_config|set:calls=2,usec=14,usec_per_call=7.00,rejected_calls=0,failed_calls=0",
				"cmdstat_reset:calls=1,usec=2,usec_per_call=2.00,rejected_calls=0,failed_calls=0",
				"cmdstat_auth:calls=3,usec=41,usec_per_call=13.67,rejected_calls=0,failed_calls=2",
				"cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0",
				"cmdstat_multi:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0",
				"cmdstat_exec:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0",
				"cmdstat_select:calls=1,usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=0",
				"cmdstat_client|setname:calls=0,usec=0,usec_per_call=0.00,rejected_calls=2,failed_calls=0",
			},
			errstats: "errorstat_ERR:count=2\r\nerrorstat_EXECABORT:count=1\r\nerrorstat_NOAUTH:count=3\r\nerrorstat_WRONGPASS:count=2\r\n",
			errTotal: 8, processed: 10,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newDirectServer(t, metricsOn)
			c := newDirectClient(t, s)
			for _, args := range tc.cmds {
				c.do(t, args...)
			}
			// INFO is read on the same connection: direct clients all
			// have id 0, and the server's session table holds one per id.
			info := c
			got := cmdstatLines(t, infoBody(t, info.do(t, "INFO", "commandstats")))
			if !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(cmdName(a), cmdName(b)) }) {
				t.Errorf("cmdstat_ lines not sorted by name:\n%s", strings.Join(got, "\n"))
			}
			want := make([]string, len(tc.cmdstats))
			for i, l := range tc.cmdstats {
				want[i] = usecRE.ReplaceAllString(l, "usec=*,")
			}
			sort.Strings(got)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("INFO commandstats:\n%s\nwant (as Redis 7.0.15):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if got := infoBody(t, info.do(t, "INFO", "errorstats")); got != "# Errorstats\r\n"+tc.errstats {
				t.Errorf("INFO errorstats = %q, want %q", got, "# Errorstats\r\n"+tc.errstats)
			}
			st := infoBody(t, info.do(t, "INFO", "stats"))
			if n := infoField(t, st, "total_error_replies"); n != tc.errTotal {
				t.Errorf("total_error_replies:%d, want %d", n, tc.errTotal)
			}
			if n := infoField(t, st, "total_commands_processed"); n != tc.processed {
				t.Errorf("total_commands_processed:%d, want %d", n, tc.processed)
			}
		})
	}
}

// cmdName returns the name in a cmdstat_ line.
func cmdName(line string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":")
	return name
}

// TestUsecPerCallFormat: usec_per_call as Redis 7.0 prints it, a
// single-precision division printed with %.2f; each pair is one
// redis-server 7.0.15 showed.
func TestUsecPerCallFormat(t *testing.T) {
	for _, tc := range []struct {
		usec, calls uint64
		want        string
	}{
		{5, 3, "1.67"}, {11, 2, "5.50"}, {41, 3, "13.67"}, {3, 7, "0.43"},
		{2755, 2, "1377.50"}, {0, 0, "0.00"}, {0, 1, "0.00"}, {149, 1, "149.00"},
	} {
		if got := string(appendUsecPerCall(nil, tc.usec, tc.calls)); got != tc.want {
			t.Errorf("usec %d, calls %d: usec_per_call=%s, want %s", tc.usec, tc.calls, got, tc.want)
		}
	}
}

// TestInfoCommandStatsUsecEstimate: usec is calls times the mean of the
// sampled calls' times (one in stats.SampleEvery per connection), since
// CONFIG RESETSTAT or, with none sampled since, since the start.
func TestInfoCommandStatsUsecEstimate(t *testing.T) {
	s := newDirectServer(t, metricsOn)
	c := newDirectClient(t, s)
	c.do(t, "SET", "k", "v")
	const gets = 10 * stats.SampleEvery
	for range gets {
		c.do(t, "GET", "k")
	}
	get := s.cmds.lookup([]byte("get")).idx
	n, ns := s.timed[get].n.Load(), s.timed[get].ns.Load()
	if n < gets/stats.SampleEvery-1 || n > gets/stats.SampleEvery+1 {
		t.Fatalf("%d GETs sampled, want about %d", n, gets/stats.SampleEvery)
	}
	wantUsec := func(calls uint64) uint64 {
		return uint64(math.Round(float64(calls) * float64(ns) / float64(n) / 1e3))
	}
	usecOf := func() (calls, usec uint64) {
		cs := s.cmdStatsSinceReset()
		return cs.calls[get], cs.usec(get)
	}
	if calls, usec := usecOf(); calls != gets || usec != wantUsec(gets) {
		t.Errorf("GET: calls=%d usec=%d, want calls=%d usec=%d", calls, usec, gets, wantUsec(gets))
	}
	line := regexp.MustCompile(`cmdstat_get:calls=640,usec=(\d+),usec_per_call=(\d+\.\d\d),`).FindStringSubmatch(infoBody(t, c.do(t, "INFO", "commandstats")))
	if line == nil {
		t.Fatal("no cmdstat_get line with calls=640")
	}
	// After a reset, three GETs, none of them sampled (this connection's
	// next sample is far off): the mean since the start stands in.
	c.do(t, "CONFIG", "RESETSTAT")
	for range 3 {
		c.do(t, "GET", "k")
	}
	if s.timed[get].n.Load() != n {
		t.Fatal("a GET was sampled: the test needs none")
	}
	if calls, usec := usecOf(); calls != 3 || usec != wantUsec(3) {
		t.Errorf("after RESETSTAT: calls=%d usec=%d, want calls=3 usec=%d", calls, usec, wantUsec(3))
	}
}

// TestInfoSectionsDefaultAllEverything: as in Redis 7.0, INFO and INFO
// default show Errorstats but not Commandstats; INFO all and INFO
// everything show both, in Redis's section order; named sections add up.
func TestInfoSectionsDefaultAllEverything(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, metricsOn))
	heads := func(args ...string) string {
		var h []string
		for _, line := range strings.Split(infoBody(t, c.do(t, append([]string{"INFO"}, args...)...)), "\r\n") {
			if strings.HasPrefix(line, "# ") {
				h = append(h, line[2:])
			}
		}
		return strings.Join(h, " ")
	}
	const def = "Server Clients Memory Persistence Stats Replication CPU Errorstats Cluster Keyspace"
	const all = "Server Clients Memory Persistence Stats Replication CPU Commandstats Errorstats Cluster Keyspace"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, def},
		{[]string{"default"}, def},
		{[]string{"DEFAULT"}, def},
		{[]string{"all"}, all},
		{[]string{"everything"}, all},
		{[]string{"default", "commandstats"}, all},
		{[]string{"commandstats"}, "Commandstats"},
		{[]string{"errorstats", "commandstats"}, "Commandstats Errorstats"},
		{[]string{"stats", "errorstats"}, "Stats Errorstats"},
	} {
		if got := heads(tc.args...); got != tc.want {
			t.Errorf("INFO %v sections %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestConfigResetStatCommandStats: CONFIG RESETSTAT starts commandstats,
// errorstats and total_error_replies again from 0, as Redis does (its own
// call then counted); /metrics keeps counting from the start.
func TestConfigResetStatCommandStats(t *testing.T) {
	s := newDirectServer(t, metricsOn)
	c := newDirectClient(t, s)
	for range 5 {
		c.do(t, "GET", "k")
	}
	c.do(t, "GET")
	c.do(t, "INCR")
	c.do(t, "NOSUCH")
	c.do(t, "CONFIG", "RESETSTAT")
	c.do(t, "GET", "k")
	info := infoBody(t, c.do(t, "INFO", "all"))
	for _, want := range []string{
		"# Commandstats\r\ncmdstat_config|resetstat:calls=1,",
		"\r\ncmdstat_get:calls=1,",
		"# Errorstats\r\n\r\n",
		"\r\ntotal_error_replies:0\r\n",
		"\r\ntotal_commands_processed:2\r\n",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO all after RESETSTAT lacks %q:\n%s", want, info)
		}
	}
	if strings.Contains(info, "cmdstat_incr") {
		t.Errorf("INFO all after RESETSTAT shows INCR:\n%s", info)
	}
	c.do(t, "INCR")
	if got := infoBody(t, c.do(t, "INFO", "errorstats")); got != "# Errorstats\r\nerrorstat_ERR:count=1\r\n" {
		t.Errorf("INFO errorstats = %q", got)
	}
	calls, errs := sampledCounts(s)
	if calls["get"] != 6 || calls["config"] != 1 || calls["info"] != 2 {
		t.Errorf("/metrics calls after RESETSTAT: %v, want get 6, config 1, info 2 (not reset)", calls)
	}
	if errs["get/ERR"] != 1 || errs["incr/ERR"] != 2 {
		t.Errorf("/metrics errors after RESETSTAT: %v, want get/ERR 1, incr/ERR 2 (not reset)", errs)
	}
}

// TestErrorStatsCountsEveryReply: every error reply counts in errorstats
// under its first word, binary ones under the prefix RESP gives their
// class,
// whether or not it names a command (a binary request before HELLO, an
// unknown opcode), and a binary request's arity error is a rejected call.
func TestErrorStatsCountsEveryReply(t *testing.T) {
	ts := startServer(t, "pipe", metricsOn)
	b := newBinClient(t, ts)
	b.call(binproto.OpHello, 1, 1, nil, nil)
	b.call(binproto.OpGet)            // arity: rejected
	b.call(binproto.OpIncrBy, "k")    // arity: rejected
	b.call(binproto.OpSet, "k", "v")  //
	b.call(binproto.OpIncrBy, "k", 1) // not an integer: failed
	b.call(0xEE)                      // unknown opcode
	early := newBinClient(t, ts)
	early.call(binproto.OpGet, "k") // before HELLO: the connection closes
	early.expectClosed()
	r := ts.raw(t)
	r.do(t, "AUTH", "x") // no password set: ERR, failed
	got := infoBody(t, r.do(t, "INFO", "commandstats", "errorstats"))
	for _, want := range []string{
		"cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0\r\n",
		"cmdstat_incrby:calls=1,",
		",rejected_calls=1,failed_calls=1\r\n",
		"cmdstat_auth:calls=1,",
		"errorstat_ERR:count=6\r\n", // PROTO and LIMIT are ERR over RESP
	} {
		if !strings.Contains(got, want) {
			t.Errorf("INFO lacks %q:\n%s", want, got)
		}
	}
}

// TestCommandStatsOffWithoutMetrics: without the metrics endpoint no
// per-command counter is kept; the sections are there, empty, and INFO
// stats has no total_error_replies rather than a wrong 0.
func TestCommandStatsOffWithoutMetrics(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{MetricsAddr: metricsOff}))
	c.do(t, "GET", "k")
	c.do(t, "GET")
	info := infoBody(t, c.do(t, "INFO", "all"))
	if !strings.Contains(info, "# Commandstats\r\n\r\n# Errorstats\r\n\r\n") {
		t.Errorf("INFO all without metrics:\n%s", info)
	}
	if strings.Contains(info, "total_error_replies") {
		t.Errorf("INFO all without metrics shows total_error_replies:\n%s", info)
	}
}

// TestInfoCommandStatsGoRedis: go-redis's InfoMap reads the new sections
// (as redis_exporter and Grafana's Redis data source read them), over
// every transport and both RESP versions, and its ConfigResetStat resets
// them.
func TestInfoCommandStatsGoRedis(t *testing.T) {
	forEachTransport(t, metricsOn, func(t *testing.T, ts *testServer) {
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
				ctx := context.Background()
				rdb := ts.redis(t, proto, func(o *redis.Options) { o.PoolSize = 1 })
				if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
					t.Fatal(err)
				}
				rdb.Set(ctx, "k", "v", 0)
				rdb.Get(ctx, "k")
				if err := rdb.Incr(ctx, "k").Err(); err == nil {
					t.Fatal("INCR of a string succeeded")
				}
				if err := rdb.Do(ctx, "CLIENT", "SETNAME").Err(); err == nil {
					t.Fatal("CLIENT SETNAME without a name succeeded")
				}
				m, err := rdb.InfoMap(ctx, "commandstats", "errorstats").Result()
				if err != nil {
					t.Fatal(err)
				}
				cs, es := m["Commandstats"], m["Errorstats"]
				for name, want := range map[string]string{
					"cmdstat_get":            "calls=1,",
					"cmdstat_set":            "calls=1,",
					"cmdstat_incr":           ",rejected_calls=0,failed_calls=1",
					"cmdstat_client|setname": "calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0",
				} {
					if !strings.Contains(cs[name], want) {
						t.Errorf("Commandstats[%s] = %q, want it to hold %q (all: %v)", name, cs[name], want, cs)
					}
				}
				if es["errorstat_ERR"] != "count=2" || len(es) != 1 {
					t.Errorf("Errorstats = %v, want errorstat_ERR count=2", es)
				}
				if got, err := rdb.Do(ctx, "RESET").Result(); err != nil || got != "RESET" {
					t.Errorf("RESET = %v, %v", got, err)
				}
			})
		}
	})
}
