package server

import (
	"bytes"
	"slices"
	"sort"
	"strings"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/server/internal/cmdspec"
	"github.com/ringdb/ringdb/transport"
)

// COMMAND [COUNT | INFO name... | DOCS name... | LIST | GETKEYS cmd... |
// GETKEYSANDFLAGS cmd...]: Redis's introspection, for redis-cli (its
// hints come from DOCS), redis-benchmark and cluster-aware clients (key
// positions). A command or subcommand Redis 7.0 has is described as
// redis-server 7.0.15 describes it (package cmdspec: flags, ACL
// categories, tips, key specifications, docs and arguments); one it does
// not have (CLIENT SETINFO, CLIENT NO-TOUCH, the debug commands) from the
// table.

var commandSubs = nameSubcommands("command", map[string]*subcommand{
	"count": {arity: 2, run: func(c *cmdCtx) { c.w.Int(int64(len(c.srv.cmds.list))) }},
	"info":  {arity: -2, run: commandInfo},
	"docs":  {arity: -2, run: commandDocs},
	"list":  {arity: -2, run: commandListSub},
	"help":  {arity: 2, run: commandHelp},
	// As in Redis 7.0: COMMAND GETKEYS needs a command and an argument.
	"getkeys":         {arity: -4, run: func(c *cmdCtx) { commandGetKeys(c, false) }},
	"getkeysandflags": {arity: -4, run: func(c *cmdCtx) { commandGetKeys(c, true) }},
})

// cmdCommand is COMMAND with no argument (every command's info) or with a
// subcommand.
func cmdCommand(c *cmdCtx) {
	if len(c.argv) == 1 {
		c.w.Array(len(c.srv.cmds.list))
		for _, cmd := range c.srv.cmds.list {
			writeCommandInfo(c, cmd)
		}
		return
	}
	dispatchSub(c, commandSubs)
}

// writeCommandInfo writes Redis 7's ten-element description of cmd; a
// container's last element describes its subcommands, as Redis's does.
func writeCommandInfo(c *cmdCtx, cmd *command) {
	writeInfoFields(c, cmd.name, cmd.arity, cmd, cmd.firstKey, cmd.lastKey, cmd.step)
	if len(cmd.subs) == 0 {
		c.w.Set(0) // subcommands
		return
	}
	// An array, not a set, once there are any (Redis 7.0), in a fixed
	// order (Redis's is its dict's).
	names := make([]string, 0, len(cmd.subs))
	for n := range cmd.subs {
		names = append(names, n)
	}
	sort.Strings(names)
	c.w.Array(len(names))
	for _, n := range names {
		writeSubcommandInfo(c, cmd, cmd.subs[n])
	}
}

// writeSubcommandInfo writes the description of sub, a subcommand of the
// container parent, under its full name ("client|id"), with its own key
// positions; its flags and categories are its container's plus its own
// flags (subView).
func writeSubcommandInfo(c *cmdCtx, parent *command, sub *subcommand) {
	writeInfoFields(c, sub.full, sub.arity, subView(parent, sub), sub.firstKey, sub.lastKey, sub.step)
	c.w.Set(0) // subcommands
}

// subView returns parent as sub describes itself to COMMAND INFO and
// COMMAND LIST: the container with sub's flags added.
func subView(parent *command, sub *subcommand) *command {
	if sub.flags == 0 {
		return parent
	}
	v := *parent
	v.flags |= sub.flags
	return &v
}

// writeInfoFields writes the header and the first nine elements of a
// COMMAND INFO description, with the flags and ACL categories of cmd; the
// caller writes the tenth, the subcommands.
func writeInfoFields(c *cmdCtx, name string, arity int, cmd *command, firstKey, lastKey, step int) {
	w := c.w
	if e := cmdspec.Lookup(name); e != nil {
		w.Array(10)
		for i := range e.Info.Elems[:9] {
			writeSpec(w, &e.Info.Elems[i])
		}
		return
	}
	w.Array(10)
	w.BulkString(name)
	w.Int(int64(arity))
	var flags []string
	for i, n := range flagNames {
		if cmd.flags&(1<<i) != 0 && n != "" {
			flags = append(flags, n)
		}
	}
	w.Set(len(flags)) // flags, categories, tips, key specs and subcommands are RESP3 sets in Redis 7.0
	for _, f := range flags {
		w.Simple(f)
	}
	w.Int(int64(firstKey))
	w.Int(int64(lastKey))
	w.Int(int64(step))
	cats := derivedCategories(cmd)
	w.Set(len(cats))
	for _, cat := range cats {
		w.Simple(cat)
	}
	w.Set(0) // tips
	w.Set(0) // key specifications
}

