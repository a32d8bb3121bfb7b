package bufpool

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"
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

// A buffer over Max dropped has the freed memory given back to the kernel
// soon; one dropped while a return is under way or within giveBackEvery of
// it is given back after it too (the last buffer a 100 MB SET gathered in
// went back within the second after the doubling's first one, and stayed
// resident).
func TestPutOverMaxGivesMemoryBack(t *testing.T) {
	var calls atomic.Int32
	count := func() { calls.Add(1) }
	defer giveBack.Store(giveBack.Swap(&count))
	Put(make([]byte, 0, Max+1))
	Put(make([]byte, 0, Max+1)) // within the same window
	deadline := time.Now().Add(10 * time.Second)
	for calls.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d returns, want 2: the second drop was not given back", calls.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for givingBack.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the return window never closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d returns for two drops, want 2", n)
	}
}

// A drop that finds the window open just as it ends is given back too: it
// used to flag itself for the window's end only after looking, so a window
// ending between the look and the flag left the dropped buffer resident
// until the next drop, however long that took.
func TestDropAsWindowEndsIsGivenBack(t *testing.T) {
	for deadline := time.Now().Add(10 * time.Second); givingBack.Load(); {
		if time.Now().After(deadline) {
			t.Fatal("a return window of another test never closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The returns and windows run here, when the test says.
	var timers []func()
	afterFunc = func(_ time.Duration, f func()) { timers = append(timers, f) }
	next := func() {
		f := timers[0]
		timers = timers[1:]
		f()
	}
	calls := 0
	count := func() { calls++ }
	defer giveBack.Store(giveBack.Swap(&count))
	defer func() {
		afterFunc = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
		sawBusy = nil
	}()
	Put(make([]byte, 0, Max+1))
	next() // the return; its window opens
	sawBusy = func() {
		sawBusy = nil
		next() // the window ends as the next drop finds it open
	}
	Put(make([]byte, 0, Max+1))
	for len(timers) > 0 {
		next()
	}
	if calls != 2 {
		t.Fatalf("%d returns for two drops, want 2: the drop as the window ended was not given back", calls)
	}
	if givingBack.Load() || giveBackAgain.Load() {
		t.Fatalf("after the last window: giving back %v, again %v", givingBack.Load(), giveBackAgain.Load())
	}
}
