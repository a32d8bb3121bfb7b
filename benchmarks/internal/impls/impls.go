// Package impls adapts ringdb and its peers to one small contract so the
// comparison benchmark and the footprint program drive them identically.
//
// Each adapter is a small value type holding one pointer. The benchmark
// instantiates its generic loop per adapter type, so calls go straight to the
// adapter's methods rather than through an interface table, and every store
// pays the same (zero) dispatch cost.
package impls

import (
	"fmt"
	"strings"
)

// Store is the contract every adapter meets.
type Store interface {
	// Get appends the value stored under key to dst and reports whether key
	// was present. It does not retain key. Safe for concurrent use.
	Get(dst, key []byte) ([]byte, bool)
	// Set stores a copy of value under key, overwriting any previous value
	// and never expiring it. key and value may be modified after Set returns.
	// Safe for concurrent use.
	Set(key, value []byte) error
	// Close releases the store. No other call may follow or overlap it.
	Close()
}

// Names lists the stores in the order they are benchmarked and reported.
var Names = []string{"ringdb", "fastcache", "freecache", "otter", "shardedmap"}

// Capacities given to the peers that need one. They are chosen so that
// nothing is evicted in the benchmark: 2^20 records of 80 bytes hold about
// 84 MiB (fastcache) or 104 MiB (freecache) with the stores' headers.
const (
	// FastcacheMaxBytes is large because fastcache is a ring of 64 KiB chunks
	// per bucket that appends every Set: after the Set benchmark wraps the
	// ring, a key survives only if it was rewritten within the last
	// FastcacheMaxBytes of writes. At 2 GiB that is about 25 times the live
	// data, so the chance a key is lost is about e^-25. Chunks are mapped on
	// first use, so an unused capacity costs no memory.
	FastcacheMaxBytes = 2 << 30
	// FreecacheBytes is allocated up front as 256 segment rings on the Go
	// heap (pointer-free; untouched pages are not resident). Same-size
	// overwrites are done in place, so the rings do not wrap.
	FreecacheBytes = 512 << 20
)

// New returns an empty store of the named implementation, configured so that
// nothing is evicted or expires.
func New(name string) (Store, error) {
	switch name {
	case "ringdb":
		return NewRingdb()
	case "fastcache":
		return NewFastcache(), nil
	case "freecache":
		return NewFreecache(), nil
	case "otter":
		return NewOtter()
	case "shardedmap":
		return NewShardedMap(), nil
	}
	return nil, fmt.Errorf("impls: unknown store %q (want one of %s)", name, strings.Join(Names, ", "))
}
