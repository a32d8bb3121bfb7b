package core

// Lazy expiry. Redis deletes an expired key as soon as a command touches
// it, so DBSIZE, INFO's expired_keys and used memory move at once. ringdb's
// reads take no lock and cannot delete, so a reader that finds a key expired
// leaves a hint instead: the key's tag in a small per-shard array. Whoever
// next holds the shard lock for housekeeping (Len, Stats, Expires, the active
// expiry cycle) drains the hints and deletes the expired keys they name.
//
// Hints are advisory. The array is bounded and a reader never waits: when it
// is full, the key stays until the active cycle samples it. A hint names
// only a tag, so a drain deletes every expired key with that tag in the
// tag's probe run; any expired key may be deleted at any time, so that is
// never wrong.

// hintCap is how many hints a shard holds between drains.
const hintCap = 16

// hintExpired records that a reader found the key with tag expired. Called
// inside an epoch, without the lock; it never blocks.
//
// A reader publishes its hint by CAS into a free slot, then raises the
// shard's flag; a drain lowers the flag, then empties the slots. So a hint
// stored after the drain passed its slot leaves the flag raised for the next
// drain: none is lost unless all slots are taken.
func (s *shard) hintExpired(tag uint64) {
	h := uint32(tag) + 1 // 0 marks a free slot
	for i := range s.hints {
		v := s.hints[i].Load()
		if v == h {
			break // another reader hinted this tag already
		}
		if v == 0 && s.hints[i].CompareAndSwap(0, h) {
			break
		}
	}
	// Raised even when every slot was taken: a drain is due anyway.
	if s.hintFlag.Load() == 0 {
		s.hintFlag.Store(1)
	}
}

// hinted reports whether readers have left hints since the last drain.
func (s *shard) hinted() bool { return s.hintFlag.Load() != 0 }

// drainHints deletes the expired keys named by the shard's hints and
// returns how many it deleted. now is a clock reading taken before the
// caller locked the shard; the clock is read again once the hints are
// taken, so that every reader that left one saw an earlier time (else a
// key that expired after now would keep being counted with its hint used
// up). REQUIRES s.mu held.
func (s *shard) drainHints(now int64) int {
	if !s.hinted() {
		return 0
	}
	s.hintFlag.Store(0) // before the slots: see hintExpired
	var tags [hintCap]uint32
	n := 0
	for i := range s.hints {
		if h := s.hints[i].Swap(0); h != 0 {
			tags[n] = h - 1
			n++
		}
	}
	if n == 0 {
		return 0
	}
	now = max(now, s.ks.clock())
	expired := 0
	t := s.table.Load()
	for _, tag32 := range tags[:n] {
		tag := uint64(tag32)
		for j := t.home(tag); j < len(t.slots); j++ {
			v := t.slots[j].Load()
			if v == 0 {
				break
			}
			a := slotAddr(v)
			if a == 0 || slotTag(v) != tag {
				continue
			}
			if r, _ := s.recordAt(a); r.expiredAt(now) {
				s.dropExpired(t, j, a)
				expired++
			}
		}
	}
	if expired > 0 {
		s.maybeShrink()
		s.reclaimRetired(false, false)
	}
	return expired
}

// drainAllHints drains every shard that has hints, taking each one's lock
// in turn. Len, Stats and Expires call it so that a key a read found expired
// is no longer counted, as in Redis.
func (k *Keyspace) drainAllHints() {
	for i := range k.shards {
		s := &k.shards[i]
		if !s.hinted() {
			continue
		}
		s.mu.Lock()
		if !k.closed {
			s.drainHints(0) // it reads the clock itself
		}
		s.mu.Unlock()
	}
}
