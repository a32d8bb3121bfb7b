//go:build amd64 && !race

package core

import "unsafe"

// Release stores for the writers of words that lock-free readers load
// with sync/atomic, where the writer is the only one storing to the word
// at the time: the shard lock's holder for an aligned record's value,
// deadline and sequence (record.go, words.go), a reader slot's owner for
// its epoch and counters (epoch.go).
//
// sync/atomic's stores are sequentially consistent, which on amd64 means
// XCHG (and Add means LOCK XADD): a locked instruction that drains the
// store buffer first, about 4 ns each on this class of machine
// (BenchmarkStoreWords: an in-place overwrite of a 64-byte value took ten
// of them). These protocols need no more than release stores: what a
// reader must not see early is only ever published by a later store of
// the same writer (a seqlock's even sequence, an epoch slot's 0). On
// amd64 an aligned MOV is atomic, and stores are never reordered with
// each other or with earlier loads (TSO), so each store here is a plain
// MOV, the same instruction the runtime's own release stores compile to
// (internal/runtime/atomic.StoreRel64). Calls to assembly are also
// compiler barriers: no load or store is moved across them.
//
// Race-detector builds and other architectures use sync/atomic
// (relstore_generic.go), so the race detector checks the same protocols
// with sequentially consistent stores.

// storeWordsRel copies n 8-byte words from src to dst, each with a
// release store; dst is 8-byte aligned.
//
//go:noescape
func storeWordsRel(dst, src unsafe.Pointer, n int)

// storeRel64 stores v to the aligned word p with release semantics.
//
//go:noescape
func storeRel64(p *uint64, v uint64)

// storeRel32 stores v to the aligned word p with release semantics.
//
//go:noescape
func storeRel32(p *uint32, v uint32)
