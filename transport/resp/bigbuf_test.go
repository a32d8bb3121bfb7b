package resp

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"
)

func bigSet(key string, n int, fill byte) []byte {
	val := bytes.Repeat([]byte{fill}, n)
	val[0], val[n-1] = 'A', 'Z'
	return fmt.Appendf(nil, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(key), key, n, val)
}

// feedSplit feeds cmd to d in chunks and returns the one command decoded,
// valid until d is used again.
func feedSplit(t *testing.T, d *Decoder, cmd []byte, chunk int) [][]byte {
	t.Helper()
	return feedSplitClone(t, d, cmd, chunk, false)
}

// feedSplitClone is feedSplit returning, with clone, a copy of the command
// that stays valid.
func feedSplitClone(t *testing.T, d *Decoder, cmd []byte, chunk int, clone bool) [][]byte {
	t.Helper()
	var got [][]byte
	for off := 0; off < len(cmd); off += chunk {
		d.Feed(cmd[off:min(off+chunk, len(cmd))])
		for {
			argv, err := d.Next()
			if err != nil {
				t.Fatal(err)
			}
			if argv == nil {
				break
			}
			if got != nil {
				t.Fatal("two commands decoded from one")
			}
			got = argv
			if clone {
				// argv is valid only until the next call to Next.
				got = nil
				for _, arg := range argv {
					got = append(got, bytes.Clone(arg))
				}
			}
		}
	}
	if got == nil {
		t.Fatal("no command decoded")
	}
	return got
}

// Commands of hundreds of KiB split over many reads grow their scratch in
// buffers that decoders share through a pool. Interleaved decoders must
// each get their own command's bytes, whatever buffer they were handed.
func TestSplitBigCommandsSharePooledScratch(t *testing.T) {
	a, b := NewDecoder(Limits{}), NewDecoder(Limits{})
	for i := range 8 {
		n := 300_000 + i*10_007
		for j, d := range []*Decoder{a, b} {
			fill := byte('a' + i + j)
			key := fmt.Sprintf("k%d-%d", i, j)
			argv := feedSplitClone(t, d, bigSet(key, n, fill), 4093+i, true)
			want := bytes.Repeat([]byte{fill}, n)
			want[0], want[n-1] = 'A', 'Z'
			if len(argv) != 3 || string(argv[0]) != "SET" || string(argv[1]) != key || !bytes.Equal(argv[2], want) {
				t.Fatalf("command %d on decoder %d decoded wrong (%d args)", i, j, len(argv))
			}
		}
	}
}

// Once the scratch a split command was gathered in is dropped, nothing of
// the decoder points into it: the argv handed out for it used to stay in
// argv's storage, which kept the scratch (128 MiB for a 100 MB SET) from
// the collector for as long as the connection sent nothing more.
func TestReleasedScratchNotReferenced(t *testing.T) {
	d := NewDecoder(Limits{})
	v := bytes.Repeat([]byte("x"), 4*retainScratch)
	cmd := append(fmt.Appendf(nil, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n", len(v)), v...)
	cmd = append(cmd, "\r\n"...)
	var scratch []byte
	for i := 0; i < len(cmd); i += 4096 {
		d.Feed(cmd[i:min(i+4096, len(cmd))])
		for {
			argv, err := d.Next()
			if err != nil {
				t.Fatal(err)
			}
			if argv == nil {
				break
			}
			scratch = d.pend
		}
	}
	if scratch == nil || d.pend != nil {
		t.Fatalf("the split command's scratch was not released (pend cap %d)", cap(d.pend))
	}
	lo, hi := uintptr(unsafe.Pointer(unsafe.SliceData(scratch))), uintptr(unsafe.Pointer(unsafe.SliceData(scratch)))+uintptr(cap(scratch))
	for i, a := range d.argv[:cap(d.argv)] {
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(a))); a != nil && p >= lo && p < hi {
			t.Fatalf("argv storage %d still points into the released scratch", i)
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

// The stashed input a command was parsed from (the connection was parked,
// on hold or writing a value by reference when a 100 MB SET arrived) is
// dropped once the command has run, and nothing of the decoder points into
// it: the argv handed out for it stayed in argv's storage, keeping the
// whole stash from the collector for as long as the connection sent
// nothing more.
func TestReleasedStashNotReferenced(t *testing.T) {
	d := NewDecoder(Limits{})
	in := append([]byte("*1\r\n$4\r\nPING\r\n"), bigSet("k", 4*retainScratch, 'x')...)
	d.Feed(in)
	if argv, err := d.Next(); err != nil || len(argv) != 1 {
		t.Fatalf("PING: %q %v", argv, err)
	}
	d.Stash() // the SET waits in decoder-owned memory
	stash := d.back
	argv, err := d.Next()
	if err != nil || len(argv) != 3 || !pointsInto(argv[2], stash) {
		t.Fatalf("SET from the stash: %d args, %v", len(argv), err)
	}
	if argv, err := d.Next(); argv != nil || err != nil {
		t.Fatalf("more than the SET: %q %v", argv, err)
	}
	d.Feed(nil) // the next read: what the SET took is released
	if d.back != nil {
		t.Fatalf("the stash was not released (back cap %d)", cap(d.back))
	}
	for i, a := range d.argv[:cap(d.argv)] {
		if pointsInto(a, stash) {
			t.Fatalf("argv storage %d still points into the released stash", i)
		}
	}
}
