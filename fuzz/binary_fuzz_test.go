package fuzz

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/server"
	bp "github.com/ringdb/ringdb/transport/binproto"
)

// FuzzServerBinary is FuzzServerRESP for the binary protocol
// (docs/PROTOCOL.md): its input becomes a pipeline of frames sent, in one
// write cut in pieces, to a real in-process server (gnet or std transport),
// and every reply is checked against the specification rather than
// against a model of the data:
//
//   - each request gets exactly one reply frame, in order, flagged REPLY,
//     echoing its id and opcode, whose body is exactly one well-formed value;
//   - a reply is a kind §10 allows for the opcode (MGET's array has one
//     element per key, SCAN's is [cursor, keys], PING echoes its message,
//     ...), or an error of class ERR or LIMIT; an unknown opcode and a
//     wrong argument count get the messages §5 gives;
//   - a body fault (§5: truncated value, unknown tag, ARRAY argument,
//     trailing bytes, too many arguments, a value over the limit) gets the
//     class and message of §5's table, and the connection goes on;
//   - the handshake follows §7: before HELLO every other request is
//     answered PROTO "HELLO required" and the connection closed; a HELLO
//     with bad arguments PROTO "invalid HELLO", a version range without 1
//     "unsupported protocol version", a name over 256 bytes LIMIT "client
//     name too long", each then closed; a second HELLO ERR "HELLO already
//     done";
//   - a frame-level fault (§3: bad magic, reserved or conflicting flags, a
//     push's id, opcode 0, a frame over the maximum, a client frame flagged
//     REPLY or PUSH) gets a DISCONNECT push of class PROTO or LIMIT, and
//     then the connection ends;
//   - after each input, another connection finds the server serving and a
//     key it wrote before the first input intact.
//
// Frames the generator knows will end the connection are the last it
// writes (more bytes behind them would turn the close into a reset that
// can swallow the replies). Otherwise the pipeline ends with a PING whose
// nonce must come back.
//
// Input layout: byte 0 picks the transport (bit 0), whether the sequence
// starts without a HELLO (bit 1), how many cut positions follow (bits
// 2-3, each a position in 256ths of the pipeline) and whether the last
// frame is a frame-level fault (bit 4, with the next byte choosing
// it). Then each frame is an opcode byte (an index into bfOps), a shape
// byte (bits 0-1: 0 and 1 give arguments as §10 lists them, 2 arguments of
// random kinds, 3 a body fault after the listed arguments, or after none
// when bit 7 is set), a byte for the request id, and the bytes its
// generator reads; a missing byte reads as 0. BFFUZZ_LOG=1 logs each
// pipeline and its replies.
func FuzzServerBinary(f *testing.F) {
	// gnet, HELLO first: SET a "xyz" PX 1000 (mode, no extra bit, key,
	// value, two options), GET a, INCRBY b 10, MGET a b k:1, SCAN 0 k:*
	// 10, STATS, opcode 0x0003, GET a with an ARRAY argument.
	f.Add([]byte{0,
		3, 0, 0, 0x10, 1, 0, 0, 1, 3, 'x', 'y', 'z', 2, 1, 1, 5,
		2, 0, 0, 0, 0,
		8, 0, 0, 0, 1, 4,
		6, 0, 0, 0, 0, 2, 0, 1, 0, 2,
		20, 0, 0, 1, 2, 1, 2, 1, 4,
		22, 0, 0,
		24, 0, 0,
		2, 3, 0, 0, 0, 2, 0})
	// std, HELLO first, two cuts, ending with a frame over the maximum:
	// APPEND a "hi", EXPIRE a 3600 GT, TTL a, DEL with random arguments,
	// MSET with too many arguments.
	f.Add([]byte{0x19, 64, 200, 6 | 3<<3,
		9, 0, 0, 0, 0, 1, 2, 'h', 'i',
		13, 0, 0, 6, 0, 0, 1, 1, 3,
		17, 0, 0, 0, 0,
		10, 2, 0, 3, 1, 0, 2, 0, 1, 0,
		7, 0x83, 0, 4, 1})
	// gnet, no HELLO: a truncated GET (answered, the connection stays),
	// HELLO 1 3 "fuzz", a second HELLO, PING "abc".
	f.Add([]byte{0x02,
		2, 3, 0, 0, 0, 0,
		0, 0, 0, 0, 2, 1, 1, 0,
		0, 0, 0, 0, 0, 0,
		1, 0, 0, 1, 1, 1, 3, 'a', 'b', 'c'})
	// std, no HELLO: GET first (PROTO HELLO required, closed).
	f.Add([]byte{0x03, 2, 0, 0, 0, 0})
	// gnet, no HELLO: HELLO 2 1 (PROTO invalid HELLO, closed).
	f.Add([]byte{0x02, 0, 0, 0, 4, 0, 0})
	// gnet, HELLO first, PING, then a client frame flagged REPLY.
	f.Add([]byte{0x10, 7, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		bfRunInput(t, data)
	})
}

