package repl

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ringdb/ringdb/client"
	"github.com/ringdb/ringdb/core"
)

// command is one CLI command mapped onto an SDK call.
type command struct {
	args    string // usage after the name
	summary string
	min     int // minimum argument count (after the name)
	max     int // maximum, -1 for any
	run     func(ctx context.Context, c *client.Client, a []string) (reply, error)
}

// commands is the CLI's command table, keyed by upper-case name.
var commands map[string]command

func init() {
	commands = map[string]command{
		"PING": {"[message]", "check the connection", 0, 1, cmdPing},
		"GET":  {"key", "get the value of a key", 1, 1, cmdGet},
		"SET": {"key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]",
			"set the value of a key", 2, -1, cmdSet},
		"GETDEL": {"key", "get the value of a key and delete it", 1, 1, func(ctx context.Context, c *client.Client, a []string) (reply, error) {
			return opt(c.GetDel(ctx, a[0]))
		}},
		"GETEX":  {"key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]", "get a value and set its expiry", 1, 3, cmdGetEx},
		"MGET":   {"key [key ...]", "get the values of keys", 1, -1, cmdMGet},
		"MSET":   {"key value [key value ...]", "set several keys", 2, -1, cmdMSet},
		"INCR":   {"key", "increment an integer by one", 1, 1, incr(1, false)},
		"DECR":   {"key", "decrement an integer by one", 1, 1, incr(-1, false)},
		"INCRBY": {"key delta", "increment an integer by delta", 2, 2, incr(1, true)},
		"DECRBY": {"key delta", "decrement an integer by delta", 2, 2, incr(-1, true)},
		"APPEND": {"key value", "append to a string", 2, 2, func(ctx context.Context, c *client.Client, a []string) (reply, error) {
			return integer(c.Append(ctx, a[0], []byte(a[1])))
		}},
		"DEL": {"key [key ...]", "delete keys", 1, -1, func(ctx context.Context, c *client.Client, a []string) (reply, error) {
			return integer(c.Del(ctx, a...))
		}},
		"EXISTS": {"key [key ...]", "count the keys that exist", 1, -1, func(ctx context.Context, c *client.Client, a []string) (reply, error) {
			return integer(c.Exists(ctx, a...))
		}},
		"RENAME": {"src dst", "rename a key", 2, 2, func(ctx context.Context, c *client.Client, a []string) (reply, error) {
			return ok(c.Rename(ctx, a[0], a[1]))
		}},
		"EXPIRE":    {"key seconds [NX|XX|GT|LT]", "set a TTL in seconds", 2, 3, cmdExpire("EXPIRE")},
		"PEXPIRE":   {"key milliseconds [NX|XX|GT|LT]", "set a TTL in milliseconds", 2, 3, cmdExpire("PEXPIRE")},
		"EXPIREAT":  {"key unix-seconds [NX|XX|GT|LT]", "set a deadline in unix seconds", 2, 3, cmdExpire("EXPIREAT")},
		"PEXPIREAT": {"key unix-ms [NX|XX|GT|LT]", "set a deadline in unix milliseconds", 2, 3, cmdExpire("PEXPIREAT")},
		"TTL":       {"key", "seconds left to live (-1 no TTL, -2 missing)", 1, 1, cmdTTL(time.Second)},
		"PTTL":      {"key", "milliseconds left to live (-1 no TTL, -2 missing)", 1, 1, cmdTTL(time.Millisecond)},
		"PERSIST": {"key", "remove a key's TTL", 1, 1, func(ctx context.Context, c *client.Client, a []string) (reply, error) {
			return boolean(c.Persist(ctx, a[0]))
		}},
		"SCAN": {"cursor [MATCH pattern] [COUNT n]", "iterate over keys", 1, 5, cmdScan},
		"KEYS": {"[pattern]", "list every key matching pattern (runs SCAN to the end)", 0, 1, cmdKeys},
		"DBSIZE": {"", "number of keys", 0, 0, func(ctx context.Context, c *client.Client, a []string) (reply, error) {
			return integer(c.DBSize(ctx))
		}},
		"FLUSHALL": {"", "delete every key", 0, 0, func(ctx context.Context, c *client.Client, a []string) (reply, error) {
			return ok(c.FlushAll(ctx))
		}},
		"STATS": {"", "server counters", 0, 0, func(ctx context.Context, c *client.Client, a []string) (reply, error) {
			m, err := c.Stats(ctx)
			return statsReply(m), err
		}},
		"DIGEST": {"", "64-bit hash of the dataset", 0, 0, func(ctx context.Context, c *client.Client, a []string) (reply, error) {
			d, err := c.Digest(ctx)
			return textReply(fmt.Sprintf("%016x", d)), err
		}},
	}
}