// writeSpec writes v, a value of the Redis capture, as Redis writes it in
// the connection's protocol (RESP2 has no maps or sets: arrays).
func writeSpec(w *transport.Writer, v *cmdspec.Value) {
	switch v.Kind {
	case cmdspec.Bulk:
		w.BulkString(v.Str)
	case cmdspec.Simple:
		w.Simple(v.Str)
	case cmdspec.Int:
		w.Int(v.Int)
	case cmdspec.Array:
		w.Array(len(v.Elems))
	case cmdspec.Set:
		w.Set(len(v.Elems))
	case cmdspec.Map:
		w.Map(len(v.Elems) / 2)
	}
	for i := range v.Elems {
		writeSpec(w, &v.Elems[i])
	}
}

// aclCategories returns the ACL categories of the command or subcommand
// named full (cmd, or the container's view of a subcommand: subView):
// Redis 7.0's, or for one Redis 7.0 does not have, derived from the table.
func aclCategories(full string, cmd *command) []string {
	if e := cmdspec.Lookup(full); e != nil {
		return e.Categories()
	}
	return derivedCategories(cmd)
}

// derivedCategories derives Redis ACL categories from the flags and group.
func derivedCategories(cmd *command) []string {
	var cats []string
	if cmd.flags&flagRead != 0 {
		cats = append(cats, "@read")
	}
	if cmd.flags&flagWrite != 0 {
		cats = append(cats, "@write")
	}
	switch cmd.group {
	case "string":
		cats = append(cats, "@string")
	case "generic":
		if cmd.flags&flagLoose != 0 {
			cats = append(cats, "@connection") // WAIT: about the connection, not keys
		} else {
			cats = append(cats, "@keyspace")
		}
	case "connection":
		cats = append(cats, "@connection")
	}
	if cmd.flags&flagAdmin != 0 {
		cats = append(cats, "@admin", "@dangerous")
	}
	if cmd.flags&flagFast != 0 {
		cats = append(cats, "@fast")
	} else {
		cats = append(cats, "@slow")
	}
	if cmd.flags&flagBlocking != 0 {
		cats = append(cats, "@blocking")
	}
	return cats
}

// commandInfo is COMMAND INFO [name ...]: info or null per name; every
// command with no names.
func commandInfo(c *cmdCtx) {
	names := c.argv[2:]
	if len(names) == 0 {
		c.w.Array(len(c.srv.cmds.list))
		for _, cmd := range c.srv.cmds.list {
			writeCommandInfo(c, cmd)
		}
		return
	}
	c.w.Array(len(names))
	for _, n := range names {
		cmd, sub := c.srv.cmds.lookupFull(n)
		switch {
		case sub != nil:
			writeSubcommandInfo(c, cmd, sub)
		case cmd != nil:
			writeCommandInfo(c, cmd)
		default:
			c.w.Null()
		}
	}
}

// lookupFull finds a command by name, or a container's subcommand by the
// full name Redis gives it, "container|subcommand" (case-insensitively,
// like a command name). For a subcommand it returns its container too;
// anything else, "get|x" or "client|id|x" included, is not found.
func (t *commandTable) lookupFull(name []byte) (*command, *subcommand) {
	parent, subName, isSub := bytes.Cut(name, []byte("|"))
	cmd := t.lookup(parent)
	if !isSub || cmd == nil {
		return cmd, nil
	}
	if sub := cmd.subs[strings.ToLower(string(subName))]; sub != nil {
		return cmd, sub
	}
	return nil, nil
}

