package server

import (
	"bufio"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The compatibility table: RESP commands and the exact RESP2 replies Redis
// 7 gives, run in order against a fresh server. TestCompatAgainstRedis
// runs the same table against Redis 7.0 (a scratch redis-server, or the
// one RINGDB_COMPARE_REDIS names) to prove the expectations; steps marked
// ringdbOnly are where ringdb deliberately differs and are skipped there.

type respErr string

// parseValue decodes one raw RESP2 reply into int64, string, nil,
// respErr or []any.
func parseValue(raw string) (any, error) {
	v, rest, err := parseValueAt(raw)
	if err == nil && rest != "" {
		err = fmt.Errorf("trailing bytes %q", rest)
	}
	return v, err
}

func parseValueAt(raw string) (any, string, error) {
	i := strings.Index(raw, "\r\n")
	if i < 1 {
		return nil, "", fmt.Errorf("bad reply %q", raw)
	}
	line, rest := raw[1:i], raw[i+2:]
	switch raw[0] {
	case '+':
		return line, rest, nil
	case '-':
		return respErr(line), rest, nil
	case ':':
		n, err := strconv.ParseInt(line, 10, 64)
		return n, rest, err
	case '$':
		n, err := strconv.Atoi(line)
		if err != nil || n < 0 {
			return nil, rest, err
		}
		if len(rest) < n+2 {
			return nil, "", fmt.Errorf("short bulk %q", raw)
		}
		return rest[:n], rest[n+2:], nil
	case '*':
		n, err := strconv.Atoi(line)
		if err != nil || n < 0 {
			return nil, rest, err
		}
		out := make([]any, 0, n)
		for range n {
			var v any
			v, rest, err = parseValueAt(rest)
			if err != nil {
				return nil, "", err
			}
			out = append(out, v)
		}
		return out, rest, nil
	}
	return nil, "", fmt.Errorf("unknown type in %q", raw)
}

type step struct {
	args       []string
	want       string             // exact raw reply, when check is nil
	check      func(string) error // custom check of the raw reply
	ringdbOnly bool               // Redis replies differently on purpose
}

func s(want string, args ...string) step { return step{args: args, want: want} }
func sc(check func(string) error, args ...string) step {
	return step{args: args, check: check}
}

// only marks a step whose expectation is ringdb's, not Redis's.
func only(st step) step { st.ringdbOnly = true; return st }

func intBetween(lo, hi int64) func(string) error {
	return func(raw string) error {
		v, err := parseValue(raw)
		n, ok := v.(int64)
		if err != nil || !ok || n < lo || n > hi {
			return fmt.Errorf("want an integer in [%d, %d]", lo, hi)
		}
		return nil
	}
}

func isInt(raw string) error { return intBetween(-1<<63, 1<<63-1)(raw) }

// bulkSet checks an array of bulk strings, in any order.
func bulkSet(want ...string) func(string) error {
	return func(raw string) error {
		v, err := parseValue(raw)
		arr, ok := v.([]any)
		if err != nil || !ok {
			return fmt.Errorf("want an array")
		}
		var got []string
		for _, e := range arr {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("element %v is not a string", e)
			}
			got = append(got, s)
		}
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			return fmt.Errorf("want %q in any order", w)
		}
		return nil
	}
}

// pairsAnyOrder checks a flat array of field-value pairs (CONFIG GET's
// RESP2 reply) holding the pairs kv, in any order of the pairs: Redis
// lists the parameters of a CONFIG GET with several patterns in its
// dict's order, which its per-process hash seed makes differ from one
// redis-server to the next.
func pairsAnyOrder(kv ...string) func(string) error {
	return func(raw string) error {
		v, err := parseValue(raw)
		arr, ok := v.([]any)
		if err != nil || !ok || len(arr)%2 != 0 {
			return fmt.Errorf("want an array of pairs")
		}
		var got, want []string
		for i := 0; i+1 < len(arr); i += 2 {
			k, ok1 := arr[i].(string)
			v, ok2 := arr[i+1].(string)
			if !ok1 || !ok2 {
				return fmt.Errorf("pair %d is not two strings", i/2)
			}
			got = append(got, k+"\x00"+v)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			want = append(want, kv[i]+"\x00"+kv[i+1])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			return fmt.Errorf("want the pairs %q in any order", kv)
		}
		return nil
	}
}

// scanAll checks a SCAN reply that completes the iteration with keys.
func scanAll(keys ...string) func(string) error {
	return func(raw string) error {
		v, err := parseValue(raw)
		arr, ok := v.([]any)
		if err != nil || !ok || len(arr) != 2 || arr[0] != "0" {
			return fmt.Errorf("want [\"0\", keys]")
		}
		inner := firstValue(raw[strings.Index(raw, "\r\n0\r\n")+5:])
		return bulkSet(keys...)(inner)
	}
}

func contains(subs ...string) func(string) error {
	return func(raw string) error {
		for _, s := range subs {
			if !strings.Contains(raw, s) {
				return fmt.Errorf("want it to contain %q", s)
			}
		}
		return nil
	}
}

func hasPrefix(p string) func(string) error {
	return func(raw string) error {
		if !strings.HasPrefix(raw, p) {
			return fmt.Errorf("want prefix %q", p)
		}
		return nil
	}
}

