package server

import (
	"crypto/subtle"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/transport/binproto"
)

// Binary-protocol handlers (docs/PROTOCOL.md §7 and §10). Each parses its
// positional arguments and calls the implementation it shares with RESP.

// maxClientName is the longest client name HELLO accepts (§11).
const maxClientName = 256

// argBytes returns argument i, which must be BYTES; otherwise it writes
// ERR syntax error.
func (c *cmdCtx) argBytes(i int) ([]byte, bool) {
	if i >= len(c.args) || c.args[i].Kind != binproto.KindBytes {
		c.syntaxErr()
		return nil, false
	}
	return c.args[i].Bytes, true
}

// argKey returns argument i as a key: BYTES within the key size limit.
func (c *cmdCtx) argKey(i int) ([]byte, bool) {
	k, ok := c.argBytes(i)
	if ok && len(k) > c.srv.cfg.MaxKeySize {
		c.w.Error(binproto.ClassLimit, "key too large")
		return nil, false
	}
	return k, ok
}

// argKeys returns arguments from i on as keys, in the session's scratch
// slice.
func (c *cmdCtx) argKeys(from int) ([][]byte, bool) {
	keys := c.sess.keys[:0]
	for i := from; i < len(c.args); i++ {
		k, ok := c.argKey(i)
		if !ok {
			c.sess.keepKeys(keys)
			return nil, false
		}
		keys = append(keys, k)
	}
	return keys, true
}

// argInt returns argument i, which must be INT.
func (c *cmdCtx) argInt(i int) (int64, bool) {
	if i >= len(c.args) || c.args[i].Kind != binproto.KindInt {
		c.syntaxErr()
		return 0, false
	}
	return c.args[i].Int, true
}

// argOptInt returns optional argument i: absent or NULL gives present
// false; anything but INT is a syntax error.
func (c *cmdCtx) argOptInt(i int) (v int64, present, ok bool) {
	if i >= len(c.args) || c.args[i].Kind == binproto.KindNull {
		return 0, false, true
	}
	if c.args[i].Kind != binproto.KindInt {
		c.syntaxErr()
		return 0, false, false
	}
	return c.args[i].Int, true, true
}

// binHelloFail answers a handshake fault and closes the connection.
func (c *cmdCtx) binHelloFail(class binproto.Class, msg string) {
	c.w.Error(class, msg)
	c.conn.Close()
}

// binHello is HELLO min_version max_version [name [token]] (§7).
func binHello(c *cmdCtx) {
	if c.sess.helloDone {
		c.errReply("HELLO already done")
		return
	}
	args := c.args
	if len(args) < 2 || len(args) > 4 || args[0].Kind != binproto.KindInt || args[1].Kind != binproto.KindInt {
		c.binHelloFail(binproto.ClassProto, "invalid HELLO")
		return
	}
	for _, a := range args[2:] {
		if a.Kind != binproto.KindBytes && a.Kind != binproto.KindNull {
			c.binHelloFail(binproto.ClassProto, "invalid HELLO")
			return
		}
	}
	lo, hi := args[0].Int, args[1].Int
	if lo < 1 || hi < lo {
		c.binHelloFail(binproto.ClassProto, "invalid HELLO")
		return
	}
	if lo > binproto.Version {
		c.binHelloFail(binproto.ClassProto, "unsupported protocol version")
		return
	}
	version := min(hi, binproto.Version)
	var name, token []byte
	hasToken := false
	if len(args) > 2 && args[2].Kind == binproto.KindBytes {
		name = args[2].Bytes
	}
	if len(args) > 3 && args[3].Kind == binproto.KindBytes {
		token, hasToken = args[3].Bytes, true
	}
	if len(name) > maxClientName {
		c.binHelloFail(binproto.ClassLimit, "client name too long")
		return
	}
	if tok := c.srv.token(); tok != "" {
		if !hasToken {
			c.w.Error(binproto.ClassNoAuth, "authentication required")
			return
		}
		if subtle.ConstantTimeCompare([]byte(tok), token) != 1 {
			c.w.Error(binproto.ClassNoAuth, "invalid token")
			return
		}
	}
	c.sess.helloDone = true
	c.sess.authenticate()
	if name != nil {
		// Keep CLIENT LIST parseable: the binary protocol allows any bytes.
		clean := make([]byte, len(name))
		for i, ch := range name {
			if ch < '!' || ch > '~' {
				ch = '?'
			}
			clean[i] = ch
		}
		c.sess.mu.Lock()
		c.sess.namesLocked().name = string(clean)
		c.sess.mu.Unlock()
	}
	cfg := &c.srv.cfg
	w := c.w
	w.Map(9)
	w.BulkString("server")
	w.BulkString("ringdb")
	w.BulkString("version")
	w.BulkString(Version)
	w.BulkString("proto")
	w.Int(version)
	w.BulkString("id")
	w.Int(int64(c.sess.id()))
	w.BulkString("role")
	w.BulkString("primary")
	w.BulkString("max_frame")
	w.Int(cfg.maxFrame())
	w.BulkString("max_value")
	w.Int(int64(cfg.MaxValueSize))
	w.BulkString("max_key")
	w.Int(int64(cfg.MaxKeySize))
	w.BulkString("max_array")
	w.Int(cfg.MaxArgs)
}

