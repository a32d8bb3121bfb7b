package core

import (
	"math"
	"strconv"

	"github.com/ringdb/ringdb/internal/bufpool"
)

// find returns key's record for a writer, treating an expired record as
// absent (exp reports that case so the caller can reclaim it).
// REQUIRES s.mu held.
func (s *shard) find(h uint64, key []byte, now func() int64) (pos int, v uint64, r record, pg *page, ok, exp bool) {
	t := s.table.Load()
	pos, v, r, pg, ok = s.lookup(t, h, key)
	if ok && r.expireAt != noExpiry && r.expiredAt(now()) {
		return pos, v, r, pg, false, true
	}
	return
}

// reclaimExpired deletes an expired record found by find. REQUIRES s.mu held.
func (s *shard) reclaimExpired(pos int, v uint64) {
	s.remove(s.table.Load(), pos, v)
	s.expired.Add(1)
}

// appendValue appends v to dst, the caller's buffer. A large value that
// does not fit goes into a buffer from the pool shared with the server's
// protocol scratch (internal/bufpool), which the server gives back once
// the reply is written: growing dst on the Go heap for every such read
// made the heap churn (GET of 300 KB values spent a fifth of the server's
// CPU in the collector). dst itself is never handed to the pool: the
// caller may still point into it (MGet's earlier values do). The new
// buffer is at least twice dst's: past bufpool.Max, Get gives exactly
// what is asked, and an MGET of many large values moved to a buffer of
// what it held plus one value for every value, copying all it held each
// time (an MGET of 1000 values of 100 KiB ran the server out of memory).
func appendValue(dst, v []byte) []byte {
	if len(v) <= bigValue || cap(dst)-len(dst) >= len(v) {
		return append(dst, v...)
	}
	nb := bufpool.Get(max(len(dst)+len(v), 2*cap(dst)))
	return append(append(nb, dst...), v...)
}

// lendOrCopy returns the value of r, found in page pg under the shard's
// lock: lent, pinned, with *ref set to unpin it, when it is a large value
// and ref is set; otherwise appended to dst. A lent value stays as it is:
// large values are never changed in place but by APPEND past their end,
// and a page dropped while pinned is freed by the last unpin.
func lendOrCopy(dst []byte, r *record, pg *page, ref *ValueRef) []byte {
	if ref != nil && pg.large {
		pg.pin()
		*ref = ValueRef{pg}
		return r.val[:len(r.val):len(r.val)]
	}
	return appendValue(dst, r.val)
}

// bigValue is the value length above which appendValue takes pooled
// buffers.
const bigValue = 64 << 10

// stable returns r's value in a form that survives alloc: values in normal
// pages are copied into the shard's scratch buffer; a large value's buffer
// is returned as it is, pinned, because making room may evict its key and
// drop the page. The caller calls pg.unpin when stable pinned it (pg.large).
// REQUIRES s.mu held.
func (s *shard) stable(r *record, pg *page) []byte {
	if pg.large {
		pg.pin()
		return r.val
	}
	s.scratch = append(s.scratch[:0], r.val...)
	return s.scratch
}

// rewrite stores key's current value r again with a new deadline. A large
// value keeps its buffer: only the deadline changes, in place. At the
// bound, the new record takes the old one's room (allocReplacing).
// REQUIRES s.mu held.
func (s *shard) rewrite(h uint64, key []byte, r *record, pg *page, expireAt int64) error {
	if pg.large {
		s.setDeadlineInPlace(pg, r, expireAt)
		return nil
	}
	return s.store(h, key, s.stable(r, pg), expireAt, true) // stable pins only large pages
}

// lock takes the lock of s for a write, holding no other shard's lock,
// and fails once the keyspace is closed. A starved shard (budget.go) is
// fed first.
func (k *Keyspace) lock(s *shard) error {
	if s.starved.Load() != 0 {
		k.feed(s, nil)
	}
	return k.lockOnly(s)
}

