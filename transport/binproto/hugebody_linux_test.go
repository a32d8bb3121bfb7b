//go:build linux && !race && (amd64 || arm64)

package binproto

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/ringdb/ringdb/internal/bufpool"
	"github.com/ringdb/ringdb/internal/memtest"
)

// A frame body past bufpool.Max is gathered, once it passes
// bufpool.BigFrom, in one buffer sized from the header's length, committed
// as it arrives and given back to the kernel once the frame is done, as
// the RESP decoder's large bulks are.
func TestHugeBodyGatheredOnce(t *testing.T) {
	const n = 48 << 20
	body := bytes.Repeat([]byte("0123456789abcdef"), n/16)
	body[0], body[n-1] = 'A', 'Z'
	wire := append(AppendHeader(nil, Header{Op: OpSet, ID: 7, Length: n}), body...)
	d := NewDecoder(Limits{})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var f *Frame
	for off := 0; f == nil && off < len(wire); off += 64 << 10 {
		d.Feed(wire[off:min(off+64<<10, len(wire))])
		var err error
		if f, err = d.Next(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if f == nil || f.ID != 7 || !bytes.Equal(f.Body, body) {
		t.Fatal("frame decoded wrong")
	}
	if heap := after.TotalAlloc - before.TotalAlloc; heap > 4*bufpool.BigFrom {
		t.Fatalf("%d bytes of Go heap allocated gathering a %d-byte body", heap, n)
	}
	stale := f.Body
	if f, err := d.Next(); f != nil || err != nil {
		t.Fatalf("Next after the frame: %v, %v", f, err)
	}
	if res, span := memtest.Resident(stale); res != 0 {
		t.Fatalf("%d of %d bytes still resident once the frame is done", res, span)
	}
}
