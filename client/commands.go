package client

import (
	"context"
	"math"
	"time"

	op "github.com/ringdb/ringdb/transport/binproto"
)

// TTL results with special meaning, as returned by Client.TTL.
const (
	// TTLPersistent is returned by TTL for a key that exists and has no
	// expiry (the protocol's -1).
	TTLPersistent time.Duration = -1
	// TTLMissing is returned by TTL for a key that does not exist (the
	// protocol's -2).
	TTLMissing time.Duration = -2
	// TTLMax is returned by TTL for a deadline further away than a
	// time.Duration can hold (about 292 years; Redis accepts deadlines up
	// to year 292 million).
	TTLMax time.Duration = math.MaxInt64
)

// SetOptions are the options of SetArgs and SetGet. The zero value is a
// plain SET that clears any TTL.
type SetOptions struct {
	// TTL, when non-zero, expires the key after it, in whole milliseconds
	// (a positive TTL under 1 ms counts as 1 ms); a negative TTL is an
	// error from the server.
	TTL time.Duration
	// ExpireAt, when non-zero, expires the key at that time (a time before
	// 1970 is as past as any: the key is stored already expired). Setting
	// it with TTL or KeepTTL is a syntax error from the server, as in
	// Redis.
	ExpireAt time.Time
	// NX writes only if the key does not exist.
	NX bool
	// XX writes only if the key exists.
	XX bool
	// KeepTTL keeps the key's current TTL.
	KeepTTL bool
}

// GetExOptions are the options of GetEx; at most one field may be set
// (more is a syntax error from the server, as in Redis). The zero value is
// a plain GET.
type GetExOptions struct {
	// TTL, when non-zero, sets the key's TTL (as SetOptions.TTL).
	TTL time.Duration
	// ExpireAt, when non-zero, sets the key's deadline.
	ExpireAt time.Time
	// Persist removes the key's TTL.
	Persist bool
}

// ExpireCond is the condition of the Expire family (Redis 7 NX/XX/GT/LT).
type ExpireCond int64

// Expire conditions.
const (
	// ExpireAlways sets the TTL unconditionally (the default).
	ExpireAlways ExpireCond = op.CondAlways
	// ExpireNX sets it only if the key has no TTL.
	ExpireNX ExpireCond = op.CondNX
	// ExpireXX sets it only if the key has a TTL.
	ExpireXX ExpireCond = op.CondXX
	// ExpireGT sets it only if the new deadline is later (no TTL counts as
	// infinite).
	ExpireGT ExpireCond = op.CondGT
	// ExpireLT sets it only if the new deadline is earlier.
	ExpireLT ExpireCond = op.CondLT
)

// KV is one key/value pair of MSet.
type KV struct {
	// Key is the key to store under.
	Key string
	// Value is the value to store; it may be reused once MSet returns.
	Value []byte
}

// ms converts d to whole milliseconds, rounding a positive d under 1 ms up
// to 1 so that a tiny TTL does not become "no TTL" or "delete now". A
// negative d stays negative, for the server to reject.
func ms(d time.Duration) int64 {
	if n := d.Milliseconds(); n != 0 || d <= 0 {
		return n
	}
	return 1
}

func keyCmd(o op.Opcode, key string) *enc { return newReq(o, 1).str(key) }

func keysCmd(o op.Opcode, keys []string) *enc {
	e := newReq(o, len(keys))
	for _, k := range keys {
		e.str(k)
	}
	return e
}

func cmdGet(key string) command[optBytes] {
	return command[optBytes]{keyCmd(op.OpGet, key).finish(), true, parseOptBytes}
}

// unixMs is t in Unix milliseconds, saturated at the int64 range (a
// deadline hundreds of millions of years away wrapped around to one in the
// past: the key was deleted).
func unixMs(t time.Time) int64 {
	switch s := t.Unix(); {
	case s > math.MaxInt64/1000:
		return math.MaxInt64
	case s < math.MinInt64/1000:
		return math.MinInt64
	}
	return t.UnixMilli()
}

// pxat is the PXAT argument for t: a time before 1970 is as past as 1 ms.
func pxat(t time.Time) int64 { return max(unixMs(t), 1) }

