// Package core is ringdb's data engine: a sharded keyspace whose records
// live in arena pages behind a pointer-free index, with lock-free reads, TTLs,
// a hard memory bound and eviction. It performs no I/O and imports no metrics
// library; counters are summed on demand into Stats.
package core

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// Keyspace is a binary-safe key/value store. All methods are safe for
// concurrent use. Reads (Get, GetRange, Exists, StrLen, TTL, PTTL,
// PExpireTime, MGet) take no lock and never wait for a writer of another
// key; a Get that overlaps an in-place overwrite of the same key copies
// the value again (record.go). Writes lock one shard (or, for multi-key commands, each shard
// involved, in a fixed order).
//
// Values passed in are copied; values returned are appended to the caller's
// buffer, which the caller owns.
type Keyspace struct {
	shards []shard
	mask   uint64
	seed   uint64 // keys the hash (hash); random per keyspace
	ep     *epochs
	clock  func() int64
	// frozen is the time every operation reads while the clock is frozen
	// (FreezeClock), notFrozen otherwise.
	frozen   atomic.Int64
	policyV  atomic.Uint32 // EvictionPolicy; CONFIG SET may change it
	pageSize int
	largeMin int // records larger than this get their own buffer
	// bgN counts evictToBudget goroutines (under bgMu); Settle and Close
	// wait for it to reach 0.
	bgMu   sync.Mutex
	bgN    int
	bgDone sync.Cond
	// fixedPageSize: Options.PageSize set the page size, so a new bound
	// does not change it. pageSize and largeMin change only with every
	// shard locked, and are read with one held.
	fixedPageSize bool
	maxKey        int
	maxVal        int
	maxMemory     atomic.Int64 // 0 when unbounded
	pool          atomic.Int64 // the bound's budget no shard holds (budget.go)
	// lent is the sum of the shards' lentDropped: bytes of the bound no
	// eviction can free, which the shares leave out (fairShare).
	lent atomic.Int64
	// lowered counts the times a shard's limit went down (budget.go) or
	// RENAME moved a large value's bytes to another shard (moveLarge),
	// bumped before the budget or bytes can reach the other shard, so
	// that a sum of the shards' used bytes can tell whether they moved
	// while it read them (sumUsed).
	lowered atomic.Uint64
	// budgetMu is read-held by collect while it has budget in transit
	// and held by SetMaxMemory (before the shard locks) while it hands
	// out a new bound: budget a collect took of the old bound must not
	// be added to a shard on top of the new one.
	budgetMu sync.RWMutex
	// expNext is the shard the next ActiveExpireCycle starts at: the one
	// after the shard where the last cycle ran out of time.
	expNext atomic.Uint64

	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{}
	closed    bool // guarded by every shard's mu (set with all held)
}

// New creates a keyspace. Unless o.NoActiveExpiry is set it starts a
// background goroutine for active expiry; Close stops it and releases the
// arena.
func New(o Options) (*Keyspace, error) {
	n := shardCount(o)
	k := &Keyspace{
		shards: make([]shard, n),
		mask:   uint64(n - 1),
		seed:   rand.Uint64(),
		ep:     newEpochs(),
		maxKey: o.MaxKeySize,
		maxVal: o.MaxValueSize,
	}
	if o.Eviction > Volatile {
		return nil, ErrSyntax
	}
	if o.MaxMemory < 0 {
		return nil, ErrSyntax
	}
	k.policyV.Store(uint32(o.Eviction))
	k.bgDone.L = &k.bgMu
	base := o.Clock
	if base == nil {
		base = wallClockMillis
	}
	k.frozen.Store(notFrozen)
	k.clock = func() int64 {
		if f := k.frozen.Load(); f != notFrozen {
			return f
		}
		return base()
	}
	if k.maxKey <= 0 {
		k.maxKey = DefaultMaxKeySize
	}
	if k.maxVal <= 0 {
		k.maxVal = DefaultMaxValueSize
	}
	k.pageSize = pageSizeFor(o, n)
	k.largeMin = k.pageSize / 4
	k.fixedPageSize = o.PageSize > 0
	for i := range k.shards {
		k.shards[i].init(k)
	}
	k.setBudget(o.MaxMemory)
	if !o.NoActiveExpiry {
		k.stop = make(chan struct{})
		k.done = make(chan struct{})
		go k.activeExpiryLoop()
	}
	return k, nil
}

