//go:build linux && !race && (amd64 || arm64)

package transport

import (
	"bytes"
	"testing"

	"github.com/ringdb/ringdb/internal/bufpool"
	"github.com/ringdb/ringdb/transport/binproto"
)

// A connection that goes while a large command is half sent gives back
// the buffer the command was gathered in: it is reserved memory
// (bufpool.GrowTo), which the garbage collector would never return, so
// every such client would have kept what it sent mapped for good.
func TestCutOffHugeCommandGivesBufferBack(t *testing.T) {
	part := bytes.Repeat([]byte{'x'}, 24<<20)
	for _, proto := range []string{"resp", "binary"} {
		t.Run(proto, func(t *testing.T) {
			forEach(t, Config{}, func(t *testing.T, e *env) {
				c := e.conn(t)
				head := []byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$400000000\r\n")
				if proto == "binary" {
					head = binproto.AppendHeader(nil, binproto.Header{Op: binproto.OpSet, ID: 1, Length: 400_000_000})
				}
				c.write(t, head)
				c.write(t, part)
				eventually(t, "the command gathered in a big buffer", func() bool { return bufpool.BigInUse() > 0 })
				_ = c.Close()
				eventually(t, "the big buffer given back", func() bool { return bufpool.BigInUse() == 0 })
			})
		})
	}
}
