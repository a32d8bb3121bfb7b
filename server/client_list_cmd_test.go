package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Redis 7.0 records a command as the client's last one (cmd= in CLIENT
// LIST and CLIENT INFO) when it looks it up, before it checks the
// argument count or authentication: a refused command shows as itself (a
// subcommand under its full name, "config|get"), an unknown command or
// subcommand as NULL. ringdb recorded only the commands that passed
// those checks, so a client whose commands failed showed whatever it had
// run before.

// clientListCmdSteps are sent on one connection; after each, another
// connection's CLIENT LIST must show want as its cmd=. authed tells
// whether they run before requirepass is set (on a connection opened
// before) or after (on one opened after, not authenticated).
var clientListCmdSteps = []struct {
	authed bool
	args   []string
	want   string
}{
	{true, []string{"CLIENT", "SETNAME", "target"}, "client|setname"},
	{true, []string{"NOSUCH", "x"}, "NULL"},
	{true, []string{"GET"}, "get"},
	{true, []string{"CONFIG"}, "config"},
	{true, []string{"CONFIG", "GET"}, "config|get"},
	{true, []string{"CONFIG", "BOGUS"}, "NULL"},
	{true, []string{"CLIENT", "NO-EVICT", "x"}, "client|no-evict"},
	{true, []string{"PING"}, "ping"},
	{true, []string{"MULTI"}, "multi"},
	{true, []string{"GET"}, "get"},
	{true, []string{"CLIENT", "BOGUS"}, "NULL"},
	{true, []string{"CLIENT", "GETNAME"}, "client|getname"},
	{true, []string{"DISCARD"}, "discard"},
	{true, []string{"MULTI"}, "multi"},
	{true, []string{"EXEC", "x"}, "exec"},
	{false, []string{"PING"}, "ping"},
	{false, []string{"GET", "k"}, "get"},
	{false, []string{"CONFIG", "GET", "x"}, "config|get"},
	{false, []string{"CLIENT", "BOGUS"}, "NULL"},
	{false, []string{"CONFIG", "GET"}, "config|get"},
	{false, []string{"NOSUCH"}, "NULL"},
}

var clientListIDRe = regexp.MustCompile(`(?:^|\s)id=(\d+) `)

// checkClientListCmd runs clientListCmdSteps on clients from dial. The
// client looked at is the newest one but the observer, so that it can be
// found before it may name itself.
func checkClientListCmd(t *testing.T, dial func(t testing.TB) *netClient) {
	t.Helper()
	obs := dial(t)
	me, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(obs.do(t, "CLIENT", "ID"), ":"), "\r\n"), 10, 64)
	cmdOf := func() string {
		v, err := parseValue(obs.do(t, "CLIENT", "LIST"))
		list, ok := v.(string)
		if err != nil || !ok {
			t.Fatalf("CLIENT LIST = %v, %v", v, err)
		}
		best, cmd := int64(-1), ""
		for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
			m := clientListIDRe.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("CLIENT LIST line without id: %q", line)
			}
			id, _ := strconv.ParseInt(m[1], 10, 64)
			if id == me || id < best {
				continue
			}
			best, cmd = id, ""
			for _, f := range strings.Fields(line) {
				if c, ok := strings.CutPrefix(f, "cmd="); ok {
					cmd = c
				}
			}
		}
		return cmd
	}
	target := dial(t)
	t.Cleanup(func() {
		obs.do(t, "CONFIG", "SET", "requirepass", "")
	})
	locked := false
	for _, st := range clientListCmdSteps {
		if !st.authed && !locked {
			if v := obs.do(t, "CONFIG", "SET", "requirepass", "pw"); v != okR {
				t.Fatalf("CONFIG SET requirepass = %q", v)
			}
			target, locked = dial(t), true
		}
		target.do(t, st.args...)
		if got := cmdOf(); got != st.want {
			t.Errorf("after %q (authenticated %v): cmd=%s, want cmd=%s", st.args, st.authed, got, st.want)
		}
	}
}

func TestClientListShowsRefusedCommand(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		checkClientListCmd(t, ts.raw)
	})
}

// TestClientListShowsRefusedCommandAgainstRedis proves the table against
// Redis 7.0 (compareRedis).
func TestClientListShowsRefusedCommandAgainstRedis(t *testing.T) {
	checkClientListCmd(t, compareRedisDialer(t))
}
