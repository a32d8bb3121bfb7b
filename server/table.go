package server

import (
	"sort"

	"github.com/ringdb/ringdb/transport"
	"github.com/ringdb/ringdb/transport/binproto"
)

// cmdFlags describe a command for dispatch and for COMMAND INFO.
type cmdFlags uint16

const (
	flagRead     cmdFlags = 1 << iota // reads the keyspace
	flagWrite                         // may modify the keyspace
	flagAdmin                         // administrative (CONFIG, FLUSHALL, ...)
	flagBlocking                      // may park its request
	flagNoAuth                        // allowed before authentication
	flagFast                          // O(1) or O(log N)
	flagDenyOOM                       // may need memory (rejected with OOM)
	flagLoose                         // connection-level, neither read nor write
	// flagO1 marks commands Redis does not flag fast only for their
	// options (SET, SETEX, PSETEX) that are O(1) on small arguments: the
	// slow log leaves them untimed as it leaves fast ones (slowlog.go).
	flagO1
	// flagTxCtl marks the commands MULTI does not queue: they act at once
	// (MULTI, EXEC, DISCARD, WATCH, QUIT, RESET), as in Redis.
	flagTxCtl
	// flagNoMulti marks commands refused inside MULTI (Redis's no-multi).
	flagNoMulti
)

// flagNames are the COMMAND INFO names of the flags, in bit order.
var flagNames = [...]string{"readonly", "write", "admin", "blocking", "no_auth", "fast", "denyoom", "", "", "", ""}

// handlerFunc executes one request. It runs inline on the connection's
// event loop, must not block, and writes exactly one reply through c.w
// (or parks the request).
type handlerFunc func(c *cmdCtx)

// command is one entry of the table shared by both protocols.
type command struct {
	// name is the lower-case command name, used in RESP dispatch (when
	// resp is set) and in error messages of both protocols.
	name string
	// op is the binary opcode; 0 for a RESP-only entry.
	op binproto.Opcode
	// arity is the RESP argument count including the name, Redis style: a
	// negative arity -n means at least n.
	arity int
	// binMin and binMax bound the binary argument count; binMax < 0 means
	// no upper bound.
	binMin, binMax int
	flags          cmdFlags
	// firstKey, lastKey and step locate the keys in a RESP argv, for
	// COMMAND INFO (lastKey -1: the last argument).
	firstKey, lastKey, step int
	// group and summary are for COMMAND DOCS.
	group, summary string
	// resp and bin are the protocol-specific handlers; either may be nil.
	resp handlerFunc
	bin  handlerFunc
	// idx is the command's position in commandTable.all, which indexes the
	// per-session call counters.
	idx int
	// subs are the subcommands of a container command (CLIENT, CONFIG,
	// COMMAND), checked before authentication as Redis does.
	subs map[string]*subcommand
}

// nameSlots is the size of commandTable.byName: a power of two several
// times the number of RESP commands, so that a probe rarely goes past its
// first slot.
const nameSlots = 512

// commandTable indexes the commands by lower-case name and by opcode.
type commandTable struct {
	// byName is an open-addressed table (linear probing, nameHash) of the
	// RESP commands: a lookup costs one hash and usually one comparison,
	// about a third of a Go map lookup (BenchmarkCommandLookup).
	byName [nameSlots]*command
	byOp   [256]*command // version 1 opcodes are all below 0x100
	list   []*command    // in registration order
	all    []*command    // every command, binary-only ones included; all[c.idx] == c

	// Stat slots index the per-command counters (metrics.go): slot i <
	// len(all) is all[i], slot len(all)+j is subs[j], a subcommand, which
	// INFO commandstats shows on its own line as Redis 7 does
	// (cmdstat_config|get). The subcommand tables are package variables
	// shared by every Server, so their slots live here, not in them.
	subs    []*subcommand
	subSlot map[*subcommand]int
	subOf   []int // subOf[j] is the slot of subs[j]'s container
}

func newCommandTable(cmds []*command) *commandTable {
	t := &commandTable{subSlot: make(map[*subcommand]int)}
	for _, c := range cmds {
		c.idx = len(t.all)
		t.all = append(t.all, c)
		if c.resp != nil {
			t.addName(c)
			t.list = append(t.list, c)
		}
		if c.bin != nil && int(c.op) < len(t.byOp) {
			t.byOp[c.op] = c
		}
	}
	for _, c := range t.all {
		names := make([]string, 0, len(c.subs))
		for name := range c.subs {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			sub := c.subs[name]
			if _, dup := t.subSlot[sub]; dup {
				continue
			}
			t.subSlot[sub] = len(t.all) + len(t.subs)
			t.subs = append(t.subs, sub)
			t.subOf = append(t.subOf, c.idx)
		}
	}
	return t
}

// slots returns the number of stat slots: commands and subcommands.
func (t *commandTable) slots() int { return len(t.all) + len(t.subs) }

// slot returns the stat slot of cmd, or of its subcommand sub when that
// is not nil.
func (t *commandTable) slot(cmd *command, sub *subcommand) int {
	if sub == nil {
		return cmd.idx
	}
	return t.subSlot[sub]
}

