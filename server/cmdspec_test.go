package server

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ringdb/ringdb/server/internal/cmdspec"
)

var updateCmdspec = flag.Bool("update-cmdspec", false, "rewrite internal/cmdspec/redis70.resp from the Redis 7.0 the *AgainstRedis tests use")

const cmdspecFile = "internal/cmdspec/redis70.resp"

// specNames returns the full names of the RESP commands and subcommands
// of a server's table, as COMMAND LIST names them.
func specNames(t *testing.T) []string {
	t.Helper()
	s := newDirectServer(t, Config{})
	var names []string
	for _, cmd := range s.cmds.list {
		names = append(names, cmd.name)
		for _, sub := range cmd.subs {
			names = append(names, sub.full)
		}
	}
	slices.Sort(names)
	return names
}

// captureRedisSpecs asks Redis, in RESP3, for the COMMAND INFO and
// COMMAND DOCS of each name and returns them in the capture's format
// (see package cmdspec); names Redis 7.0 does not have are left out.
func captureRedisSpecs(t *testing.T, names []string) []byte {
	t.Helper()
	r := compareRedis(t)
	if got := r.do(t, "HELLO", "3"); !strings.HasPrefix(got, "%") {
		t.Fatalf("Redis HELLO 3 = %q", got)
	}
	parse := func(raw string) cmdspec.Value {
		v, rest, err := cmdspec.Parse([]byte(raw))
		if err != nil || len(rest) != 0 {
			t.Fatalf("Redis reply %q: %v", raw, err)
		}
		return v
	}
	top := cmdspec.Value{Kind: cmdspec.Map}
	for _, n := range names {
		info := r.do(t, "COMMAND", "INFO", n)
		if info == "*1\r\n_\r\n" {
			continue // not in Redis 7.0
		}
		docs := parse(r.do(t, "COMMAND", "DOCS", n))
		if len(docs.Elems) != 2 || docs.Elems[0].Str != n {
			t.Fatalf("Redis COMMAND DOCS %s = %v", n, docs)
		}
		// A container's subcommands are the server's to list: it lists
		// those it has.
		iv := parse(info).Elems[0]
		iv.Elems[9] = cmdspec.Value{Kind: cmdspec.Set}
		dv := docs.Elems[1]
		if i := slices.IndexFunc(dv.Elems, func(e cmdspec.Value) bool { return e.Str == "subcommands" }); i >= 0 && i%2 == 0 {
			dv.Elems = slices.Delete(dv.Elems, i, i+2)
		}
		entry := cmdspec.Value{Kind: cmdspec.Array, Elems: []cmdspec.Value{iv, dv}}
		top.Elems = append(top.Elems, cmdspec.Value{Kind: cmdspec.Bulk, Str: n}, entry)
	}
	return cmdspec.Append(nil, top)
}

// TestCommandSpecAgainstRedis: the capture of Redis's COMMAND INFO and
// COMMAND DOCS that ringdb answers with is what Redis 7.0 answers for
// every command and subcommand ringdb has (and that Redis has); with
// -update-cmdspec it rewrites the capture.
func TestCommandSpecAgainstRedis(t *testing.T) {
	got := captureRedisSpecs(t, specNames(t))
	if *updateCmdspec {
		if err := os.WriteFile(cmdspecFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(cmdspecFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from Redis's answers; rewrite it with go test ./server -run TestCommandSpecAgainstRedis -update-cmdspec and review the diff", cmdspecFile)
	}
}

// TestCommandSpecMatchesTable: what the capture says of a command's
// arity and key positions is what the table dispatches by, so COMMAND
// INFO and COMMAND GETKEYS never contradict the server.
func TestCommandSpecMatchesTable(t *testing.T) {
	s := newDirectServer(t, Config{})
	check := func(name string, arity, first, last, step int) {
		e := cmdspec.Lookup(name)
		if e == nil {
			return
		}
		i := e.Info.Elems
		if got := [4]int64{i[1].Int, i[3].Int, i[4].Int, i[5].Int}; got != [4]int64{int64(arity), int64(first), int64(last), int64(step)} {
			t.Errorf("%s: Redis has arity, first, last, step %v; the table %v", name, got, [4]int{arity, first, last, step})
		}
	}
	for _, cmd := range s.cmds.list {
		check(cmd.name, cmd.arity, cmd.firstKey, cmd.lastKey, cmd.step)
		for _, sub := range cmd.subs {
			check(sub.full, sub.arity, sub.firstKey, sub.lastKey, sub.step)
		}
	}
}
