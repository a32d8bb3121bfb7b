package core

import (
	"errors"
	"sync"
	"sync/atomic"
)

// shard owns a slice of the keyspace: an index table, a page table and a log
// of arena pages. Readers use only the atomic fields (table, pages) under an
// epoch; everything else is guarded by mu.
type shard struct {
	// Read by every lock-free reader. Kept on a cache line of their own:
	// when they shared one with mu, every lock taken by a writer on one
	// core invalidated the line that readers on the other core needed.
	ks    *Keyspace
	table atomic.Pointer[table]
	pages atomic.Pointer[pageTable]
	// hintFlag is the one field here that is written: by a read that
	// finds a key expired (and only while the flag is down) and by the
	// drain that lowers it, so the line still stays clean while no key
	// expires under readers (hints.go).
	hintFlag atomic.Uint32
	// starved is set, under mu, when the shard needs budget other shards
	// hold beyond their share (budget.go): the next write feeds it. It is
	// read by every write before it locks, and written once per feed.
	starved atomic.Uint32
	_       [32]byte

	mu sync.Mutex

	// Guarded by mu.
	live, tombs int
	q           [2]queue // the small and main logs (evict.go)
	ghost       []uint32 // fingerprints of keys evicted from the small log
	ttlKeys     int      // live keys with a TTL (Volatile needs some to evict)
	moved       int      // records moved to another page (compaction, eviction's second chances)
	// migrateLimit, while migrateOldPage runs, is what moving may take the
	// shard's use up to; 0 otherwise.
	migrateLimit int64
	retired      []*page
	oldTables    []*table // replaced tables in the arena, awaiting readers
	job          *page    // page writes are compacting or evicting (evict.go)
	jobClock     bool     // the job evicts (S3-FIFO) rather than compacts
	free         []*page  // recyclable normal pages (counted in used)
	largeFree    *largePool
	freeIdx      []int // page-table indices free for reuse
	nextIdx      int
	scratch      []byte
	shrinkBelow  int    // live count under which the table may shrink
	expCursor    uint64 // active expiry position, in tag space
	avgTTL       int64  // running estimate of the TTL left, ms (updateAvgTTL)
	// keep, while cede evicts for another shard's write, is the key that
	// write reads (collect), which eviction moves rather than drops; and
	// while RENAME makes room for dst in src's shard, src. REQUIRES mu.
	keep []byte

	// Counters, written under mu, read by Stats without it; used also
	// falls, without mu, when a reader frees a large page the shard
	// dropped while it held it (page.unpin), and lentDropped, the part
	// of used such pages take, with it.
	keys        atomic.Int64
	used        atomic.Int64
	lentDropped atomic.Int64
	sets        atomic.Uint64
	deletes     atomic.Uint64
	expired     atomic.Uint64
	evicted     atomic.Uint64

	// Tags of keys that lock-free readers found expired (hints.go).
	hints [hintCap]atomic.Uint32

	// limit is the shard's part of the memory bound (budget.go), written
	// under mu; ghostBytes is len(ghost)*4, for neverFits in other shards.
	limit      atomic.Int64
	ghostBytes atomic.Int64
	// localOnly counts writes running in local-only mode (retrier): while
	// it is not 0 the shard's writes free room in the shard itself.
	localOnly atomic.Int32
	// pending is budget shed collected for an allocation larger than a
	// page (shedError.hold): only such allocations may use it, and
	// lendSurplus gives what is left back. Written under mu.
	pending atomic.Int64

	_ [4]byte // round the struct to 576 bytes on 64-bit platforms (shard_layout64.go)
}

func (s *shard) init(ks *Keyspace) {
	s.ks = ks
	t := newTable(minTableSize)
	s.table.Store(t)
	s.used.Store(t.bytes())
	s.pages.Store(&pageTable{p: make([]atomic.Pointer[page], 16)})
	s.nextIdx = 1 // address 0 means empty
}

// lockSpins bounds lock's own wait: about the time a write holds the shard
// lock (a few hundred ns), polling the lock word from cache.
const lockSpins = 200

