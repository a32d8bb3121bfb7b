package core

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// Eviction is S3-FIFO (Yang et al., SOSP '23) laid over the arena log.
//
// A shard's pages form two FIFO logs: a small probation log that new keys
// are written to, and a main log. When memory is needed the head page of a
// log is processed record by record:
//
//   - small log (processed while it holds over 10% of the pages): a record
//     read since it was written moves to the main log; an unread one is
//     evicted and its hash remembered in the ghost filter;
//   - main log: CLOCK with the slot's 2-bit frequency: a read record moves to
//     the main tail with its frequency lowered by one, an unread one is
//     evicted.
//
// A new key whose hash is in the ghost filter (evicted from probation not
// long ago) goes straight to the main log. One-hit wonders therefore leave
// after a short probation instead of a full cycle, which makes the policy
// scan resistant and better than LRU on skewed (Zipf) workloads.
//
// Moving a record is a copy to the target log's tail page and an atomic slot
// update; the old page is retired under epoch protection. Compaction (a page
// mostly dead) is the same move without eviction.

const (
	qSmall = 0
	qMain  = 1
)

// queue is one log of pages, oldest first.
type queue struct {
	head, last *page
	tail       *page // the page being appended to, or nil
	pages      int
	bytes      int
}

func (s *shard) logAppend(p *page) {
	q := &s.q[p.q]
	p.prev, p.next, p.inLog = q.last, nil, true
	if p.prev != nil {
		p.prev.next = p
	} else {
		q.head = p
	}
	q.last = p
	q.pages++
	q.bytes += len(p.buf)
}

func (s *shard) logRemove(p *page) {
	if !p.inLog {
		return
	}
	q := &s.q[p.q]
	if p.prev != nil {
		p.prev.next = p.next
	} else {
		q.head = p.next
	}
	if p.next != nil {
		p.next.prev = p.prev
	} else {
		q.last = p.prev
	}
	p.prev, p.next, p.inLog = nil, nil, false
	q.pages--
	q.bytes -= len(p.buf)
}

func (s *shard) nlog() int { return s.q[qSmall].pages + s.q[qMain].pages }

func (s *shard) isTail(p *page) bool { return p == s.q[qSmall].tail || p == s.q[qMain].tail }

// retire unlinks a page from its log; it is recycled once no reader can
// still hold an address into it.
func (s *shard) retire(p *page) {
	s.logRemove(p)
	if q := &s.q[p.q]; q.tail == p {
		q.tail = nil
	}
	if s.job == p {
		s.job = nil
	}
	p.stamp = s.ks.ep.retireStamp()
	s.retired = append(s.retired, p)
}

// alloc returns space for a record of n bytes at the tail of log qi.
// REQUIRES s.mu held. Any slice into a normal page obtained before alloc may
// be recycled by it.
//
// voff >= 0 asks for an aligned record (see record.go) whose value starts
// voff bytes in: zero bytes before it put the value on an 8-byte boundary.
func (s *shard) alloc(n int, reloc bool, qi uint8, voff int) (uint64, []byte, error) {
	if n > s.ks.largeMin {
		return s.allocLarge(n, reloc, qi)
	}
	t := s.q[qi].tail
	pad := 0
	if voff >= 0 && t != nil {
		pad = -(t.used + voff) & 7
	}
	if t == nil || t.used+pad+n > len(t.buf) {
		if !reloc {
			s.compactIfSparse()
		}
		var err error
		if t, err = s.newTail(reloc, qi); err != nil {
			return 0, nil, err
		}
		if !reloc {
			s.evictAhead()
		}
	}
	if voff >= 0 {
		// A recycled page still holds old bytes: the gap must read as
		// zeros, which is how the record walk in processRecords skips it.
		pad = -(t.used + voff) & 7
		clear(t.buf[t.used : t.used+pad])
	}
	off := t.used + pad
	t.used = off + n
	t.pad += pad
	t.live += n
	return makeAddr(t.idx, off), t.buf[off : off+n : off+n], nil
}

