package fuzz

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
)

// FuzzServerRESP decodes its input into a sequence of RESP commands over a
// small key space and sends them to a real in-process server (one gnet and
// one std transport server per fuzz process, on 127.0.0.1:0, reached over
// a plain TCP connection). Every reply is parsed by a strict RESP2/RESP3
// reader written here (svParse) and must be exactly one well-formed value
// of a type the command may return in the connection's current protocol;
// the connection must stay open and in sync (each input starts with ECHO of
// a fresh nonce). Along the way a small model (svModelStep) follows the
// keys whose state is certain (absent, or a string without TTL: a key with
// a TTL becomes unknown until a command sets or deletes it outright) and
// checks every reply about them. After the sequence it checks invariants
// that hold in Redis whatever the commands did: only keys of the
// vocabulary exist, every key with PTTL -1 or above svMargin is a string
// whose GET is a bulk string of STRLEN bytes listed by KEYS *, and, when
// no key is about to expire, DBSIZE is the number of keys KEYS * returns
// and keys with PTTL -2 stay absent.
//
// Input layout: byte 0 picks the transport (bit 0), whether the first
// svMaxSync commands of the sequence go one round trip each (bits 1 and 4
// both set) instead of in a single pipelined write with the setup and the
// final check, and whether the pipelined writes are cut in pieces (bits
// 2-3: that many bytes follow, each a cut position in 256ths of the batch).
// Then each command is an opcode byte (op % len(svOps); a byte >= 0xE0
// also adds a stray argument to a fixed-arity command, which must then
// fail) followed by the bytes its generator reads. A missing byte reads as
// 0, so every input is valid. SVFUZZ_LOG=1 logs each sequence and its
// replies.
func FuzzServerRESP(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 5, 'h', 'e', 'l', 'l', 'o', 0, 0})
	f.Add([]byte{1, 1, 2, 1, 0x10, 0, 0x02, 1, 3, 2, 9, 1, 0x80, 3})
	f.Add([]byte{2, 14, 3, 14, 3, 15, 3, 0, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		svRunInput(t, data)
	})
}

const (
	svMaxCmds  = 64
	svMaxValue = 16
	// svMaxSync is how many commands go one round trip each, at most, in
	// the one-at-a-time mode (round trips are what costs most).
	svMaxSync = 16
	// svMargin is the PTTL (ms) above which a key is taken as live for the
	// whole final check.
	svMargin = 2000
	// svTimeout bounds one input's exchange with the server.
	svTimeout = 10 * time.Second
)

var svKeys = []string{"a", "b", "key:1", "key:2", "", "\x00\xffbin"}

var svNums = []string{
	"0", "1", "-1", "2", "10", "100", "1000", "3600", "-100",
	"9223372036854775807", "-9223372036854775808", "9223372036854775806", "-9223372036854775807",
	"9223372036854775808", "99999999999999999999", "9223372036854775", "9223372036854776",
	"abc", "", "1.5", " 1", "+1", "01", "-0", "0x10", "1e3",
}

var svWords = []string{
	"EX", "PX", "EXAT", "PXAT", "NX", "XX", "GT", "LT", "KEEPTTL", "GET", "PERSIST",
	"MATCH", "COUNT", "TYPE", "string", "ASYNC", "SYNC", "", "\x00",
}

var svPatterns = []string{
	"*", "a", "key:*", "k?y:[12]", "[^a]*", "*\\", "[", "\\*", "", "[a-", "*:*", "\x00*", "[b-a]*", "??", "*[",
}

var svPolicies = []string{
	"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
	"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "bogus", "",
}

// svVerbose logs every sequence with its replies (SVFUZZ_LOG=1).
var svVerbose = os.Getenv("SVFUZZ_LOG") != ""

var svNames = []string{"", "fuzz", "a b", "x\ny", "name-1", "\x00", "~!"}

// ---- server and connection ----

type svTarget struct {
	kind string
	once sync.Once
	srv  *server.Server
	err  error
	conn net.Conn
	r    *bufio.Reader
}

var (
	svMu      sync.Mutex
	svTargets = [2]*svTarget{{kind: server.TransportGnet}, {kind: server.TransportStd}}
	svNonce   uint64
)

// connect starts the server on first use and dials it if needed. The
// server lives as long as the fuzz process.
func (tg *svTarget) connect(t *testing.T) {
	tg.once.Do(func() { tg.srv, tg.err = startServer(tg.kind, "") })
	if tg.err != nil {
		t.Fatalf("start %s server: %v", tg.kind, tg.err)
	}
	if tg.conn != nil {
		return
	}
	c, err := net.DialTimeout("tcp", tg.srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s server: %v", tg.kind, err)
	}
	tg.conn, tg.r = c, bufio.NewReaderSize(c, 64<<10)
}

// startServer starts an in-process server on a loopback port, with one
// event loop, no metrics endpoint, no log, and password token if set.
func startServer(transport, token string) (*server.Server, error) {
	cfg := server.Config{Addr: "127.0.0.1:0", Transport: transport, MetricsAddr: "off", Loops: 1, AuthToken: token, CrashOnPanic: true}
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		err = s.Start()
	}
	return s, err
}

func (tg *svTarget) drop() {
	if tg.conn != nil {
		tg.conn.Close()
		tg.conn, tg.r = nil, nil
	}
}

// ---- input decoding ----

type svIn struct {
	b []byte
	i int
}

func (in *svIn) next() byte {
	if in.i >= len(in.b) {
		in.i++
		return 0
	}
	c := in.b[in.i]
	in.i++
	return c
}

func (in *svIn) done() bool { return in.i >= len(in.b) }

func (in *svIn) pick(list []string) string { return list[int(in.next())%len(list)] }

func (in *svIn) key() string { return in.pick(svKeys) }

// word returns w, lowercased when the next bit says so.
func (in *svIn) word(w string) string {
	if in.next()&1 != 0 {
		return strings.ToLower(w)
	}
	return w
}

func (in *svIn) num() string { return in.pick(svNums) }