// lock takes s.mu. A write holds it for a few hundred nanoseconds, far less
// than sync.Mutex's own spin step (30 PAUSEs, microseconds on some CPUs), so
// a writer that finds the lock held first polls it with TryLock, which only
// reads the lock word until it is released, and waits in Lock only after
// that.
func (s *shard) lock() {
	for range lockSpins {
		if s.mu.TryLock() {
			return
		}
	}
	s.mu.Lock()
}

// pageAt resolves an address. Readers must call it after loading the slot
// that holds the address (the writer publishes a page before pointing at it).
func (s *shard) pageAt(a uint64) *page {
	return s.pages.Load().p[addrPage(a)].Load()
}

// recordAt decodes the record at address a.
func (s *shard) recordAt(a uint64) (record, *page) {
	p := s.pageAt(a)
	return p.record(addrOff(a)), p
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
		if pg.large {
			pg.extend(&r)
		}
		if string(r.key) == string(key) {
			return i, v, r, pg, true
		}
	}
	return
}

// deadlineMoved reports whether the deadline of the record r, decoded from
// slot value v at pos in t, may have changed since: a writer replaced the
// record (the slot or the table changed) or rewrote its deadline in place.
// A lock-free reader that finds a key expired checks it before reporting a
// miss: the reader may have decoded the old deadline, then a writer that
// still saw the key live extended it, and only then did the clock pass the
// old deadline; the key was live throughout, so the read must retry.
func (s *shard) deadlineMoved(t *table, pos int, v uint64, r *record, pg *page) bool {
	if s.table.Load() != t || t.slots[pos].Load() != v {
		return true
	}
	if pg.large {
		// Before the aligned case: a record moved into a large page
		// (SetMaxMemory's smaller pages) keeps its aligned layout, but
		// its deadline is the page's once set in place.
		return pg.record(0).expireAt != r.expireAt // setDeadlineInPlace
	}
	if r.aligned && r.hasTTL() {
		off := addrOff(slotAddr(v))
		return loadDeadline(pg.buf[off+r.voff-8:off+r.voff]) != r.expireAt
	}
	return false // a compact record's deadline is never rewritten
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
	b := s.limit.Load() - s.pending.Load()
	if !reloc {
		b -= int64(s.ks.pageSize)
	} else if s.migrateLimit > b {
		b = s.migrateLimit // migrateOldPage moving records out of a page
	}
	return b
}

// reserve makes room for n more bytes, evicting or compacting as the policy
// allows. REQUIRES s.mu held.
func (s *shard) reserve(n int64, reloc bool) error {
	return s.reserveFor(n, reloc, 0)
}

// reserveFor is reserve for a large value's buffer of size class class,
// when class is not 0: a buffer of that class pooled meanwhile (a victim's,
// say) is room enough, since the caller takes it instead of a new one.
func (s *shard) reserveFor(n int64, reloc bool, class int) error {
	held := s.heldFor(n, reloc)
	err := s.reserveWithin(n, reloc, class, s.budget(reloc)+held)
	if err == nil && held > 0 {
		// What this allocation takes of it.
		s.pending.Add(-min(held, max(0, s.used.Load()+n-s.budget(reloc))))
	}
	return err
}

// heldFor returns the budget held for allocations larger than a page
// (pending) that an allocation of n bytes may use. REQUIRES s.mu held.
func (s *shard) heldFor(n int64, reloc bool) int64 {
	if reloc || n <= int64(s.ks.pageSize) {
		return 0
	}
	return s.pending.Load()
}

// reserveWithin is reserveFor within limit.
func (s *shard) reserveWithin(n int64, reloc bool, class int, limit int64) error {
	if s.used.Load()+n <= limit || !reloc && s.borrow(s.used.Load()+n-limit) {
		return nil
	}
	if err := s.neverFits(n); err != nil {
		// Not even an empty keyspace would have room: evicting every key
		// for a write that fails anyway would only lose data.
		return err
	}
	if !reloc && s.ks.bounded() && s.ks.policy() != NoEviction && n > limit/4 && s.localOnly.Load() == 0 {
		// A write this large for the shard takes its room from every
		// shard (shed), not by emptying its own.
		return s.needBudget(n)
	}
	if !reloc {
		s.starve()
	}
	maxTries := s.maxRoomTries()
	for tries := 0; s.used.Load()+n > limit; tries++ {
		if class != 0 && s.hasPooledLarge(class) {
			return nil
		}
		if reloc || tries > maxTries {
			return s.outOfRoom(n, reloc)
		}
		var lp *largePool
		if class != 0 {
			lp = s.largePool()
			lp.want = class
		}
		ok := s.makeRoom(true, tries)
		if lp != nil {
			lp.want = 0
		}
		if !ok {
			return s.outOfRoom(n, reloc)
		}
	}
	return nil
}

