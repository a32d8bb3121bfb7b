package resp

import (
	"math"
	"strconv"
)

// Version is a RESP dialect. A connection starts in RESP2; HELLO 3 switches
// it to RESP3.
type Version uint8

// The RESP dialects.
const (
	RESP2 Version = 2
	RESP3 Version = 3
)

const crlf = "\r\n"

// appendLine appends prefix, n in decimal and CRLF.
func appendLine(dst []byte, prefix byte, n int64) []byte {
	dst = append(dst, prefix)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, crlf...)
}

// appendSanitized appends s with every CR and LF replaced by a space, so a
// status or error line can never break the framing.
func appendSanitized(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' {
			dst = append(dst, s[:i]...)
			for ; i < len(s); i++ {
				c = s[i]
				if c == '\r' || c == '\n' {
					c = ' '
				}
				dst = append(dst, c)
			}
			return dst
		}
	}
	return append(dst, s...)
}

// AppendSimple appends the simple string +s\r\n. CR and LF inside s are
// replaced by spaces.
func AppendSimple(dst []byte, s string) []byte {
	dst = append(dst, '+')
	dst = appendSanitized(dst, s)
	return append(dst, crlf...)
}

// AppendOK appends +OK\r\n.
func AppendOK(dst []byte) []byte { return append(dst, "+OK\r\n"...) }

// AppendError appends the simple error -msg\r\n. msg must begin with the
// error class, as in "ERR unknown command 'foo'" or "WRONGTYPE Operation
// against a key holding the wrong kind of value". CR and LF inside msg are
// replaced by spaces.
func AppendError(dst []byte, msg string) []byte {
	dst = append(dst, '-')
	dst = appendSanitized(dst, msg)
	return append(dst, crlf...)
}

// AppendInt appends the integer :n\r\n.
func AppendInt(dst []byte, n int64) []byte { return appendLine(dst, ':', n) }

// AppendBulk appends b as a bulk string $len\r\nb\r\n. A nil b is encoded as
// an empty bulk string, not as null; use AppendNull for null.
func AppendBulk(dst, b []byte) []byte {
	dst = appendLine(dst, '$', int64(len(b)))
	dst = append(dst, b...)
	return append(dst, crlf...)
}

// AppendBulkHeader appends the header of a bulk string of n bytes: what
// AppendBulk writes before the bytes, which the caller then writes
// followed by CRLF.
func AppendBulkHeader(dst []byte, n int) []byte { return appendLine(dst, '$', int64(n)) }

// AppendBulkString appends s as a bulk string, like AppendBulk.
func AppendBulkString(dst []byte, s string) []byte {
	dst = appendLine(dst, '$', int64(len(s)))
	dst = append(dst, s...)
	return append(dst, crlf...)
}

// AppendNull appends a null value: $-1\r\n (the RESP2 null bulk string) or
// _\r\n in RESP3.
func AppendNull(dst []byte, v Version) []byte {
	if v >= RESP3 {
		return append(dst, "_\r\n"...)
	}
	return append(dst, "$-1\r\n"...)
}

// AppendNullArray appends a null array: *-1\r\n in RESP2 or _\r\n in RESP3.
func AppendNullArray(dst []byte, v Version) []byte {
	if v >= RESP3 {
		return append(dst, "_\r\n"...)
	}
	return append(dst, "*-1\r\n"...)
}

// AppendArrayHeader appends *n\r\n; the caller appends the n elements.
func AppendArrayHeader(dst []byte, n int) []byte { return appendLine(dst, '*', int64(n)) }

// AppendMapHeader appends the header of a map of n key/value pairs: %n\r\n
// in RESP3, or *2n\r\n (a flat array) in RESP2. The caller appends 2n
// elements, key then value.
func AppendMapHeader(dst []byte, v Version, n int) []byte {
	if v >= RESP3 {
		return appendLine(dst, '%', int64(n))
	}
	return appendLine(dst, '*', 2*int64(n))
}

