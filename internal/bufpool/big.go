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
// once and its address space kept for the next big command, up to bigKeep
// of them; past that the smallest is unmapped (a client declaring ever
// larger commands would otherwise have the server keep a mapping for each
// size). As with any pooled buffer, the caller holds no reference to it
// after Put.

// bigSlack is room past the declared total for the arguments that may
// follow a large bulk (SET k v EX 10): a larger tail needs another buffer.
const bigSlack = 64 << 10

// bigAlign is the granularity of big buffers' sizes (a huge page), so that
// one of a few sizes serves many commands.
const bigAlign = 2 << 20

// bigKeep is how many big buffers given back are kept for reuse.
const bigKeep = 4

// bigMap is one mapping of the registry.
type bigMap struct {
	mem  []byte // the whole mapping
	free bool   // given back, on the free list
}

var big struct {
	mu   sync.Mutex
	all  map[*byte]*bigMap // the mappings not unmapped, by their first byte
	free []*bigMap         // mappings given back, their memory returned
	made int               // mappings made, for tests
	out  int64             // bytes of the mappings handed out and not given back
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
		if len(m.mem) >= n && (best < 0 || len(m.mem) < len(big.free[best].mem)) {
			best = i
		}
	}
	if best >= 0 {
		m := big.free[best]
		big.free = append(big.free[:best], big.free[best+1:]...)
		m.free = false
		big.out += int64(len(m.mem))
		return m.mem[:0]
	}
	mem := reserve(n)
	if mem == nil {
		return nil
	}
	if big.all == nil {
		big.all = make(map[*byte]*bigMap)
	}
	big.all[&mem[0]] = &bigMap{mem: mem}
	big.made++
	big.out += int64(len(mem))
	return mem[:0]
}

// putBig takes b back if it is a big buffer (one GrowTo returned, however
// its length or capacity were cut since: Put calls it for a capacity over
// Max), returning its memory to the
// kernel, and reports whether it was one. A buffer given back twice is
// taken once.
func putBig(b []byte) bool {
	if cap(b) == 0 {
		return false
	}
	first := &b[:1][0]
	big.mu.Lock()
	m, ok := big.all[first]
	if !ok || m.free {
		big.mu.Unlock()
		return ok
	}
	m.free = true
	big.out -= int64(len(m.mem))
	big.mu.Unlock()
	// Returned before it is listed free: no GrowTo can take it meanwhile.
	release(m.mem)
	big.mu.Lock()
	big.free = append(big.free, m)
	var drop *bigMap
	if len(big.free) > bigKeep {
		// The smallest goes: a larger one serves any command it would.
		i := 0
		for j, f := range big.free {
			if len(f.mem) < len(big.free[i].mem) {
				i = j
			}
		}
		drop = big.free[i]
		big.free = append(big.free[:i], big.free[i+1:]...)
		delete(big.all, &drop.mem[0])
	}
	big.mu.Unlock()
	if drop != nil {
		unreserve(drop.mem)
	}
	return true
}
