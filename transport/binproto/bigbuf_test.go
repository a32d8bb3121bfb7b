package binproto

import (
	"bytes"
	"testing"
	"unsafe"
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

// pointsInto reports whether a's bytes lie in b's storage.
func pointsInto(a, b []byte) bool {
	if a == nil || cap(b) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(a)))
	return p >= lo && p < lo+uintptr(cap(b))
}

// Once the scratch a split frame was gathered in, or the stash it waited
// in, is dropped, nothing of the decoder points into it: the last frame's
// Body stayed in the decoder, keeping a large body's buffer (128 MiB for a
// 100 MB SET) from the collector for as long as the connection sent
// nothing more.
func TestReleasedBodyNotReferenced(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 4*retainScratch)
	wire := append(AppendHeader(nil, Header{Op: OpSet, ID: 1, Length: uint32(len(body))}), body...)
	t.Run("split", func(t *testing.T) {
		d := NewDecoder(Limits{})
		var scratch []byte
		for i := 0; i < len(wire); i += 4096 {
			d.Feed(wire[i:min(i+4096, len(wire))])
			for {
				f, err := d.Next()
				if err != nil {
					t.Fatal(err)
				}
				if f == nil {
					break
				}
				scratch = d.pend
			}
		}
		if scratch == nil || d.pend != nil {
			t.Fatalf("the split frame's scratch was not released (pend cap %d)", cap(d.pend))
		}
		if pointsInto(d.frame.Body, scratch) {
			t.Fatal("the last frame still points into the released scratch")
		}
	})
	t.Run("stashed", func(t *testing.T) {
		d := NewDecoder(Limits{})
		ping := AppendHeader(nil, Header{Op: OpPing, ID: 2})
		d.Feed(append(ping, wire...))
		if f, err := d.Next(); err != nil || f == nil || f.ID != 2 {
			t.Fatalf("PING: %v %v", f, err)
		}
		d.Stash() // the SET waits in decoder-owned memory
		stash := d.back
		if f, err := d.Next(); err != nil || f == nil || !pointsInto(f.Body, stash) {
			t.Fatalf("SET from the stash: %v", err)
		}
		if f, err := d.Next(); f != nil || err != nil {
			t.Fatalf("more than the SET: %v %v", f, err)
		}
		d.Feed(nil) // the next read: what the SET took is released
		if d.back != nil {
			t.Fatalf("the stash was not released (back cap %d)", cap(d.back))
		}
		if pointsInto(d.frame.Body, stash) {
			t.Fatal("the last frame still points into the released stash")
		}
	})
}