// binPing is PING [message].
func binPing(c *cmdCtx) {
	if len(c.args) == 0 {
		c.w.OK()
		return
	}
	msg, ok := c.argBytes(0)
	if ok {
		c.w.Bulk(msg)
	}
}

func binGet(c *cmdCtx) {
	if key, ok := c.argKey(0); ok {
		c.replyGet(key)
	}
}

// binExpiry reads the mode and expiry arguments of SET and GETEX at 2 and
// 3 (SET) or 1 and 2 (GETEX): the expiry must be present exactly when
// mode has PX or PXAT.
func (c *cmdCtx) binExpiry(modeAt int, allowed int64) (mode, expiry int64, ok bool) {
	mode, _, ok = c.argOptInt(modeAt)
	if !ok {
		return 0, 0, false
	}
	if mode&^allowed != 0 {
		c.syntaxErr()
		return 0, 0, false
	}
	expiry, present, ok := c.argOptInt(modeAt + 1)
	if !ok {
		return 0, 0, false
	}
	timed := mode&(binproto.ExpPX|binproto.ExpPXAt) != 0
	if timed != present || mode&binproto.ExpPX != 0 && mode&binproto.ExpPXAt != 0 {
		c.syntaxErr()
		return 0, 0, false
	}
	return mode, expiry, true
}

// binSet is SET key value [mode [expiry]].
func binSet(c *cmdCtx) {
	key, ok := c.argKey(0)
	if !ok {
		return
	}
	val, ok := c.argBytes(1)
	if !ok {
		return
	}
	mode, expiry, ok := c.binExpiry(2, binproto.SetNX|binproto.SetXX|binproto.SetGet|binproto.SetKeepTTL|binproto.ExpPX|binproto.ExpPXAt)
	if !ok {
		return
	}
	o := core.SetOptions{
		NX:      mode&binproto.SetNX != 0,
		XX:      mode&binproto.SetXX != 0,
		Get:     mode&binproto.SetGet != 0,
		KeepTTL: mode&binproto.SetKeepTTL != 0,
	}
	timed := mode&(binproto.ExpPX|binproto.ExpPXAt) != 0
	if o.NX && o.XX || o.KeepTTL && timed {
		c.syntaxErr()
		return
	}
	if timed && expiry <= 0 {
		c.invalidExpire()
		return
	}
	if mode&binproto.ExpPX != 0 {
		o.TTL = expiry
	} else if mode&binproto.ExpPXAt != 0 {
		o.ExpireAt = expiry
	}
	c.replySet(key, val, o)
}

func binGetDel(c *cmdCtx) {
	key, ok := c.argKey(0)
	if !ok {
		return
	}
	c.replyGetDel(key)
}

// binGetEx is GETEX key [mode [expiry]].
func binGetEx(c *cmdCtx) {
	key, ok := c.argKey(0)
	if !ok {
		return
	}
	mode, expiry, ok := c.binExpiry(1, binproto.ExpPX|binproto.ExpPXAt|binproto.ExpPersist)
	if !ok {
		return
	}
	if mode&binproto.ExpPersist != 0 && mode != binproto.ExpPersist {
		c.syntaxErr()
		return
	}
	var o core.GetExOptions
	switch {
	case mode&binproto.ExpPersist != 0:
		o.Persist = true
	case mode != 0 && expiry <= 0:
		if !c.srv.ks.Exists(key) {
			c.w.Null()
			return
		}
		c.invalidExpire()
		return
	case mode&binproto.ExpPX != 0:
		o.TTL = expiry
	case mode&binproto.ExpPXAt != 0:
		o.ExpireAt = expiry
	}
	c.replyGetEx(key, o)
}

func binMGet(c *cmdCtx) {
	keys, ok := c.argKeys(0)
	if !ok {
		return
	}
	c.replyMGet(keys)
	c.sess.keepKeys(keys)
}

// binMSet is MSET key value [key value ...].
func binMSet(c *cmdCtx) {
	if len(c.args)%2 != 0 {
		c.arityErr(c.cmd.name)
		return
	}
	pairs := c.sess.keys[:0]
	for i := range c.args {
		var b []byte
		var ok bool
		if i%2 == 0 {
			b, ok = c.argKey(i)
		} else {
			b, ok = c.argBytes(i)
		}
		if !ok {
			c.sess.keepKeys(pairs)
			return
		}
		pairs = append(pairs, b)
	}
	c.replyMSet(pairs)
	c.sess.keepKeys(pairs)
}

