package bufpool

import "sync"

// Big buffers hold one command whose declared size is past Max: a SET of a
// value of tens or hundreds of MiB. Gathered by doubling, such a command
// went through buffers of 16, 32, 64 and 128 MiB for a 100 MiB value, each
// copied into the next and page-faulted in afresh (0.8-1.0 s of the
// server's CPU for a 100 MiB SET, against 0.1 s for Redis, plus
// collections of the heap they grew). A big buffer is sized once for the
// whole command, from the length the client declared (which the caller
// has checked against its limit), but as reserved address space: the
// kernel commits its memory page by page as bytes are written to it, so a
// client that declares 512 MiB and sends a few MiB costs a few MiB, as
// with doubling. Where reserving is not available (other systems, race
// detector builds, 32-bit), GrowTo doubles as Grow does.
//
// A big buffer given back (Put) has its memory returned to the kernel at
// once and its address space kept for the next big command: it is never
// unmapped, so a reference mistakenly kept past Put reads zeros or another
// command's bytes (as with any pooled buffer) rather than faulting.

// bigSlack is room past the declared total for the arguments that may
// follow a large bulk (SET k v EX 10): a larger tail needs another buffer.
const bigSlack = 64 << 10

// bigAlign is the granularity of big buffers' sizes (a huge page), so that
// one of a few sizes serves many commands.
const bigAlign = 2 << 20

var big struct {
	mu   sync.Mutex
	all  map[*byte]bool // every mapping made, by its first byte: whether it is free
	free [][]byte       // mappings given back, their memory returned
	made int            // mappings made, for tests
	out  int64          // bytes of the mappings handed out and not given back
}

// BigInUse returns the bytes of address space of the big buffers handed
// out by GrowTo and not yet given back (Put): partial or current large
// commands. Their memory is committed only as far as they were written.
func BigInUse() int64 {
	big.mu.Lock()
	defer big.mu.Unlock()
	return big.out
}

// BigFrom is how much a buffer must hold before GrowTo reserves a big one
// for it: a client that declares a huge bulk and sends nothing has no
// address space reserved for it.
const BigFrom = 1 << 20

// GrowTo is Grow for a buffer the caller knows will reach total bytes
// (len(b) + len(extra) and what is still to come, as declared by the
// client and checked against a limit). When total is past Max and the
// buffer holds more than BigFrom, where reserving address space is
// available, the new buffer has room for total from the start, its memory
// committed only as it is written; otherwise it grows as Grow does, with
// atLeast. A big buffer is at least twice b's capacity too: where total
// is only what is held plus a little (an inline command, or a multibulk
// of many small arguments, whose whole no bulk declares), sizing it to
// total moved and copied the whole command every couple of MiB.
func GrowTo(b, extra []byte, atLeast, total int) []byte {
	n := len(b) + len(extra)
	if n <= cap(b) {
		return append(b, extra...)
	}
	if total = max(total, n); total > Max && n > BigFrom && bigOK() {
		if nb := getBig(max(total+bigSlack, 2*cap(b))); nb != nil {
			nb = append(append(nb, b...), extra...)
			Put(b)
			return nb
		}
	}
	return Grow(b, extra, atLeast)
}

// getBig returns an empty big buffer with a capacity of at least n, or
// nil when the kernel refused the address space.
func getBig(n int) []byte {
	n = (n + bigAlign - 1) &^ (bigAlign - 1)
	big.mu.Lock()
	defer big.mu.Unlock()
	best := -1
	for i, m := range big.free {
		if cap(m) >= n && (best < 0 || cap(m) < cap(big.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		m := big.free[best]
		big.free[best] = big.free[len(big.free)-1]
		big.free = big.free[:len(big.free)-1]
		big.all[&m[:1][0]] = false
		big.out += int64(cap(m))
		return m[:0]
	}
	m := reserve(n)
	if m == nil {
		return nil
	}
	if big.all == nil {
		big.all = make(map[*byte]bool)
	}
	big.all[&m[:1][0]] = false
	big.made++
	big.out += int64(cap(m))
	return m[:0]
}

// putBig takes b back if it is a big buffer, returning its memory to the
// kernel, and reports whether it was one. A buffer given back twice is
// taken once.
func putBig(b []byte) bool {
	if cap(b) == 0 {
		return false
	}
	b = b[:cap(b)]
	big.mu.Lock()
	free, ok := big.all[&b[0]]
	if !ok || free {
		big.mu.Unlock()
		return ok
	}
	big.all[&b[0]] = true
	big.out -= int64(len(b))
	big.mu.Unlock()
	// Returned before it is listed free: no GrowTo can take it meanwhile.
	release(b)
	big.mu.Lock()
	big.free = append(big.free, b[:0])
	big.mu.Unlock()
	return true
}