// abs returns a unix time in seconds (or milliseconds) near now, or one of
// svNums.
func (in *svIn) abs(ms bool) string {
	b := in.next()
	if b < 0x80 {
		return svNums[int(b)%len(svNums)]
	}
	deltas := []int64{-100, -1, 0, 1, 2, 100, 3600}
	d := deltas[int(b)%len(deltas)]
	now := time.Now()
	if ms {
		return strconv.FormatInt(now.UnixMilli()+d*1000, 10)
	}
	return strconv.FormatInt(now.Unix()+d, 10)
}

// val returns a short value: a number (so that INCR has something to work
// on) or up to svMaxValue bytes of input.
func (in *svIn) val() string {
	b := in.next()
	if b%4 == 0 {
		return svNums[int(b/4)%12]
	}
	n := int(in.next()) % (svMaxValue + 1)
	var v []byte
	for range n {
		v = append(v, in.next())
	}
	return string(v)
}

func (in *svIn) keys(lo, n int) []string {
	k := make([]string, 0, n)
	for range lo + int(in.next())%n {
		k = append(k, in.key())
	}
	return k
}

// ---- commands ----

type svState struct {
	proto int    // RESP version of the connection
	id    int64  // the connection's client id
	name  string // expected CLIENT GETNAME ("" means nil)
	// m is what is known of each key (see svModelStep); a key missing
	// from m is unknown.
	m map[string]svKnown
}

type svCmd struct {
	argv []string
	// hello is the version a HELLO asks for (0 when not a HELLO with a
	// version): its reply is read in either protocol.
	hello int
	check func(st *svState, v *svVal) error
	// stray is set when a stray argument was added: the reply must be an
	// error and the model learns nothing from it.
	stray bool
}

var svOps = []string{
	"GET", "SET", "SETNX", "SETEX", "PSETEX", "GETSET", "GETDEL", "GETEX", "MGET", "MSET",
	"MSETNX", "INCR", "DECR", "INCRBY", "DECRBY", "APPEND", "STRLEN", "DEL", "UNLINK", "EXISTS",
	"TYPE", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST",
	"RENAME", "KEYS", "SCAN", "RANDOMKEY", "DBSIZE", "FLUSHDB", "PING", "ECHO", "SELECT", "CONFIG GET",
	"CONFIG SET", "COMMAND COUNT", "HELLO", "CLIENT SETNAME", "CLIENT GETNAME", "CLIENT ID", "TIME", "INFO",
}

// svFixedArity lists the commands whose argument count is fixed: a stray
// argument must make them fail with an arity error.
var svFixedArity = map[string]bool{
	"GET": true, "SETNX": true, "SETEX": true, "PSETEX": true, "GETSET": true, "GETDEL": true,
	"INCR": true, "DECR": true, "INCRBY": true, "DECRBY": true, "APPEND": true, "STRLEN": true,
	"TYPE": true, "TTL": true, "PTTL": true, "EXPIRETIME": true, "PEXPIRETIME": true, "PERSIST": true,
	"RENAME": true, "KEYS": true, "RANDOMKEY": true, "DBSIZE": true, "ECHO": true, "SELECT": true,
	"TIME": true, "CLIENT GETNAME": true, "CLIENT ID": true, "COMMAND COUNT": true,
}

func svGen(in *svIn) svCmd {
	b := in.next()
	op := svOps[int(b)%len(svOps)]
	c := svGenOp(in, op)
	if b >= 0xE0 && svFixedArity[op] {
		c.argv = append(c.argv, in.pick(svWords))
		c.hello = 0
		c.check = chkErr
		c.stray = true
	}
	return c
}

