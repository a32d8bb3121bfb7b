package resp

import (
	"math"
	"testing"
)

func TestEncoders(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"simple", AppendSimple(nil, "OK"), "+OK\r\n"},
		{"simple-sanitized", AppendSimple(nil, "a\r\nb"), "+a  b\r\n"},
		{"ok", AppendOK(nil), "+OK\r\n"},
		{"error", AppendError(nil, "ERR unknown command 'x'"), "-ERR unknown command 'x'\r\n"},
		{"error-sanitized", AppendError(nil, "ERR bad\nthing"), "-ERR bad thing\r\n"},
		{"int", AppendInt(nil, 42), ":42\r\n"},
		{"int-neg", AppendInt(nil, -2), ":-2\r\n"},
		{"int-min", AppendInt(nil, math.MinInt64), ":-9223372036854775808\r\n"},
		{"bulk", AppendBulk(nil, []byte("hello")), "$5\r\nhello\r\n"},
		{"bulk-empty", AppendBulk(nil, nil), "$0\r\n\r\n"},
		{"bulk-binary", AppendBulk(nil, []byte("a\r\n\x00")), "$4\r\na\r\n\x00\r\n"},
		{"bulk-string", AppendBulkString(nil, "hi"), "$2\r\nhi\r\n"},
		{"null-2", AppendNull(nil, RESP2), "$-1\r\n"},
		{"null-3", AppendNull(nil, RESP3), "_\r\n"},
		{"null-array-2", AppendNullArray(nil, RESP2), "*-1\r\n"},
		{"null-array-3", AppendNullArray(nil, RESP3), "_\r\n"},
		{"array", AppendArrayHeader(nil, 3), "*3\r\n"},
		{"map-2", AppendMapHeader(nil, RESP2, 2), "*4\r\n"},
		{"map-3", AppendMapHeader(nil, RESP3, 2), "%2\r\n"},
		{"set-2", AppendSetHeader(nil, RESP2, 2), "*2\r\n"},
		{"set-3", AppendSetHeader(nil, RESP3, 2), "~2\r\n"},
		{"push-2", AppendPush(nil, RESP2, 3), "*3\r\n"},
		{"push-3", AppendPush(nil, RESP3, 3), ">3\r\n"},
		{"double-3", AppendDouble(nil, RESP3, 1.5), ",1.5\r\n"},
		{"double-3-int", AppendDouble(nil, RESP3, 3), ",3\r\n"},
		{"double-3-inf", AppendDouble(nil, RESP3, math.Inf(1)), ",inf\r\n"},
		{"double-3-ninf", AppendDouble(nil, RESP3, math.Inf(-1)), ",-inf\r\n"},
		{"double-3-nan", AppendDouble(nil, RESP3, math.NaN()), ",nan\r\n"},
		{"double-2", AppendDouble(nil, RESP2, 0.1), "$3\r\n0.1\r\n"},
		{"bool-3-t", AppendBool(nil, RESP3, true), "#t\r\n"},
		{"bool-3-f", AppendBool(nil, RESP3, false), "#f\r\n"},
		{"bool-2-t", AppendBool(nil, RESP2, true), ":1\r\n"},
		{"bool-2-f", AppendBool(nil, RESP2, false), ":0\r\n"},
		{"verbatim-3", AppendVerbatim(nil, RESP3, "txt", []byte("Some string")), "=15\r\ntxt:Some string\r\n"},
		{"verbatim-3-badfmt", AppendVerbatim(nil, RESP3, "x", []byte("a")), "=5\r\ntxt:a\r\n"},
		{"verbatim-2", AppendVerbatim(nil, RESP2, "txt", []byte("abc")), "$3\r\nabc\r\n"},
		{"bignum-3", AppendBigNumber(nil, RESP3, "3492890328409238509324850943850943825024385"), "(3492890328409238509324850943850943825024385\r\n"},
		{"bignum-2", AppendBigNumber(nil, RESP2, "12"), "$2\r\n12\r\n"},
		{"command", AppendCommand(nil, []byte("SET"), []byte("k"), []byte("v")), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"},
		{"appends", AppendInt([]byte("x"), 1), "x:1\r\n"},
	}
	for _, c := range cases {
		if string(c.got) != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestEncodersDoNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 4096)
	val := []byte("some value")
	allocs := testing.AllocsPerRun(100, func() {
		b := buf[:0]
		b = AppendArrayHeader(b, 12)
		b = AppendBulk(b, val)
		b = AppendBulkString(b, "key")
		b = AppendInt(b, -12345)
		b = AppendSimple(b, "OK")
		b = AppendError(b, "ERR x\r\ny")
		b = AppendNull(b, RESP2)
		b = AppendMapHeader(b, RESP3, 1)
		b = AppendDouble(b, RESP2, 3.25)
		b = AppendDouble(b, RESP3, 3.25)
		b = AppendBool(b, RESP3, true)
		b = AppendVerbatim(b, RESP3, "txt", val)
		b = AppendPush(b, RESP3, 2)
		_ = b
	})
	if allocs != 0 {
		t.Fatalf("encoders allocated %v times per run", allocs)
	}
}
