package server

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ringdb/ringdb/transport/binproto"
)

// The expectations below are what redis-server 7.0.15 sent a MONITOR
// connection for the same commands (redis-cli and a raw RESP client),
// except where a comment says ringdb deliberately differs.

// monitorLineRE splits a monitor line: time, address, arguments.
var monitorLineRE = regexp.MustCompile(`^\+(\d+)\.(\d{6}) \[0 ([^\]]+)\] (.*)\r\n$`)

// startMonitor opens a connection and makes it a monitor.
func startMonitor(t *testing.T, ts *testServer) *netClient {
	t.Helper()
	m := ts.raw(t)
	if got := m.do(t, "MONITOR"); got != okR {
		t.Fatalf("MONITOR = %q", got)
	}
	return m
}

// monitorArgs reads one monitor line and returns its arguments part,
// checking its time (within a minute of now: no timing assertion, only a
// sanity check of the unit) and, when addr is set, its address.
func monitorArgs(t *testing.T, m *netClient, addr string) string {
	t.Helper()
	line := m.read(t)
	p := monitorLineRE.FindStringSubmatch(line)
	if p == nil {
		t.Fatalf("monitor line %q", line)
	}
	sec, _ := strconv.ParseInt(p[1], 10, 64)
	if d := time.Now().Unix() - sec; d < -60 || d > 60 {
		t.Errorf("monitor line %q: time %d is not now", line, sec)
	}
	if addr != "" && p[3] != addr {
		t.Errorf("monitor line %q: address %q, want %q", line, p[3], addr)
	}
	return p[4]
}

