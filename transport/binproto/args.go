package binproto

import (
	"encoding/binary"
	"slices"
)

// ParseArgs splits a request body (a u32 argument count, then that many
// NULL, BYTES or INT values) into its arguments, appending them to dst[:0]
// and returning the result. Pass the previous result back in as dst to reuse
// its backing array.
//
// The count is checked against lim.MaxArray and against the body length, and
// every BYTES length against lim.MaxValue and the bytes left, before dst
// grows. The Bytes of each argument point into body. Errors are *Error
// values (ErrTooManyArgs, ErrValueTooLarge, ErrTruncated, ErrBadTag,
// ErrArgKind, ErrTrailing); they concern this frame only, so a server
// replies with the error and keeps the connection.
func ParseArgs(dst []Value, body []byte, lim Limits) ([]Value, error) {
	lim = lim.withDefaults()
	dst = dst[:0]
	if len(body) < 4 {
		return dst, ErrTruncated
	}
	argc := int64(binary.BigEndian.Uint32(body))
	b := body[4:]
	if argc > lim.MaxArray {
		return dst, ErrTooManyArgs
	}
	if argc > int64(len(b)) { // every value takes at least one byte
		return dst, ErrTruncated
	}
	dst = slices.Grow(dst, int(argc))
	for range argc {
		if len(b) == 0 {
			return dst, ErrTruncated
		}
		switch Kind(b[0]) {
		case KindNull:
			dst = append(dst, Value{Kind: KindNull})
			b = b[1:]
		case KindInt:
			if len(b) < 9 {
				return dst, ErrTruncated
			}
			dst = append(dst, Value{Kind: KindInt, Int: int64(binary.BigEndian.Uint64(b[1:]))})
			b = b[9:]
		case KindBytes:
			if len(b) < 5 {
				return dst, ErrTruncated
			}
			n := int64(binary.BigEndian.Uint32(b[1:]))
			if n > lim.MaxValue {
				return dst, ErrValueTooLarge
			}
			if n > int64(len(b)-5) {
				return dst, ErrTruncated
			}
			end := 5 + int(n)
			dst = append(dst, Value{Kind: KindBytes, Bytes: b[5:end:end]})
			b = b[end:]
		case KindArray, KindMap, KindError, KindOK:
			return dst, ErrArgKind
		default:
			return dst, ErrBadTag
		}
	}
	if len(b) != 0 {
		return dst, ErrTrailing
	}
	return dst, nil
}