const bfTimeout = 10 * time.Second

// bfKeys are the keys the generator uses; bfSentinel is not among them.
var bfKeys = [][]byte{[]byte("a"), []byte("b"), []byte("k:1"), {}, []byte("\x00\xffbin")}

const bfSentinel = "bf:sentinel"

var bfInts = []int64{
	0, 1, -1, 2, 10, 1000, 3600, -100, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1,
	math.MinInt64 + 1, 1 << 40, 0x10, 0x20, 0x40, 0x17, 0x3f, 0x80, 5,
}

var bfPatterns = []string{"*", "a", "k:*", "[", "\\", "?", "*[^a]*", ""}

// bfOps are the opcodes the generator picks from: every request opcode of
// version 1 but FLUSHALL (which would remove the sentinel), and unknown
// ones, reserved or not, push kinds included.
var bfOps = []bp.Opcode{
	bp.OpHello, bp.OpPing, bp.OpGet, bp.OpSet, bp.OpGetDel, bp.OpGetEx, bp.OpMGet, bp.OpMSet,
	bp.OpIncrBy, bp.OpAppend, bp.OpDel, bp.OpExists, bp.OpRename, bp.OpExpire, bp.OpPExpire,
	bp.OpExpireAt, bp.OpPExpireAt, bp.OpTTL, bp.OpPTTL, bp.OpPersist, bp.OpScan, bp.OpDBSize,
	bp.OpStats, bp.OpDigest,
	0x0003, 0x0018, 0x002B, 0x0040, 0x0060, 0x0080, 0x0100, 0x7FFF, 0x8001, 0x80FF, 0xFFFF,
}

// bfArity is each request opcode's argument count range (§10); max -1 is
// unbounded.
var bfArity = map[bp.Opcode][2]int{
	bp.OpPing: {0, 1}, bp.OpGet: {1, 1}, bp.OpSet: {2, 4}, bp.OpGetDel: {1, 1}, bp.OpGetEx: {1, 3},
	bp.OpMGet: {1, -1}, bp.OpMSet: {2, -1}, bp.OpIncrBy: {2, 2}, bp.OpAppend: {2, 2},
	bp.OpDel: {1, -1}, bp.OpExists: {1, -1}, bp.OpRename: {2, 2}, bp.OpExpire: {2, 3},
	bp.OpPExpire: {2, 3}, bp.OpExpireAt: {2, 3}, bp.OpPExpireAt: {2, 3}, bp.OpTTL: {1, 1},
	bp.OpPTTL: {1, 1}, bp.OpPersist: {1, 1}, bp.OpScan: {1, 3}, bp.OpDBSize: {0, 0},
	bp.OpStats: {0, 0}, bp.OpDigest: {0, 0},
}

// ---- servers ----

type bfTarget struct {
	kind string
	once sync.Once
	srv  *server.Server
	err  error
	// chk is the connection that wrote the sentinel and reads it back
	// after every input.
	chk  net.Conn
	chkR *bufio.Reader
	val  []byte
}

var (
	bfMu      sync.Mutex
	bfTargets = [2]*bfTarget{{kind: server.TransportGnet}, {kind: server.TransportStd}}
	bfNonce   uint64
	bfVerbose = os.Getenv("BFFUZZ_LOG") != ""
)

// start starts the server on first use and stores the sentinel through
// the checking connection. The server lives as long as the fuzz process.
func (tg *bfTarget) start(t *testing.T) {
	tg.once.Do(func() {
		tg.srv, tg.err = startServer(tg.kind, "")
		if tg.err != nil {
			return
		}
		tg.chk, tg.err = net.DialTimeout("tcp", tg.srv.Addr(), 5*time.Second)
		if tg.err != nil {
			return
		}
		tg.chkR = bufio.NewReader(tg.chk)
		tg.val = fmt.Appendf(nil, "sentinel-%d", time.Now().UnixNano())
		var out []byte
		out = bfFrame(out, bp.OpHello, 1, bfBody(bfI(1), bfI(1), bfB("checker")))
		out = bfFrame(out, bp.OpSet, 2, bfBody(bfB(bfSentinel), bfB(string(tg.val))))
		if _, tg.err = tg.chk.Write(out); tg.err != nil {
			return
		}
		for _, want := range []bp.Kind{bp.KindMap, bp.KindOK} {
			var f bfReply
			if f, tg.err = bfRead(tg.chkR); tg.err == nil && f.top.Kind != want {
				tg.err = fmt.Errorf("checker setup: got %s, want %s", f.describe(), want)
			}
			if tg.err != nil {
				return
			}
		}
	})
	if tg.err != nil {
		t.Fatalf("start %s server: %v", tg.kind, tg.err)
	}
}

