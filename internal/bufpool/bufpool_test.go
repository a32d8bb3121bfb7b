package bufpool

import (
	"bytes"
	"testing"
)

func TestGetCapacity(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{0, Min}, {1, Min}, {Min, Min}, {Min + 1, 2 * Min}, {300_000, 512 << 10}, {1 << 20, 1 << 20},
		{Max, Max}, {Max + 1, Max + 1}, {100_000_000, 100_000_000},
	} {
		b := Get(tc.n)
		if len(b) != 0 || cap(b) != tc.want {
			t.Errorf("Get(%d): len %d cap %d, want 0 and %d", tc.n, len(b), cap(b), tc.want)
		}
	}
}

func TestGrowKeepsContents(t *testing.T) {
	var b []byte
	var want []byte
	for i := range 200 {
		chunk := bytes.Repeat([]byte{byte(i)}, 1000+i)
		b = Grow(b, chunk, 0)
		want = append(want, chunk...)
		if !bytes.Equal(b, want) {
			t.Fatalf("after %d appends the buffer differs", i+1)
		}
	}
	if c := cap(b); c&(c-1) != 0 {
		t.Fatalf("grown capacity %d is not a power of two", c)
	}
	b = Grow(b[:0], []byte("x"), 0) // room enough: no move
	if string(b) != "x" {
		t.Fatalf("got %q", b)
	}
}

// Put takes only what Get hands out; anything else is dropped, and a Get
// after a Put still returns an empty buffer of the right size.
func TestPutThenGet(t *testing.T) {
	b := append(Get(100_000), "data"...)
	Put(b)
	Put(make([]byte, 0, 100_000)) // not a power of two: dropped
	Put(make([]byte, 0, 1024))    // under Min: dropped
	for range 3 {
		got := Get(100_000)
		if len(got) != 0 || cap(got) != 128<<10 {
			t.Fatalf("len %d cap %d, want 0 and %d", len(got), cap(got), 128<<10)
		}
	}
}