// expiry returns the expiry mode bits and argument for a TTL and a
// deadline, either of which may be zero. Both send both bits, which the
// server refuses with a syntax error, as Redis refuses SET ... PX ... PXAT.
func expiry(ttl time.Duration, at time.Time) (mode, exp int64) {
	if !at.IsZero() {
		mode |= op.ExpPXAt
		exp = pxat(at)
	}
	if ttl != 0 {
		mode |= op.ExpPX
		exp = ms(ttl)
	}
	return mode, exp
}

func setFrame(key string, value []byte, o SetOptions, mode int64) []byte {
	em, exp := expiry(o.TTL, o.ExpireAt)
	mode |= em
	if o.NX {
		mode |= op.SetNX
	}
	if o.XX {
		mode |= op.SetXX
	}
	if o.KeepTTL {
		mode |= op.SetKeepTTL
	}
	switch {
	case mode&(op.ExpPX|op.ExpPXAt) != 0:
		return newReq(op.OpSet, 4).str(key).bytes(value).int(mode).int(exp).finish()
	case mode != 0:
		return newReq(op.OpSet, 3).str(key).bytes(value).int(mode).finish()
	}
	return newReq(op.OpSet, 2).str(key).bytes(value).finish()
}

func cmdSet(key string, value []byte, o SetOptions) command[bool] {
	return command[bool]{setFrame(key, value, o, 0), false, parseOKNull}
}

func cmdDel(keys []string) command[int64] {
	return command[int64]{keysCmd(op.OpDel, keys).finish(), false, parseInt}
}

func cmdIncrBy(key string, delta int64) command[int64] {
	return command[int64]{newReq(op.OpIncrBy, 2).str(key).int(delta).finish(), false, parseInt}
}

func cmdExists(keys []string) command[int64] {
	return command[int64]{keysCmd(op.OpExists, keys).finish(), true, parseInt}
}

func cmdPTTL(key string) command[time.Duration] {
	return command[time.Duration]{keyCmd(op.OpPTTL, key).finish(), true, func(b []byte) (time.Duration, error) {
		n, err := parseInt(b)
		if err != nil || n < 0 {
			return time.Duration(n), err
		}
		if n > math.MaxInt64/int64(time.Millisecond) {
			return TTLMax, nil // past what a Duration holds (292 years)
		}
		return time.Duration(n) * time.Millisecond, nil
	}}
}

func cmdExpire(key string, o op.Opcode, n int64, cond ExpireCond) command[bool] {
	e := newReq(o, 2+b2i(cond != ExpireAlways)).str(key).int(n)
	if cond != ExpireAlways {
		e.int(int64(cond))
	}
	return command[bool]{e.finish(), false, parseBool}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cmdMGet(keys []string) command[[][]byte] {
	return command[[][]byte]{keysCmd(op.OpMGet, keys).finish(), true, parseMGet}
}

func cmdMSet(pairs []KV) command[struct{}] {
	e := newReq(op.OpMSet, 2*len(pairs))
	for _, p := range pairs {
		e.str(p.Key).bytes(p.Value)
	}
	return command[struct{}]{e.finish(), false, parseOK}
}

// Get returns the value of key, with found false if the key is missing.
func (c *Client) Get(ctx context.Context, key string) (value []byte, found bool, err error) {
	r, err := run(ctx, c, cmdGet(key))
	return r.val, r.found, err
}

// Set stores value under key. A non-zero ttl expires the key after it
// (see SetOptions.TTL); 0 stores it without expiry, clearing any TTL it had.
func (c *Client) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	_, err := run(ctx, c, cmdSet(key, value, SetOptions{TTL: ttl}))
	return err
}

// SetArgs is SET with options. written is false when NX or XX prevented the
// write. Setting NX with XX, or KeepTTL with a TTL, is a server syntax error.
func (c *Client) SetArgs(ctx context.Context, key string, value []byte, o SetOptions) (written bool, err error) {
	return run(ctx, c, cmdSet(key, value, o))
}

