package binproto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// frame builds a complete frame whose body is produced by body.
func frame(op Opcode, flags Flags, id uint32, body func([]byte) []byte) []byte {
	b, m := BeginFrame(nil, op, flags, id)
	b = body(b)
	b, err := EndFrame(b, m)
	if err != nil {
		panic(err)
	}
	return b
}

// request builds a request frame with the given arguments, each a []byte
// (BYTES), an int (INT) or nil (NULL).
func request(op Opcode, id uint32, args ...any) []byte {
	return frame(op, 0, id, func(b []byte) []byte {
		b = AppendArgCount(b, len(args))
		for _, a := range args {
			switch a := a.(type) {
			case nil:
				b = AppendNull(b)
			case string:
				b = AppendString(b, a)
			case []byte:
				b = AppendBytes(b, a)
			case int:
				b = AppendInt(b, int64(a))
			default:
				panic("bad arg")
			}
		}
		return b
	})
}

// docExamples are the frames of docs/PROTOCOL.md §13, in order.
var docExamples = [][]byte{
	request(OpHello, 1, Version, Version, "app", nil),
	frame(OpHello, FlagReply, 1, func(b []byte) []byte {
		b = AppendMapHeader(b, 2)
		b = AppendString(b, "proto")
		b = AppendInt(b, 1)
		b = AppendString(b, "id")
		return AppendInt(b, 7)
	}),
	request(OpGet, 2, "k"),
	frame(OpGet, FlagReply, 2, func(b []byte) []byte { return AppendString(b, "v") }),
	frame(OpGet, FlagReply, 2, AppendNull),
	request(OpSet, 3, "k", "v", SetNX|ExpPX, 1000),
	frame(OpSet, FlagReply, 3, AppendOK),
	AppendErrorReply(nil, OpIncrBy, 4, ClassErr, "value is not an integer or out of range"),
	frame(OpMGet, FlagReply, 5, func(b []byte) []byte {
		b = AppendArrayHeader(b, 2)
		b = AppendString(b, "v")
		return AppendNull(b)
	}),
	frame(OpMessage, FlagPush, 0, func(b []byte) []byte {
		b = AppendArrayHeader(b, 2)
		b = AppendString(b, "ch")
		return AppendString(b, "hi")
	}),
	AppendDisconnect(nil, ClassLimit, "frame too large"),
}

// TestProtocolDocExamples keeps the hex examples of docs/PROTOCOL.md in step
// with the encoder.
func TestProtocolDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, part := range strings.Split(string(doc), "```hex\n")[1:] {
		block := part[:strings.Index(part, "```")]
		var hexs strings.Builder
		for _, line := range strings.Split(block, "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			hexs.WriteString(strings.NewReplacer(" ", "", "|", "").Replace(line))
		}
		blocks = append(blocks, hexs.String())
	}
	if len(blocks) != len(docExamples) {
		t.Fatalf("PROTOCOL.md has %d hex examples, the test %d", len(blocks), len(docExamples))
	}
	for i, want := range docExamples {
		if blocks[i] != hex.EncodeToString(want) {
			t.Errorf("example %d:\n doc  %s\n code %x", i+1, blocks[i], want)
		}
		// Every example decodes and validates.
		d := NewDecoder(Limits{})
		d.Feed(want)
		f, err := d.Next()
		if err != nil || f == nil {
			t.Fatalf("example %d: %v", i+1, err)
		}
		if f.IsRequest() {
			_, err = ParseArgs(nil, f.Body, Limits{})
		} else {
			err = ValidateBody(f.Body, Limits{})
		}
		if err != nil {
			t.Errorf("example %d body: %v", i+1, err)
		}
	}
}

func TestParseHeader(t *testing.T) {
	h := Header{Flags: FlagReply, Op: OpSet, ID: 0xdeadbeef, Length: 0x01020304}
	b := AppendHeader(nil, h)
	if want := "b1010011deadbeef01020304"; hex.EncodeToString(b) != want {
		t.Fatalf("header %x, want %s", b, want)
	}
	got, err := ParseHeader(b)
	if err != nil || got != h {
		t.Fatalf("ParseHeader: %+v %v", got, err)
	}
	cases := []struct {
		hex string
		err error
	}{
		{"b1000010000000010000000", ErrShortHeader},
		{"b2000010000000010000000a", ErrBadMagic},
		{"2a000010000000010000000a", ErrBadMagic},
		{"b1040010000000010000000a", ErrBadFlags},
		{"b1800010000000010000000a", ErrBadFlags},
		{"b1030010000000010000000a", ErrBadFlags},
		{"b1000010000000000000000a", ErrBadID},
		{"b1010010000000000000000a", ErrBadID},
		{"b1028001000000010000000a", ErrBadID},
		{"b1000000000000010000000a", ErrBadOpcode},
		{"b1028001000000000000000a", nil},
		{"b100ffff00000001ffffffff", nil},
	}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.hex)
		if _, err := ParseHeader(b); err != c.err {
			t.Errorf("%s: got %v, want %v", c.hex, err, c.err)
		}
	}
}

