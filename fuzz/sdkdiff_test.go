package fuzz

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/client"
	"github.com/ringdb/ringdb/internal/redistest"
	"github.com/ringdb/ringdb/server"
)

// TestSDKDifferentialAgainstRedis is TestDifferentialAgainstRedis for the
// binary protocol: random operations go to ringdb through the Go SDK and,
// as the RESP commands the SDK documents them to be, to redis-server 7.0;
// every result (value, found flag, count, TTL within a tolerance, error
// class and message) must agree. It checks that the binary command paths
// run the same semantics as Redis, as the RESP ones do.
//
// Same requirements and knobs as TestDifferentialAgainstRedis
// (RINGDB_REQUIRE_REDIS, RINGDB_REDISDIFF_SEQS, RINGDB_REDISDIFF_SEED).
func TestSDKDifferentialAgainstRedis(t *testing.T) {
	bin, seqs, seed := rdSetup(t)

	theirs := dialRESP(t, "unix", redistest.Start(t, bin))
	s := rdStartRingdb(t, server.TransportGnet)
	ctx := t.Context()
	c, err := client.New(ctx, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	rng := rand.New(rand.NewPCG(seed, 0x5d4))
	fails := 0
	for i := 0; i < seqs && fails < 10; i++ {
		if err := c.FlushAll(ctx); err != nil {
			t.Fatal(err)
		}
		theirs.do(t, "FLUSHALL")
		var log []string
		for j, n := 0, 5+rng.IntN(40); j < n; j++ {
			o := sdGen(rng)
			a := o.sdk(ctx, c)
			b := o.resp(theirs.do(t, o.argv...))
			log = append(log, fmt.Sprintf("%s %s: sdk %s, redis %s", o.name, rdShort(o.argv), clip(a), clip(b)))
			if a != b && !sdTTLClose(o, a, b) {
				fails++
				t.Errorf("sequence %d, op %d %s (as %s):\n  ringdb: %s\n  redis:  %s\n  sequence so far:\n    %s",
					i, j, o.name, rdShort(o.argv), clip(a), clip(b), strings.Join(log, "\n    "))
				break
			}
		}
	}
}

// sdOp is one operation: how to run it with the SDK, the RESP command it
// stands for, and how to render that command's reply like the SDK result.
type sdOp struct {
	name string
	sdk  func(context.Context, *client.Client) string
	argv []string
	resp func(svVal) string
}

// sdErr renders an error as "err CLASS message"; the SDK's ServerError
// and a RESP error reply render the same way.
func sdErr(err error) string {
	var se *client.ServerError
	if errors.As(err, &se) {
		return "err " + se.Class.String() + " " + se.Msg
	}
	return "local error: " + err.Error()
}

func sdRespErr(v svVal) (string, bool) {
	if !v.isErr() {
		return "", false
	}
	return "err " + v.s, true
}

func sdValue(v []byte, found bool, err error) string {
	switch {
	case err != nil:
		return sdErr(err)
	case !found:
		return "nil"
	}
	return "value " + strconv.Quote(string(v))
}

func sdRespValue(v svVal) string {
	if e, ok := sdRespErr(v); ok {
		return e
	}
	if v.t != '$' {
		return "unexpected " + v.String()
	}
	if v.null {
		return "nil"
	}
	return "value " + strconv.Quote(v.s)
}

func sdInt(n int64, err error) string {
	if err != nil {
		return sdErr(err)
	}
	return "int " + strconv.FormatInt(n, 10)
}

func sdRespInt(v svVal) string {
	if e, ok := sdRespErr(v); ok {
		return e
	}
	if v.t != ':' {
		return "unexpected " + v.String()
	}
	return "int " + strconv.FormatInt(v.n, 10)
}

func sdBool(b bool, err error) string {
	if err != nil {
		return sdErr(err)
	}
	return "bool " + strconv.FormatBool(b)
}

// sdRespIntBool renders an integer reply 1/0 as the SDK's bool.
func sdRespIntBool(v svVal) string {
	if e, ok := sdRespErr(v); ok {
		return e
	}
	if v.t != ':' || v.n != 0 && v.n != 1 {
		return "unexpected " + v.String()
	}
	return "bool " + strconv.FormatBool(v.n == 1)
}

func sdOK(err error) string {
	if err != nil {
		return sdErr(err)
	}
	return "ok"
}

func sdRespOK(v svVal) string {
	if e, ok := sdRespErr(v); ok {
		return e
	}
	if v.isSimple("OK") {
		return "ok"
	}
	return "unexpected " + v.String()
}

// sdTTLClose accepts TTL results a few ms apart: the two servers see the
// command at slightly different times.
func sdTTLClose(o sdOp, a, b string) bool {
	if o.name != "TTL" {
		return false
	}
	na, errA := strconv.ParseInt(strings.TrimPrefix(a, "ttl "), 10, 64)
	nb, errB := strconv.ParseInt(strings.TrimPrefix(b, "ttl "), 10, 64)
	return errA == nil && errB == nil && na >= 0 && nb >= 0 && max(na-nb, nb-na) <= 100
}

// Deadlines, as in rdGen: far in the future or already past, so nothing
// expires while a sequence runs.
var (
	sdTTLs = []time.Duration{100 * time.Second, 1000 * time.Hour, -time.Millisecond, -time.Hour}
	sdAbs  = []time.Time{time.UnixMilli(1), time.UnixMilli(1000), time.Now().Add(1000 * time.Hour), time.Unix(99999999999, 0),
		time.Unix(300_000_000*365*24*3600, 0), time.Unix(-300_000_000*365*24*3600, 0), time.Unix(-1000, 0)}
	sdVals = []string{"", "v", "0", "1", "-1", "10", "007", "9223372036854775807", "-9223372036854775808",
		"abc", "a\r\nb", "\x00", strings.Repeat("m", 600), strings.Repeat("L", 40_000)}
	sdDeltas = []int64{0, 1, -1, 100, 9223372036854775807, -9223372036854775808}
	sdConds  = []struct {
		c    client.ExpireCond
		word string
	}{{client.ExpireAlways, ""}, {client.ExpireNX, "NX"}, {client.ExpireXX, "XX"}, {client.ExpireGT, "GT"}, {client.ExpireLT, "LT"}}
)

// sdKeyList renders keys sorted.
func sdKeyList(keys []string) string {
	slices.Sort(keys)
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = strconv.Quote(k)
	}
	return "keys [" + strings.Join(q, " ") + "]"
}