// checkSentinel reads the sentinel back on the checking connection.
func (tg *bfTarget) checkSentinel(t *testing.T, history func() string) {
	_ = tg.chk.SetDeadline(time.Now().Add(bfTimeout))
	if _, err := tg.chk.Write(bfFrame(nil, bp.OpGet, 3, bfBody(bfB(bfSentinel)))); err != nil {
		t.Fatalf("%s server: checker write: %v%s", tg.kind, err, history())
	}
	f, err := bfRead(tg.chkR)
	if err != nil {
		t.Fatalf("%s server: checker read: %v%s", tg.kind, err, history())
	}
	if f.top.Kind != bp.KindBytes || !bytes.Equal(f.top.Bytes, tg.val) {
		t.Fatalf("%s server: sentinel read back as %s, want %q%s", tg.kind, f.describe(), tg.val, history())
	}
}

// ---- encoding ----

// bfArg is one request argument: NULL, BYTES or INT.
type bfArg struct {
	kind bp.Kind
	b    []byte
	n    int64
}

func bfB(s string) bfArg { return bfArg{kind: bp.KindBytes, b: []byte(s)} }
func bfI(n int64) bfArg  { return bfArg{kind: bp.KindInt, n: n} }
func bfN() bfArg         { return bfArg{kind: bp.KindNull} }
func bfK(k []byte) bfArg { return bfArg{kind: bp.KindBytes, b: k} }
func (a bfArg) String() string {
	switch a.kind {
	case bp.KindNull:
		return "NULL"
	case bp.KindInt:
		return fmt.Sprint(a.n)
	}
	if len(a.b) > 40 {
		return fmt.Sprintf("%q...(%d bytes)", a.b[:40], len(a.b))
	}
	return fmt.Sprintf("%q", a.b)
}

func bfAppendArg(dst []byte, a bfArg) []byte {
	switch a.kind {
	case bp.KindNull:
		return bp.AppendNull(dst)
	case bp.KindInt:
		return bp.AppendInt(dst, a.n)
	}
	return bp.AppendBytes(dst, a.b)
}

func bfBody(args ...bfArg) []byte {
	b := bp.AppendArgCount(nil, len(args))
	for _, a := range args {
		b = bfAppendArg(b, a)
	}
	return b
}

func bfFrame(dst []byte, op bp.Opcode, id uint32, body []byte) []byte {
	dst = bp.AppendHeader(dst, bp.Header{Op: op, ID: id, Length: uint32(len(body))})
	return append(dst, body...)
}

// ---- the generator ----

// bfReq is one frame of the pipeline and what its reply must be.
type bfReq struct {
	op   bp.Opcode
	id   uint32
	args []bfArg
	raw  []byte // the whole frame

	// fault is the body fault's expected error (§5), if the body has one.
	fault *bp.Error
	// frameFault marks a frame-level fault: the reply is a DISCONNECT
	// push of class frameClass, then the end of the connection.
	frameFault bool
	frameClass bp.Class
	// closing is the error reply after which the server closes the
	// connection (a failed handshake); ok is the reply of a successful
	// HELLO.
	closing *bp.Error
	hello   bool
	desc    string
}

type bfGen struct {
	in        *svIn
	helloDone bool
	seq       uint32
}

// id returns the next request id, its top byte from the input.
func (g *bfGen) id() uint32 { return uint32(g.in.next())<<24 | g.plainID() }

// plainID returns the next request id without reading input.
func (g *bfGen) plainID() uint32 {
	g.seq++
	return g.seq
}

func (g *bfGen) key() []byte {
	if g.in.next() == 0xFF {
		return bytes.Repeat([]byte{'L'}, core.DefaultMaxKeySize+1) // LIMIT key too large
	}
	return bfKeys[int(g.in.next())%len(bfKeys)]
}

func (g *bfGen) val() []byte {
	b := g.in.next()
	if b%4 == 0 {
		return fmt.Append(nil, bfInts[int(b/4)%len(bfInts)])
	}
	n := int(g.in.next()) % 17
	v := make([]byte, n)
	for i := range v {
		v[i] = g.in.next()
	}
	return v
}

func (g *bfGen) num() int64 { return bfInts[int(g.in.next())%len(bfInts)] }

// deadline returns a time near now in seconds or milliseconds, or a
// number from bfInts.
func (g *bfGen) deadline(ms bool) int64 {
	b := g.in.next()
	if b < 0x80 {
		return bfInts[int(b)%len(bfInts)]
	}
	d := []int64{-100, -1, 0, 1, 2, 100, 3600}[int(b)%7]
	if ms {
		return time.Now().UnixMilli() + d*1000
	}
	return time.Now().Unix() + d
}

// optional appends to args the optional arguments from gen, as many as
// the next byte says (NULL standing in for one now and then).
func (g *bfGen) optional(args []bfArg, gens ...func() bfArg) []bfArg {
	n := int(g.in.next()) % (len(gens) + 1)
	for _, gen := range gens[:n] {
		if g.in.next()%8 == 0 {
			args = append(args, bfN())
		} else {
			args = append(args, gen())
		}
	}
	return args
}