// execute runs one command line (name and arguments).
func execute(ctx context.Context, c *client.Client, args []string) (reply, error) {
	name := strings.ToUpper(args[0])
	cmd, found := commands[name]
	if !found {
		return nil, usageError(fmt.Sprintf("unknown command '%s' (try 'help')", args[0]))
	}
	a := args[1:]
	if len(a) < cmd.min || (cmd.max >= 0 && len(a) > cmd.max) {
		return nil, usageError(fmt.Sprintf("wrong number of arguments for '%s' command (usage: %s %s)", strings.ToLower(name), name, cmd.args))
	}
	return cmd.run(ctx, c, a)
}

func ok(err error) (reply, error) { return okReply{}, err }

func integer(n int64, err error) (reply, error) { return intReply(n), err }

func boolean(b bool, err error) (reply, error) {
	if b {
		return intReply(1), err
	}
	return intReply(0), err
}

func opt(v []byte, found bool, err error) (reply, error) {
	if !found {
		return nilReply{}, err
	}
	return strReply(v), err
}

// parseInt parses an integer argument as the server parses RESP ones
// (Redis's string2ll): no '+', no leading zeros or blanks, so that a
// command means the same here as in redis-cli.
func parseInt(s string) (int64, error) {
	n, ok := core.ParseInt([]byte(s))
	if !ok {
		return 0, usageError("value is not an integer or out of range")
	}
	return n, nil
}

func cmdPing(ctx context.Context, c *client.Client, a []string) (reply, error) {
	if len(a) == 1 {
		s, err := c.Echo(ctx, a[0])
		return strReply(s), err
	}
	return textReply("PONG"), c.Ping(ctx)
}

func cmdGet(ctx context.Context, c *client.Client, a []string) (reply, error) {
	return opt(c.Get(ctx, a[0]))
}

// expiry parses an EX/PX/EXAT/PXAT option at a[i] and its argument.
func expiry(a []string, i int) (ttl time.Duration, at time.Time, err error) {
	if i+1 >= len(a) {
		return 0, at, usageError("syntax error")
	}
	n, err := parseInt(a[i+1])
	if err != nil {
		return 0, at, err
	}
	if n <= 0 {
		return 0, at, usageError("invalid expire time")
	}
	switch strings.ToUpper(a[i]) {
	case "EX":
		return relative(n, time.Second)
	case "PX":
		return relative(n, time.Millisecond)
	case "EXAT":
		if n > math.MaxInt64/1000 {
			return 0, at, usageError("invalid expire time")
		}
		at = time.Unix(n, 0)
	case "PXAT":
		at = time.UnixMilli(n)
	}
	return ttl, at, nil
}

// relative turns a TTL of n units (n > 0) into a time.Duration, or, past
// the 292 years a Duration holds, into the deadline it means, as the
// server computes it; a deadline past what a unix millisecond count holds
// is Redis's "invalid expire time".
func relative(n int64, unit time.Duration) (time.Duration, time.Time, error) {
	if n <= math.MaxInt64/int64(unit) {
		return time.Duration(n) * unit, time.Time{}, nil
	}
	per := int64(unit / time.Millisecond)
	now := time.Now().UnixMilli()
	if n > (math.MaxInt64-now)/per {
		return 0, time.Time{}, usageError("invalid expire time")
	}
	return 0, time.UnixMilli(now + n*per), nil
}

func cmdSet(ctx context.Context, c *client.Client, a []string) (reply, error) {
	var o client.SetOptions
	get := false
	for i := 2; i < len(a); i++ {
		switch strings.ToUpper(a[i]) {
		case "NX":
			o.NX = true
		case "XX":
			o.XX = true
		case "GET":
			get = true
		case "KEEPTTL":
			o.KeepTTL = true
		case "EX", "PX", "EXAT", "PXAT":
			if o.TTL != 0 || !o.ExpireAt.IsZero() {
				return nil, usageError("syntax error")
			}
			ttl, at, err := expiry(a, i)
			if err != nil {
				return nil, err
			}
			o.TTL, o.ExpireAt = ttl, at
			i++
		default:
			return nil, usageError("syntax error")
		}
	}
	if get {
		return opt(c.SetGet(ctx, a[0], []byte(a[1]), o))
	}
	written, err := c.SetArgs(ctx, a[0], []byte(a[1]), o)
	if err == nil && !written {
		return nilReply{}, nil
	}
	return okReply{}, err
}

func cmdGetEx(ctx context.Context, c *client.Client, a []string) (reply, error) {
	var o client.GetExOptions
	if len(a) > 1 {
		switch strings.ToUpper(a[1]) {
		case "PERSIST":
			if len(a) != 2 {
				return nil, usageError("syntax error")
			}
			o.Persist = true
		case "EX", "PX", "EXAT", "PXAT":
			if len(a) != 3 {
				return nil, usageError("syntax error")
			}
			ttl, at, err := expiry(a, 1)
			if err != nil {
				return nil, err
			}
			o.TTL, o.ExpireAt = ttl, at
		default:
			return nil, usageError("syntax error")
		}
	}
	return opt(c.GetEx(ctx, a[0], o))
}