func TestBeginEndFrame(t *testing.T) {
	prefix := []byte("earlier frames")
	b, m := BeginFrame(prefix, OpPing, 0, 1)
	if m != len(prefix) {
		t.Fatalf("mark %d", m)
	}
	b = AppendArgCount(b, 1)
	b = AppendString(b, "hello")
	b, err := EndFrame(b, m)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseHeader(b[m:])
	if err != nil || int(h.Length) != len(b)-m-HeaderSize || h.Op != OpPing || h.ID != 1 {
		t.Fatalf("%+v %v", h, err)
	}
	// (ErrBodyTooLarge needs a body over 4 GiB; it is not exercised here.)
}

func TestValueEncoding(t *testing.T) {
	cases := []struct {
		got  []byte
		want string
	}{
		{AppendNull(nil), "00"},
		{AppendOK(nil), "06"},
		{AppendBytes(nil, []byte("ab")), "01000000026162"},
		{AppendBytes(nil, nil), "0100000000"},
		{AppendString(nil, "ab"), "01000000026162"},
		{AppendInt(nil, -1), "02ffffffffffffffff"},
		{AppendInt(nil, 258), "020000000000000102"},
		{AppendArrayHeader(nil, 3), "0300000003"},
		{AppendMapHeader(nil, 1), "0400000001"},
		{AppendError(nil, ClassWrongType, "x"), "05020000000178"},
		{AppendArgCount(nil, 2), "00000002"},
	}
	for _, c := range cases {
		if hex.EncodeToString(c.got) != c.want {
			t.Errorf("got %x, want %s", c.got, c.want)
		}
	}
	long := strings.Repeat("e", MaxErrorMessage+10)
	if n := len(AppendError(nil, ClassErr, long)); n != 6+MaxErrorMessage {
		t.Fatalf("error message not clipped: %d bytes", n)
	}
	f := AppendErrorReply(nil, OpGet, 9, ClassErr, long)
	if h, _ := ParseHeader(f); int(h.Length) != len(f)-HeaderSize {
		t.Fatalf("AppendErrorReply length %d, body %d", h.Length, len(f)-HeaderSize)
	}
}

func TestEncodersDoNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 1024)
	key, val := []byte("key"), []byte("value")
	allocs := testing.AllocsPerRun(100, func() {
		b, m := BeginFrame(buf[:0], OpSet, 0, 7)
		b = AppendArgCount(b, 4)
		b = AppendBytes(b, key)
		b = AppendBytes(b, val)
		b = AppendInt(b, ExpPX)
		b = AppendInt(b, 100)
		b, _ = EndFrame(b, m)
		b = AppendErrorReply(b, OpGet, 1, ClassOOM, "out of memory")
		b = AppendDisconnect(b, ClassLimit, "x")
		_ = b
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run", allocs)
	}
}

func TestParseArgs(t *testing.T) {
	body := func(f []byte) []byte { return f[HeaderSize:] }
	args, err := ParseArgs(nil, body(request(OpSet, 1, "key", "", nil, -5)), Limits{})
	want := []Value{
		{Kind: KindBytes, Bytes: []byte("key")},
		{Kind: KindBytes, Bytes: []byte{}},
		{Kind: KindNull},
		{Kind: KindInt, Int: -5},
	}
	if err != nil || !reflect.DeepEqual(args, want) {
		t.Fatalf("got %+v %v", args, err)
	}
	if cap(args[0].Bytes) != 3 {
		t.Fatal("argument capacity not clipped")
	}
	cases := []struct {
		name string
		hex  string
		lim  Limits
		err  error
	}{
		{"empty", "", Limits{}, ErrTruncated},
		{"no-args", "00000000", Limits{}, nil},
		{"short-count", "000000", Limits{}, ErrTruncated},
		{"count-2^32-1", "ffffffff", Limits{}, ErrTooManyArgs},
		{"count-over-body", "0000000300", Limits{}, ErrTruncated},
		{"count-over-limit", "00000003000000", Limits{MaxArray: 2}, ErrTooManyArgs},
		{"bytes-4GiB", "0000000101ffffffff", Limits{}, ErrValueTooLarge},
		{"bytes-over-limit", "00000001010000000361626364", Limits{MaxValue: 2}, ErrValueTooLarge},
		{"bytes-short", "000000010100000003616", Limits{}, ErrTruncated},
		{"bytes-short-len", "00000001010000", Limits{}, ErrTruncated},
		{"int-short", "000000010200", Limits{}, ErrTruncated},
		{"array-arg", "000000010300000000", Limits{}, ErrArgKind},
		{"ok-arg", "0000000106", Limits{}, ErrArgKind},
		{"bad-tag", "0000000107", Limits{}, ErrBadTag},
		{"trailing", "000000010000", Limits{}, ErrTrailing},
	}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.hex)
		if _, err := ParseArgs(nil, b, c.lim); err != c.err {
			t.Errorf("%s: got %v, want %v", c.name, err, c.err)
		}
	}
}