func (s *shard) allocLarge(n int, reloc bool, qi uint8) (uint64, []byte, error) {
	c := largeClass(n)
	if lp := s.largeFree; lp != nil && lp.headroom > 0 && !reloc {
		// Only for the value Append stores, not for records moved
		// meanwhile.
		c = largeClass(n + lp.headroom)
	}
	buf := s.takePooledLarge(c)
	if buf == nil && len(s.retired) > 0 {
		s.reclaimRetired(false, true)
		buf = s.takePooledLarge(c)
	}
	if buf == nil {
		if err := s.reserveFor(int64(c), reloc, c); err != nil {
			if c != largeClass(n) {
				// The room to grow does not fit: it must not be what
				// makes the write fail. Store the value alone.
				s.largeFree.headroom = 0
				return s.allocLarge(n, reloc, qi)
			}
			return 0, nil, err
		}
		// Making room may have pooled a victim's buffer of this class.
		if buf = s.takePooledLarge(c); buf == nil {
			if buf = allocLargeBuf(c); buf == nil {
				return 0, nil, ErrOOM
			}
			s.used.Add(int64(c))
		}
	}
	idx, ok := s.takeIdx()
	if !ok {
		s.used.Add(-int64(c))
		s.poolLarge(buf)
		return 0, nil, ErrOOM
	}
	p := &page{buf: buf[:n:c], idx: idx, large: true, used: n, live: n, q: qi}
	s.setPage(idx, p)
	s.logAppend(p)
	return makeAddr(idx, 0), p.buf, nil
}

// largePool keeps a few buffers of dropped large values for the next large
// values of the same size class. A new buffer costs a page fault for each
// 4 KiB of it (clearing the page included) and freeing one a TLB shootdown:
// without the pool, SET of 40 KB values at the memory bound ran at 40% of the
// rate with Go heap buffers. Pooled buffers stay counted in used, so the
// bound still holds for everything the process keeps; makeRoom frees them
// before it evicts a key.
type largePool struct {
	bufs  [][]byte
	bytes int64
	// want is, while reserveFor makes room for a large value, its size
	// class: a victim's buffer of that class is pooled, not freed.
	want int
	// headroom is, while Append stores a value that grew past largeMin,
	// the spare capacity its buffer gets for the appends to come.
	headroom int
	// idle counts the active expiry cycles since a buffer was last
	// reused; decayPooledLarge frees the pool after about a second.
	idle int
}

// largeBufsMade counts the large-value buffers ever allocated (tests check
// that the pool saves them).
var largeBufsMade atomic.Int64

// largePoolMax is how many buffers a shard keeps. Their bytes are further
// held to 16 pages and to an eighth of the shard's budget.
const largePoolMax = 4

// largeClass rounds a large record's size up to its buffer's size class:
// whole 4 KiB pages, then, up to 1 MiB, four classes for each doubling, so
// that buffers are reused across values of similar size at a cost of under
// 25% (about 12% on average) of the value. Larger buffers only round to
// 4 KiB: at the default page size they pass the pool's byte limit (16
// pages) and are never pooled.
func largeClass(n int) int {
	c := (n + 4095) &^ 4095
	if c <= 16<<10 || c > 1<<20 {
		return c
	}
	step := 1 << (bits.Len(uint(c-1)) - 3)
	return (c + step - 1) &^ (step - 1)
}

// largePool returns the shard's pool of large buffers, made on first use.
// REQUIRES s.mu held.
func (s *shard) largePool() *largePool {
	if s.largeFree == nil {
		s.largeFree = &largePool{}
	}
	return s.largeFree
}

// index returns the position of a pooled buffer of capacity c, or -1.
func (lp *largePool) index(c int) int {
	if lp != nil {
		for i, b := range lp.bufs {
			if cap(b) == c {
				return i
			}
		}
	}
	return -1
}

// remove takes the buffer at position i out of the pool.
func (lp *largePool) remove(i int) []byte {
	b := lp.bufs[i]
	last := len(lp.bufs) - 1
	lp.bufs[i] = lp.bufs[last]
	lp.bufs[last] = nil
	lp.bufs = lp.bufs[:last]
	lp.bytes -= int64(cap(b))
	return b
}

// hasPooledLarge reports whether a buffer of capacity c is pooled.
// REQUIRES s.mu held.
func (s *shard) hasPooledLarge(c int) bool { return s.largeFree.index(c) >= 0 }

// takePooledLarge returns a pooled buffer of capacity c, still counted in
// used, or nil. REQUIRES s.mu held.
func (s *shard) takePooledLarge(c int) []byte {
	i := s.largeFree.index(c)
	if i < 0 {
		return nil
	}
	s.largeFree.idle = 0
	return s.largeFree.remove(i)
}

