package transport

import (
	"testing"

	"github.com/ringdb/ringdb/transport/binproto"
)

// TestWriterLastErrorPrefix: the writer remembers the first word of the
// last error it wrote, the class's RESP prefix or ErrorPrefix's own, in
// both protocols, so the server can count errors as Redis's INFO
// errorstats does.
func TestWriterLastErrorPrefix(t *testing.T) {
	for _, p := range []Proto{ProtoRESP, ProtoBinary} {
		w := NewWriter(nil, p, 2)
		for _, tc := range []struct {
			write func()
			want  string
		}{
			{func() { w.Error(binproto.ClassErr, "syntax error") }, "ERR"},
			{func() { w.Error(binproto.ClassWrongType, "x") }, "WRONGTYPE"},
			{func() { w.Error(binproto.ClassOOM, "x") }, "OOM"},
			{func() { w.Error(binproto.ClassLimit, "key too large") }, "ERR"},
			{func() { w.ErrorPrefix(binproto.ClassNoAuth, "WRONGPASS", "x") }, "WRONGPASS"},
			{func() { w.Error(binproto.ClassNoAuth, "x") }, "NOAUTH"},
			{func() { w.ErrorPrefix(binproto.ClassErr, "EXECABORT", "x") }, "EXECABORT"},
		} {
			n0, _ := w.Errors()
			tc.write()
			if n, _ := w.Errors(); n != n0+1 {
				t.Errorf("proto %v: Errors() = %d after one more error, want %d", p, n, n0+1)
			}
			if got := w.LastErrorPrefix(); got != tc.want {
				t.Errorf("proto %v: LastErrorPrefix() = %q, want %q", p, got, tc.want)
			}
		}
	}
}
