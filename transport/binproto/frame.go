package binproto

import (
	"encoding/binary"
	"math"
)

// Protocol constants of version 1.
const (
	// Magic is the first byte of every frame, and so the first byte a
	// binary-protocol client sends. No RESP request can start with it: RESP
	// requests start with '*' or with a printable inline command.
	Magic byte = 0xB1
	// HeaderSize is the size of a frame header in bytes.
	HeaderSize = 12
	// Version is the protocol version this package implements; HELLO
	// negotiates it.
	Version = 1
)

// Flags are the frame flag bits.
type Flags uint8

// Frame flags. The other bits are reserved: a frame with any of them set is
// rejected with ErrBadFlags.
const (
	// FlagReply marks a server frame that answers a request. It echoes the
	// request's id and opcode.
	FlagReply Flags = 1 << 0
	// FlagPush marks a server-initiated frame; its id is 0 and its opcode
	// is a push kind (OpMessage, OpDisconnect, ...).
	FlagPush Flags = 1 << 1

	knownFlags = FlagReply | FlagPush
)

// Header is a decoded frame header.
type Header struct {
	Flags  Flags
	Op     Opcode
	ID     uint32 // request id; 0 exactly when Flags has FlagPush
	Length uint32 // body length in bytes, header excluded
}

// Frame is one decoded frame. Body holds Length bytes.
type Frame struct {
	Header
	Body []byte
}

// IsRequest reports whether the frame is a client request (no flags set).
func (h Header) IsRequest() bool { return h.Flags == 0 }

// AppendHeader appends the 12-byte encoding of h.
func AppendHeader(dst []byte, h Header) []byte {
	dst = append(dst, Magic, byte(h.Flags))
	dst = binary.BigEndian.AppendUint16(dst, uint16(h.Op))
	dst = binary.BigEndian.AppendUint32(dst, h.ID)
	return binary.BigEndian.AppendUint32(dst, h.Length)
}

// ParseHeader decodes and validates the frame header at the start of b:
// magic byte, flags, id and opcode. It does not check Length against any
// limit; Decoder does.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, ErrShortHeader
	}
	h := Header{
		Flags:  Flags(b[1]),
		Op:     Opcode(binary.BigEndian.Uint16(b[2:])),
		ID:     binary.BigEndian.Uint32(b[4:]),
		Length: binary.BigEndian.Uint32(b[8:]),
	}
	switch {
	case b[0] != Magic:
		return Header{}, ErrBadMagic
	case h.Flags&^knownFlags != 0 || h.Flags == knownFlags:
		return Header{}, ErrBadFlags
	case (h.Flags&FlagPush != 0) != (h.ID == 0):
		return Header{}, ErrBadID
	case h.Op == 0:
		return Header{}, ErrBadOpcode
	}
	return h, nil
}

// BeginFrame appends a frame header with a zero length and returns the
// extended slice and a mark for EndFrame. The caller then appends the body.
func BeginFrame(dst []byte, op Opcode, flags Flags, id uint32) ([]byte, int) {
	mark := len(dst)
	return AppendHeader(dst, Header{Flags: flags, Op: op, ID: id}), mark
}

// EndFrame writes the length of the body appended since BeginFrame returned
// mark. A body over math.MaxUint32 bytes cannot be framed: EndFrame then
// truncates dst back to mark and returns ErrBodyTooLarge. The peer's
// MaxFrame limit is usually far lower; checking it is the caller's job.
func EndFrame(dst []byte, mark int) ([]byte, error) { return EndFrameWith(dst, mark, 0) }

// EndFrameWith is EndFrame for a body that goes on with external bytes
// the caller writes after dst.
func EndFrameWith(dst []byte, mark, external int) ([]byte, error) {
	n := len(dst) - mark - HeaderSize + external
	if uint64(n) > math.MaxUint32 {
		return dst[:mark], ErrBodyTooLarge
	}
	binary.BigEndian.PutUint32(dst[mark+8:], uint32(n))
	return dst, nil
}

// AppendErrorReply appends a complete reply frame for request (op, id)
// whose body is an error value.
func AppendErrorReply(dst []byte, op Opcode, id uint32, class Class, msg string) []byte {
	dst = AppendHeader(dst, Header{Flags: FlagReply, Op: op, ID: id, Length: uint32(errorSize(msg))})
	return AppendError(dst, class, msg)
}

// AppendDisconnect appends a complete OpDisconnect push frame carrying an
// error value: the last frame a server sends before it closes a connection
// for a reason not tied to one request.
func AppendDisconnect(dst []byte, class Class, msg string) []byte {
	dst = AppendHeader(dst, Header{Flags: FlagPush, Op: OpDisconnect, Length: uint32(errorSize(msg))})
	return AppendError(dst, class, msg)
}

// errorSize is the encoded size of an error value, with msg clipped as
// AppendError clips it.
func errorSize(msg string) int { return 1 + 1 + 4 + len(clipError(msg)) }