// lockOnly is lock without feeding: for shed and feed themselves, and
// for commands that allocate nothing (DEL, GETDEL, Inspect):
// feeding for them evicted keys in other shards to move budget to a shard
// that needs none until its next write, which feeds it then.
func (k *Keyspace) lockOnly(s *shard) error {
	s.lock()
	if k.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// Set stores value under key with no TTL, replacing any current value.
func (k *Keyspace) Set(key, value []byte) error {
	if err := k.checkKV(key, value); err != nil {
		return err
	}
	s, h := k.shardFor(key)
	var r retrier
	for {
		if err := k.lock(s); err != nil {
			return err
		}
		err := s.put(h, key, value, noExpiry)
		s.mu.Unlock()
		if err == nil && r.local == nil || !r.again(k, &err) {
			return err
		}
	}
}

// SetOptions are the options of SetOpt, after Redis SET.
type SetOptions struct {
	// TTL is a relative time to live in milliseconds; 0 means none.
	TTL int64
	// ExpireAt is an absolute deadline in Unix milliseconds; 0 means none.
	// A deadline already past stores the key already expired, as Redis
	// 7.0 does: no read returns it, and until it is reclaimed like any
	// expired key (by a read's hint or the active cycle, counted in
	// Stats.Expired) Len counts it.
	ExpireAt int64
	// NX writes only when the key does not exist; XX only when it does.
	NX, XX bool
	// KeepTTL keeps the current TTL of the key.
	KeepTTL bool
	// Get returns the previous value.
	Get bool
}

// SetResult is what SetOpt did.
type SetResult struct {
	// Written is false when NX or XX prevented the write.
	Written bool
	// Prev is dst with the previous value appended (only with Get).
	Prev []byte
	// HadPrev reports whether a previous value existed (only with Get).
	HadPrev bool
	// PrevRef holds a large previous value SetOptRef lent rather than
	// copied: Prev is then that value as it lay in the keyspace, not dst,
	// and PrevRef.Release must be called once it has been used.
	PrevRef ValueRef
}

func (o *SetOptions) validate() error {
	if o.NX && o.XX || o.KeepTTL && (o.TTL != 0 || o.ExpireAt != 0) || o.TTL != 0 && o.ExpireAt != 0 {
		return ErrSyntax
	}
	if o.TTL < 0 || o.ExpireAt < 0 {
		return ErrInvalidExpire
	}
	return nil
}

// deadline converts a relative TTL in ms to an absolute one.
func deadline(now, ttl int64) (int64, error) {
	if ttl > math.MaxInt64-now {
		return 0, ErrInvalidExpire
	}
	return now + ttl, nil
}

// SetOpt is Redis SET with its options.
func (k *Keyspace) SetOpt(dst, key, value []byte, o SetOptions) (SetResult, error) {
	return k.setOpt(dst, key, value, o, false)
}

// SetOptRef is SetOpt for a caller that may borrow a large previous value
// (with Get) rather than copy it, as GetRef lends one: SET ... GET or
// GETSET of a 100 MB value would otherwise copy it under the shard's
// lock, and hold the copy until the reply is written. When
// res.PrevRef.Held(), res.Prev is the value lent.
func (k *Keyspace) SetOptRef(dst, key, value []byte, o SetOptions) (SetResult, error) {
	return k.setOpt(dst, key, value, o, true)
}

func (k *Keyspace) setOpt(dst, key, value []byte, o SetOptions, lend bool) (SetResult, error) {
	if err := o.validate(); err != nil {
		return SetResult{Prev: dst}, err
	}
	if err := k.checkKV(key, value); err != nil {
		return SetResult{Prev: dst}, err
	}
	// The clock costs a vDSO call: read it only when a deadline is given
	// (a plain SET is the common case and needs none).
	var now int64
	expireAt := noExpiry
	var err error
	switch {
	case o.TTL > 0:
		now = k.clock()
		if expireAt, err = deadline(now, o.TTL); err != nil {
			return SetResult{Prev: dst}, err
		}
	case o.ExpireAt > 0:
		now = k.clock()
		expireAt = o.ExpireAt
	}
	s, h := k.shardFor(key)
	counted := false // by an earlier run
	return retrying(k, func() (SetResult, error) {
		res := SetResult{Prev: dst}
		expireAt := expireAt
		if err := k.lock(s); err != nil {
			return res, err
		}
		defer s.mu.Unlock()
		pos, v, r, pg, ok, exp := s.find(h, key, k.clock)
		if o.Get {
			// A read, counted as Redis counts GETSET and SET ... GET,
			// once though the write runs again after shed.
			if !counted {
				k.countRead(ok)
				counted = true
			}
			if ok {
				var ref *ValueRef
				if lend {
					ref = &res.PrevRef
				}
				res.Prev = lendOrCopy(res.Prev, &r, pg, ref)
				res.HadPrev = true
			}
		}
		if exp {
			// Before NX or XX decide: as Redis's lookup for the write,
			// an expired key goes even when nothing is written.
			s.reclaimExpired(pos, v)
		}
		if o.NX && ok || o.XX && !ok {
			return res, nil
		}
		if o.KeepTTL && ok {
			expireAt = r.expireAt
		}
		res.Written = true
		if ok && s.tryOverwrite(v, &r, pg, value, expireAt) {
			return res, nil
		}
		err := s.put(h, key, value, expireAt)
		if err != nil && res.PrevRef.Held() {
			// Not used: the write failed, or runs again after shed
			// (and lends the value again then).
			res.PrevRef.Release()
			res.PrevRef, res.Prev = ValueRef{}, dst
		}
		return res, err
	})
}

// Delete removes key and reports whether it existed.
func (k *Keyspace) Delete(key []byte) bool {
	s, h := k.shardFor(key)
	if k.lockOnly(s) != nil { // it needs no room: no feeding
		return false
	}
	defer s.mu.Unlock()
	pos, v, _, _, ok, exp := s.find(h, key, k.clock)
	switch {
	case exp:
		s.reclaimExpired(pos, v)
	case ok:
		s.remove(s.table.Load(), pos, v)
		s.deletes.Add(1)
	}
	// Give emptied pages back now rather than at the next write.
	s.reclaimRetired(false, false)
	return ok
}

// ParseInt parses a decimal int64 exactly as Redis's string2ll does: an
// optional '-', no '+', no leading zeros, no spaces, at most 20 bytes. It is
// what INCR accepts as a stored number; the server parses integer arguments
// with it too.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 || digits[0] < '1' || digits[0] > '9' {
		return 0, false
	}
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// IncrBy adds delta to the decimal integer stored at key (0 when missing) and
// returns the result. The TTL is kept. A value that is not a decimal int64
// gives ErrNotInteger; a result out of range gives ErrOverflow.
func (k *Keyspace) IncrBy(key []byte, delta int64) (int64, error) {
	if err := k.checkKey(key); err != nil {
		return 0, err
	}
	s, h := k.shardFor(key)
	return retrying(k, func() (int64, error) {
		if err := k.lock(s); err != nil {
			return 0, err
		}
		defer s.mu.Unlock()
		pos, v, r, pg, ok, exp := s.find(h, key, k.clock)
		var cur int64
		expireAt := noExpiry
		if ok {
			var valid bool
			if cur, valid = ParseInt(r.val); !valid {
				return 0, ErrNotInteger
			}
			expireAt = r.expireAt
		}
		if delta > 0 && cur > math.MaxInt64-delta || delta < 0 && cur < math.MinInt64-delta {
			return 0, ErrOverflow
		}
		cur += delta
		if exp {
			s.reclaimExpired(pos, v)
		}
		var num [20]byte
		nv := strconv.AppendInt(num[:0], cur, 10)
		if ok && s.tryOverwrite(v, &r, pg, nv, expireAt) {
			return cur, nil
		}
		return cur, s.put(h, key, nv, expireAt)
	})
}