// poolLarge keeps b, no longer counted in used, for reuse, or frees it.
// REQUIRES s.mu held.
func (s *shard) poolLarge(b []byte) {
	c := int64(cap(b))
	lp := s.largePool()
	limit := min(s.budget(false)/8, int64(16*s.ks.pageSize))
	if s.ks.closed || len(lp.bufs) >= largePoolMax || lp.bytes+c > limit {
		freeLarge(b)
		return
	}
	lp.bufs = append(lp.bufs, b)
	lp.bytes += c
	s.used.Add(c)
}

// largePoolIdle is how many active expiry cycles (ten a second) a pool may
// go without a reuse before decayPooledLarge frees it.
const largePoolIdle = 10

// decayPooledLarge, called once per active expiry cycle, frees the pool
// when no large value has reused a buffer for largePoolIdle cycles: what a
// burst of large values left behind goes back to the kernel, as an
// allocator's dirty pages decay. REQUIRES s.mu held.
func (s *shard) decayPooledLarge() {
	lp := s.largeFree
	if lp == nil || len(lp.bufs) == 0 {
		return
	}
	if lp.idle++; lp.idle >= largePoolIdle {
		for s.dropPooledLarge() {
		}
		lp.idle = 0
	}
}

// dropPooledLarge frees one pooled large buffer and reports whether there
// was one. REQUIRES s.mu held.
func (s *shard) dropPooledLarge() bool {
	lp := s.largeFree
	if lp == nil || len(lp.bufs) == 0 {
		return false
	}
	b := lp.remove(len(lp.bufs) - 1)
	s.used.Add(-int64(cap(b)))
	freeLarge(b)
	return true
}

func (s *shard) newTail(reloc bool, qi uint8) (*page, error) {
	ps := int64(s.ks.pageSize)
	var p *page
	maxTries := s.maxRoomTries()
	for tries := 0; p == nil; tries++ {
		limit := s.budget(reloc)
		s.reclaimRetired(false, true)
		// Over the limit, pooled pages beyond the one taken here are only
		// counted, never used: compaction (moving records through the
		// reserve page, then pooling the page it emptied) leaves more
		// than one, and while they were kept no ordinary write could
		// take any of them.
		for n := len(s.free); n > 1 && !reloc && s.used.Load() > limit; n-- {
			s.dropPage(s.free[n-1], false)
			s.free = s.free[:n-1]
		}
		// A pooled page is already counted, but an ordinary write over the
		// limit must not take it: it is the reserve that moving records
		// during eviction relies on.
		if n := len(s.free); n > 0 && (reloc || s.used.Load() <= limit) {
			p = s.free[n-1]
			s.free = s.free[:n-1]
			break
		}
		if s.used.Load()+ps <= limit || !reloc && s.borrow(s.used.Load()+ps-limit) {
			idx, ok := s.takeIdx()
			if !ok {
				return nil, ErrOOM
			}
			p = &page{buf: allocPage(int(ps)), idx: idx}
			s.used.Add(ps)
			s.setPage(idx, p)
			break
		}
		if !reloc {
			s.starve() // evicts its own keys now, but is fed next time
		}
		if reloc || tries > maxTries || !s.makeRoom(false, tries) {
			return nil, s.outOfRoom(ps, reloc)
		}
	}
	p.used, p.pad, p.live, p.ttl, p.q = 0, 0, 0, 0, qi
	q := &s.q[qi]
	if old := q.tail; old != nil && old.live == 0 {
		s.retire(old)
	}
	q.tail = p
	s.logAppend(p)
	return p, nil
}

// compactIfSparse keeps garbage bounded whether or not memory is: when a
// tail page fills up and less than half of the shard's page bytes are live,
// the sparsest page becomes the job (its live records move to a tail). The
// work is spread over the following writes, jobStep records at a time, so
// no write holds the shard (and, in the server, its event loop) for a whole
// page. Under uniform overwrites the log settles near twice the live data.
// REQUIRES s.mu held.
func (s *shard) compactIfSparse() {
	if s.job != nil {
		return
	}
	live, total := 0, 0
	var best *page
	for qi := range s.q {
		for p := s.q[qi].head; p != nil; p = p.next {
			if p.large {
				continue
			}
			live += p.live
			total += len(p.buf)
			if !s.isTail(p) && (best == nil || p.live < best.live) {
				best = p
			}
		}
	}
	if best == nil || live*2 >= total || best.live*2 > len(best.buf) {
		return
	}
	s.startJob(best, false)
}

