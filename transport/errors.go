package transport

import "errors"

// Errors returned by transports and connections.
var (
	// ErrServerClosed is returned by Serve on a Server that has already
	// served or has been shut down, and by Pipe.Dial after Shutdown.
	ErrServerClosed = errors.New("ringdb: server closed")
	// ErrConnClosed is returned by Conn.Push on a closed connection.
	ErrConnClosed = errors.New("ringdb: connection closed")
	// ErrNotReady is returned by Conn.Push on a connection that has not
	// sent its first byte yet, so has no protocol to write the push in.
	ErrNotReady = errors.New("ringdb: connection has not chosen its protocol yet")
	// ErrOutputLimit is returned by Conn.Push when the push would take the
	// connection over its output hard limit; the client is disconnected.
	ErrOutputLimit = errors.New("ringdb: output buffer limit reached")
	// ErrTLSUnsupported is returned by the gnet transport's Serve when
	// Config.TLS is set: TLS needs the std transport.
	ErrTLSUnsupported = errors.New("ringdb: TLS needs the std transport")

	// errEmptyPush is returned by Conn.Push on the binary protocol when fn
	// wrote no value (a frame body must hold exactly one).
	errEmptyPush = errors.New("ringdb: push wrote no value")
	// errEngineStopped is returned by the gnet transport's Serve when the
	// engine stopped without Shutdown (an accept failure).
	errEngineStopped = errors.New("ringdb: gnet engine stopped")
)
