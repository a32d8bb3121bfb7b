// Package transport carries ringdb's wire protocols: it accepts connections
// (gnet event loops by default, the standard library's net with TLS, or an
// in-memory pipe for tests), tells the binary protocol from RESP by the first
// byte, decodes requests, enforces limits and buffers replies. It does not
// know what a command means: each decoded request goes to a Handler, which
// writes its reply through a Writer in whatever protocol the connection
// speaks.
package transport

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// Proto is a connection's wire protocol, chosen by its first byte
// (binproto.Magic selects the binary protocol; anything else is RESP).
type Proto uint8

const (
	// ProtoRESP is RESP2, or RESP3 after HELLO 3.
	ProtoRESP Proto = iota
	// ProtoBinary is ringdb's binary protocol (docs/PROTOCOL.md).
	ProtoBinary
)

// Request is one decoded command. Its slices point into the connection's
// read buffer: they are valid only until Handler.Serve returns, and a handler
// that parks the request must copy what it keeps.
type Request struct {
	// Argv is a RESP command; Argv[0] is the command name as sent.
	Argv [][]byte
	// Op, ID and Args are a binary protocol request.
	Op   binproto.Opcode
	ID   uint32
	Args []binproto.Value
}

// Handler executes requests. Serve runs inline on the connection's event
// loop (or its goroutine, for the std transport): it must not block. Calls
// for one connection never overlap.
type Handler interface {
	// Open is called for each accepted connection before any request. A
	// non-nil error rejects it: the message is sent as an error and the
	// connection closed.
	Open(c *Conn) error
	// Serve executes req and writes exactly one reply to w, or parks the
	// request with c.Park and completes it later.
	Serve(c *Conn, req *Request, w *Writer)
	// Close is called once when the connection has gone.
	Close(c *Conn)
}

// Config configures a transport. Zero values take the defaults in
// docs/PROTOCOL.md.
type Config struct {
	// Addr is the listen address, e.g. "127.0.0.1:7379"; port 0 picks one.
	Addr string
	// TLS, when set, wraps every connection (std transport only).
	TLS *tls.Config
	// MaxClients caps concurrent connections (default 10,000). Past it a new
	// client gets an error and is closed.
	MaxClients int
	// IdleTimeout closes connections idle that long; 0 disables it.
	IdleTimeout time.Duration
	// QueryBufferLimit caps the unprocessed input buffered per connection.
	QueryBufferLimit int64
	// OutputHardLimit disconnects a client whose pending output exceeds it.
	OutputHardLimit int64
	// OutputSoftLimit disconnects a client whose pending output stays above
	// it for OutputSoftSeconds.
	OutputSoftLimit   int64
	OutputSoftSeconds time.Duration
	// RESP and Binary are the decoders' limits.
	RESP   RESPLimits
	Binary binproto.Limits
	// Loops is the number of gnet event loops (default GOMAXPROCS).
	Loops int
}

// RESPLimits mirrors resp.Limits so that callers need not import resp.
type RESPLimits struct {
	MaxBulk   int64
	MaxArray  int64
	MaxInline int
}

// Server is a running transport.
type Server interface {
	// Serve accepts connections and hands their requests to h until
	// Shutdown. It returns once the listener is ready to be closed, with
	// nil after Shutdown.
	Serve(h Handler) error
	// Ready is closed once the listener is bound; Addr is valid from then.
	Ready() <-chan struct{}
	// Addr is the bound address.
	Addr() net.Addr
	// Shutdown stops accepting, lets in-flight replies be written, then
	// closes every connection; it returns when done or when ctx ends.
	Shutdown(ctx context.Context) error
}