// Incr is IncrBy(key, 1).
func (k *Keyspace) Incr(key []byte) (int64, error) { return k.IncrBy(key, 1) }

// Decr is IncrBy(key, -1).
func (k *Keyspace) Decr(key []byte) (int64, error) { return k.IncrBy(key, -1) }

// DecrBy is IncrBy(key, -delta); delta = MinInt64 gives ErrOverflow.
func (k *Keyspace) DecrBy(key []byte, delta int64) (int64, error) {
	if delta == math.MinInt64 {
		return 0, ErrOverflow
	}
	return k.IncrBy(key, -delta)
}

// Append appends value to key's value (creating the key when missing),
// keeps the TTL and returns the new length.
func (k *Keyspace) Append(key, value []byte) (int, error) {
	if err := k.checkKV(key, value); err != nil {
		return 0, err
	}
	s, h := k.shardFor(key)
	return retrying(k, func() (int, error) {
		if err := k.lock(s); err != nil {
			return 0, err
		}
		defer s.mu.Unlock()
		pos, v, r, pg, ok, exp := s.find(h, key, k.clock)
		if !ok {
			if exp {
				s.reclaimExpired(pos, v)
			}
			return len(value), s.put(h, key, value, noExpiry)
		}
		n := len(r.val) + len(value)
		if n > k.maxVal {
			return 0, &LimitError{Kind: ErrValueTooLarge, Size: n, Limit: k.maxVal}
		}
		if pg.large && s.appendInPlace(pg, &r, value) {
			return n, nil
		}
		if n <= k.largeMin {
			nv := append(append(s.scratch[:0], r.val...), value...)
			s.scratch = nv
			return n, s.put(h, key, nv, r.expireAt)
		}
		// A large value is copied to a new buffer with room for the appends
		// to come: without it, building a 10 MB value from 1 KB appends
		// copied the whole value every time (50 s against Redis's 0.04 s).
		// The room doubles the value up to 1 MiB, as Redis's strings grow,
		// then is a quarter of it: Redis adds 1 MiB at a time, but its
		// realloc moves a large buffer without copying it (mremap), and a
		// copy per MiB made 256 APPENDs of 1 MiB take 40 s here (2.3 s in
		// Redis), each of the last ones holding its event loop 400 ms.
		nv := bufpool.Get(n)
		nv = append(append(nv, r.val...), value...)
		lp := s.largePool()
		lp.headroom = max(min(n, 1<<20), n/4)
		err := s.put(h, key, nv, r.expireAt)
		lp.headroom = 0
		bufpool.Put(nv)
		return n, err
	})
}

