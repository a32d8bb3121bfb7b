package transport

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ringdb/ringdb/transport/binproto"
	"github.com/ringdb/ringdb/transport/resp"
)

// writerProtos are the protocols a Writer writes, for the tests that
// check its output in each.
var writerProtos = []struct {
	name    string
	p       Proto
	version int
}{{"resp2", ProtoRESP, 2}, {"resp3", ProtoRESP, 3}, {"binary", ProtoBinary, 0}}

// Large values move the output into pooled buffers (Writer.room); the
// bytes written must be what plain appends give, in every protocol, and
// the transport's own buffer must be left as it was.
func TestWriterLargeBulks(t *testing.T) {
	big1 := bytes.Repeat([]byte("x"), 300_000)
	big2 := bytes.Repeat([]byte("y"), 1_100_000)
	big3 := strings.Repeat("z", 70_000)
	for _, tc := range writerProtos {
		t.Run(tc.name, func(t *testing.T) {
			own := append(make([]byte, 0, retainOut), "head"...)
			w := NewWriter(own, tc.p, tc.version)
			w.Simple("OK")
			w.Bulk(big1)
			w.Int(7)
			w.Bulk(big2)
			w.BulkString(big3)
			w.Bulk([]byte("small"))

			want := []byte("head")
			if tc.p == ProtoBinary {
				want = binproto.AppendString(want, "OK")
				want = binproto.AppendBytes(want, big1)
				want = binproto.AppendInt(want, 7)
				want = binproto.AppendBytes(want, big2)
				want = binproto.AppendString(want, big3)
				want = binproto.AppendBytes(want, []byte("small"))
			} else {
				want = resp.AppendSimple(want, "OK")
				want = resp.AppendBulk(want, big1)
				want = resp.AppendInt(want, 7)
				want = resp.AppendBulk(want, big2)
				want = resp.AppendBulkString(want, big3)
				want = resp.AppendBulk(want, []byte("small"))
			}
			if !bytes.Equal(w.Bytes(), want) {
				t.Fatalf("output differs from plain appends (%d bytes, want %d)", len(w.Bytes()), len(want))
			}
			if string(own) != "head" || cap(own) != retainOut {
				t.Fatal("the transport's buffer was changed")
			}
			if c := cap(w.Bytes()); c&(c-1) != 0 {
				t.Fatalf("output capacity %d: not a pooled buffer", c)
			}
		})
	}
}
