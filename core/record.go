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
//
// A record is written completely before the index slot that points to it is
// stored (atomically), so a reader that loads the slot sees the whole record.
// Apart from the value, deadline and sequence of an aligned record, a
// published record never changes.
//
// A key's first record is compact (byte-aligned, as above). When a key is
// rewritten, its new record is aligned if the value is small (see
// alignedMax). An aligned record starts on an 8-byte
// boundary of its page (zero bytes fill any gap before it) and is laid out
// so that its value can be overwritten in place:
//
//	flags, keyLen, valLen, key   as above
//	pad      zero bytes up to the sequence
//	seq      4 bytes  write sequence, 4-byte aligned
//	expireAt 8 bytes  only when recTTL is set, 8-byte aligned
//	value    valLen bytes, 8-byte aligned
//	pad      zero bytes to the next multiple of 8
//
// Its value words belong to it alone, so a write that keeps the value's
// length (and whether there is a TTL) stores the new value, and the new
// deadline, over the old one atomic word by word (words.go), between two
// increments of the record's seq (a seqlock): no new record, no garbage for
// compaction, no index update. A lock-free reader copies the value with
// atomic loads and keeps the copy only if seq was even and unchanged across
// it, so only a reader that overlaps a write of the same key ever retries;
// readers of other keys never notice. The deadline word is read atomically
// everywhere.

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
	seqOff   int   // offset of the sequence word (aligned records)
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
func valueOffset(klen, vlen int, ttl, aligned bool) int {
	n := 1 + uvarintLen(klen) + uvarintLen(vlen) + klen
	if aligned {
		n += 4 // seq
		if ttl {
			n += 8
		}
		return roundUp8(n)
	}
	if ttl {
		n += 8
	}
	return n
}

// seqOffset is where an aligned record's sequence word is, given the
// offset of its value.
func seqOffset(voff int, ttl bool) int {
	if ttl {
		return voff - 12
	}
	return voff - 4
}

func recordSize(klen, vlen int, ttl, aligned bool) int {
	n := valueOffset(klen, vlen, ttl, aligned)
	if aligned {
		return n + roundUp8(vlen)
	}
	return n + vlen
}

// encodeRecord writes a record into dst, which must be exactly
// recordSize(len(key), len(val), expireAt != noExpiry, aligned) bytes long
// and, for an aligned record, start on an 8-byte boundary.
func encodeRecord(dst []byte, key, val []byte, expireAt int64, aligned bool) {
	flags := byte(recPresent)
	ttl := expireAt != noExpiry
	if ttl {
		flags |= recTTL
	}
	if aligned {
		flags |= recAligned
	}
	dst[0] = flags
	n := 1
	n += binary.PutUvarint(dst[n:], uint64(len(key)))
	n += binary.PutUvarint(dst[n:], uint64(len(val)))
	if ttl && !aligned {
		binary.LittleEndian.PutUint64(dst[n:], uint64(expireAt))
		n += 8
	}
	n += copy(dst[n:], key)
	if aligned {
		voff := valueOffset(len(key), len(val), ttl, true)
		clear(dst[n:voff]) // pad and seq
		if ttl {
			binary.LittleEndian.PutUint64(dst[voff-8:], uint64(expireAt))
		}
		n = voff
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
		ttl := flags&recTTL != 0
		r.key = b[n : n+klen : n+klen]
		n = valueOffset(klen, vlen, ttl, true)
		r.seqOff = seqOffset(n, ttl)
		if ttl {
			r.expireAt = loadDeadline(b[n-8 : n])
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
// Lock-free readers that only need the deadline (TTL, EXISTS) read it
// without the sequence: one atomic word is consistent by itself.
func loadDeadline(w []byte) int64 {
	return int64(atomic.LoadUint64((*uint64)(unsafe.Pointer(&w[0]))))
}

// storeDeadline overwrites the deadline word of an aligned record.
// REQUIRES s.mu held and the record's sequence odd.
func storeDeadline(w []byte, expireAt int64) {
	storeRel64((*uint64)(unsafe.Pointer(&w[0])), uint64(expireAt))
}

// seqBump increments a record's write sequence: odd before an in-place
// write, even after it. A release store (relstore_amd64.go): the lock's
// holder is its only writer. REQUIRES s.mu held.
func seqBump(seq *atomic.Uint32) {
	storeRel32((*uint32)(unsafe.Pointer(seq)), seq.Load()+1)
}

// seqWord returns an aligned record's sequence word; b starts at the word.
func seqWord(b []byte) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&b[0]))
}