// specArgs returns arguments shaped as §10 lists them for op.
func (g *bfGen) specArgs(op bp.Opcode) []bfArg {
	key := func() bfArg { return bfK(g.key()) }
	intArg := func() bfArg { return bfI(g.num()) }
	switch op {
	case bp.OpHello:
		los := []int64{1, 1, 1, 0, 2, -1}
		his := []int64{1, 1, 3, 0, 1 << 40, 2}
		names := []string{"fuzz", "", "a b", strings.Repeat("n", 256), strings.Repeat("n", 257)}
		args := []bfArg{bfI(los[int(g.in.next())%len(los)]), bfI(his[int(g.in.next())%len(his)])}
		return g.optional(args, func() bfArg { return bfB(names[int(g.in.next())%len(names)]) },
			func() bfArg { return bfB("token") })
	case bp.OpPing:
		return g.optional(nil, func() bfArg { return bfK(g.val()) })
	case bp.OpGet, bp.OpGetDel, bp.OpTTL, bp.OpPTTL, bp.OpPersist:
		return []bfArg{key()}
	case bp.OpSet:
		mode := int64(g.in.next()) & 0x3F
		if g.in.next()%16 == 0 {
			mode |= 0x40 << (g.in.next() % 2) // a bit SET does not have
		}
		args := []bfArg{key(), bfK(g.val())}
		return g.optional(args, func() bfArg { return bfI(mode) }, func() bfArg { return bfI(g.deadline(true)) })
	case bp.OpGetEx:
		modes := []int64{0, 0x10, 0x20, 0x40, 0x30, 0x50, 0x01, 0x08}
		return g.optional([]bfArg{key()}, func() bfArg { return bfI(modes[int(g.in.next())%len(modes)]) },
			func() bfArg { return bfI(g.deadline(true)) })
	case bp.OpMGet, bp.OpDel, bp.OpExists:
		args := []bfArg{key()}
		for range int(g.in.next()) % 4 {
			args = append(args, key())
		}
		return args
	case bp.OpMSet:
		var args []bfArg
		for range 1 + int(g.in.next())%3 {
			args = append(args, key(), bfK(g.val()))
		}
		if g.in.next()%8 == 0 {
			args = args[:len(args)-1] // an odd count
		}
		return args
	case bp.OpIncrBy:
		return []bfArg{key(), intArg()}
	case bp.OpAppend:
		return []bfArg{key(), bfK(g.val())}
	case bp.OpRename:
		return []bfArg{key(), key()}
	case bp.OpExpire, bp.OpPExpire, bp.OpExpireAt, bp.OpPExpireAt:
		ms := op == bp.OpPExpire || op == bp.OpPExpireAt
		var t int64
		if op == bp.OpExpireAt || op == bp.OpPExpireAt {
			t = g.deadline(ms)
		} else {
			t = g.num()
		}
		return g.optional([]bfArg{key(), bfI(t)}, func() bfArg { return bfI(int64(g.in.next()) % 6) })
	case bp.OpScan:
		cursor := int64(0)
		if g.in.next()%4 == 0 {
			cursor = g.num()
		}
		return g.optional([]bfArg{bfI(cursor)},
			func() bfArg { return bfB(bfPatterns[int(g.in.next())%len(bfPatterns)]) },
			func() bfArg { return bfI(g.num()) })
	}
	return nil
}

// bfIsKeyArg reports whether argument i of op is a key (§10).
func bfIsKeyArg(op bp.Opcode, i int) bool {
	switch op {
	case bp.OpMGet, bp.OpDel, bp.OpExists:
		return true
	case bp.OpRename:
		return i < 2
	case bp.OpMSet:
		return i%2 == 0
	case bp.OpPing, bp.OpScan, bp.OpHello:
		return false
	}
	return i == 0
}

// randomArgs returns up to 5 arguments of random kinds.
func (g *bfGen) randomArgs() []bfArg {
	var args []bfArg
	for range int(g.in.next()) % 6 {
		switch g.in.next() % 3 {
		case 0:
			args = append(args, bfN())
		case 1:
			args = append(args, bfI(g.num()))
		default:
			args = append(args, bfK(g.key()))
		}
	}
	return args
}