// makeRoom frees memory by one step. Pooled free pages are kept when the
// caller needs a page anyway (dropFree false). tries counts the steps this
// allocation has already taken: past half the bound (readers keep every key
// hot), frequencies are ignored so that AllKeys and Volatile never fail for
// want of a victim. REQUIRES s.mu held.
func (s *shard) makeRoom(dropFree bool, tries int) bool {
	if s.reclaimRetired(true, !dropFree) {
		return true
	}
	if s.dropPooledLarge() {
		return true
	}
	if n := len(s.free); n > 0 && dropFree {
		p := s.free[n-1]
		s.free = s.free[:n-1]
		s.dropPage(p, false)
		return true
	}
	victim, clock := s.pickVictim()
	if victim == nil {
		return false
	}
	return s.processVictim(victim, clock, tries > s.maxRoomTries()/2)
}

// migrateOldPage moves the records of one page larger than the current
// page size (SetMaxMemory lowered the bound) into pages of that size, then
// frees it. It reports false when there is no such page or a record could
// not be moved. While it runs the shard may go over its budget by the
// page's size, which freeing the page gives back. REQUIRES s.mu held.
func (s *shard) migrateOldPage() bool {
	var old *page
	for qi := range s.q {
		for p := s.q[qi].head; p != nil && old == nil; p = p.next {
			if !p.large && len(p.buf) > s.ks.pageSize {
				old = p
			}
		}
	}
	if old == nil {
		return false
	}
	if q := &s.q[old.q]; q.tail == old {
		q.tail = nil // moved records go to a fresh page, not into it
	}
	s.migrateLimit = s.used.Load() + int64(len(old.buf))
	ok := s.processVictim(old, false, false)
	s.migrateLimit = 0
	s.reclaimRetired(true, false)
	return ok
}

// maxRoomTries bounds the makeRoom steps of one allocation: enough to go
// round the logs a few times (and then evict by force).
func (s *shard) maxRoomTries() int { return 4*(s.nlog()+len(s.retired)) + 16 }

// pickVictim chooses the page to free next. A page that is mostly dead is
// compacted. Otherwise, under AllKeys and Volatile, the head of the small
// log (while it holds over a tenth of the pages) or of the main log goes
// through S3-FIFO; under NoEviction the page with the least live data is
// compacted, if that frees a real share of it.
func (s *shard) pickVictim() (*page, bool) {
	var best *page
	for qi := range s.q {
		for p := s.q[qi].head; p != nil; p = p.next {
			if s.isTail(p) {
				continue
			}
			if best == nil || p.live*len(best.buf) < best.live*len(p.buf) {
				best = p
			}
		}
	}
	policy := s.ks.policy()
	if policy == Volatile && s.ttlKeys == 0 {
		policy = NoEviction // nothing evictable: compaction only
	}
	if policy == NoEviction {
		if p := s.mostDead(); p != nil {
			return p, false
		}
	}
	if best != nil && (best.live*4 <= len(best.buf) || policy == NoEviction) {
		// Without eviction, compaction must free a real share of a page,
		// or a full keyspace would churn its whole log on every write.
		if policy == NoEviction && best.live*4 > len(best.buf)*3 {
			return nil, false
		}
		return best, false
	}
	if policy == NoEviction {
		return nil, false
	}
	small, main := &s.q[qSmall], &s.q[qMain]
	order := [2]*queue{main, small}
	if small.bytes*10 > small.bytes+main.bytes {
		order = [2]*queue{small, main}
	}
	for _, q := range order {
		p := q.head
		if policy == Volatile {
			// A page without TTL records has nothing Volatile may evict:
			// going through it would copy every record and free nothing,
			// which at the bound meant copying the whole log on every
			// write. Leave such pages where they are.
			for p != nil && p.ttl == 0 {
				p = p.next
			}
		}
		if p == nil || p == q.tail && p.next == nil && p.live == 0 {
			continue
		}
		if p == q.tail {
			q.tail = nil // close it: moved records go to a fresh page
		}
		return p, true
	}
	return nil, false
}

