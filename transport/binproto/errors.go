package binproto

// Class is the error class carried by an error value. A client acts on the
// class; the message is for people.
type Class uint8

// The error classes of protocol version 1. Class 0 is invalid; a client
// treats any other unknown class as ClassErr.
const (
	ClassErr       Class = 0x01 // ERR: generic error, bad arguments, unknown opcode
	ClassWrongType Class = 0x02 // WRONGTYPE: the key holds another kind of value
	ClassOOM       Class = 0x03 // OOM: the memory bound forbids the write
	ClassReadOnly  Class = 0x04 // READONLY: a write sent to a reader replica
	ClassNoAuth    Class = 0x05 // NOAUTH: authentication missing or wrong
	ClassLimit     Class = 0x06 // LIMIT: a size or count limit was exceeded
	ClassProto     Class = 0x07 // PROTO: malformed frame or value
)

var classNames = [...]string{
	ClassErr:       "ERR",
	ClassWrongType: "WRONGTYPE",
	ClassOOM:       "OOM",
	ClassReadOnly:  "READONLY",
	ClassNoAuth:    "NOAUTH",
	ClassLimit:     "LIMIT",
	ClassProto:     "PROTO",
}

// String returns the class name, such as "WRONGTYPE". Unknown classes are
// reported as "ERR", as clients must treat them.
func (c Class) String() string {
	if int(c) < len(classNames) && classNames[c] != "" {
		return classNames[c]
	}
	return "ERR"
}

// Error is an error with a wire class. Decoding errors are *Error values of
// class ClassProto or ClassLimit, so a server can send them back as they
// are; a client gets one from an error value with Value.Err.
type Error struct {
	Class Class
	Msg   string
}

// Error returns the class name, a space and the message, the form a RESP
// error would take: "LIMIT frame too large".
func (e *Error) Error() string { return e.Class.String() + " " + e.Msg }

// Decoding errors. The frame-level ones (ErrBadMagic, ErrBadFlags, ErrBadID,
// ErrBadOpcode, ErrFrameTooLarge, ErrShortHeader) leave the stream
// unframed: the connection must be closed after reporting them. The
// body-level ones affect one frame only.
var (
	// ErrShortHeader is returned by ParseHeader for fewer than HeaderSize bytes.
	ErrShortHeader = &Error{ClassProto, "short frame header"}
	// ErrBadMagic reports a frame that does not start with Magic.
	ErrBadMagic = &Error{ClassProto, "bad magic byte"}
	// ErrBadFlags reports reserved flag bits, or REPLY and PUSH together.
	ErrBadFlags = &Error{ClassProto, "invalid frame flags"}
	// ErrBadID reports a push frame with a non-zero id, or another frame
	// with id 0.
	ErrBadID = &Error{ClassProto, "invalid request id"}
	// ErrBadOpcode reports opcode 0.
	ErrBadOpcode = &Error{ClassProto, "invalid opcode"}
	// ErrFrameTooLarge reports a body length over Limits.MaxFrame.
	ErrFrameTooLarge = &Error{ClassLimit, "frame too large"}
	// ErrUnauthFrameTooLarge reports a body length over UnauthMaxFrame while
	// the decoder is restricted (Decoder.Restrict).
	ErrUnauthFrameTooLarge = &Error{ClassLimit, "frame too large before authentication"}

	// ErrTooManyArgs reports an argument, element or pair count over
	// Limits.MaxArray.
	ErrTooManyArgs = &Error{ClassLimit, "too many elements"}
	// ErrValueTooLarge reports a BYTES value or error message over
	// Limits.MaxValue.
	ErrValueTooLarge = &Error{ClassLimit, "value too large"}
	// ErrTruncated reports a value or count that runs past the end of the
	// body.
	ErrTruncated = &Error{ClassProto, "truncated value"}
	// ErrBadTag reports an unknown value tag.
	ErrBadTag = &Error{ClassProto, "unknown value tag"}
	// ErrBadClass reports an error value of class 0.
	ErrBadClass = &Error{ClassProto, "invalid error class"}
	// ErrArgKind reports a request argument other than NULL, BYTES or INT.
	ErrArgKind = &Error{ClassProto, "request arguments must be NULL, BYTES or INT"}
	// ErrTrailing reports bytes left in a body after its last value.
	ErrTrailing = &Error{ClassProto, "trailing bytes after value"}
	// ErrBodyTooLarge is returned by EndFrame when a body does not fit the
	// 32-bit length field.
	ErrBodyTooLarge = &Error{ClassLimit, "frame body exceeds 4 GiB"}
)
