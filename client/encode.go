package client

import (
	"github.com/ringdb/ringdb/transport/binproto"
)

// enc builds one request frame. The id is left 0 and patched by conn.send.
type enc struct {
	b    []byte
	mark int
}

// newReq starts a request frame for op with argc arguments.
func newReq(op binproto.Opcode, argc int) *enc {
	e := &enc{b: make([]byte, 0, 64)}
	e.b, e.mark = binproto.BeginFrame(e.b, op, 0, 0)
	e.b = binproto.AppendArgCount(e.b, argc)
	return e
}

func (e *enc) str(s string) *enc   { e.b = binproto.AppendString(e.b, s); return e }
func (e *enc) bytes(b []byte) *enc { e.b = binproto.AppendBytes(e.b, b); return e }
func (e *enc) int(n int64) *enc    { e.b = binproto.AppendInt(e.b, n); return e }
func (e *enc) null() *enc          { e.b = binproto.AppendNull(e.b); return e }

// finish writes the body length and returns the frame.
func (e *enc) finish() []byte {
	b, err := binproto.EndFrame(e.b, e.mark)
	if err != nil {
		// Only a body over 4 GiB fails; send a frame whose length the
		// server rejects rather than panicking. Callers check sizes first.
		return e.b
	}
	return b
}