// expectMonitor reads monitor lines until the one of ECHO <end> and
// checks the arguments of those before it.
func expectMonitor(t *testing.T, m *netClient, addr, end string, want ...string) {
	t.Helper()
	var got []string
	for {
		a := monitorArgs(t, m, addr)
		if a == `"ECHO" "`+end+`"` {
			break
		}
		got = append(got, a)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("monitor saw:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// clientAddr is the address the server shows for c (CLIENT LIST addr=).
func clientAddr(c *netClient) string { return c.conn.LocalAddr().String() }

// TestMonitorLineFormat: a command is shown once it has run, as
// "+<secs>.<micros> [0 <addr>] " and its arguments quoted as sdscatrepr
// quotes them, the name as the client sent it.
func TestMonitorLineFormat(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		m := startMonitor(t, ts)
		c := ts.raw(t)
		addr := clientAddr(c)
		c.do(t, "set", "bin", "a\x00\x01\n\r\t\a\b\"\\ \xff\x7f~\x1f")
		c.do(t, "GET", "bin")
		c.do(t, "ECHO", "")
		c.do(t, "ECHO", "end")
		expectMonitor(t, m, addr, "end",
			`"set" "bin" "a\x00\x01\n\r\t\a\b\"\\ \xff\x7f~\x1f"`,
			`"GET" "bin"`,
			`"ECHO" ""`,
		)
	})
}

// TestMonitorHidesAndRedacts: admin commands and subcommands are not
// shown, nor commands refused before they run (unknown, arity, an
// unknown subcommand); the passwords of AUTH and HELLO ... AUTH are.
func TestMonitorHidesAndRedacts(t *testing.T) {
	ts := startServer(t, TransportGnet, Config{})
	m := startMonitor(t, ts)
	c := ts.raw(t)
	for _, cmd := range [][]string{
		{"AUTH", "pw"},
		{"AUTH", "u", "pw"},
		{"HELLO", "3", "AUTH", "default", "x"},
		{"HELLO", "2"},
		{"HELLO", "3", "AUTH", "default", "pw", "BOGUS"},
		{"HELLO", "3", "AUTH", "default"},
		{"HELLO", "2", "SETNAME", "n"},
		// Redis shows these passwords in the clear (the command fails
		// before it reads them); ringdb redacts them.
		{"AUTH", "a", "b", "c"},
		{"HELLO", "4", "AUTH", "default", "pw"},
		{"HELLO", "3", "SETNAME", "bad name", "AUTH", "default", "pw"},
		// Hidden: admin.
		{"CONFIG", "GET", "maxmemory"},
		{"CONFIG", "SET", "slowlog-max-len", "128"},
		{"SLOWLOG", "GET"},
		{"SLOWLOG", "LEN"},
		{"LATENCY", "LATEST"},
		{"CLIENT", "LIST"},
		{"CLIENT", "KILL", "ID", "999999"},
		{"CLIENT", "NO-EVICT", "on"},
		{"CLIENT", "UNPAUSE"},
		{"SHUTDOWN", "ABORT"},
		// Shown: not admin.
		{"CONFIG", "HELP"},
		{"SLOWLOG", "HELP"},
		{"LATENCY", "HELP"},
		{"CLIENT", "ID"},
		{"CLIENT", "SETNAME", "x"},
		// Hidden: refused before they run.
		{"NOSUCH", "a"},
		{"GET"},
		{"CLIENT", "NOSUCH"},
		{"CLIENT", "ID", "x"},
		// Shown.
		{"PING"},
		{"SET", "k", "v"},
		{"ECHO", "end"},
	} {
		c.do(t, cmd...)
	}
	expectMonitor(t, m, clientAddr(c), "end",
		`"AUTH" "(redacted)"`,
		`"AUTH" "(redacted)" "(redacted)"`,
		`"HELLO" "3" "AUTH" "(redacted)" "(redacted)"`,
		`"HELLO" "2"`,
		`"HELLO" "3" "AUTH" "(redacted)" "(redacted)" "BOGUS"`,
		`"HELLO" "3" "AUTH" "default"`,
		`"HELLO" "2" "SETNAME" "n"`,
		`"AUTH" "(redacted)" "(redacted)" "(redacted)"`,
		`"HELLO" "4" "AUTH" "(redacted)" "(redacted)"`,
		`"HELLO" "3" "SETNAME" "bad name" "AUTH" "(redacted)" "(redacted)"`,
		`"CONFIG" "HELP"`,
		`"SLOWLOG" "HELP"`,
		`"LATENCY" "HELP"`,
		`"CLIENT" "ID"`,
		`"CLIENT" "SETNAME" "x"`,
		`"PING"`,
		`"SET" "k" "v"`,
	)
}

// TestMonitorMultiExec: commands queued by MULTI are shown when EXEC
// runs them, each as it runs, then EXEC; a transaction EXEC discards
// shows MULTI and EXEC only; MONITOR inside MULTI fails at EXEC.
func TestMonitorMultiExec(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		m := startMonitor(t, ts)
		c := ts.raw(t)
		c.do(t, "MULTI")
		c.do(t, "SET", "a", "1")
		c.do(t, "INCR", "a")
		if got := c.do(t, "EXEC"); got != arrR(okR, intR(2)) {
			t.Fatalf("EXEC = %q", got)
		}
		c.do(t, "MULTI")
		c.do(t, "GET", "a")
		c.do(t, "DISCARD")
		c.do(t, "MULTI")
		c.do(t, "NOSUCH")
		c.do(t, "SET", "a", "b")
		c.do(t, "EXEC")
		c.do(t, "MULTI")
		c.do(t, "MONITOR")
		if got := c.do(t, "EXEC"); got != arrR(errR("ERR MONITOR isn't allowed for DENY BLOCKING client")) {
			t.Fatalf("EXEC of MONITOR = %q", got)
		}
		c.do(t, "ECHO", "end")
		expectMonitor(t, m, clientAddr(c), "end",
			`"MULTI"`, `"SET" "a" "1"`, `"INCR" "a"`, `"EXEC"`,
			`"MULTI"`, `"DISCARD"`,
			`"MULTI"`, `"EXEC"`,
			`"MULTI"`, `"EXEC"`,
		)
		// c is no monitor: its commands get their replies only.
		if got := c.do(t, "PING"); got != simpleR("PONG") {
			t.Errorf("PING after EXEC of MONITOR = %q", got)
		}
	})
}

