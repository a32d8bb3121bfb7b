package impls

import "github.com/ringdb/ringdb/benchmarks/internal/shardedmap"

// ShardedMap adapts the naive baseline in package shardedmap.
type ShardedMap struct{ m *shardedmap.Map }

// NewShardedMap returns an empty map.
func NewShardedMap() ShardedMap { return ShardedMap{m: shardedmap.New()} }

// Get implements Store.
func (s ShardedMap) Get(dst, key []byte) ([]byte, bool) { return s.m.Get(dst, key) }

// Set implements Store.
func (s ShardedMap) Set(key, value []byte) error {
	s.m.Set(key, value)
	return nil
}

// Close implements Store.
func (s ShardedMap) Close() {}
