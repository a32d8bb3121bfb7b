//go:build linux && !race && (amd64 || arm64)

package bufpool

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/ringdb/ringdb/internal/memtest"
)

func bigMade() int {
	big.mu.Lock()
	defer big.mu.Unlock()
	return big.made
}

// hideFree hides the big buffers given back before the test (by other
// tests, or by an earlier run of it with -count) until it ends: the test
// sees them made, sized and reused as if it ran alone.
func hideFree(t *testing.T) {
	big.mu.Lock()
	hidden := big.free
	big.free = nil
	big.mu.Unlock()
	t.Cleanup(func() {
		big.mu.Lock()
		big.free = append(big.free, hidden...)
		big.mu.Unlock()
	})
}

// A buffer known to reach past Max is sized once for all of it, committed
// only as written, and given back to the kernel by Put; the next big
// command reuses its address space.
func TestGrowToReservesOnceAndGivesBack(t *testing.T) {
	const total = 40 << 20
	hideFree(t)
	made := bigMade()
	chunk := bytes.Repeat([]byte{'v'}, 64<<10)
	var b []byte
	var first *byte
	for len(b) < total {
		b = GrowTo(b, chunk, 2*Min, total)
		if first == nil && cap(b) > Max {
			first = unsafe.SliceData(b)
		}
		if cap(b) > Max && unsafe.SliceData(b) != first {
			t.Fatalf("buffer moved at %d bytes: grew again", len(b))
		}
	}
	if got := bigMade() - made; got != 1 {
		t.Fatalf("%d big buffers made for one command, want 1", got)
	}
	if cap(b) < total || cap(b) > total+bigSlack+bigAlign {
		t.Fatalf("capacity %d for a total of %d", cap(b), total)
	}
	if res, _ := memtest.Resident(b[:cap(b)]); res < total-(1<<20) || res > total+bigAlign {
		t.Fatalf("%d bytes resident after writing %d", res, total)
	}
	// Past what was written, nothing is committed.
	if res, span := memtest.Resident(b[len(b):cap(b)]); res > 2<<20 {
		t.Fatalf("%d of the %d unwritten bytes resident", res, span)
	}
	if !bytes.Equal(b[total-len(chunk):total], chunk) {
		t.Fatal("contents lost on the way")
	}
	Put(b)
	if res, _ := memtest.Resident(b[:cap(b)]); res != 0 {
		t.Fatalf("%d bytes still resident after Put", res)
	}
	// The next big command takes the same address space, zeroed.
	held := bytes.Repeat([]byte{'w'}, BigFrom)
	nb := GrowTo(held, chunk, 2*Min, total)
	if unsafe.SliceData(nb) != first || bigMade() != made+1 {
		t.Fatal("a big buffer given back was not reused")
	}
	if !bytes.Equal(nb[BigFrom:], chunk) || nb[0] != 'w' || nb[:cap(nb)][len(nb)] != 0 {
		t.Fatal("a reused big buffer holds the wrong bytes")
	}
	Put(nb)
	if BigInUse() != 0 {
		t.Fatalf("%d bytes of big buffers in use with none handed out", BigInUse())
	}
}

// Up to BigFrom held, GrowTo doubles as Grow, whatever total the caller
// expects: a pooled buffer is committed whole, so a client's claim must
// not size it, nor reserve address space for bytes it has not sent.
func TestGrowToDoublesUpToMax(t *testing.T) {
	made := bigMade()
	b := GrowTo(make([]byte, 0, 8), []byte("0123456789"), 2*Min, 500<<20)
	if cap(b) != 2*Min || bigMade() != made {
		t.Fatalf("capacity %d, want %d (doubling, not the claimed total)", cap(b), 2*Min)
	}
	Put(b)
}

// A buffer whose caller cannot tell its total (an inline command, or a
// multibulk of many small arguments: total is what it holds plus a small
// bulk) grows geometrically past Max, as Grow does: sized to what it holds
// plus bigSlack each time, it was moved, copied whole and a new mapping
// made every 2 MiB, quadratic in the command (a 500 MB MSET of small
// values made ~240 mappings and copied ~60 GB), and every one of those
// mappings was kept for good on the free list.
func TestGrowToUnknownTotalGrowsGeometrically(t *testing.T) {
	const total = 80 << 20
	hideFree(t) // they would serve some of the growth
	made := bigMade()
	chunk := bytes.Repeat([]byte{'v'}, 64<<10)
	var b []byte
	moves := 0
	for len(b) < total {
		old := unsafe.SliceData(b)
		b = GrowTo(b, chunk, 2*Min, len(b)+len(chunk)+1024) // a 1 KiB bulk still due
		if cap(b) > Max && unsafe.SliceData(b) != old {
			moves++
		}
	}
	// Max -> 32 -> 64 -> 128 MiB, with some leeway.
	if got := bigMade() - made; got > 4 || moves > 4 {
		t.Fatalf("%d big buffers made, %d moves past Max for an %d-byte buffer of unknown total", got, moves, total)
	}
	Put(b)
}

// At most bigKeep big buffers given back stay mapped, the largest: a
// client declaring ever larger commands does not have the server keep a
// mapping for every size it asked for.
func TestPutKeepsFewBigBuffers(t *testing.T) {
	hideFree(t)
	held := bytes.Repeat([]byte{'h'}, BigFrom+1)
	var bufs [][]byte
	for i := range bigKeep + 3 {
		bufs = append(bufs, GrowTo(nil, held, 2*Min, Max+(i+1)*bigAlign*4))
	}
	out := BigInUse()
	for _, b := range bufs {
		Put(b)
	}
	big.mu.Lock()
	kept := len(big.free)
	smallestKept := len(big.free[0].mem)
	for _, m := range big.free {
		smallestKept = min(smallestKept, len(m.mem))
	}
	_, firstMapped := big.all[unsafe.SliceData(bufs[0])]
	big.mu.Unlock()
	if kept != bigKeep {
		t.Fatalf("%d big buffers kept after %d were given back, want %d", kept, len(bufs), bigKeep)
	}
	if firstMapped || smallestKept < cap(bufs[3]) {
		t.Fatalf("the smallest were not the ones unmapped (first still mapped: %v; smallest kept %d)", firstMapped, smallestKept)
	}
	if got := out - BigInUse(); got < int64(len(bufs))*int64(Max) {
		t.Fatalf("in use fell by %d for %d buffers given back", got, len(bufs))
	}
}

// Put of a big buffer whose length and capacity were cut (its capacity
// still over Max, as Put tells big buffers by it) gives back the whole
// mapping.
func TestPutBigBufferCut(t *testing.T) {
	hideFree(t)
	before := BigInUse()
	b := GrowTo(nil, bytes.Repeat([]byte{'c'}, BigFrom+1), 2*Min, 3*Max)
	full := b[:cap(b)]
	full[len(full)-1] = 'z' // committed, to be given back
	Put(b[: 10 : Max+1])
	if BigInUse() != before {
		t.Fatalf("in use %d after giving back, was %d", BigInUse(), before)
	}
	if res, _ := memtest.Resident(full); res != 0 {
		t.Fatalf("%d bytes still resident", res)
	}
}
