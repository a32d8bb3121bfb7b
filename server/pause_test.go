package server

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport"
	"github.com/ringdb/ringdb/transport/binproto"
	"github.com/ringdb/ringdb/transport/resp"
)

// The replies and behaviours these tests expect were taken from
// redis-server 7.0.15 (redis-cli and a raw-socket client).

// quiet is how long a held request is watched for a reply that must not
// come; long enough for any reply of a loaded machine's event loop, far
// shorter than the pauses.
const quiet = 150 * time.Millisecond

// expectPending fails if a reply arrives on n within quiet.
func (n *netClient) expectPending(t testing.TB) {
	t.Helper()
	time.Sleep(quiet)
	n.expectNoReply(t)
}

// expectNoReply fails if n has a reply to read now: after a wait of quiet
// for several clients at once, each is checked with this.
func (n *netClient) expectNoReply(t testing.TB) {
	t.Helper()
	n.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	b, err := n.r.Peek(1)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("reply while paused: %q, %v", b, err)
	}
}

// expectHeld fails if a reply arrives on n before end, the earliest a
// pause of a known length can end (its start, taken before CLIENT PAUSE
// was sent, plus its length). It waits quiet and then looks. A reply seen
// before end is a failure. One seen at or after end proves nothing, since
// the pause may have ended: on a loaded machine the wait can overrun a
// short pause. Then the check is skipped, with a log, and expectHeld
// reports false.
func (n *netClient) expectHeld(t testing.TB, end time.Time) bool {
	t.Helper()
	time.Sleep(quiet)
	return n.expectNoReplyUntil(t, end)
}

// expectNoReplyUntil is expectNoReply for a request held by a pause that
// ends no earlier than end: see expectHeld.
func (n *netClient) expectNoReplyUntil(t testing.TB, end time.Time) bool {
	t.Helper()
	n.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	b, err := n.r.Peek(1)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if seen := time.Now(); !seen.Before(end) {
		t.Logf("reply %q, %v seen %v after the pause's earliest end: the machine is too slow to check that it was held", b, err, seen.Sub(end))
		return false
	}
	t.Fatalf("reply while paused: %q, %v", b, err)
	return false
}

// expectNoReplyUntil is netClient.expectNoReplyUntil for b.
func (b *binClient) expectNoReplyUntil(end time.Time) bool {
	b.t.Helper()
	b.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	var one [1]byte
	n, err := b.conn.Read(one[:])
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if seen := time.Now(); !seen.Before(end) {
		b.t.Logf("binary reply %q, %v seen %v after the pause's earliest end: the machine is too slow to check that it was held", one[:n], err, seen.Sub(end))
		b.conn = &prefixConn{Conn: b.conn, pre: append([]byte(nil), one[:n]...)} // put it back
		return false
	}
	b.t.Fatalf("binary reply while paused: %q, %v", one[:n], err)
	return false
}

// prefixConn is a net.Conn whose reads return pre before what follows it
// on the connection.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// expectPending fails if a frame arrives on b within quiet.
func (b *binClient) expectPending() {
	b.t.Helper()
	time.Sleep(quiet)
	b.expectNoReply()
}

// expectNoReply fails if b has a frame to read now.
func (b *binClient) expectNoReply() {
	b.t.Helper()
	b.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	var one [1]byte
	n, err := b.conn.Read(one[:])
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		b.t.Fatalf("binary reply while paused: %q, %v", one[:n], err)
	}
}

