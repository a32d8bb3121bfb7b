package server

import (
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// binErr is a decoded ERROR value.
type binErr struct {
	class binproto.Class
	msg   string
}

func (e binErr) String() string { return e.class.String() + " " + e.msg }

// okV is a decoded OK value.
type okV struct{}

// binClient speaks the binary protocol over a raw connection.
type binClient struct {
	t    testing.TB
	conn net.Conn
	id   uint32
}

func newBinClient(t testing.TB, ts *testServer) *binClient {
	return &binClient{t: t, conn: ts.dial(t)}
}

// appendArg encodes a request argument: nil is NULL, integers are INT,
// strings and byte slices are BYTES.
func appendArg(dst []byte, a any) []byte {
	switch v := a.(type) {
	case nil:
		return binproto.AppendNull(dst)
	case int:
		return binproto.AppendInt(dst, int64(v))
	case int64:
		return binproto.AppendInt(dst, v)
	case string:
		return binproto.AppendString(dst, v)
	case []byte:
		return binproto.AppendBytes(dst, v)
	}
	panic(fmt.Sprintf("bad arg %T", a))
}

// send writes one request and returns its id.
func (b *binClient) send(op binproto.Opcode, args ...any) uint32 {
	b.t.Helper()
	b.id++
	frame, mark := binproto.BeginFrame(nil, op, 0, b.id)
	frame = binproto.AppendArgCount(frame, len(args))
	for _, a := range args {
		frame = appendArg(frame, a)
	}
	frame, err := binproto.EndFrame(frame, mark)
	if err != nil {
		b.t.Fatal(err)
	}
	b.writeRaw(frame)
	return b.id
}

func (b *binClient) writeRaw(p []byte) {
	b.t.Helper()
	b.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := b.conn.Write(p); err != nil {
		b.t.Fatalf("write: %v", err)
	}
}

// readFrame reads one frame.
func (b *binClient) readFrame() (binproto.Header, []byte, error) {
	b.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hdr [binproto.HeaderSize]byte
	if _, err := io.ReadFull(b.conn, hdr[:]); err != nil {
		return binproto.Header{}, nil, err
	}
	h, err := binproto.ParseHeader(hdr[:])
	if err != nil {
		return h, nil, err
	}
	body := make([]byte, h.Length)
	_, err = io.ReadFull(b.conn, body)
	return h, body, err
}

// decode turns a reply body into Go values: nil, string, int64, okV,
// binErr, []any, or map[string]any.
func decode(t testing.TB, body []byte) any {
	t.Helper()
	r := binproto.NewReader(body, binproto.Limits{})
	v := decodeNext(t, &r)
	if r.Len() != 0 {
		t.Fatalf("trailing bytes in body %x", body)
	}
	return v
}

func decodeNext(t testing.TB, r *binproto.Reader) any {
	t.Helper()
	v, err := r.Next()
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	switch v.Kind {
	case binproto.KindNull:
		return nil
	case binproto.KindOK:
		return okV{}
	case binproto.KindInt:
		return v.Int
	case binproto.KindBytes:
		return string(v.Bytes)
	case binproto.KindError:
		return binErr{v.Class, string(v.Bytes)}
	case binproto.KindArray:
		out := make([]any, 0, v.Int)
		for range v.Int {
			out = append(out, decodeNext(t, r))
		}
		return out
	case binproto.KindMap:
		out := make(map[string]any, v.Int)
		for range v.Int {
			k, _ := decodeNext(t, r).(string)
			out[k] = decodeNext(t, r)
		}
		return out
	}
	t.Fatalf("kind %v", v.Kind)
	return nil
}

// reply reads the reply to request id.
func (b *binClient) reply(op binproto.Opcode, id uint32) any {
	b.t.Helper()
	h, body, err := b.readFrame()
	if err != nil {
		b.t.Fatalf("%v reply: %v", op, err)
	}
	if h.Flags != binproto.FlagReply || h.ID != id || h.Op != op {
		b.t.Fatalf("reply header %+v, want REPLY id %d op %v (body %v)", h, id, op, decode(b.t, body))
	}
	return decode(b.t, body)
}

// call sends a request and returns its decoded reply.
func (b *binClient) call(op binproto.Opcode, args ...any) any {
	b.t.Helper()
	return b.reply(op, b.send(op, args...))
}

// hello performs the handshake.
func (b *binClient) hello(name, token any) map[string]any {
	b.t.Helper()
	r := b.call(binproto.OpHello, 1, 1, name, token)
	m, ok := r.(map[string]any)
	if !ok {
		b.t.Fatalf("HELLO = %v", r)
	}
	return m
}

// expectClosed reads until the server closes the connection, skipping a
// DISCONNECT push.
func (b *binClient) expectClosed() {
	b.t.Helper()
	for {
		h, body, err := b.readFrame()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				b.t.Fatal("connection still open after 5s")
			}
			return
		}
		if h.Flags&binproto.FlagPush == 0 || h.Op != binproto.OpDisconnect {
			b.t.Fatalf("frame %+v %v before close", h, decode(b.t, body))
		}
	}
}

