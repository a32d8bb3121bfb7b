package binproto

import "strconv"

// Opcode identifies a request's command, or the kind of a push frame.
// A reply echoes its request's opcode.
type Opcode uint16

// Opcodes of protocol version 1 (docs/PROTOCOL.md, "Opcodes"). Each comment
// gives the arguments and the successful reply; any request may also be
// answered with an ERROR value.
const (
	OpHello Opcode = 0x0001 // INT min_version, INT max_version, BYTES|NULL name, BYTES|NULL token → MAP
	OpPing  Opcode = 0x0002 // [BYTES message] → OK or BYTES

	OpGet    Opcode = 0x0010 // BYTES key → BYTES or NULL
	OpSet    Opcode = 0x0011 // BYTES key, BYTES value [, INT mode [, INT expiry]] → OK, NULL or BYTES
	OpGetDel Opcode = 0x0012 // BYTES key → BYTES or NULL
	OpGetEx  Opcode = 0x0013 // BYTES key [, INT mode [, INT expiry]] → BYTES or NULL
	OpMGet   Opcode = 0x0014 // BYTES key... → ARRAY of BYTES or NULL
	OpMSet   Opcode = 0x0015 // (BYTES key, BYTES value)... → OK
	OpIncrBy Opcode = 0x0016 // BYTES key, INT delta → INT
	OpAppend Opcode = 0x0017 // BYTES key, BYTES value → INT length

	OpDel       Opcode = 0x0020 // BYTES key... → INT removed
	OpExists    Opcode = 0x0021 // BYTES key... → INT count
	OpRename    Opcode = 0x0022 // BYTES src, BYTES dst → OK
	OpExpire    Opcode = 0x0023 // BYTES key, INT seconds [, INT cond] → INT 1 or 0
	OpPExpire   Opcode = 0x0024 // BYTES key, INT milliseconds [, INT cond] → INT 1 or 0
	OpExpireAt  Opcode = 0x0025 // BYTES key, INT unix seconds [, INT cond] → INT 1 or 0
	OpPExpireAt Opcode = 0x0026 // BYTES key, INT unix milliseconds [, INT cond] → INT 1 or 0
	OpTTL       Opcode = 0x0027 // BYTES key → INT seconds, -1 no TTL, -2 missing
	OpPTTL      Opcode = 0x0028 // BYTES key → INT milliseconds, -1 no TTL, -2 missing
	OpPersist   Opcode = 0x0029 // BYTES key → INT 1 or 0
	OpScan      Opcode = 0x002A // INT cursor [, BYTES|NULL pattern [, INT count]] → ARRAY [INT cursor, ARRAY of BYTES]

	OpDBSize   Opcode = 0x0030 // → INT keys
	OpFlushAll Opcode = 0x0031 // → OK
	OpStats    Opcode = 0x0032 // → MAP of BYTES name → INT
	OpDigest   Opcode = 0x0033 // → INT (64-bit digest)
)

// Push kinds: the opcode of a push frame (FlagPush, id 0).
const (
	// OpMessage carries a pub/sub message: ARRAY [channel, payload].
	OpMessage Opcode = 0x8001
	// OpPMessage carries a pattern-matched pub/sub message:
	// ARRAY [pattern, channel, payload].
	OpPMessage Opcode = 0x8002
	// OpInvalidate tells a caching client that keys changed:
	// ARRAY [key...], or NULL for "everything".
	OpInvalidate Opcode = 0x8003
	// OpDisconnect carries the ERROR value that explains why the server is
	// about to close the connection.
	OpDisconnect Opcode = 0x80FF
)

var opNames = map[Opcode]string{
	OpHello: "HELLO", OpPing: "PING",
	OpGet: "GET", OpSet: "SET", OpGetDel: "GETDEL", OpGetEx: "GETEX",
	OpMGet: "MGET", OpMSet: "MSET", OpIncrBy: "INCRBY", OpAppend: "APPEND",
	OpDel: "DEL", OpExists: "EXISTS", OpRename: "RENAME",
	OpExpire: "EXPIRE", OpPExpire: "PEXPIRE", OpExpireAt: "EXPIREAT", OpPExpireAt: "PEXPIREAT",
	OpTTL: "TTL", OpPTTL: "PTTL", OpPersist: "PERSIST", OpScan: "SCAN",
	OpDBSize: "DBSIZE", OpFlushAll: "FLUSHALL", OpStats: "STATS", OpDigest: "DIGEST",
	OpMessage: "MESSAGE", OpPMessage: "PMESSAGE", OpInvalidate: "INVALIDATE", OpDisconnect: "DISCONNECT",
}

// String returns the command or push-kind name, such as "GET", or
// "Opcode(0x1234)" for an opcode version 1 does not define.
func (op Opcode) String() string {
	if s, ok := opNames[op]; ok {
		return s
	}
	return "Opcode(0x" + strconv.FormatUint(uint64(op)|0x10000, 16)[1:] + ")"
}

// Known reports whether version 1 defines op.
func (op Opcode) Known() bool {
	_, ok := opNames[op]
	return ok
}

// Option bits of SET's mode argument and GETEX's mode argument.
const (
	SetNX      = 0x01 // SET only if the key does not exist
	SetXX      = 0x02 // SET only if the key exists
	SetGet     = 0x04 // SET replies with the previous value
	SetKeepTTL = 0x08 // SET keeps the key's TTL
	ExpPX      = 0x10 // the expiry argument is a relative TTL in milliseconds
	ExpPXAt    = 0x20 // the expiry argument is an absolute unix time in milliseconds
	ExpPersist = 0x40 // GETEX removes the TTL
)

// Conditions of the EXPIRE family's optional cond argument.
const (
	CondAlways = 0 // set the TTL unconditionally
	CondNX     = 1 // only if the key has no TTL
	CondXX     = 2 // only if the key has a TTL
	CondGT     = 3 // only if the new TTL is greater (no TTL counts as infinite)
	CondLT     = 4 // only if the new TTL is less
)
