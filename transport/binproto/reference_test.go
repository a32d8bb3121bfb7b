package binproto

import "encoding/binary"

// refFrames is an independent reference for the framing the Decoder
// implements (docs/PROTOCOL.md): it splits data, all of it fed at once,
// into frames under lim (no Restrict) and returns them with the first
// error, or none when data ends inside a frame or between frames.
func refFrames(lim Limits, data []byte) ([]decoded, error) {
	var out []decoded
	for len(data) > 0 {
		if data[0] != Magic {
			return out, ErrBadMagic
		}
		if len(data) < HeaderSize {
			return out, nil
		}
		flags := data[1]
		op := binary.BigEndian.Uint16(data[2:])
		id := binary.BigEndian.Uint32(data[4:])
		n := binary.BigEndian.Uint32(data[8:])
		reply, push := flags&1 != 0, flags&2 != 0
		switch {
		case flags > 3 || (reply && push):
			return out, ErrBadFlags
		case push != (id == 0):
			return out, ErrBadID
		case op == 0:
			return out, ErrBadOpcode
		case int64(n) > lim.MaxFrame:
			return out, ErrFrameTooLarge
		}
		if uint64(len(data)-HeaderSize) < uint64(n) {
			return out, nil
		}
		out = append(out, decoded{
			H:    Header{Flags: Flags(flags), Op: Opcode(op), ID: id, Length: n},
			Body: string(data[HeaderSize : HeaderSize+int(n)]),
		})
		data = data[HeaderSize+int(n):]
	}
	return out, nil
}

// refArgs is a reference for ParseArgs: a u32 count, then that many NULL,
// INT or BYTES values filling the body exactly. It returns the arguments
// and the error ParseArgs must report.
func refArgs(body []byte, lim Limits) ([]Value, error) {
	if len(body) < 4 {
		return nil, ErrTruncated
	}
	argc := int64(binary.BigEndian.Uint32(body))
	b := body[4:]
	if argc > lim.MaxArray {
		return nil, ErrTooManyArgs
	}
	if argc > int64(len(b)) {
		return nil, ErrTruncated
	}
	var args []Value
	for ; argc > 0; argc-- {
		if len(b) == 0 {
			return args, ErrTruncated
		}
		switch b[0] {
		case 0x00:
			args = append(args, Value{Kind: KindNull})
			b = b[1:]
		case 0x02:
			if len(b) < 9 {
				return args, ErrTruncated
			}
			args = append(args, Value{Kind: KindInt, Int: int64(binary.BigEndian.Uint64(b[1:]))})
			b = b[9:]
		case 0x01:
			if len(b) < 5 {
				return args, ErrTruncated
			}
			n := uint64(binary.BigEndian.Uint32(b[1:]))
			if n > uint64(lim.MaxValue) {
				return args, ErrValueTooLarge
			}
			if n > uint64(len(b)-5) {
				return args, ErrTruncated
			}
			args = append(args, Value{Kind: KindBytes, Bytes: b[5 : 5+n]})
			b = b[5+n:]
		case 0x03, 0x04, 0x05, 0x06:
			return args, ErrArgKind
		default:
			return args, ErrBadTag
		}
	}
	if len(b) != 0 {
		return args, ErrTrailing
	}
	return args, nil
}
