package server

import (
	"github.com/ringdb/ringdb/transport/binproto"
)

// Flag sets used by the table.
const (
	fRead      = flagRead | flagFast
	fWrite     = flagWrite | flagDenyOOM | flagFast
	fWriteNoOM = flagWrite | flagFast
	fConn      = flagLoose | flagFast
)

// commandList returns the command table for cfg. Each entry names its RESP
// command, its binary opcode, or both.
func commandList(cfg Config) []*command {
	cmds := []*command{
		// Connection.
		{name: "ping", op: binproto.OpPing, arity: -1, binMin: 0, binMax: 1, flags: fConn, group: "connection", summary: "Return PONG, or the message given", resp: cmdPing, bin: binPing},
		{name: "echo", arity: 2, flags: fConn, group: "connection", summary: "Return the message given", resp: cmdEcho},
		{name: "hello", op: binproto.OpHello, arity: -1, binMin: 0, binMax: -1, flags: fConn | flagNoAuth, group: "connection", summary: "Handshake: protocol version, authentication, client name", resp: cmdHello, bin: binHello},
		{name: "auth", arity: -2, flags: fConn | flagNoAuth, group: "connection", summary: "Authenticate the connection", resp: cmdAuth},
		{name: "quit", arity: -1, flags: fConn | flagNoAuth | flagTxCtl, group: "connection", summary: "Close the connection", resp: cmdQuit},
		{name: "select", arity: 2, flags: fConn, group: "connection", summary: "Select the database (only 0 exists)", resp: cmdSelect},
		{name: "reset", arity: 1, flags: fConn | flagNoAuth | flagTxCtl, group: "connection", summary: "Reset the connection", resp: cmdReset},
		{name: "client", arity: -2, flags: flagLoose, group: "connection", summary: "Client connection commands", resp: cmdClient, subs: clientSubs},

		// Server.
		{name: "command", arity: -1, flags: flagLoose, group: "server", summary: "Describe the commands", resp: cmdCommand, subs: commandSubs},
		{name: "config", arity: -2, group: "server", summary: "Read and change settings", resp: cmdConfig, subs: configSubs},
		{name: "info", arity: -1, flags: flagLoose, group: "server", summary: "Server information and statistics", resp: cmdInfo},
		{name: "dbsize", op: binproto.OpDBSize, arity: 1, flags: fRead, group: "server", summary: "Number of keys", resp: cmdDBSize, bin: binDBSize},
		{name: "flushdb", arity: -1, flags: flagWrite, group: "server", summary: "Remove every key", resp: cmdFlush},
		{name: "flushall", op: binproto.OpFlushAll, arity: -1, flags: flagWrite, group: "server", summary: "Remove every key", resp: cmdFlush, bin: binFlushAll},
		{name: "latency", arity: -2, group: "server", summary: "Latency monitor (off: empty replies)", resp: cmdLatency, subs: latencySubs},
		{name: "slowlog", arity: -2, group: "server", summary: "Read or reset the log of slow commands", resp: cmdSlowlog, subs: slowlogSubs},
		{name: "memory", arity: -2, group: "server", summary: "Memory use of keys and of the server", resp: cmdMemory, subs: memorySubs},
		{name: "shutdown", arity: -1, flags: flagAdmin | flagNoMulti, group: "server", summary: "Stop the server gracefully", resp: cmdShutdown},
		{name: "monitor", arity: 1, flags: flagAdmin, group: "server", summary: "Listen for all requests received by the server in real time", resp: cmdMonitor},
		{name: "role", arity: 1, flags: fConn, group: "server", summary: "The role of the instance in replication: a primary without replicas", resp: cmdRole},
		{name: "lastsave", arity: 1, flags: fConn, group: "server", summary: "Unix time of the last save: the start time, as nothing is saved", resp: cmdLastSave},
		{name: "time", arity: 1, flags: fConn, group: "server", summary: "Server time", resp: cmdTime},
		{name: "stats", op: binproto.OpStats, flags: flagLoose, group: "server", bin: binStats},
		{name: "digest", op: binproto.OpDigest, flags: flagRead, group: "server", bin: binDigest},

		// Strings.
		{name: "get", op: binproto.OpGet, arity: 2, binMin: 1, binMax: 1, flags: fRead, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Get the value of a key", resp: cmdGet, bin: binGet},
		{name: "set", op: binproto.OpSet, arity: -3, binMin: 2, binMax: 4, flags: fWrite&^flagFast | flagO1, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Set the value of a key, with options", resp: cmdSet, bin: binSet},
		{name: "setnx", arity: 3, flags: fWrite, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Set a key only if it does not exist", resp: cmdSetNX},
		{name: "setex", arity: 4, flags: fWrite&^flagFast | flagO1, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Set a key with a TTL in seconds", resp: cmdSetEx},
		{name: "psetex", arity: 4, flags: fWrite&^flagFast | flagO1, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Set a key with a TTL in milliseconds", resp: cmdSetEx},
		{name: "getset", arity: 3, flags: fWrite, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Set a key and return its old value", resp: cmdGetSet},
		{name: "getdel", op: binproto.OpGetDel, arity: 2, binMin: 1, binMax: 1, flags: fWriteNoOM, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Get the value of a key and delete it", resp: cmdGetDel, bin: binGetDel},
		{name: "getex", op: binproto.OpGetEx, arity: -2, binMin: 1, binMax: 3, flags: fWriteNoOM, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Get the value of a key and change its TTL", resp: cmdGetEx, bin: binGetEx},
		{name: "mget", op: binproto.OpMGet, arity: -2, binMin: 1, binMax: -1, flags: fRead, firstKey: 1, lastKey: -1, step: 1, group: "string", summary: "Get the values of several keys", resp: cmdMGet, bin: binMGet},
		{name: "mset", op: binproto.OpMSet, arity: -3, binMin: 2, binMax: -1, flags: fWrite &^ flagFast, firstKey: 1, lastKey: -1, step: 2, group: "string", summary: "Set several keys", resp: cmdMSet, bin: binMSet},
		{name: "msetnx", arity: -3, flags: fWrite &^ flagFast, firstKey: 1, lastKey: -1, step: 2, group: "string", summary: "Set several keys only if none exists", resp: cmdMSetNX},
		{name: "incr", arity: 2, flags: fWrite, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Increment an integer by one", resp: cmdIncr},
		{name: "decr", arity: 2, flags: fWrite, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Decrement an integer by one", resp: cmdDecr},
		{name: "incrby", op: binproto.OpIncrBy, arity: 3, binMin: 2, binMax: 2, flags: fWrite, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Increment an integer", resp: cmdIncrBy, bin: binIncrBy},
		{name: "decrby", arity: 3, flags: fWrite, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Decrement an integer", resp: cmdDecrBy},
		{name: "append", op: binproto.OpAppend, arity: 3, binMin: 2, binMax: 2, flags: fWrite, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Append to the value of a key", resp: cmdAppend, bin: binAppend},
		{name: "incrbyfloat", arity: 3, flags: fWrite, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Increment a floating-point number", resp: cmdIncrByFloat},
		{name: "getrange", arity: 4, flags: flagRead, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Get a substring of the value of a key", resp: cmdGetRange},
		{name: "substr", arity: 4, flags: flagRead, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Get a substring of the value of a key (GETRANGE's old name)", resp: cmdGetRange},
		{name: "setrange", arity: 4, flags: fWrite &^ flagFast, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Overwrite part of the value of a key from an offset", resp: cmdSetRange},
		{name: "strlen", arity: 2, flags: fRead, firstKey: 1, lastKey: 1, step: 1, group: "string", summary: "Length of the value of a key", resp: cmdStrLen},

		// Transactions (cmd_tx.go).
		{name: "multi", arity: 1, flags: fConn | flagTxCtl, group: "transactions", summary: "Start a transaction", resp: cmdMulti},
		{name: "exec", arity: 1, flags: flagLoose | flagTxCtl, group: "transactions", summary: "Run the commands queued since MULTI", resp: cmdExec},
		{name: "discard", arity: 1, flags: fConn | flagTxCtl, group: "transactions", summary: "Drop the commands queued since MULTI", resp: cmdDiscard},
		{name: "watch", arity: -2, flags: fConn | flagTxCtl, firstKey: 1, lastKey: -1, step: 1, group: "transactions", summary: "Make EXEC run only if the keys have not changed", resp: cmdWatch},
		{name: "unwatch", arity: 1, flags: fConn, group: "transactions", summary: "Forget the watched keys", resp: cmdUnwatch},

		// Keys.
		{name: "del", op: binproto.OpDel, arity: -2, binMin: 1, binMax: -1, flags: flagWrite, firstKey: 1, lastKey: -1, step: 1, group: "generic", summary: "Delete keys", resp: cmdDel, bin: binDel},
		{name: "unlink", arity: -2, flags: fWriteNoOM, firstKey: 1, lastKey: -1, step: 1, group: "generic", summary: "Delete keys", resp: cmdDel},
		{name: "exists", op: binproto.OpExists, arity: -2, binMin: 1, binMax: -1, flags: fRead, firstKey: 1, lastKey: -1, step: 1, group: "generic", summary: "Count the keys that exist", resp: cmdExists, bin: binExists},
		{name: "type", arity: 2, flags: fRead, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Type of the value of a key", resp: cmdType},
		{name: "expire", op: binproto.OpExpire, arity: -3, binMin: 2, binMax: 3, flags: fWriteNoOM, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Set a TTL in seconds", resp: cmdExpire, bin: binExpire},
		{name: "pexpire", op: binproto.OpPExpire, arity: -3, binMin: 2, binMax: 3, flags: fWriteNoOM, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Set a TTL in milliseconds", resp: cmdExpire, bin: binExpire},
		{name: "expireat", op: binproto.OpExpireAt, arity: -3, binMin: 2, binMax: 3, flags: fWriteNoOM, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Set a deadline in unix seconds", resp: cmdExpire, bin: binExpire},
		{name: "pexpireat", op: binproto.OpPExpireAt, arity: -3, binMin: 2, binMax: 3, flags: fWriteNoOM, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Set a deadline in unix milliseconds", resp: cmdExpire, bin: binExpire},
		{name: "ttl", op: binproto.OpTTL, arity: 2, binMin: 1, binMax: 1, flags: fRead, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Seconds left to live", resp: cmdTTL, bin: binTTL},
		{name: "pttl", op: binproto.OpPTTL, arity: 2, binMin: 1, binMax: 1, flags: fRead, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Milliseconds left to live", resp: cmdPTTL, bin: binPTTL},
		{name: "expiretime", arity: 2, flags: fRead, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Deadline in unix seconds", resp: cmdExpireTime},
		{name: "pexpiretime", arity: 2, flags: fRead, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Deadline in unix milliseconds", resp: cmdPExpireTime},
		{name: "persist", op: binproto.OpPersist, arity: 2, binMin: 1, binMax: 1, flags: fWriteNoOM, firstKey: 1, lastKey: 1, step: 1, group: "generic", summary: "Remove the TTL of a key", resp: cmdPersist, bin: binPersist},
		{name: "rename", arity: 3, op: binproto.OpRename, binMin: 2, binMax: 2, flags: flagWrite, firstKey: 1, lastKey: 2, step: 1, group: "generic", summary: "Rename a key", resp: cmdRename, bin: binRename},
		{name: "renamenx", arity: 3, flags: fWriteNoOM, firstKey: 1, lastKey: 2, step: 1, group: "generic", summary: "Rename a key only if the new name does not exist", resp: cmdRenameNX},
		{name: "copy", arity: -3, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 2, step: 1, group: "generic", summary: "Copy the value and TTL of a key to another key", resp: cmdCopy},
		{name: "touch", arity: -2, flags: fRead, firstKey: 1, lastKey: -1, step: 1, group: "generic", summary: "Count the keys that exist and mark them as used", resp: cmdTouch},
		{name: "object", arity: -2, group: "generic", summary: "Inspect how a key is stored", resp: cmdObject, subs: objectSubs},
		{name: "keys", arity: 2, flags: flagRead, group: "generic", summary: "Keys matching a pattern", resp: cmdKeys},
		{name: "scan", op: binproto.OpScan, arity: -2, binMin: 1, binMax: 3, flags: flagRead, group: "generic", summary: "Iterate the keys", resp: cmdScan, bin: binScan},
		{name: "randomkey", arity: 1, flags: flagRead, group: "generic", summary: "A random key", resp: cmdRandomKey},
		{name: "wait", arity: 3, flags: flagLoose, group: "generic", summary: "Wait for replicas to acknowledge the connection's writes (there are none yet: 0)", resp: cmdWait},
	}
	if cfg.EnableDebugCommands {
		cmds = append(cmds, &command{name: "debug.panic", arity: 1, flags: flagAdmin, group: "server", summary: "Test only: panic, as a bug in a command would", resp: func(*cmdCtx) { panic("debug.panic") }})
		cmds = append(cmds, &command{name: "debug.sleepreply", arity: 2, flags: flagBlocking, group: "server", summary: "Test only: reply +OK after the given milliseconds, parking the request", resp: cmdDebugSleepReply})
	}
	return cmds
}
