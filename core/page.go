package core

import "sync/atomic"

// page is one arena page of a shard's log, or a large value's own buffer.
//
// buf is immutable for readers while the page is reachable from the index;
// the shard writer appends to it (REQUIRES s.mu held) only past every
// published record. All other fields are writer-only state.
type page struct {
	buf   []byte
	idx   int   // index in the shard's page table (part of record addresses)
	large bool  // a buffer of its own holding one record; never reused
	q     uint8 // the log it belongs to: qSmall or qMain
	// gave: RENAME handed this large page's buffer on to another page
	// (moveLarge), whose drop frees it; dropping this one frees nothing.
	gave bool

	// key, when not nil, is the key of a large page's record in place of
	// the one its buffer holds: RENAME moves a large value by giving its
	// buffer a new page under the new key, without copying it. base is
	// then the page whose refs count the readers of that buffer (the page
	// the buffer was allocated for). Both are set before the page is
	// published and never change.
	key  []byte
	base *page

	// refs counts the readers copying a large page's value outside their
	// epoch section, plus largeDropped once the shard has let the page go:
	// whoever brings it to exactly largeDropped frees the buffer.
	refs atomic.Int64
	// owner is the shard that dropped this large page while a reader
	// still held it (dropPage): its used bytes count the buffer until
	// the last reader frees it. Written before release, read after the
	// unpin that observes it.
	owner *shard
	// grown counts the bytes APPEND has added in place to a large page's
	// value, past the length its record header states (appendInPlace).
	// Readers load it once per decode: bytes up to it were written before
	// it was stored.
	grown atomic.Int64
	// deadline, when not 0, is a large record's expireAt (noExpiry after
	// PERSIST), set in place by EXPIRE and its kin over what the record
	// header says (setDeadlineInPlace).
	deadline atomic.Int64

	used  int // bytes appended
	pad   int // of those, zero bytes before aligned records (never live)
	scan  int // job progress: offset of the next record to process
	live  int // bytes of records the index still points to
	ttl   int // bytes of those records that have a TTL (Volatile's victims)
	stamp uint64

	prev, next *page // its log, oldest first
	inLog      bool
}

// pageTable maps page indices to pages. Entries are atomic because readers
// resolve addresses without the shard lock; the slice itself is replaced
// (copy-on-grow) under the lock.
type pageTable struct {
	p []atomic.Pointer[page]
}

// largeDropped is the bit of page.refs the shard sets when it drops a large
// page; readers never count that high.
const largeDropped = 1 << 62

// holder returns the page whose refs guard a large page's buffer: the
// page itself, or for one RENAME made, the page the buffer was made for.
func (p *page) holder() *page {
	if p.base != nil {
		return p.base
	}
	return p
}

// pin keeps a large page's buffer mapped after the caller leaves its epoch
// section. Call it inside the section that found the page; unpin when done.
func (p *page) pin() { p.holder().refs.Add(1) }

// unpin ends a pin, freeing the buffer if the shard dropped the page
// meanwhile, and taking it out of the shard's used bytes then.
func (p *page) unpin() {
	h := p.holder()
	if h.refs.Add(-1) == largeDropped {
		if s := h.owner; s != nil {
			c := int64(cap(h.buf))
			s.addLent(-c)
			s.used.Add(-c)
		}
		freeLarge(h.buf)
	}
}

// release is the shard letting a large page go. It reports whether the
// buffer is the shard's again (no reader holds it); otherwise its last
// reader frees it. The epoch protocol has already made sure that no reader
// can find the page any more. Only the page that holds the buffer last
// (not one that gave it on) releases it.
func (p *page) release() bool {
	return p.holder().refs.Add(largeDropped) == largeDropped
}

// extend applies to r, decoded from large page p, what has changed in
// place since the record was written: the bytes APPEND added, the
// deadline EXPIRE, PERSIST or GETEX set, and the key RENAME gave it.
func (p *page) extend(r *record) {
	if p.key != nil {
		r.key = p.key
	}
	if g := int(p.grown.Load()); g > 0 {
		end := r.voff + len(r.val) + g
		r.val = p.buf[r.voff:end:end]
		r.size += g
	}
	if d := p.deadline.Load(); d != 0 {
		r.expireAt = d
	}
}

// record decodes the record at off in p, with a large value's in-place
// appends.
func (p *page) record(off int) record {
	r := decodeRecord(p.buf[off:])
	if p.large {
		p.extend(&r)
	}
	return r
}