// TestMonitorConnection: what a monitor may still do. Reads and writes
// are refused as Redis refuses them to a replica; other commands run and
// are shown to the monitor too; a second MONITOR gets no reply; CLIENT
// LIST shows flags=O; RESET ends the monitoring, and so does QUIT, whose
// own line the monitor does not get.
func TestMonitorConnection(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		m := startMonitor(t, ts)
		self := clientAddr(m)
		c := ts.raw(t)
		refused := errR("ERR " + msgMonitorKeyspace)
		for _, cmd := range [][]string{{"GET", "k"}, {"SET", "k", "v"}, {"OBJECT", "ENCODING", "k"}, {"DBSIZE"}} {
			if got := m.do(t, cmd...); got != refused {
				t.Errorf("monitor %q = %q, want %q", cmd, got, refused)
			}
		}
		if got := m.do(t, "CLIENT", "NOSUCH"); !strings.HasPrefix(got, "-ERR unknown subcommand") {
			t.Errorf("monitor CLIENT NOSUCH = %q", got)
		}
		if got := m.do(t, "PING"); got != simpleR("PONG") {
			t.Fatalf("monitor PING = %q", got)
		}
		if a := monitorArgs(t, m, self); a != `"PING"` {
			t.Errorf("monitor's own PING shown as %q", a)
		}
		// A second MONITOR is ignored without a reply: the next reply
		// is PING's.
		m.send(t, "MONITOR")
		if got := m.do(t, "PING"); got != simpleR("PONG") {
			t.Fatalf("PING after a second MONITOR = %q", got)
		}
		monitorArgs(t, m, self)
		if got := c.do(t, "CLIENT", "LIST"); !strings.Contains(got, "addr="+self+" ") || !strings.Contains(got, " flags=O ") {
			t.Errorf("CLIENT LIST = %q, want the monitor with flags=O", got)
		}
		// Inside MULTI a refused read fails the transaction.
		m.do(t, "MULTI")
		monitorArgs(t, m, self)
		m.do(t, "GET", "k")
		if got := m.do(t, "EXEC"); got != errR("EXECABORT "+msgExecAbort) {
			t.Errorf("monitor EXEC = %q", got)
		}
		monitorArgs(t, m, self)

		if got := m.do(t, "RESET"); got != simpleR("RESET") {
			t.Fatalf("RESET = %q", got)
		}
		c.do(t, "SET", "after", "reset")
		// Not a monitor: PING's reply comes alone.
		if got := m.do(t, "PING"); got != simpleR("PONG") {
			t.Fatalf("PING after RESET = %q", got)
		}
		if got := m.do(t, "GET", "after"); got != bulkR("reset") {
			t.Errorf("GET after RESET = %q", got)
		}
		if got := c.do(t, "CLIENT", "LIST"); strings.Contains(got, " flags=O ") {
			t.Errorf("CLIENT LIST after RESET = %q", got)
		}

		if got := m.do(t, "MONITOR"); got != okR {
			t.Fatalf("MONITOR again = %q", got)
		}
		c.do(t, "ECHO", "again")
		if a := monitorArgs(t, m, ""); a != `"ECHO" "again"` {
			t.Errorf("after MONITOR again: %q", a)
		}
		if got := m.do(t, "QUIT"); got != okR {
			t.Fatalf("QUIT = %q", got)
		}
		m.expectClosed(t) // without its own QUIT line
	})
}

// waitMonitors waits until the server has n monitors.
func waitMonitors(t *testing.T, s *Server, n int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d monitors", n), func() bool {
		got := 0
		if l := s.mon.list.Load(); l != nil {
			got = len(*l)
		}
		return got == n
	})
}

// TestMonitorSeveral: every monitor gets the same line, formatted once
// (the same time to the microsecond); a monitor that disconnects leaves
// the list and the others go on.
func TestMonitorSeveral(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		m1, m2 := startMonitor(t, ts), startMonitor(t, ts)
		waitMonitors(t, ts.Server, 2)
		c := ts.raw(t)
		c.do(t, "SET", "k", "v")
		l1, l2 := m1.read(t), m2.read(t)
		if l1 != l2 || !strings.HasSuffix(l1, `] "SET" "k" "v"`+"\r\n") {
			t.Errorf("monitors got %q and %q, want the same SET line", l1, l2)
		}
		m1.conn.Close()
		waitMonitors(t, ts.Server, 1)
		c.do(t, "ECHO", "end")
		expectMonitor(t, m2, clientAddr(c), "end")
		m2.conn.Close()
		waitMonitors(t, ts.Server, 0)
		if got := c.do(t, "PING"); got != simpleR("PONG") {
			t.Errorf("PING = %q", got)
		}
	})
}