func cmdMGet(ctx context.Context, c *client.Client, a []string) (reply, error) {
	vals, err := c.MGet(ctx, a...)
	if err != nil {
		return nil, err
	}
	out := make(arrReply, len(vals))
	for i, v := range vals {
		if v == nil {
			out[i] = nilReply{}
		} else {
			out[i] = strReply(v)
		}
	}
	return out, nil
}

func cmdMSet(ctx context.Context, c *client.Client, a []string) (reply, error) {
	if len(a)%2 != 0 {
		return nil, usageError("wrong number of arguments for 'mset' command")
	}
	pairs := make([]client.KV, 0, len(a)/2)
	for i := 0; i < len(a); i += 2 {
		pairs = append(pairs, client.KV{Key: a[i], Value: []byte(a[i+1])})
	}
	return ok(c.MSet(ctx, pairs...))
}

func incr(sign int64, withDelta bool) func(context.Context, *client.Client, []string) (reply, error) {
	return func(ctx context.Context, c *client.Client, a []string) (reply, error) {
		delta := int64(1)
		if withDelta {
			n, err := parseInt(a[1])
			if err != nil {
				return nil, err
			}
			delta = n
		}
		if sign < 0 {
			return integer(c.DecrBy(ctx, a[0], delta)) // refuses math.MinInt64
		}
		return integer(c.IncrBy(ctx, a[0], delta))
	}
}

func cmdExpire(name string) func(context.Context, *client.Client, []string) (reply, error) {
	return func(ctx context.Context, c *client.Client, a []string) (reply, error) {
		n, err := parseInt(a[1])
		if err != nil {
			return nil, err
		}
		cond := client.ExpireAlways
		if len(a) == 3 {
			switch strings.ToUpper(a[2]) {
			case "NX":
				cond = client.ExpireNX
			case "XX":
				cond = client.ExpireXX
			case "GT":
				cond = client.ExpireGT
			case "LT":
				cond = client.ExpireLT
			default:
				return nil, usageError("syntax error")
			}
		}
		switch name {
		case "EXPIRE":
			return boolean(c.ExpireSeconds(ctx, a[0], n, cond))
		case "PEXPIRE":
			if n <= 0 {
				return boolean(c.Expire(ctx, a[0], time.Duration(n)*time.Millisecond, cond))
			}
			ttl, at, err := relative(n, time.Millisecond)
			if err != nil {
				return nil, err
			}
			if ttl == 0 {
				return boolean(c.ExpireAt(ctx, a[0], at, cond))
			}
			return boolean(c.Expire(ctx, a[0], ttl, cond))
		case "EXPIREAT":
			if n > math.MaxInt64/1000 || n < math.MinInt64/1000 { // the SDK would saturate
				return nil, usageError("invalid expire time")
			}
			return boolean(c.ExpireAt(ctx, a[0], time.Unix(n, 0), cond))
		default:
			return boolean(c.ExpireAt(ctx, a[0], time.UnixMilli(n), cond))
		}
	}
}

func cmdTTL(unit time.Duration) func(context.Context, *client.Client, []string) (reply, error) {
	return func(ctx context.Context, c *client.Client, a []string) (reply, error) {
		ms, err := c.PTTL(ctx, a[0])
		if err != nil || ms < 0 || unit == time.Millisecond { // -1 no TTL, -2 missing
			return intReply(ms), err
		}
		return intReply(ms/1000 + (ms%1000+500)/1000), nil // rounded, as Redis's TTL
	}
}

func cmdScan(ctx context.Context, c *client.Client, a []string) (reply, error) {
	cursor, err := strconv.ParseUint(a[0], 10, 64)
	if err != nil {
		return nil, usageError("invalid cursor")
	}
	match, count := "", 0
	for i := 1; i < len(a); i += 2 {
		if i+1 >= len(a) {
			return nil, usageError("syntax error")
		}
		switch strings.ToUpper(a[i]) {
		case "MATCH":
			match = a[i+1]
		case "COUNT":
			n, err := parseInt(a[i+1])
			if err != nil || n < 1 {
				return nil, usageError("syntax error")
			}
			count = int(n)
		default:
			return nil, usageError("syntax error")
		}
	}
	keys, next, err := c.Scan(ctx, cursor, match, count)
	if err != nil {
		return nil, err
	}
	list := make(arrReply, len(keys))
	for i, k := range keys {
		list[i] = strReply(k)
	}
	return arrReply{strReply(strconv.FormatUint(next, 10)), list}, nil
}

func cmdKeys(ctx context.Context, c *client.Client, a []string) (reply, error) {
	match := ""
	if len(a) == 1 && a[0] != "*" {
		match = a[0]
	}
	seen := map[string]bool{}
	var out arrReply
	for k, err := range c.Keys(ctx, match) {
		if err != nil {
			return nil, err
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, strReply(k))
		}
	}
	return out, nil
}