// Close stops background work and releases the arena. Reads after Close find
// nothing; writes return ErrClosed.
func (k *Keyspace) Close() {
	k.closeOnce.Do(func() {
		if k.stop != nil {
			close(k.stop)
			<-k.done
		}
		k.lockAll()
		k.closed = true
		for i := range k.shards {
			k.shards[i].reset()
		}
		for i := range k.shards {
			s := &k.shards[i]
			s.reclaimRetired(true, false)
			k.ep.waitSafe(k.ep.retireStamp())
			s.reclaimRetired(false, false) // the old tables
			for _, p := range s.free {
				s.dropPage(p, false)
			}
			s.free = nil
			for s.dropPooledLarge() {
			}
		}
		k.unlockAll()
		k.Settle() // each finds the keyspace closed at its next step
	})
}

func (k *Keyspace) policy() EvictionPolicy { return EvictionPolicy(k.policyV.Load()) }

// SetMaxMemory changes the memory bound at run time (CONFIG SET
// maxmemory); 0 removes it. Under AllKeys and Volatile a lower bound is
// reached at once, as in Redis: each shard's part of the new bound is in
// proportion to what it holds (budget.go), and a background goroutine
// evicts shard by shard, a page at a time, taking each shard's lock only
// for a step. Under NoEviction, writes that need memory fail until
// deletes bring the keyspace back under the bound. The shard count chosen
// by New stays; unless Options.PageSize fixed it, new pages take the size
// New would pick for the new bound.
func (k *Keyspace) SetMaxMemory(n int64) error {
	if n < 0 {
		return ErrSyntax
	}
	k.budgetMu.Lock()
	defer k.budgetMu.Unlock()
	k.lockAll()
	defer k.unlockAll()
	if k.closed {
		return ErrClosed
	}
	// Eviction frees a page at a time and a write keeps a page of
	// headroom: pages sized for a bound many times larger would leave a
	// shard less than a page to work with, and every write failed with
	// ErrOOM (or emptied the shard first). Pages already holding records
	// keep their size; pooled ones of the old size are given back.
	if ps := pageSizeFor(Options{MaxMemory: n}, len(k.shards)); !k.fixedPageSize && ps != k.pageSize {
		k.pageSize, k.largeMin = ps, ps/4
		for i := range k.shards {
			s := &k.shards[i]
			for _, p := range s.free {
				s.dropPage(p, false)
			}
			s.free = s.free[:0]
		}
	}
	k.setBudget(n)
	if n > 0 && k.policy() != NoEviction {
		k.startEvictToBudget()
	}
	return nil
}

// startEvictToBudget runs evictToBudget in the background.
func (k *Keyspace) startEvictToBudget() {
	k.bgMu.Lock()
	k.bgN++
	k.bgMu.Unlock()
	go k.evictToBudget()
}

// Settle waits until the eviction that SetMaxMemory or SetEviction started
// in the background has finished, so that Stats and Len show the keyspace
// within the new bound (or with nothing left it may evict). It is safe to
// call from any goroutine at any time.
func (k *Keyspace) Settle() {
	k.bgMu.Lock()
	for k.bgN > 0 {
		k.bgDone.Wait()
	}
	k.bgMu.Unlock()
}

// evictToBudget evicts until every shard is within its share of the bound
// (or has nothing left it may evict). Pages of a larger size than the
// bound now calls for are first compacted into pages of the current size:
// evicting them whole would take far more keys than the new bound needs
// gone (every key, where a shard's share is less than one such page).
func (k *Keyspace) evictToBudget() {
	defer func() {
		k.bgMu.Lock()
		if k.bgN--; k.bgN == 0 {
			k.bgDone.Broadcast()
		}
		k.bgMu.Unlock()
	}()
	for i := range k.shards {
		s := &k.shards[i]
		for {
			if k.lock(s) != nil {
				return // closed
			}
			ok := s.used.Load() > s.budget(true) && s.migrateOldPage()
			s.mu.Unlock()
			if !ok {
				break
			}
		}
		// tries counts steps since memory last went down (a step may only
		// retire a page, which the next one frees): one allocation's
		// bound on steps applies to a stretch without progress, not to
		// the whole shard.
		for tries := 0; ; {
			if k.lock(s) != nil {
				return // closed
			}
			before := s.used.Load()
			ok := before > s.budget(true) && tries <= s.maxRoomTries() && (s.shrinkForRoom() || s.makeRoom(true, tries))
			if s.used.Load() < before {
				tries = 0
			} else {
				tries++
			}
			s.mu.Unlock()
			if !ok {
				break
			}
		}
	}
}