func binIncrBy(c *cmdCtx) {
	key, ok := c.argKey(0)
	if !ok {
		return
	}
	d, ok := c.argInt(1)
	if ok {
		c.replyIncrBy(key, d)
	}
}

func binAppend(c *cmdCtx) {
	key, ok := c.argKey(0)
	if !ok {
		return
	}
	val, ok := c.argBytes(1)
	if ok {
		c.replyAppend(key, val)
	}
}

func binDel(c *cmdCtx) {
	if keys, ok := c.argKeys(0); ok {
		c.replyDel(keys)
		c.sess.keepKeys(keys)
	}
}

func binExists(c *cmdCtx) {
	if keys, ok := c.argKeys(0); ok {
		c.replyExists(keys)
		c.sess.keepKeys(keys)
	}
}

func binRename(c *cmdCtx) {
	src, ok := c.argKey(0)
	if !ok {
		return
	}
	dst, ok := c.argKey(1)
	if ok {
		c.replyRename(src, dst)
	}
}

// binExpire is EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT key time [cond].
func binExpire(c *cmdCtx) {
	key, ok := c.argKey(0)
	if !ok {
		return
	}
	when, ok := c.argInt(1)
	if !ok {
		return
	}
	cond, _, ok := c.argOptInt(2)
	if !ok {
		return
	}
	if cond < binproto.CondAlways || cond > binproto.CondLT {
		c.syntaxErr()
		return
	}
	kind := expireCmdKind(c.cmd.name)
	if !expireInRange(kind, when) {
		c.invalidExpire()
		return
	}
	// The wire enum and core.ExpireCond share their values.
	c.replyExpire(kind, key, when, core.ExpireCond(cond))
}

func binTTL(c *cmdCtx) {
	if key, ok := c.argKey(0); ok {
		c.w.Int(c.srv.ks.TTL(key))
	}
}

func binPTTL(c *cmdCtx) {
	if key, ok := c.argKey(0); ok {
		c.w.Int(c.srv.ks.PTTL(key))
	}
}

func binPersist(c *cmdCtx) {
	if key, ok := c.argKey(0); ok {
		c.replyPersist(key)
	}
}

// binScan is SCAN cursor [pattern [count]].
func binScan(c *cmdCtx) {
	cursor, ok := c.argInt(0)
	if !ok {
		return
	}
	var match []byte
	if len(c.args) > 1 && c.args[1].Kind != binproto.KindNull {
		if match, ok = c.argBytes(1); !ok {
			return
		}
	}
	count, present, ok := c.argOptInt(2)
	if !ok {
		return
	}
	if !present {
		count = 10
	}
	if count < 1 {
		c.syntaxErr()
		return
	}
	c.replyScan(uint64(cursor), match, int(min(count, 1<<20)))
}

func binDBSize(c *cmdCtx) { c.w.Int(int64(c.srv.ks.Len())) }

func binFlushAll(c *cmdCtx) { c.replyFlush() }

// binStats is STATS: the keyspace, connection and network counters as a
// map of name → INT (docs/PROTOCOL.md lists the keys).
func binStats(c *cmdCtx) {
	st := c.srv.ks.Stats()
	ts := c.srv.transportStats()
	w := c.w
	w.Map(16)
	w.BulkString("net_input_bytes")
	w.Int(int64(ts.BytesIn))
	w.BulkString("net_output_bytes")
	w.Int(int64(ts.BytesOut))
	w.BulkString("connected_clients")
	w.Int(c.srv.connectedClients())
	w.BulkString("connections_total")
	w.Int(int64(max(ts.ConnectionsTotal, c.srv.connsTotal.Load())))
	w.BulkString("rejected_connections")
	w.Int(int64(ts.Rejected))
	w.BulkString("output_buffer_disconnects")
	w.Int(int64(ts.OutputBufferDisconnects))
	w.BulkString("commands_processed")
	w.Int(int64(c.srv.commandCount()))
	w.BulkString("keys")
	w.Int(st.Keys)
	w.BulkString("used_bytes")
	w.Int(st.UsedBytes)
	w.BulkString("max_bytes")
	w.Int(st.MaxBytes)
	w.BulkString("hits")
	w.Int(int64(st.Hits))
	w.BulkString("misses")
	w.Int(int64(st.Misses))
	w.BulkString("sets")
	w.Int(int64(st.Sets))
	w.BulkString("deletes")
	w.Int(int64(st.Deletes))
	w.BulkString("expired")
	w.Int(int64(st.Expired))
	w.BulkString("evicted")
	w.Int(int64(st.Evicted))
}

// binDigest is DIGEST: the dataset's order-independent hash.
func binDigest(c *cmdCtx) { c.w.Int(int64(c.srv.ks.Digest())) }
