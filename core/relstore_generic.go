//go:build !amd64 || race

package core

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// The release stores of relstore_amd64.go as sync/atomic's sequentially
// consistent ones: on other architectures, and under the race detector,
// which then checks every protocol that uses them.

// storeWordsRel copies n 8-byte words from src to dst, each with an
// atomic store; dst is 8-byte aligned.
func storeWordsRel(dst, src unsafe.Pointer, n int) {
	b := unsafe.Slice((*byte)(src), n*8)
	for i := range n {
		atomic.StoreUint64((*uint64)(unsafe.Add(dst, i*8)), binary.LittleEndian.Uint64(b[i*8:]))
	}
}

// storeRel64 stores v to the aligned word p atomically.
func storeRel64(p *uint64, v uint64) { atomic.StoreUint64(p, v) }

// storeRel32 stores v to the aligned word p atomically.
func storeRel32(p *uint32, v uint32) { atomic.StoreUint32(p, v) }
