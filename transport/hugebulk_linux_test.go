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

// A client whose request is parked (a blocked command) may pipeline up to
// the query-buffer limit behind it; the server stashes that input. Past
// bufpool.Max the stash is reserved memory too, given back at once when
// the client goes. It grew by append on the Go heap: 400 MiB stashed by
// four clients parked on WAIT left the server at 850 MB of RSS minutes
// after they had gone, where a large command cut off gives its buffer
// back at once.
func TestStashedPipelineGivesBufferBack(t *testing.T) {
	pings := bytes.Repeat([]byte("PING\r\n"), (24<<20)/6)
	var frames []byte
	for len(frames) < 24<<20 {
		frames = append(frames, binReq(binproto.OpPing, 2)...)
	}
	for _, proto := range []string{"resp", "binary"} {
		t.Run(proto, func(t *testing.T) {
			forEach(t, Config{}, func(t *testing.T, e *env) {
				c := e.conn(t)
				head, rest := cmd("block", "60000", "x"), pings
				if proto == "binary" {
					head, rest = binReq(opBlock, 1, 60000, "x"), frames
				}
				c.write(t, head)
				eventually(t, "the request parked", func() bool { return e.h.parks.Load() == 1 })
				for off := 0; off < len(rest); off += 1 << 20 {
					c.write(t, rest[off:min(off+1<<20, len(rest))])
				}
				eventually(t, "the pipeline stashed in a big buffer", func() bool { return bufpool.BigInUse() > 0 })
				_ = c.Close()
				eventually(t, "the big buffer given back", func() bool { return bufpool.BigInUse() == 0 })
			})
		})
	}
}
