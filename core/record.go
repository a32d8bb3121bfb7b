package core

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// Record layout in an arena page:
//
//	flags    1 byte   recPresent | recTTL | recAligned
//	keyLen   uvarint
//	valLen   uvarint
//	expireAt 8 bytes  little-endian Unix ms, only when recTTL is set
//	key      keyLen bytes
//	value    valLen bytes
//	pad      0-7 zero bytes, only when recAligned is set
//
// In an aligned record the deadline, when there is one, comes after the
// key, right before the value, so that it too sits on an 8-byte boundary:
//
//	flags, keyLen, valLen, key, expireAt (if recTTL), value, pad
//
// A record is written completely before the index slot that points to it is
// stored (atomically), so a reader that loads the slot sees the whole record.
// Apart from the value of an aligned record, a published record never
// changes.
//
// An aligned record (small values, see alignedMax) starts wherever the page
// needs it to for its value to begin on an 8-byte boundary (zero bytes fill
// the gap before it) and pads its value to a multiple of 8. Its value words
// then belong to it alone, so an overwrite with a value of the same length
// and the same deadline can store them in place, one atomic word at a time,
// under the shard's write sequence (see shard.seq): no new record, no
// garbage for compaction, no index update. Lock-free readers copy such a
// value with atomic word loads and retry if the sequence moved. The deadline
// of an aligned record with a TTL is one more such word: an overwrite that
// moves the deadline (SET ... EX, EXPIRE) stores it in place too, and every
// reader loads it atomically.

const (
	recPresent = 1 << 0
	recTTL     = 1 << 1
	recAligned = 1 << 2
)

// alignedMax is the largest value stored in an aligned record. Beyond it,
// word-by-word copies would cost readers more than in-place writes save.
const alignedMax = 512

func roundUp8(n int) int { return (n + 7) &^ 7 }

// noExpiry is the expireAt of a record without a TTL. Stored deadlines are
// always in the future, hence positive, so -1 cannot collide with one (not
// even with math.MaxInt64, which Redis accepts as a deadline).
const noExpiry = int64(-1)

type record struct {
	key, val []byte
	expireAt int64 // noExpiry when the record has no TTL
	size     int   // total encoded size, padding included
	voff     int   // offset of the value from the record's start
	aligned  bool  // recAligned: the value may be overwritten in place
}

func (r *record) hasTTL() bool { return r.expireAt != noExpiry }

// expiredAt reports whether the record is expired at now (Redis: a key
// expires strictly after its deadline).
func (r *record) expiredAt(now int64) bool { return r.expireAt != noExpiry && now > r.expireAt }

func uvarintLen(x int) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// valueOffset is where the value starts in a record.
func valueOffset(klen, vlen int, ttl bool) int {
	n := 1 + uvarintLen(klen) + uvarintLen(vlen) + klen
	if ttl {
		n += 8
	}
	return n
}

func recordSize(klen, vlen int, ttl, aligned bool) int {
	n := valueOffset(klen, vlen, ttl)
	if aligned {
		return n + roundUp8(vlen)
	}
	return n + vlen
}

// encodeRecord writes a record into dst, which must be exactly
// recordSize(len(key), len(val), expireAt != noExpiry, aligned) bytes long.
func encodeRecord(dst []byte, key, val []byte, expireAt int64, aligned bool) {
	flags := byte(recPresent)
	if expireAt != noExpiry {
		flags |= recTTL
	}
	if aligned {
		flags |= recAligned
	}
	dst[0] = flags
	n := 1
	n += binary.PutUvarint(dst[n:], uint64(len(key)))
	n += binary.PutUvarint(dst[n:], uint64(len(val)))
	if expireAt != noExpiry && !aligned {
		binary.LittleEndian.PutUint64(dst[n:], uint64(expireAt))
		n += 8
	}
	n += copy(dst[n:], key)
	if expireAt != noExpiry && aligned {
		binary.LittleEndian.PutUint64(dst[n:], uint64(expireAt))
		n += 8
	}
	n += copy(dst[n:], val)
	clear(dst[n:])
}

// decodeRecord parses the record at the start of b.
func decodeRecord(b []byte) record {
	flags := b[0]
	n := 1
	var klen, vlen int
	if c := b[n]; c < 0x80 {
		klen = int(c)
		n++
	} else {
		x, m := binary.Uvarint(b[n:])
		klen, n = int(x), n+m
	}
	if c := b[n]; c < 0x80 {
		vlen = int(c)
		n++
	} else {
		x, m := binary.Uvarint(b[n:])
		vlen, n = int(x), n+m
	}
	r := record{expireAt: noExpiry}
	if flags&recAligned != 0 {
		r.key = b[n : n+klen : n+klen]
		n += klen
		if flags&recTTL != 0 {
			r.expireAt = loadDeadline(b[n : n+8])
			n += 8
		}
	} else {
		if flags&recTTL != 0 {
			r.expireAt = int64(binary.LittleEndian.Uint64(b[n:]))
			n += 8
		}
		r.key = b[n : n+klen : n+klen]
		n += klen
	}
	r.val = b[n : n+vlen : n+vlen]
	r.voff = n
	r.size = n + vlen
	if flags&recAligned != 0 {
		r.aligned = true
		r.size = n + roundUp8(vlen)
	}
	return r
}

// loadDeadline reads the deadline word of an aligned record, which an
// in-place overwrite may be storing concurrently (see storeDeadline).
func loadDeadline(w []byte) int64 {
	return int64(atomic.LoadUint64((*uint64)(unsafe.Pointer(&w[0]))))
}

// storeDeadline overwrites the deadline word of an aligned record.
// REQUIRES s.mu held and the shard's write sequence odd.
func storeDeadline(w []byte, expireAt int64) {
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&w[0])), uint64(expireAt))
}