// bodyFault returns a request body whose arguments start as args and
// which has one fault of §5's table, and the error the table gives it.
func (g *bfGen) bodyFault(args []bfArg) ([]byte, *bp.Error) {
	valid := func(argc int) []byte {
		b := bp.AppendArgCount(nil, argc)
		for _, a := range args {
			b = bfAppendArg(b, a)
		}
		return b
	}
	u32 := func(b []byte, n uint32) []byte { return binary.BigEndian.AppendUint32(b, n) }
	switch g.in.next() % 9 {
	case 0: // one argument more than the body holds
		return valid(len(args) + 1), bp.ErrTruncated
	case 1: // an unknown tag
		return append(valid(len(args)+1), 0x07+g.in.next()%0xF9, 0, 0, 0, 0), bp.ErrBadTag
	case 2: // an argument of a kind requests may not carry
		kinds := []bp.Kind{bp.KindArray, bp.KindMap, bp.KindError, bp.KindOK}
		b := append(valid(len(args)+1), byte(kinds[int(g.in.next())%4]))
		return append(b, 0, 0, 0, 0, 0), bp.ErrArgKind
	case 3: // bytes after the last argument
		return append(valid(len(args)), make([]byte, 1+int(g.in.next())%3)...), bp.ErrTrailing
	case 4: // an argument count over the limit
		b := u32(nil, uint32(bp.DefaultMaxArray)+1+uint32(g.in.next())<<20)
		return append(b, valid(len(args))[4:]...), bp.ErrTooManyArgs
	case 5: // a BYTES argument declaring more than the maximum value
		b := append(valid(len(args)+1), byte(bp.KindBytes))
		return u32(b, uint32(bp.DefaultMaxValue)+1+uint32(g.in.next()%0xDF)<<24), bp.ErrValueTooLarge
	case 6: // a BYTES argument declaring more than the body has left
		b := append(valid(len(args)+1), byte(bp.KindBytes))
		b = u32(b, 1+uint32(g.in.next())%64)
		return b, bp.ErrTruncated
	case 7: // a body too short for its argument count
		return make([]byte, g.in.next()%4), bp.ErrTruncated
	default: // a cut INT
		b := append(valid(len(args)+1), byte(bp.KindInt))
		return append(b, make([]byte, g.in.next()%8)...), bp.ErrTruncated
	}
}

// frameFault returns a frame that breaks framing (§3), chosen by sel, and
// the class of the DISCONNECT that must answer it. first is true when it
// would be the connection's first byte (a bad magic byte then selects
// RESP, so it is not generated).
func frameFault(sel byte, first bool) ([]byte, bp.Class, string) {
	kind, arg := sel%8, sel/8 // arg < 32
	if first && kind == 0 {
		kind = 1
	}
	h := bp.AppendHeader(nil, bp.Header{Op: bp.OpPing, ID: 7})
	switch kind {
	case 0:
		h[0] = []byte{0xB0, '*', 0x00, 0xFF}[arg%4]
		return h, bp.ClassProto, "bad magic"
	case 1:
		h[1] = 0x04 << (arg % 6) // a reserved flag bit
		return h, bp.ClassProto, "reserved flag"
	case 2:
		h[1] = byte(bp.FlagReply | bp.FlagPush)
		return h, bp.ClassProto, "REPLY and PUSH"
	case 3:
		h[1] = byte(bp.FlagPush) // a push with an id
		return h, bp.ClassProto, "push with an id"
	case 4:
		binary.BigEndian.PutUint32(h[4:], 0) // a request with id 0
		return h, bp.ClassProto, "request id 0"
	case 5:
		binary.BigEndian.PutUint16(h[2:], 0)
		return h, bp.ClassProto, "opcode 0"
	case 6:
		binary.BigEndian.PutUint32(h[8:], uint32(bp.DefaultMaxFrame)+1+uint32(arg)<<26)
		return h, bp.ClassLimit, "frame over the maximum"
	default: // a well-formed reply or push frame sent by the client
		body := bfBody()
		if arg%2 == 0 {
			return bfFrameFlags(bp.FlagReply, 9, body), bp.ClassProto, "client frame flagged REPLY"
		}
		return bfFrameFlags(bp.FlagPush, 0, body), bp.ClassProto, "client frame flagged PUSH"
	}
}

func bfFrameFlags(flags bp.Flags, id uint32, body []byte) []byte {
	b := bp.AppendHeader(nil, bp.Header{Flags: flags, Op: bp.OpPing, ID: id, Length: uint32(len(body))})
	return append(b, body...)
}

// helloOutcome applies §7 to a well-formed HELLO's arguments (no token is
// configured): nil closing means success.
func helloOutcome(args []bfArg) *bp.Error {
	if len(args) < 2 || len(args) > 4 || args[0].kind != bp.KindInt || args[1].kind != bp.KindInt {
		return &bp.Error{Class: bp.ClassProto, Msg: "invalid HELLO"}
	}
	for _, a := range args[2:] {
		if a.kind == bp.KindInt {
			return &bp.Error{Class: bp.ClassProto, Msg: "invalid HELLO"}
		}
	}
	lo, hi := args[0].n, args[1].n
	switch {
	case lo < 1 || hi < lo:
		return &bp.Error{Class: bp.ClassProto, Msg: "invalid HELLO"}
	case lo > bp.Version:
		return &bp.Error{Class: bp.ClassProto, Msg: "unsupported protocol version"}
	case len(args) > 2 && len(args[2].b) > 256:
		return &bp.Error{Class: bp.ClassLimit, Msg: "client name too long"}
	}
	return nil
}