// slotName returns the name INFO commandstats shows for slot i: the
// command's, or the subcommand's full name ("client|setname").
func (t *commandTable) slotName(i int) string {
	if i < len(t.all) {
		return t.all[i].name
	}
	return t.subs[i-len(t.all)].full
}

// slotCommand returns the command slot i counts for: the command itself,
// or a subcommand's container. /metrics counts per command, so a
// subcommand's counts go to its container there.
func (t *commandTable) slotCommand(i int) int {
	if i < len(t.all) {
		return i
	}
	return t.subOf[i-len(t.all)]
}

// maxNameLen is longer than every command name, so a longer argv[0] is
// unknown without looking.
const maxNameLen = 32

// lookup finds a RESP command by name, case-insensitively, without
// allocating.
func (t *commandTable) lookup(name []byte) *command {
	if len(name) > maxNameLen {
		return nil
	}
	var low [maxNameLen]byte
	for i := foldName(name, &low) & (nameSlots - 1); ; i = (i + 1) & (nameSlots - 1) {
		c := t.byName[i]
		if c == nil || c.name == string(low[:len(name)]) {
			return c
		}
	}
}

// FNV-1a, 32 bits: enough to spread a hundred short names.
const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

// foldName writes name in lower case to low (len(name) <= maxNameLen) and
// returns the hash of the lower-case name, in one pass.
func foldName(name []byte, low *[maxNameLen]byte) uint32 {
	h := uint32(fnvOffset)
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
		h = (h ^ uint32(c)) * fnvPrime
	}
	return h
}

// addName enters c in byName under its (lower-case) name; a second
// command of the same name replaces the first, as a map would.
func (t *commandTable) addName(c *command) {
	if len(c.name) > maxNameLen {
		panic("server: command name longer than maxNameLen: " + c.name)
	}
	// Half full at most, so a lookup always meets an empty slot (and
	// rarely probes far).
	if len(t.list) >= nameSlots/2 {
		panic("server: more RESP commands than nameSlots/2")
	}
	var low [maxNameLen]byte
	for i := foldName([]byte(c.name), &low) & (nameSlots - 1); ; i = (i + 1) & (nameSlots - 1) {
		if old := t.byName[i]; old == nil || old.name == c.name {
			t.byName[i] = c
			return
		}
	}
}

// lookupOp finds a binary command by opcode.
func (t *commandTable) lookupOp(op binproto.Opcode) *command {
	if int(op) < len(t.byOp) {
		return t.byOp[op]
	}
	return nil
}

// arityOK reports whether n arguments (the name included) suit arity.
func arityOK(arity, n int) bool {
	if arity >= 0 {
		return n == arity
	}
	return n >= -arity
}

// cmdCtx is what a handler works with. One lives in each session and is
// reset for every request, so dispatch does not allocate.
type cmdCtx struct {
	srv  *Server
	sess *session
	conn *transport.Conn
	w    *transport.Writer
	cmd  *command
	argv [][]byte         // RESP: the command, name first
	args []binproto.Value // binary: the arguments
	// gate is the execution-gate slot Serve entered with; EXEC leaves it
	// and enters again (gate.go).
	gate *gateSlot
	// execLent maps each key whose large value EXEC's reply lent
	// (Writer.BulkRef) to the length of that value, until a command of
	// the same EXEC writes the key: the version lent is then the
	// reply's alone, and counts against the output hard limit
	// (Writer.HoldDetached).
	execLent map[string]int
	// sub is the subcommand lookupSub resolved for the request, counted
	// in its own stat slot (nil: none).
	sub *subcommand
	// The flags are kept together: between wider fields their padding
	// took 16 bytes of every session.
	//
	// bin: the request came over the binary protocol.
	bin bool
	// errsCounted tells serveCounted that EXEC counted its commands'
	// errors itself.
	errsCounted bool
	// inExec is set while EXEC runs its queue: CLIENT LIST then shows
	// exec as the session's command, as Redis does.
	inExec bool
	// refused says the request was refused before it ran (arity,
	// NOAUTH, a refusal inside MULTI, an unknown subcommand), which
	// counts no call: Redis's rejected_calls.
	refused refusal
	// postponed: a CLIENT PAUSE held the request; it is served again.
	postponed bool
	// quiet: the client asked not to get this request's reply (CLIENT
	// REPLY OFF, or SKIP before it); a request it parks completes
	// without one.
	quiet bool
	// oom: the command was refused with OOM (coreErr), having changed
	// nothing. Redis refuses such a write before it runs, so MONITOR
	// does not show it; the counters still count it as failed
	// (docs/monitoring.md, rejected_calls).
	oom bool
}

// refusal is how a request was refused before it ran.
type refusal uint8

const (
	notRefused refusal = iota
	// refusedCmd: cmd (or sub) was refused, Redis's rejected_calls.
	refusedCmd
	// refusedUnknownSub: argv[1] names no subcommand of cmd. Redis counts
	// such a request under no command, only in errorstats.
	refusedUnknownSub
)

// name returns the command's lower-case name for error messages.
func (c *cmdCtx) name() string { return c.cmd.name }