// SetGet is SET with the GET mode: it stores value (subject to o) and
// returns the key's previous value, found false if there was none.
func (c *Client) SetGet(ctx context.Context, key string, value []byte, o SetOptions) (prev []byte, found bool, err error) {
	r, err := run(ctx, c, command[optBytes]{setFrame(key, value, o, op.SetGet), false, parseOptBytes})
	return r.val, r.found, err
}

// GetDel returns the value of key and deletes the key.
func (c *Client) GetDel(ctx context.Context, key string) (value []byte, found bool, err error) {
	r, err := run(ctx, c, command[optBytes]{keyCmd(op.OpGetDel, key).finish(), false, parseOptBytes})
	return r.val, r.found, err
}

// GetEx returns the value of key and changes its TTL as o says.
func (c *Client) GetEx(ctx context.Context, key string, o GetExOptions) (value []byte, found bool, err error) {
	// More than one option sends more than one bit, which the server
	// refuses with a syntax error, as Redis does.
	mode, exp := expiry(o.TTL, o.ExpireAt)
	if o.Persist {
		mode |= op.ExpPersist
	}
	var e *enc
	switch {
	case mode&(op.ExpPX|op.ExpPXAt) != 0:
		e = newReq(op.OpGetEx, 3).str(key).int(mode).int(exp)
	case mode != 0:
		e = newReq(op.OpGetEx, 2).str(key).int(mode)
	default:
		e = keyCmd(op.OpGetEx, key)
	}
	// A plain read, or PERSIST, run twice answers and leaves what it does
	// run once, so it may be retried when the connection breaks, as GET
	// is. A relative TTL would be extended by a retry, and a deadline may
	// have passed and deleted the key (as GETDEL).
	idempotent := mode&(op.ExpPX|op.ExpPXAt) == 0
	r, err := run(ctx, c, command[optBytes]{e.finish(), idempotent, parseOptBytes})
	return r.val, r.found, err
}

// MGet returns the values of keys in order; a missing key's entry is nil.
func (c *Client) MGet(ctx context.Context, keys ...string) ([][]byte, error) {
	return run(ctx, c, cmdMGet(keys))
}

// MSet stores every pair atomically.
func (c *Client) MSet(ctx context.Context, pairs ...KV) error {
	_, err := run(ctx, c, cmdMSet(pairs))
	return err
}

// IncrBy adds delta to the decimal integer stored at key (0 if missing) and
// returns the new value. The key's TTL is kept.
func (c *Client) IncrBy(ctx context.Context, key string, delta int64) (int64, error) {
	return run(ctx, c, cmdIncrBy(key, delta))
}

// Incr is IncrBy(ctx, key, 1).
func (c *Client) Incr(ctx context.Context, key string) (int64, error) {
	return c.IncrBy(ctx, key, 1)
}

// Decr is IncrBy(ctx, key, -1).
func (c *Client) Decr(ctx context.Context, key string) (int64, error) {
	return c.IncrBy(ctx, key, -1)
}

// errDecrOverflow is Redis's DECRBY answer for a delta with no negation.
var errDecrOverflow = &ServerError{Class: op.ClassErr, Msg: "decrement would overflow"}

// DecrBy is IncrBy(ctx, key, -delta). A delta of math.MinInt64, which has
// no negation, fails as Redis's DECRBY does, with a server-class error
// "decrement would overflow", without a round trip.
func (c *Client) DecrBy(ctx context.Context, key string, delta int64) (int64, error) {
	if delta == math.MinInt64 {
		return 0, errDecrOverflow
	}
	return c.IncrBy(ctx, key, -delta)
}

// Append appends value to the string at key and returns its new length.
func (c *Client) Append(ctx context.Context, key string, value []byte) (int64, error) {
	return run(ctx, c, command[int64]{newReq(op.OpAppend, 2).str(key).bytes(value).finish(), false, parseInt})
}

// Del deletes keys and returns how many existed.
func (c *Client) Del(ctx context.Context, keys ...string) (int64, error) {
	return run(ctx, c, cmdDel(keys))
}

// Exists returns how many of keys exist; a key named twice counts twice.
func (c *Client) Exists(ctx context.Context, keys ...string) (int64, error) {
	return run(ctx, c, cmdExists(keys))
}

