package core

import "sync/atomic"

// The index is a pointer-free open-addressed table of 64-bit slots, one per
// shard. A slot packs:
//
//	bits 63..42  the top 22 bits of the key's xxhash (the tag)
//	bits 41..40  a 2-bit access frequency for CLOCK eviction
//	bits 39..0   the record address: page index (20 bits) and offset (20 bits)
//
// 0 is an empty slot; slotTomb marks a deleted one. A key's home slot is
// tag*size>>22, which is monotone in the tag: keys sit in tag order apart from
// linear-probing displacement, which is what lets Scan keep a cursor across
// table growth. Probing never wraps: the slot array has pad slots past size,
// and an insert that would run off the end rebuilds the table with twice
// the pad (keys crowding the top of the tag space cost pad slots, not a
// doubled table).
//
// Readers load the table pointer and slots atomically and never lock. Writers
// (holding the shard mutex) store slots atomically and replace the whole
// table, built aside, when it must grow, shrink or shed tombstones.

const (
	tagBits     = 22
	tagShift    = 64 - tagBits
	freqShift   = 40
	freqMask    = 3 << freqShift
	freqOne     = 1 << freqShift
	addrMask    = 1<<40 - 1
	pageOffBits = 20
	pageOffMask = 1<<pageOffBits - 1
	maxPages    = 1 << 20 // page index field width

	slotTomb = uint64(freqOne) // tag 0, freq 1, address 0

	minTableSize = 16
)

func slotTag(v uint64) uint64  { return v >> tagShift }
func slotAddr(v uint64) uint64 { return v & addrMask }
func slotFreq(v uint64) uint64 { return (v & freqMask) >> freqShift }
func makeSlot(tag, freq, addr uint64) uint64 {
	return tag<<tagShift | freq<<freqShift | addr
}
func makeAddr(page, off int) uint64 { return uint64(page)<<pageOffBits | uint64(off) }
func addrPage(a uint64) int         { return int(a >> pageOffBits) }
func addrOff(a uint64) int          { return int(a & pageOffMask) }

type table struct {
	slots []atomic.Uint64 // size + pad entries
	size  uint64          // number of home positions
	mem   []byte          // arena memory behind slots, or nil (heap)
	stamp uint64          // retire epoch, once replaced
}

func newTable(size uint64) *table {
	if size < minTableSize {
		size = minTableSize
	}
	return newTablePad(size, defaultPad(size))
}

// defaultPad is the number of slots past the last home position of a table
// of size homes: room for the linear probes of the last homes.
func defaultPad(size uint64) uint64 { return max(size/128, 32) }

// newTablePad returns a table of size homes and pad slots past them.
func newTablePad(size, pad uint64) *table {
	slots, mem := allocSlots(int(size + pad))
	return &table{slots: slots, size: size, mem: mem}
}

// pad returns the number of slots past the last home position.
func (t *table) pad() uint64 { return uint64(len(t.slots)) - t.size }

func (t *table) home(tag uint64) int { return int((tag * t.size) >> tagBits) }

// bucketStart returns the smallest tag whose home is >= pos.
func (t *table) bucketStart(pos int) uint64 {
	return (uint64(pos)<<tagBits + t.size - 1) / t.size
}

func (t *table) bytes() int64 { return int64(len(t.slots)) * 8 }

// tableSizeFor returns the table size for n live keys: a load of 0.6 after a
// rebuild; the writer rebuilds when live+tombstones pass 0.75.
func tableSizeFor(n int) uint64 {
	s := uint64(n) * 5 / 3
	if s < minTableSize {
		s = minTableSize
	}
	return s
}
