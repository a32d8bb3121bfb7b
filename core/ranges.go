package core

import (
	"math"

	"github.com/ringdb/ringdb/internal/bufpool"
)

// SetRange overwrites key's value from byte offset on with value, as
// Redis's SETRANGE: a value shorter than offset is first padded with zero
// bytes, a missing key counts as an empty value, and the TTL is kept. It
// returns the new length of the value.
//
// An empty value writes nothing: it returns the current length (0 for a
// missing key, which is not created), whatever the offset. Otherwise
// offset+len(value) over Options.MaxValueSize gives a *LimitError
// (ErrValueTooLarge) before anything is allocated, and a negative offset
// gives ErrOffsetRange (checked first, as Redis does). Like every write
// it may fail with ErrOOM under the memory bound; a result too large for
// the bound even in an empty keyspace fails so (a *BoundError) before it
// is built.
//
// A result of the current length whose record allows it (a small value
// rewritten before, see the package README) is stored in place. A large
// value is copied whole into a new buffer even when only a few of its
// bytes change: lock-free readers may be copying the old one.
func (k *Keyspace) SetRange(key []byte, offset int64, value []byte) (int, error) {
	if offset < 0 {
		return 0, ErrOffsetRange
	}
	if err := k.checkKey(key); err != nil {
		return 0, err
	}
	var tooLarge error
	if len(value) > 0 && offset > int64(k.maxVal)-int64(len(value)) {
		size := math.MaxInt
		if offset <= int64(math.MaxInt-len(value)) {
			size = int(offset) + len(value)
		}
		tooLarge = &LimitError{Kind: ErrValueTooLarge, Size: size, Limit: k.maxVal}
	}
	s, h := k.shardFor(key)
	return retrying(k, func() (int, error) {
		lock := k.lock
		if tooLarge != nil {
			lock = k.lockOnly // it writes nothing: no feeding
		}
		if err := lock(s); err != nil {
			return 0, err
		}
		defer s.mu.Unlock()
		pos, v, r, pg, ok, exp := s.find(h, key, k.clock)
		if exp {
			// Before the size check, as Redis looks the key up (and
			// deletes it, expired) first.
			s.reclaimExpired(pos, v)
		}
		if tooLarge != nil {
			return 0, tooLarge
		}
		olen, expireAt := 0, noExpiry
		if ok {
			olen, expireAt = len(r.val), r.expireAt
		}
		if len(value) == 0 {
			return olen, nil
		}
		off := int(offset) // <= maxVal, checked above
		n := max(olen, off+len(value))
		if n <= k.largeMin {
			nv := s.scratch[:0]
			if ok {
				nv = append(nv, r.val...)
			}
			nv = append(nv, make([]byte, n-len(nv))...) // zeros: the padding
			copy(nv[off:], value)
			s.scratch = nv
			if ok && s.tryOverwrite(v, &r, pg, nv, expireAt) {
				return n, nil
			}
			if err := s.put(h, key, nv, expireAt); err != nil {
				return 0, err
			}
			return n, nil
		}
		if err := s.neverFits(int64(n)); err != nil {
			return 0, err
		}
		nv := bufpool.Get(n)[:n]
		if ok {
			copy(nv, r.val)
		}
		clear(nv[olen:]) // a pooled buffer holds old bytes
		copy(nv[off:], value)
		err := s.put(h, key, nv, expireAt)
		bufpool.Put(nv)
		if err != nil {
			return 0, err
		}
		return n, nil
	})
}