// mostDead returns the page, not a tail, holding the most bytes of records
// deleted or replaced, when they are at least a thirty-second of it
// (moving at most 31 bytes per byte regained): with no eviction,
// compacting it is the only way to reuse them. The live-share rule of
// pickVictim alone (a page at most three quarters live) let deletes
// spread over the pages (a tenth of the keys) give a full NoEviction
// keyspace less than half of their room back. Unlike
// free space at a page's end or before aligned records, which compaction
// recreates, these bytes are gone once the page is compacted, so failing
// writes cannot churn the log: all they can compact is what was deleted
// since. REQUIRES s.mu held.
func (s *shard) mostDead() *page {
	var best *page
	bestDead := 0
	for qi := range s.q {
		for p := s.q[qi].head; p != nil; p = p.next {
			if p.large || s.isTail(p) {
				continue
			}
			if dead := p.used - p.pad - p.live; dead > bestDead {
				best, bestDead = p, dead
			}
		}
	}
	if best == nil || bestDead*32 < len(best.buf) {
		return nil
	}
	return best
}

// processVictim moves or evicts every live record of p, then retires p.
// With clock, records go through S3-FIFO (see the top of this file); with
// force, every evictable record is evicted. Without clock (compaction),
// records move to the tail of their own log. It reports false when a record
// that may not be evicted could not be moved. REQUIRES s.mu held.
func (s *shard) processVictim(p *page, clock, force bool) bool {
	p.scan = 0
	_, ok := s.processRecords(p, clock, force, math.MaxInt)
	return ok
}

// processRecords is processVictim a few records at a time: it handles up to
// n records from p.scan on. done reports that p needs no more work (it was
// retired, or a large page was given its second chance); ok is false when a
// record that may not be evicted could not be moved. REQUIRES s.mu held.
func (s *shard) processRecords(p *page, clock, force bool, n int) (done, ok bool) {
	policy := s.ks.policy()
	now := s.ks.clock()
	t := s.table.Load()
	for ; n > 0 && p.scan < p.used; n-- {
		for p.scan < p.used && p.buf[p.scan] == 0 {
			p.scan++ // the gap before an aligned record
		}
		if p.scan >= p.used {
			break
		}
		off := p.scan
		r := p.record(off)
		a := makeAddr(p.idx, off)
		p.scan += r.size
		pos, v, h, found := s.findAddr(t, r.key, a)
		if !found {
			continue
		}
		p.live -= r.size // it leaves this page one way or another
		if r.hasTTL() {
			p.ttl -= r.size
		}
		if r.expiredAt(now) {
			s.dropSlotRec(t, pos, &r)
			s.expired.Add(1)
			continue
		}
		evictable := policy == AllKeys || policy == Volatile && r.hasTTL()
		if s.keep != nil && string(r.key) == string(s.keep) {
			evictable = false // the key of the write cede frees room for
		}
		freq, target := slotFreq(v), p.q
		if clock && evictable {
			if freq == 0 || force {
				s.dropSlotRec(t, pos, &r)
				s.evicted.Add(1)
				if p.q == qSmall {
					s.ghostAdd(h)
				}
				continue
			}
			if p.q == qSmall {
				freq, target = 0, qMain
			} else {
				freq--
			}
		} else if clock && p.q == qSmall {
			target = qMain // not evictable (Volatile, no TTL): settle it in main
		}
		if p.large {
			// A large record moves without a copy: its buffer changes log.
			p.live += r.size
			if r.hasTTL() {
				p.ttl += r.size
			}
			t.slots[pos].Store(makeSlot(slotTag(v), freq, a))
			s.logRemove(p)
			p.q = target
			s.logAppend(p)
			p.scan = 0
			if s.job == p {
				s.job = nil
			}
			return true, true
		}
		voff := -1
		if r.aligned {
			voff = r.voff
		}
		na, buf, err := s.alloc(r.size, true, target, voff)
		if err != nil {
			// No room to move it: evict it if the policy allows at all.
			if !evictable {
				p.live += r.size
				if r.hasTTL() {
					p.ttl += r.size
				}
				p.scan = off
				return true, false
			}
			s.dropSlotRec(t, pos, &r)
			s.evicted.Add(1)
			continue
		}
		copy(buf, p.buf[off:off+r.size])
		if r.hasTTL() {
			s.pageAt(na).ttl += r.size
		}
		s.moved++
		t.slots[pos].Store(makeSlot(slotTag(v), freq, na))
	}
	if p.scan >= p.used {
		s.retire(p)
		return true, true
	}
	return false, true
}