// Rename renames src to dst, overwriting dst. A missing src gives an error
// matching ErrNotFound.
func (c *Client) Rename(ctx context.Context, src, dst string) error {
	_, err := run(ctx, c, command[struct{}]{newReq(op.OpRename, 2).str(src).str(dst).finish(), false, parseOK})
	return err
}

// Expire sets key's TTL to ttl (PEXPIRE: millisecond precision, a positive
// ttl under 1 ms rounded up) under cond, and reports whether it was set. A
// ttl ≤ 0 deletes the key.
func (c *Client) Expire(ctx context.Context, key string, ttl time.Duration, cond ExpireCond) (bool, error) {
	return run(ctx, c, cmdExpire(key, op.OpPExpire, ms(ttl), cond))
}

// ExpireSeconds is EXPIRE: Expire with a TTL in whole seconds.
func (c *Client) ExpireSeconds(ctx context.Context, key string, seconds int64, cond ExpireCond) (bool, error) {
	return run(ctx, c, cmdExpire(key, op.OpExpire, seconds, cond))
}

// ExpireAt sets key's deadline to t (millisecond precision, PEXPIREAT)
// under cond, and reports whether it was set. A t in the past deletes the
// key.
func (c *Client) ExpireAt(ctx context.Context, key string, t time.Time, cond ExpireCond) (bool, error) {
	return run(ctx, c, cmdExpire(key, op.OpPExpireAt, unixMs(t), cond))
}

// TTL returns the time key has left to live, with millisecond precision
// (PTTL). It returns TTLPersistent for a key without expiry and TTLMissing
// for a missing key, both with a nil error, and TTLMax for a deadline more
// than 292 years away.
func (c *Client) TTL(ctx context.Context, key string) (time.Duration, error) {
	return run(ctx, c, cmdPTTL(key))
}

// PTTL returns the milliseconds key has left to live, as the server
// counts them: -1 for a key without expiry, -2 for a missing key. Unlike
// TTL it holds any deadline exactly, however far away.
func (c *Client) PTTL(ctx context.Context, key string) (int64, error) {
	return run(ctx, c, command[int64]{keyCmd(op.OpPTTL, key).finish(), true, parseInt})
}

// Persist removes key's TTL and reports whether it had one.
func (c *Client) Persist(ctx context.Context, key string) (bool, error) {
	return run(ctx, c, command[bool]{keyCmd(op.OpPersist, key).finish(), false, parseBool})
}

// DBSize returns the number of keys.
func (c *Client) DBSize(ctx context.Context) (int64, error) {
	return run(ctx, c, command[int64]{newReq(op.OpDBSize, 0).finish(), true, parseInt})
}

// FlushAll deletes every key.
func (c *Client) FlushAll(ctx context.Context) error {
	_, err := run(ctx, c, command[struct{}]{newReq(op.OpFlushAll, 0).finish(), false, parseOK})
	return err
}

// Ping checks the server round trip.
func (c *Client) Ping(ctx context.Context) error {
	_, err := run(ctx, c, command[string]{newReq(op.OpPing, 0).finish(), true, parsePing})
	return err
}

// Echo sends PING with msg and returns the server's echo of it.
func (c *Client) Echo(ctx context.Context, msg string) (string, error) {
	return run(ctx, c, command[string]{newReq(op.OpPing, 1).str(msg).finish(), true, parsePing})
}

// Stats returns the server's STATS counters by name (keys, used_bytes,
// max_bytes, hits, misses, sets, deletes, expired, evicted, and any the
// server adds).
func (c *Client) Stats(ctx context.Context) (map[string]int64, error) {
	return run(ctx, c, command[map[string]int64]{newReq(op.OpStats, 0).finish(), true, parseStats})
}

// Digest returns the order-independent 64-bit hash of the dataset; two
// nodes holding the same data have the same digest.
func (c *Client) Digest(ctx context.Context) (uint64, error) {
	n, err := run(ctx, c, command[int64]{newReq(op.OpDigest, 0).finish(), true, parseInt})
	return uint64(n), err
}