// sdUnixMs is t in Unix ms saturated at the int64 range, and sdPXAT the
// SET/GETEX deadline the SDK documents for t (before 1970: 1 ms, past).
func sdUnixMs(t time.Time) int64 {
	switch s := t.Unix(); {
	case s > math.MaxInt64/1000:
		return math.MaxInt64
	case s < math.MinInt64/1000:
		return math.MinInt64
	}
	return t.UnixMilli()
}

func sdPXAT(t time.Time) string { return strconv.FormatInt(max(sdUnixMs(t), 1), 10) }

func msArg(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// sdTTL picks from sdTTLs; a positive TTL is made unique as rdTTL does.
func sdTTL(rng *rand.Rand) time.Duration {
	d := sdTTLs[rng.IntN(len(sdTTLs))]
	if d > 0 {
		d += time.Duration(rdTTLSeq.Add(1)) * time.Second
	}
	return d
}

func sdGen(rng *rand.Rand) sdOp {
	k := func() string { return pick(rng, rdKeys) }
	v := func() string { return pick(rng, sdVals) }
	keys := func() []string {
		out := make([]string, 1+rng.IntN(3))
		for i := range out {
			out[i] = k()
		}
		return out
	}
	switch rng.IntN(21) {
	case 0, 1:
		key := k()
		return sdOp{"Get", func(ctx context.Context, c *client.Client) string { return sdValue(c.Get(ctx, key)) },
			[]string{"GET", key}, sdRespValue}
	case 2, 3, 4:
		key, val := k(), v()
		var o client.SetOptions
		argv := []string{"SET", key, val}
		switch rng.IntN(5) {
		case 0:
			o.TTL = sdTTL(rng)
			argv = append(argv, "PX", msArg(o.TTL))
		case 1:
			o.ExpireAt = sdAbs[rng.IntN(len(sdAbs))]
			argv = append(argv, "PXAT", sdPXAT(o.ExpireAt))
		case 2:
			o.KeepTTL = true
			argv = append(argv, "KEEPTTL")
		case 3: // both: a syntax error in both
			o.TTL, o.ExpireAt = sdTTL(rng), sdAbs[rng.IntN(len(sdAbs))]
			argv = append(argv, "PX", msArg(o.TTL), "PXAT", sdPXAT(o.ExpireAt))
		}
		switch rng.IntN(3) {
		case 0:
			o.NX = true
			argv = append(argv, "NX")
		case 1:
			o.XX = true
			argv = append(argv, "XX")
		}
		if rng.IntN(2) == 0 {
			return sdOp{"SetGet", func(ctx context.Context, c *client.Client) string { return sdValue(c.SetGet(ctx, key, []byte(val), o)) },
				append(argv, "GET"), sdRespValue}
		}
		return sdOp{"SetArgs", func(ctx context.Context, c *client.Client) string {
			return sdBool(c.SetArgs(ctx, key, []byte(val), o))
		}, argv, func(r svVal) string {
			if e, ok := sdRespErr(r); ok {
				return e
			}
			return "bool " + strconv.FormatBool(!r.null)
		}}
	case 5:
		key := k()
		return sdOp{"GetDel", func(ctx context.Context, c *client.Client) string { return sdValue(c.GetDel(ctx, key)) },
			[]string{"GETDEL", key}, sdRespValue}
	case 6:
		key := k()
		var o client.GetExOptions
		argv := []string{"GETEX", key}
		switch rng.IntN(5) {
		case 0:
			o.TTL = sdTTL(rng)
			argv = append(argv, "PX", msArg(o.TTL))
		case 1:
			o.ExpireAt = sdAbs[rng.IntN(len(sdAbs))]
			argv = append(argv, "PXAT", sdPXAT(o.ExpireAt))
		case 2:
			o.Persist = true
			argv = append(argv, "PERSIST")
		case 3: // two options: a syntax error in both
			o.Persist, o.TTL = true, sdTTL(rng)
			argv = append(argv, "PERSIST", "PX", msArg(o.TTL))
		}
		return sdOp{"GetEx", func(ctx context.Context, c *client.Client) string { return sdValue(c.GetEx(ctx, key, o)) },
			argv, sdRespValue}
	case 7:
		ks := keys()
		return sdOp{"MGet", func(ctx context.Context, c *client.Client) string {
			vals, err := c.MGet(ctx, ks...)
			if err != nil {
				return sdErr(err)
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				parts[i] = sdValue(v, v != nil, nil)
			}
			return strings.Join(parts, ", ")
		}, append([]string{"MGET"}, ks...), func(r svVal) string {
			if e, ok := sdRespErr(r); ok {
				return e
			}
			parts := make([]string, len(r.elems))
			for i := range r.elems {
				parts[i] = sdRespValue(r.elems[i])
			}
			return strings.Join(parts, ", ")
		}}
	case 8:
		var pairs []client.KV
		argv := []string{"MSET"}
		for range 1 + rng.IntN(3) {
			key, val := k(), v()
			pairs = append(pairs, client.KV{Key: key, Value: []byte(val)})
			argv = append(argv, key, val)
		}
		return sdOp{"MSet", func(ctx context.Context, c *client.Client) string { return sdOK(c.MSet(ctx, pairs...)) },
			argv, sdRespOK}
	case 9, 10:
		key, d := k(), sdDeltas[rng.IntN(len(sdDeltas))]
		switch rng.IntN(4) {
		case 0:
			return sdOp{"Incr", func(ctx context.Context, c *client.Client) string { return sdInt(c.Incr(ctx, key)) },
				[]string{"INCR", key}, sdRespInt}
		case 1:
			return sdOp{"Decr", func(ctx context.Context, c *client.Client) string { return sdInt(c.Decr(ctx, key)) },
				[]string{"DECR", key}, sdRespInt}
		case 2:
			return sdOp{"IncrBy", func(ctx context.Context, c *client.Client) string { return sdInt(c.IncrBy(ctx, key, d)) },
				[]string{"INCRBY", key, strconv.FormatInt(d, 10)}, sdRespInt}
		}
		return sdOp{"DecrBy", func(ctx context.Context, c *client.Client) string { return sdInt(c.DecrBy(ctx, key, d)) },
			[]string{"DECRBY", key, strconv.FormatInt(d, 10)}, sdRespInt}
	case 11:
		key, val := k(), v()
		return sdOp{"Append", func(ctx context.Context, c *client.Client) string { return sdInt(c.Append(ctx, key, []byte(val))) },
			[]string{"APPEND", key, val}, sdRespInt}
	case 12:
		ks := keys()
		if rng.IntN(2) == 0 {
			return sdOp{"Del", func(ctx context.Context, c *client.Client) string { return sdInt(c.Del(ctx, ks...)) },
				append([]string{"DEL"}, ks...), sdRespInt}
		}
		return sdOp{"Exists", func(ctx context.Context, c *client.Client) string { return sdInt(c.Exists(ctx, ks...)) },
			append([]string{"EXISTS"}, ks...), sdRespInt}
	case 13:
		src, dst := k(), k()
		return sdOp{"Rename", func(ctx context.Context, c *client.Client) string { return sdOK(c.Rename(ctx, src, dst)) },
			[]string{"RENAME", src, dst}, sdRespOK}
	case 14, 15:
		key := k()
		cond := sdConds[rng.IntN(len(sdConds))]
		if rng.IntN(2) == 0 {
			ttl := sdTTL(rng)
			argv := []string{"PEXPIRE", key, msArg(ttl)}
			if cond.word != "" {
				argv = append(argv, cond.word)
			}
			return sdOp{"Expire", func(ctx context.Context, c *client.Client) string { return sdBool(c.Expire(ctx, key, ttl, cond.c)) },
				argv, sdRespIntBool}
		}
		at := sdAbs[rng.IntN(len(sdAbs))]
		argv := []string{"PEXPIREAT", key, strconv.FormatInt(sdUnixMs(at), 10)}
		if cond.word != "" {
			argv = append(argv, cond.word)
		}
		return sdOp{"ExpireAt", func(ctx context.Context, c *client.Client) string { return sdBool(c.ExpireAt(ctx, key, at, cond.c)) },
			argv, sdRespIntBool}
	case 16, 17:
		key := k()
		return sdOp{"TTL", func(ctx context.Context, c *client.Client) string {
			d, err := c.TTL(ctx, key)
			if err != nil {
				return sdErr(err)
			}
			switch {
			case d < 0:
				return "ttl " + strconv.FormatInt(int64(d), 10) // TTLPersistent, TTLMissing
			case d == client.TTLMax:
				return "ttl beyond a Duration"
			}
			return "ttl " + strconv.FormatInt(d.Milliseconds(), 10)
		}, []string{"PTTL", key}, func(r svVal) string {
			if e, ok := sdRespErr(r); ok {
				return e
			}
			if r.n > math.MaxInt64/int64(time.Millisecond) {
				return "ttl beyond a Duration"
			}
			return "ttl " + strconv.FormatInt(r.n, 10)
		}}
	case 19:
		// A whole SCAN: the SDK's Keys iterator against one SCAN call
		// (COUNT 1000 covers these few keys). The SDK's "" matches all.
		match := pick(rng, rdPatterns)
		argv := []string{"SCAN", "0", "COUNT", "1000"}
		if match != "" {
			argv = append(argv, "MATCH", match)
		}
		return sdOp{"Keys", func(ctx context.Context, c *client.Client) string {
			seen := map[string]bool{}
			for k, err := range c.Keys(ctx, match) {
				if err != nil {
					return sdErr(err)
				}
				seen[k] = true
			}
			return sdKeyList(slices.Collect(maps.Keys(seen)))
		}, argv, func(r svVal) string {
			if e, ok := sdRespErr(r); ok {
				return e
			}
			if len(r.elems) != 2 || r.elems[0].s != "0" {
				return "SCAN did not finish in one call: " + r.String()
			}
			var keys []string
			for _, e := range r.elems[1].elems {
				keys = append(keys, e.s)
			}
			return sdKeyList(keys)
		}}
	case 18:
		key := k()
		return sdOp{"Persist", func(ctx context.Context, c *client.Client) string { return sdBool(c.Persist(ctx, key)) },
			[]string{"PERSIST", key}, sdRespIntBool}
	}
	msg := v()
	return sdOp{"Echo", func(ctx context.Context, c *client.Client) string {
		s, err := c.Echo(ctx, msg)
		return sdValue([]byte(s), true, err)
	}, []string{"ECHO", msg}, sdRespValue}
}