// outOfRoom is the error of an allocation of n bytes that the shard could
// not make room for itself: moving records (reloc) fails, and a write
// asks the other shards for budget (needBudget).
func (s *shard) outOfRoom(n int64, reloc bool) error {
	if reloc {
		return ErrOOM
	}
	return s.needBudget(n)
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

// reclaimRetired recycles retired pages whose readers have left: when pool
// is set, up to two are pooled for the next tail page and large buffers for
// the next large values (poolLarge); the rest are freed.
// With wait it first waits for all of them. It reports whether anything was
// reclaimed.
func (s *shard) reclaimRetired(wait, pool bool) bool {
	if len(s.oldTables) > 0 {
		min := s.ks.ep.minActive()
		kept := s.oldTables[:0]
		for _, t := range s.oldTables {
			if t.stamp >= min {
				kept = append(kept, t)
				continue
			}
			freePage(t.mem)
		}
		clear(s.oldTables[len(kept):])
		s.oldTables = kept
	}
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
		// Only pages of the current size are pooled: one from before
		// SetMaxMemory changed it would hold more than a page's share.
		if pool && !p.large && len(s.free) < 2 && len(p.buf) == s.ks.pageSize {
			s.free = append(s.free, p)
		} else {
			s.dropPage(p, pool)
		}
		done = true
	}
	for i := len(kept); i < len(s.retired); i++ {
		s.retired[i] = nil
	}
	s.retired = kept
	return done
}

// dropPage frees a page no reader can reach; a large page's buffer is
// pooled instead when pool is set.
func (s *shard) dropPage(p *page, pool bool) {
	s.pages.Load().p[p.idx].Store(nil)
	s.freeIdx = append(s.freeIdx, p.idx)
	// A key RENAME gave a large page (moveLarge) is its shard's until the
	// page goes: no reader can reach it any more, pinned ones included
	// (they hold the value).
	s.used.Add(-int64(len(p.key)))
	if p.gave {
		return // the page RENAME gave the buffer to frees it (moveLarge)
	}
	if p.large {
		// A reader still holding the buffer (a reply lending the value
		// to the network, or a copy under way) frees it, and it stays in
		// used until then: the memory bound counts it, as it counts a
		// value the keyspace holds. Uncounted, slow clients reading a
		// large value rewritten meanwhile held a version each, and an
		// EXEC whose writes evicted what it had read held gigabytes,
		// outside a bound of megabytes.
		c := int64(cap(p.buf))
		s.addLent(c)
		p.holder().owner = s
		if !p.release() {
			return
		}
		s.addLent(-c)
		s.used.Add(-c)
		switch {
		case pool || s.largeFree != nil && cap(p.buf) == s.largeFree.want:
			s.poolLarge(p.buf)
		default:
			freeLarge(p.buf)
		}
	} else {
		s.used.Add(-int64(len(p.buf)))
		freePage(p.buf)
		p.buf = nil
	}
}

// addLent adds n to the bytes of dropped large pages readers still hold,
// the shard's and the keyspace's (Keyspace.lent, their sum).
func (s *shard) addLent(n int64) {
	s.lentDropped.Add(n)
	s.ks.lent.Add(n)
}

