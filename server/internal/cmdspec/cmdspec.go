// Package cmdspec holds Redis 7.0's description of the commands ringdb
// serves: the COMMAND INFO and COMMAND DOCS replies redis-server 7.0.15
// gives for them, key specifications, tips and argument trees included,
// so that tools that read them (redis-cli's hints, cluster clients'
// key extraction) see what they see from Redis.
//
// The capture, redis70.resp, is written by the server package's
// TestCommandSpecAgainstRedis with -update-cmdspec (from a running
// Redis 7.0), which otherwise checks it against Redis. It is one RESP3
// map: each command's and subcommand's full lower-case name ("get",
// "client|id") to a two-element array, its COMMAND INFO description and
// its COMMAND DOCS map, as Redis sends them; a container's own
// subcommand lists are left to the server, which describes the
// subcommands it has.
package cmdspec

import (
	_ "embed"
	"strconv"
	"strings"
)

//go:embed redis70.resp
var capture []byte

// Entry is one command's description.
type Entry struct {
	// Info is the ten-element COMMAND INFO array: name, arity, flags,
	// first key, last key, step, ACL categories, tips, key
	// specifications, subcommands.
	Info Value
	// Docs is the COMMAND DOCS map: summary, since, group, complexity,
	// and, when Redis gives them, doc_flags, deprecated_since,
	// replaced_by, history, arguments, subcommands.
	Docs Value
}

// entries maps full names to their entries, parsed once at start-up.
var entries = parse(capture)

func parse(b []byte) map[string]*Entry {
	v, rest, err := Parse(b)
	if err != nil || len(rest) != 0 || v.Kind != Map {
		panic("cmdspec: redis70.resp is not one RESP3 map") // a build defect, caught by any test
	}
	m := make(map[string]*Entry, len(v.Elems)/2)
	for i := 0; i < len(v.Elems); i += 2 {
		e := v.Elems[i+1]
		if e.Kind != Array || len(e.Elems) != 2 || len(e.Elems[0].Elems) != 10 || e.Elems[1].Kind != Map {
			panic("cmdspec: bad entry " + v.Elems[i].Str)
		}
		m[v.Elems[i].Str] = &Entry{Info: e.Elems[0], Docs: e.Elems[1]}
	}
	return m
}

// Lookup returns the entry of a command or subcommand by its full
// lower-case name, or nil for one Redis 7.0 does not have.
func Lookup(name string) *Entry { return entries[name] }

// Categories returns the entry's ACL categories ("@read", ...).
func (e *Entry) Categories() []string {
	var cats []string
	for _, c := range e.Info.Elems[6].Elems {
		cats = append(cats, c.Str)
	}
	return cats
}

// KeyRef is a key of a command line, as COMMAND GETKEYSANDFLAGS reports
// it: its position in argv and its key specification's flags.
type KeyRef struct {
	Pos   int
	Flags []Value
}

// Keys returns the keys of argv, a command line of the entry's command
// (argv[0] its name; for a subcommand argv[1] is the subcommand), by the
// entry's key specifications, as Redis 7.0's getKeysUsingKeySpecs finds
// them: each specification's begin index, then its range (a negative
// last key counts from the end); positions past argv are skipped.
// ok is false when a specification is of a kind this does not evaluate
// (only index and range occur in the capture).
func (e *Entry) Keys(argv [][]byte) (keys []KeyRef, ok bool) {
	argc := len(argv)
	for _, spec := range e.Info.Elems[8].Elems {
		begin, find := spec.Get("begin_search"), spec.Get("find_keys")
		if begin.Get("type").Str != "index" || find.Get("type").Str != "range" {
			return nil, false
		}
		first := int(begin.Get("spec").Get("index").Int)
		r := find.Get("spec")
		lastKey, step, limit := int(r.Get("lastkey").Int), int(r.Get("keystep").Int), int(r.Get("limit").Int)
		var last int
		switch {
		case lastKey >= 0:
			last = first + lastKey
		case limit == 0:
			last = argc + lastKey
		default:
			last = first + (argc-first)/limit + lastKey
		}
		if step < 1 {
			return nil, false
		}
		flags := spec.Get("flags").Elems
		for i := first; i <= last && i < argc; i += step {
			keys = append(keys, KeyRef{Pos: i, Flags: flags})
		}
	}
	if e.Info.Elems[0].Str == "set" && len(keys) == 1 {
		keys[0].Flags = setKeyFlags(argv)
	}
	return keys, true
}

// setKeyFlags are the flags of SET's key, which its key specification
// marks variable_flags: Redis 7.0's setGetKeys gives RW access update
// with a GET option (after the value), else OW update.
func setKeyFlags(argv [][]byte) []Value {
	names := []string{"OW", "update"}
	for _, a := range argv[min(3, len(argv)):] {
		if strings.EqualFold(string(a), "get") {
			names = []string{"RW", "access", "update"}
			break
		}
	}
	flags := make([]Value, len(names))
	for i, n := range names {
		flags[i] = Value{Kind: Simple, Str: n}
	}
	return flags
}

// String renders v for test failures.
func (v Value) String() string {
	switch v.Kind {
	case Bulk, Simple:
		return strconv.Quote(v.Str)
	case Int:
		return strconv.FormatInt(v.Int, 10)
	}
	parts := make([]string, len(v.Elems))
	for i, e := range v.Elems {
		parts[i] = e.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}
