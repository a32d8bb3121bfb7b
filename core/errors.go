package core

import (
	"errors"
	"fmt"
)

// Sentinel errors returned by the keyspace. Callers match them with
// errors.Is; the server maps each to a wire error class.
var (
	// ErrKeyTooLarge matches a *LimitError for a key over Options.MaxKeySize.
	ErrKeyTooLarge = errors.New("ringdb: key too large")
	// ErrValueTooLarge matches a *LimitError for a value over Options.MaxValueSize.
	ErrValueTooLarge = errors.New("ringdb: value too large")
	// ErrOOM is returned by a write that needs memory the bound does not allow
	// and the eviction policy cannot free.
	ErrOOM = errors.New("ringdb: out of memory")
	// ErrNotInteger is returned by IncrBy when the stored value is not a
	// decimal int64.
	ErrNotInteger = errors.New("ringdb: value is not an integer or out of range")
	// ErrOverflow is returned by IncrBy when the result would overflow int64.
	ErrOverflow = errors.New("ringdb: increment or decrement would overflow")
	// ErrNotFloat is returned by IncrByFloat when the stored value or the
	// increment is not a number Redis's string2ld accepts.
	ErrNotFloat = errors.New("ringdb: value is not a valid float")
	// ErrNaNOrInf is returned by IncrByFloat when the sum is not finite
	// (an infinite operand included).
	ErrNaNOrInf = errors.New("ringdb: increment would produce NaN or Infinity")
	// ErrOffsetRange is returned by SetRange for a negative offset.
	ErrOffsetRange = errors.New("ringdb: offset is out of range")
	// ErrNoSuchKey is returned by Rename when the source key does not exist.
	ErrNoSuchKey = errors.New("ringdb: no such key")
	// ErrSameKey is returned by Copy when the source and the destination
	// are the same key.
	ErrSameKey = errors.New("ringdb: source and destination are the same key")
	// ErrInvalidExpire is returned for a TTL or deadline that is zero or
	// negative where a positive one is required, or that overflows.
	ErrInvalidExpire = errors.New("ringdb: invalid expire time")
	// ErrSyntax is returned for contradictory options (NX with XX, GT with LT,
	// NX with GT or LT, KEEPTTL with a TTL).
	ErrSyntax = errors.New("ringdb: syntax error")
	// ErrClosed is returned by writes after Close.
	ErrClosed = errors.New("ringdb: keyspace closed")
)

// BoundError is the ErrOOM of a write that no eviction could make room
// for: it needs more bytes than the memory bound leaves for data once the
// index tables, the ghost filters (evicting keys shrinks neither) and the
// reserve eviction works with (a page per shard) are counted. Such a value
// cannot be stored whatever else the keyspace holds, and nothing is
// evicted for it. It matches ErrOOM with errors.Is.
type BoundError struct {
	Need      int64 // bytes the write needed
	Room      int64 // bytes the bound leaves for data
	MaxMemory int64 // the bound
	// Lent is the part of the bound that values the keyspace dropped and
	// readers still hold take (Stats.LentBytes): the write may fit once
	// they let go.
	Lent int64
}

// Error says what the write needed and what the bound leaves.
func (e *BoundError) Error() string {
	if e.Lent > 0 {
		return fmt.Sprintf("%v: %d bytes needed, more than the memory bound leaves for data while readers hold %d bytes of dropped values (%d of %d bytes)", ErrOOM, e.Need, e.Lent, e.Room, e.MaxMemory)
	}
	return fmt.Sprintf("%v: %d bytes needed, more than the memory bound leaves for data (%d of %d bytes)", ErrOOM, e.Need, e.Room, e.MaxMemory)
}

// Is reports whether target is ErrOOM.
func (e *BoundError) Is(target error) bool { return target == ErrOOM }

// Unwrap returns ErrOOM.
func (e *BoundError) Unwrap() error { return ErrOOM }

// LimitError reports a key or value over its configured limit. It matches
// ErrKeyTooLarge or ErrValueTooLarge with errors.Is.
type LimitError struct {
	Kind  error // ErrKeyTooLarge or ErrValueTooLarge
	Size  int   // the size that was offered
	Limit int   // the configured limit
}

// Error says the size offered and the limit.
func (e *LimitError) Error() string {
	return fmt.Sprintf("%v: %d bytes, limit %d", e.Kind, e.Size, e.Limit)
}

// Is reports whether target is the sentinel this error wraps.
func (e *LimitError) Is(target error) bool { return target == e.Kind }

// Unwrap returns the sentinel.
func (e *LimitError) Unwrap() error { return e.Kind }
