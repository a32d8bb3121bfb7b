package server

import (
	"math"
	"strconv"
	"time"

	"github.com/ringdb/ringdb/core"
)

// Shared implementations.

// replyDel deletes the keys and writes how many existed.
func (c *cmdCtx) replyDel(keys [][]byte) {
	var n int64
	for _, k := range keys {
		if c.srv.ks.Delete(k) {
			c.touch(k)
			n++
		}
	}
	c.w.Int(n)
}

// replyExists writes how many of keys exist, a repeated key counting each
// time.
func (c *cmdCtx) replyExists(keys [][]byte) {
	var n int64
	for _, k := range keys {
		if c.srv.ks.Exists(k) {
			n++
		}
	}
	c.w.Int(n)
}

// replyRename renames src to dst and writes OK.
func (c *cmdCtx) replyRename(src, dst []byte) {
	if err := c.srv.ks.Rename(src, dst); err != nil {
		c.coreErr(err)
		return
	}
	c.touchRenamed(src, dst)
	c.w.OK()
}

// expireKind tells the EXPIRE family apart.
type expireKind uint8

const (
	expireSeconds   expireKind = iota // EXPIRE: relative seconds
	expireMillis                      // PEXPIRE: relative milliseconds
	expireAtSeconds                   // EXPIREAT: unix seconds
	expireAtMillis                    // PEXPIREAT: unix milliseconds
)

// replyExpire sets key's TTL as kind says and writes 1 or 0.
func (c *cmdCtx) replyExpire(kind expireKind, key []byte, when int64, cond core.ExpireCond) {
	var ok bool
	var err error
	ks := c.srv.ks
	switch kind {
	case expireSeconds:
		ok, err = ks.Expire(key, when, cond)
	case expireMillis:
		ok, err = ks.PExpire(key, when, cond)
	case expireAtSeconds:
		ok, err = ks.ExpireAt(key, when, cond)
	default:
		ok, err = ks.PExpireAt(key, when, cond)
	}
	if err != nil {
		c.coreErr(err)
		return
	}
	if ok {
		c.touch(key) // set (the same deadline too) or deleted
	}
	c.w.Int(b2i(ok))
}

// touchRenamed touches both keys of a RENAME that moved src to dst; one
// of a key to itself changes nothing.
func (c *cmdCtx) touchRenamed(src, dst []byte) {
	if string(src) != string(dst) {
		c.touch(src)
		c.touch(dst)
	}
}

// replyPersist removes key's TTL and writes 1, or 0 when it had none.
func (c *cmdCtx) replyPersist(key []byte) {
	ok, err := c.srv.ks.Persist(key)
	if err != nil {
		c.coreErr(err)
		return
	}
	if ok {
		c.touch(key)
	}
	c.w.Int(b2i(ok))
}

// replyFlush empties the keyspace (FLUSHALL, FLUSHDB) and writes OK. The
// watchers of the keys it removes are touched first
// (watchRegistry.touchExisting).
func (c *cmdCtx) replyFlush() {
	c.srv.watch.touchExisting(c.srv.ks)
	for _, n := range c.execLent {
		c.w.HoldDetached(n) // the values EXEC's reply lent go with the rest
	}
	clear(c.execLent)
	c.srv.ks.Flush()
	c.w.OK()
}

// scanStep is the most keys replyScan examines between two looks at the
// size of what it has gathered.
const scanStep = 1024

// replyScan runs one SCAN step and writes [cursor, [key ...]]. The cursor
// is a bulk string in RESP (as Redis sends it) and an INT in the binary
// protocol.
//
// The keys are gathered before the reply is written (the cursor comes
// first), in steps of scanStep, and the step stops once they take half
// the output hard limit: SCAN may return fewer keys than COUNT, and the
// next call goes on from the cursor. Gathering all COUNT keys at once, a
// SCAN 0 COUNT 1000000 of a keyspace of long keys copied every key before
// its reply, over the hard limit, was dropped: 10 clients sending two
// each over a keyspace of 5000 keys of 60 KB took the server from 313 MB
// to 6.2 GB RSS, and got an error, never a cursor to go on from.
func (c *cmdCtx) replyScan(cursor uint64, match []byte, count int) {
	hard, _, _ := c.srv.outputLimits()
	budget := hard / 2
	keys, next := c.sess.keys[:0], cursor
	var size int64
	for left := max(count, 1); ; {
		step := min(left, scanStep)
		n := len(keys)
		keys, next = c.srv.ks.Scan(next, match, step, keys)
		for _, k := range keys[n:] {
			size += int64(len(k)) + 32 // its header in the reply, and its slice here
		}
		left -= step
		if next == 0 || left <= 0 || budget > 0 && size >= budget {
			break
		}
	}
	c.w.Array(2)
	if c.bin {
		c.w.Int(int64(next))
	} else {
		var num [20]byte
		c.w.Bulk(strconv.AppendUint(num[:0], next, 10))
	}
	c.w.Array(len(keys))
	for _, k := range keys {
		c.w.Bulk(k)
	}
	c.sess.keepKeys(keys)
}