// SetEviction changes the eviction policy at run time.
func (k *Keyspace) SetEviction(p EvictionPolicy) error {
	if p > Volatile {
		return ErrSyntax
	}
	k.lockAll()
	defer k.unlockAll()
	k.policyV.Store(uint32(p))
	if p != NoEviction {
		for i := range k.shards {
			s := &k.shards[i]
			s.resizeGhost(s.live)
		}
		if !k.closed && k.maxMemory.Load() > 0 {
			// Shards left over the bound under NoEviction get back
			// under it now, as after SetMaxMemory.
			k.startEvictToBudget()
		}
	}
	return nil
}

func (k *Keyspace) lockAll() {
	for i := range k.shards {
		k.shards[i].mu.Lock()
	}
}

func (k *Keyspace) unlockAll() {
	for i := range k.shards {
		k.shards[i].mu.Unlock()
	}
}

func (k *Keyspace) shardFor(key []byte) (*shard, uint64) {
	h := k.hash(key)
	return &k.shards[h&k.mask], h
}

// hash is a key's 64-bit hash: its shard (low bits) and index tag (top
// bits). It is xxhash64 keyed with the keyspace's random seed through a
// bijective finalizer (MurmurHash3's fmix64), so that no one outside can
// pick keys that crowd one shard or one end of an index, as Redis seeds its
// dict hash for the same reason.
func (k *Keyspace) hash(key []byte) uint64 {
	h := xxhash.Sum64(key) ^ k.seed
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func (k *Keyspace) checkKey(key []byte) error {
	if len(key) > k.maxKey {
		return &LimitError{Kind: ErrKeyTooLarge, Size: len(key), Limit: k.maxKey}
	}
	return nil
}

func (k *Keyspace) checkKV(key, val []byte) error {
	if err := k.checkKey(key); err != nil {
		return err
	}
	if len(val) > k.maxVal {
		return &LimitError{Kind: ErrValueTooLarge, Size: len(val), Limit: k.maxVal}
	}
	return nil
}

// Get appends the value of key to dst. It reports false, and returns dst
// unchanged, when the key does not exist or has expired.
func (k *Keyspace) Get(dst, key []byte) ([]byte, bool) { return k.get(dst, key, nil) }

// get is Get, and GetRef when ref is set: a large value is then not copied
// but returned as it lies in its page, pinned, with *ref set to unpin it.
func (k *Keyspace) get(dst, key []byte, ref *ValueRef) ([]byte, bool) {
	s, h := k.shardFor(key)
	rs := k.ep.enter()
	for spins := 0; ; spins++ {
		if spins > 64 {
			runtime.Gosched() // the writer lost its core mid-write
		}
		t := s.table.Load()
		pos, v, r, pg, ok := s.lookup(t, h, key)
		if ok && r.expireAt != noExpiry && r.expiredAt(k.clock()) {
			if s.deadlineMoved(t, pos, v, &r, pg) {
				continue // a writer extended the TTL after we decoded it
			}
			ok = false
			s.hintExpired(h >> tagShift)
		}
		if !ok {
			rs.countMiss()
			rs.exit()
			return dst, false
		}
		if pg.large {
			bumpFreq(t, pos, v)
			rs.countHit()
			// Large buffers are never reused: pinned, the copy can run
			// outside the epoch without holding back page reclamation.
			pg.pin()
			rs.exit()
			if ref != nil {
				*ref = ValueRef{pg}
				return r.val[:len(r.val):len(r.val)], true
			}
			dst = appendValue(dst, r.val)
			pg.unpin()
			return dst, true
		}
		if !r.aligned {
			dst = append(dst, r.val...)
		} else {
			off := addrOff(slotAddr(v))
			sw := seqWord(pg.buf[off+r.seqOff:])
			seq := sw.Load()
			if seq&1 != 0 {
				continue // a write of this key is under way
			}
			if r.expireAt != noExpiry {
				// The deadline may have moved with the value: check the
				// one that goes with the value copied below.
				if exp := loadDeadline(pg.buf[off+r.voff-8 : off+r.voff]); exp != r.expireAt && k.clock() > exp {
					continue
				}
			}
			n := len(dst)
			dst = appendWords(dst, pg.buf[off+r.voff:off+r.voff+roundUp8(len(r.val))], len(r.val))
			if sw.Load() != seq {
				dst = dst[:n] // written while we copied: read it again
				continue
			}
		}
		bumpFreq(t, pos, v)
		rs.countHit()
		rs.exit()
		return dst, true
	}
}

// GetRange appends to dst the part of key's value that Redis's GETRANGE
// key start end selects: bytes start to end, both included, where a
// negative index counts from the end (-1 is the last byte) and indexes
// past either end are clamped; nothing when start comes after end once
// resolved, or when both are negative and start > end. Only that part is
// copied, however large the value. It reports false, and returns dst
// unchanged, when the key does not exist or has expired; it counts a hit
// or a miss as Get does, and takes no lock.
func (k *Keyspace) GetRange(dst, key []byte, start, end int64) ([]byte, bool) {
	return k.getRange(dst, key, start, end, nil)
}

// GetRangeRef is GetRange for a caller that may borrow the span of a large
// value rather than copy it, as GetRef lends a whole one: the span is
// returned as it lies in the keyspace's memory, with a ValueRef that keeps
// that memory until its Release, and dst is left alone. Reading a large
// value in pieces (GETRANGE of 1 MiB at a time) then copies none of them.
func (k *Keyspace) GetRangeRef(dst, key []byte, start, end int64) ([]byte, ValueRef, bool) {
	var ref ValueRef
	v, ok := k.getRange(dst, key, start, end, &ref)
	return v, ref, ok
}

// ValueRef holds a large value GetRef lent its caller: the value's memory
// stays as it is until Release, even if the key is overwritten, deleted,
// expired or evicted meanwhile (the memory is then freed by Release, and
// counts against the memory bound until then: Stats.LentBytes). The
// zero ValueRef holds nothing; its Release does nothing.
type ValueRef struct{ pg *page }

// Release ends the loan. Call it exactly once for a ValueRef GetRef
// returned; the value lent must not be read after it.
func (r ValueRef) Release() {
	if r.pg != nil {
		r.pg.unpin()
	}
}

// Held reports whether r holds a value (GetRef lent it rather than
// copied it).
func (r ValueRef) Held() bool { return r.pg != nil }

// GetRef is Get for a caller that may borrow a large value rather than
// copy it: a value on the large-value path (over a quarter of an arena
// page) is returned as it lies in the keyspace's memory, with a ValueRef
// that keeps that memory until its Release, and dst is left alone; any
// other is appended to dst as Get does, with the zero ValueRef. The value
// lent must not be modified. A server writes it to the network from
// there: a copy of a 100 MB value per reader is what GET of it would
// otherwise cost in memory.
func (k *Keyspace) GetRef(dst, key []byte) ([]byte, ValueRef, bool) {
	var ref ValueRef
	v, ok := k.get(dst, key, &ref)
	return v, ref, ok
}

// valueSpan returns the bytes [lo, hi) of a value of length n that
// GETRANGE start end selects, as Redis 7.0's getrangeCommand computes it.
// (0, -1) is always the whole value.
func valueSpan(n int, start, end int64) (lo, hi int) {
	if start < 0 && end < 0 && start > end {
		return 0, 0
	}
	l := int64(n)
	if start < 0 {
		start += l // no overflow: l >= 0
	}
	if end < 0 {
		end += l
	}
	start, end = max(start, 0), max(end, 0)
	if end >= l {
		end = l - 1
	}
	if start > end || l == 0 {
		return 0, 0
	}
	return int(start), int(end) + 1
}

// getRange is GetRange: Get's read with the copy limited to the span of
// key's value that valueSpan(len, start, end) selects, the span of a large
// value lent when ref is not nil (GetRangeRef). Get keeps its own copy of
// this loop: served by getRange(0, -1), BenchmarkGet went from 280-335 to
// 338-420 ns (-cpu 2, alternating test binaries, session 15).
func (k *Keyspace) getRange(dst, key []byte, start, end int64, ref *ValueRef) ([]byte, bool) {
	s, h := k.shardFor(key)
	rs := k.ep.enter()
	for spins := 0; ; spins++ {
		if spins > 64 {
			runtime.Gosched() // the writer lost its core mid-write
		}
		t := s.table.Load()
		pos, v, r, pg, ok := s.lookup(t, h, key)
		if ok && r.expireAt != noExpiry && r.expiredAt(k.clock()) {
			if s.deadlineMoved(t, pos, v, &r, pg) {
				continue // a writer extended the TTL after we decoded it
			}
			ok = false
			s.hintExpired(h >> tagShift)
		}
		if !ok {
			rs.countMiss()
			rs.exit()
			return dst, false
		}
		// The length of a record's value never changes (an in-place
		// overwrite keeps it), so the span holds for every copy below.
		lo, hi := valueSpan(len(r.val), start, end)
		if pg.large {
			bumpFreq(t, pos, v)
			rs.countHit()
			// Large buffers are never reused: pinned, the copy can run
			// outside the epoch without holding back page reclamation.
			pg.pin()
			rs.exit()
			if ref != nil {
				*ref = ValueRef{pg}
				return r.val[lo:hi:hi], true
			}
			dst = appendValue(dst, r.val[lo:hi])
			pg.unpin()
			return dst, true
		}
		if !r.aligned {
			dst = append(dst, r.val[lo:hi]...)
		} else {
			off := addrOff(slotAddr(v))
			sw := seqWord(pg.buf[off+r.seqOff:])
			seq := sw.Load()
			if seq&1 != 0 {
				continue // a write of this key is under way
			}
			if r.expireAt != noExpiry {
				// The deadline may have moved with the value: check the
				// one that goes with the value copied below.
				if exp := loadDeadline(pg.buf[off+r.voff-8 : off+r.voff]); exp != r.expireAt && k.clock() > exp {
					continue
				}
			}
			n := len(dst)
			w := pg.buf[off+r.voff : off+r.voff+roundUp8(len(r.val))]
			if lo == 0 && hi == len(r.val) {
				dst = appendWords(dst, w, len(r.val))
			} else {
				dst = appendWordsRange(dst, w, lo, hi)
			}
			if sw.Load() != seq {
				dst = dst[:n] // written while we copied: read it again
				continue
			}
		}
		bumpFreq(t, pos, v)
		rs.countHit()
		rs.exit()
		return dst, true
	}
}

// meta is what metadata reads need of a record.
type meta struct {
	vlen     int
	expireAt int64 // noExpiry when the key has no TTL
	now      int64 // the clock, read only when the key has a TTL
}

// peek returns key's metadata, treating an expired key as missing. With
// count it is a read that counts as a hit or a miss (Redis counts EXISTS,
// TTL, STRLEN, TYPE lookups in keyspace_hits/misses). With touch a live
// key's access frequency goes up, as a Get's does.
func (k *Keyspace) peek(key []byte, count, touch bool) (meta, bool) {
	s, h := k.shardFor(key)
	rs := k.ep.enter()
	var m meta
	var ok bool
	for {
		t := s.table.Load()
		pos, v, r, pg, found := s.lookup(t, h, key)
		m, ok = meta{vlen: len(r.val), expireAt: r.expireAt}, found
		if ok && m.expireAt != noExpiry {
			m.now = k.clock()
			ok = m.now <= m.expireAt
			if !ok && s.deadlineMoved(t, pos, v, &r, pg) {
				continue // a writer extended the TTL after we decoded it
			}
			if !ok {
				s.hintExpired(h >> tagShift)
			}
		}
		if ok && touch {
			bumpFreq(t, pos, v)
		}
		break
	}
	if count {
		if ok {
			rs.countHit()
		} else {
			rs.countMiss()
		}
	}
	rs.exit()
	return m, ok
}

// countRead counts a hit or miss of a read done under a shard lock (GETEX,
// GETDEL) on a reader slot, like lock-free reads, rather than on a shared
// counter that every core would fight over.
func (k *Keyspace) countRead(hit bool) {
	rs := k.ep.enter()
	if hit {
		rs.countHit()
	} else {
		rs.countMiss()
	}
	rs.exit()
}

// Meta reports whether key exists and its absolute expiry in Unix ms (-1
// without a TTL) without counting a hit or a miss: for commands that look at
// a key on the way to writing it.
func (k *Keyspace) Meta(key []byte) (exists bool, expireAt int64) {
	m, ok := k.peek(key, false, false)
	if !ok {
		return false, -1
	}
	return true, m.expireAt
}

// Exists reports whether key exists (and has not expired).
func (k *Keyspace) Exists(key []byte) bool {
	_, ok := k.peek(key, true, false)
	return ok
}

// StrLen returns the length of key's value, or 0 when it does not exist.
func (k *Keyspace) StrLen(key []byte) int {
	m, ok := k.peek(key, true, false)
	if !ok {
		return 0
	}
	return m.vlen
}

// PTTL returns the remaining time to live of key in milliseconds, -2 when
// the key does not exist and -1 when it has no TTL.
func (k *Keyspace) PTTL(key []byte) int64 {
	m, ok := k.peek(key, true, false)
	switch {
	case !ok:
		return -2
	case m.expireAt == noExpiry:
		return -1
	}
	return m.expireAt - m.now
}

// TTL returns the remaining time to live of key in seconds, rounded to the
// nearest second as Redis does; -2 when the key does not exist and -1 when it
// has no TTL.
func (k *Keyspace) TTL(key []byte) int64 {
	ttl := k.PTTL(key)
	if ttl < 0 {
		return ttl
	}
	return (ttl + 500) / 1000
}

// PExpireTime returns key's absolute expiry in Unix milliseconds, -2 when the
// key does not exist and -1 when it has no TTL.
func (k *Keyspace) PExpireTime(key []byte) int64 {
	m, ok := k.peek(key, true, false)
	switch {
	case !ok:
		return -2
	case m.expireAt == noExpiry:
		return -1
	}
	return m.expireAt
}

// emptyVal marks a found empty value in MGet results.
var emptyVal = []byte{}

// MGet looks up every key. Values are appended to buf; vals[i] is a
// sub-slice of the returned buffer, or nil when keys[i] is missing. vals is
// reused when it has capacity.
func (k *Keyspace) MGet(buf []byte, vals [][]byte, keys ...[]byte) ([]byte, [][]byte) {
	vals = vals[:0]
	base := len(buf)
	for _, key := range keys {
		n := len(buf)
		var ok bool
		buf, ok = k.Get(buf, key)
		switch {
		case !ok:
			vals = append(vals, nil)
		case len(buf) == n:
			vals = append(vals, emptyVal)
		default:
			vals = append(vals, buf[n:len(buf):len(buf)])
		}
	}
	// buf may have moved while growing: point every value at the final one.
	// Empty values keep emptyVal: a slice of a nil buf would be nil,
	// which means missing.
	off := base
	for i, v := range vals {
		if n := len(v); n > 0 {
			vals[i] = buf[off : off+n : off+n]
			off += n
		}
	}
	return buf, vals
}

// Len returns the number of keys, including expired keys not yet reclaimed
// (as Redis DBSIZE does). Keys that a read found expired are reclaimed
// first, as Redis deletes them on access.
func (k *Keyspace) Len() int {
	k.drainAllHints()
	var n int64
	for i := range k.shards {
		n += k.shards[i].keys.Load()
	}
	return int(n)
}

// Stats is a snapshot of the keyspace counters.
type Stats struct {
	Hits      uint64 // reads that found a live key
	Misses    uint64 // reads that found nothing
	Sets      uint64 // records written
	Deletes   uint64 // keys removed by a command
	Expired   uint64 // expired keys reclaimed
	Evicted   uint64 // keys evicted by the memory bound
	Keys      int64  // keys held, including expired ones not yet reclaimed
	UsedBytes int64  // arena pages, index and large values
	// IndexBytes is the part of UsedBytes that the index tables take (one
	// 8-byte slot per key and the free slots around them).
	IndexBytes int64
	// LentBytes is the part of UsedBytes taken by large values the
	// keyspace has dropped (overwritten, deleted, expired, evicted) that
	// readers still hold: replies lending them that the network has not
	// taken yet (GetRef). They count against the bound until released.
	LentBytes int64
	MaxBytes  int64 // the memory bound; 0 when unbounded
}

// Stats sums the per-shard and per-reader counters.
func (k *Keyspace) Stats() Stats {
	k.drainAllHints()
	st := Stats{MaxBytes: k.maxMemory.Load()}
	st.Hits, st.Misses = k.ep.counts()
	st.UsedBytes = k.sumUsed(nil)
	for i := range k.shards {
		s := &k.shards[i]
		st.Sets += s.sets.Load()
		st.Deletes += s.deletes.Load()
		st.Expired += s.expired.Load()
		st.Evicted += s.evicted.Load()
		st.Keys += s.keys.Load()
		st.IndexBytes += s.table.Load().bytes()
		st.LentBytes += s.lentDropped.Load()
	}
	return st
}

// Expires returns the number of keys that have a TTL, expired ones not yet
// reclaimed included (as Len counts them), for INFO's expires field. It
// takes each shard's lock in turn, briefly.
func (k *Keyspace) Expires() int64 {
	n, _ := k.ExpiryStats()
	return n
}

// ExpiryStats returns what Expires returns and, for INFO's avg_ttl, an
// estimate of the average time to live left on keys with a TTL, in
// milliseconds: a running average over the active expiry cycle's samples,
// kept as Redis keeps it (0 until the cycle has sampled such a key, and
// whenever no key has a TTL).
func (k *Keyspace) ExpiryStats() (expires, avgTTL int64) {
	k.drainAllHints()
	var weighted float64
	var sampled int64
	for i := range k.shards {
		s := &k.shards[i]
		s.mu.Lock()
		n := int64(s.ttlKeys)
		avg := s.avgTTL
		s.mu.Unlock()
		expires += n
		if avg > 0 && n > 0 {
			weighted += float64(avg) * float64(n)
			sampled += n
		}
	}
	if sampled > 0 {
		avgTTL = int64(weighted / float64(sampled))
	}
	return expires, avgTTL
}

// reset empties a shard. REQUIRES s.mu held.
func (s *shard) reset() {
	old := s.table.Load()
	t := newTable(minTableSize)
	s.table.Store(t)
	s.retireTable(old)
	s.used.Add(t.bytes() - old.bytes())
	for qi := range s.q {
		for p := s.q[qi].head; p != nil; {
			next := p.next
			s.retire(p)
			p = next
		}
	}
	s.live, s.tombs, s.ttlKeys, s.avgTTL = 0, 0, 0, 0
	s.keys.Store(0)
	// The ghost filter is sized to the live keys (resizeGhost) and counted
	// in used: left at the size the flushed keys needed, it would keep
	// their 4 bytes a key counted after FLUSHALL, and route new keys past
	// probation on fingerprints of keys that no longer exist.
	s.used.Add(-int64(len(s.ghost)) * 4)
	s.ghost = nil
	s.ghostBytes.Store(0)
	s.resizeGhost(0)
}

// Flush removes every key.
func (k *Keyspace) Flush() {
	k.lockAll()
	defer k.unlockAll()
	for i := range k.shards {
		s := &k.shards[i]
		s.reset()
		s.reclaimRetired(false, false) // what no reader holds
		for s.dropPooledLarge() {
		}
	}
}

// ActiveExpireCycle runs one bounded pass of active expiry: it samples keys
// in every shard and deletes the expired ones, repeating on a shard while
// more than 10% of its sample had expired, until budget has been spent. It
// returns the number of keys reclaimed. A cycle that runs out of time
// leaves the rest of the shards to the next one, which starts after the
// shard it stopped in (as Redis's cycle resumes at the next database): a
// shard that keeps a cycle busy does not keep the others from ever being
// sampled.
func (k *Keyspace) ActiveExpireCycle(budget time.Duration) int {
	const sample = 20
	start := time.Now()
	total := 0
	n := uint64(len(k.shards))
	first := k.expNext.Load() % n
	for j := range n {
		i := (first + j) % n
		s := &k.shards[i]
		for pass := 0; ; pass++ {
			checked, expired, hinted := s.expireSample(k.clock(), sample, pass == 0)
			total += expired + hinted
			if time.Since(start) > budget {
				k.expNext.Store(i + 1)
				// The shards this cycle does not sample still age their
				// pools of large buffers, or a busy shard first in line
				// would keep the others' pools for ever.
				for j++; j < n; j++ {
					o := &k.shards[(first+j)%n]
					o.mu.Lock()
					o.decayPooledLarge()
					o.lendSurplus()
					o.mu.Unlock()
				}
				return total
			}
			if checked == 0 || expired*10 <= checked {
				break
			}
		}
	}
	return total
}

// activeExpiryLoop runs ActiveExpireCycle ten times a second with a 25 ms
// budget: at most a quarter of one core.
func (k *Keyspace) activeExpiryLoop() {
	defer close(k.done)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-tick.C:
			k.ActiveExpireCycle(25 * time.Millisecond)
		}
	}
}

