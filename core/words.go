package core

import (
	"encoding/binary"
	"slices"
	"sync/atomic"
	"unsafe"
)

// The value of an aligned record may be overwritten in place while
// lock-free readers copy it, so both sides access it one atomic 8-byte word
// at a time: the words never tear, the race detector sees no race, and the
// record's write sequence (see record.go) tells a reader whether the words
// it copied all belong to one write. Readers load with sync/atomic (plain
// MOVs on amd64); the writer stores with release stores
// (words_store_*.go). The value starts on an 8-byte boundary and
// its last word is padded with zeros that belong to the same record.

// appendWords appends the first n bytes of the padded value words w
// (len(w) = roundUp8(n), 8-byte aligned) to dst.
func appendWords(dst, w []byte, n int) []byte {
	l := len(dst)
	dst = slices.Grow(dst, len(w))[:l+len(w)]
	out := dst[l:]
	for i := 0; i+8 <= len(w) && i+8 <= len(out); i += 8 {
		x := atomic.LoadUint64((*uint64)(unsafe.Pointer(&w[i])))
		binary.LittleEndian.PutUint64(out[i:], x)
	}
	return dst[:l+n]
}

// appendWordsRange appends bytes [lo, hi) of the padded value words w
// (8-byte aligned) to dst, loading only the words that hold them.
func appendWordsRange(dst, w []byte, lo, hi int) []byte {
	var b [8]byte
	for i := lo &^ 7; i < hi && i+8 <= len(w); i += 8 {
		x := atomic.LoadUint64((*uint64)(unsafe.Pointer(&w[i])))
		binary.LittleEndian.PutUint64(b[:], x)
		dst = append(dst, b[max(lo-i, 0):min(hi-i, 8)]...)
	}
	return dst
}

// storeWords overwrites the padded value words w (8-byte aligned,
// len(w) = roundUp8(len(val))) with val, zero-padding the last word.
// REQUIRES s.mu held and the record's write sequence odd.
func storeWords(w, val []byte) {
	n := min(len(val), len(w)) / 8
	if n > 0 {
		storeWordsRel(unsafe.Pointer(&w[0]), unsafe.Pointer(&val[0]), n)
	}
	if i := n * 8; i < len(val) && i+8 <= len(w) {
		var tail [8]byte
		copy(tail[:], val[i:])
		storeRel64((*uint64)(unsafe.Pointer(&w[i])), binary.LittleEndian.Uint64(tail[:]))
	}
}