// TestMonitorSlowReaderBounded: a monitor that never reads is
// disconnected by the output-buffer limit, so the server holds a bounded
// amount for it, however much the other clients run; the clients go on.
func TestMonitorSlowReaderBounded(t *testing.T) {
	cfg := Config{OutputHardLimit: 256 << 10, MetricsAddr: metricsOff}
	forEachTransport(t, cfg, func(t *testing.T, ts *testServer) {
		m := startMonitor(t, ts) // and never read again
		c := ts.raw(t)
		// Lines of 64 KiB (\xff takes four bytes), a quarter of the
		// limit: it takes several to pass it.
		val := strings.Repeat("\xff", 16<<10)
		const most = 8000 // 512 MiB of lines: far past any socket buffer
		n := 0
		for ; n < most; n++ {
			if got := c.do(t, "SET", "k", val); got != okR {
				t.Fatalf("SET = %q", got)
			}
			if ts.mon.list.Load() == nil {
				break
			}
		}
		t.Logf("monitor disconnected after %d lines", n+1)
		if n == most {
			t.Fatalf("a monitor that does not read still listed after %d lines of %d KiB", most, len(val)*4>>10)
		}
		info := infoBody(t, c.do(t, "INFO", "stats"))
		if !regexp.MustCompile(`client_output_buffer_disconnects:[1-9]`).MatchString(info) {
			t.Errorf("INFO stats after the monitor's disconnection:\n%s", info)
		}
		// The monitor's connection ends (after whatever was in flight).
		m.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 1<<20)
		for {
			if _, err := m.conn.Read(buf); err != nil {
				if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
					t.Fatal("monitor connection still open after 5s")
				}
				break
			}
		}
		if got := c.do(t, "PING"); got != simpleR("PONG") {
			t.Errorf("PING = %q", got)
		}
	})
}

// TestMonitorBinaryClient: a binary-protocol client's commands are shown
// to RESP monitors under their command names, INT arguments in decimal
// and NULL as (nil), its HELLO redacted; the binary protocol has no
// MONITOR opcode.
func TestMonitorBinaryClient(t *testing.T) {
	forEachTransport(t, Config{AuthToken: "s3cret"}, func(t *testing.T, ts *testServer) {
		m := ts.raw(t)
		m.do(t, "AUTH", "s3cret")
		if got := m.do(t, "MONITOR"); got != okR {
			t.Fatalf("MONITOR = %q", got)
		}
		b := newBinClient(t, ts)
		b.hello("app\n1", "s3cret")
		wantV(t, "SET", b.call(binproto.OpSet, "k\x00", "v\"", 0x10, 100000), okV{})
		b.call(binproto.OpGet, "k\x00")
		b.call(binproto.OpScan, 0, nil, 10)
		addr := b.conn.LocalAddr().String()
		for _, want := range []string{
			// Every argument of HELLO, as the slow log hides them.
			`"hello" "(redacted)" "(redacted)" "(redacted)" "(redacted)"`,
			`"set" "k\x00" "v\"" "16" "100000"`,
			`"get" "k\x00"`,
			`"scan" "0" (nil) "10"`,
		} {
			if got := monitorArgs(t, m, addr); got != want {
				t.Errorf("monitor saw %s, want %s", got, want)
			}
		}
	})
}

// TestMonitorGoRedisClient: go-redis's commands, sent in lower case,
// are shown as sent, over RESP2 and RESP3, the password of its HELLO
// redacted.
func TestMonitorGoRedisClient(t *testing.T) {
	ts := startServer(t, TransportGnet, Config{AuthToken: "s3cret"})
	m := ts.raw(t)
	m.do(t, "AUTH", "s3cret")
	if got := m.do(t, "MONITOR"); got != okR {
		t.Fatalf("MONITOR = %q", got)
	}
	for _, proto := range []int{2, 3} {
		rdb := ts.redis(t, proto, func(o *redis.Options) {
			o.DisableIdentity = true
			o.Password = "s3cret"
		})
		ctx := context.Background()
		if err := rdb.Set(ctx, "key", "va lue", time.Minute).Err(); err != nil {
			t.Fatalf("RESP%d: SET: %v", proto, err)
		}
		for _, want := range []string{
			`"hello" "` + strconv.Itoa(proto) + `" "auth" "(redacted)" "(redacted)"`,
			`"set" "key" "va lue" "ex" "60"`,
		} {
			if got := monitorArgs(t, m, ""); got != want {
				t.Errorf("RESP%d: monitor saw %s, want %s", proto, got, want)
			}
		}
	}
}