// infoValue returns the value of field in the INFO section's text.
func infoValue(t testing.TB, c *netClient, section, field string) string {
	t.Helper()
	for _, l := range strings.Split(c.do(t, "INFO", section), "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return ""
}

// waitBlocked waits until INFO clients shows n blocked clients.
func waitBlocked(t testing.TB, c *netClient, n string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := infoValue(t, c, "clients", "blocked_clients")
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("blocked_clients = %s, want %s", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitBlockedWhileHeld is waitBlocked(t, c, "1") for the one request of
// held, sent after start, which the server answers no sooner than timeout
// after it takes it. On a loaded machine that can come before the first
// poll that sees it: once the reply is there, a poll that saw no blocked
// client fails the test only if it fell wholly within the time the request
// was surely held (from timeout before its reply, the latest it can have
// been taken, to timeout after start, the earliest it can have been
// answered); if none did, the check is skipped, with a log, and
// waitBlockedWhileHeld reports false.
func waitBlockedWhileHeld(t testing.TB, c, held *netClient, start time.Time, timeout time.Duration) bool {
	t.Helper()
	type poll struct {
		sent, recv time.Time
		got        string
	}
	var polls []poll
	deadline := time.Now().Add(5 * time.Second)
	for {
		sent := time.Now()
		got := infoValue(t, c, "clients", "blocked_clients")
		if got == "1" {
			return true
		}
		polls = append(polls, poll{sent, time.Now(), got})
		held.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := held.r.Peek(1); err == nil {
			answered := time.Now()
			for _, p := range polls {
				if !p.sent.Before(answered.Add(-timeout)) && !p.recv.After(start.Add(timeout)) {
					t.Fatalf("blocked_clients = %s, want 1, %v after the request was sent, while it was held", p.got, p.sent.Sub(start))
				}
			}
			t.Logf("the request held was answered %v after it was sent, before a poll saw it blocked: the machine is too slow to check blocked_clients", answered.Sub(start))
			return false
		}
		if time.Now().After(deadline) {
			t.Fatalf("blocked_clients = %s, want 1", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestClientPauseErrors: argument errors as Redis 7.0 words them, the mode
// checked before the timeout; a pause of 0 ms, or of one that overflows
// Redis's clock, holds nothing.
func TestClientPauseErrors(t *testing.T) {
	forEachTransport(t, metricsOn, func(t *testing.T, ts *testServer) {
		c := ts.raw(t)
		for _, tc := range []struct {
			want string
			args []string
		}{
			{errR("ERR wrong number of arguments for 'client|pause' command"), []string{"CLIENT", "PAUSE"}},
			{errR("ERR timeout is not an integer or out of range"), []string{"CLIENT", "PAUSE", "abc"}},
			{errR("ERR timeout is not an integer or out of range"), []string{"CLIENT", "PAUSE", "1.5"}},
			{errR("ERR timeout is not an integer or out of range"), []string{"CLIENT", "PAUSE", "99999999999999999999"}},
			{errR("ERR timeout is negative"), []string{"CLIENT", "PAUSE", "-1"}},
			{errR("ERR CLIENT PAUSE mode must be WRITE or ALL"), []string{"CLIENT", "PAUSE", "100", "foo"}},
			{errR("ERR CLIENT PAUSE mode must be WRITE or ALL"), []string{"CLIENT", "PAUSE", "abc", "foo"}},
			{errR("ERR unknown subcommand or wrong number of arguments for 'PaUsE'. Try CLIENT HELP."), []string{"client", "PaUsE", "100", "write", "extra"}},
			{errR("ERR wrong number of arguments for 'client|unpause' command"), []string{"CLIENT", "UNPAUSE", "x"}},
			{okR, []string{"CLIENT", "UNPAUSE"}}, // nothing to end
			{okR, []string{"CLIENT", "PAUSE", "0"}},
			{okR, []string{"CLIENT", "PAUSE", "0", "WRITE"}},
			{okR, []string{"CLIENT", "PAUSE", "9223372036854775807"}},
		} {
			if got := c.do(t, tc.args...); got != tc.want {
				t.Errorf("%q = %q, want %q", tc.args, got, tc.want)
			}
		}
		// None of them paused anything.
		if got := c.do(t, "SET", "k", "v"); got != okR {
			t.Fatalf("SET = %q", got)
		}
		if got := infoValue(t, c, "commandstats", "cmdstat_client|pause"); !strings.HasPrefix(got, "calls=") {
			t.Errorf("cmdstat_client|pause = %q", got)
		}
	})
}

// TestClientPauseAll: ALL holds back every command of every client, the
// pausing client's own and CLIENT UNPAUSE included, over both protocols,
// until the timeout; what Redis refuses before it looks at the pause is
// answered at once.
func TestClientPauseAll(t *testing.T) {
	t.Parallel() // its own servers; it mostly waits (pauses, timeouts)
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		const pause = 1000 * time.Millisecond
		a, r, w, u, e := ts.raw(t), ts.raw(t), ts.raw(t), ts.raw(t), ts.raw(t)
		b := newBinClient(t, ts)
		b.hello(nil, nil)
		if got := a.do(t, "SET", "k", "1"); got != okR {
			t.Fatalf("SET = %q", got)
		}
		start := time.Now()
		if got := a.do(t, "CLIENT", "PAUSE", "1000"); got != okR {
			t.Fatalf("CLIENT PAUSE = %q", got)
		}
		a.send(t, "PING")
		r.send(t, "GET", "k")
		w.send(t, "SET", "k", "2")
		u.send(t, "CLIENT", "UNPAUSE")
		id := b.send(binproto.OpGet, "k")
		// Refused before the pause, as in Redis.
		for _, tc := range []struct {
			want string
			args []string
		}{
			{errR("ERR unknown command 'nosuch', with args beginning with: "), []string{"nosuch"}},
			{errR("ERR wrong number of arguments for 'get' command"), []string{"GET"}},
			{errR("ERR unknown subcommand 'foo'. Try CLIENT HELP."), []string{"CLIENT", "foo"}},
			{errR("ERR wrong number of arguments for 'client|pause' command"), []string{"CLIENT", "PAUSE"}},
		} {
			if got := e.do(t, tc.args...); got != tc.want {
				t.Errorf("%q while paused = %q, want %q", tc.args, got, tc.want)
			}
		}
		time.Sleep(quiet)
		end := start.Add(pause)
		a.expectNoReplyUntil(t, end)
		r.expectNoReplyUntil(t, end)
		w.expectNoReplyUntil(t, end)
		u.expectNoReplyUntil(t, end)
		b.expectNoReplyUntil(end)

		if got := a.read(t); got != simpleR("PONG") {
			t.Errorf("PING = %q", got)
		}
		if d := time.Since(start); d < pause {
			t.Errorf("answered %v after the pause began, before its end", d)
		}
		if got := u.read(t); got != okR {
			t.Errorf("CLIENT UNPAUSE = %q", got)
		}
		w.read(t)
		if got := r.read(t); got != bulkR("1") && got != bulkR("2") {
			t.Errorf("GET = %q", got)
		}
		if got := b.reply(binproto.OpGet, id); got != "1" && got != "2" {
			t.Errorf("binary GET = %v", got)
		}
		if got := e.do(t, "GET", "k"); got != bulkR("2") {
			t.Errorf("GET after = %q", got)
		}
	})
}

// TestClientPauseWrite: WRITE holds back the commands that may write
// (EXPIRE included), over both protocols, the pausing client's own too,
// while reads, INFO and CLIENT UNPAUSE go on; a held client shows as
// blocked; the held client's pipeline runs in order once CLIENT UNPAUSE
// ends the pause.
func TestClientPauseWrite(t *testing.T) {
	t.Parallel() // its own servers; it mostly waits (pauses, timeouts)
	forEachTransport(t, metricsOn, func(t *testing.T, ts *testServer) {
		a, w, x, r := ts.raw(t), ts.raw(t), ts.raw(t), ts.raw(t)
		b, br := newBinClient(t, ts), newBinClient(t, ts)
		b.hello(nil, nil)
		br.hello(nil, nil)
		if got := a.do(t, "SET", "k", "1"); got != okR {
			t.Fatalf("SET = %q", got)
		}
		if got := a.do(t, "CLIENT", "PAUSE", "60000", "WRITE"); got != okR {
			t.Fatalf("CLIENT PAUSE = %q", got)
		}
		// A pipeline: the read before the write is answered, the write
		// and everything behind it wait.
		var p []byte
		for _, args := range [][]string{{"GET", "k"}, {"INCR", "k"}, {"GET", "k"}, {"SET", "k", "5"}, {"PING"}} {
			p = resp.AppendCommand(p, argvOf(args)...)
		}
		w.conn.Write(p)
		if got := w.read(t); got != bulkR("1") {
			t.Fatalf("GET before the write = %q", got)
		}
		w.expectPending(t)
		// Each on its own key: once resumed they run in parallel.
		x.send(t, "EXPIRE", "x", "100")
		setID := b.send(binproto.OpSet, "bk", "bin")
		time.Sleep(quiet)
		x.expectNoReply(t)
		b.expectNoReply()

		// Reads go on, binary ones too, and see the data unchanged.
		if got := r.do(t, "GET", "k"); got != bulkR("1") {
			t.Errorf("GET while paused = %q", got)
		}
		if got := br.call(binproto.OpGet, "k"); got != "1" {
			t.Errorf("binary GET while paused = %v", got)
		}
		if got := a.do(t, "DBSIZE"); got != intR(1) {
			t.Errorf("DBSIZE from the pausing client = %q", got)
		}
		a.send(t, "SET", "a", "v")
		a.expectPending(t)
		waitBlocked(t, r, "4")
		list := r.do(t, "CLIENT", "LIST")
		if !strings.Contains(list, "flags=b db=0 sub=0 psub=0 ssub=0 multi=-1 omem=0 tot-cmds=1 cmd=incr ") {
			t.Errorf("CLIENT LIST while paused = %q", list)
		}
		if got := r.do(t, "CLIENT", "UNPAUSE"); got != okR {
			t.Fatalf("CLIENT UNPAUSE = %q", got)
		}
		for _, want := range []string{intR(2), bulkR("2"), okR, simpleR("PONG")} {
			if got := w.read(t); got != want {
				t.Fatalf("held pipeline: %q, want %q", got, want)
			}
		}
		if got := x.read(t); got != intR(0) {
			t.Errorf("EXPIRE = %q", got)
		}
		if got := a.read(t); got != okR {
			t.Errorf("SET from the pausing client = %q", got)
		}
		if got := b.reply(binproto.OpSet, setID); got != binOK {
			t.Errorf("binary SET = %v", got)
		}
		waitBlocked(t, r, "0")
		if got := infoValue(t, r, "commandstats", "cmdstat_expire"); !strings.HasPrefix(got, "calls=1,") {
			t.Errorf("cmdstat_expire = %q: a held command counts once, when it runs", got)
		}
	})
}

// TestClientPauseTimeout: the timeout ends the pause on its own.
func TestClientPauseTimeout(t *testing.T) {
	t.Parallel() // its own servers; it mostly waits (pauses, timeouts)
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		const pause = 600 * time.Millisecond
		a, w := ts.raw(t), ts.raw(t)
		a.do(t, "SET", "k", "v")
		start := time.Now()
		if got := a.do(t, "CLIENT", "PAUSE", "600", "write"); got != okR {
			t.Fatalf("CLIENT PAUSE = %q", got)
		}
		w.send(t, "FLUSHALL")
		w.expectHeld(t, start.Add(pause))
		// Past the pause's earliest end the FLUSHALL may have run.
		if got := a.do(t, "DBSIZE"); got != intR(1) && (got != intR(0) || time.Since(start) < pause) {
			t.Fatalf("DBSIZE while FLUSHALL is held = %q", got)
		}
		if got := w.read(t); got != okR {
			t.Fatalf("FLUSHALL = %q", got)
		}
		if d := time.Since(start); d < pause {
			t.Errorf("SET answered %v after the pause began, before its end", d)
		}
		if got := a.do(t, "DBSIZE"); got != intR(0) {
			t.Fatalf("DBSIZE after = %q", got)
		}
	})
}

// TestClientPauseCombine: a second CLIENT PAUSE keeps the stricter mode
// and the later end; it never shortens a pause, and one of 0 ms raises the
// mode of a pause in force.
func TestClientPauseCombine(t *testing.T) {
	t.Parallel() // its own servers; it mostly waits (pauses, timeouts)
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		const pause = 1000 * time.Millisecond
		a, p, w := ts.raw(t), ts.raw(t), ts.raw(t)
		// A shorter pause does not shorten a longer one.
		start := time.Now()
		a.do(t, "CLIENT", "PAUSE", "1000", "WRITE")
		if got := a.do(t, "CLIENT", "PAUSE", "1", "WRITE"); got != okR {
			t.Fatalf("second CLIENT PAUSE = %q", got)
		}
		time.Sleep(50 * time.Millisecond)
		w.send(t, "SET", "k", "1")
		w.expectHeld(t, start.Add(pause))
		// PAUSE 0 ALL makes it ALL until the end in force: a read waits
		// too.
		if got := a.do(t, "CLIENT", "PAUSE", "0", "ALL"); got != okR {
			t.Fatalf("CLIENT PAUSE 0 ALL = %q", got)
		}
		p.send(t, "PING")
		p.expectHeld(t, start.Add(pause))
		if got := p.read(t); got != simpleR("PONG") {
			t.Fatalf("PING = %q", got)
		}
		if got := w.read(t); got != okR {
			t.Fatalf("SET = %q", got)
		}
		if d := time.Since(start); d < pause {
			t.Errorf("answered after %v, before the first pause's end", d)
		}

		// A later end extends the pause.
		start = time.Now()
		a.do(t, "CLIENT", "PAUSE", "100", "WRITE")
		a.do(t, "CLIENT", "PAUSE", "1000", "WRITE")
		w.send(t, "SET", "k", "2")
		time.Sleep(150 * time.Millisecond) // past the first end
		w.expectHeld(t, start.Add(1000*time.Millisecond))
		if got := w.read(t); got != okR {
			t.Fatalf("SET = %q", got)
		}
		if d := time.Since(start); d < 1000*time.Millisecond {
			t.Errorf("SET answered after %v, before the extended end", d)
		}

		// A WRITE pause does not lower ALL. Only EXEC can send one
		// while ALL is in force: its queue is not held.
		a.do(t, "MULTI")
		a.do(t, "CLIENT", "PAUSE", "600", "ALL")
		a.do(t, "CLIENT", "PAUSE", "0", "WRITE")
		start = time.Now()
		if got := a.do(t, "EXEC"); got != arrR(okR, okR) {
			t.Fatalf("EXEC = %q", got)
		}
		p.send(t, "PING")
		p.expectHeld(t, start.Add(600*time.Millisecond))
		if got := p.read(t); got != simpleR("PONG") {
			t.Fatalf("PING = %q", got)
		}
	})
}

// TestClientPauseMulti: commands are held back as they are queued, and
// EXEC is under WRITE when its transaction kept a write; what MULTI
// refuses is refused at once.
func TestClientPauseMulti(t *testing.T) {
	t.Parallel() // its own servers; it mostly waits (pauses, timeouts)
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		a, m, q := ts.raw(t), ts.raw(t), ts.raw(t)
		a.do(t, "SET", "k", "1")
		// A transaction of reads runs through a WRITE pause; a write
		// waits as it is queued.
		a.do(t, "CLIENT", "PAUSE", "60000", "WRITE")
		for _, c := range []struct{ args, want string }{{"MULTI", okR}, {"GET k", simpleR("QUEUED")}, {"EXEC", arrR(bulkR("1"))}, {"MULTI", okR}} {
			if got := m.do(t, strings.Fields(c.args)...); got != c.want {
				t.Fatalf("%s = %q, want %q", c.args, got, c.want)
			}
		}
		if got := m.do(t, "SHUTDOWN"); got != errR("ERR Command not allowed inside a transaction") {
			t.Fatalf("SHUTDOWN in MULTI = %q", got)
		}
		m.send(t, "INCR", "k")
		m.expectPending(t)
		a.do(t, "CLIENT", "UNPAUSE")
		if got := m.read(t); got != simpleR("QUEUED") {
			t.Fatalf("INCR = %q", got)
		}
		m.do(t, "DISCARD")

		// A write queued before the pause holds EXEC back.
		q.do(t, "MULTI")
		q.do(t, "INCR", "k")
		a.do(t, "CLIENT", "PAUSE", "60000", "WRITE")
		q.send(t, "EXEC")
		q.expectPending(t)
		a.do(t, "CLIENT", "UNPAUSE")
		if got := q.read(t); got != arrR(intR(2)) {
			t.Fatalf("EXEC = %q", got)
		}

		// Under ALL a read waits as it is queued too.
		m.do(t, "MULTI")
		start := time.Now()
		a.do(t, "CLIENT", "PAUSE", "600")
		m.send(t, "GET", "k")
		m.expectHeld(t, start.Add(600*time.Millisecond))
		if got := m.read(t); got != simpleR("QUEUED") {
			t.Fatalf("GET = %q", got)
		}
		if got := m.do(t, "EXEC"); got != arrR(bulkR("2")) {
			t.Fatalf("EXEC = %q", got)
		}
	})
}