func wantV(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func wantIntIn(t *testing.T, what string, got any, lo, hi int64) {
	t.Helper()
	n, ok := got.(int64)
	if !ok || n < lo || n > hi {
		t.Errorf("%s = %#v, want an INT in [%d, %d]", what, got, lo, hi)
	}
}

func errV(c binproto.Class, msg string) binErr { return binErr{c, msg} }

var (
	errSyntax = errV(binproto.ClassErr, "syntax error")
	binOK     = okV{}
)

// TestBinaryHandshake covers HELLO (docs/PROTOCOL.md §7).
func TestBinaryHandshake(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		// A request before HELLO: PROTO, then close.
		b := newBinClient(t, ts)
		wantV(t, "GET before HELLO", b.call(binproto.OpGet, "k"), errV(binproto.ClassProto, "HELLO required"))
		b.expectClosed()

		b = newBinClient(t, ts)
		m := b.hello("app", nil)
		wantV(t, "server", m["server"], "ringdb")
		wantV(t, "version", m["version"], Version)
		wantV(t, "proto", m["proto"], int64(1))
		wantV(t, "role", m["role"], "primary")
		wantV(t, "max_key", m["max_key"], int64(64<<10))
		wantV(t, "max_value", m["max_value"], int64(512<<20))
		wantV(t, "max_frame", m["max_frame"], int64(512<<20+1<<20))
		wantV(t, "max_array", m["max_array"], int64(1<<20))
		if id, ok := m["id"].(int64); !ok || id <= 0 {
			t.Errorf("id = %v", m["id"])
		}
		wantV(t, "second HELLO", b.call(binproto.OpHello, 1, 1, nil, nil), errV(binproto.ClassErr, "HELLO already done"))
		wantV(t, "PING", b.call(binproto.OpPing), binOK)

		// A client offering versions 1 to 5 gets 1.
		b = newBinClient(t, ts)
		neg, _ := b.call(binproto.OpHello, 1, 5).(map[string]any)
		wantV(t, "negotiated", neg["proto"], int64(1))

		for _, bad := range []struct {
			args []any
			want binErr
		}{
			{[]any{2, 3, nil, nil}, errV(binproto.ClassProto, "unsupported protocol version")},
			{[]any{1}, errV(binproto.ClassProto, "invalid HELLO")},
			{[]any{0, 1}, errV(binproto.ClassProto, "invalid HELLO")},
			{[]any{2, 1}, errV(binproto.ClassProto, "invalid HELLO")},
			{[]any{"1", 1}, errV(binproto.ClassProto, "invalid HELLO")},
			{[]any{1, 1, 7}, errV(binproto.ClassProto, "invalid HELLO")},
			{[]any{1, 1, nil, nil, nil}, errV(binproto.ClassProto, "invalid HELLO")},
			{[]any{1, 1, strings.Repeat("n", 257)}, errV(binproto.ClassLimit, "client name too long")},
		} {
			b = newBinClient(t, ts)
			wantV(t, fmt.Sprint("HELLO ", bad.args), b.call(binproto.OpHello, bad.args...), bad.want)
			b.expectClosed()
		}
	})
}

// TestBinaryAuth: with a token, HELLO needs it; failures keep the
// connection for a retry.
func TestBinaryAuth(t *testing.T) {
	forEachTransport(t, Config{AuthToken: "tok"}, func(t *testing.T, ts *testServer) {
		b := newBinClient(t, ts)
		wantV(t, "no token", b.call(binproto.OpHello, 1, 1, "app", nil), errV(binproto.ClassNoAuth, "authentication required"))
		wantV(t, "wrong token", b.call(binproto.OpHello, 1, 1, "app", "nope"), errV(binproto.ClassNoAuth, "invalid token"))
		wantV(t, "GET still refused", b.call(binproto.OpGet, "k"), errV(binproto.ClassProto, "HELLO required"))
		b.expectClosed()
		b = newBinClient(t, ts)
		b.hello("app", "tok")
		wantV(t, "GET", b.call(binproto.OpGet, "k"), nil)
	})
}