// firstValue returns the raw text of the first value in raw.
func firstValue(raw string) string {
	r := bufio.NewReader(strings.NewReader(raw))
	v, _ := readReply(r)
	return v
}

func arity(name string) string {
	return errR("ERR wrong number of arguments for '" + name + "' command")
}

const (
	syntaxR    = "-ERR syntax error\r\n"
	notIntR    = "-ERR value is not an integer or out of range\r\n"
	overflowR  = "-ERR increment or decrement would overflow\r\n"
	noSuchKeyR = "-ERR no such key\r\n"
)

func invalidExpire(name string) string {
	return errR("ERR invalid expire time in '" + name + "' command")
}

// compatSteps builds the table; absolute times are computed now.
func compatSteps() []step {
	now := time.Now()
	sec := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	ms := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) }
	pexpAt := now.Add(100 * time.Second).UnixMilli()
	return []step{
		s(okR, "FLUSHALL"),
		// Connection.
		s(simpleR("PONG"), "PING"),
		s(bulkR("hello"), "PING", "hello"),
		s(arity("ping"), "PING", "a", "b"),
		s(bulkR("hi"), "ECHO", "hi"),
		s(arity("echo"), "ECHO"),
		s(arity("echo"), "echo", "a", "b"),
		s(errR("ERR unknown command 'foo', with args beginning with: 'a' 'b' "), "foo", "a", "b"),
		s(errR("ERR unknown command 'foo', with args beginning with: "), "foo"),
		s(errR("ERR unknown command 'FOO', with args beginning with: 'x' "), "FOO", "x"),
		s(okR, "SELECT", "0"),
		only(s(errR("ERR DB index is out of range"), "SELECT", "1")),
		s(errR("ERR DB index is out of range"), "SELECT", "-1"),
		s(notIntR, "SELECT", "abc"),
		s(errR("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"), "AUTH", "foo"),
		only(s(errR("WRONGPASS invalid username-password pair or user is disabled."), "AUTH", "a", "b")),
		s(okR, "AUTH", "default", "anything"),
		s(syntaxR, "AUTH", "a", "b", "c"),
		s(errR("ERR Protocol version is not an integer or out of range"), "HELLO", "abc"),
		only(s(errR("NOPROTO unsupported protocol version"), "HELLO", "4")),
		s(errR("ERR Syntax error in HELLO option 'bogus'"), "HELLO", "3", "bogus"),
		s(errR("ERR Syntax error in HELLO option 'auth'"), "HELLO", "3", "auth", "a"),
		sc(contains("$5\r\nproto\r\n:2\r\n", "$4\r\nmode\r\n$10\r\nstandalone\r\n", "$4\r\nrole\r\n$6\r\nmaster\r\n"), "HELLO", "2"),
		sc(hasPrefix("*14\r\n$6\r\nserver\r\n"), "HELLO"),
		// CLIENT.
		s(okR, "CLIENT", "SETNAME", "myname"),
		s(bulkR("myname"), "CLIENT", "GETNAME"),
		s(errR("ERR Client names cannot contain spaces, newlines or special characters."), "CLIENT", "SETNAME", "a b"),
		s(arity("client|setname"), "CLIENT", "SETNAME"),
		s(arity("client|id"), "CLIENT", "ID", "1"),
		s(errR("ERR unknown subcommand 'bogus'. Try CLIENT HELP."), "CLIENT", "bogus"),
		sc(isInt, "CLIENT", "ID"),
		sc(contains("name=myname ", " db=0 ", " cmd=client|info "), "CLIENT", "INFO"),
		sc(contains("name=myname ", "id="), "CLIENT", "LIST"),
		s(errR("ERR Invalid client ID"), "CLIENT", "LIST", "ID", "abc"),
		s(okR, "CLIENT", "SETNAME", ""),
		s(nullR, "CLIENT", "GETNAME"),
		only(s(okR, "CLIENT", "SETINFO", "lib-name", "go-redis(x)")),
		only(s(errR("ERR Unrecognized option 'foo'"), "CLIENT", "SETINFO", "foo", "bar")),
		only(s(errR("ERR lib-ver cannot contain spaces, newlines or special characters."), "CLIENT", "SETINFO", "lib-ver", "a b")),
		// Strings: GET/SET and SET's options in Redis's validation order.
		s(nullR, "GET", "missing"),
		s(okR, "SET", "k", "v"),
		s(bulkR("v"), "GET", "k"),
		s(arity("get"), "GET"),
		s(arity("get"), "GET", "a", "b"),
		s(arity("set"), "SET", "k"),
		s(invalidExpire("set"), "SET", "k", "v", "ex", "0"),
		s(invalidExpire("set"), "SET", "k", "v", "EX", "-1"),
		s(notIntR, "SET", "k", "v", "ex", "abc"),
		s(invalidExpire("set"), "SET", "k", "v", "px", "0"),
		s(invalidExpire("set"), "SET", "k", "v", "exat", "0"),
		s(invalidExpire("set"), "SET", "k", "v", "pxat", "-5"),
		s(invalidExpire("set"), "SET", "k", "v", "ex", "9999999999999999"),
		s(invalidExpire("set"), "SET", "k", "v", "px", "9223372036854775807"),
		s(syntaxR, "SET", "k", "v", "nx", "xx"),
		s(syntaxR, "SET", "k", "v", "keepttl", "ex", "10"),
		s(syntaxR, "SET", "k", "v", "ex", "10", "keepttl"),
		s(syntaxR, "SET", "k", "v", "ex", "10", "px", "10"),
		s(syntaxR, "SET", "k", "v", "ex"),
		s(syntaxR, "SET", "k", "v", "bogus"),
		s(syntaxR, "SET", "k", "v", "ex", "abc", "nx", "xx"),
		s(bulkR("v"), "SET", "k", "v2", "GET"),
		s(nullR, "SET", "k", "v3", "NX"),
		s(bulkR("v2"), "SET", "k", "v3", "NX", "GET"),
		s(bulkR("v2"), "GET", "k"),
		s(nullR, "SET", "new", "1", "XX"),
		s(intR(0), "EXISTS", "new"),
		s(nullR, "SET", "new", "1", "XX", "GET"),
		s(okR, "SET", "new", "1", "NX"),
		s(bulkR("1"), "SET", "new", "2", "xx", "get"),
		s(okR, "SET", "t", "v", "ex", "10", "ex", "100"),
		sc(intBetween(99, 100), "TTL", "t"),
		s(okR, "SET", "t", "v2", "keepttl"),
		sc(intBetween(99, 100), "TTL", "t"),
		s(okR, "SET", "t", "v", "keepttl", "keepttl"),
		s(okR, "SET", "t", "v"),
		s(intR(-1), "TTL", "t"),
		s(okR, "SET", "t", "v", "px", "5000"),
		sc(intBetween(4000, 5000), "PTTL", "t"),
		sc(intBetween(4, 5), "TTL", "t"),
		s(okR, "SET", "t", "v", "exat", sec(100*time.Second)),
		sc(intBetween(98, 100), "TTL", "t"),
		s(okR, "SET", "t", "v", "pxat", ms(100*time.Second)),
		sc(intBetween(98000, 100000), "PTTL", "t"),
		s(okR, "SET", "t", "v", "pxat", "1000"),
		s(intR(0), "EXISTS", "t"),
		s(intR(1), "SETNX", "sn", "1"),
		s(intR(0), "SETNX", "sn", "2"),
		s(bulkR("1"), "GET", "sn"),
		s(arity("setnx"), "SETNX", "sn"),
		s(okR, "SETEX", "se", "100", "v"),
		sc(intBetween(99, 100), "TTL", "se"),
		s(invalidExpire("setex"), "SETEX", "se", "0", "v"),
		s(invalidExpire("setex"), "SETEX", "se", "-5", "v"),
		s(notIntR, "SETEX", "se", "abc", "v"),
		s(okR, "PSETEX", "pe", "100000", "v"),
		sc(intBetween(99000, 100000), "PTTL", "pe"),
		s(invalidExpire("psetex"), "PSETEX", "pe", "0", "v"),
		s(nullR, "GETSET", "gs", "a"),
		s(bulkR("a"), "GETSET", "gs", "b"),
		s(bulkR("b"), "GETDEL", "gs"),
		s(nullR, "GETDEL", "gs"),
		s(arity("getdel"), "GETDEL"),
		// GETEX.
		s(okR, "SET", "ge", "v"),
		s(bulkR("v"), "GETEX", "ge"),
		s(intR(-1), "TTL", "ge"),
		s(bulkR("v"), "GETEX", "ge", "EX", "100"),
		sc(intBetween(99, 100), "TTL", "ge"),
		s(bulkR("v"), "GETEX", "ge", "PERSIST"),
		s(intR(-1), "TTL", "ge"),
		s(bulkR("v"), "GETEX", "ge", "px", "5000"),
		sc(intBetween(4000, 5000), "PTTL", "ge"),
		s(bulkR("v"), "GETEX", "ge", "exat", sec(100*time.Second)),
		sc(intBetween(98, 100), "TTL", "ge"),
		s(bulkR("v"), "GETEX", "ge", "pxat", ms(100*time.Second)),
		sc(intBetween(98000, 100000), "PTTL", "ge"),
		s(invalidExpire("getex"), "GETEX", "ge", "ex", "0"),
		s(invalidExpire("getex"), "GETEX", "ge", "exat", "0"),
		s(notIntR, "GETEX", "ge", "ex", "abc"),
		s(nullR, "GETEX", "missing", "ex", "-1"),
		s(nullR, "GETEX", "missing", "ex", "abc"),
		s(nullR, "GETEX", "missing"),
		s(syntaxR, "GETEX", "ge", "persist", "ex", "10"),
		s(syntaxR, "GETEX", "ge", "ex", "10", "px", "10"),
		s(syntaxR, "GETEX", "ge", "bogus"),
		s(syntaxR, "GETEX", "ge", "nx"),
		s(syntaxR, "GETEX", "ge", "keepttl"),
		s(bulkR("v"), "GETEX", "ge", "pxat", "1"),
		s(intR(0), "EXISTS", "ge"),
		// MGET/MSET/MSETNX.
		s(okR, "MSET", "a", "1", "b", "2"),
		s(arrR(bulkR("1"), bulkR("2"), nullR), "MGET", "a", "b", "nokey"),
		s(arity("mget"), "MGET"),
		s(arity("mset"), "MSET", "a"),
		s(arity("mset"), "MSET", "a", "1", "b"),
		s(intR(0), "MSETNX", "a", "1", "c", "3"),
		s(intR(0), "EXISTS", "c"),
		s(intR(1), "MSETNX", "c", "3", "d", "4"),
		s(bulksR("3", "4"), "MGET", "c", "d"),
		s(arity("msetnx"), "MSETNX", "a"),
		// INCR family.
		s(okR, "SET", "n", "10"),
		s(intR(11), "INCR", "n"),
		s(intR(10), "DECR", "n"),
		s(intR(15), "INCRBY", "n", "5"),
		s(intR(-5), "DECRBY", "n", "20"),
		s(notIntR, "INCRBY", "n", "abc"),
		s(notIntR, "INCRBY", "n", "1.5"),
		s(notIntR, "DECRBY", "n", "+1"),
		s(intR(1), "INCR", "newcounter"),
		s(intR(-1), "DECR", "newcounter2"),
		s(okR, "SET", "n", "9223372036854775807"),
		s(overflowR, "INCR", "n"),
		s(errR("ERR decrement would overflow"), "DECRBY", "n", "-9223372036854775808"),
		s(okR, "SET", "n", "-9223372036854775808"),
		s(overflowR, "DECR", "n"),
		s(okR, "SET", "str", "abc"),
		s(notIntR, "INCR", "str"),
		s(okR, "SET", "str", " 1"),
		s(notIntR, "INCR", "str"),
		s(okR, "SET", "str", "012"),
		s(notIntR, "INCR", "str"),
		s(okR, "SET", "tc", "5", "ex", "100"),
		s(intR(6), "INCR", "tc"),
		sc(intBetween(99, 100), "TTL", "tc"),
		// APPEND/STRLEN.
		s(intR(5), "APPEND", "ap", "hello"),
		s(intR(11), "APPEND", "ap", " world"),
		s(bulkR("hello world"), "GET", "ap"),
		s(intR(11), "STRLEN", "ap"),
		s(intR(0), "STRLEN", "nokey"),
		s(arity("append"), "APPEND", "ap"),
		s(arity("strlen"), "STRLEN"),
		// GETRANGE/SUBSTR/SETRANGE.
		s(bulkR("hello"), "GETRANGE", "ap", "0", "4"),
		s(bulkR("world"), "GETRANGE", "ap", "-5", "-1"),
		s(bulkR(""), "GETRANGE", "ap", "-1", "-5"),
		s(bulkR("hello world"), "GETRANGE", "ap", "-100", "100"),
		s(bulkR(""), "GETRANGE", "ap", "100", "200"),
		s(bulkR(""), "GETRANGE", "nokey", "0", "-1"),
		s(bulkR("ell"), "SUBSTR", "ap", "1", "3"),
		s(notIntR, "GETRANGE", "ap", "x", "1"),
		s(notIntR, "GETRANGE", "nokey", "1", "9223372036854775808"),
		s(arity("getrange"), "GETRANGE", "ap", "0"),
		s(arity("substr"), "SUBSTR", "ap", "0", "1", "2"),
		s(intR(11), "SETRANGE", "ap", "0", "J"),
		s(bulkR("Jello world"), "GET", "ap"),
		s(intR(14), "SETRANGE", "ap", "12", "!!"),
		s(bulkR("Jello world\x00!!"), "GET", "ap"),
		s(intR(14), "SETRANGE", "ap", "100", ""),
		s(intR(0), "SETRANGE", "sr", "5", ""),
		s(intR(0), "EXISTS", "sr"),
		s(intR(4), "SETRANGE", "sr", "2", "ab"),
		s(bulkR("\x00\x00ab"), "GET", "sr"),
		s(errR("ERR offset is out of range"), "SETRANGE", "sr", "-1", "x"),
		s(errR("ERR offset is out of range"), "SETRANGE", "sr", "-1", ""),
		s(notIntR, "SETRANGE", "sr", "abc", "x"),
		s(errR("ERR string exceeds maximum allowed size (proto-max-bulk-len)"), "SETRANGE", "sr", "536870912", "x"),
		s(errR("ERR string exceeds maximum allowed size (proto-max-bulk-len)"), "SETRANGE", "nokey", "9223372036854775807", "x"),
		s(intR(4), "SETRANGE", "sr", "536870912", ""),
		s(arity("setrange"), "SETRANGE", "sr", "0"),
		s(okR, "SET", "srt", "hello", "EX", "100"),
		s(intR(5), "SETRANGE", "srt", "1", "ipp"),
		s(bulkR("hippo"), "GET", "srt"),
		sc(intBetween(99, 100), "TTL", "srt"),
		// INCRBYFLOAT.
		s(okR, "SET", "fl", "10.5"),
		s(bulkR("10.6"), "INCRBYFLOAT", "fl", "0.1"),
		s(bulkR("10.7"), "INCRBYFLOAT", "fl", "0.1"),
		s(bulkR("5200"), "INCRBYFLOAT", "fl2", "5.2e3"),
		s(bulkR("100000000000000000000"), "INCRBYFLOAT", "fl3", "1e20"),
		s(bulkR("0.125"), "INCRBYFLOAT", "fl4", "0x1p-3"),
		s(errR("ERR value is not a valid float"), "INCRBYFLOAT", "fl", "abc"),
		s(errR("ERR value is not a valid float"), "INCRBYFLOAT", "fl", " 1"),
		s(errR("ERR value is not a valid float"), "INCRBYFLOAT", "fl", "nan"),
		s(errR("ERR value is not a valid float"), "INCRBYFLOAT", "ap", "1"),
		s(errR("ERR increment would produce NaN or Infinity"), "INCRBYFLOAT", "fl", "inf"),
		s(bulkR("10.7"), "GET", "fl"),
		s(arity("incrbyfloat"), "INCRBYFLOAT", "fl"),
		s(okR, "SET", "flt", "5", "EX", "100"),
		s(bulkR("5.5"), "INCRBYFLOAT", "flt", "0.5"),
		sc(intBetween(99, 100), "TTL", "flt"),
		// DEL/UNLINK/EXISTS/TYPE.
		s(intR(2), "DEL", "a", "b", "nokey"),
		s(intR(2), "UNLINK", "c", "d", "d"),
		s(arity("del"), "DEL"),
		s(okR, "SET", "x", "1"),
		s(intR(3), "EXISTS", "x", "x", "x"),
		s(intR(1), "EXISTS", "x", "nokey"),
		s(arity("exists"), "EXISTS"),
		s(simpleR("string"), "TYPE", "x"),
		s(simpleR("none"), "TYPE", "nokey"),
		// EXPIRE family with NX/XX/GT/LT.
		s(okR, "SET", "e", "v"),
		s(intR(1), "EXPIRE", "e", "100"),
		sc(intBetween(99, 100), "TTL", "e"),
		s(intR(0), "EXPIRE", "e", "100", "NX"),
		s(intR(1), "EXPIRE", "e", "200", "XX"),
		s(intR(0), "EXPIRE", "e", "100", "GT"),
		s(intR(1), "EXPIRE", "e", "300", "gt"),
		s(intR(1), "EXPIRE", "e", "50", "LT"),
		sc(intBetween(49, 50), "TTL", "e"),
		s(intR(0), "EXPIRE", "e", "60", "xx", "lt"),
		s(intR(1), "EXPIRE", "e", "40", "xx", "lt"),
		s(intR(1), "PERSIST", "e"),
		s(intR(0), "PERSIST", "e"),
		s(intR(0), "PERSIST", "nokey"),
		s(intR(0), "EXPIRE", "e", "100", "XX"),
		s(intR(0), "EXPIRE", "e", "100", "GT"),
		s(intR(0), "EXPIRE", "e", "100", "xx", "lt"),
		s(intR(1), "EXPIRE", "e", "100", "LT"),
		s(errR("ERR NX and XX, GT or LT options at the same time are not compatible"), "EXPIRE", "e", "10", "nx", "xx"),
		s(errR("ERR NX and XX, GT or LT options at the same time are not compatible"), "EXPIRE", "e", "10", "nx", "gt"),
		s(errR("ERR GT and LT options at the same time are not compatible"), "EXPIRE", "e", "10", "gt", "lt"),
		s(errR("ERR Unsupported option bogus"), "EXPIRE", "e", "10", "bogus"),
		s(errR("ERR Unsupported option bogus"), "EXPIRE", "e", "abc", "bogus"),
		s(notIntR, "EXPIRE", "e", "abc"),
		s(invalidExpire("expire"), "EXPIRE", "e", "9223372036854775807"),
		s(invalidExpire("pexpire"), "PEXPIRE", "e", "9223372036854775807"),
		s(invalidExpire("expireat"), "EXPIREAT", "e", "9223372036854775807"),
		s(invalidExpire("expire"), "EXPIRE", "nokey", "9223372036854775807"),
		s(intR(0), "EXPIRE", "nokey", "10"),
		s(arity("expire"), "EXPIRE", "e"),
		s(intR(1), "PEXPIRE", "e", "5000"),
		sc(intBetween(4000, 5000), "PTTL", "e"),
		s(intR(1), "EXPIREAT", "e", sec(100*time.Second)),
		sc(intBetween(98, 100), "TTL", "e"),
		s(intR(1), "PEXPIREAT", "e", strconv.FormatInt(pexpAt, 10)),
		s(intR(pexpAt), "PEXPIRETIME", "e"),
		s(intR((pexpAt+500)/1000), "EXPIRETIME", "e"),
		s(intR(-2), "EXPIRETIME", "nokey"),
		s(intR(-2), "PEXPIRETIME", "nokey"),
		s(intR(-1), "EXPIRETIME", "x"),
		s(intR(-1), "PEXPIRETIME", "x"),
		s(intR(-2), "TTL", "nokey"),
		s(intR(-2), "PTTL", "nokey"),
		s(intR(-1), "TTL", "x"),
		s(intR(-1), "PTTL", "x"),
		s(intR(1), "EXPIRE", "e", "-1"),
		s(intR(0), "EXISTS", "e"),
		s(okR, "SET", "e", "v"),
		s(intR(1), "PEXPIREAT", "e", "1"),
		s(intR(0), "EXISTS", "e"),
		// RENAME.
		s(okR, "SET", "r1", "v", "ex", "100"),
		s(okR, "RENAME", "r1", "r2"),
		s(bulkR("v"), "GET", "r2"),
		sc(intBetween(99, 100), "TTL", "r2"),
		s(intR(0), "EXISTS", "r1"),
		s(noSuchKeyR, "RENAME", "nokey", "x2"),
		s(okR, "RENAME", "r2", "r2"),
		s(arity("rename"), "RENAME", "r2"),
		// RENAMENX.
		s(okR, "SET", "n1", "v", "ex", "100"),
		s(okR, "SET", "n2", "w"),
		s(intR(0), "RENAMENX", "n1", "n2"),
		s(intR(0), "RENAMENX", "n1", "n1"),
		s(noSuchKeyR, "RENAMENX", "nokey", "n2"),
		s(noSuchKeyR, "RENAMENX", "nokey", "nokey"),
		s(intR(1), "RENAMENX", "n1", "n3"),
		s(bulkR("v"), "GET", "n3"),
		sc(intBetween(99, 100), "TTL", "n3"),
		s(intR(0), "EXISTS", "n1"),
		s(arity("renamenx"), "RENAMENX", "n3"),
		// COPY: options in order; only db 0 exists here (Redis has 16).
		s(intR(1), "COPY", "n3", "c1"),
		sc(intBetween(99, 100), "TTL", "c1"),
		s(bulkR("v"), "GET", "c1"),
		s(intR(0), "COPY", "n3", "n2"),
		s(bulkR("w"), "GET", "n2"),
		s(intR(1), "COPY", "n3", "n2", "REPLACE"),
		s(bulkR("v"), "GET", "n2"),
		s(intR(0), "COPY", "nokey", "n2", "replace"),
		s(intR(1), "COPY", "n3", "n2", "db", "0", "replace", "REPLACE"),
		s(errR("ERR source and destination objects are the same"), "COPY", "n3", "n3"),
		s(errR("ERR source and destination objects are the same"), "COPY", "nokey", "nokey", "DB", "0"),
		s(syntaxR, "COPY", "n3", "c2", "DB"),
		s(syntaxR, "COPY", "n3", "c2", "bogus", "DB", "x"),
		s(notIntR, "COPY", "n3", "c2", "DB", "x", "bogus"),
		s(errR("ERR value is out of range, value must between -2147483648 and 2147483647"), "COPY", "n3", "c2", "DB", "2147483648"),
		s(errR("ERR DB index is out of range"), "COPY", "n3", "c2", "DB", "-1"),
		only(s(errR("ERR DB index is out of range"), "COPY", "n3", "c2", "DB", "1")),
		s(arity("copy"), "COPY", "n3"),
		// TOUCH.
		s(intR(4), "TOUCH", "n2", "n3", "nokey", "n3", "c1"),
		s(intR(0), "TOUCH", "nokey"),
		s(arity("touch"), "TOUCH"),
		// OBJECT: the encoding SET gives; small integers are shared.
		s(okR, "MSET", "o1", "1", "o2", "10000", "o3", "-5", "o4", "007", "o5", strings.Repeat("e", 44), "o6", strings.Repeat("r", 45), "o7", "9223372036854775808"),
		s(bulkR("int"), "OBJECT", "ENCODING", "o1"),
		s(bulkR("int"), "object", "encoding", "o2"),
		s(bulkR("int"), "OBJECT", "ENCODING", "o3"),
		s(bulkR("embstr"), "OBJECT", "ENCODING", "o4"),
		s(bulkR("embstr"), "OBJECT", "ENCODING", "o5"),
		s(bulkR("raw"), "OBJECT", "ENCODING", "o6"),
		s(bulkR("embstr"), "OBJECT", "ENCODING", "o7"),
		s(nullR, "OBJECT", "ENCODING", "nokey"),
		s(intR(2147483647), "OBJECT", "REFCOUNT", "o1"),
		s(intR(1), "OBJECT", "REFCOUNT", "o2"),
		s(intR(1), "OBJECT", "REFCOUNT", "o3"),
		s(intR(1), "OBJECT", "REFCOUNT", "o5"),
		s(nullR, "OBJECT", "REFCOUNT", "nokey"),
		s(intR(9999), "INCRBY", "o1", "9998"),
		s(intR(2147483647), "OBJECT", "REFCOUNT", "o1"),
		s(intR(10000), "INCR", "o1"),
		s(intR(1), "OBJECT", "REFCOUNT", "o1"),
		s(errR("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."), "OBJECT", "FREQ", "o1"),
		s(nullR, "OBJECT", "FREQ", "nokey"),
		s(nullR, "OBJECT", "IDLETIME", "nokey"),
		s(arity("object|encoding"), "OBJECT", "ENCODING"),
		s(arity("object|encoding"), "OBJECT", "ENCODING", "o1", "o2"),
		s(arity("object"), "OBJECT"),
		s(errR("ERR unknown subcommand 'bogus'. Try OBJECT HELP."), "OBJECT", "bogus"),
		sc(hasPrefix("*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n"), "OBJECT", "HELP"),
		// MEMORY.
		s(nullR, "MEMORY", "USAGE", "nokey"),
		sc(intBetween(10, 1000), "MEMORY", "USAGE", "o1"),
		sc(intBetween(10, 1000), "MEMORY", "USAGE", "o1", "SAMPLES", "0"),
		s(syntaxR, "MEMORY", "USAGE", "o1", "SAMPLES", "-1"),
		s(notIntR, "MEMORY", "USAGE", "nokey", "SAMPLES", "x"),
		s(syntaxR, "MEMORY", "USAGE", "o1", "SAMPLES"),
		s(syntaxR, "MEMORY", "USAGE", "o1", "bogus"),
		s(arity("memory|usage"), "MEMORY", "USAGE"),
		s(okR, "MEMORY", "PURGE"),
		sc(hasPrefix("*14\r\n+MEMORY <subcommand>"), "MEMORY", "HELP"),
		sc(contains("$14\r\npeak.allocated\r\n:", "$15\r\ntotal.allocated\r\n:", "$10\r\nkeys.count\r\n:", "$13\r\ndataset.bytes\r\n:"), "MEMORY", "STATS"),
		sc(hasPrefix("$"), "MEMORY", "DOCTOR"),
		sc(hasPrefix("$"), "MEMORY", "MALLOC-STATS"),
		s(errR("ERR unknown subcommand 'bogus'. Try MEMORY HELP."), "MEMORY", "bogus"),
		s(arity("memory"), "MEMORY"),
		// KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSH*.
		s(okR, "FLUSHALL"),
		s(nullR, "RANDOMKEY"),
		s(arrR(), "KEYS", "*"),
		s(okR, "MSET", "ka", "1", "kb", "2", "other", "3"),
		sc(bulkSet("ka", "kb"), "KEYS", "k*"),
		sc(bulkSet("ka", "kb", "other"), "KEYS", "*"),
		sc(bulkSet("ka"), "KEYS", "k[a]"),
		sc(bulkSet("ka", "kb"), "KEYS", "k?"),
		s(intR(3), "DBSIZE"),
		s(arity("dbsize"), "DBSIZE", "1"),
		sc(scanAll("ka", "kb", "other"), "SCAN", "0", "COUNT", "1000"),
		sc(scanAll("ka", "kb"), "SCAN", "0", "MATCH", "k*", "COUNT", "1000"),
		sc(scanAll("ka", "kb", "other"), "SCAN", "0", "TYPE", "string", "COUNT", "1000"),
		s(arrR(bulkR("0"), arrR()), "SCAN", "0", "TYPE", "hash", "COUNT", "1000"),
		s(errR("ERR invalid cursor"), "SCAN", "abc"),
		s(syntaxR, "SCAN", "0", "COUNT", "0"),
		s(notIntR, "SCAN", "0", "COUNT", "abc"),
		s(syntaxR, "SCAN", "0", "MATCH"),
		s(syntaxR, "SCAN", "0", "bogus", "1"),
		s(arity("scan"), "SCAN"),
		s(intR(2), "DEL", "kb", "other"),
		s(bulkR("ka"), "RANDOMKEY"),
		s(okR, "FLUSHDB"),
		s(intR(0), "DBSIZE"),
		s(okR, "FLUSHALL", "ASYNC"),
		s(okR, "FLUSHALL", "sync"),
		s(okR, "FLUSHDB", "async"),
		s(syntaxR, "FLUSHALL", "bogus"),
		s(syntaxR, "FLUSHDB", "async", "sync"),
		// TIME.
		sc(func(raw string) error {
			v, err := parseValue(raw)
			arr, ok := v.([]any)
			if err != nil || !ok || len(arr) != 2 {
				return fmt.Errorf("want two bulk strings")
			}
			secs, err1 := strconv.ParseInt(arr[0].(string), 10, 64)
			usec, err2 := strconv.ParseInt(arr[1].(string), 10, 64)
			if err1 != nil || err2 != nil || usec < 0 || usec > 999999 {
				return fmt.Errorf("bad TIME")
			}
			if d := time.Now().Unix() - secs; d < -2 || d > 2 {
				return fmt.Errorf("TIME off by %ds", d)
			}
			return nil
		}, "TIME"),
		s(arity("time"), "TIME", "x"),
		// CONFIG.
		s(bulksR("maxmemory", "0"), "CONFIG", "GET", "maxmemory"),
		sc(pairsAnyOrder("appendonly", "no", "save", ""), "CONFIG", "GET", "save", "appendonly"),
		s(arrR(), "CONFIG", "GET", "nothing"),
		s(arity("config|get"), "CONFIG", "GET"),
		s(arity("config|set"), "CONFIG", "SET", "maxmemory"),
		s(errR("ERR unknown subcommand 'bogus'. Try CONFIG HELP."), "CONFIG", "bogus"),
		s(errR("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"), "CONFIG", "SET", "maxmemory", "abc"),
		s(errR("ERR Unknown option or number of arguments for CONFIG SET - 'bogus'"), "CONFIG", "SET", "bogus", "1"),
		s(errR("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"), "CONFIG", "SET", "maxmemory-policy", "foo"),
		s(errR("ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer"), "CONFIG", "SET", "maxclients", "abc"),
		s(errR("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive"), "CONFIG", "SET", "timeout", "-1"),
		// Integer settings parse as Redis's string2ll does: no sign
		// but '-', no leading zeros, no spaces.
		s(errR("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"), "CONFIG", "SET", "timeout", "+10"),
		s(errR("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"), "CONFIG", "SET", "timeout", "010"),
		s(errR("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"), "CONFIG", "SET", "timeout", "-0"),
		s(errR("ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer"), "CONFIG", "SET", "maxclients", "00"),
		s(errR("ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - argument couldn't be parsed into an integer"), "CONFIG", "SET", "slowlog-max-len", "+128"),
		s(bulksR("timeout", "0"), "CONFIG", "GET", "timeout"),
		s(errR("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter"), "CONFIG", "SET", "maxmemory", "1gb", "maxmemory", "2gb"),
		s(syntaxR, "CONFIG", "SET", "maxmemory", "10", "foo"),
		s(okR, "CONFIG", "SET", "maxmemory", "0"),
		s(okR, "CONFIG", "SET", "maxmemory-policy", "noeviction"),
		s(bulksR("maxmemory-policy", "noeviction"), "CONFIG", "GET", "maxmemory-policy"),
		s(okR, "CONFIG", "SET", "timeout", "0"),
		s(bulksR("timeout", "0"), "CONFIG", "GET", "timeout"),
		// COMMAND.
		sc(isInt, "COMMAND", "COUNT"),
		s(errR("ERR unknown subcommand 'bogus'. Try COMMAND HELP."), "COMMAND", "bogus"),
		sc(hasPrefix("*1\r\n*10\r\n$3\r\nget\r\n:2\r\n"), "COMMAND", "INFO", "get"),
		sc(hasPrefix("*2\r\n$-1\r\n*10\r\n$3\r\nget\r\n"), "COMMAND", "INFO", "nonexist", "get"),
		s(arrR(), "COMMAND", "DOCS", "nonexist"),
		sc(hasPrefix("*1\r\n*10\r\n$8\r\ngetrange\r\n:4\r\n*1\r\n+readonly\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@slow\r\n"), "COMMAND", "INFO", "getrange"),
		sc(hasPrefix("*1\r\n*10\r\n$6\r\nsubstr\r\n:4\r\n*1\r\n+readonly\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@slow\r\n"), "COMMAND", "INFO", "substr"),
		sc(contains("*10\r\n$8\r\nsetrange\r\n:4\r\n*2\r\n", "+write\r\n", "+denyoom\r\n", ":1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@string\r\n+@slow\r\n"), "COMMAND", "INFO", "setrange"),
		// Redis 7.0's GETEX is not denyoom: it runs at the bound, as here.
		sc(contains("*10\r\n$5\r\ngetex\r\n:-2\r\n*2\r\n+write\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@string\r\n+@fast\r\n"), "COMMAND", "INFO", "getex"),
		sc(contains("*10\r\n$11\r\nincrbyfloat\r\n:3\r\n*3\r\n", "+write\r\n", "+denyoom\r\n", "+fast\r\n", ":1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@string\r\n+@fast\r\n"), "COMMAND", "INFO", "incrbyfloat"),
		sc(contains("$8\r\ngetrange\r\n", "$7\r\nsummary\r\n", "$5\r\ngroup\r\n$6\r\nstring\r\n"), "COMMAND", "DOCS", "getrange"),
		sc(contains("$3\r\nget\r\n", "$7\r\nsummary\r\n"), "COMMAND", "DOCS", "get"),
		// INFO.
		sc(contains("# Server\r\n", "redis_version:", "# Clients\r\n", "connected_clients:", "# Memory\r\n", "used_memory:", "maxmemory:", "# Stats\r\n", "keyspace_hits:", "keyspace_misses:", "total_net_input_bytes:", "total_net_output_bytes:", "evicted_keys:", "expired_keys:", "# Keyspace\r\n"), "INFO"),
		s(bulkR("# Keyspace\r\n"), "INFO", "keyspace"),
		s(okR, "SET", "x", "1"),
		s(bulkR("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"), "INFO", "keyspace"),
		s(bulkR(""), "INFO", "bogus"),
	}
}