// RESP handlers.

func cmdDel(c *cmdCtx)    { c.replyDel(c.argv[1:]) }
func cmdExists(c *cmdCtx) { c.replyExists(c.argv[1:]) }

// cmdType is TYPE key: every value is a string.
func cmdType(c *cmdCtx) {
	if c.srv.ks.Exists(c.argv[1]) {
		c.w.Simple("string")
	} else {
		c.w.Simple("none")
	}
}

// expireCmdKind maps the EXPIRE family's names to their kind.
func expireCmdKind(name string) expireKind {
	switch name {
	case "pexpire":
		return expireMillis
	case "expireat":
		return expireAtSeconds
	case "pexpireat":
		return expireAtMillis
	}
	return expireSeconds
}

// cmdExpire is EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT key time
// [NX|XX|GT|LT], checking options before the time as Redis does.
func cmdExpire(c *cmdCtx) {
	var nx, xx, gt, lt bool
	for _, opt := range c.argv[3:] {
		switch {
		case eqFold(opt, "nx"):
			nx = true
		case eqFold(opt, "xx"):
			xx = true
		case eqFold(opt, "gt"):
			gt = true
		case eqFold(opt, "lt"):
			lt = true
		default:
			c.errReply("Unsupported option " + clip(string(opt), len(opt)))
			return
		}
	}
	if nx && (xx || gt || lt) {
		c.errReply("NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if gt && lt {
		c.errReply("GT and LT options at the same time are not compatible")
		return
	}
	cond := core.ExpireAlways
	switch {
	case nx:
		cond = core.ExpireNX
	case gt:
		cond = core.ExpireGT
	case lt:
		cond = core.ExpireLT
	}
	// XX combines with GT or LT; both need an existing TTL, which GT
	// already requires and LT then adds.
	if xx && !gt && !lt {
		cond = core.ExpireXX
	}
	when, ok := parseInt(c.argv[2])
	if !ok {
		c.notInteger()
		return
	}
	kind := expireCmdKind(c.cmd.name)
	if !expireInRange(kind, when) {
		c.invalidExpire()
		return
	}
	if xx && lt && keyWithoutTTL(c.srv.ks, c.argv[1]) {
		c.w.Int(0) // XX: the key must have a TTL; LT alone would set one
		return
	}
	c.replyExpire(kind, c.argv[1], when, cond)
}

// expireInRange reports whether when, converted to an absolute deadline in
// milliseconds, fits an int64 (Redis's check in expireGenericCommand).
func expireInRange(kind expireKind, when int64) bool {
	if kind == expireSeconds || kind == expireAtSeconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			return false
		}
		when *= 1000
	}
	if kind == expireSeconds || kind == expireMillis {
		return when <= math.MaxInt64-time.Now().UnixMilli()
	}
	return true
}

func cmdTTL(c *cmdCtx)     { c.w.Int(c.srv.ks.TTL(c.argv[1])) }
func cmdPTTL(c *cmdCtx)    { c.w.Int(c.srv.ks.PTTL(c.argv[1])) }
func cmdPersist(c *cmdCtx) { c.replyPersist(c.argv[1]) }

// cmdExpireTime is EXPIRETIME key: the deadline in unix seconds, rounded
// as Redis rounds it.
func cmdExpireTime(c *cmdCtx) {
	t := c.srv.ks.PExpireTime(c.argv[1])
	if t > 0 {
		// (t+500)/1000 without the overflow near math.MaxInt64, which
		// PEXPIREAT and SET PXAT accept.
		r := t % 1000
		t /= 1000
		if r >= 500 {
			t++
		}
	}
	c.w.Int(t)
}

func cmdPExpireTime(c *cmdCtx) { c.w.Int(c.srv.ks.PExpireTime(c.argv[1])) }

func cmdRename(c *cmdCtx) { c.replyRename(c.argv[1], c.argv[2]) }

// cmdRenameNX is RENAMENX key newkey: 1 when it renamed, 0 when newkey
// exists (or is key itself), ERR no such key when key does not exist.
func cmdRenameNX(c *cmdCtx) {
	ok, err := c.srv.ks.RenameNX(c.argv[1], c.argv[2])
	if err != nil {
		c.coreErr(err)
		return
	}
	if ok {
		c.touchRenamed(c.argv[1], c.argv[2])
	}
	c.w.Int(b2i(ok))
}