// next generates the next frame. It returns false when the frame ends the
// connection (nothing may follow it).
func (g *bfGen) next() (bfReq, bool) {
	op := bfOps[int(g.in.next())%len(bfOps)]
	shape := g.in.next()
	r := bfReq{op: op, id: g.id()}
	var body []byte
	switch shape % 4 {
	case 0, 1:
		r.args = g.specArgs(op)
	case 2:
		r.args = g.randomArgs()
	default:
		if shape&0x80 == 0 {
			r.args = g.specArgs(op)
		}
		body, r.fault = g.bodyFault(r.args)
	}
	if r.fault == nil {
		body = bfBody(r.args...)
	}
	r.raw = bfFrame(nil, op, r.id, body)
	r.desc = fmt.Sprintf("%s id=%d %v", op, r.id, r.args)
	if r.fault != nil {
		r.desc += fmt.Sprintf(" + body fault (%s)", r.fault.Msg)
		return r, true // body faults never end the connection (§5, §7)
	}
	if !g.helloDone {
		if op != bp.OpHello {
			r.closing = &bp.Error{Class: bp.ClassProto, Msg: "HELLO required"}
			return r, false
		}
		if r.closing = helloOutcome(r.args); r.closing != nil {
			return r, false
		}
		r.hello, g.helloDone = true, true
	}
	return r, true
}

// ---- reading replies ----

// bfVal is a decoded value with its elements.
type bfVal struct {
	bp.Value
	elems []bfVal
}

func (v *bfVal) String() string {
	switch v.Kind {
	case bp.KindNull, bp.KindOK:
		return v.Kind.String()
	case bp.KindInt:
		return fmt.Sprint(v.Int)
	case bp.KindBytes:
		return fmt.Sprintf("%q", v.Bytes)
	case bp.KindError:
		return fmt.Sprintf("ERROR %s %q", v.Class, v.Bytes)
	}
	parts := make([]string, len(v.elems))
	for i := range v.elems {
		parts[i] = v.elems[i].String()
	}
	return v.Kind.String() + "[" + strings.Join(parts, " ") + "]"
}

type bfReply struct {
	h   bp.Header
	top bfVal
}

func (f *bfReply) describe() string {
	return fmt.Sprintf("{flags %#x %s id=%d: %s}", f.h.Flags, f.h.Op, f.h.ID, f.top.String())
}

func bfDecode(r *bp.Reader, depth int) (bfVal, error) {
	v, err := r.Next()
	if err != nil {
		return bfVal{}, err
	}
	out := bfVal{Value: v}
	if v.Kind == bp.KindArray || v.Kind == bp.KindMap {
		if depth >= 2 {
			return out, fmt.Errorf("nested deeper than version 1 replies")
		}
		n := v.Int
		if v.Kind == bp.KindMap {
			n *= 2
		}
		for range n {
			e, err := bfDecode(r, depth+1)
			if err != nil {
				return out, err
			}
			out.elems = append(out.elems, e)
		}
	}
	return out, nil
}

// bfRead reads one frame, which must be a valid server frame whose body
// is exactly one value.
func bfRead(r *bufio.Reader) (bfReply, error) {
	var hdr [bp.HeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return bfReply{}, err
	}
	h, err := bp.ParseHeader(hdr[:])
	if err != nil {
		return bfReply{}, fmt.Errorf("invalid frame header % x: %v", hdr, err)
	}
	if h.Flags != bp.FlagReply && h.Flags != bp.FlagPush {
		return bfReply{}, fmt.Errorf("server frame with flags %#x", h.Flags)
	}
	if h.Length > 16<<20 {
		return bfReply{}, fmt.Errorf("frame body of %d bytes (this test's replies are small)", h.Length)
	}
	body := make([]byte, h.Length)
	if _, err := io.ReadFull(r, body); err != nil {
		return bfReply{}, fmt.Errorf("body of %d bytes: %w", h.Length, err)
	}
	if err := bp.ValidateBody(body, bp.Limits{}); err != nil {
		return bfReply{}, fmt.Errorf("body % x: %v", body, err)
	}
	rd := bp.NewReader(body, bp.Limits{})
	top, err := bfDecode(&rd, 0)
	if err != nil {
		return bfReply{}, fmt.Errorf("body % x: %v", body, err)
	}
	if top.Kind == bp.KindError && (top.Class > bp.ClassProto || len(top.Bytes) == 0) {
		return bfReply{}, fmt.Errorf("error value of class %d with message %q", top.Class, top.Bytes)
	}
	return bfReply{h: h, top: top}, nil
}

// ---- checking replies ----

func bfWantErr(v *bfVal, want *bp.Error) error {
	if v.Kind != bp.KindError || v.Class != want.Class || string(v.Bytes) != want.Msg {
		return fmt.Errorf("want ERROR %s %q", want.Class, want.Msg)
	}
	return nil
}

func isKind(v *bfVal, kinds ...bp.Kind) bool { return slices.Contains(kinds, v.Kind) }

