package server

import (
	"errors"
	"math"

	"github.com/ringdb/ringdb/core"
)

// Shared implementations: each takes parsed arguments and writes the reply,
// so the RESP and binary handlers differ only in how they parse.

// replyGet writes key's value, or null.
//
// A large value is written by reference (Writer.BulkRef): from the
// keyspace's memory to the network, with no copy of it held meanwhile.
func (c *cmdCtx) replyGet(key []byte) {
	v, ref, ok := c.srv.ks.GetRef(c.sess.buf[:0], key)
	if ref.Held() {
		c.lent(key, len(v))
	}
	c.replyValue(v, ref, ok)
}

// replySet runs SET with its options and writes Redis's reply: the
// previous value (or null) with GET, otherwise OK, or null when NX/XX
// prevented the write.
//
// With GET, a large previous value is written by reference, as GET writes
// it.
func (c *cmdCtx) replySet(key, val []byte, o core.SetOptions) {
	res, err := c.srv.ks.SetOptRef(c.sess.buf[:0], key, val, o)
	if err == nil && res.Written {
		c.touch(key) // the same value too; not when NX or XX held it back
	}
	switch {
	case err != nil:
		c.coreErr(err)
	case o.Get && res.PrevRef.Held():
		n := len(res.Prev)
		c.w.BulkRef(res.Prev, res.PrevRef)
		c.lentDetached(n)
		return // res.Prev is the keyspace's, not the session's scratch
	case o.Get && res.HadPrev:
		c.w.Bulk(res.Prev)
	case o.Get || !res.Written:
		c.w.Null()
	default:
		c.w.OK()
	}
	c.sess.keepBuf(res.Prev)
}

// replyGetDel runs GETDEL and writes the value or null; a large value
// by reference, as GET does.
func (c *cmdCtx) replyGetDel(key []byte) {
	v, ref, ok := c.srv.ks.GetDelRef(c.sess.buf[:0], key)
	if ok {
		c.touch(key)
	}
	held, n := ref.Held(), len(v)
	c.replyValue(v, ref, ok)
	if held {
		c.lentDetached(n)
	}
}

// replyValue writes v, read into the session's scratch or lent (ref), or
// null when not found.
func (c *cmdCtx) replyValue(v []byte, ref core.ValueRef, found bool) {
	switch {
	case ref.Held():
		c.w.BulkRef(v, ref)
		return // v is the keyspace's, not the session's scratch
	case found:
		c.w.Bulk(v)
	default:
		c.w.Null()
	}
	c.sess.keepBuf(v)
}

// replyGetEx runs GETEX and writes the value or null; a large value by
// reference, as GET does.
func (c *cmdCtx) replyGetEx(key []byte, o core.GetExOptions) {
	v, ref, ok, changed, err := c.srv.ks.GetExRef(c.sess.buf[:0], key, o)
	if err != nil {
		c.coreErr(err)
		if ref.Held() {
			ref.Release()
		} else {
			c.sess.keepBuf(v)
		}
		return
	}
	// Redis touches an existing key given a deadline, its own included,
	// but PERSIST only when it removed a TTL.
	if ok && (o.TTL != 0 || o.ExpireAt != 0 || changed) {
		c.touch(key)
	}
	if ref.Held() {
		c.lent(key, len(v))
	}
	c.replyValue(v, ref, ok)
}

// replyMGet writes an array with one value or null per key. A large value
// is written by reference, as GET writes it: built in memory, a reply
// naming a 50 MB key 16 times held 800 MB several times over, even for a
// client that had asked for no reply (CLIENT REPLY OFF).
func (c *cmdCtx) replyMGet(keys [][]byte) {
	c.w.Array(len(keys))
	buf := c.sess.buf[:0]
	for _, key := range keys {
		v, ref, ok := c.srv.ks.GetRef(buf, key)
		switch {
		case ref.Held():
			c.lent(key, len(v))
			c.w.BulkRef(v, ref)
			continue // v is the keyspace's, not the session's scratch
		case ok:
			c.w.Bulk(v)
		default:
			c.w.Null()
		}
		buf = v[:0]
	}
	c.sess.keepBuf(buf)
}