// TestMonitorCommandStats: INFO commandstats counts MONITOR, the ignored
// second one included, and the monitor's refused reads as rejected
// calls, as redis-server 7.0.15 did for the same commands.
func TestMonitorCommandStats(t *testing.T) {
	ts := startServer(t, TransportStd, metricsOn)
	c, m := ts.raw(t), ts.raw(t)
	c.do(t, "CONFIG", "RESETSTAT")
	m.do(t, "MONITOR")
	m.send(t, "MONITOR")
	m.do(t, "GET", "k")
	m.do(t, "PING")
	monitorArgs(t, m, "")
	m.do(t, "CLIENT", "NOSUCH")
	m.do(t, "OBJECT", "ENCODING", "k")
	c.do(t, "MULTI")
	c.do(t, "MONITOR")
	c.do(t, "EXEC")
	got := cmdstatLines(t, infoBody(t, c.do(t, "INFO", "commandstats")))
	for _, want := range []string{
		"cmdstat_monitor:calls=3,usec=*,rejected_calls=0,failed_calls=1",
		"cmdstat_get:calls=0,usec=*,rejected_calls=1,failed_calls=0",
		"cmdstat_object|encoding:calls=0,usec=*,rejected_calls=1,failed_calls=0",
		"cmdstat_ping:calls=1,usec=*,rejected_calls=0,failed_calls=0",
	} {
		found := false
		for _, l := range got {
			if strings.HasPrefix(l, want[:strings.IndexByte(want, ':')+1]) {
				found = true
				if l != want {
					t.Errorf("%s, want %s", l, want)
				}
			}
		}
		if !found {
			t.Errorf("no %s in %q", want, got)
		}
	}
}

// TestMonitorEscapesEveryByte: ECHO of the 256 byte values is shown as
// redis-server 7.0.15 showed it (testdata/monitor_all_bytes.golden, the
// arguments of its line): sdscatrepr's escapes, \x0b and \x0c in hex.
func TestMonitorEscapesEveryByte(t *testing.T) {
	golden, err := os.ReadFile("testdata/monitor_all_bytes.golden")
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, TransportStd, Config{})
	m := startMonitor(t, ts)
	c := ts.raw(t)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	c.do(t, "ECHO", string(all))
	if got, want := monitorArgs(t, m, clientAddr(c)), strings.TrimSuffix(string(golden), "\n"); got != want {
		t.Errorf("monitor line:\n%s\nwant (Redis):\n%s", got, want)
	}
}

// TestMonitorLineSize: the line is measured before it is built, and one
// over the output limit is not built at all (no allocation), since no
// monitor could take it: a 512 MiB argument of binary bytes would make a
// 2 GiB line.
func TestMonitorLineSize(t *testing.T) {
	srv := newDirectServer(t, Config{})
	c := newDirectClient(t, srv)
	sess := c.conn.Session().(*session)
	ctx := &cmdCtx{srv: srv, sess: sess, argv: argvOf([]string{"SET", "k", strings.Repeat("\xff", 1000)})}
	now := time.Unix(1700000000, 42000)
	line, ok := monitorLine(ctx, now, 1<<20)
	// The direct client has no address: Redis's "?:0" (TestSessionAddr
	// checks the format of those that have one).
	want := `1700000000.000042 [0 ?:0] "SET" "k" "` + strings.Repeat(`\xff`, 1000) + `"`
	if !ok || line != want {
		t.Fatalf("monitorLine = %q, %v", line, ok)
	}
	// "+", the line and CRLF: exactly at the limit fits, a byte less not.
	if _, ok := monitorLine(ctx, now, int64(len(want)+3)); !ok {
		t.Error("a line of exactly the limit was refused")
	}
	if _, ok := monitorLine(ctx, now, int64(len(want)+2)); ok {
		t.Error("a line over the limit was built")
	}
	if n := testing.AllocsPerRun(10, func() { monitorLine(ctx, now, 4000) }); n != 0 {
		t.Errorf("refusing a line over the limit: %.0f allocations", n)
	}
}