// expireSample deletes the expired keys that readers left hints for
// (hinted), then examines up to n keys from the shard's expiry cursor and
// deletes the expired ones among them.
func (s *shard) expireSample(now int64, n int, first bool) (checked, expired, hinted int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Keys that readers found expired go first; they are not part of the
	// sample whose expired share decides whether to sample again.
	hinted = s.drainHints(now)
	// Pages and tables a write-free shard retired while a reader was
	// about (FLUSHALL, DEL or GETDEL of a large value) are freed here,
	// not at the next write: that may never come, and a shard that still
	// holds keys would keep counting their memory.
	if len(s.retired) > 0 || len(s.oldTables) > 0 {
		s.reclaimRetired(false, false)
	}
	if first {
		s.decayPooledLarge()
		s.lendSurplus()
	}
	t := s.table.Load()
	if s.live == 0 {
		return 0, 0, hinted
	}
	// A cursor in tag space sweeps the whole table over successive passes,
	// even while the table is rebuilt, so every expired key is found.
	var ttlSum float64
	ttlN := 0
	i := t.home(s.expCursor)
	for ; i < len(t.slots) && checked < n; i++ {
		v := t.slots[i].Load()
		a := slotAddr(v)
		if a == 0 {
			continue
		}
		checked++
		r, _ := s.recordAt(a)
		switch {
		case r.expiredAt(now):
			s.dropExpired(t, i, a)
			expired++
		case r.hasTTL() && r.expireAt > now: // Redis counts ttl > 0 only
			ttlSum += float64(r.expireAt - now)
			ttlN++
		}
	}
	s.updateAvgTTL(ttlSum, ttlN)
	if i >= len(t.slots) {
		s.expCursor = 0
	} else {
		s.expCursor = t.bucketStart(i)
	}
	if expired > 0 {
		s.maybeShrink()
		s.reclaimRetired(false, false)
	}
	return checked, expired, hinted
}