// commandDocs is COMMAND DOCS [name ...]: a map from each name (a
// command, or a subcommand by its full name, "client|id") to its
// documentation, as Redis 7.0 gives it: summary, since, group,
// complexity, and its arguments, history and other fields where Redis has
// them; a container's ends with its subcommands'. Unknown names are left
// out, as in Redis.
func commandDocs(c *cmdCtx) {
	type doc struct {
		cmd *command
		sub *subcommand
	}
	var docs []doc
	if len(c.argv) == 2 {
		for _, cmd := range c.srv.cmds.list {
			docs = append(docs, doc{cmd: cmd})
		}
	} else {
		for _, n := range c.argv[2:] {
			if cmd, sub := c.srv.cmds.lookupFull(n); cmd != nil {
				docs = append(docs, doc{cmd, sub})
			}
		}
	}
	c.w.Map(len(docs))
	for _, d := range docs {
		if d.sub != nil {
			c.w.BulkString(d.sub.full)
			writeSubDocs(c, d.cmd, d.sub)
		} else {
			c.w.BulkString(d.cmd.name)
			writeDocs(c, d.cmd)
		}
	}
}

// writeDocs writes cmd's COMMAND DOCS map.
func writeDocs(c *cmdCtx, cmd *command) {
	w := c.w
	var fields []cmdspec.Value
	if e := cmdspec.Lookup(cmd.name); e != nil {
		fields = e.Docs.Elems
	} else {
		complexity := "O(N)"
		if cmd.flags&flagFast != 0 {
			complexity = "O(1)"
		}
		fields = docFields(cmd.summary, "1.0.0", cmd.group, complexity)
	}
	if len(cmd.subs) == 0 {
		w.Map(len(fields) / 2)
	} else {
		w.Map(len(fields)/2 + 1)
	}
	for i := range fields {
		writeSpec(w, &fields[i])
	}
	if len(cmd.subs) == 0 {
		return
	}
	names := make([]string, 0, len(cmd.subs))
	for n := range cmd.subs {
		names = append(names, n)
	}
	sort.Strings(names)
	w.BulkString("subcommands")
	w.Map(len(names))
	for _, n := range names {
		sub := cmd.subs[n]
		w.BulkString(sub.full)
		writeSubDocs(c, cmd, sub)
	}
}

// writeSubDocs writes the COMMAND DOCS map of sub, a subcommand of parent.
func writeSubDocs(c *cmdCtx, parent *command, sub *subcommand) {
	var fields []cmdspec.Value
	if e := cmdspec.Lookup(sub.full); e != nil {
		fields = e.Docs.Elems
	} else {
		fields = docFields(sub.summary, sub.since, parent.group, "O(1)")
	}
	c.w.Map(len(fields) / 2)
	for i := range fields {
		writeSpec(c.w, &fields[i])
	}
}

// docFields is the COMMAND DOCS map of a command Redis 7.0 does not have.
func docFields(summary, since, group, complexity string) []cmdspec.Value {
	var fields []cmdspec.Value
	for _, kv := range [...][2]string{{"summary", summary}, {"since", since}, {"group", group}, {"complexity", complexity}} {
		fields = append(fields, cmdspec.Value{Kind: cmdspec.Bulk, Str: kv[0]}, cmdspec.Value{Kind: cmdspec.Bulk, Str: kv[1]})
	}
	return fields
}

// Redis 7.0's COMMAND GETKEYS errors.
const (
	msgGetKeysNoCmd  = "Invalid command specified"
	msgGetKeysNoKeys = "The command has no key arguments"
	msgGetKeysArity  = "Invalid number of arguments specified for command"
	msgGetKeysNone   = "Invalid arguments specified for command"
)