// AppendSetHeader appends the header of a set of n elements: ~n\r\n in
// RESP3, or *n\r\n in RESP2.
func AppendSetHeader(dst []byte, v Version, n int) []byte {
	if v >= RESP3 {
		return appendLine(dst, '~', int64(n))
	}
	return appendLine(dst, '*', int64(n))
}

// AppendPush appends the header of an out-of-band push of n elements, such
// as a pub/sub message: >n\r\n in RESP3, or *n\r\n in RESP2, where pushes are
// plain arrays. The caller appends the n elements.
func AppendPush(dst []byte, v Version, n int) []byte {
	if v >= RESP3 {
		return appendLine(dst, '>', int64(n))
	}
	return appendLine(dst, '*', int64(n))
}

// appendFloat appends f as Redis prints doubles: the shortest decimal that
// reads back as f, laid out as C's %.17g (Redis's format) lays out its
// digits, plain unless the decimal exponent is under -4 or over 16, and
// inf, -inf or nan. (Go's shortest 'g' switches to an exponent from 1e+06
// on, where Redis prints 1000000.)
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	}
	mark := len(dst)
	dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
	// The exponent ends the text: 'e', a sign and at least two digits.
	k := len(dst) - 1
	for dst[k] != 'e' {
		k--
	}
	exp := 0
	for _, c := range dst[k+2:] {
		exp = exp*10 + int(c-'0')
	}
	if dst[k+1] == '-' {
		exp = -exp
	}
	if exp < -4 || exp > 16 {
		return dst
	}
	return strconv.AppendFloat(dst[:mark], f, 'f', -1, 64)
}

// AppendDouble appends f: ,f\r\n in RESP3, or a bulk string holding the same
// text in RESP2. Infinities are inf and -inf, NaN is nan.
func AppendDouble(dst []byte, v Version, f float64) []byte {
	if v >= RESP3 {
		dst = append(dst, ',')
		dst = appendFloat(dst, f)
		return append(dst, crlf...)
	}
	var buf [32]byte
	return AppendBulk(dst, appendFloat(buf[:0], f))
}

// AppendBool appends b: #t\r\n or #f\r\n in RESP3, :1\r\n or :0\r\n in
// RESP2.
func AppendBool(dst []byte, v Version, b bool) []byte {
	switch {
	case v >= RESP3 && b:
		return append(dst, "#t\r\n"...)
	case v >= RESP3:
		return append(dst, "#f\r\n"...)
	case b:
		return append(dst, ":1\r\n"...)
	default:
		return append(dst, ":0\r\n"...)
	}
}

// AppendVerbatim appends a verbatim string: =len\r\nfmt:b\r\n in RESP3, where
// format is a three-byte type such as "txt" or "mkd", or a plain bulk string
// holding b in RESP2. A format that is not three bytes long is replaced by
// "txt".
func AppendVerbatim(dst []byte, v Version, format string, b []byte) []byte {
	if v < RESP3 {
		return AppendBulk(dst, b)
	}
	if len(format) != 3 {
		format = "txt"
	}
	dst = appendLine(dst, '=', int64(len(b)+4))
	dst = append(dst, format...)
	dst = append(dst, ':')
	dst = append(dst, b...)
	return append(dst, crlf...)
}

// AppendBigNumber appends the decimal integer s: (s\r\n in RESP3, or a bulk
// string in RESP2. s is not validated.
func AppendBigNumber(dst []byte, v Version, s string) []byte {
	if v < RESP3 {
		return AppendBulkString(dst, s)
	}
	dst = append(dst, '(')
	dst = append(dst, s...)
	return append(dst, crlf...)
}

// AppendCommand appends argv as a request, an array of bulk strings, the way
// clients send commands.
func AppendCommand(dst []byte, argv ...[]byte) []byte {
	dst = AppendArrayHeader(dst, len(argv))
	for _, a := range argv {
		dst = AppendBulk(dst, a)
	}
	return dst
}
