package core

import "encoding/binary"

// Record layout in an arena page (byte-aligned, immutable once published):
//
//	flags    1 byte   recPresent | recTTL
//	keyLen   uvarint
//	valLen   uvarint
//	expireAt 8 bytes  little-endian Unix ms, only when recTTL is set
//	key      keyLen bytes
//	value    valLen bytes
//
// A record is written completely before the index slot that points to it is
// stored (atomically), so a reader that loads the slot sees the whole record.

const (
	recPresent = 1 << 0
	recTTL     = 1 << 1
)

// noExpiry is the expireAt of a record without a TTL. Stored deadlines are
// always in the future, hence positive, so -1 cannot collide with one (not
// even with math.MaxInt64, which Redis accepts as a deadline).
const noExpiry = int64(-1)

type record struct {
	key, val []byte
	expireAt int64 // noExpiry when the record has no TTL
	size     int   // total encoded size
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

func recordSize(klen, vlen int, ttl bool) int {
	n := 1 + uvarintLen(klen) + uvarintLen(vlen) + klen + vlen
	if ttl {
		n += 8
	}
	return n
}

// encodeRecord writes a record into dst, which must be exactly
// recordSize(len(key), len(val), expireAt != noExpiry) bytes long.
func encodeRecord(dst []byte, key, val []byte, expireAt int64) {
	flags := byte(recPresent)
	if expireAt != noExpiry {
		flags |= recTTL
	}
	dst[0] = flags
	n := 1
	n += binary.PutUvarint(dst[n:], uint64(len(key)))
	n += binary.PutUvarint(dst[n:], uint64(len(val)))
	if expireAt != noExpiry {
		binary.LittleEndian.PutUint64(dst[n:], uint64(expireAt))
		n += 8
	}
	n += copy(dst[n:], key)
	copy(dst[n:], val)
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
	if flags&recTTL != 0 {
		r.expireAt = int64(binary.LittleEndian.Uint64(b[n:]))
		n += 8
	}
	r.key = b[n : n+klen : n+klen]
	n += klen
	r.val = b[n : n+vlen : n+vlen]
	r.size = n + vlen
	return r
}