// TestMonitorLineOverLimitDisconnects: a command whose line is over the
// output limit disconnects the monitors, as Push would, and runs as
// usual for its client.
func TestMonitorLineOverLimitDisconnects(t *testing.T) {
	forEachTransport(t, Config{OutputHardLimit: 64 << 10}, func(t *testing.T, ts *testServer) {
		m := startMonitor(t, ts)
		c := ts.raw(t)
		if got := c.do(t, "SET", "k", strings.Repeat("\xff", 32<<10)); got != okR {
			t.Fatalf("SET = %q", got)
		}
		m.expectClosed(t)
		waitMonitors(t, ts.Server, 0)
		if got := c.do(t, "STRLEN", "k"); got != intR(32<<10) {
			t.Errorf("STRLEN = %q", got)
		}
	})
}

// TestMonitorNotIdle: the idle timeout closes a silent client but not a
// monitor, which only receives (Redis exempts its monitors); after RESET
// it is an ordinary client again.
func TestMonitorNotIdle(t *testing.T) {
	t.Parallel() // its own servers; it mostly waits (pauses, timeouts)
	forEachTransport(t, Config{IdleTimeout: 100 * time.Millisecond}, func(t *testing.T, ts *testServer) {
		m := startMonitor(t, ts)
		c := ts.raw(t)
		c.do(t, "ECHO", "c")
		c.expectClosed(t)                  // silent after the monitor, and closed
		time.Sleep(300 * time.Millisecond) // the monitor, silent longer, would be gone too
		if a := monitorArgs(t, m, ""); a != `"ECHO" "c"` {
			t.Errorf("monitor saw %s", a)
		}
		if got := m.do(t, "PING"); got != simpleR("PONG") {
			t.Fatalf("monitor PING = %q", got)
		}
		monitorArgs(t, m, "")
		if got := m.do(t, "RESET"); got != simpleR("RESET") {
			t.Fatalf("RESET = %q", got)
		}
		m.expectClosed(t)
	})
}

// TestMonitorHidesOOM: a write refused with OOM is not shown, as Redis
// refuses it before it runs (processCommand) and feeds its monitors only
// from call(): redis-server 7.0.15 at maxmemory showed neither SET nor
// MSET. Here the write fails inside the keyspace, having changed
// nothing, so it is hidden as a refused command is; inside EXEC too,
// where the transaction's other commands and EXEC itself are shown.
func TestMonitorHidesOOM(t *testing.T) {
	forEachTransport(t, Config{MaxMemory: 4 << 20}, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		val := strings.Repeat("x", 1024)
		const oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
		// Fill until every shard refuses: a run of refusals in a row.
		for i, run := 0, 0; run < 64; i++ {
			if i == 100_000 {
				t.Fatal("no OOM after 100,000 SETs")
			}
			switch got := c.do(t, "SET", fmt.Sprint("fill", i), val); got {
			case okR:
				run = 0
			case oom:
				run++
			default:
				t.Fatalf("SET = %q", got)
			}
		}
		b := newBinClient(t, ts)
		b.hello(nil, nil)
		m := startMonitor(t, ts)
		if got := c.do(t, "SET", "new", val); got != oom {
			t.Fatalf("SET at the bound = %q", got)
		}
		if got := c.do(t, "MSET", "n1", val, "n2", val); got != oom {
			t.Fatalf("MSET at the bound = %q", got)
		}
		if got := b.call(binproto.OpSet, "bnew", val); got != (binErr{class: 0x03, msg: msgOOM}) {
			t.Fatalf("binary SET at the bound = %v, want class OOM", got)
		}
		c.do(t, "MULTI")
		c.do(t, "GET", "fill0")
		c.do(t, "SET", "new", val)
		if got := c.do(t, "EXEC"); got != arrR("$1024\r\n"+val+"\r\n", oom) {
			t.Fatalf("EXEC = %q", got)
		}
		c.do(t, "GET", "fill0")
		c.do(t, "ECHO", "end")
		expectMonitor(t, m, "", "end",
			`"MULTI"`, `"GET" "fill0"`, `"EXEC"`,
			`"GET" "fill0"`,
		)
	})
}