func svGenOp(in *svIn, op string) svCmd {
	switch op {
	case "GET", "GETDEL":
		return svCmd{argv: []string{op, in.key()}, check: chkBulkOrNil}
	case "SET":
		argv := []string{op, in.key(), in.val()}
		for range int(in.next()) % 4 {
			switch in.next() % 10 {
			case 0:
				argv = append(argv, in.word("EX"), in.num())
			case 1:
				argv = append(argv, in.word("PX"), in.num())
			case 2:
				argv = append(argv, in.word("EXAT"), in.abs(false))
			case 3:
				argv = append(argv, in.word("PXAT"), in.abs(true))
			case 4:
				argv = append(argv, in.word("NX"))
			case 5:
				argv = append(argv, in.word("XX"))
			case 6:
				argv = append(argv, in.word("KEEPTTL"))
			case 7:
				argv = append(argv, in.word("GET"))
			default:
				argv = append(argv, in.pick(svWords))
			}
		}
		get := false
		for _, a := range argv[3:] {
			get = get || strings.EqualFold(a, "GET")
		}
		return svCmd{argv: argv, check: func(st *svState, v *svVal) error {
			switch {
			case v.isErr(), v.null, v.isSimple("OK"):
				return nil
			case get && v.isBulk():
				return nil
			}
			return errors.New("want OK, nil, an error, or a bulk string with GET")
		}}
	case "SETNX":
		return svCmd{argv: []string{op, in.key(), in.val()}, check: chkInt(0, 1, false)}
	case "SETEX", "PSETEX":
		return svCmd{argv: []string{op, in.key(), in.num(), in.val()}, check: chkOKOrErr}
	case "GETSET":
		return svCmd{argv: []string{op, in.key(), in.val()}, check: chkBulkOrNil}
	case "GETEX":
		argv := []string{op, in.key()}
		switch in.next() % 8 {
		case 1:
			argv = append(argv, in.word("EX"), in.num())
		case 2:
			argv = append(argv, in.word("PX"), in.num())
		case 3:
			argv = append(argv, in.word("EXAT"), in.abs(false))
		case 4:
			argv = append(argv, in.word("PXAT"), in.abs(true))
		case 5:
			argv = append(argv, in.word("PERSIST"))
		case 6:
			argv = append(argv, in.pick(svWords), in.num())
		case 7:
			argv = append(argv, in.word("PERSIST"), in.pick(svWords))
		}
		return svCmd{argv: argv, check: chkOr(chkBulkOrNil, chkErr)}
	case "MGET":
		keys := in.keys(1, 4)
		return svCmd{argv: append([]string{op}, keys...), check: func(st *svState, v *svVal) error {
			if !v.isArray() || len(v.elems) != len(keys) {
				return fmt.Errorf("want an array of %d elements", len(keys))
			}
			for i := range v.elems {
				if err := chkBulkOrNil(st, &v.elems[i]); err != nil {
					return fmt.Errorf("element %d: %w", i, err)
				}
			}
			return nil
		}}
	case "MSET", "MSETNX":
		n := 2 + int(in.next())%6 // 1 to 3 pairs, or a missing value
		argv := []string{op}
		for i := range n {
			if i%2 == 0 {
				argv = append(argv, in.key())
			} else {
				argv = append(argv, in.val())
			}
		}
		if op == "MSET" {
			return svCmd{argv: argv, check: chkOKOrErr}
		}
		return svCmd{argv: argv, check: chkInt(0, 1, true)}
	case "INCR", "DECR":
		return svCmd{argv: []string{op, in.key()}, check: chkOr(chkInt(minInt, maxInt, false), chkErr)}
	case "INCRBY", "DECRBY":
		return svCmd{argv: []string{op, in.key(), in.num()}, check: chkOr(chkInt(minInt, maxInt, false), chkErr)}
	case "APPEND":
		v := in.val()
		return svCmd{argv: []string{op, in.key(), v}, check: chkInt(int64(len(v)), maxInt, false)}
	case "STRLEN":
		return svCmd{argv: []string{op, in.key()}, check: chkInt(0, maxInt, false)}
	case "DEL", "UNLINK", "EXISTS":
		keys := in.keys(1, 4)
		return svCmd{argv: append([]string{op}, keys...), check: chkInt(0, int64(len(keys)), false)}
	case "TYPE":
		return svCmd{argv: []string{op, in.key()}, check: func(st *svState, v *svVal) error {
			if v.isSimple("string") || v.isSimple("none") {
				return nil
			}
			return errors.New("want +string or +none")
		}}
	case "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT":
		argv := []string{op, in.key()}
		if op == "EXPIREAT" || op == "PEXPIREAT" {
			argv = append(argv, in.abs(op == "PEXPIREAT"))
		} else {
			argv = append(argv, in.num())
		}
		for range int(in.next()) % 3 {
			switch in.next() % 5 {
			case 0:
				argv = append(argv, in.word("NX"))
			case 1:
				argv = append(argv, in.word("XX"))
			case 2:
				argv = append(argv, in.word("GT"))
			case 3:
				argv = append(argv, in.word("LT"))
			default:
				argv = append(argv, in.pick(svWords))
			}
		}
		return svCmd{argv: argv, check: chkInt(0, 1, true)}
	case "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME":
		return svCmd{argv: []string{op, in.key()}, check: chkInt(-2, maxInt, false)}
	case "PERSIST":
		return svCmd{argv: []string{op, in.key()}, check: chkInt(0, 1, false)}
	case "RENAME":
		return svCmd{argv: []string{op, in.key(), in.key()}, check: chkOKOrErr}
	case "KEYS":
		return svCmd{argv: []string{op, in.pick(svPatterns)}, check: func(st *svState, v *svVal) error {
			return chkKeyList(v, true)
		}}
	case "SCAN":
		argv := []string{op, "0"}
		if b := in.next(); b >= 0x80 {
			argv[1] = svNums[int(b)%len(svNums)]
		}
		for range int(in.next()) % 3 {
			switch in.next() % 4 {
			case 0:
				argv = append(argv, in.word("MATCH"), in.pick(svPatterns))
			case 1:
				argv = append(argv, in.word("COUNT"), in.num())
			case 2:
				argv = append(argv, in.word("TYPE"), in.pick([]string{"string", "hash", "bogus"}))
			default:
				argv = append(argv, in.pick(svWords))
			}
		}
		return svCmd{argv: argv, check: func(st *svState, v *svVal) error {
			if v.isErr() {
				return nil
			}
			if !v.isArray() || len(v.elems) != 2 {
				return errors.New("want an error or an array of 2 elements")
			}
			cur := &v.elems[0]
			if !cur.isBulk() {
				return errors.New("cursor: want a bulk string")
			}
			if _, err := strconv.ParseUint(cur.s, 10, 64); err != nil {
				return fmt.Errorf("cursor %q: not an unsigned integer", cur.s)
			}
			return chkKeyList(&v.elems[1], false)
		}}
	case "RANDOMKEY":
		return svCmd{argv: []string{op}, check: func(st *svState, v *svVal) error {
			if v.null {
				return nil
			}
			if !v.isBulk() || !svIsKey(v.s) {
				return errors.New("want nil or a key of the vocabulary")
			}
			return nil
		}}
	case "DBSIZE":
		return svCmd{argv: []string{op}, check: chkInt(0, int64(len(svKeys)), false)}
	case "FLUSHDB":
		argv := []string{op}
		switch in.next() % 4 {
		case 1:
			argv = append(argv, in.word("ASYNC"))
		case 2:
			argv = append(argv, in.word("SYNC"))
		case 3:
			argv = append(argv, in.pick(svWords))
		}
		return svCmd{argv: argv, check: chkOKOrErr}
	case "PING":
		if in.next()%2 == 0 {
			return svCmd{argv: []string{op}, check: chkSimple("PONG")}
		}
		m := in.val()
		return svCmd{argv: []string{op, m}, check: chkBulkEq(m)}
	case "ECHO":
		m := in.val()
		return svCmd{argv: []string{op, m}, check: chkBulkEq(m)}
	case "SELECT":
		n := in.num()
		if n == "0" {
			return svCmd{argv: []string{op, n}, check: chkSimple("OK")}
		}
		return svCmd{argv: []string{op, n}, check: chkOKOrErr}
	case "CONFIG GET":
		p := in.pick([]string{"maxmemory-policy", "maxmemory", "*", "max*", "nosuch", "MAXMEMORY-POLICY"})
		return svCmd{argv: []string{"CONFIG", "GET", p}, check: chkMap}
	case "CONFIG SET":
		return svCmd{argv: []string{"CONFIG", "SET", "maxmemory-policy", in.pick(svPolicies)}, check: chkOKOrErr}
	case "COMMAND COUNT":
		return svCmd{argv: []string{"COMMAND", "COUNT"}, check: chkInt(1, maxInt, false)}
	case "HELLO":
		switch b := in.next() % 8; {
		case b < 3:
			return svCmd{argv: []string{op, "2"}, hello: 2, check: chkHello(2)}
		case b < 6:
			return svCmd{argv: []string{op, "3"}, hello: 3, check: chkHello(3)}
		case b == 6:
			return svCmd{argv: []string{op}, check: chkHello(0)}
		default:
			return svCmd{argv: []string{op, in.pick([]string{"4", "1", "abc", "-1", "9223372036854775808"})}, check: chkErr}
		}
	case "CLIENT SETNAME":
		name := in.pick(svNames)
		return svCmd{argv: []string{"CLIENT", "SETNAME", name}, check: func(st *svState, v *svVal) error {
			valid := true
			for _, c := range []byte(name) {
				if c < '!' || c > '~' {
					valid = false
				}
			}
			if !valid {
				return chkErr(st, v)
			}
			if !v.isSimple("OK") {
				return errors.New("want +OK for a valid name")
			}
			st.name = name
			return nil
		}}
	case "CLIENT GETNAME":
		return svCmd{argv: []string{"CLIENT", "GETNAME"}, check: func(st *svState, v *svVal) error {
			if st.name == "" {
				return chkNil(st, v)
			}
			return chkBulkEq(st.name)(st, v)
		}}
	case "CLIENT ID":
		return svCmd{argv: []string{"CLIENT", "ID"}, check: func(st *svState, v *svVal) error {
			if v.t != ':' || v.n != st.id {
				return fmt.Errorf("want :%d, the id HELLO reported", st.id)
			}
			return nil
		}}
	case "TIME":
		return svCmd{argv: []string{op}, check: chkTime}
	case "INFO":
		return svCmd{argv: []string{op, in.word("keyspace")}, check: chkInfoKeyspace}
	}
	panic("svGenOp: unknown op " + op)
}

