package binproto

import "math"

// Default limits of protocol version 1 (docs/PROTOCOL.md, "Limits").
const (
	// DefaultMaxValue is the default longest BYTES value: 512 MiB.
	DefaultMaxValue = 512 << 20
	// DefaultMaxFrame is the default longest frame body: 513 MiB, so one
	// SET of a maximum-size value with a maximum-size key fits.
	DefaultMaxFrame = DefaultMaxValue + 1<<20
	// DefaultMaxArray is the default largest argument count of a request,
	// element count of an array and pair count of a map: 1,048,576.
	DefaultMaxArray = 1 << 20
)

// UnauthMaxFrame is the longest frame body a restricted decoder accepts
// (Decoder.Restrict): a client that has not authenticated to a server that
// requires it can send a HELLO with its token, and nothing large.
const UnauthMaxFrame = 64 << 10

// Limits bound what a peer may declare. A zero or negative field means its
// default. Each declared length or count is checked before memory is
// committed for it.
type Limits struct {
	// MaxFrame is the longest frame body accepted, in bytes. It is capped
	// at math.MaxUint32, the most the length field can express.
	MaxFrame int64
	// MaxValue is the longest BYTES value or error message accepted.
	MaxValue int64
	// MaxArray is the largest argument count, array element count or map
	// pair count accepted.
	MaxArray int64
}

// withDefaults returns l with zero fields replaced by defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxFrame <= 0 {
		l.MaxFrame = DefaultMaxFrame
	}
	if l.MaxValue <= 0 {
		l.MaxValue = DefaultMaxValue
	}
	if l.MaxArray <= 0 {
		l.MaxArray = DefaultMaxArray
	}
	l.MaxFrame = min(l.MaxFrame, math.MaxUint32, int64(math.MaxInt))
	return l
}