func TestParseArgsHugeCountDoesNotAllocate(t *testing.T) {
	b, _ := hex.DecodeString("ffffffff0000")
	var dst []Value
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseArgs(dst, b, Limits{}); err != ErrTooManyArgs {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}

func TestReader(t *testing.T) {
	var b []byte
	b = AppendArrayHeader(b, 2)
	b = AppendInt(b, 42)
	b = AppendArrayHeader(b, 3)
	b = AppendString(b, "a")
	b = AppendNull(b)
	b = AppendMapHeader(b, 1)
	b = AppendString(b, "k")
	b = AppendError(b, ClassReadOnly, "ro")
	if err := ValidateBody(b, Limits{}); err != nil {
		t.Fatal(err)
	}
	r := NewReader(b, Limits{})
	var kinds []Kind
	for r.Len() > 0 {
		v, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, v.Kind)
		if v.Kind == KindError {
			var e *Error
			if !errors.As(v.Err(), &e) || e.Class != ClassReadOnly || e.Msg != "ro" || e.Error() != "READONLY ro" {
				t.Fatalf("error value: %v", v.Err())
			}
		}
	}
	want := []Kind{KindArray, KindInt, KindArray, KindBytes, KindNull, KindMap, KindBytes, KindError}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds %v", kinds)
	}
	if _, err := r.Next(); err != ErrTruncated {
		t.Fatalf("past the end: %v", err)
	}
	r.Reset(b)
	if v, err := r.Skip(); err != nil || v.Kind != KindArray || r.Len() != 0 {
		t.Fatalf("Skip: %+v %v, %d left", v, err, r.Len())
	}
	var zero Reader
	if _, err := zero.Next(); err != ErrTruncated {
		t.Fatalf("zero Reader: %v", err)
	}

	cases := []struct {
		name string
		hex  string
		lim  Limits
		err  error
	}{
		{"empty", "", Limits{}, ErrTruncated},
		{"two-values", "0000", Limits{}, ErrTrailing},
		{"array-2^32-1", "03ffffffff", Limits{}, ErrTooManyArgs},
		{"array-over-body", "030000000200", Limits{}, ErrTruncated},
		{"array-missing-elem", "03000000010300000001", Limits{}, ErrTruncated},
		{"map-over-body", "040000000100", Limits{}, ErrTruncated},
		{"map-over-limit", "0400000002000000", Limits{MaxArray: 1}, ErrTooManyArgs},
		{"bytes-4GiB", "01ffffffff", Limits{}, ErrValueTooLarge},
		{"error-class-0", "050000000000", Limits{}, ErrBadClass},
		{"error-too-long", "0501ffffffff", Limits{}, ErrValueTooLarge},
		{"error-short", "050100000002ff", Limits{}, ErrTruncated},
		{"bad-tag", "ee", Limits{}, ErrBadTag},
		{"int-short", "0200", Limits{}, ErrTruncated},
		{"unknown-class-ok", "05630000000178", Limits{}, nil},
	}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.hex)
		if err := ValidateBody(b, c.lim); err != c.err {
			t.Errorf("%s: got %v, want %v", c.name, err, c.err)
		}
	}
}

func TestNames(t *testing.T) {
	if OpGet.String() != "GET" || OpDisconnect.String() != "DISCONNECT" || Opcode(0x0abc).String() != "Opcode(0x0abc)" {
		t.Fatal(OpGet.String(), OpDisconnect.String(), Opcode(0x0abc).String())
	}
	if !OpScan.Known() || Opcode(0x7000).Known() {
		t.Fatal("Known")
	}
	if ClassNoAuth.String() != "NOAUTH" || Class(0).String() != "ERR" || Class(200).String() != "ERR" {
		t.Fatal("Class.String")
	}
	if KindMap.String() != "MAP" || Kind(9).String() != "Kind(9)" {
		t.Fatal("Kind.String")
	}
	if ErrFrameTooLarge.Error() != "LIMIT frame too large" {
		t.Fatal(ErrFrameTooLarge.Error())
	}
	if !bytes.Equal(AppendHeader(nil, Header{Op: 1, ID: 1})[:1], []byte{Magic}) {
		t.Fatal("magic")
	}
}