func svIsKey(k string) bool {
	for _, x := range svKeys {
		if x == k {
			return true
		}
	}
	return false
}

// ---- reply checks ----

const (
	minInt = -1 << 63
	maxInt = 1<<63 - 1
)

func chkErr(_ *svState, v *svVal) error {
	if !v.isErr() {
		return errors.New("want an error")
	}
	return nil
}

func chkNil(_ *svState, v *svVal) error {
	if !v.null {
		return errors.New("want nil")
	}
	return nil
}

func chkOKOrErr(_ *svState, v *svVal) error {
	if !v.isErr() && !v.isSimple("OK") {
		return errors.New("want +OK or an error")
	}
	return nil
}

func chkBulkOrNil(_ *svState, v *svVal) error {
	if !v.null && !v.isBulk() {
		return errors.New("want a bulk string or nil")
	}
	return nil
}

func chkSimple(s string) func(*svState, *svVal) error {
	return func(_ *svState, v *svVal) error {
		if !v.isSimple(s) {
			return fmt.Errorf("want +%s", s)
		}
		return nil
	}
}

func chkBulkEq(s string) func(*svState, *svVal) error {
	return func(_ *svState, v *svVal) error {
		if !v.isBulk() || v.s != s {
			return fmt.Errorf("want bulk %q", s)
		}
		return nil
	}
}

func chkInt(lo, hi int64, errOK bool) func(*svState, *svVal) error {
	return func(_ *svState, v *svVal) error {
		if errOK && v.isErr() {
			return nil
		}
		if v.t != ':' || v.n < lo || v.n > hi {
			return fmt.Errorf("want an integer in [%d, %d]", lo, hi)
		}
		return nil
	}
}

func chkOr(a, b func(*svState, *svVal) error) func(*svState, *svVal) error {
	return func(st *svState, v *svVal) error {
		ea := a(st, v)
		if ea == nil {
			return nil
		}
		if eb := b(st, v); eb != nil {
			return fmt.Errorf("%v, or %v", ea, eb)
		}
		return nil
	}
}

// chkMap accepts a RESP3 map or, in RESP2, an array of even length.
func chkMap(st *svState, v *svVal) error {
	switch {
	case v.t == '%':
		return nil
	case v.t == '*' && !v.null && st.proto == 2 && len(v.elems)%2 == 0:
		return nil
	}
	return errors.New("want a map")
}

func chkHello(ver int) func(*svState, *svVal) error {
	return func(st *svState, v *svVal) error {
		if ver != 0 {
			st.proto = ver
		}
		if err := chkMap(st, v); err != nil {
			return err
		}
		fields := map[string]*svVal{}
		for i := 0; i+1 < len(v.elems); i += 2 {
			if !v.elems[i].isBulk() {
				return fmt.Errorf("field %d: want a bulk string name", i/2)
			}
			fields[v.elems[i].s] = &v.elems[i+1]
		}
		p, id := fields["proto"], fields["id"]
		if p == nil || p.t != ':' || p.n != int64(st.proto) {
			return fmt.Errorf("want proto %d", st.proto)
		}
		if id == nil || id.t != ':' || id.n <= 0 {
			return errors.New("want a positive id")
		}
		if st.id == 0 {
			st.id = id.n
		} else if id.n != st.id {
			return fmt.Errorf("id %d, before %d", id.n, st.id)
		}
		return nil
	}
}

// chkKeyList accepts an array of keys of the vocabulary, distinct when
// unique is set.
func chkKeyList(v *svVal, unique bool) error {
	if v.t != '*' || v.null {
		return errors.New("want an array of keys")
	}
	seen := map[string]bool{}
	for i := range v.elems {
		e := &v.elems[i]
		if !e.isBulk() || !svIsKey(e.s) {
			return fmt.Errorf("element %d: want a key of the vocabulary", i)
		}
		if unique && seen[e.s] {
			return fmt.Errorf("key %q listed twice", e.s)
		}
		seen[e.s] = true
	}
	return nil
}

func chkTime(_ *svState, v *svVal) error {
	if v.t != '*' || len(v.elems) != 2 || !v.elems[0].isBulk() || !v.elems[1].isBulk() {
		return errors.New("want an array of 2 bulk strings")
	}
	sec, err1 := strconv.ParseInt(v.elems[0].s, 10, 64)
	us, err2 := strconv.ParseInt(v.elems[1].s, 10, 64)
	if err1 != nil || err2 != nil || sec <= 0 || us < 0 || us > 999_999 {
		return fmt.Errorf("bad time %q %q", v.elems[0].s, v.elems[1].s)
	}
	return nil
}