// TestClientPauseDisconnect: a client that goes away while held is
// forgotten: the blocked count falls, its command never runs, and the
// others still run at the end of the pause.
func TestClientPauseDisconnect(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		a := ts.raw(t)
		a.do(t, "CLIENT", "PAUSE", "60000", "WRITE")
		gone1, gone2, stay := ts.raw(t), ts.raw(t), ts.raw(t)
		gone1.send(t, "SET", "gone1", "v")
		gone2.send(t, "SET", "gone2", "v")
		stay.send(t, "SET", "stay", "v")
		waitBlocked(t, a, "3")
		gone1.conn.Close()
		gone2.conn.Close()
		waitBlocked(t, a, "1")
		ts.pause.mu.Lock()
		held := len(ts.pause.waiting)
		ts.pause.mu.Unlock()
		if held != 1 {
			t.Errorf("%d requests held after two of three clients left, want 1", held)
		}
		a.do(t, "CLIENT", "UNPAUSE")
		if got := stay.read(t); got != okR {
			t.Fatalf("SET = %q", got)
		}
		waitBlocked(t, a, "0")
		if got := a.do(t, "EXISTS", "gone1", "gone2", "stay"); got != intR(1) {
			t.Errorf("EXISTS = %q: a departed client's command ran", got)
		}
	})
}