// setDeadlineInPlace gives the record r of large page pg the deadline
// expireAt (noExpiry for none). A sliding TTL on a large value (EXPIRE or
// GETEX EX at every read) used to copy the whole value each time. Readers
// see the old deadline or the new one; one that found the key expired
// checks again (deadlineMoved). REQUIRES s.mu held.
func (s *shard) setDeadlineInPlace(pg *page, r *record, expireAt int64) {
	had, has := r.hasTTL(), expireAt != noExpiry
	pg.deadline.Store(expireAt)
	switch {
	case has && !had:
		s.ttlKeys++
		pg.ttl = pg.live
	case had && !has:
		s.ttlKeys--
		pg.ttl = 0
	}
	s.sets.Add(1)
}

// appendInPlace appends add to the value of r, the record of large page pg,
// in its buffer's spare capacity, and reports whether there was room. The
// new bytes go past every byte a reader may be copying; grown, stored
// after them, makes them part of the value. REQUIRES s.mu held.
func (s *shard) appendInPlace(pg *page, r *record, add []byte) bool {
	end := r.voff + len(r.val)
	if cap(pg.buf)-end < len(add) {
		return false
	}
	copy(pg.buf[end:cap(pg.buf)], add)
	pg.grown.Add(int64(len(add)))
	pg.used += len(add)
	pg.live += len(add)
	if r.hasTTL() {
		pg.ttl += len(add)
	}
	s.sets.Add(1)
	return true
}

// GetDel appends key's value to dst and deletes the key.
func (k *Keyspace) GetDel(dst, key []byte) ([]byte, bool) { return k.getDel(dst, key, nil) }

// GetDelRef is GetDel that lends a large value, as GetRef does, rather
// than copy it (under the shard's lock): the memory of the key deleted
// stays until the ValueRef's Release.
func (k *Keyspace) GetDelRef(dst, key []byte) ([]byte, ValueRef, bool) {
	var ref ValueRef
	v, ok := k.getDel(dst, key, &ref)
	return v, ref, ok
}

// getDel is GetDel, lending a large value when ref is set.
func (k *Keyspace) getDel(dst, key []byte, ref *ValueRef) ([]byte, bool) {
	s, h := k.shardFor(key)
	if k.lockOnly(s) != nil { // it needs no room: no feeding
		return dst, false
	}
	defer s.mu.Unlock()
	pos, v, r, pg, ok, exp := s.find(h, key, k.clock)
	// Counted as a read, as Redis counts GETDEL in keyspace_hits/misses.
	k.countRead(ok)
	switch {
	case exp:
		s.reclaimExpired(pos, v)
	case ok:
		dst = lendOrCopy(dst, &r, pg, ref)
		s.remove(s.table.Load(), pos, v)
		s.deletes.Add(1)
	}
	s.reclaimRetired(false, false) // as Delete: emptied pages go back now
	return dst, ok
}

