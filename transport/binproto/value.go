package binproto

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// Kind is a value's tag byte.
type Kind uint8

// Value kinds of protocol version 1. Tags 0x07 to 0xFF are reserved and
// rejected with ErrBadTag.
const (
	KindNull  Kind = 0x00 // no payload
	KindBytes Kind = 0x01 // u32 length, then that many bytes
	KindInt   Kind = 0x02 // i64, big-endian two's complement
	KindArray Kind = 0x03 // u32 count, then count values
	KindMap   Kind = 0x04 // u32 pair count, then 2*count values: key, value, ...
	KindError Kind = 0x05 // u8 class, u32 length, then the message
	KindOK    Kind = 0x06 // no payload: success without data
)

// MaxErrorMessage is the longest error message, in bytes. AppendError clips
// longer messages; a Reader rejects them with ErrValueTooLarge.
const MaxErrorMessage = 4096

var kindNames = [...]string{"NULL", "BYTES", "INT", "ARRAY", "MAP", "ERROR", "OK"}

// String returns the kind's name, such as "BYTES".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one decoded value, or the header of an array or map.
type Value struct {
	Kind Kind
	// Class is the error class of a KindError value.
	Class Class
	// Int is the integer of a KindInt value, the element count of a
	// KindArray value and the pair count of a KindMap value.
	Int int64
	// Bytes is the data of a KindBytes value and the message of a
	// KindError value. It points into the decoded body, with its capacity
	// clipped; it is valid as long as the body is.
	Bytes []byte
}

// Err returns the *Error of a KindError value, and nil for any other kind.
// It allocates; call it off the hot path.
func (v Value) Err() error {
	if v.Kind != KindError {
		return nil
	}
	return &Error{Class: v.Class, Msg: string(v.Bytes)}
}

// AppendNull appends a NULL value.
func AppendNull(dst []byte) []byte { return append(dst, byte(KindNull)) }

// AppendOK appends an OK value.
func AppendOK(dst []byte) []byte { return append(dst, byte(KindOK)) }

// AppendBytes appends b as a BYTES value.
func AppendBytes(dst, b []byte) []byte {
	dst = append(dst, byte(KindBytes))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// AppendString appends s as a BYTES value.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, byte(KindBytes))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// AppendInt appends n as an INT value.
func AppendInt(dst []byte, n int64) []byte {
	dst = append(dst, byte(KindInt))
	return binary.BigEndian.AppendUint64(dst, uint64(n))
}

// AppendArrayHeader appends the header of an ARRAY of n elements; the
// caller appends the n values.
func AppendArrayHeader(dst []byte, n int) []byte {
	dst = append(dst, byte(KindArray))
	return binary.BigEndian.AppendUint32(dst, uint32(n))
}

// AppendMapHeader appends the header of a MAP of n pairs; the caller
// appends 2n values, each key followed by its value.
func AppendMapHeader(dst []byte, n int) []byte {
	dst = append(dst, byte(KindMap))
	return binary.BigEndian.AppendUint32(dst, uint32(n))
}

// AppendError appends an ERROR value. msg is clipped to MaxErrorMessage
// bytes, at the start of a UTF-8 character (clipError).
func AppendError(dst []byte, class Class, msg string) []byte {
	msg = clipError(msg)
	dst = append(dst, byte(KindError), byte(class))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(msg)))
	return append(dst, msg...)
}

// AppendArgCount appends the argument count that starts a request body; the
// caller appends the n arguments (NULL, BYTES or INT values).
func AppendArgCount(dst []byte, n int) []byte {
	return binary.BigEndian.AppendUint32(dst, uint32(n))
}

// clipError returns msg cut to at most MaxErrorMessage bytes. A cut
// inside a UTF-8 character moves back to its first byte, so a clipped
// message is still UTF-8, as an ERROR value's must be, when msg was.
func clipError(msg string) string {
	if len(msg) <= MaxErrorMessage {
		return msg
	}
	n := MaxErrorMessage
	for i := 0; i < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(msg[n]); i++ {
		n--
	}
	return msg[:n]
}
