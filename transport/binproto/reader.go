package binproto

import "encoding/binary"

// Reader walks the values of a complete reply or push body. Arrays and maps
// are flattened: Next returns the header of an ARRAY (Int = element count)
// or MAP (Int = pair count), and the following Next calls return its
// elements. A Reader does not allocate; the zero value reads an empty body
// with default limits.
type Reader struct {
	b   []byte
	off int
	lim Limits
}

// NewReader returns a Reader over body enforcing lim (zero fields take
// defaults).
func NewReader(body []byte, lim Limits) Reader {
	return Reader{b: body, lim: lim.withDefaults()}
}

// Reset makes r read body from the start, keeping its limits.
func (r *Reader) Reset(body []byte) { r.b, r.off = body, 0 }

// Len returns the number of unread bytes.
func (r *Reader) Len() int { return len(r.b) - r.off }

// Next decodes the next value. Counts and lengths are checked against the
// reader's limits and against the bytes left before they are returned, so a
// caller may size an allocation by Value.Int. At the end of the body Next
// returns ErrTruncated.
func (r *Reader) Next() (Value, error) {
	if r.lim.MaxValue == 0 {
		r.lim = r.lim.withDefaults()
	}
	b := r.b[r.off:]
	if len(b) == 0 {
		return Value{}, ErrTruncated
	}
	k := Kind(b[0])
	switch k {
	case KindNull, KindOK:
		r.off++
		return Value{Kind: k}, nil
	case KindInt:
		if len(b) < 9 {
			return Value{}, ErrTruncated
		}
		r.off += 9
		return Value{Kind: k, Int: int64(binary.BigEndian.Uint64(b[1:]))}, nil
	case KindBytes:
		if len(b) < 5 {
			return Value{}, ErrTruncated
		}
		n := int64(binary.BigEndian.Uint32(b[1:]))
		if n > r.lim.MaxValue {
			return Value{}, ErrValueTooLarge
		}
		if n > int64(len(b)-5) {
			return Value{}, ErrTruncated
		}
		end := 5 + int(n)
		r.off += end
		return Value{Kind: k, Bytes: b[5:end:end]}, nil
	case KindArray, KindMap:
		if len(b) < 5 {
			return Value{}, ErrTruncated
		}
		n := int64(binary.BigEndian.Uint32(b[1:]))
		elems := n
		if k == KindMap {
			elems = 2 * n
		}
		if n > r.lim.MaxArray {
			return Value{}, ErrTooManyArgs
		}
		if elems > int64(len(b)-5) { // every element takes at least one byte
			return Value{}, ErrTruncated
		}
		r.off += 5
		return Value{Kind: k, Int: n}, nil
	case KindError:
		if len(b) < 6 {
			return Value{}, ErrTruncated
		}
		c := Class(b[1])
		if c == 0 {
			return Value{}, ErrBadClass
		}
		n := int64(binary.BigEndian.Uint32(b[2:]))
		if n > MaxErrorMessage {
			return Value{}, ErrValueTooLarge
		}
		if n > int64(len(b)-6) {
			return Value{}, ErrTruncated
		}
		end := 6 + int(n)
		r.off += end
		return Value{Kind: k, Class: c, Bytes: b[6:end:end]}, nil
	}
	return Value{}, ErrBadTag
}

// Skip reads past one complete value, including every element of an array
// or map, and returns it (for an array or map, its header).
func (r *Reader) Skip() (Value, error) {
	first, err := r.Next()
	if err != nil {
		return first, err
	}
	pending := elements(first)
	for ; pending > 0; pending-- {
		v, err := r.Next()
		if err != nil {
			return first, err
		}
		pending += elements(v)
	}
	return first, nil
}

// elements returns how many values follow v as its elements.
func elements(v Value) int64 {
	switch v.Kind {
	case KindArray:
		return v.Int
	case KindMap:
		return 2 * v.Int
	}
	return 0
}

// ValidateBody checks that body holds exactly one well-formed value within
// lim, as every reply and push body must.
func ValidateBody(body []byte, lim Limits) error {
	r := NewReader(body, lim)
	if _, err := r.Skip(); err != nil {
		return err
	}
	if r.Len() != 0 {
		return ErrTrailing
	}
	return nil
}