// runSteps runs the table on c, failing on each mismatch.
func runSteps(t *testing.T, c rawClient, steps []step, redis bool) {
	t.Helper()
	for i, st := range steps {
		if redis && st.ringdbOnly {
			continue
		}
		got := c.do(t, st.args...)
		if st.check != nil {
			if err := st.check(got); err != nil {
				t.Errorf("step %d %q: got %q: %v", i, st.args, got, err)
			}
			continue
		}
		if got != st.want {
			t.Errorf("step %d %q:\n got %q\nwant %q", i, st.args, got, st.want)
		}
	}
}

// TestCompatDirect runs the table through the handler, without a
// transport.
func TestCompatDirect(t *testing.T) {
	srv := newDirectServer(t, Config{})
	runSteps(t, newDirectClient(t, srv), compatSteps(), false)
}

// TestCompatAgainstRedis proves the table's expectations against a real
// Redis 7.0: a scratch redis-server, or the one RINGDB_COMPARE_REDIS
// names (compareRedis).
func TestCompatAgainstRedis(t *testing.T) {
	runSteps(t, compareRedis(t), compatSteps(), true)
}

// TestCompatTransports runs the table over every transport, as a client
// would see it.
func TestCompatTransports(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		runSteps(t, ts.raw(t), compatSteps(), false)
	})
}
