package server

import (
	"bytes"
	"slices"
	"sort"
	"strings"

	"github.com/ringdb/ringdb/core"
)

// COMMAND [COUNT | INFO name... | DOCS name... | LIST]: enough of Redis's
// introspection for redis-cli, redis-benchmark and cluster-aware clients.

var commandSubs = nameSubcommands("command", map[string]*subcommand{
	"count": {arity: 2, run: func(c *cmdCtx) { c.w.Int(int64(len(c.srv.cmds.list))) }},
	"info":  {arity: -2, run: commandInfo},
	"docs":  {arity: -2, run: commandDocs},
	"list":  {arity: -2, run: commandListSub},
	"help":  {arity: 2, run: commandHelp},
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
	cats := aclCategories(cmd)
	w.Set(len(cats))
	for _, cat := range cats {
		w.Simple(cat)
	}
	w.Set(0) // tips
	w.Set(0) // key specifications
}

// aclCategories derives Redis ACL categories from the flags and group.
func aclCategories(cmd *command) []string {
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

// commandDocs is COMMAND DOCS [name ...]: a map from name to its summary,
// since, group and complexity. Unknown names are left out, as in Redis.
func commandDocs(c *cmdCtx) {
	var cmds []*command
	if len(c.argv) == 2 {
		cmds = c.srv.cmds.list
	} else {
		for _, n := range c.argv[2:] {
			if cmd := c.srv.cmds.lookup(n); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.w.Map(len(cmds))
	for _, cmd := range cmds {
		c.w.BulkString(cmd.name)
		c.w.Map(4)
		c.w.BulkString("summary")
		c.w.BulkString(cmd.summary)
		c.w.BulkString("since")
		c.w.BulkString("1.0.0")
		c.w.BulkString("group")
		c.w.BulkString(cmd.group)
		c.w.BulkString("complexity")
		if cmd.flags&flagFast != 0 {
			c.w.BulkString("O(1)")
		} else {
			c.w.BulkString("O(N)")
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
			keep = func(_ string, cmd *command) bool {
				return slices.Contains(aclCategories(cmd), cat)
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

func commandHelp(c *cmdCtx) {
	lines := []string{
		"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"(no subcommand)", "    Return details about all commands.",
		"COUNT", "    Return the total number of commands.",
		"DOCS [<command-name> ...]", "    Return documentation details about commands.",
		"INFO [<command-name> ...]", "    Return details about the given commands.",
		"LIST [FILTERBY (PATTERN <pattern>|ACLCAT <category>|MODULE <module-name>)]", "    Return the names of the commands and their subcommands.",
		"HELP", "    Print this help.",
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
