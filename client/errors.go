package client

import (
	"errors"

	"github.com/ringdb/ringdb/transport/binproto"
)

// Sentinel errors. Server error replies match the class sentinels through
// (*ServerError).Is; client-side failures wrap them with %w.
var (
	// ErrNotFound reports a missing key where the call has no (value,
	// found) shape, e.g. Rename of a missing source.
	ErrNotFound = errors.New("ringdb: key not found")
	// ErrWrongType matches WRONGTYPE replies: the key holds another kind of
	// value.
	ErrWrongType = errors.New("ringdb: wrong type")
	// ErrOOM matches OOM replies: the write needs memory the server's bound
	// does not allow. Back off and retry later.
	ErrOOM = errors.New("ringdb: out of memory")
	// ErrReadOnly matches READONLY replies: a write was sent to a replica.
	ErrReadOnly = errors.New("ringdb: read-only server")
	// ErrAuth matches NOAUTH replies: authentication missing or wrong.
	ErrAuth = errors.New("ringdb: authentication failed")
	// ErrLimit matches LIMIT replies: a size or count limit was exceeded.
	ErrLimit = errors.New("ringdb: limit exceeded")
	// ErrProtocol matches PROTO replies and malformed frames or values
	// received by the client.
	ErrProtocol = errors.New("ringdb: protocol error")
	// ErrConnLost is returned for calls in flight on a connection that
	// broke, and wraps failures to connect or reconnect, except a refused
	// token (ErrAuth with ErrNotExecuted: the connection was opened, and
	// the server refused it). A write that
	// fails with it may or may not have been applied, unless the error
	// also matches ErrNotExecuted.
	ErrConnLost = errors.New("ringdb: connection lost")
	// ErrNotExecuted is matched, together with ErrConnLost, by the error
	// of a call the server is known not to have executed: no connection
	// could be opened for it (the server is down), the connection broke
	// before the request was written, or the server announced with a
	// DISCONNECT push (shutdown, idle timeout, a buffer limit) that it was
	// closing the connection before it ran the request. The server
	// executes nothing after that push and has answered everything it
	// executed before it (docs/PROTOCOL.md §8), so such a call, even a
	// write, is safe to retry. Single calls are re-sent on another
	// connection automatically; the error reaches the caller when the
	// re-sends fail too, and for the commands of a Pipeline, which is
	// never re-sent. When the cause was a DISCONNECT push, its class
	// matches too (e.g. ErrLimit).
	ErrNotExecuted = errors.New("ringdb: request not executed")
	// ErrClosed is returned by calls on a closed Client, including calls
	// in flight when Close was called: a write among those may or may not
	// have been applied.
	ErrClosed = errors.New("ringdb: client closed")
)

// Class is a server error class (docs/PROTOCOL.md §6).
type Class = binproto.Class

// ServerError is an error reply from the server. Match its class with
// errors.Is (ErrWrongType, ErrOOM, ...) or read it with errors.As.
type ServerError struct {
	// Class is the error class, e.g. binproto.ClassOOM.
	Class Class
	// Msg is the server's message, without the class prefix.
	Msg string
}

// Error returns "ringdb: CLASS message".
func (e *ServerError) Error() string { return "ringdb: " + e.Class.String() + " " + e.Msg }

// Is maps the error class onto the package's sentinel errors. An ERR reply
// "no such key" also matches ErrNotFound.
func (e *ServerError) Is(target error) bool {
	switch target {
	case ErrWrongType:
		return e.Class == binproto.ClassWrongType
	case ErrOOM:
		return e.Class == binproto.ClassOOM
	case ErrReadOnly:
		return e.Class == binproto.ClassReadOnly
	case ErrAuth:
		return e.Class == binproto.ClassNoAuth
	case ErrLimit:
		return e.Class == binproto.ClassLimit
	case ErrProtocol:
		return e.Class == binproto.ClassProto
	case ErrNotFound:
		return e.Class == binproto.ClassErr && e.Msg == "no such key"
	}
	return false
}

// serverError converts an ERROR value.
func serverError(v binproto.Value) *ServerError {
	c := v.Class
	if c > binproto.ClassProto {
		c = binproto.ClassErr // unknown classes are ERR (§6)
	}
	return &ServerError{Class: c, Msg: string(v.Bytes)}
}

// protoErr wraps a client-side decoding failure.
func protoErr(err error) error {
	if err == nil {
		return nil
	}
	return &wrapped{ErrProtocol, err}
}

// wrapped is an error that matches both sentinel and cause.
type wrapped struct {
	sentinel error
	cause    error
}

func (w *wrapped) Error() string   { return w.sentinel.Error() + ": " + w.cause.Error() }
func (w *wrapped) Unwrap() []error { return []error{w.sentinel, w.cause} }
