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
	large bool  // a heap buffer holding one record; never reused
	q     uint8 // the log it belongs to: qSmall or qMain

	used  int // bytes appended
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