func chkInfoKeyspace(_ *svState, v *svVal) error {
	s := v.s
	switch {
	case v.t == '$' && !v.null:
	case v.t == '=':
		s = s[4:]
	default:
		return errors.New("want a bulk or verbatim string")
	}
	if !strings.HasPrefix(s, "# Keyspace") {
		return errors.New("want the Keyspace section")
	}
	return nil
}

// ---- model ----

// svKnown is the certain state of a key: absent, or present with value val
// and no TTL. A key with a TTL (or whose state the model cannot follow) is
// unknown: it may expire at any moment, so nothing is asserted about it
// until a command sets or deletes it outright.
type svKnown struct {
	present bool
	val     string
}

// flushed records that every key is absent.
func (st *svState) flushed() {
	st.m = map[string]svKnown{}
	for _, k := range svKeys {
		st.m[k] = svKnown{}
	}
}

// svStrictParse parses an integer as Redis string2ll does.
func svStrictParse(s string) (int64, bool) {
	n, err := svStrictInt(s)
	return n, err == nil
}

// svModelStep checks the reply v to argv against what the model knows
// and updates the model. It only asserts what Redis guarantees.
func svModelStep(st *svState, argv []string, v *svVal) error {
	name := strings.ToUpper(argv[0])
	if name == "CONFIG" || name == "CLIENT" || name == "COMMAND" {
		return nil
	}
	known := func(k string) (svKnown, bool) { e, ok := st.m[k]; return e, ok }
	wantVal := func(k string, r *svVal) error {
		e, ok := known(k)
		switch {
		case !ok:
		case !e.present && !r.null:
			return fmt.Errorf("key %q should be absent", k)
		case e.present && (!r.isBulk() || r.s != e.val):
			return fmt.Errorf("key %q should hold %q", k, e.val)
		}
		return nil
	}
	wantInt := func(n int64) error {
		if v.t != ':' || v.n != n {
			return fmt.Errorf("model: want :%d", n)
		}
		return nil
	}
	switch name {
	case "FLUSHALL", "FLUSHDB":
		if !v.isErr() {
			st.flushed()
		}
	case "GET":
		return wantVal(argv[1], v)
	case "GETEX":
		if v.isErr() {
			return nil
		}
		if err := wantVal(argv[1], v); err != nil {
			return err
		}
		if e, ok := known(argv[1]); len(argv) > 2 && ok && e.present {
			delete(st.m, argv[1]) // the TTL may have changed
		}
	case "GETDEL":
		if err := wantVal(argv[1], v); err != nil {
			return err
		}
		st.m[argv[1]] = svKnown{}
	case "GETSET":
		if err := wantVal(argv[1], v); err != nil {
			return err
		}
		st.m[argv[1]] = svKnown{present: true, val: argv[2]}
	case "SET":
		switch {
		case v.isErr():
			if len(argv) == 3 {
				return errors.New("model: SET without options must succeed")
			}
		case len(argv) == 3:
			st.m[argv[1]] = svKnown{present: true, val: argv[2]}
		default:
			delete(st.m, argv[1])
		}
	case "SETEX", "PSETEX":
		if !v.isErr() {
			delete(st.m, argv[1])
		}
	case "SETNX":
		e, ok := known(argv[1])
		if ok {
			if err := wantInt(map[bool]int64{false: 1, true: 0}[e.present]); err != nil {
				return err
			}
		}
		if v.n == 1 {
			st.m[argv[1]] = svKnown{present: true, val: argv[2]}
		}
	case "MSET", "MSETNX":
		if v.isErr() {
			if len(argv)%2 == 1 {
				return errors.New("model: " + name + " with key-value pairs must not fail")
			}
			return nil
		}
		if name == "MSETNX" {
			all, any := true, false
			for i := 1; i < len(argv); i += 2 {
				e, ok := known(argv[i])
				all = all && ok
				any = any || (ok && e.present)
			}
			switch {
			case any:
				if err := wantInt(0); err != nil {
					return err
				}
			case all:
				if err := wantInt(1); err != nil {
					return err
				}
			}
			if v.n != 1 {
				return nil
			}
		}
		for i := 1; i+1 < len(argv); i += 2 {
			st.m[argv[i]] = svKnown{present: true, val: argv[i+1]}
		}
	case "INCR", "DECR", "INCRBY", "DECRBY":
		e, ok := known(argv[1])
		if !ok {
			return nil
		}
		cur, okCur := int64(0), true
		if e.present {
			cur, okCur = svStrictParse(e.val)
		}
		by, okBy := int64(1), true
		if len(argv) == 3 {
			by, okBy = svStrictParse(argv[2])
		}
		if name == "DECR" || name == "DECRBY" {
			if by == minInt {
				okBy = false // "decrement would overflow"
			}
			by = -by
		}
		res := cur + by
		overflow := (by > 0 && res < cur) || (by < 0 && res > cur)
		if !okCur || !okBy || overflow {
			if !v.isErr() {
				return fmt.Errorf("model: want an error (value %q present=%v)", e.val, e.present)
			}
			return nil
		}
		if err := wantInt(res); err != nil {
			return fmt.Errorf("%w (value %q present=%v)", err, e.val, e.present)
		}
		st.m[argv[1]] = svKnown{present: true, val: strconv.FormatInt(res, 10)}
	case "APPEND":
		e, ok := known(argv[1])
		if !ok {
			return nil
		}
		nv := e.val + argv[2]
		if err := wantInt(int64(len(nv))); err != nil {
			return err
		}
		st.m[argv[1]] = svKnown{present: true, val: nv}
	case "STRLEN":
		if e, ok := known(argv[1]); ok {
			return wantInt(int64(len(e.val)))
		}
	case "TYPE":
		if e, ok := known(argv[1]); ok {
			want := map[bool]string{false: "none", true: "string"}[e.present]
			if !v.isSimple(want) {
				return fmt.Errorf("model: want +%s", want)
			}
		}
	case "DEL", "UNLINK", "EXISTS":
		all, n, seen := true, int64(0), map[string]bool{}
		for _, k := range argv[1:] {
			e, ok := known(k)
			all = all && ok
			if ok && e.present && (name == "EXISTS" || !seen[k]) {
				n++
			}
			seen[k] = true
			if name != "EXISTS" {
				defer func() { st.m[k] = svKnown{} }()
			}
		}
		if all {
			return wantInt(n)
		}
	case "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT":
		e, ok := known(argv[1])
		if ok && !e.present && !v.isErr() {
			if err := wantInt(0); err != nil {
				return fmt.Errorf("%w: the key is absent", err)
			}
		}
		if v.t == ':' && v.n == 1 {
			delete(st.m, argv[1])
		}
	case "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME":
		if e, ok := known(argv[1]); ok {
			return wantInt(map[bool]int64{false: -2, true: -1}[e.present])
		}
	case "PERSIST":
		if _, ok := known(argv[1]); ok {
			return wantInt(0)
		}
	case "RENAME":
		src, dst := argv[1], argv[2]
		e, ok := known(src)
		if ok && e.present != !v.isErr() {
			return fmt.Errorf("model: source present=%v, want %s", e.present, map[bool]string{false: "an error", true: "+OK"}[e.present])
		}
		if v.isErr() || src == dst {
			return nil
		}
		if ok {
			st.m[dst] = e
		} else {
			delete(st.m, dst)
		}
		st.m[src] = svKnown{}
	case "KEYS", "SCAN":
		list := v
		if name == "SCAN" {
			if v.isErr() {
				return nil
			}
			list = &v.elems[1]
		}
		listed := map[string]bool{}
		for _, e := range list.elems {
			listed[e.s] = true
			if k, ok := known(e.s); ok && !k.present {
				return fmt.Errorf("model: %s listed absent key %q", name, e.s)
			}
		}
		if name == "KEYS" && argv[1] == "*" {
			for k, e := range st.m {
				if e.present && !listed[k] {
					return fmt.Errorf("model: KEYS * left out key %q", k)
				}
			}
		}
	case "RANDOMKEY":
		if v.null {
			for k, e := range st.m {
				if e.present {
					return fmt.Errorf("model: nil while key %q is present", k)
				}
			}
		} else if e, ok := known(v.s); ok && !e.present {
			return fmt.Errorf("model: returned absent key %q", v.s)
		}
	case "DBSIZE":
		lo, hi := int64(0), int64(0)
		for _, k := range svKeys {
			e, ok := known(k)
			if !ok || e.present {
				hi++
			}
			if ok && e.present {
				lo++
			}
		}
		if v.n < lo || v.n > hi {
			return fmt.Errorf("model: want DBSIZE in [%d, %d]", lo, hi)
		}
	}
	return nil
}

