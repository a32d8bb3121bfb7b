package server

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/ringdb/ringdb/core"
	"github.com/ringdb/ringdb/transport/binproto"
)

// Reply texts, without the class prefix, worded as Redis words them.
const (
	msgSyntax        = "syntax error"
	msgNotInteger    = "value is not an integer or out of range"
	msgOverflow      = "increment or decrement would overflow"
	msgDecrOverflow  = "decrement would overflow"
	msgNoSuchKey     = "no such key"
	msgSameKey       = "source and destination objects are the same"
	msgNotFloat      = "value is not a valid float"
	msgNaNOrInf      = "increment would produce NaN or Infinity"
	msgOffsetRange   = "offset is out of range"
	msgStringTooLong = "string exceeds maximum allowed size (proto-max-bulk-len)"
	msgOOM           = "command not allowed when used memory > 'maxmemory'."
	msgNoAuth        = "Authentication required."
	msgWrongPass     = "invalid username-password pair or user is disabled."
	msgDBRange       = "DB index is out of range"
	msgBadClientName = "Client names cannot contain spaces, newlines or special characters."
	msgIntRange      = "value is out of range, value must between -2147483648 and 2147483647"
	msgInvalidCursor = "invalid cursor"
	msgClosed        = "server is shutting down"
)

// errReply writes an ERR-class error.
func (c *cmdCtx) errReply(msg string) { c.w.Error(binproto.ClassErr, msg) }

// syntaxErr writes ERR syntax error.
func (c *cmdCtx) syntaxErr() { c.w.Error(binproto.ClassErr, msgSyntax) }

// notInteger writes ERR value is not an integer or out of range.
func (c *cmdCtx) notInteger() { c.w.Error(binproto.ClassErr, msgNotInteger) }

// invalidExpire writes ERR invalid expire time in '<cmd>' command.
func (c *cmdCtx) invalidExpire() {
	c.w.Error(binproto.ClassErr, "invalid expire time in '"+c.name()+"' command")
}

// arityErr writes ERR wrong number of arguments for '<name>' command (RESP)
// or for '<name>' (binary, docs/PROTOCOL.md §5).
func (c *cmdCtx) arityErr(name string) {
	if c.bin {
		c.w.Error(binproto.ClassErr, "wrong number of arguments for '"+name+"'")
		return
	}
	c.w.Error(binproto.ClassErr, "wrong number of arguments for '"+name+"' command")
}

// coreErr writes the wire error for an error returned by the keyspace.
func (c *cmdCtx) coreErr(err error) {
	var le *core.LimitError
	var be *core.BoundError
	switch {
	case errors.As(err, &be):
		c.oom = true
		// Not Redis's text: used memory may be far below maxmemory, and
		// saying otherwise would send the operator looking for data that
		// is not there.
		if be.Lent > 0 {
			c.w.Error(binproto.ClassOOM, fmt.Sprintf("value needs %d bytes, more than maxmemory can hold while clients have not read %d bytes of values since dropped (used_memory_lent; %d of its %d bytes are left for data)", be.Need, be.Lent, be.Room, be.MaxMemory))
			break
		}
		c.w.Error(binproto.ClassOOM, fmt.Sprintf("value needs %d bytes, more than maxmemory can hold (%d of its %d bytes are left for data after the index and the eviction reserve)", be.Need, be.Room, be.MaxMemory))
	case errors.Is(err, core.ErrOOM):
		c.oom = true
		c.w.Error(binproto.ClassOOM, msgOOM)
	case errors.As(err, &le):
		what := "value too large"
		if le.Kind == core.ErrKeyTooLarge {
			what = "key too large"
		}
		if !c.bin {
			what += " (" + strconv.Itoa(le.Size) + " bytes, limit " + strconv.Itoa(le.Limit) + ")"
		}
		c.w.Error(binproto.ClassLimit, what)
	case errors.Is(err, core.ErrNotInteger):
		c.notInteger()
	case errors.Is(err, core.ErrOverflow):
		c.errReply(msgOverflow)
	case errors.Is(err, core.ErrInvalidExpire):
		c.invalidExpire()
	case errors.Is(err, core.ErrSyntax):
		c.syntaxErr()
	case errors.Is(err, core.ErrNoSuchKey):
		c.errReply(msgNoSuchKey)
	case errors.Is(err, core.ErrSameKey):
		c.errReply(msgSameKey)
	case errors.Is(err, core.ErrNotFloat):
		c.errReply(msgNotFloat)
	case errors.Is(err, core.ErrNaNOrInf):
		c.errReply(msgNaNOrInf)
	case errors.Is(err, core.ErrOffsetRange):
		c.errReply(msgOffsetRange)
	case errors.Is(err, core.ErrClosed):
		c.errReply(msgClosed)
	default:
		c.errReply(err.Error())
	}
}

// unknownCommandMsg is Redis's reply to an unknown command, without the
// class:
// ERR unknown command 'foo', with args beginning with: 'a' 'b'
//
// Redis formats the name and arguments with printf's %.*s, so each one also
// ends at its first NUL byte.
func unknownCommandMsg(argv [][]byte) string {
	name := cString(argv[0])
	if len(name) > 128 {
		name = name[:128]
	}
	b := make([]byte, 0, 64)
	b = append(b, "unknown command '"...)
	b = append(b, name...)
	b = append(b, "', with args beginning with: "...)
	// Redis appends arguments while the list is shorter than 128 bytes,
	// each clipped to what is left of those 128.
	args := 0
	for _, a := range argv[1:] {
		if args >= 128 {
			break
		}
		a = cString(a)
		if len(a) > 128-args {
			a = a[:128-args]
		}
		n := len(b)
		b = append(b, '\'')
		b = append(b, a...)
		b = append(b, "' "...)
		args += len(b) - n
	}
	return string(b)
}

// cString returns b up to its first NUL byte, as C string functions see it.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}