// GetExOptions are the options of GetEx, after Redis GETEX. The zero value
// is a plain read.
type GetExOptions struct {
	TTL      int64 // relative ms
	ExpireAt int64 // absolute Unix ms
	Persist  bool  // remove the TTL
}

// GetEx appends key's value to dst and then changes its TTL as o says. A
// deadline already past deletes the key.
func (k *Keyspace) GetEx(dst, key []byte, o GetExOptions) ([]byte, bool, error) {
	v, ok, _, err := k.GetExChanged(dst, key, o)
	return v, ok, err
}

// GetExChanged is GetEx that also reports whether it changed the key: gave
// it another deadline, removed its TTL, or deleted it for a deadline
// already past. A deadline equal to the key's, or Persist of a key without
// a TTL, changes nothing.
func (k *Keyspace) GetExChanged(dst, key []byte, o GetExOptions) (val []byte, found, changed bool, err error) {
	return k.getExChanged(dst, key, o, nil)
}

// GetExRef is GetExChanged that lends a large value, as GetRef does,
// rather than copy it (under the shard's lock when the TTL changes). A
// value lent stays as it was read until the ValueRef's Release, whatever
// happens to the key meanwhile.
func (k *Keyspace) GetExRef(dst, key []byte, o GetExOptions) (val []byte, ref ValueRef, found, changed bool, err error) {
	val, found, changed, err = k.getExChanged(dst, key, o, &ref)
	return val, ref, found, changed, err
}

// getExChanged is GetExChanged, lending a large value when ref is set.
func (k *Keyspace) getExChanged(dst, key []byte, o GetExOptions, ref *ValueRef) (val []byte, found, changed bool, err error) {
	set := 0
	for _, b := range []bool{o.TTL != 0, o.ExpireAt != 0, o.Persist} {
		if b {
			set++
		}
	}
	if set == 0 {
		v, ok := k.get(dst, key, ref)
		return v, ok, false, nil
	}
	if set > 1 {
		return dst, false, false, ErrSyntax
	}
	if o.TTL < 0 || o.ExpireAt < 0 {
		// Redis looks the key up first: a missing key is just a miss.
		if !k.Exists(key) {
			return dst, false, false, nil
		}
		return dst, false, false, ErrInvalidExpire
	}
	now := k.clock()
	expireAt := noExpiry
	switch {
	case o.TTL > 0:
		if expireAt, err = deadline(now, o.TTL); err != nil {
			if !k.Exists(key) {
				return dst, false, false, nil // as Redis: a missing key is just a miss
			}
			return dst, false, false, err
		}
	case o.ExpireAt > 0:
		expireAt = o.ExpireAt
	}
	s, h := k.shardFor(key)
	var r retrier
	for count := true; ; count = false {
		val, found, changed, err = k.getEx(s, h, dst, key, now, expireAt, count, ref)
		if err == nil && r.local == nil || !r.again(k, &err) {
			return val, found, changed, err
		}
	}
}

// getEx is GetEx's locked part. With count it counts its read (the first
// run only: the read of a run after shed was counted). It reports whether
// it changed the key.
func (k *Keyspace) getEx(s *shard, h uint64, dst, key []byte, now, expireAt int64, count bool, ref *ValueRef) ([]byte, bool, bool, error) {
	if err := k.lock(s); err != nil {
		return dst, false, false, err
	}
	defer s.mu.Unlock()
	pos, v, r, pg, ok, exp := s.find(h, key, k.clock)
	if count {
		k.countRead(ok)
	}
	if !ok {
		if exp {
			s.reclaimExpired(pos, v)
		}
		return dst, false, false, nil
	}
	val := lendOrCopy(dst, &r, pg, ref)
	switch {
	case expireAt != noExpiry && expireAt <= now:
		s.remove(s.table.Load(), pos, v)
		s.deletes.Add(1)
		s.reclaimRetired(false, false)
		return val, true, true, nil
	case expireAt != r.expireAt:
		if err := s.rewrite(h, key, &r, pg, expireAt); err != nil {
			if ref != nil && ref.Held() {
				// Nothing is lent on failure: a retry lends anew.
				ref.Release()
				*ref = ValueRef{}
				return dst, true, false, err
			}
			return val, true, false, err
		}
		return val, true, true, nil
	}
	return val, true, false, nil
}