// TestBinaryCommands checks every opcode against its reply kinds and
// Redis 7 semantics.
func TestBinaryCommands(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		b := newBinClient(t, ts)
		b.hello(nil, nil)
		now := time.Now().UnixMilli()
		call := b.call

		wantV(t, "PING msg", call(binproto.OpPing, "hi"), "hi")
		wantV(t, "PING wrong kind", call(binproto.OpPing, 1), errSyntax)
		wantV(t, "GET missing", call(binproto.OpGet, "k"), nil)
		wantV(t, "SET", call(binproto.OpSet, "k", "v"), binOK)
		wantV(t, "GET", call(binproto.OpGet, "k"), "v")
		wantV(t, "SET binary", call(binproto.OpSet, "bin", []byte{0, 0xb1, '\r', '\n'}), binOK)
		wantV(t, "GET binary", call(binproto.OpGet, "bin"), "\x00\xb1\r\n")
		wantV(t, "SET empty", call(binproto.OpSet, "empty", ""), binOK)
		wantV(t, "GET empty", call(binproto.OpGet, "empty"), "")
		wantV(t, "SET NX existing", call(binproto.OpSet, "k", "x", binproto.SetNX), nil)
		wantV(t, "SET XX missing", call(binproto.OpSet, "nokey", "x", binproto.SetXX), nil)
		wantV(t, "SET GET", call(binproto.OpSet, "k", "v2", binproto.SetGet), "v")
		wantV(t, "SET GET missing", call(binproto.OpSet, "fresh", "1", binproto.SetGet), nil)
		wantV(t, "SET NX|GET existing", call(binproto.OpSet, "k", "v3", binproto.SetNX|binproto.SetGet), "v2")
		wantV(t, "SET mode NULL", call(binproto.OpSet, "k", "v2", nil), binOK)
		wantV(t, "SET NX|PX", call(binproto.OpSet, "px", "v", binproto.SetNX|binproto.ExpPX, 5000), binOK)
		wantIntIn(t, "PTTL after PX", call(binproto.OpPTTL, "px"), 4000, 5000)
		wantV(t, "SET KEEPTTL", call(binproto.OpSet, "px", "v2", binproto.SetKeepTTL), binOK)
		wantIntIn(t, "PTTL after KEEPTTL", call(binproto.OpPTTL, "px"), 4000, 5000)
		wantV(t, "SET PXAT", call(binproto.OpSet, "pxat", "v", binproto.ExpPXAt, now+100_000), binOK)
		wantIntIn(t, "TTL after PXAT", call(binproto.OpTTL, "pxat"), 98, 100)
		wantV(t, "SET PXAT past", call(binproto.OpSet, "pxat", "v", binproto.ExpPXAt, 1000), binOK)
		wantV(t, "EXISTS after past PXAT", call(binproto.OpExists, "pxat"), int64(0))
		wantV(t, "SET NX|XX", call(binproto.OpSet, "k", "v", binproto.SetNX|binproto.SetXX), errSyntax)
		wantV(t, "SET PX|PXAT", call(binproto.OpSet, "k", "v", binproto.ExpPX|binproto.ExpPXAt, 5), errSyntax)
		wantV(t, "SET KEEPTTL|PX", call(binproto.OpSet, "k", "v", binproto.SetKeepTTL|binproto.ExpPX, 5), errSyntax)
		wantV(t, "SET PX without expiry", call(binproto.OpSet, "k", "v", binproto.ExpPX), errSyntax)
		wantV(t, "SET expiry without PX", call(binproto.OpSet, "k", "v", 0, 5), errSyntax)
		wantV(t, "SET unknown bit", call(binproto.OpSet, "k", "v", binproto.ExpPersist), errSyntax)
		wantV(t, "SET PX 0", call(binproto.OpSet, "k", "v", binproto.ExpPX, 0), errV(binproto.ClassErr, "invalid expire time in 'set' command"))
		wantV(t, "SET PX overflow", call(binproto.OpSet, "k", "v", binproto.ExpPX, int64(1<<63-1)), errV(binproto.ClassErr, "invalid expire time in 'set' command"))
		wantV(t, "SET value INT", call(binproto.OpSet, "k", 5), errSyntax)
		wantV(t, "SET too few", call(binproto.OpSet, "k"), errV(binproto.ClassErr, "wrong number of arguments for 'set'"))
		wantV(t, "GET too many", call(binproto.OpGet, "k", "x"), errV(binproto.ClassErr, "wrong number of arguments for 'get'"))
		wantV(t, "GET INT key", call(binproto.OpGet, 1), errSyntax)
		wantV(t, "GET NULL key", call(binproto.OpGet, nil), errSyntax)

		wantV(t, "GETDEL", call(binproto.OpGetDel, "k"), "v2")
		wantV(t, "GETDEL missing", call(binproto.OpGetDel, "k"), nil)
		call(binproto.OpSet, "ge", "v")
		wantV(t, "GETEX plain", call(binproto.OpGetEx, "ge"), "v")
		wantV(t, "GETEX PX", call(binproto.OpGetEx, "ge", binproto.ExpPX, 5000), "v")
		wantIntIn(t, "PTTL after GETEX", call(binproto.OpPTTL, "ge"), 4000, 5000)
		wantV(t, "GETEX PERSIST", call(binproto.OpGetEx, "ge", binproto.ExpPersist), "v")
		wantV(t, "TTL after PERSIST", call(binproto.OpTTL, "ge"), int64(-1))
		wantV(t, "GETEX PXAT", call(binproto.OpGetEx, "ge", binproto.ExpPXAt, now+100_000), "v")
		wantIntIn(t, "TTL after GETEX PXAT", call(binproto.OpTTL, "ge"), 98, 100)
		wantV(t, "GETEX PX 0", call(binproto.OpGetEx, "ge", binproto.ExpPX, 0), errV(binproto.ClassErr, "invalid expire time in 'getex' command"))
		wantV(t, "GETEX PX 0 missing", call(binproto.OpGetEx, "nokey", binproto.ExpPX, 0), nil)
		wantV(t, "GETEX PERSIST|PX", call(binproto.OpGetEx, "ge", binproto.ExpPersist|binproto.ExpPX, 5), errSyntax)
		wantV(t, "GETEX NX", call(binproto.OpGetEx, "ge", binproto.SetNX), errSyntax)
		wantV(t, "GETEX missing", call(binproto.OpGetEx, "nokey", binproto.ExpPX, 10), nil)

		wantV(t, "MSET", call(binproto.OpMSet, "a", "1", "b", "2"), binOK)
		wantV(t, "MGET", call(binproto.OpMGet, "a", "nokey", "b"), []any{"1", nil, "2"})
		wantV(t, "MSET odd", call(binproto.OpMSet, "a", "1", "b"), errV(binproto.ClassErr, "wrong number of arguments for 'mset'"))
		wantV(t, "MSET INT value", call(binproto.OpMSet, "a", 1), errSyntax)
		wantV(t, "MGET none", call(binproto.OpMGet), errV(binproto.ClassErr, "wrong number of arguments for 'mget'"))
		wantV(t, "INCRBY new", call(binproto.OpIncrBy, "n", 5), int64(5))
		wantV(t, "INCRBY", call(binproto.OpIncrBy, "n", -7), int64(-2))
		wantV(t, "INCRBY BYTES delta", call(binproto.OpIncrBy, "n", "1"), errSyntax)
		wantV(t, "INCRBY not integer", call(binproto.OpIncrBy, "ge", 1), errV(binproto.ClassErr, "value is not an integer or out of range"))
		call(binproto.OpSet, "max", "9223372036854775807")
		wantV(t, "INCRBY overflow", call(binproto.OpIncrBy, "max", 1), errV(binproto.ClassErr, "increment or decrement would overflow"))
		wantV(t, "APPEND new", call(binproto.OpAppend, "ap", "hello"), int64(5))
		wantV(t, "APPEND", call(binproto.OpAppend, "ap", " world"), int64(11))
		wantV(t, "GET appended", call(binproto.OpGet, "ap"), "hello world")

		wantV(t, "EXISTS repeats", call(binproto.OpExists, "a", "a", "nokey", "b"), int64(3))
		wantV(t, "DEL", call(binproto.OpDel, "a", "nokey"), int64(1))
		wantV(t, "DEL none", call(binproto.OpDel), errV(binproto.ClassErr, "wrong number of arguments for 'del'"))
		call(binproto.OpSet, "r1", "v", binproto.ExpPX, 60_000)
		wantV(t, "RENAME", call(binproto.OpRename, "r1", "r2"), binOK)
		wantV(t, "GET renamed", call(binproto.OpGet, "r2"), "v")
		wantIntIn(t, "TTL kept", call(binproto.OpTTL, "r2"), 59, 60)
		wantV(t, "RENAME missing", call(binproto.OpRename, "r1", "r3"), errV(binproto.ClassErr, "no such key"))

		call(binproto.OpSet, "e", "v")
		wantV(t, "EXPIRE", call(binproto.OpExpire, "e", 100), int64(1))
		wantIntIn(t, "TTL", call(binproto.OpTTL, "e"), 99, 100)
		wantV(t, "EXPIRE NX", call(binproto.OpExpire, "e", 10, binproto.CondNX), int64(0))
		wantV(t, "EXPIRE XX", call(binproto.OpExpire, "e", 200, binproto.CondXX), int64(1))
		wantV(t, "EXPIRE GT smaller", call(binproto.OpExpire, "e", 100, binproto.CondGT), int64(0))
		wantV(t, "EXPIRE LT", call(binproto.OpExpire, "e", 50, binproto.CondLT), int64(1))
		wantV(t, "EXPIRE cond NULL", call(binproto.OpExpire, "e", 60, nil), int64(1))
		wantV(t, "EXPIRE bad cond", call(binproto.OpExpire, "e", 10, 5), errSyntax)
		wantV(t, "EXPIRE overflow", call(binproto.OpExpire, "e", int64(1<<62)), errV(binproto.ClassErr, "invalid expire time in 'expire' command"))
		wantV(t, "PEXPIRE", call(binproto.OpPExpire, "e", 5000), int64(1))
		wantIntIn(t, "PTTL", call(binproto.OpPTTL, "e"), 4000, 5000)
		wantV(t, "EXPIREAT", call(binproto.OpExpireAt, "e", now/1000+100), int64(1))
		wantIntIn(t, "TTL after EXPIREAT", call(binproto.OpTTL, "e"), 98, 101)
		wantV(t, "PEXPIREAT", call(binproto.OpPExpireAt, "e", now+100_000), int64(1))
		wantIntIn(t, "PTTL after PEXPIREAT", call(binproto.OpPTTL, "e"), 98_000, 100_000)
		wantV(t, "PERSIST", call(binproto.OpPersist, "e"), int64(1))
		wantV(t, "PERSIST again", call(binproto.OpPersist, "e"), int64(0))
		wantV(t, "TTL none", call(binproto.OpTTL, "e"), int64(-1))
		wantV(t, "TTL missing", call(binproto.OpTTL, "nokey"), int64(-2))
		wantV(t, "PTTL missing", call(binproto.OpPTTL, "nokey"), int64(-2))
		wantV(t, "EXPIRE missing", call(binproto.OpExpire, "nokey", 10), int64(0))
		wantV(t, "PEXPIREAT past deletes", call(binproto.OpPExpireAt, "e", 1), int64(1))
		wantV(t, "EXISTS deleted", call(binproto.OpExists, "e"), int64(0))

		wantV(t, "FLUSHALL", call(binproto.OpFlushAll), binOK)
		wantV(t, "DBSIZE empty", call(binproto.OpDBSize), int64(0))
		var want []string
		for i := range 40 {
			k := fmt.Sprintf("key:%02d", i)
			want = append(want, k)
			call(binproto.OpSet, k, "v")
		}
		call(binproto.OpSet, "other", "v")
		wantV(t, "DBSIZE", call(binproto.OpDBSize), int64(41))
		seen := map[string]bool{}
		cursor := int64(0)
		for i := 0; ; i++ {
			r, ok := call(binproto.OpScan, cursor, "key:*", 5).([]any)
			if !ok || len(r) != 2 || i > 1000 {
				t.Fatalf("SCAN = %v", r)
			}
			for _, k := range r[1].([]any) {
				seen[k.(string)] = true
			}
			cursor = r[0].(int64)
			if cursor == 0 {
				break
			}
		}
		got := slices.Sorted(maps.Keys(seen))
		wantV(t, "SCAN keys", got, want)
		r := call(binproto.OpScan, 0, nil, 1000).([]any)
		wantV(t, "SCAN all cursor", r[0], int64(0))
		wantV(t, "SCAN all count", len(r[1].([]any)), 41)
		wantV(t, "SCAN count 0", call(binproto.OpScan, 0, nil, 0), errSyntax)
		wantV(t, "SCAN BYTES cursor", call(binproto.OpScan, "0"), errSyntax)

		st := call(binproto.OpStats).(map[string]any)
		for _, k := range []string{"keys", "used_bytes", "max_bytes", "hits", "misses", "sets", "deletes", "expired", "evicted", "net_input_bytes", "net_output_bytes", "connected_clients", "connections_total", "rejected_connections", "output_buffer_disconnects", "commands_processed"} {
			if _, ok := st[k].(int64); !ok {
				t.Errorf("STATS %s = %v", k, st[k])
			}
		}
		wantV(t, "STATS keys", st["keys"], int64(41))
		call(binproto.OpGet, "key:01")
		call(binproto.OpGet, "nokey")
		st2 := call(binproto.OpStats).(map[string]any)
		wantV(t, "STATS hits delta", st2["hits"].(int64)-st["hits"].(int64), int64(1))
		wantV(t, "STATS misses delta", st2["misses"].(int64)-st["misses"].(int64), int64(1))
		wantV(t, "DIGEST", call(binproto.OpDigest), int64(ts.Keyspace().Digest()))

		wantV(t, "unknown opcode", call(0x0050), errV(binproto.ClassErr, "unknown opcode 0x0050"))
		wantV(t, "still open", call(binproto.OpPing), binOK)
	})
}

