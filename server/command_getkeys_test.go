package server

import (
	"reflect"
	"slices"
	"testing"

	"github.com/ringdb/ringdb/server/internal/cmdspec"
)

// TestCommandGetKeys: COMMAND GETKEYS and GETKEYSANDFLAGS find the keys
// of a command line as Redis 7.0 does, with its errors (checked against
// redis-server 7.0.15; TestCommandIntrospectionAgainstRedis compares
// every command). ringdb had neither: "unknown subcommand 'getkeys'".
func TestCommandGetKeys(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	c.expect(t, bulksR("k1", "k2"), "COMMAND", "GETKEYS", "MSET", "k1", "v1", "k2", "v2")
	c.expect(t, bulksR("k1", "k2"), "COMMAND", "GETKEYS", "mset", "k1", "v1", "k2") // MSET checks its pairs itself
	c.expect(t, bulksR("a", "b"), "COMMAND", "GETKEYS", "RENAME", "a", "b")
	c.expect(t, bulksR("k"), "COMMAND", "GETKEYS", "EXPIRE", "k", "10")
	c.expect(t, bulksR("a", "b"), "COMMAND", "GETKEYS", "COPY", "a", "b", "REPLACE")
	c.expect(t, bulksR("k"), "COMMAND", "GETKEYS", "OBJECT", "ENCODING", "k")
	c.expect(t, bulksR("k"), "COMMAND", "GETKEYS", "memory", "usage", "k", "SAMPLES", "5")
	c.expect(t, bulksR("a", "b"), "COMMAND", "GETKEYS", "WATCH", "a", "b")

	c.expect(t, arrR(arrR(bulkR("a"), arrR(simpleR("RW"), simpleR("access"), simpleR("delete"))),
		arrR(bulkR("b"), arrR(simpleR("OW"), simpleR("update")))),
		"COMMAND", "GETKEYSANDFLAGS", "RENAME", "a", "b")
	// SET's flags depend on its GET option, as Redis's setGetKeys says.
	c.expect(t, arrR(arrR(bulkR("k"), arrR(simpleR("OW"), simpleR("update")))), "COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v", "EX", "10")
	c.expect(t, arrR(arrR(bulkR("k"), arrR(simpleR("RW"), simpleR("access"), simpleR("update")))), "COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v", "get")

	// Redis's errors, in its order: an unknown command (EVAL, which
	// ringdb does not have, included) or subcommand, one without keys,
	// a wrong argument count.
	for _, args := range [][]string{{"nosuch", "x"}, {"EVAL", "return 1", "0"}, {"GET|x", "a"}, {"client|id", "x"}, {"OBJECT", "nosuch", "k"}, {"CLIENT", "nosuch"}} {
		c.expect(t, errR("ERR Invalid command specified"), append([]string{"COMMAND", "GETKEYS"}, args...)...)
	}
	for _, args := range [][]string{{"PING", "x"}, {"KEYS", "*"}, {"SCAN", "0"}, {"CLIENT", "ID"}, {"CONFIG", "GET", "x"}} {
		c.expect(t, errR("ERR The command has no key arguments"), append([]string{"COMMAND", "GETKEYS"}, args...)...)
	}
	for _, args := range [][]string{{"GET", "a", "b"}, {"MSET", "k1"}, {"SET", "k"}, {"OBJECT", "ENCODING"}, {"MEMORY", "USAGE"}} {
		c.expect(t, errR("ERR Invalid number of arguments specified for command"), append([]string{"COMMAND", "GETKEYSANDFLAGS"}, args...)...)
	}
	c.expect(t, errR("ERR wrong number of arguments for 'command|getkeys' command"), "COMMAND", "GETKEYS", "EXISTS")
	c.expect(t, errR("ERR wrong number of arguments for 'command|getkeysandflags' command"), "COMMAND", "GETKEYSANDFLAGS", "GET")
}