// updateAvgTTL folds the TTLs left on the sample's live keys that have one
// (sum ms over n keys) into the shard's running estimate, as Redis keeps
// avg_ttl: the first sample sets it, each later one moves it by 1/50.
// REQUIRES s.mu held.
func (s *shard) updateAvgTTL(sum float64, n int) {
	if s.ttlKeys == 0 {
		s.avgTTL = 0
		return
	}
	if n == 0 {
		return
	}
	sample := int64(sum / float64(n))
	avg := s.avgTTL
	if avg == 0 {
		avg = sample
	}
	s.avgTTL = avg/50*49 + sample/50
}

// dropExpired deletes the expired record at address a, indexed at pos in t.
// REQUIRES s.mu held.
func (s *shard) dropExpired(t *table, pos int, a uint64) {
	s.dropSlot(t, pos)
	s.markDead(a)
	s.expired.Add(1)
}

// PrefetchMax is the most keys one Prefetch call looks at.
const PrefetchMax = 32

// Prefetch brings the index slots and records of keys into the CPU cache,
// so that the commands about to use them (a pipelined batch, say) do not
// each wait for their own memory misses: the loads of all keys are issued
// back to back and overlap. It changes nothing and counts nothing; only the
// first PrefetchMax keys are looked at.
func (k *Keyspace) Prefetch(keys [][]byte) {
	k.prefetch(keys, 1)
}

