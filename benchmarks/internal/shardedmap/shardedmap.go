// Package shardedmap is the naive baseline of the comparison: a Go map of
// string to []byte behind a read-write mutex, split into 256 shards chosen by
// the xxhash of the key. It is what a service writes when it does not reach
// for a cache library, and it keeps one heap object per value, so the
// garbage collector's work grows with the number of keys.
package shardedmap

import (
	"sync"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// shardCount is fixed at 256 (not derived from GOMAXPROCS) so the baseline
// is the same on every machine; with 2 to 64 cores it keeps lock collisions
// rare.
const shardCount = 256

const cacheLine = 64

type shard struct {
	mu sync.RWMutex
	m  map[string][]byte
	// Pad to a cache line so two cores taking neighbouring locks do not
	// contend on one line.
	_ [cacheLine - (unsafe.Sizeof(sync.RWMutex{})+unsafe.Sizeof(map[string][]byte(nil)))%cacheLine]byte
}

// Map is safe for concurrent use. The zero value is not usable; call New.
type Map struct {
	shards [shardCount]shard
}

// New returns an empty map.
func New() *Map {
	m := new(Map)
	for i := range m.shards {
		m.shards[i].m = make(map[string][]byte)
	}
	return m
}

func (m *Map) shard(key []byte) *shard {
	return &m.shards[xxhash.Sum64(key)%shardCount]
}

// Get appends the value stored under key to dst and reports whether the key
// was present. key is not retained.
func (m *Map) Get(dst, key []byte) ([]byte, bool) {
	s := m.shard(key)
	s.mu.RLock()
	v, ok := s.m[string(key)]
	if ok {
		dst = append(dst, v...)
	}
	s.mu.RUnlock()
	return dst, ok
}

// Set stores a copy of value under key; key and value may be modified after
// Set returns. A value of the same length as the stored one is overwritten
// in place under the shard's write lock, so overwriting costs no allocation;
// readers copy values out under the read lock and never see a torn write.
func (m *Map) Set(key, value []byte) {
	s := m.shard(key)
	s.mu.Lock()
	if old, ok := s.m[string(key)]; ok && len(old) == len(value) {
		copy(old, value)
	} else {
		s.m[string(key)] = append(make([]byte, 0, len(value)), value...)
	}
	s.mu.Unlock()
}

// Len returns the number of keys.
func (m *Map) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