// TestClientPauseShutdown: a shutdown does not wait for a pause; held
// clients are closed without a reply, as Redis closes them.
func TestClientPauseShutdown(t *testing.T) {
	for _, kind := range []string{TransportGnet, TransportStd} {
		t.Run(kind, func(t *testing.T) {
			ts := startServer(t, kind, Config{})
			a, w := ts.raw(t), ts.raw(t)
			a.do(t, "CLIENT", "PAUSE", "60000", "WRITE")
			w.send(t, "SET", "k", "v")
			waitBlocked(t, a, "1")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ts.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			w.expectClosed(t)
		})
	}
}

// TestClientPauseReadAllocs: under a WRITE pause a read is not held, and
// checking costs it no allocation; nor does the check when no pause is on
// (TestHotPathAllocs).
func TestClientPauseReadAllocs(t *testing.T) {
	h := newHotPath(t, Config{})
	h.serve(&transport.Request{Argv: argvOf([]string{"SET", "key", "value"})})
	h.srv.pauseClients(60_000, pauseWrite)
	defer h.srv.unpauseClients()
	req := &transport.Request{Argv: argvOf([]string{"GET", "key"})}
	h.serve(req)
	if got := string(h.w.Bytes()); got != bulkR("value") {
		t.Fatalf("GET under a WRITE pause = %q", got)
	}
	if n := testing.AllocsPerRun(200, func() { h.serve(req) }); n != 0 {
		t.Errorf("GET under a WRITE pause: %.1f allocations per request", n)
	}
}
