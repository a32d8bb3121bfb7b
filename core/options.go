package core

import (
	"fmt"
	"math/bits"
	"runtime"
	"time"
)

// Default limits. Both are configurable through Options.
const (
	// DefaultMaxKeySize is the largest key accepted by default (64 KiB).
	DefaultMaxKeySize = 64 << 10
	// DefaultMaxValueSize is the largest value accepted by default (512 MiB).
	DefaultMaxValueSize = 512 << 20

	defaultPageSize = 128 << 10
	minPageSize     = 4 << 10
	maxPageSize     = 1 << pageOffBits // offsets must fit the slot's offset field
)

// EvictionPolicy selects what a write does when the memory bound is reached.
type EvictionPolicy uint8

const (
	// NoEviction fails writes that need memory with ErrOOM; reads and
	// deletes keep working.
	NoEviction EvictionPolicy = iota
	// AllKeys evicts any key, coldest first, by a CLOCK over the arena log
	// with a small frequency counter per key (scan resistant).
	AllKeys
	// Volatile evicts only keys that have a TTL, by the same CLOCK.
	Volatile
)

// String returns the policy's configuration name.
func (p EvictionPolicy) String() string {
	switch p {
	case NoEviction:
		return "noeviction"
	case AllKeys:
		return "allkeys"
	case Volatile:
		return "volatile"
	}
	return fmt.Sprintf("EvictionPolicy(%d)", uint8(p))
}

// ParseEvictionPolicy parses "noeviction", "allkeys" or "volatile".
func ParseEvictionPolicy(s string) (EvictionPolicy, error) {
	switch s {
	case "noeviction":
		return NoEviction, nil
	case "allkeys":
		return AllKeys, nil
	case "volatile":
		return Volatile, nil
	}
	return 0, fmt.Errorf("ringdb: unknown eviction policy %q (want noeviction, allkeys or volatile)", s)
}

// Options configures a Keyspace. The zero value is a usable unbounded
// keyspace with default limits.
type Options struct {
	// MaxMemory bounds everything the keyspace holds: arena pages, the
	// index and large values. 0 means unbounded.
	MaxMemory int64
	// Eviction is the policy applied when MaxMemory is reached.
	Eviction EvictionPolicy
	// MaxKeySize is the largest key accepted; 0 means DefaultMaxKeySize.
	MaxKeySize int
	// MaxValueSize is the largest value accepted; 0 means DefaultMaxValueSize.
	MaxValueSize int
	// Shards overrides the shard count (rounded up to a power of two);
	// 0 derives it from GOMAXPROCS.
	Shards int
	// PageSize overrides the arena page size (rounded to a power of two
	// between 4 KiB and 1 MiB); 0 picks one from the per-shard budget.
	PageSize int
	// Clock returns the current time in Unix milliseconds. nil means
	// time.Now. Tests inject a fake clock.
	Clock func() int64
	// NoActiveExpiry disables the background goroutine that reclaims
	// expired keys nobody reads again. ActiveExpireCycle can still be
	// called directly. The same cycle gives the memory bound's budget a
	// shard does not use back to the others (budget.go): without it, that
	// happens only when a write in another shard needs the budget, and
	// budget held for a large write that did not use it all stays with
	// its shard until a cycle runs.
	NoActiveExpiry bool
}

func wallClockMillis() int64 { return time.Now().UnixMilli() }

// shardCount derives the number of shards.
//
// Writers lock one shard, readers take no lock at all, so the count only has
// to keep writers on different cores from meeting on the same mutex. With P
// cores writing uniformly random keys, two writers collide with probability
// about P/N; 8 shards per core keeps that near 1/8 per pair while the fixed
// per-shard costs (a tail page, an index, a mutex) stay small. It is a power
// of two so the shard is the low bits of the key's hash.
func shardCount(o Options) int {
	n := o.Shards
	if n <= 0 {
		n = runtime.GOMAXPROCS(0) * 8
		if n < 8 {
			n = 8
		}
		if n > 1024 {
			n = 1024
		}
		// A small memory bound split over many shards leaves each too few
		// pages to evict from: keep at least 64 KiB per shard.
		if o.MaxMemory > 0 {
			for n > 1 && o.MaxMemory/int64(n) < 64<<10 {
				n /= 2
			}
		}
	}
	return 1 << bits.Len(uint(n-1))
}

// pageSizeFor picks the arena page size: the default, shrunk so that each
// shard's budget holds at least 16 pages (eviction works a page at a time).
func pageSizeFor(o Options, shards int) int {
	ps := o.PageSize
	if ps <= 0 {
		ps = defaultPageSize
		if o.MaxMemory > 0 {
			for ps > minPageSize && o.MaxMemory/int64(shards) < int64(ps)*16 {
				ps /= 2
			}
		}
	}
	if ps < minPageSize {
		ps = minPageSize
	}
	if ps > maxPageSize {
		ps = maxPageSize
	}
	return 1 << (bits.Len(uint(ps)) - 1)
}