// TestCommandDocsAsRedis: COMMAND DOCS gives Redis 7.0's documentation,
// arguments included (redis-cli builds its hints from them), and takes
// subcommands by their full names; COMMAND INFO gives Redis's flags,
// tips and key specifications. ringdb answered a summary of its own,
// "since 1.0.0" for every command, no arguments, and nothing for
// "client|id"; flags such as loading and stale, and the key
// specifications, were missing.
func TestCommandDocsAsRedis(t *testing.T) {
	c := newDirectClient(t, newDirectServer(t, Config{}))
	c.expect(t, arrR(bulkR("get"), arrR(bulkR("summary"), bulkR("Get the value of a key"), bulkR("since"), bulkR("1.0.0"),
		bulkR("group"), bulkR("string"), bulkR("complexity"), bulkR("O(1)"),
		bulkR("arguments"), arrR(arrR(bulkR("name"), bulkR("key"), bulkR("type"), bulkR("key"), bulkR("key_spec_index"), intR(0))))),
		"COMMAND", "DOCS", "get")
	c.expect(t, arrR(bulkR("client|id"), arrR(bulkR("summary"), bulkR("Returns the client ID for the current connection"),
		bulkR("since"), bulkR("5.0.0"), bulkR("group"), bulkR("connection"), bulkR("complexity"), bulkR("O(1)"))),
		"COMMAND", "DOCS", "CLIENT|ID", "get|x")

	v, err := parseValue(c.do(t, "COMMAND", "DOCS", "expire"))
	if err != nil {
		t.Fatal(err)
	}
	doc := v.([]any)[1].([]any)
	field := func(doc []any, name string) any {
		for i := 0; i+1 < len(doc); i += 2 {
			if doc[i] == name {
				return doc[i+1]
			}
		}
		return nil
	}
	if got := field(doc, "since"); got != "1.0.0" {
		t.Errorf("COMMAND DOCS expire: since %v", got)
	}
	var argNames []any
	for _, a := range field(doc, "arguments").([]any) {
		argNames = append(argNames, field(a.([]any), "name"))
	}
	if want := []any{"key", "seconds", "condition"}; !reflect.DeepEqual(argNames, want) {
		t.Errorf("COMMAND DOCS expire: arguments %v, want %v", argNames, want)
	}

	// A container's docs end with those of the subcommands ringdb has,
	// CLIENT SETINFO (Redis 7.2) among them.
	v, err = parseValue(c.do(t, "COMMAND", "DOCS", "client"))
	if err != nil {
		t.Fatal(err)
	}
	subs := field(v.([]any)[1].([]any), "subcommands").([]any)
	var subNames []string
	for i := 0; i < len(subs); i += 2 {
		subNames = append(subNames, subs[i].(string))
	}
	if len(subNames) != len(clientSubs) || !slices.Contains(subNames, "client|setinfo") || slices.Contains(subNames, "client|tracking") {
		t.Errorf("COMMAND DOCS client: subcommands %v", subNames)
	}

	c.expect(t, arrR(arrR(bulkR("echo"), intR(2), arrR(simpleR("loading"), simpleR("stale"), simpleR("fast")), intR(0), intR(0), intR(0),
		arrR(simpleR("@fast"), simpleR("@connection")), arrR(), arrR(), arrR())),
		"COMMAND", "INFO", "echo")
	c.expect(t, arrR(arrR(bulkR("rename"), intR(3), arrR(simpleR("write")), intR(1), intR(2), intR(1),
		arrR(simpleR("@keyspace"), simpleR("@write"), simpleR("@slow")), arrR(),
		arrR(keySpecR(1, 0, 1, "RW", "access", "delete"), keySpecR(2, 0, 1, "OW", "update")), arrR())),
		"COMMAND", "INFO", "rename")
}

// TestCommandIntrospectionAgainstRedis: for every command and
// subcommand ringdb has that Redis 7.0 has too, COMMAND INFO and COMMAND
// DOCS answer what Redis answers, in RESP2 and RESP3, and COMMAND
// GETKEYS and GETKEYSANDFLAGS answer alike for command lines of several
// lengths. A container's subcommand list is ringdb's (those it has, in
// name order, where Redis lists its own in its dict's order); the rest
// of its description is compared, and each subcommand on its own.
func TestCommandIntrospectionAgainstRedis(t *testing.T) {
	r := compareRedis(t)
	s := newDirectServer(t, Config{})
	c := newDirectClient(t, s)
	type name struct {
		full      string
		container bool
		argv      []string
	}
	var names []name
	for _, cmd := range s.cmds.list {
		names = append(names, name{cmd.name, len(cmd.subs) > 0, []string{cmd.name}})
		for n, sub := range cmd.subs {
			names = append(names, name{sub.full, false, []string{cmd.name, n}})
		}
	}
	// without drops a container's subcommands from its parsed RESP2
	// description: INFO's tenth element, DOCS's "subcommands" field.
	without := func(raw string, docs bool) any {
		v, err := parseValue(raw)
		if err != nil {
			t.Fatal(err)
		}
		e := v.([]any)
		if !docs {
			return e[0].([]any)[:9]
		}
		d := e[1].([]any)
		if i := slices.Index(d, any("subcommands")); i >= 0 {
			d = d[:i]
		}
		return d
	}
	for _, proto := range []string{"2", "3"} {
		r.do(t, "HELLO", proto)
		c.do(t, "HELLO", proto)
		for _, n := range names {
			if cmdspec.Lookup(n.full) == nil {
				continue // not in Redis 7.0 (CLIENT SETINFO, NO-TOUCH)
			}
			for _, sub := range []string{"INFO", "DOCS"} {
				want, got := r.do(t, "COMMAND", sub, n.full), c.do(t, "COMMAND", sub, n.full)
				if n.container {
					if proto == "2" && !reflect.DeepEqual(without(got, sub == "DOCS"), without(want, sub == "DOCS")) {
						t.Errorf("COMMAND %s %s:\n got %q\nwant %q (Redis)", sub, n.full, got, want)
					}
					continue
				}
				if got != want {
					t.Errorf("RESP%s COMMAND %s %s:\n got %q\nwant %q (Redis)", proto, sub, n.full, got, want)
				}
			}
			for _, extra := range [][]string{nil, {"a"}, {"a", "b"}, {"a", "b", "c"}, {"a", "1", "b", "2", "c"}, {"k", "v", "GET"}} {
				for _, sub := range []string{"GETKEYS", "GETKEYSANDFLAGS"} {
					args := append(append([]string{"COMMAND", sub}, n.argv...), extra...)
					if want, got := r.do(t, args...), c.do(t, args...); got != want {
						t.Errorf("RESP%s %q:\n got %q\nwant %q (Redis)", proto, args, got, want)
					}
				}
			}
		}
	}
}