// prefetch returns a value computed from every load so that none of them
// can be left out; it must not be inlined into a caller that drops it.
//
//go:noinline
func (k *Keyspace) prefetch(keys [][]byte, stride int) uint64 {
	var hs [PrefetchMax]uint64
	n := 0
	for i := 0; i < len(keys) && n < PrefetchMax; i += stride {
		hs[n] = k.hash(keys[i])
		n++
	}
	var sink uint64
	rs := k.ep.enter()
	// First the home slot of every key, then (slots now in cache) the first
	// line of every key's record. The second pass only touches the record
	// instead of calling lookup: lookup's key comparison waits for each
	// record in turn (BenchmarkBatchGet: 113 ns per key through lookup, 79
	// with the touch alone).
	for _, h := range hs[:n] {
		s := &k.shards[h&k.mask]
		t := s.table.Load()
		sink += t.slots[t.home(h>>tagShift)].Load()
	}
	for _, h := range hs[:n] {
		s := &k.shards[h&k.mask]
		t := s.table.Load()
		tag := h >> tagShift
		for i := t.home(tag); i < len(t.slots); i++ {
			v := t.slots[i].Load()
			if v == 0 {
				break
			}
			if slotTag(v) != tag || slotAddr(v) == 0 {
				continue
			}
			a := slotAddr(v)
			rec := s.pages.Load().p[addrPage(a)].Load().buf[addrOff(a):]
			sink += uint64(rec[0]) // the flags byte, never rewritten
			// A small record (16-byte key, 64-byte value: 83-88 bytes)
			// spans two lines and its value is mostly in the second, which
			// the CPU does not fetch on its own. A prefetch, unlike a load,
			// does not hold up the loop and reads nothing another goroutine
			// may be writing.
			if len(rec) > 64 {
				prefetchLine(unsafe.Pointer(&rec[64]))
			}
			break
		}
	}
	rs.exit()
	return sink
}