// jobStep is how many records one write processes of the page being
// compacted or evicted ahead of need: enough to finish a page well before
// the next one fills, small enough to bound the pause a write sees.
const jobStep = 8

// startJob makes p the page that writes process jobStep records at a time.
// REQUIRES s.mu held.
func (s *shard) startJob(p *page, clock bool) {
	p.scan = 0
	s.job, s.jobClock = p, clock
}

// workJob advances the current job. REQUIRES s.mu held.
func (s *shard) workJob() {
	p := s.job
	done, ok := s.processRecords(p, s.jobClock, false, jobStep)
	if done || !ok {
		if s.job == p {
			s.job = nil
		}
	}
}

// evictAhead starts evicting the next victim while there is still a page of
// headroom, so that writes rarely have to free a whole page themselves.
// REQUIRES s.mu held.
func (s *shard) evictAhead() {
	if s.job != nil || s.ks.policy() == NoEviction {
		return
	}
	if over := s.used.Load() + 2*int64(s.ks.pageSize) - s.budget(false); over <= 0 || s.borrow(over) {
		return
	}
	if s.starve() {
		return // the next write feeds it budget other shards hold
	}
	if p, clock := s.pickVictim(); p != nil {
		s.startJob(p, clock)
	}
}

// findAddr finds the slot of key that points at address a, and returns the
// key's hash.
func (s *shard) findAddr(t *table, key []byte, a uint64) (int, uint64, uint64, bool) {
	h := s.ks.hash(key)
	for i := t.home(h >> tagShift); i < len(t.slots); i++ {
		v := t.slots[i].Load()
		if v == 0 {
			break
		}
		if slotAddr(v) == a {
			return i, v, h, true
		}
	}
	return 0, 0, h, false
}

// dropSlot deletes the slot at pos without touching page accounting (the
// caller is retiring the page). REQUIRES s.mu held.
func (s *shard) dropSlot(t *table, pos int) {
	t.slots[pos].Store(slotTomb)
	s.live--
	s.tombs++
	s.keys.Add(-1)
}

func (s *shard) dropSlotRec(t *table, pos int, r *record) {
	s.dropSlot(t, pos)
	if r.hasTTL() {
		s.ttlKeys--
	}
}

// The ghost filter remembers the hashes of keys recently evicted from the
// small log: a direct-mapped array of fingerprints, about one per live key,
// resized with the index.
func ghostSlot(h uint64, mask int) (int, uint32) {
	return int(h>>24) & mask, uint32(h>>8) | 1
}

func (s *shard) ghostAdd(h uint64) {
	if len(s.ghost) == 0 {
		return
	}
	i, fp := ghostSlot(h, len(s.ghost)-1)
	s.ghost[i] = fp
}

// ghostHas reports whether the ghost filter holds h, as ghostTake,
// leaving it there.
func (s *shard) ghostHas(h uint64) bool {
	if len(s.ghost) == 0 {
		return false
	}
	i, fp := ghostSlot(h, len(s.ghost)-1)
	return s.ghost[i] == fp
}

// ghostTake reports whether h is in the ghost filter, and forgets it.
func (s *shard) ghostTake(h uint64) bool {
	if len(s.ghost) == 0 {
		return false
	}
	i, fp := ghostSlot(h, len(s.ghost)-1)
	if s.ghost[i] != fp {
		return false
	}
	s.ghost[i] = 0
	return true
}

// resizeGhost sizes the filter to about n entries (a power of two).
func (s *shard) resizeGhost(n int) {
	if s.ks.policy() == NoEviction {
		return
	}
	size := 64
	for size < n {
		size <<= 1
	}
	if size == len(s.ghost) {
		return
	}
	grow := int64(size-len(s.ghost)) * 4
	if over := s.used.Load() + grow - s.budget(false); grow > 0 && over > 0 && !s.borrow(over) {
		return // a smaller filter only forgets sooner; MaxMemory holds
	}
	s.used.Add(grow)
	s.ghost = make([]uint32, size)
	s.ghostBytes.Store(int64(size) * 4)
}