// ExpireCond is the condition of an expire command (Redis 7 NX/XX/GT/LT).
type ExpireCond uint8

const (
	// ExpireAlways sets the TTL unconditionally.
	ExpireAlways ExpireCond = iota
	// ExpireNX sets it only when the key has no TTL.
	ExpireNX
	// ExpireXX sets it only when the key has a TTL.
	ExpireXX
	// ExpireGT sets it only when it is later than the current one (no TTL
	// counts as infinite, so GT never applies to a key without one).
	ExpireGT
	// ExpireLT sets it only when it is earlier than the current one (no TTL
	// counts as infinite, so LT always applies to a key without one).
	ExpireLT
)

// Expire sets key's TTL in seconds.
func (k *Keyspace) Expire(key []byte, seconds int64, c ExpireCond) (bool, error) {
	if seconds > math.MaxInt64/1000 || seconds < math.MinInt64/1000 {
		return false, ErrInvalidExpire
	}
	return k.PExpire(key, seconds*1000, c)
}

// PExpire sets key's TTL in milliseconds. A TTL <= 0 deletes the key.
func (k *Keyspace) PExpire(key []byte, ms int64, c ExpireCond) (bool, error) {
	now := k.clock()
	if ms > 0 && ms > math.MaxInt64-now {
		return false, ErrInvalidExpire
	}
	return k.PExpireAt(key, now+ms, c)
}

// ExpireAt sets key's deadline in Unix seconds.
func (k *Keyspace) ExpireAt(key []byte, unixSec int64, c ExpireCond) (bool, error) {
	if unixSec > math.MaxInt64/1000 || unixSec < math.MinInt64/1000 {
		return false, ErrInvalidExpire
	}
	return k.PExpireAt(key, unixSec*1000, c)
}

// PExpireAt sets key's deadline in Unix milliseconds. The condition is
// checked first; a deadline not in the future then deletes the key. It
// reports whether the TTL was set (or the key deleted).
func (k *Keyspace) PExpireAt(key []byte, unixMs int64, c ExpireCond) (bool, error) {
	if c > ExpireLT {
		return false, ErrSyntax
	}
	s, h := k.shardFor(key)
	return retrying(k, func() (bool, error) {
		if err := k.lock(s); err != nil {
			return false, err
		}
		defer s.mu.Unlock()
		pos, v, r, pg, ok, exp := s.find(h, key, k.clock)
		if !ok {
			if exp {
				s.reclaimExpired(pos, v)
			}
			return false, nil
		}
		cur := r.expireAt // noExpiry stands for an infinite TTL
		switch c {
		case ExpireNX:
			ok = cur == noExpiry
		case ExpireXX:
			ok = cur != noExpiry
		case ExpireGT:
			ok = cur != noExpiry && unixMs > cur
		case ExpireLT:
			ok = cur == noExpiry || unixMs < cur
		}
		if !ok {
			return false, nil
		}
		if unixMs <= k.clock() {
			s.remove(s.table.Load(), pos, v)
			s.deletes.Add(1)
			s.reclaimRetired(false, false)
			return true, nil
		}
		return true, s.rewrite(h, key, &r, pg, unixMs)
	})
}

// Persist removes key's TTL and reports whether it had one. Removing it
// rewrites the record; at the memory bound the new record takes the old
// one's room, as Expire's and GetEx's do, so it fails with ErrOOM (the TTL
// then stays) only when even that room is not there.
func (k *Keyspace) Persist(key []byte) (bool, error) {
	s, h := k.shardFor(key)
	return retrying(k, func() (bool, error) {
		if err := k.lock(s); err != nil {
			return false, err
		}
		defer s.mu.Unlock()
		pos, v, r, pg, ok, exp := s.find(h, key, k.clock)
		if exp {
			s.reclaimExpired(pos, v)
		}
		if !ok || !r.hasTTL() {
			return false, nil
		}
		if err := s.rewrite(h, key, &r, pg, noExpiry); err != nil {
			return false, err
		}
		return true, nil
	})
}
