package resp

import (
	"bytes"
	"fmt"
	"testing"
)

func bigSet(key string, n int, fill byte) []byte {
	val := bytes.Repeat([]byte{fill}, n)
	val[0], val[n-1] = 'A', 'Z'
	return fmt.Appendf(nil, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(key), key, n, val)
}

// feedSplit feeds cmd to d in chunks and returns the one command decoded.
func feedSplit(t *testing.T, d *Decoder, cmd []byte, chunk int) [][]byte {
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
			argv := feedSplit(t, d, bigSet(key, n, fill), 4093+i)
			want := bytes.Repeat([]byte{fill}, n)
			want[0], want[n-1] = 'A', 'Z'
			if len(argv) != 3 || string(argv[0]) != "SET" || string(argv[1]) != key || !bytes.Equal(argv[2], want) {
				t.Fatalf("command %d on decoder %d decoded wrong (%d args)", i, j, len(argv))
			}
		}
	}
}