// TestBinaryPipeline: replies come back in request order with their ids.
func TestBinaryPipeline(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		b := newBinClient(t, ts)
		b.hello(nil, nil)
		var frames []byte
		for i := range 200 {
			f, mark := binproto.BeginFrame(nil, binproto.OpSet, 0, uint32(1000+2*i))
			f = binproto.AppendArgCount(f, 2)
			f = appendArg(f, fmt.Sprint("p", i))
			f = appendArg(f, fmt.Sprint(i))
			f, _ = binproto.EndFrame(f, mark)
			frames = append(frames, f...)
			f, mark = binproto.BeginFrame(nil, binproto.OpGet, 0, uint32(1001+2*i))
			f = binproto.AppendArgCount(f, 1)
			f = appendArg(f, fmt.Sprint("p", i))
			f, _ = binproto.EndFrame(f, mark)
			frames = append(frames, f...)
		}
		go b.writeRaw(frames)
		for i := range 200 {
			wantV(t, "SET", b.reply(binproto.OpSet, uint32(1000+2*i)), binOK)
			wantV(t, "GET", b.reply(binproto.OpGet, uint32(1001+2*i)), fmt.Sprint(i))
		}
	})
}

// TestBinaryBadFrames: a malformed frame gets a DISCONNECT push and the
// connection is closed; a bad body gets an error reply and the connection
// stays.
func TestBinaryBadFrames(t *testing.T) {
	forEachTransport(t, Config{MaxKeySize: 8}, func(t *testing.T, ts *testServer) {
		b := newBinClient(t, ts)
		b.hello(nil, nil)
		wantV(t, "key too large", b.call(binproto.OpGet, "123456789"), errV(binproto.ClassLimit, "key too large"))
		wantV(t, "SET key too large", b.call(binproto.OpSet, "123456789", "v"), errV(binproto.ClassLimit, "key too large"))
		// A body with trailing bytes: the frame length still delimits it.
		f, mark := binproto.BeginFrame(nil, binproto.OpPing, 0, 77)
		f = binproto.AppendArgCount(f, 0)
		f = append(f, 0xff)
		f, _ = binproto.EndFrame(f, mark)
		b.writeRaw(f)
		if r, ok := b.reply(binproto.OpPing, 77).(binErr); !ok || r.class != binproto.ClassProto {
			t.Errorf("trailing body = %v", r)
		}
		wantV(t, "still open", b.call(binproto.OpPing), binOK)
		// A reserved flag bit breaks framing.
		hdr := binproto.AppendHeader(nil, binproto.Header{Op: binproto.OpPing, ID: 5, Length: 4})
		hdr[1] = 0x80
		b.writeRaw(append(hdr, 0, 0, 0, 0))
		h, body, err := b.readFrame()
		if err != nil || h.Op != binproto.OpDisconnect || h.Flags != binproto.FlagPush {
			t.Fatalf("want DISCONNECT, got %+v %v", h, err)
		}
		if e, ok := decode(t, body).(binErr); !ok || e.class != binproto.ClassProto {
			t.Errorf("DISCONNECT body = %v", e)
		}
		b.expectClosed()
	})
}
