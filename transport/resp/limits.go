package resp

import "math"

// Default limits, matching Redis's proto-max-bulk-len and the inline limit
// of its query parser.
const (
	// DefaultMaxBulk is the default largest bulk string a request may
	// declare: 512 MiB.
	DefaultMaxBulk = 512 << 20
	// DefaultMaxArray is the default largest element count a multibulk
	// request may declare: 1,048,576.
	DefaultMaxArray = 1 << 20
	// DefaultMaxInline is the default longest inline command line: 64 KiB,
	// counting every byte before the terminating LF.
	DefaultMaxInline = 64 << 10
)

// Limits for a client that has not authenticated to a server that requires
// it (Decoder.Restrict), Redis's since CVE-2021-32675: a stranger cannot make
// the server hold a large request.
const (
	// UnauthMaxArray is the largest element count a restricted decoder
	// accepts.
	UnauthMaxArray = 10
	// UnauthMaxBulk is the largest bulk string length a restricted decoder
	// accepts.
	UnauthMaxBulk = 16384
)

// maxLimit caps configured limits so that parsing a declared length digit by
// digit can never overflow an int64, and a length always fits an int.
const maxLimit = int64(math.MaxInt >> 5)

// Limits bound what a request may declare. A zero or negative field means
// its default. Every declared length is checked against these limits before
// the decoder commits any memory for it.
type Limits struct {
	// MaxBulk is the largest bulk string length ($n) accepted.
	MaxBulk int64
	// MaxArray is the largest element count (*n) accepted.
	MaxArray int64
	// MaxInline is the longest inline command line accepted, in bytes
	// before the terminating LF.
	MaxInline int
}

// withDefaults returns l with zero fields replaced by defaults and every
// field clamped to maxLimit.
func (l Limits) withDefaults() Limits {
	if l.MaxBulk <= 0 {
		l.MaxBulk = DefaultMaxBulk
	}
	if l.MaxArray <= 0 {
		l.MaxArray = DefaultMaxArray
	}
	if l.MaxInline <= 0 {
		l.MaxInline = DefaultMaxInline
	}
	l.MaxBulk = min(l.MaxBulk, maxLimit)
	l.MaxArray = min(l.MaxArray, maxLimit)
	l.MaxInline = int(min(int64(l.MaxInline), maxLimit))
	return l
}
