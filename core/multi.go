package core

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// shardSet is a set of shard indices, locked in ascending order so that
// multi-key writers never deadlock.
type shardSet []uint64

// has reports whether shard index i is in the set.
func (set shardSet) has(i int) bool { return set[i/64]&(1<<(i%64)) != 0 }

func (k *Keyspace) shardSetFor(keys func(yield func([]byte))) shardSet {
	set := make(shardSet, (len(k.shards)+63)/64)
	keys(func(key []byte) {
		i := k.hash(key) & k.mask
		set[i/64] |= 1 << (i % 64)
	})
	return set
}

// lockSet locks the shards of set, holding no shard's lock on entry; as
// lock, it first feeds those of them that are starved (budget.go), or a
// shard written only by multi-key writes would evict its own keys while
// another holds far more than an even share of the bound. Feeding does
// not evict keep, the key the write reads (RENAME's source), when not nil.
func (k *Keyspace) lockSet(set shardSet, keep []byte) error {
	for i := range k.shards {
		if s := &k.shards[i]; set.has(i) && s.starved.Load() != 0 {
			k.feed(s, keep)
		}
	}
	locked := false
	for i := range k.shards {
		if set.has(i) {
			k.shards[i].mu.Lock()
			locked = true
		}
	}
	if !locked {
		// No keys (MSET with no pairs): take one lock only to read closed,
		// which Close writes holding every lock.
		k.shards[0].mu.Lock()
		closed := k.closed
		k.shards[0].mu.Unlock()
		if closed {
			return ErrClosed
		}
		return nil
	}
	if k.closed {
		k.unlockSet(set)
		return ErrClosed
	}
	return nil
}

func (k *Keyspace) unlockSet(set shardSet) {
	for i := range k.shards {
		if set.has(i) {
			k.shards[i].mu.Unlock()
		}
	}
}

func pairKeys(pairs [][]byte) func(func([]byte)) {
	return func(yield func([]byte)) {
		for i := 0; i+1 < len(pairs); i += 2 {
			yield(pairs[i])
		}
	}
}

// MSet stores key/value pairs (key, value, key, value, ...) with no TTL.
// Writers see it as atomic; lock-free readers may observe it part-applied.
// A key or a value over its limit (a *LimitError), and pairs that need
// more room than the bound leaves for data (a *BoundError), are refused
// before any pair is stored; so, under NoEviction and Volatile, is a
// write its shards have no room for (ErrOOM): the room is made sure of
// first, counting generously (a page more when they need a new one). Only
// under AllKeys, which evicts as it writes, can ErrOOM leave it
// part-applied.
func (k *Keyspace) MSet(pairs ...[]byte) error {
	_, err := k.mset(pairs, false)
	return err
}

// MSetNX stores the pairs only if none of the keys exists, and reports
// whether it did.
func (k *Keyspace) MSetNX(pairs ...[]byte) (bool, error) {
	return k.mset(pairs, true)
}

func (k *Keyspace) mset(pairs [][]byte, nx bool) (bool, error) {
	if len(pairs)%2 != 0 {
		return false, ErrSyntax
	}
	for i := 0; i < len(pairs); i += 2 {
		if err := k.checkKV(pairs[i], pairs[i+1]); err != nil {
			return false, err
		}
	}
	// Bring the keys' slots and records into cache before taking the
	// locks: the locked section, which holds about half the shards for a
	// 10-key MSET, then no longer waits for memory (BenchmarkMSet).
	k.prefetch(pairs, 2)
	set := k.shardSetFor(pairKeys(pairs))
	stored := 0 // pairs an earlier run stored and counted as sets
	return retrying(k, func() (bool, error) {
		if err := k.lockSet(set, nil); err != nil {
			return false, err
		}
		defer k.unlockSet(set)
		if len(pairs) == 0 {
			// No shard is locked: nothing may read the page size.
			return true, nil
		}
		// Sized under the locks: SetMaxMemory changes the large-value
		// threshold (and the page size) holding every shard's lock.
		z := k.sizePairs(pairs)
		// This run stores them again and counts them again: the sets
		// counted are those of the run that ends the write.
		k.uncountSets(pairs[:stored])
		stored = 0
		if nx {
			// As Redis's lookupKeyWrite: expired keys met before the first
			// live one are reclaimed on the way.
			for i := 0; i < len(pairs); i += 2 {
				s, h := k.shardFor(pairs[i])
				pos, v, _, _, ok, exp := s.find(h, pairs[i], k.clock)
				if exp {
					s.reclaimExpired(pos, v)
				}
				if ok {
					return false, nil
				}
			}
		}
		// After MSETNX's check, as a SET NX of a key that exists
		// answers "not set" whatever its value's size.
		if err := k.pairsFit(pairs, z); err != nil {
			return false, err
		}
		if err := k.roomForPairs(set, pairs, z); err != nil {
			return false, err
		}
		for i := 0; i < len(pairs); i += 2 {
			s, h := k.shardFor(pairs[i])
			if err := s.put(h, pairs[i], pairs[i+1], noExpiry); err != nil {
				if nx {
					// The run fails as a whole: the pairs stored so far
					// go, or the run after shed (or the client) would
					// find them live and MSETNX answer 0 with them set.
					// None was live before this run.
					k.unput(pairs[:i])
					k.uncountSets(pairs[:i])
				} else {
					stored = i
				}
				// MSET reads no key: shed may evict anywhere, the
				// pairs this run stored included (the next stores
				// them again).
				return false, err
			}
		}
		return true, nil
	})
}

