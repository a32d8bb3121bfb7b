package cmdspec

import (
	"errors"
	"strconv"
)

// Kind is the RESP3 type of a Value.
type Kind uint8

// The kinds COMMAND INFO and COMMAND DOCS use.
const (
	Bulk   Kind = iota // $: Str
	Simple             // +: Str
	Int                // :: Int
	Array              // *: Elems
	Set                // ~: Elems
	Map                // %: Elems, keys and values alternating
)

// Value is one RESP3 value of the capture. Values are shared: callers
// must not modify them.
type Value struct {
	Kind  Kind
	Str   string
	Int   int64
	Elems []Value
}

// Get returns the value of key in the map v, or nil.
func (v *Value) Get(key string) *Value {
	if v == nil || v.Kind != Map {
		return nil
	}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if v.Elems[i].Str == key {
			return &v.Elems[i+1]
		}
	}
	return nil
}

// errBadCapture is the error of a capture that is not the RESP3 this
// package writes.
var errBadCapture = errors.New("cmdspec: malformed RESP3 capture")

// Parse reads one RESP3 value of the kinds above from b and returns it
// and what follows it.
func Parse(b []byte) (Value, []byte, error) {
	i := 0
	for i < len(b) && b[i] != '\n' {
		i++
	}
	if i < 2 || i >= len(b) || b[i-1] != '\r' {
		return Value{}, nil, errBadCapture
	}
	tag, body, rest := b[0], string(b[1:i-1]), b[i+1:]
	var v Value
	switch tag {
	case '+':
		return Value{Kind: Simple, Str: body}, rest, nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		return Value{Kind: Int, Int: n}, rest, err
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 || n+2 > len(rest) {
			return Value{}, nil, errBadCapture
		}
		return Value{Kind: Bulk, Str: string(rest[:n])}, rest[n+2:], nil
	case '*':
		v.Kind = Array
	case '~':
		v.Kind = Set
	case '%':
		v.Kind = Map
	default:
		return Value{}, nil, errBadCapture
	}
	n, err := strconv.Atoi(body)
	if err != nil || n < 0 {
		return Value{}, nil, errBadCapture
	}
	if v.Kind == Map {
		n *= 2
	}
	v.Elems = make([]Value, n)
	for j := range v.Elems {
		if v.Elems[j], rest, err = Parse(rest); err != nil {
			return Value{}, nil, err
		}
	}
	return v, rest, nil
}

// Append appends v to dst in RESP3.
func Append(dst []byte, v Value) []byte {
	switch v.Kind {
	case Simple:
		return append(append(append(dst, '+'), v.Str...), "\r\n"...)
	case Int:
		return append(strconv.AppendInt(append(dst, ':'), v.Int, 10), "\r\n"...)
	case Bulk:
		dst = append(strconv.AppendInt(append(dst, '$'), int64(len(v.Str)), 10), "\r\n"...)
		return append(append(dst, v.Str...), "\r\n"...)
	}
	tag, n := byte('*'), len(v.Elems)
	switch v.Kind {
	case Set:
		tag = '~'
	case Map:
		tag, n = '%', n/2
	}
	dst = append(strconv.AppendInt(append(dst, tag), int64(n), 10), "\r\n"...)
	for _, e := range v.Elems {
		dst = Append(dst, e)
	}
	return dst
}
