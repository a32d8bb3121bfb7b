package binproto

import (
	"bytes"
	"testing"
)

// Large bodies split over many reads are gathered in scratch that decoders
// share through a pool. Interleaved decoders must each hand out their own
// frame's bytes, whatever buffer they were given.
func TestSplitBigBodiesSharePooledScratch(t *testing.T) {
	a, b := NewDecoder(Limits{}), NewDecoder(Limits{})
	for i := range 8 {
		n := 300_000 + i*10_007
		for j, d := range []*Decoder{a, b} {
			body := bytes.Repeat([]byte{byte('a' + i + j)}, n)
			body[0], body[n-1] = 'A', 'Z'
			id := uint32(1 + i*2 + j)
			wire := append(AppendHeader(nil, Header{Op: OpSet, ID: id, Length: uint32(n)}), body...)
			var got *Frame
			chunk := 4093 + i
			for off := 0; off < len(wire); off += chunk {
				d.Feed(wire[off:min(off+chunk, len(wire))])
				for {
					f, err := d.Next()
					if err != nil {
						t.Fatal(err)
					}
					if f == nil {
						break
					}
					if got != nil {
						t.Fatal("two frames decoded from one")
					}
					if f.ID != id || !bytes.Equal(f.Body, body) {
						t.Fatalf("frame %d on decoder %d: id %d, body differs", i, j, f.ID)
					}
					got = f
				}
			}
			if got == nil {
				t.Fatalf("frame %d on decoder %d not decoded", i, j)
			}
		}
	}
}