// replyIncrBy adds delta and writes the new value.
func (c *cmdCtx) replyIncrBy(key []byte, delta int64) {
	n, err := c.srv.ks.IncrBy(key, delta)
	if err != nil {
		c.coreErr(err)
		return
	}
	c.touch(key) // INCRBY 0 too
	c.w.Int(n)
}

// replyAppend appends and writes the new length.
//
// Over RESP, a result over the value limit gets Redis's error for it, as
// SETRANGE's does; binary clients get the LIMIT class.
func (c *cmdCtx) replyAppend(key, val []byte) {
	n, err := c.srv.ks.Append(key, val)
	if err == nil {
		c.touch(key) // an empty value too, as Redis
	}
	switch {
	case err != nil && !c.bin && errors.Is(err, core.ErrValueTooLarge):
		c.errReply(msgStringTooLong)
	case err != nil:
		c.coreErr(err)
	default:
		c.w.Int(int64(n))
	}
}

// replyMSet stores the pairs and writes OK.
func (c *cmdCtx) replyMSet(pairs [][]byte) {
	err := c.srv.ks.MSet(pairs...)
	// Touched even when it failed for memory, which can leave it
	// part-applied; not when a key or a value over its limit refused it
	// before it wrote anything, as a command that changes nothing
	// aborts no transaction watching its keys.
	var le *core.LimitError
	if !errors.As(err, &le) {
		c.touchPairs(pairs)
	}
	if err != nil {
		c.coreErr(err)
		return
	}
	c.w.OK()
}

// RESP handlers.

func cmdGet(c *cmdCtx) { c.replyGet(c.argv[1]) }

// expireArg is a parsed EX/PX/EXAT/PXAT option of SET or GETEX.
type expireArg struct {
	unit    byte   // 0 none, 'e' EX, 'p' PX, 'E' EXAT, 'P' PXAT
	arg     []byte // the option's argument
	persist bool   // GETEX PERSIST
	keepTTL bool   // SET KEEPTTL
}