// ---- running an input ----

func svRunInput(t *testing.T, data []byte) {
	in := &svIn{b: data}
	mode := in.next()
	tg := svTargets[mode&1]
	sync1 := mode&0x12 == 0x12
	var cuts []byte // where the pipelined write is cut, in 256ths
	for range int(mode>>2) & 3 {
		cuts = append(cuts, in.next())
	}

	svMu.Lock()
	defer svMu.Unlock()
	tg.connect(t)
	defer func() {
		if t.Failed() {
			tg.drop() // the next input starts on a fresh connection
		}
	}()

	svNonce++
	nonce := fmt.Sprintf("nonce-%d", svNonce)
	st := &svState{proto: 2}
	cmds := []svCmd{
		{argv: []string{"ECHO", nonce}, check: chkBulkEq(nonce)},
		{argv: []string{"HELLO", "2"}, hello: 2, check: func(st *svState, v *svVal) error {
			st.id = 0 // learn this connection's id
			return chkHello(2)(st, v)
		}},
		{argv: []string{"FLUSHALL"}, check: chkSimple("OK")}, // svModelStep: all keys absent
		{argv: []string{"CONFIG", "SET", "maxmemory-policy", "noeviction"}, check: chkSimple("OK")},
		{argv: []string{"CLIENT", "SETNAME", ""}, check: func(st *svState, v *svVal) error {
			st.name = ""
			return chkSimple("OK")(st, v)
		}},
	}
	for !in.done() && len(cmds) < 5+svMaxCmds {
		cmds = append(cmds, svGen(in))
	}
	seqEnd := len(cmds)

	// The final check: PTTL of every key first (it also expires the keys
	// whose time ran out), then KEYS * and DBSIZE, then each key's state.
	cmds = append(cmds, svCmd{argv: []string{"HELLO", "2"}, hello: 2, check: chkHello(2)})
	pttl1 := len(cmds)
	for _, k := range svKeys {
		cmds = append(cmds, svCmd{argv: []string{"PTTL", k}, check: chkInt(-2, maxInt, false)})
	}
	keysAt := len(cmds)
	cmds = append(cmds,
		svCmd{argv: []string{"KEYS", "*"}, check: func(st *svState, v *svVal) error { return chkKeyList(v, true) }},
		svCmd{argv: []string{"DBSIZE"}, check: chkInt(0, int64(len(svKeys)), false)},
	)
	perKey := len(cmds)
	for _, k := range svKeys {
		cmds = append(cmds,
			svCmd{argv: []string{"TYPE", k}, check: func(st *svState, v *svVal) error {
				if v.isSimple("string") || v.isSimple("none") {
					return nil
				}
				return errors.New("want +string or +none")
			}},
			svCmd{argv: []string{"GET", k}, check: chkBulkOrNil},
			svCmd{argv: []string{"STRLEN", k}, check: chkInt(0, maxInt, false)},
			svCmd{argv: []string{"EXISTS", k}, check: chkInt(0, 1, false)},
			svCmd{argv: []string{"PTTL", k}, check: chkInt(-2, maxInt, false)},
		)
	}

	batches := [][2]int{{0, len(cmds)}}
	if sync1 {
		batches = [][2]int{{0, 5}, {min(5+svMaxSync, seqEnd), len(cmds)}}
	}
	replies := svExchange(t, tg, st, cmds, batches, cuts)
	describe := func() string {
		var b strings.Builder
		for i, c := range cmds[5:seqEnd] {
			fmt.Fprintf(&b, "\n  %2d %q -> %s", i, c.argv, replies[5+i].String())
		}
		return b.String()
	}

	if svVerbose {
		t.Logf("%s server, sync=%v cuts=%v:%s", tg.kind, sync1, cuts, describe())
	}

	// Final invariants.
	pttl := func(i int) int64 { return replies[pttl1+i].n }
	stable := true
	for i := range svKeys {
		if p := pttl(i); p >= 0 && p <= svMargin {
			stable = false
		}
	}
	listed := map[string]bool{}
	for _, e := range replies[keysAt].elems {
		listed[e.s] = true
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if stable {
		// The PTTLs above found every expired key and had it reclaimed
		// (Redis deletes on access; ringdb's reads leave a hint that
		// DBSIZE drains first), so DBSIZE counts exactly the keys listed.
		listedN := int64(len(replies[keysAt].elems))
		if n := replies[keysAt+1].n; n != listedN {
			bad("DBSIZE is %d but KEYS * lists %d keys %s", n, listedN, replies[keysAt].String())
		}
	}
	for i, k := range svKeys {
		p := pttl(i)
		typ, get, strlen, exists, p2 := &replies[perKey+5*i], &replies[perKey+5*i+1], &replies[perKey+5*i+2], &replies[perKey+5*i+3], &replies[perKey+5*i+4]
		switch {
		case p == -1 || p > svMargin: // live throughout the check
			if !listed[k] {
				bad("key %q (PTTL %d) missing from KEYS *", k, p)
			}
			if !typ.isSimple("string") {
				bad("TYPE %q = %s, want +string (PTTL %d)", k, typ.String(), p)
			}
			if !get.isBulk() {
				bad("GET %q = %s, want a bulk string (PTTL %d)", k, get.String(), p)
			} else if strlen.n != int64(len(get.s)) {
				bad("STRLEN %q = %d but GET returned %d bytes", k, strlen.n, len(get.s))
			}
			if exists.n != 1 {
				bad("EXISTS %q = %d, want 1 (PTTL %d)", k, exists.n, p)
			}
			if (p == -1) != (p2.n == -1) || p2.n == -2 || p2.n == 0 {
				bad("PTTL %q was %d then %d", k, p, p2.n)
			}
		case p == -2 && stable: // nothing creates keys during the check
			if listed[k] {
				bad("key %q listed by KEYS * after PTTL returned -2", k)
			}
			if !typ.isSimple("none") || !get.null || strlen.n != 0 || exists.n != 0 || p2.n != -2 {
				bad("missing key %q: TYPE %s GET %s STRLEN %d EXISTS %d PTTL %d", k, typ.String(), get.String(), strlen.n, exists.n, p2.n)
			}
		}
	}
	if len(errs) > 0 {
		t.Fatalf("%s server: invariants broken after the sequence:\n  %s\nsequence:%s", tg.kind, strings.Join(errs, "\n  "), describe())
	}
}

// svExchange sends cmds and returns their replies, checking each. The
// commands of each batch [from, to) go in one write (cut in pieces when
// asked), the others one at a time, each after the previous reply.
func svExchange(t *testing.T, tg *svTarget, st *svState, cmds []svCmd, batches [][2]int, cuts []byte) []svVal {
	if err := tg.conn.SetDeadline(time.Now().Add(svTimeout)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	replies := make([]svVal, len(cmds))
	history := func(upto int) string {
		var b strings.Builder
		for i := max(0, upto-20); i <= upto && i < len(cmds); i++ {
			r := "(not read)"
			if i < upto {
				r = replies[i].String()
			}
			fmt.Fprintf(&b, "\n  #%d %q -> %s", i, cmds[i].argv, r)
		}
		return b.String()
	}
	write := func(b []byte, upto int) {
		if _, err := tg.conn.Write(b); err != nil {
			t.Fatalf("%s server: write: %v (connection closed?)%s", tg.kind, err, history(upto))
		}
	}
	next := 0 // the first command not yet written
	for i, c := range cmds {
		if i == next {
			// Write the batch that starts here, cut as asked.
			end := i + 1
			for _, b := range batches {
				if b[0] == i {
					end = b[1]
				}
			}
			var buf []byte
			for _, c := range cmds[i:end] {
				buf = svAppendCommand(buf, c.argv)
			}
			for _, c := range cuts {
				if cut := int(c) * len(buf) / 256; cut > 0 && end > i+1 {
					write(buf[:cut], i)
					buf = buf[cut:]
				}
			}
			write(buf, i)
			next = end
		}
		proto := st.proto
		if c.hello != 0 {
			proto = 0 // the reply speaks the version asked for, if it succeeds
		}
		v, err := svParse(tg.r, proto, 0)
		if err != nil {
			t.Fatalf("%s server: reply to #%d %q: %v%s", tg.kind, i, c.argv, err, history(i))
		}
		replies[i] = v
		if v.t == '-' || v.t == '!' {
			if err := svCheckError(v.s); err != nil {
				t.Fatalf("%s server: reply to #%d %q: %v%s", tg.kind, i, c.argv, err, history(i+1))
			}
		}
		if c.hello != 0 && !v.isErr() {
			// Now check the reply's types against the version it took.
			if err := svCheckProto(&v, c.hello); err != nil {
				t.Fatalf("%s server: reply to #%d %q: %v%s", tg.kind, i, c.argv, err, history(i+1))
			}
		}
		if err := c.check(st, &v); err != nil {
			t.Fatalf("%s server: reply to #%d %q is %s: %v%s", tg.kind, i, c.argv, v.String(), err, history(i+1))
		}
		if !c.stray {
			if err := svModelStep(st, c.argv, &v); err != nil {
				t.Fatalf("%s server: reply to #%d %q is %s: %v%s", tg.kind, i, c.argv, v.String(), err, history(i+1))
			}
		}
	}
	if n := tg.r.Buffered(); n > 0 {
		extra, _ := tg.r.Peek(n)
		t.Fatalf("%s server: %d bytes after the last reply: %q%s", tg.kind, n, extra, history(len(cmds)))
	}
	return replies
}

// svCheckError checks an error reply starts with an upper-case code, as
// every Redis error does ("ERR ...", "WRONGTYPE ...").
func svCheckError(s string) error {
	code, _, _ := strings.Cut(s, " ")
	if code == "" {
		return fmt.Errorf("error %q: no code", s)
	}
	for _, c := range []byte(code) {
		if (c < 'A' || c > 'Z') && c != '_' && c != '-' {
			return fmt.Errorf("error %q: code %q is not upper case", s, code)
		}
	}
	return nil
}

func svAppendCommand(dst []byte, argv []string) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(argv)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range argv {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// ---- strict RESP reply parser ----

// svVal is one reply. Maps are flattened into elems (key, value, ...).
type svVal struct {
	t     byte // the type byte: + - : $ * _ % ~ , # = ( !
	s     string
	n     int64
	null  bool
	elems []svVal
}

func (v *svVal) isErr() bool            { return v.t == '-' || v.t == '!' }
func (v *svVal) isSimple(s string) bool { return v.t == '+' && v.s == s }
func (v *svVal) isBulk() bool           { return v.t == '$' && !v.null }
func (v *svVal) isArray() bool          { return v.t == '*' && !v.null }

func (v *svVal) String() string {
	switch {
	case v.t == 0:
		return "(none)"
	case v.null:
		return "nil(" + string(v.t) + ")"
	}
	switch v.t {
	case '+', '-', ',', '#', '(':
		return string(v.t) + v.s
	case ':':
		return ":" + strconv.FormatInt(v.n, 10)
	case '$', '=', '!':
		return string(v.t) + strconv.Quote(v.s)
	}
	parts := make([]string, len(v.elems))
	for i := range v.elems {
		parts[i] = v.elems[i].String()
	}
	return string(v.t) + "[" + strings.Join(parts, " ") + "]"
}

// svCheckProto checks that v only uses types of protocol version proto.
func svCheckProto(v *svVal, proto int) error {
	if proto == 2 && strings.IndexByte("_%~,#=(!>|", v.t) >= 0 {
		return fmt.Errorf("RESP3 type %q in a RESP2 reply", v.t)
	}
	if proto == 3 && v.null && v.t != '_' {
		return fmt.Errorf("RESP2 null %q in a RESP3 reply", v.t)
	}
	for i := range v.elems {
		if err := svCheckProto(&v.elems[i], proto); err != nil {
			return err
		}
	}
	return nil
}

// svLine reads one line and returns it without the CRLF, which it
// requires; the line may contain no other CR or LF.
func svLine(r *bufio.Reader) (string, error) {
	b, err := r.ReadSlice('\n')
	if err != nil {
		if err == io.EOF && len(b) == 0 {
			return "", errors.New("connection closed by the server (EOF)")
		}
		return "", fmt.Errorf("read line %q: %w", b, err)
	}
	if len(b) < 2 || b[len(b)-2] != '\r' {
		return "", fmt.Errorf("line %q does not end with CRLF", b)
	}
	line := b[:len(b)-2]
	if bytes.IndexByte(line, '\r') >= 0 {
		return "", fmt.Errorf("line %q contains a CR", b)
	}
	return string(line), nil
}

// svStrictInt parses a decimal integer as Redis writes it: an optional
// '-', digits, no leading zero, no "-0".
func svStrictInt(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != s {
		return 0, fmt.Errorf("bad integer %q", s)
	}
	return n, nil
}

// svParse reads exactly one value. proto is the connection's RESP version
// (0: either).
func svParse(r *bufio.Reader, proto int, depth int) (svVal, error) {
	if depth > 8 {
		return svVal{}, errors.New("nested too deep")
	}
	line, err := svLine(r)
	if err != nil {
		return svVal{}, err
	}
	if line == "" {
		return svVal{}, errors.New("empty line instead of a reply")
	}
	v := svVal{t: line[0]}
	body := line[1:]
	if proto == 2 && strings.IndexByte("_%~,#=(!>|", v.t) >= 0 {
		return v, fmt.Errorf("RESP3 type %q in a RESP2 reply (line %q)", v.t, line)
	}
	switch v.t {
	case '+', '-':
		v.s = body
		if v.t == '-' && body == "" {
			return v, errors.New("empty error")
		}
	case ':':
		if v.n, err = svStrictInt(body); err != nil {
			return v, err
		}
	case '_':
		if body != "" {
			return v, fmt.Errorf("null %q has a body", line)
		}
		v.null = true
	case ',':
		switch body {
		case "inf", "-inf", "nan":
		default:
			if _, err := strconv.ParseFloat(body, 64); err != nil || body == "" || strings.ContainsAny(body, "xX_") {
				return v, fmt.Errorf("bad double %q", line)
			}
		}
		v.s = body
	case '#':
		if body != "t" && body != "f" {
			return v, fmt.Errorf("bad boolean %q", line)
		}
		v.s = body
	case '(':
		if body == "" || strings.TrimLeft(strings.TrimPrefix(body, "-"), "0123456789") != "" {
			return v, fmt.Errorf("bad big number %q", line)
		}
		v.s = body
	case '$', '=', '!':
		n, err := svStrictInt(body)
		if err != nil {
			return v, err
		}
		if n == -1 && v.t == '$' && proto != 3 {
			v.null = true
			return v, nil
		}
		if n < 0 || n > 1<<20 {
			return v, fmt.Errorf("bad length in %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return v, fmt.Errorf("truncated %q: %w", line, err)
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return v, fmt.Errorf("%q: payload %q not followed by CRLF", line, buf)
		}
		v.s = string(buf[:n])
		if v.t == '=' && (n < 4 || v.s[3] != ':') {
			return v, fmt.Errorf("verbatim string %q has no format", v.s)
		}
	case '*', '~', '%', '>', '|':
		n, err := svStrictInt(body)
		if err != nil {
			return v, err
		}
		if n == -1 && v.t == '*' && proto != 3 {
			v.null = true
			return v, nil
		}
		if n < 0 || n > 1<<16 {
			return v, fmt.Errorf("bad length in %q", line)
		}
		if v.t == '%' || v.t == '|' {
			n *= 2
		}
		v.elems = make([]svVal, n)
		for i := range v.elems {
			if v.elems[i], err = svParse(r, proto, depth+1); err != nil {
				return v, fmt.Errorf("element %d of %q: %w", i, line, err)
			}
		}
		// No command here subscribes or asks for attributes.
		if v.t == '>' || v.t == '|' {
			return v, fmt.Errorf("unexpected %q value %s", v.t, v.String())
		}
	default:
		return v, fmt.Errorf("unknown reply type in line %q", line)
	}
	return v, nil
}