// pairSizes bounds what storing a list of pairs needs, counted once per
// MSET from the sizes alone.
type pairSizes struct {
	fit   int64 // the records in their smaller layout: what neverFits checks
	large int64 // the buffers of large values
	small int64 // the other records in their larger layout, with padding
	keys  int   // pairs, each counted as a new key
}

// sizePairs returns the sizes of pairs.
func (k *Keyspace) sizePairs(pairs [][]byte) pairSizes {
	var z pairSizes
	for i := 0; i+1 < len(pairs); i += 2 {
		klen, vlen := len(pairs[i]), len(pairs[i+1])
		compact := recordSize(klen, vlen, false, false)
		z.keys++
		if compact > k.largeMin {
			z.large += int64(largeClass(compact)) // aligned or not (put)
			z.fit += int64(largeClass(compact))
			continue
		}
		z.fit += int64(compact)
		z.small += int64(max(compact, recordSize(klen, vlen, false, vlen <= alignedMax))) + 7
	}
	return z
}

// pairsFit returns the *BoundError of pairs no emptied keyspace could
// hold together, before any is stored: under AllKeys the first ones
// stored would have evicted other keys (and each other) for a write that
// fails anyway. z is sizePairs(pairs).
func (k *Keyspace) pairsFit(pairs [][]byte, z pairSizes) error {
	if !k.bounded() {
		return nil
	}
	err := k.shards[0].neverFits(z.fit) // a keyspace-wide check
	if err != nil {
		// A key named more than once keeps only its last value.
		err = k.shards[0].neverFits(lastValuesFit(k, pairs))
	}
	return err
}

// lastValuesFit is sizePairs(pairs).fit counting each key's last pair
// only.
func lastValuesFit(k *Keyspace, pairs [][]byte) int64 {
	last := make(map[string]int, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		last[string(pairs[i])] = i
	}
	var fit int64
	for _, i := range last {
		fit += k.sizePairs(pairs[i : i+2]).fit
	}
	return fit
}

// roughBorrowPages bounds, in pages, what roomForPairs borrows for a
// shard on its count from the sizes alone.
const roughBorrowPages = 8