// bfCheck checks the reply to a request of a connection past its HELLO
// that had no body fault.
func bfCheck(r *bfReq, v *bfVal) error {
	want := func(ok bool, what string) error {
		if !ok {
			return fmt.Errorf("want %s", what)
		}
		return nil
	}
	ar, known := bfArity[r.op]
	switch {
	case r.op == bp.OpHello:
		return bfWantErr(v, &bp.Error{Class: bp.ClassErr, Msg: "HELLO already done"})
	case !known:
		return bfWantErr(v, &bp.Error{Class: bp.ClassErr, Msg: fmt.Sprintf("unknown opcode 0x%04x", uint16(r.op))})
	case len(r.args) < ar[0] || ar[1] >= 0 && len(r.args) > ar[1]:
		name := strings.ToLower(r.op.String())
		return bfWantErr(v, &bp.Error{Class: bp.ClassErr, Msg: "wrong number of arguments for '" + name + "'"})
	}
	if v.Kind == bp.KindError {
		// Commands fail with ERR (syntax, ranges, missing keys) or LIMIT
		// (key too large); nothing here is a type, memory or protocol
		// error.
		return want(v.Class == bp.ClassErr || v.Class == bp.ClassLimit, "an error of class ERR or LIMIT")
	}
	for i, a := range r.args {
		// A key over the limit must have failed. Random shapes put long
		// keys anywhere; elsewhere they are values, messages or
		// patterns, which may be that long.
		if a.kind == bp.KindBytes && len(a.b) > core.DefaultMaxKeySize && bfIsKeyArg(r.op, i) {
			return fmt.Errorf("want LIMIT key too large")
		}
	}
	switch r.op {
	case bp.OpPing:
		if len(r.args) == 0 {
			return want(v.Kind == bp.KindOK, "OK")
		}
		return want(v.Kind == bp.KindBytes && r.args[0].kind == bp.KindBytes && bytes.Equal(v.Bytes, r.args[0].b), "the message back")
	case bp.OpGet, bp.OpGetDel, bp.OpGetEx:
		return want(isKind(v, bp.KindBytes, bp.KindNull), "BYTES or NULL")
	case bp.OpSet:
		if len(r.args) > 2 && r.args[2].kind == bp.KindInt && r.args[2].n&bp.SetGet != 0 {
			return want(isKind(v, bp.KindBytes, bp.KindNull), "BYTES or NULL (GET mode)")
		}
		return want(isKind(v, bp.KindOK, bp.KindNull), "OK or NULL")
	case bp.OpMGet:
		if v.Kind != bp.KindArray || len(v.elems) != len(r.args) {
			return fmt.Errorf("want an ARRAY of %d", len(r.args))
		}
		for i := range v.elems {
			if !isKind(&v.elems[i], bp.KindBytes, bp.KindNull) {
				return fmt.Errorf("element %d is not BYTES or NULL", i)
			}
		}
		return nil
	case bp.OpMSet:
		return want(v.Kind == bp.KindOK, "OK")
	case bp.OpIncrBy, bp.OpDigest:
		return want(v.Kind == bp.KindInt, "INT")
	case bp.OpAppend:
		return want(v.Kind == bp.KindInt && v.Int >= int64(len(r.args[1].b)), "INT, at least the appended length")
	case bp.OpDel, bp.OpExists:
		return want(v.Kind == bp.KindInt && v.Int >= 0 && v.Int <= int64(len(r.args)), "INT in [0, keys]")
	case bp.OpRename:
		return want(v.Kind == bp.KindOK, "OK")
	case bp.OpExpire, bp.OpPExpire, bp.OpExpireAt, bp.OpPExpireAt, bp.OpPersist:
		return want(v.Kind == bp.KindInt && (v.Int == 0 || v.Int == 1), "INT 0 or 1")
	case bp.OpTTL, bp.OpPTTL:
		return want(v.Kind == bp.KindInt && v.Int >= -2, "INT >= -2")
	case bp.OpDBSize:
		return want(v.Kind == bp.KindInt && v.Int >= 1, "INT >= 1 (the sentinel)")
	case bp.OpScan:
		if v.Kind != bp.KindArray || len(v.elems) != 2 || v.elems[0].Kind != bp.KindInt || v.elems[1].Kind != bp.KindArray {
			return fmt.Errorf("want ARRAY [INT, ARRAY]")
		}
		for _, e := range v.elems[1].elems {
			if e.Kind != bp.KindBytes {
				return fmt.Errorf("SCAN listed a %s", e.Kind)
			}
		}
		return nil
	case bp.OpStats:
		if v.Kind != bp.KindMap || len(v.elems) == 0 {
			return fmt.Errorf("want a MAP")
		}
		for i := 0; i < len(v.elems); i += 2 {
			if v.elems[i].Kind != bp.KindBytes || v.elems[i+1].Kind != bp.KindInt {
				return fmt.Errorf("STATS pair %d is %s -> %s", i/2, v.elems[i].Kind, v.elems[i+1].Kind)
			}
		}
		return nil
	}
	return fmt.Errorf("no check for %s", r.op)
}

// ---- running an input ----