// commandGetKeys is COMMAND GETKEYS (withFlags false) and COMMAND
// GETKEYSANDFLAGS command [arg ...]: the keys the command line would
// touch, found as Redis 7.0 finds them (by its key specifications), with
// its errors, in its order: an unknown command or subcommand, one that
// takes no keys, a wrong argument count, no key found.
func commandGetKeys(c *cmdCtx, withFlags bool) {
	argv := c.argv[2:]
	cmd := c.srv.cmds.lookup(argv[0])
	var sub *subcommand
	if cmd != nil && len(cmd.subs) > 0 {
		// Redis's lookupCommand: argv[1] names the subcommand (argv
		// has two elements at least: the arity is -4).
		if sub = cmd.subs[strings.ToLower(string(argv[1]))]; sub == nil {
			cmd = nil
		}
	}
	if cmd == nil {
		c.errReply(msgGetKeysNoCmd)
		return
	}
	full, arity, first, last, step := cmd.name, cmd.arity, cmd.firstKey, cmd.lastKey, cmd.step
	if sub != nil {
		full, arity, first, last, step = sub.full, sub.arity, sub.firstKey, sub.lastKey, sub.step
	}
	if first == 0 {
		c.errReply(msgGetKeysNoKeys)
		return
	}
	if !arityOK(arity, len(argv)) {
		c.errReply(msgGetKeysArity)
		return
	}
	var keys []cmdspec.KeyRef
	ok := false
	if e := cmdspec.Lookup(full); e != nil {
		keys, ok = e.Keys(argv)
	}
	if !ok { // not in Redis 7.0: the table's positions, without flags
		keys = nil
		if last < 0 {
			last += len(argv)
		}
		for i := first; i <= last && i < len(argv); i += step {
			keys = append(keys, cmdspec.KeyRef{Pos: i})
		}
	}
	if len(keys) == 0 {
		c.errReply(msgGetKeysNone)
		return
	}
	c.w.Array(len(keys))
	for _, k := range keys {
		if !withFlags {
			c.w.Bulk(argv[k.Pos])
			continue
		}
		c.w.Array(2)
		c.w.Bulk(argv[k.Pos])
		c.w.Set(len(k.Flags))
		for i := range k.Flags {
			writeSpec(c.w, &k.Flags[i])
		}
	}
}

// commandListSub is COMMAND LIST [FILTERBY PATTERN pattern|ACLCAT
// category|MODULE name]: the names of the commands and, as in Redis 7.0,
// of their subcommands ("client|id"), those the filter keeps.
func commandListSub(c *cmdCtx) {
	keep := func(name string, cmd *command) bool { return true }
	switch len(c.argv) {
	case 2:
	case 5:
		arg := c.argv[4]
		switch {
		case !eqFold(c.argv[2], "filterby"):
			c.syntaxErr()
			return
		case eqFold(c.argv[3], "pattern"):
			pattern := strings.ToLower(string(arg))
			keep = func(name string, _ *command) bool { return globMatch(pattern, name) }
		case eqFold(c.argv[3], "aclcat"):
			// A category no command is in, or no category at all, keeps
			// nothing, as in Redis.
			cat := "@" + strings.ToLower(string(arg))
			keep = func(name string, cmd *command) bool {
				return slices.Contains(aclCategories(name, cmd), cat)
			}
		case eqFold(c.argv[3], "module"):
			// No command comes from a module.
			keep = func(string, *command) bool { return false }
		default:
			c.syntaxErr()
			return
		}
	default:
		c.syntaxErr()
		return
	}
	var names []string
	for _, cmd := range c.srv.cmds.list {
		if keep(cmd.name, cmd) {
			names = append(names, cmd.name)
		}
		// A subcommand has its container's categories and those of its
		// own flags (see writeSubcommandInfo).
		var subs []string
		for _, sub := range cmd.subs {
			if keep(sub.full, subView(cmd, sub)) {
				subs = append(subs, sub.full)
			}
		}
		sort.Strings(subs)
		names = append(names, subs...)
	}
	c.w.Array(len(names))
	for _, n := range names {
		c.w.BulkString(n)
	}
}

// commandHelp is COMMAND HELP, Redis 7.0's text.
func commandHelp(c *cmdCtx) {
	lines := []string{
		"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"(no subcommand)", "    Return details about all Redis commands.",
		"COUNT", "    Return the total number of commands in this Redis server.",
		"LIST", "    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>", "    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>", "    Return the keys and the access flags from a full Redis command.",
		"HELP", "    Prints this help.",
	}
	c.w.Array(len(lines))
	for _, l := range lines {
		c.w.Simple(l)
	}
}

// globMatch matches COMMAND LIST and CONFIG GET patterns with the
// keyspace's matcher, which runs in O(len(pattern)*len(s)) time: a
// backtracking matcher let one CONFIG GET of many "*?*?...!" patterns
// keep an event loop busy for minutes.
func globMatch(pattern, s string) bool {
	return core.MatchGlob([]byte(pattern), []byte(s))
}