// roomForPairs makes sure, before MSET or MSETNX stores a pair, that
// every shard of set has room for all of its pairs, so that a write
// refused for memory refuses the whole command, as Redis's MSET is
// atomic. Without it, under NoEviction at the bound (or Volatile with no
// key left to evict), the pairs before the one that found no room stayed
// stored while the command answered OOM. Under AllKeys the writes evict
// as they go, and a pair refused for want of room is one no eviction
// could make room for, which mset refuses first (neverFits). z is
// sizePairs(pairs). REQUIRES the shards of set locked.
func (k *Keyspace) roomForPairs(set shardSet, pairs [][]byte, z pairSizes) error {
	if !k.bounded() || k.policy() == AllKeys {
		return nil
	}
	for i := range k.shards {
		if !set.has(i) {
			continue
		}
		s := &k.shards[i]
		// Far from the bound, room for every pair in this shard alone is
		// the cheap check: the shard's budget, or what it borrows from
		// the keyspace's pool (a shard's budget keeps little beyond its
		// use), up to a few pages: the count is of all the pairs, which
		// an MSET of large values would have every shard borrow. Near
		// the bound, and for large writes, the shard's own pairs are
		// looked up, and rewrites in place need nothing.
		rough := s.growth(z.large, [2]int64{z.small, z.small}, z.keys, false)
		over := s.used.Load() + rough - s.budget(false)
		if over <= 0 || over <= roughBorrowPages*int64(k.pageSize) && s.borrow(over) {
			continue
		}
		// Making room may move records into the tails (eviction's second
		// chances, compaction), taking the room the first count found
		// there, and under Volatile evict keys of the write itself (then
		// new keys again): count again after it. Should making room keep
		// moving what is needed, the write is refused whole.
		for tries := 0; ; tries++ {
			need := s.pairsGrowth(i, pairs)
			if need == 0 || s.used.Load()+need <= s.budget(false) {
				break
			}
			if tries == 3 {
				return ErrOOM
			}
			if err := s.reserve(need, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// pairsGrowth is growth for the pairs of pairs that fall in shard si (s),
// looked up as put will find them: a live key whose record takes the
// value in place (tryOverwrite) needs nothing; a rewrite takes the aligned
// layout and no slot, in its record's log; a new key takes the compact
// layout in the small log, or in the main one when the ghost filter has
// it. REQUIRES s.mu held.
func (s *shard) pairsGrowth(si int, pairs [][]byte) int64 {
	k := s.ks
	var large int64
	var small [2]int64 // per log: qSmall, qMain
	newKeys := 0
	t := s.table.Load()
	pad := int64(t.pad())
	// Hashes of this shard's keys counted so far: on the stack for an
	// MSET of up to 32 keys here (no allocation on a write's path).
	var seenBuf [32]uint64
	seen := seenBuf[:0]
	for i := 0; i+1 < len(pairs); i += 2 {
		h := k.hash(pairs[i])
		if int(h&k.mask) != si {
			continue
		}
		key, val := pairs[i], pairs[i+1]
		if slices.Contains(seen, h) {
			// A key the MSET names again (or a hash it shares) finds
			// the record an earlier pair wrote, not the one looked up
			// here: counted as a rewrite that is not in place, in
			// either log.
			n := recordSize(len(key), len(val), false, len(val) <= alignedMax)
			if c := recordSize(len(key), len(val), false, false); c > k.largeMin {
				large += int64(largeClass(c))
				continue
			}
			small[qSmall] += int64(n) + 7
			small[qMain] += int64(n) + 7
			continue
		}
		seen = append(seen, h)
		_, _, r, pg, ok, _ := s.find(h, key, k.clock)
		if !ok && s.insertPos(t, h, key) < 0 {
			// Its probe runs off the end of the index: put doubles the
			// pad (store).
			large += pad * 8
			pad *= 2
		}
		if ok && canOverwrite(&r, pg, len(val), false) {
			continue
		}
		// A key with a TTL may expire before put comes to it: put then
		// stores a new key (compact, in the small log or, by the ghost
		// filter, the main one) in its place.
		mayExpire := ok && r.hasTTL()
		if !ok || mayExpire {
			newKeys++
		}
		n := recordSize(len(key), len(val), false, ok && len(val) <= alignedMax)
		if n > k.largeMin {
			if c := recordSize(len(key), len(val), false, false); c > k.largeMin {
				large += int64(largeClass(c))
				continue
			}
		}
		var logs [2]bool
		if ok {
			logs[pg.q] = true
		}
		if !ok || mayExpire {
			logs[qSmall] = true
			logs[qMain] = logs[qMain] || s.ghostHas(h)
		}
		for q := range small {
			if logs[q] {
				small[q] += int64(n) + 7 // and an aligned record's padding
			}
		}
	}
	return s.growth(large, small, newKeys, true)
}

// growth returns at least what storing records adds to the shard's used
// bytes: large (what the writes allocate through reserve: the buffers of
// large values, a wider index pad), small[q] (the bytes of the other
// records bound for log q) and newKeys (keys that take a slot).
//
// Index: new keys that take the table past its load limit rebuild it,
// once or more, to at most tableSizeFor(live + newKeys), with a pad that
// may come out wider when keys crowd its end, and the ghost filter is
// sized for the keys then. Without tails (the count from sizes alone) the
// pad may also double for new keys that probe past its end.
//
// Pages: a log whose tail has room for its records needs none, when tails
// is set and no write of the run makes room (which moves records into
// the tails: eviction's second chances, compaction). Otherwise each page
// a log starts is left for the next only with less than a record's room,
// so the log needs floor(bytes / (page - largeMin)) + 1 pages, and one
// more page counts for the records that making room moves meanwhile.
// REQUIRES s.mu held.
func (s *shard) growth(large int64, small [2]int64, newKeys int, tails bool) int64 {
	k := s.ks
	g := large
	t := s.table.Load()
	switch {
	case newKeys > 0 && !tails:
		g += 3 * int64(t.pad()) * 8
	case newKeys > 1:
		// pairsGrowth saw each new key's probe in the table as it was;
		// an earlier one may take the last slot a later one reaches.
		g += int64(t.pad()) * 8
	}
	rebuild := newKeys > 0 && uint64(s.live+s.tombs+newKeys)*4 > t.size*3
	if rebuild {
		size := tableSizeFor(s.live + newKeys)
		g += max(0, newTableBytes(size)-t.bytes()) + int64(defaultPad(size))*8
		if k.policy() != NoEviction {
			g += 4 * max(0, max(64, int64(1)<<bits.Len(uint(s.live+newKeys)))-int64(len(s.ghost)))
		}
	}
	tails = tails && large == 0 && !rebuild && s.job == nil
	ps := int64(k.pageSize)
	perPage := ps - int64(k.largeMin) - 8
	pages := int64(0)
	for q, n := range small {
		if n > 0 && !(tails && n <= s.tailRoom(uint8(q))) {
			pages += n/perPage + 1
		}
	}
	if pages > 0 || s.job != nil {
		pages++ // a job under way takes tail pages as writes work it
	}
	return g + pages*ps
}

// tailRoom returns the bytes left in the tail page of log qi.
// REQUIRES s.mu held.
func (s *shard) tailRoom(qi uint8) int64 {
	if t := s.q[qi].tail; t != nil {
		return int64(len(t.buf) - t.used)
	}
	return 0
}

// uncountSets takes back the sets counted for storing pairs.
func (k *Keyspace) uncountSets(pairs [][]byte) {
	for i := 0; i < len(pairs); i += 2 {
		s, _ := k.shardFor(pairs[i])
		s.sets.Add(^uint64(0))
	}
}

// unput removes the keys of pairs, which a failed MSETNX stored and which
// did not exist before it. REQUIRES their shards' locks held.
func (k *Keyspace) unput(pairs [][]byte) {
	for i := 0; i < len(pairs); i += 2 {
		s, h := k.shardFor(pairs[i])
		t := s.table.Load()
		if pos, v, _, _, ok := s.lookup(t, h, pairs[i]); ok {
			s.remove(t, pos, v)
		}
	}
}

// Rename moves src's value and TTL to dst, replacing dst. It returns
// ErrNoSuchKey when src does not exist. Writers see it as atomic;
// lock-free readers may see both keys for a moment (dst is written before
// src is removed), never neither. A value on the large-value path moves
// without a copy, as in Redis: it needs no room but dst's (an index
// slot, and dst's bytes, kept beside the value). A smaller value is
// copied, so under NoEviction at the bound RENAME of one can fail with
// ErrOOM.
func (k *Keyspace) Rename(src, dst []byte) error {
	_, err := k.rename(src, dst, false)
	return err
}

// RenameNX is Rename only when dst does not exist (an expired dst counts
// as absent), as Redis's RENAMENX: it reports whether it moved the key.
// A missing src is ErrNoSuchKey whether or not dst exists; src == dst
// moves nothing and reports false. Writers see the check and the move as
// one step; the rest is as for Rename.
func (k *Keyspace) RenameNX(src, dst []byte) (bool, error) {
	return k.rename(src, dst, true)
}

// rename is Rename and, with nx, RenameNX.
func (k *Keyspace) rename(src, dst []byte, nx bool) (bool, error) {
	if err := k.checkKey(dst); err != nil {
		return false, err
	}
	found := false // by an earlier run
	return retrying(k, func() (bool, error) {
		set, err := k.lockPair(src, dst)
		if err != nil {
			return false, err
		}
		defer k.unlockSet(set)
		ss, sh := k.shardFor(src)
		pos, v, r, pg, ok, exp := ss.find(sh, src, k.clock)
		if !ok {
			if exp {
				ss.reclaimExpired(pos, v)
			}
			if found {
				// An earlier run failed for want of room, and src was
				// evicted since (shed spares it, but not the room the
				// run made in its own shard, nor other writes): it
				// fails so.
				return false, ErrOOM
			}
			return false, ErrNoSuchKey
		}
		found = true
		if string(src) == string(dst) {
			return !nx, nil
		}
		ds, dh := k.shardFor(dst)
		if nx {
			// An expired dst is left for put, which replaces it and counts it
			// expired: reclaiming it here could rebuild the table under src.
			if _, _, _, _, live, _ := ds.find(dh, dst, k.clock); live {
				return false, nil
			}
		}
		// Making room in src's shard for dst (one shard) evicts any key
		// but src, as shed spares it in the others (keepKey): evicting
		// src to make room for its own new name, and then answering OOM
		// because it is gone, lost the key for nothing (a shard holding
		// little but src at an AllKeys bound).
		ss.keep = src
		if pg.large {
			// Pinned: should src still go (a fallback copy's compaction),
			// its buffer must stay for the copy below, which reads it.
			pg.pin()
			moved, err := moveLarge(ss, sh, src, ds, dh, dst, pg)
			if err == nil && !moved {
				err = copyRecord(ss, &r, pg, ds, dh, dst)
			}
			pg.unpin()
			ss.keep = nil
			if err != nil {
				return false, keepKey(err, src)
			}
			if moved {
				return true, nil
			}
		} else {
			err := copyRecord(ss, &r, pg, ds, dh, dst)
			ss.keep = nil
			if err != nil {
				return false, keepKey(err, src)
			}
		}
		// put may have rebuilt the table or moved src's record: find it again.
		t := ss.table.Load()
		if pos, v, _, _, ok := ss.lookup(t, sh, src); ok {
			ss.remove(t, pos, v)
		}
		return true, nil
	})
}

// moveLarge renames src (hash sh, shard ss), whose record is the large
// page pg, to dst (hash dh, shard ds) without copying its value: a new
// page of ds takes over pg's buffer under the key dst, and the buffer's
// bytes move from ss's used bytes and limit to ds's. Only dst's index slot
// may need memory, so RENAME of a large value costs the same at the bound
// as anywhere, as in Redis, where it moves a pointer; a 300 MB value took
// a third of a second to copy, with both shards locked. It reports false,
// having changed nothing the caller cannot redo, when src is no longer
// pg's key (making room for dst's slot evicted it) or ds has no page index
// left; the caller copies then, from pg's buffer, which it must have
// pinned: evicted, src's page may have been dropped. REQUIRES both shards
// locked.
func moveLarge(ss *shard, sh uint64, src []byte, ds *shard, dh uint64, dst []byte, pg *page) (bool, error) {
	t, pos, err := ds.slotFor(dh, dst)
	if err != nil {
		return false, err
	}
	// The new key lives beside the buffer (page.key), counted against
	// the bound as the key a record holds is: up to 64 KiB of it.
	if err := ds.reserve(int64(len(dst)), false); err != nil {
		return false, err
	}
	st := ss.table.Load() // slotFor or reserve may have rebuilt it (ss == ds)
	spos, sv, r, spg, ok := ss.lookup(st, sh, src)
	if !ok || spg != pg {
		return false, nil
	}
	idx, ok := ds.takeIdx()
	if !ok {
		return false, nil
	}
	np := &page{
		buf: pg.buf, idx: idx, large: true, q: pg.q,
		used: pg.used, live: pg.live, ttl: pg.ttl,
		// Never nil, not even for the empty key: a nil key means the
		// one the buffer holds (page.extend).
		key: append(make([]byte, 0, len(dst)), dst...), base: pg.holder(),
	}
	np.grown.Store(pg.grown.Load())
	np.deadline.Store(pg.deadline.Load())
	ds.used.Add(int64(len(dst))) // np.key, until the page is dropped
	pg.gave = true
	if ss != ds {
		c := int64(cap(pg.buf))
		// The budget goes with the bytes under a bound: each shard stays
		// within its limit. lowered, bounded or not, before ds has them,
		// as lendSurplus: a sum of used bytes (sumUsed) that saw c in both
		// shards reads them again.
		bounded := ss.ks.bounded()
		ss.used.Add(-c)
		if bounded {
			ss.limit.Add(-c)
		}
		ss.ks.lowered.Add(1)
		if bounded {
			ds.limit.Add(c)
		}
		ds.used.Add(c)
	}
	ds.setPage(idx, np)
	ds.logAppend(np)
	if r.hasTTL() {
		ds.ttlKeys++
	}
	a := makeAddr(idx, 0)
	tag := dh >> tagShift
	old := t.slots[pos].Load()
	if oa := slotAddr(old); oa != 0 {
		if or, _ := ds.recordAt(oa); or.hasTTL() && or.expiredAt(ds.ks.clock()) {
			ds.dropExpired(t, pos, oa) // as put counts it
			old = t.slots[pos].Load()
		}
	}
	ds.point(t, pos, old, makeSlot(tag, slotFreq(sv), a))
	ss.remove(st, spos, sv) // retires pg, which frees nothing (gave)
	return true, nil
}

// Copy stores src's value and TTL under dst as well, as Redis's COPY, and
// reports whether it did: not when src does not exist, nor when dst exists
// (live) and replace is false. src == dst is ErrSameKey. Looking src up
// counts as a read (a hit or a miss), as in Redis. The copy is a new
// record, counted against the bound: under NoEviction at the bound it
// fails with ErrOOM and dst is unchanged. Writers see it as atomic.
func (k *Keyspace) Copy(src, dst []byte, replace bool) (bool, error) {
	if string(src) == string(dst) {
		return false, ErrSameKey
	}
	if err := k.checkKey(dst); err != nil {
		return false, err
	}
	found := false // by an earlier run
	return retrying(k, func() (bool, error) {
		set, err := k.lockPair(src, dst)
		if err != nil {
			return false, err
		}
		defer k.unlockSet(set)
		ss, sh := k.shardFor(src)
		pos, v, r, pg, ok, exp := ss.find(sh, src, k.clock)
		if !found {
			k.countRead(ok) // once, though the write runs again after shed
		}
		if !ok {
			if exp {
				ss.reclaimExpired(pos, v)
			}
			if found {
				// As in rename: src was evicted since.
				return false, ErrOOM
			}
			return false, nil
		}
		found = true
		ds, dh := k.shardFor(dst)
		if !replace {
			if _, _, _, _, live, _ := ds.find(dh, dst, k.clock); live {
				return false, nil
			}
		}
		err = copyRecord(ss, &r, pg, ds, dh, dst)
		return err == nil, keepKey(err, src)
	})
}

// lockPair locks the shards of src and dst (one, when they share it), for
// the caller to unlock with unlockSet. Feeding them evicts anything but
// src.
func (k *Keyspace) lockPair(src, dst []byte) (shardSet, error) {
	set := k.shardSetFor(func(yield func([]byte)) { yield(src); yield(dst) })
	return set, k.lockSet(set, src)
}

// copyRecord stores the value and deadline of r, a record of shard ss in
// page pg, under dst (hash dh) in shard ds. REQUIRES both shards locked.
func copyRecord(ss *shard, r *record, pg *page, ds *shard, dh uint64, dst []byte) error {
	val := ss.stable(r, pg) // pins a large page
	err := ds.put(dh, dst, val, r.expireAt)
	if pg.large {
		pg.unpin()
	}
	return err
}

// Scan iterates the keyspace like Redis SCAN. Start with cursor 0; a
// returned cursor of 0 means the iteration is complete. Every key present for
// the whole iteration is returned at least once, even while tables grow or
// shrink; keys may be returned more than once. count bounds the keys examined
// per call (default 10); match, when non-nil, is a glob pattern. Keys are
// appended to dst as fresh copies.
func (k *Keyspace) Scan(cursor uint64, match []byte, count int, dst [][]byte) ([][]byte, uint64) {
	if count <= 0 {
		count = 10
	}
	if len(match) == 1 && match[0] == '*' {
		match = nil // as Redis: "*" also matches the empty key
	}
	si := cursor >> tagBits
	prefix := cursor & (1<<tagBits - 1)
	if si >= uint64(len(k.shards)) {
		return dst, 0
	}
	examined := 0
	for si < uint64(len(k.shards)) && examined < count {
		var done bool
		dst, prefix, done = k.scanShard(&k.shards[si], prefix, match, count-examined, &examined, dst)
		if done {
			si++
			prefix = 0
		}
	}
	if si >= uint64(len(k.shards)) {
		return dst, 0
	}
	return dst, si<<tagBits | prefix
}

// scanShard returns keys whose tag is >= prefix, stopping at the first empty
// slot after examining want keys. It returns the prefix to resume from, or
// done when the shard is finished. All keys with a tag in [prefix, next) have
// been seen: a key lies between its home and the next empty slot.
func (k *Keyspace) scanShard(s *shard, prefix uint64, match []byte, want int, examined *int, dst [][]byte) ([][]byte, uint64, bool) {
	rs := k.ep.enter()
	defer rs.exit()
	now := k.clock()
	t := s.table.Load()
	n := 0
	for i := t.home(prefix); i < len(t.slots); i++ {
		v := t.slots[i].Load()
		if v == 0 {
			if n >= want {
				next := t.bucketStart(i + 1)
				*examined += n
				return dst, next, next >= 1<<tagBits
			}
			continue
		}
		a := slotAddr(v)
		if a == 0 || slotTag(v) < prefix {
			continue
		}
		n++
		r, _ := s.recordAt(a)
		if r.expiredAt(now) {
			s.hintExpired(slotTag(v))
			continue
		}
		if match != nil && !matchGlob(match, r.key) {
			continue
		}
		dst = append(dst, append([]byte(nil), r.key...))
	}
	*examined += n
	return dst, 0, true
}

// Keys calls fn with every live key that matches the glob pattern match,
// each once, until fn returns false; key is valid only during the call.
// It holds each shard's lock while it goes through that shard (KEYS is
// O(N), as in Redis, where it holds the whole server): unlike a SCAN
// over a table that grows meanwhile, it meets no key twice, so a caller
// needs no set of the keys seen (which cost KEYS of 10M keys a gigabyte).
func (k *Keyspace) Keys(match []byte, fn func(key []byte) bool) {
	if len(match) == 1 && match[0] == '*' {
		match = nil // as Redis: "*" also matches the empty key
	}
	now := k.clock()
	for i := range k.shards {
		s := &k.shards[i]
		if s.keys.Load() == 0 {
			continue
		}
		if !s.eachLive(now, func(r *record) bool {
			return match != nil && !matchGlob(match, r.key) || fn(r.key)
		}) {
			return
		}
	}
}

// eachLive calls fn with each record of s not expired at now, holding
// s's lock, until fn returns false; it reports false then. The lock is
// let go however fn returns (a panic in it is the server's to recover).
func (s *shard) eachLive(now int64, fn func(r *record) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.table.Load()
	for j := range t.slots {
		a := slotAddr(t.slots[j].Load())
		if a == 0 {
			continue
		}
		r, _ := s.recordAt(a)
		if !r.expiredAt(now) && !fn(&r) {
			return false
		}
	}
	return true
}

// RandomKey appends a random live key to dst.
func (k *Keyspace) RandomKey(dst []byte) ([]byte, bool) {
	n := len(k.shards)
	start := rand.IntN(n)
	now := k.clock()
	for j := 0; j < n; j++ {
		s := &k.shards[(start+j)%n]
		if s.keys.Load() == 0 {
			continue
		}
		rs := k.ep.enter()
		t := s.table.Load()
		m := len(t.slots)
		off := rand.IntN(m)
		for i := 0; i < m; i++ {
			v := t.slots[(off+i)%m].Load()
			a := slotAddr(v)
			if a == 0 {
				continue
			}
			r, _ := s.recordAt(a)
			if r.expiredAt(now) {
				s.hintExpired(slotTag(v))
				continue
			}
			dst = append(dst, r.key...)
			rs.exit()
			return dst, true
		}
		rs.exit()
	}
	return dst, false
}

// Digest returns an order-independent 64-bit hash of the live (key, value,
// has-TTL) entries: the wrapping sum of one xxhash per entry. Two keyspaces
// with the same live contents have the same digest, whatever the order of
// the writes that built them; the deadlines themselves do not count, as a
// replica's clock may differ.
func (k *Keyspace) Digest() uint64 {
	var sum uint64
	now := k.clock()
	d := xxhash.New()
	var hdr [binary.MaxVarintLen64 + 1]byte
	for i := range k.shards {
		k.shards[i].eachLive(now, func(r *record) bool {
			d.Reset()
			n := binary.PutUvarint(hdr[:], uint64(len(r.key)))
			hdr[n] = 0
			if r.hasTTL() {
				hdr[n] = 1
			}
			d.Write(hdr[:n+1])
			d.Write(r.key)
			d.Write(r.val)
			sum += d.Sum64()
			return true
		})
	}
	return sum
}
