package core

import (
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// shard owns a slice of the keyspace: an index table, a page table and a log
// of arena pages. Readers use only the atomic fields (table, pages) under an
// epoch; everything else is guarded by mu.
type shard struct {
	mu    sync.Mutex
	ks    *Keyspace
	table atomic.Pointer[table]
	pages atomic.Pointer[pageTable]

	// Guarded by mu.
	live, tombs int
	head, last  *page // the log, oldest first
	tail        *page // the page being appended to (in the log), or nil
	nlog        int   // pages in the log
	ttlKeys     int   // live keys with a TTL (Volatile needs some to evict)
	retired     []*page
	free        []*page // recyclable normal pages (counted in used)
	freeIdx     []int   // page-table indices free for reuse
	nextIdx     int
	scratch     []byte
	shrinkBelow int    // live count under which the table may shrink
	expCursor   uint64 // active expiry position, in tag space

	// Counters, written under mu, read by Stats without it.
	keys    atomic.Int64
	used    atomic.Int64
	sets    atomic.Uint64
	deletes atomic.Uint64
	expired atomic.Uint64
	evicted atomic.Uint64

	_ [64]byte
}

func (s *shard) init(ks *Keyspace) {
	s.ks = ks
	t := newTable(minTableSize)
	s.table.Store(t)
	s.used.Store(t.bytes())
	s.pages.Store(&pageTable{p: make([]atomic.Pointer[page], 16)})
	s.nextIdx = 1 // address 0 means empty
}

// pageAt resolves an address. Readers must call it after loading the slot
// that holds the address (the writer publishes a page before pointing at it).
func (s *shard) pageAt(a uint64) *page {
	return s.pages.Load().p[addrPage(a)].Load()
}

// recordAt decodes the record at address a.
func (s *shard) recordAt(a uint64) (record, *page) {
	p := s.pageAt(a)
	return decodeRecord(p.buf[addrOff(a):]), p
}

// lookup finds key in t. It is used by readers (inside an epoch) and by the
// writer (holding mu). It returns the slot position, the slot value and the
// decoded record.
func (s *shard) lookup(t *table, h uint64, key []byte) (pos int, v uint64, r record, pg *page, ok bool) {
	tag := h >> tagShift
	for i := t.home(tag); i < len(t.slots); i++ {
		v = t.slots[i].Load()
		if v == 0 {
			return
		}
		if slotTag(v) != tag || slotAddr(v) == 0 {
			continue
		}
		a := slotAddr(v)
		// Load the page table after the slot: the writer publishes a new
		// page before any slot that points into it.
		pg = s.pages.Load().p[addrPage(a)].Load()
		r = decodeRecord(pg.buf[addrOff(a):])
		if string(r.key) == string(key) {
			return i, v, r, pg, true
		}
	}
	return
}

// bumpFreq records an access for CLOCK eviction. A lost race only loses one
// increment.
func bumpFreq(t *table, pos int, v uint64) {
	if slotFreq(v) < 3 {
		t.slots[pos].CompareAndSwap(v, v+freqOne)
	}
}

// budget returns the byte limit for an allocation: ordinary writes keep one
// page in reserve so that eviction always has room to move live records.
func (s *shard) budget(reloc bool) int64 {
	b := s.ks.shardBudget
	if !reloc {
		b -= int64(s.ks.pageSize)
	}
	return b
}

// reserve makes room for n more bytes, evicting or compacting as the policy
// allows. REQUIRES s.mu held.
func (s *shard) reserve(n int64, reloc bool) error {
	limit := s.budget(reloc)
	maxTries := s.maxRoomTries()
	for tries := 0; s.used.Load()+n > limit; tries++ {
		if reloc || tries > maxTries || !s.makeRoom(true, tries) {
			return ErrOOM
		}
	}
	return nil
}

// alloc returns space for a record of n bytes. REQUIRES s.mu held.
// Any slice into a normal page obtained before alloc may be recycled by it.
func (s *shard) alloc(n int, reloc bool) (uint64, []byte, error) {
	if n > s.ks.largeMin {
		return s.allocLarge(n, reloc)
	}
	t := s.tail
	if t == nil || t.used+n > len(t.buf) {
		var err error
		if t, err = s.newTail(reloc); err != nil {
			return 0, nil, err
		}
	}
	off := t.used
	t.used += n
	t.live += n
	return makeAddr(t.idx, off), t.buf[off : off+n : off+n], nil
}

func (s *shard) allocLarge(n int, reloc bool) (uint64, []byte, error) {
	if err := s.reserve(int64(n), reloc); err != nil {
		return 0, nil, err
	}
	idx, ok := s.takeIdx()
	if !ok {
		return 0, nil, ErrOOM
	}
	p := &page{buf: make([]byte, n), idx: idx, large: true, used: n, live: n}
	s.used.Add(int64(n))
	s.setPage(idx, p)
	s.logAppend(p)
	return makeAddr(idx, 0), p.buf, nil
}

func (s *shard) newTail(reloc bool) (*page, error) {
	ps := int64(s.ks.pageSize)
	limit := s.budget(reloc)
	var p *page
	maxTries := s.maxRoomTries()
	for tries := 0; p == nil; tries++ {
		s.reclaimRetired(false, true)
		if n := len(s.free); n > 0 {
			p = s.free[n-1]
			s.free = s.free[:n-1]
			break
		}
		if s.used.Load()+ps <= limit {
			idx, ok := s.takeIdx()
			if !ok {
				return nil, ErrOOM
			}
			p = &page{buf: allocPage(int(ps)), idx: idx}
			s.used.Add(ps)
			s.setPage(idx, p)
			break
		}
		if reloc || tries > maxTries || !s.makeRoom(false, tries) {
			return nil, ErrOOM
		}
	}
	p.used, p.live = 0, 0
	if old := s.tail; old != nil && old.live == 0 {
		s.retire(old)
	}
	s.tail = p
	s.logAppend(p)
	return p, nil
}

func (s *shard) takeIdx() (int, bool) {
	if n := len(s.freeIdx); n > 0 {
		i := s.freeIdx[n-1]
		s.freeIdx = s.freeIdx[:n-1]
		return i, true
	}
	if s.nextIdx >= maxPages {
		return 0, false
	}
	s.nextIdx++
	return s.nextIdx - 1, true
}

func (s *shard) setPage(idx int, p *page) {
	pt := s.pages.Load()
	if idx >= len(pt.p) {
		n := len(pt.p) * 2
		for n <= idx {
			n *= 2
		}
		npt := &pageTable{p: make([]atomic.Pointer[page], n)}
		for i := range pt.p {
			npt.p[i].Store(pt.p[i].Load())
		}
		s.pages.Store(npt)
		pt = npt
	}
	pt.p[idx].Store(p)
}

func (s *shard) logAppend(p *page) {
	p.prev, p.next, p.inLog = s.last, nil, true
	if p.prev != nil {
		p.prev.next = p
	} else {
		s.head = p
	}
	s.nlog++
	s.last = p
}

func (s *shard) logRemove(p *page) {
	if !p.inLog {
		return
	}
	if p.prev != nil {
		p.prev.next = p.next
	} else {
		s.head = p.next
	}
	if p.next != nil {
		p.next.prev = p.prev
	} else {
		s.last = p.prev
	}
	p.prev, p.next, p.inLog = nil, nil, false
	s.nlog--
}

// retire unlinks a page from the log; it is recycled once no reader can still
// hold an address into it.
func (s *shard) retire(p *page) {
	s.logRemove(p)
	if s.tail == p {
		s.tail = nil
	}
	p.stamp = s.ks.ep.retireStamp()
	s.retired = append(s.retired, p)
}

// reclaimRetired recycles retired pages whose readers have left: up to two
// are pooled for the next tail page when pool is set, the rest are freed.
// With wait it first waits for all of them. It reports whether anything was
// reclaimed.
func (s *shard) reclaimRetired(wait, pool bool) bool {
	if len(s.retired) == 0 {
		return false
	}
	if wait {
		s.ks.ep.waitSafe(s.retired[len(s.retired)-1].stamp)
	}
	min := s.ks.ep.minActive()
	kept := s.retired[:0]
	done := false
	for _, p := range s.retired {
		if p.stamp >= min {
			kept = append(kept, p)
			continue
		}
		if pool && !p.large && len(s.free) < 2 {
			s.free = append(s.free, p)
		} else {
			s.dropPage(p)
		}
		done = true
	}
	for i := len(kept); i < len(s.retired); i++ {
		s.retired[i] = nil
	}
	s.retired = kept
	return done
}

func (s *shard) dropPage(p *page) {
	s.pages.Load().p[p.idx].Store(nil)
	s.freeIdx = append(s.freeIdx, p.idx)
	s.used.Add(-int64(len(p.buf)))
	if !p.large {
		freePage(p.buf)
	}
	p.buf = nil
}

// makeRoom frees memory by one step. Pooled free pages are kept when the
// caller needs a page anyway (dropFree false). tries counts the steps this
// allocation has already taken: once CLOCK has gone round the log twice
// without freeing enough (readers keep every key hot), frequencies are
// ignored so that AllKeys and Volatile never fail for want of a victim.
// REQUIRES s.mu held.
func (s *shard) makeRoom(dropFree bool, tries int) bool {
	if s.reclaimRetired(true, !dropFree) {
		return true
	}
	if n := len(s.free); n > 0 && dropFree {
		p := s.free[n-1]
		s.free = s.free[:n-1]
		s.dropPage(p)
		return true
	}
	victim, clock := s.pickVictim()
	if victim == nil {
		return false
	}
	return s.processVictim(victim, clock, tries > s.maxRoomTries()/2)
}

// maxRoomTries bounds the makeRoom steps of one allocation: enough for CLOCK
// to go round the log a few times (and then evict by force).
func (s *shard) maxRoomTries() int { return 4*(s.nlog+len(s.retired)) + 16 }

// pickVictim chooses the page to free next. A page that is mostly dead is
// compacted (its live records move to the tail). Otherwise, under AllKeys
// and Volatile, the oldest page goes through CLOCK; under NoEviction the page
// with the least live data is compacted, if that gains anything.
func (s *shard) pickVictim() (*page, bool) {
	var best *page
	for p := s.head; p != nil; p = p.next {
		if p == s.tail {
			continue
		}
		if best == nil || p.live*len(best.buf) < best.live*len(p.buf) {
			best = p
		}
	}
	policy := s.ks.policy
	if policy == Volatile && s.ttlKeys == 0 {
		policy = NoEviction // nothing evictable: compaction only
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
	p := s.head
	if p == nil {
		return nil, false
	}
	if p == s.tail {
		if p.next == nil && p.live == 0 {
			return nil, false
		}
		s.tail = nil // close it: relocations go to a fresh page
	}
	return p, true
}

// processVictim moves or evicts every live record of p, then retires p.
// With clock, records not read since their last pass are evicted (AllKeys,
// or Volatile for records with a TTL) and read ones lose one frequency step;
// with force, every evictable record goes.
// REQUIRES s.mu held.
func (s *shard) processVictim(p *page, clock, force bool) bool {
	policy := s.ks.policy
	now := s.ks.clock()
	t := s.table.Load()
	for off := 0; off < p.used; {
		r := decodeRecord(p.buf[off:])
		a := makeAddr(p.idx, off)
		off += r.size
		pos, v, ok := s.findAddr(t, r.key, a)
		if !ok {
			continue
		}
		if r.expiredAt(now) {
			s.dropSlotRec(t, pos, &r)
			s.expired.Add(1)
			continue
		}
		evictable := clock && (policy == AllKeys || policy == Volatile && r.hasTTL())
		freq := slotFreq(v)
		if evictable && (freq == 0 || force) {
			s.dropSlotRec(t, pos, &r)
			s.evicted.Add(1)
			continue
		}
		if evictable {
			freq--
		}
		if p.large {
			// Second chance without a copy: move the buffer to the log's end.
			t.slots[pos].Store(makeSlot(slotTag(v), freq, a))
			s.logRemove(p)
			s.logAppend(p)
			return true
		}
		na, buf, err := s.alloc(r.size, true)
		if err != nil {
			// No room to move it: evict it if the policy allows at all.
			if policy != AllKeys && !(policy == Volatile && r.hasTTL()) {
				return false
			}
			s.dropSlotRec(t, pos, &r)
			s.evicted.Add(1)
			continue
		}
		copy(buf, p.buf[off-r.size:off])
		t.slots[pos].Store(makeSlot(slotTag(v), freq, na))
	}
	s.retire(p)
	return true
}

// findAddr finds the slot of key that points at address a.
func (s *shard) findAddr(t *table, key []byte, a uint64) (int, uint64, bool) {
	tag := xxhash.Sum64(key) >> tagShift
	for i := t.home(tag); i < len(t.slots); i++ {
		v := t.slots[i].Load()
		if v == 0 {
			break
		}
		if slotAddr(v) == a {
			return i, v, true
		}
	}
	return 0, 0, false
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

// markDead accounts for a record the index no longer points to, retiring its
// page when nothing live is left in it. REQUIRES s.mu held.
func (s *shard) markDead(a uint64) {
	p := s.pageAt(a)
	r := decodeRecord(p.buf[addrOff(a):])
	if r.hasTTL() {
		s.ttlKeys--
	}
	if p.large {
		p.live = 0
		s.retire(p)
		return
	}
	p.live -= r.size
	if p.live == 0 && p != s.tail {
		s.retire(p)
	}
}

// remove deletes the key at pos. REQUIRES s.mu held.
func (s *shard) remove(t *table, pos int, v uint64) {
	s.dropSlot(t, pos)
	s.markDead(slotAddr(v))
	s.maybeShrink()
}

// maybeShrink rebuilds the table after deletions: smaller when most of it
// is empty, or at the same size to shed tombstones. A shrink waits until the
// live count has fallen to a quarter of what the last rebuild saw, so a table
// whose keys are unevenly spread over the tag space (after deleting a tag
// range) is not rebuilt over and over. REQUIRES s.mu held.
func (s *shard) maybeShrink() {
	t := s.table.Load()
	switch {
	case t.size > 4*minTableSize && uint64(s.live)*16 < t.size && s.live <= s.shrinkBelow:
		s.rebuild(tableSizeFor(s.live) * 2)
	case s.tombs*4 > int(t.size):
		s.rebuild(t.size)
	}
}

// ensureIndex grows the table before an insert would push it past its load
// limit. REQUIRES s.mu held.
func (s *shard) ensureIndex() error {
	for {
		t := s.table.Load()
		if uint64(s.live+s.tombs+1)*4 <= t.size*3 {
			return nil
		}
		size := tableSizeFor(s.live + 1)
		if extra := newTableBytes(size) - t.bytes(); extra > 0 {
			if err := s.reserve(extra, false); err != nil {
				return err
			}
			if t != s.table.Load() || uint64(s.live+s.tombs+1)*4 <= t.size*3 {
				continue
			}
		}
		s.rebuild(size)
		return nil
	}
}

func newTableBytes(size uint64) int64 {
	pad := size / 128
	if pad < 32 {
		pad = 32
	}
	return int64(size+pad) * 8
}

// rebuild replaces the table with one of the given size, dropping
// tombstones. Readers keep using the old table until they reload it.
// REQUIRES s.mu held.
func (s *shard) rebuild(size uint64) {
	old := s.table.Load()
	for {
		nt := newTable(size)
		if copySlots(old, nt) {
			s.table.Store(nt)
			s.used.Add(nt.bytes() - old.bytes())
			s.tombs = 0
			s.shrinkBelow = s.live / 4
			return
		}
		size *= 2
	}
}

func copySlots(from, to *table) bool {
	for i := range from.slots {
		v := from.slots[i].Load()
		if slotAddr(v) == 0 {
			continue
		}
		j := to.home(slotTag(v))
		for j < len(to.slots) && to.slots[j].Load() != 0 {
			j++
		}
		if j == len(to.slots) {
			return false
		}
		to.slots[j].Store(v)
	}
	return true
}

// put stores key → val with the given absolute expiry, replacing any current
// record. val must not point into a normal page of this shard (alloc may
// recycle it): callers copy such values into s.scratch first.
// REQUIRES s.mu held.
func (s *shard) put(h uint64, key, val []byte, expireAt int64) error {
	if err := s.ensureIndex(); err != nil {
		return err
	}
	n := recordSize(len(key), len(val), expireAt != noExpiry)
	t := s.table.Load()
	pos := s.insertPos(t, h, key)
	for pos < 0 {
		s.rebuild(t.size * 2)
		t = s.table.Load()
		pos = s.insertPos(t, h, key)
	}
	a, buf, err := s.alloc(n, false)
	if err != nil {
		return err
	}
	encodeRecord(buf, key, val, expireAt)
	if expireAt != noExpiry {
		s.ttlKeys++
	}
	// alloc may have evicted or moved this key, but never rebuilds the
	// table, so pos is still the key's place; reload what it holds now.
	old := t.slots[pos].Load()
	tag := h >> tagShift
	if oa := slotAddr(old); oa != 0 {
		t.slots[pos].Store(makeSlot(tag, slotFreq(old), a))
		s.markDead(oa)
	} else {
		if old == slotTomb {
			s.tombs--
		}
		t.slots[pos].Store(makeSlot(tag, 0, a))
		s.live++
		s.keys.Add(1)
	}
	s.sets.Add(1)
	return nil
}

// insertPos returns the slot holding key, or the first free slot where it
// would go, or -1 when probing runs off the end of the table.
func (s *shard) insertPos(t *table, h uint64, key []byte) int {
	tag := h >> tagShift
	free := -1
	for i := t.home(tag); i < len(t.slots); i++ {
		v := t.slots[i].Load()
		if v == 0 {
			if free < 0 {
				free = i
			}
			return free
		}
		if v == slotTomb {
			if free < 0 {
				free = i
			}
			continue
		}
		if slotTag(v) != tag {
			continue
		}
		a := slotAddr(v)
		r, _ := s.recordAt(a)
		if string(r.key) == string(key) {
			return i
		}
	}
	return free
}
