package client

import (
	"bytes"
	"io"
	"testing"
)

// TestReadBodyHoldsNoSlack: a long reply body is read into a buffer that
// grows as data arrives, and the body handed back has no room past its
// end (append's rounding kept a 64 MiB value in about 80 MiB for as long
// as the caller held the value). A body cut short is an error.
func TestReadBodyHoldsNoSlack(t *testing.T) {
	for _, n := range []int{1 << 20, 1<<20 + 1, 5<<20 + 3, 16<<20 + 100} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i*7 + i>>13)
		}
		got, err := readBody(bytes.NewReader(src), n)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !bytes.Equal(got, src) {
			t.Fatalf("n=%d: body differs from what was sent", n)
		}
		if cap(got) != n {
			t.Errorf("n=%d: cap %d, want %d", n, cap(got), n)
		}
		if _, err := readBody(bytes.NewReader(src[:n-1]), n); err != io.ErrUnexpectedEOF && err != io.EOF {
			t.Errorf("n=%d, one byte short: err %v, want an end of input", n, err)
		}
	}
}