// millis validates the expiry argument as Redis's
// getExpireMillisecondsOrReply does and returns it in milliseconds:
// relative for EX/PX, absolute for EXAT/PXAT. It writes the error itself.
func (e *expireArg) millis(c *cmdCtx) (int64, bool) {
	ms, ok := parseInt(e.arg)
	if !ok {
		c.notInteger()
		return 0, false
	}
	seconds := e.unit == 'e' || e.unit == 'E'
	if ms <= 0 || seconds && ms > math.MaxInt64/1000 {
		c.invalidExpire()
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	return ms, true
}

// setOptions applies e to o.
func (e *expireArg) setOptions(o *core.SetOptions, ms int64) {
	switch e.unit {
	case 'e', 'p':
		o.TTL = ms
	case 'E', 'P':
		o.ExpireAt = ms
	}
	o.KeepTTL = e.keepTTL
}

// parseExpireOpt tries to read EX/PX/EXAT/PXAT at argv[j], following
// Redis's parseExtendedStringArgumentsOrReply: each is refused when another
// expiry option (or KEEPTTL/PERSIST) came before it or no argument follows.
// It reports whether it consumed argv[j] and argv[j+1].
func (e *expireArg) parseExpireOpt(argv [][]byte, j int) bool {
	opt := argv[j]
	var unit byte
	switch {
	case eqFold(opt, "ex"):
		unit = 'e'
	case eqFold(opt, "px"):
		unit = 'p'
	case eqFold(opt, "exat"):
		unit = 'E'
	case eqFold(opt, "pxat"):
		unit = 'P'
	default:
		return false
	}
	if e.keepTTL || e.persist || (e.unit != 0 && e.unit != unit) || j+1 >= len(argv) {
		return false
	}
	e.unit, e.arg = unit, argv[j+1]
	return true
}

// cmdSet is SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL].
func cmdSet(c *cmdCtx) {
	var o core.SetOptions
	var e expireArg
	argv := c.argv
	for j := 3; j < len(argv); j++ {
		opt := argv[j]
		switch {
		case eqFold(opt, "nx") && !o.XX:
			o.NX = true
		case eqFold(opt, "xx") && !o.NX:
			o.XX = true
		case eqFold(opt, "get"):
			o.Get = true
		case eqFold(opt, "keepttl") && e.unit == 0:
			e.keepTTL = true
		case e.parseExpireOpt(argv, j):
			j++
		default:
			c.syntaxErr()
			return
		}
	}
	if e.unit != 0 {
		ms, ok := e.millis(c)
		if !ok {
			return
		}
		e.setOptions(&o, ms)
	}
	o.KeepTTL = e.keepTTL
	c.replySet(argv[1], argv[2], o)
}

// cmdSetNX is SETNX key value: 1 if set, 0 if the key existed.
func cmdSetNX(c *cmdCtx) {
	res, err := c.srv.ks.SetOpt(nil, c.argv[1], c.argv[2], core.SetOptions{NX: true})
	if err != nil {
		c.coreErr(err)
		return
	}
	if res.Written {
		c.touch(c.argv[1])
	}
	c.w.Int(b2i(res.Written))
}

// cmdSetEx is SETEX key seconds value and PSETEX key milliseconds value.
func cmdSetEx(c *cmdCtx) {
	e := expireArg{unit: 'e', arg: c.argv[2]}
	if c.cmd.name == "psetex" {
		e.unit = 'p'
	}
	ms, ok := e.millis(c)
	if !ok {
		return
	}
	var o core.SetOptions
	e.setOptions(&o, ms)
	c.replySet(c.argv[1], c.argv[3], o)
}

// cmdGetSet is GETSET key value: SET key value GET.
func cmdGetSet(c *cmdCtx) { c.replySet(c.argv[1], c.argv[2], core.SetOptions{Get: true}) }

// cmdGetDel is GETDEL key.
func cmdGetDel(c *cmdCtx) { c.replyGetDel(c.argv[1]) }

// cmdGetEx is GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST].
func cmdGetEx(c *cmdCtx) {
	var e expireArg
	argv := c.argv
	for j := 2; j < len(argv); j++ {
		switch {
		case eqFold(argv[j], "persist") && e.unit == 0:
			e.persist = true
		case e.parseExpireOpt(argv, j):
			j++
		default:
			c.syntaxErr()
			return
		}
	}
	var o core.GetExOptions
	o.Persist = e.persist
	if e.unit != 0 {
		// Redis looks the key up before it validates the expiry: a
		// missing key is a null reply whatever the argument.
		if exists, _ := c.srv.ks.Meta(argv[1]); !exists {
			// GetEx without options reads nothing and counts the miss, so
			// the lookup counts once, as Redis's does.
			_, _, _ = c.srv.ks.GetEx(nil, argv[1], core.GetExOptions{})
			c.w.Null()
			return
		}
		ms, ok := e.millis(c)
		if !ok {
			return
		}
		if e.unit == 'e' || e.unit == 'p' {
			o.TTL = ms
		} else {
			o.ExpireAt = ms
		}
	}
	c.replyGetEx(argv[1], o)
}

func cmdMGet(c *cmdCtx) { c.replyMGet(c.argv[1:]) }

// cmdMSet is MSET key value [key value ...].
func cmdMSet(c *cmdCtx) {
	if len(c.argv)%2 == 0 {
		c.arityErr(c.cmd.name)
		return
	}
	c.replyMSet(c.argv[1:])
}

// cmdMSetNX is MSETNX key value [key value ...].
func cmdMSetNX(c *cmdCtx) {
	if len(c.argv)%2 == 0 {
		c.arityErr(c.cmd.name)
		return
	}
	ok, err := c.srv.ks.MSetNX(c.argv[1:]...)
	if err != nil {
		c.coreErr(err) // a failed MSETNX leaves every key as it was
		return
	}
	if ok {
		c.touchPairs(c.argv[1:])
	}
	c.w.Int(b2i(ok))
}

func cmdIncr(c *cmdCtx) { c.replyIncrBy(c.argv[1], 1) }
func cmdDecr(c *cmdCtx) { c.replyIncrBy(c.argv[1], -1) }

// cmdIncrBy is INCRBY key delta.
func cmdIncrBy(c *cmdCtx) {
	d, ok := parseInt(c.argv[2])
	if !ok {
		c.notInteger()
		return
	}
	c.replyIncrBy(c.argv[1], d)
}

// cmdDecrBy is DECRBY key delta.
func cmdDecrBy(c *cmdCtx) {
	d, ok := parseInt(c.argv[2])
	if !ok {
		c.notInteger()
		return
	}
	if d == math.MinInt64 {
		c.errReply(msgDecrOverflow)
		return
	}
	c.replyIncrBy(c.argv[1], -d)
}

func cmdAppend(c *cmdCtx) { c.replyAppend(c.argv[1], c.argv[2]) }

// cmdGetRange is GETRANGE key start end, and SUBSTR, its old name: the
// bytes from start to end (negative indexes count from the end), or an
// empty string, also for a missing key. Like Redis it parses both indexes
// before looking at the key. A span of a large value is written by
// reference, as GET writes a whole one.
func cmdGetRange(c *cmdCtx) {
	start, ok := parseInt(c.argv[2])
	if !ok {
		c.notInteger()
		return
	}
	end, ok := parseInt(c.argv[3])
	if !ok {
		c.notInteger()
		return
	}
	v, ref, _ := c.srv.ks.GetRangeRef(c.sess.buf[:0], c.argv[1], start, end)
	if ref.Held() {
		if c.inExec {
			// The loan keeps the whole value, not just the span.
			c.lent(c.argv[1], c.srv.ks.StrLen(c.argv[1]))
		}
		c.w.BulkRef(v, ref)
		return // v is the keyspace's, not the session's scratch
	}
	c.w.Bulk(v)
	c.sess.keepBuf(v)
}

// cmdSetRange is SETRANGE key offset value: the new length. A result over
// the value limit gets Redis's error for it, not the LIMIT class SET's
// value gets: Redis answers SETRANGE so whatever the limit.
func cmdSetRange(c *cmdCtx) {
	off, ok := parseInt(c.argv[2])
	if !ok {
		c.notInteger()
		return
	}
	n, err := c.srv.ks.SetRange(c.argv[1], off, c.argv[3])
	if err == nil && len(c.argv[3]) > 0 {
		c.touch(c.argv[1]) // an empty value writes nothing
	}
	switch {
	case errors.Is(err, core.ErrValueTooLarge):
		c.errReply(msgStringTooLong)
	case err != nil:
		c.coreErr(err)
	default:
		c.w.Int(int64(n))
	}
}

// cmdIncrByFloat is INCRBYFLOAT key increment: the new value, as stored
// (see core.Keyspace.IncrByFloat for its format).
func cmdIncrByFloat(c *cmdCtx) {
	v, err := c.srv.ks.IncrByFloat(c.sess.buf[:0], c.argv[1], c.argv[2])
	if err != nil {
		c.coreErr(err)
		return
	}
	c.touch(c.argv[1])
	c.w.Bulk(v)
	c.sess.keepBuf(v)
}

func cmdStrLen(c *cmdCtx) { c.w.Int(int64(c.srv.ks.StrLen(c.argv[1]))) }

// b2i is 1 for true and 0 for false.
func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