func bfRunInput(t *testing.T, data []byte) {
	in := &svIn{b: data}
	mode := in.next()
	tg := bfTargets[mode&1]
	noHello := mode&2 != 0
	endFault := mode&0x10 != 0
	var cuts []byte
	for range int(mode>>2) & 3 {
		cuts = append(cuts, in.next())
	}
	var faultSel byte
	if endFault {
		faultSel = in.next()
	}

	bfMu.Lock()
	defer bfMu.Unlock()
	tg.start(t)

	g := &bfGen{in: in}
	var reqs []bfReq
	open := true // the connection stays open after the frames so far
	if !noHello {
		r := bfReq{op: bp.OpHello, id: g.plainID(), args: []bfArg{bfI(1), bfI(1), bfN()}, hello: true}
		r.raw = bfFrame(nil, r.op, r.id, bfBody(r.args...))
		r.desc = "HELLO 1 1 NULL"
		reqs = append(reqs, r)
		g.helloDone = true
	}
	for open && !in.done() && len(reqs) < 48 {
		r, stays := g.next()
		reqs = append(reqs, r)
		open = stays
	}
	if open {
		bfNonce++
		nonce := fmt.Sprintf("nonce-%d", bfNonce)
		r := bfReq{op: bp.OpPing, id: g.plainID(), args: []bfArg{bfB(nonce)}}
		if !g.helloDone {
			r.closing = &bp.Error{Class: bp.ClassProto, Msg: "HELLO required"}
			open = false
		}
		r.raw = bfFrame(nil, r.op, r.id, bfBody(r.args...))
		r.desc = "PING " + nonce
		reqs = append(reqs, r)
	}
	if open && endFault {
		raw, class, desc := frameFault(faultSel, len(reqs) == 0)
		reqs = append(reqs, bfReq{raw: raw, frameFault: true, frameClass: class, desc: "frame fault: " + desc})
	}

	var pipe []byte
	for _, r := range reqs {
		pipe = append(pipe, r.raw...)
	}
	c, err := net.DialTimeout("tcp", tg.srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s server: %v", tg.kind, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(bfTimeout))
	rd := bufio.NewReader(c)

	replies := make([]string, len(reqs))
	history := func() string {
		var b strings.Builder
		for i, r := range reqs {
			fmt.Fprintf(&b, "\n  #%d %s -> %s", i, r.desc, replies[i])
		}
		return b.String()
	}
	slices.Sort(cuts)
	rest, done := pipe, 0
	for _, cut := range cuts {
		if at := int(cut) * len(pipe) / 256; at > done {
			if _, err := c.Write(rest[:at-done]); err != nil {
				t.Fatalf("%s server: write: %v%s", tg.kind, err, history())
			}
			rest, done = rest[at-done:], at
		}
	}
	if _, err := c.Write(rest); err != nil {
		t.Fatalf("%s server: write: %v%s", tg.kind, err, history())
	}

	ended := false // the server's close was seen
	for i := range reqs {
		r := &reqs[i]
		f, err := bfRead(rd)
		if err != nil {
			t.Fatalf("%s server: reading the reply to #%d: %v%s", tg.kind, i, err, history())
		}
		replies[i] = f.describe()
		fail := func(err error) {
			t.Fatalf("%s server: reply to #%d %s is %s: %v%s", tg.kind, i, r.desc, f.describe(), err, history())
		}
		if r.frameFault {
			if f.h.Flags != bp.FlagPush || f.h.Op != bp.OpDisconnect || f.top.Kind != bp.KindError || f.top.Class != r.frameClass {
				fail(fmt.Errorf("want a DISCONNECT push of class %s", r.frameClass))
			}
			ended = true
			break
		}
		if f.h.Flags != bp.FlagReply || f.h.ID != r.id || f.h.Op != r.op {
			fail(fmt.Errorf("want the reply to id %d %s", r.id, r.op))
		}
		switch {
		case r.fault != nil:
			err = bfWantErr(&f.top, r.fault)
		case r.closing != nil:
			err = bfWantErr(&f.top, r.closing)
			ended = true
		case r.hello:
			if f.top.Kind != bp.KindMap {
				err = fmt.Errorf("want the HELLO map")
			}
		default:
			err = bfCheck(r, &f.top)
		}
		if err != nil {
			fail(err)
		}
		if ended {
			break
		}
	}
	if bfVerbose {
		t.Logf("%s server, cuts %v:%s", tg.kind, cuts, history())
	}
	if ended {
		// After a DISCONNECT or a failed handshake the server closes
		// the connection and sends nothing more.
		if f, err := bfRead(rd); err != io.EOF {
			t.Fatalf("%s server: after the last reply: got %s, %v; want the connection closed%s", tg.kind, f.describe(), err, history())
		}
	} else if n := rd.Buffered(); n > 0 {
		t.Fatalf("%s server: %d bytes after the last reply%s", tg.kind, n, history())
	}
	tg.checkSentinel(t, history)
}
