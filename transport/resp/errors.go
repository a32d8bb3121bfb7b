package resp

import "errors"

// ErrProtocol is the class of every error the Decoder returns: each of them
// is a *ProtocolError and matches ErrProtocol with errors.Is.
var ErrProtocol = errors.New("ringdb: resp protocol error")

// Protocol errors with a fixed text. Their Error strings use Redis's wording,
// so a server can reply with "-ERR " + err.Error() exactly like Redis does.
// After any of them the decoder is unusable until Reset, and the connection
// should be closed once the error reply is written.
var (
	// ErrInvalidMultibulkLength reports a malformed array count or one over
	// Limits.MaxArray.
	ErrInvalidMultibulkLength = &ProtocolError{Msg: "Protocol error: invalid multibulk length"}
	// ErrInvalidBulkLength reports a malformed bulk length, one over
	// Limits.MaxBulk, or bulk data not followed by CRLF.
	ErrInvalidBulkLength = &ProtocolError{Msg: "Protocol error: invalid bulk length"}
	// ErrUnbalancedQuotes reports an inline command with an unterminated
	// quoted string, or a closing quote not followed by a space.
	ErrUnbalancedQuotes = &ProtocolError{Msg: "Protocol error: unbalanced quotes in request"}
	// ErrInlineTooBig reports an inline command line longer than
	// Limits.MaxInline bytes.
	ErrInlineTooBig = &ProtocolError{Msg: "Protocol error: too big inline request"}
	// ErrUnauthMultibulkLength reports an array count over UnauthMaxArray
	// while the decoder is restricted (Restrict).
	ErrUnauthMultibulkLength = &ProtocolError{Msg: "Protocol error: unauthenticated multibulk length"}
	// ErrUnauthBulkLength reports a bulk length over UnauthMaxBulk while the
	// decoder is restricted (Restrict).
	ErrUnauthBulkLength = &ProtocolError{Msg: "Protocol error: unauthenticated bulk length"}
)

// ProtocolError is a malformed or over-limit request. Msg is the text Redis
// sends for the same fault, without the "ERR " prefix.
type ProtocolError struct {
	Msg string
}

// Error returns Msg.
func (e *ProtocolError) Error() string { return e.Msg }

// Is reports whether target is ErrProtocol, so every protocol error matches
// the class sentinel.
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }

// expectedDollar returns the error Redis sends when an array element does not
// start with '$'. The offending byte is written raw, as Redis does; reply
// encoders replace CR and LF.
func expectedDollar(c byte) error {
	return &ProtocolError{Msg: "Protocol error: expected '$', got '" + string([]byte{c}) + "'"}
}