// cmdCopy is COPY source destination [DB destination-db] [REPLACE]: 1
// when it copied the value and its TTL, 0 when source does not exist or
// destination does (without REPLACE). Options are read in order, as Redis
// reads them. Only database 0 exists: DB 0 is accepted and any other
// index gets SELECT's answer (where Redis, with 16 databases, would copy
// into another one).
func cmdCopy(c *cmdCtx) {
	argv := c.argv
	replace := false
	for j := 3; j < len(argv); j++ {
		switch {
		case eqFold(argv[j], "replace"):
			replace = true
		case eqFold(argv[j], "db") && j+1 < len(argv):
			db, ok := parseInt(argv[j+1])
			switch {
			case !ok:
				c.notInteger()
				return
			case db < math.MinInt32 || db > math.MaxInt32:
				c.errReply(msgIntRange) // Redis reads the index as a C int
				return
			case db != 0:
				c.errReply(msgDBRange)
				return
			}
			j++
		default:
			c.syntaxErr()
			return
		}
	}
	ok, err := c.srv.ks.Copy(argv[1], argv[2], replace)
	if err != nil {
		c.coreErr(err)
		return
	}
	if ok {
		c.touch(argv[2])
	}
	c.w.Int(b2i(ok))
}

// cmdTouch is TOUCH key [key ...]: how many of the keys exist, each
// marked as read for eviction.
func cmdTouch(c *cmdCtx) { c.w.Int(int64(c.srv.ks.Touch(c.argv[1:]...))) }

// cmdKeys is KEYS pattern. The keys go straight into the reply, which
// the output hard limit bounds (Writer.Dropped), and its length is put in
// front of them at the end: gathering them first, with a set to drop the
// duplicates a SCAN may return while tables resize, cost KEYS of 10M keys
// over a gigabyte besides the reply.
func cmdKeys(c *cmdCtx) {
	mark, n := len(c.w.Bytes()), 0
	c.srv.ks.Keys(c.argv[1], func(key []byte) bool {
		c.w.Bulk(key)
		n++
		return !c.w.Dropped()
	})
	c.w.InsertArray(mark, n)
}

// cmdScan is SCAN cursor [MATCH pattern] [COUNT count] [TYPE type].
func cmdScan(c *cmdCtx) {
	argv := c.argv
	cursor, ok := parseCursor(argv[1])
	if !ok {
		c.errReply(msgInvalidCursor)
		return
	}
	var match []byte
	count := 10
	onlyStrings := true
	for i := 2; i < len(argv); i += 2 {
		if i+1 >= len(argv) {
			c.syntaxErr()
			return
		}
		switch opt, val := argv[i], argv[i+1]; {
		case eqFold(opt, "count"):
			n, ok := parseInt(val)
			if !ok {
				c.notInteger()
				return
			}
			if n < 1 {
				c.syntaxErr()
				return
			}
			count = int(min(n, 1<<20))
		case eqFold(opt, "match"):
			match = val
		case eqFold(opt, "type"):
			onlyStrings = eqFold(val, "string")
		default:
			c.syntaxErr()
			return
		}
	}
	if !onlyStrings {
		// Every key is a string: no key of another type will ever match.
		c.w.Array(2)
		c.w.BulkString("0")
		c.w.Array(0)
		return
	}
	c.replyScan(cursor, match, count)
}

// cmdRandomKey is RANDOMKEY: a random key, or null when the keyspace is
// empty.
func cmdRandomKey(c *cmdCtx) {
	k, ok := c.srv.ks.RandomKey(c.sess.buf[:0])
	if ok {
		c.w.Bulk(k)
	} else {
		c.w.Null()
	}
	c.sess.keepBuf(k)
}

// keyWithoutTTL reports whether key exists with no TTL, without counting a
// keyspace hit or miss (EXPIRE looks the key up to write it).
func keyWithoutTTL(ks *core.Keyspace, key []byte) bool {
	exists, at := ks.Meta(key)
	return exists && at == -1
}

// parseCursor reads a SCAN cursor as Redis does, with strtoul in base 10:
// an optional sign ("-1" wraps to the largest cursor) and digits, or an
// empty string for 0; anything else, and a value past 64 bits, is invalid.
func parseCursor(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	i, neg := 0, false
	if b[0] == '+' || b[0] == '-' {
		i, neg = 1, b[0] == '-'
		if len(b) == 1 {
			return 0, false
		}
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}