// markDead accounts for a record the index no longer points to, retiring its
// page when nothing live is left in it. REQUIRES s.mu held.
func (s *shard) markDead(a uint64) {
	p := s.pageAt(a)
	r := p.record(addrOff(a))
	if r.hasTTL() {
		s.ttlKeys--
		p.ttl -= r.size
	}
	if p.large {
		p.live, p.ttl = 0, 0
		s.retire(p)
		return
	}
	p.live -= r.size
	if p.live == 0 && !s.isTail(p) {
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

// shrinkForRoom rebuilds the table to the size maybeShrink would pick when
// the shard is over its budget and its live keys fill less than a seventh
// of the table, and reports whether it did. The table counts against the
// bound, and eviction drops slots without rebuilding it (alloc's callers
// hold a slot position): after evicting most keys, a table sized for the
// keys that were there kept their memory, so a lowered bound (CONFIG SET
// maxmemory) was met by evicting every key, and, with the table alone over
// the bound, every write failed with ErrOOM. Each rebuild at least halves
// the table. REQUIRES s.mu held; no caller may hold a slot position.
func (s *shard) shrinkForRoom() bool {
	t := s.table.Load()
	size := tableSizeFor(s.live) * 2
	if t.size < 2*size || s.used.Load() <= s.budget(false) {
		return false
	}
	s.rebuild(size)
	return true
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
	s.rebuildPad(size, 0)
}

// rebuildPad is rebuild with at least pad slots past the last home. Should
// the keys not fit (too many crowd the top of the tag space), it doubles
// the pad, not the table. REQUIRES s.mu held.
func (s *shard) rebuildPad(size, pad uint64) {
	old := s.table.Load()
	size = max(size, minTableSize)
	pad = max(pad, defaultPad(size))
	for {
		nt := newTablePad(size, pad)
		if copySlots(old, nt) {
			s.table.Store(nt)
			s.retireTable(old)
			s.used.Add(nt.bytes() - old.bytes())
			s.tombs = 0
			s.shrinkBelow = s.live / 4
			s.resizeGhost(s.live)
			return
		}
		if nt.mem != nil {
			freePage(nt.mem) // never published
		}
		pad *= 2
	}
}

// retireTable frees a replaced table's arena memory once no reader can
// hold it. REQUIRES s.mu held.
func (s *shard) retireTable(t *table) {
	if t.mem == nil {
		return // the garbage collector has it
	}
	t.stamp = s.ks.ep.retireStamp()
	s.oldTables = append(s.oldTables, t)
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
	return s.store(h, key, val, expireAt, false)
}

// store is put. With replace, the write gives a live key another
// deadline (or none): where there is no room for its new record, it
// takes the room of the old one (allocReplacing), as Redis runs EXPIRE,
// PERSIST and GETEX at the bound (they are not denyoom commands there).
// REQUIRES s.mu held.
func (s *shard) store(h uint64, key, val []byte, expireAt int64, replace bool) error {
	t, pos, err := s.slotFor(h, key)
	if err != nil {
		return err
	}
	// A key keeps its log; a new key starts on probation in the small log
	// unless it was evicted from there recently.
	qi := uint8(qSmall)
	rewrite := false
	if cur := t.slots[pos].Load(); slotAddr(cur) != 0 {
		r, pg := s.recordAt(slotAddr(cur))
		if r.hasTTL() && r.expiredAt(s.ks.clock()) {
			// Replacing a key that had expired reclaims it, as Redis
			// counts it (callers that look first have reclaimed it
			// already). Only a key with a TTL costs a clock read. It
			// goes now and a new key is stored: left until the new
			// record replaced it, it was found and counted again by
			// the run after a shed (the write failed for room).
			// dropExpired does not rebuild: pos stays the key's place.
			s.dropExpired(t, pos, slotAddr(cur))
		} else {
			if s.tryOverwrite(cur, &r, pg, val, expireAt) {
				return nil
			}
			qi = pg.q
			rewrite = true
		}
	} else if s.ghostTake(h) {
		qi = qMain
	}
	// A key written for the first time gets the compact layout: most keys
	// of a cache are written once, and the aligned layout costs 4 to 11
	// bytes. A key being rewritten is likely to be rewritten again, so its
	// new record is aligned and later rewrites of the same length go in
	// place.
	ttl := expireAt != noExpiry
	aligned := rewrite && len(val) <= alignedMax
	n := recordSize(len(key), len(val), ttl, aligned)
	if aligned && n+7 > s.ks.largeMin {
		aligned = false // it takes the large-value path: no padding there
		n = recordSize(len(key), len(val), ttl, false)
	}
	voff := -1
	if aligned {
		voff = valueOffset(len(key), len(val), ttl, true)
	}
	a, buf, err := s.alloc(n, false, qi, voff)
	var compact *page // the page of the replaced record, to compact once it is dead
	if err != nil && replace && rewrite && errors.Is(err, ErrOOM) {
		a, buf, compact = s.allocReplacing(t, pos, n, voff)
		if buf == nil && aligned {
			// The compact layout, as the key's first record has: for a
			// value as long and the same TTL or none, no larger than the
			// record it replaces.
			aligned, voff = false, -1
			n = recordSize(len(key), len(val), ttl, false)
			a, buf, compact = s.allocReplacing(t, pos, n, voff)
		}
	}
	if buf == nil {
		// Eviction may have emptied the table: its room goes to the run
		// after shed.
		s.shrinkForRoom()
		return err
	}
	encodeRecord(buf, key, val, expireAt, aligned)
	if expireAt != noExpiry {
		s.ttlKeys++
		s.pageAt(a).ttl += n
	}
	// alloc may have evicted or moved this key, but never rebuilds the
	// table, so pos is still the key's place; reload what it holds now.
	old := t.slots[pos].Load()
	var freq uint64 // a new key's is 0 (a tombstone's slot says 1)
	if slotAddr(old) != 0 {
		freq = slotFreq(old)
	}
	s.point(t, pos, old, makeSlot(h>>tagShift, freq, a))
	if compact != nil && compact.inLog {
		// The replaced record is dead: the page's other live records
		// move in after the new one (allocReplacing checked they fit),
		// and the page goes, giving the reserve back.
		s.processVictim(compact, false, false)
		s.reclaimRetired(false, true)
	}
	if s.job != nil {
		s.workJob()
	}
	// As the table may grow at the start of put, it may shrink at its end:
	// callers look keys up again after put.
	s.shrinkForRoom()
	return nil
}

// point stores v, a slot for a new record, at pos in t, which held old:
// the record old pointed to is dead, or the key is new. It counts a set.
// REQUIRES s.mu held.
func (s *shard) point(t *table, pos int, old, v uint64) {
	t.slots[pos].Store(v)
	if oa := slotAddr(old); oa != 0 {
		s.markDead(oa)
	} else {
		if old == slotTomb {
			s.tombs--
		}
		s.live++
		s.keys.Add(1)
	}
	s.sets.Add(1)
}

// slotFor returns the table and the slot a write of key (hash h) uses:
// the key's own, or a free one, the index grown first when a new key
// needs it. REQUIRES s.mu held.
func (s *shard) slotFor(h uint64, key []byte) (*table, int, error) {
	t := s.table.Load()
	pos := s.insertPos(t, h, key)
	if pos < 0 || slotAddr(t.slots[pos].Load()) == 0 {
		// Only a new key takes a slot: growing the table for a rewrite
		// failed it with ErrOOM at the bound when the table was at its
		// load limit, though it needed no room.
		if err := s.ensureIndex(); err != nil {
			return nil, 0, err
		}
		if nt := s.table.Load(); nt != t {
			t = nt
			pos = s.insertPos(t, h, key)
		}
	}
	for pos < 0 {
		// The probe ran off the end: twice the pad, its memory reserved
		// first (keys chosen to crowd one end of the index must not take
		// it past MaxMemory).
		if err := s.reserve(int64(t.pad())*8, false); err != nil {
			return nil, 0, err
		}
		if t = s.table.Load(); s.insertPos(t, h, key) < 0 {
			s.rebuildPad(t.size, t.pad()*2)
		}
		t = s.table.Load()
		pos = s.insertPos(t, h, key)
	}
	return t, pos, nil
}

// allocReplacing is alloc for put rewriting the key at pos, when alloc
// found no room. It compacts the page holding the key's current record
// into a fresh page of the reserve, with the new record of n bytes (voff
// as for alloc) in the old one's place: it moves the records before it,
// returns the new record's room, and returns the page for put to finish
// once the old record is dead. The page count stays as it was, so a
// rewrite needs no more memory than the room its old record leaves, as
// under Redis, where EXPIRE, PERSIST and GETEX run at the bound; it costs
// moving a page's records (some 0.2 ms for a 128 KiB page of 100-byte
// values), which is why only those writes use it. It returns a nil buf,
// having changed nothing, when the records and the new one would not fit
// in one page, or the reserve is not there. REQUIRES s.mu held.
func (s *shard) allocReplacing(t *table, pos, n, voff int) (uint64, []byte, *page) {
	oa := slotAddr(t.slots[pos].Load()) // alloc may have moved it
	if oa == 0 {
		return 0, nil, nil
	}
	p := s.pageAt(oa)
	if p.large || len(p.buf) != s.ks.pageSize || !p.inLog || n > s.ks.largeMin {
		return 0, nil, nil
	}
	o := p.record(addrOff(oa)).size
	if p.live-o+n > len(p.buf) {
		return 0, nil, nil // not in any order
	}
	// In their order, no moved record starts later than it did: a new
	// record that ends no later than the old one leaves every one after
	// it in the page (one needing no padding, or padded at most 7 bytes).
	sure := voff < 0 && n <= o || n+7 <= o
	before, ok := s.fitsReplacing(t, p, oa, n, voff, sure)
	if !ok {
		return 0, nil, nil
	}
	if _, err := s.newTail(true, p.q); err != nil {
		return 0, nil, nil
	}
	// The records before the old one move first, in their order: in an
	// empty page none starts later than it did, so with the new record
	// no larger than the old, everything fits (fitsReplacing made sure).
	p.scan = 0
	if _, ok := s.processRecords(p, false, false, before); !ok {
		return 0, nil, nil // not expected: fitsReplacing said they fit
	}
	a, buf, err := s.alloc(n, true, p.q, voff)
	if err != nil {
		return 0, nil, nil
	}
	return a, buf, p
}

// fitsReplacing reports whether the live records of p, moved in their
// order as processRecords moves them into an empty page, fit in it with
// a record of n bytes (voff as for alloc) in place of the one at oa, and
// returns how many records (dead ones too) come before that one. With
// sure, the caller knows they fit: it only counts. REQUIRES s.mu held.
func (s *shard) fitsReplacing(t *table, p *page, oa uint64, n, voff int, sure bool) (int, bool) {
	end, before := 0, -1
	place := func(size, voff int) {
		if voff >= 0 {
			end += -(end + voff) & 7
		}
		end += size
	}
	i := 0
	for off := 0; off < p.used; i++ {
		for off < p.used && p.buf[off] == 0 {
			off++ // the gap before an aligned record
		}
		if off >= p.used {
			break
		}
		r := p.record(off)
		a := makeAddr(p.idx, off)
		off += r.size
		switch {
		case a == oa:
			before = i
			if sure {
				return before, true
			}
			place(n, voff)
		case sure:
		case r.aligned:
			if _, _, _, found := s.findAddr(t, r.key, a); found {
				place(r.size, r.voff)
			}
		default:
			if _, _, _, found := s.findAddr(t, r.key, a); found {
				place(r.size, -1)
			}
		}
	}
	return before, before >= 0 && end <= s.ks.pageSize
}

// tryOverwrite overwrites the live record r (in pg, at the address slot v
// holds) in place when val and expireAt fit its layout, and reports
// whether it did. It lets a writer that has just found the key skip
// put's second lookup. REQUIRES s.mu held.
func (s *shard) tryOverwrite(v uint64, r *record, pg *page, val []byte, expireAt int64) bool {
	if !canOverwrite(r, pg, len(val), expireAt != noExpiry) {
		return false
	}
	off := addrOff(slotAddr(v))
	seq := seqWord(pg.buf[off+r.seqOff:])
	seqBump(seq) // odd: readers of this record retry
	if expireAt != r.expireAt {
		storeDeadline(pg.buf[off+r.voff-8:off+r.voff], expireAt)
	}
	storeWords(pg.buf[off+r.voff:off+r.voff+roundUp8(len(val))], val)
	seqBump(seq)
	s.sets.Add(1)
	if s.job != nil {
		s.workJob()
	}
	return true
}

// canOverwrite reports whether tryOverwrite stores a value of vlen bytes,
// with a TTL or not, over the live record r (in pg) in place.
func canOverwrite(r *record, pg *page, vlen int, ttl bool) bool {
	return r.aligned && len(r.val) == vlen && r.hasTTL() == ttl && !pg.large
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
