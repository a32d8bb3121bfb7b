package core

// Touch reports how many of keys exist, a repeated key counting each time,
// and marks each live one as read for eviction, as Get does (its access
// frequency goes up, so S3-FIFO keeps it longer), without copying its
// value: Redis's TOUCH. Each lookup counts as a hit or a miss. It takes no
// lock.
func (k *Keyspace) Touch(keys ...[]byte) int {
	n := 0
	for _, key := range keys {
		if _, ok := k.peek(key, true, true); ok {
			n++
		}
	}
	return n
}

// MaxFreq is the highest access frequency a key can have (KeyInfo.Freq).
const MaxFreq = 3

// KeyInfo describes how a key is stored: what Redis's OBJECT and MEMORY
// USAGE report.
type KeyInfo struct {
	// ValueLen is the length of the value in bytes.
	ValueLen int
	// IsInt reports that the value is a decimal int64 as ParseInt reads it
	// (what INCR accepts); Int is that integer.
	IsInt bool
	Int   int64
	// Freq is the key's access frequency for eviction, 0 to MaxFreq: each
	// read (Get, Touch) raises it by one, and eviction's CLOCK lowers it
	// by one each time it passes over the key and keeps it. It is not a
	// time: the keyspace records no access times.
	Freq int
	// Large reports a value kept in a buffer of its own (records over a
	// quarter of an arena page).
	Large bool
	// Bytes is the memory the key takes: its record, padding included (for
	// a large value, its whole buffer, spare room for APPEND included),
	// plus its share of its shard's index and ghost filter (their bytes
	// divided by the shard's keys). Stats.UsedBytes counts the same
	// memory, with free and retired pages besides.
	Bytes int64
	// ExpireAt is the deadline in Unix milliseconds, -1 when there is none.
	ExpireAt int64
}

// Inspect reports how key is stored, or false when it does not exist (an
// expired key it finds is reclaimed). With countRead the lookup counts as
// a hit or a miss (Redis counts OBJECT's, not MEMORY USAGE's). It changes
// no access frequency. It takes the key's shard lock: it reads the value,
// which a writer may be overwriting in place.
func (k *Keyspace) Inspect(key []byte, countRead bool) (KeyInfo, bool) {
	s, h := k.shardFor(key)
	if k.lockOnly(s) != nil { // it needs no room: no feeding
		return KeyInfo{}, false
	}
	defer s.mu.Unlock()
	pos, v, r, pg, ok, exp := s.find(h, key, k.clock)
	if countRead {
		k.countRead(ok)
	}
	if !ok {
		if exp {
			s.reclaimExpired(pos, v)
		}
		return KeyInfo{}, false
	}
	info := KeyInfo{
		ValueLen: len(r.val),
		Freq:     int(slotFreq(v)),
		Large:    pg.large,
		ExpireAt: r.expireAt,
	}
	info.Int, info.IsInt = ParseInt(r.val)
	rec := int64(r.size)
	if pg.large {
		rec = int64(cap(pg.buf)) + int64(len(pg.key)) // a renamed value's key lives apart
	}
	index := s.table.Load().bytes() + int64(len(s.ghost))*4
	info.Bytes = rec + index/int64(max(s.live, 1))
	return info, true
}

// UsedBytes returns the memory counted against the bound, as
// Stats.UsedBytes, without Stats's other work: a sum of one atomic counter
// per shard.
func (k *Keyspace) UsedBytes() int64 { return k.sumUsed(nil) }

// sumUsedTries bounds how often sumUsed reads the shards again.
const sumUsedTries = 8

// sumUsed sums the shards' used bytes, each read at a different moment.
// Budget that moves between those moments can make the sum exceed the
// bound though no moment's total did: a shard read before it freed
// memory and gave up the budget, and the shard that took it read after
// it grew. Each shard stays within its limit and the limits within the
// bound, so a sum during which no limit went down (Keyspace.lowered, bumped
// before lowered budget can reach another shard) is within the bound; a
// sum that saw one reads the shards again, up to sumUsedTries times.
// after, when not nil, runs after each shard is read (tests).
func (k *Keyspace) sumUsed(after func(shard int)) int64 {
	var n int64
	for try := 0; try < sumUsedTries; try++ {
		v := k.lowered.Load()
		n = 0
		for i := range k.shards {
			n += k.shards[i].used.Load()
			if after != nil {
				after(i)
			}
		}
		if k.lowered.Load() == v {
			break
		}
	}
	return n
}
