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
	// Fault, when not nil, is why a binary request's body could not be
	// read (a *binproto.Error: a value over its limit, a truncated value,
	// an unknown tag, trailing bytes); Args is nil. The handler answers
	// it with an error reply of Fault's class and message, and counts it
	// as it counts its own. The connection goes on.
	Fault error
}

// Handler executes requests. Serve runs inline on the connection's event
// loop (for the std transport and Pipe, on one of the connection's two
// goroutines, under its processing lock): it must not block. Calls for one
// connection never overlap, and each happens after the previous one.
// A Handler is shared by all connections, so it must be safe for
// concurrent use across connections.
type Handler interface {
	// Open is called for each accepted connection that MaxClients admits,
	// as soon as it is accepted and before any request, so a client that has
	// not sent a byte yet already has its session (Redis lists and kills
	// such clients too). c.Proto is not known yet: it reads ProtoRESP until
	// the first byte arrives. It runs where the transport accepts (the gnet
	// event loop; the std and pipe accept loop), so it must not block. A
	// non-nil error rejects the connection: when its first byte arrives, the
	// message is sent as an error in the protocol that byte chose (a
	// *binproto.Error keeps its class; any other error is class ERR) and the
	// connection closed; one that sends nothing is closed after a second, as
	// one refused by MaxClients.
	Open(c *Conn) error
	// Serve executes req and writes exactly one reply to w, or parks the
	// request with c.Park and completes it later.
	Serve(c *Conn, req *Request, w *Writer)
	// Close is called once when the connection has gone, if Open succeeded.
	// Parked requests of c can no longer be completed by then; a handler
	// drops its waiters here.
	Close(c *Conn)
}

// Prefetcher is an optional interface of a Handler. When one read brings
// two or more complete RESP requests, the transport passes the second
// argument of each (for most commands, the key) to Prefetch before serving
// any of them, so that the handler can bring what they will touch into the
// CPU cache at once: their memory misses then overlap instead of adding up.
// Prefetch must not change any state or write anything; keys are valid only
// during the call.
type Prefetcher interface {
	Prefetch(c *Conn, keys [][]byte)
}

// Config configures a transport. Zero values take the defaults in
// docs/PROTOCOL.md (the Default... constants); a negative QueryBufferLimit,
// OutputHardLimit, OutputSoftLimit or MaxClients disables that limit.
type Config struct {
	// Addr is the listen address, e.g. "127.0.0.1:7379"; port 0 picks one.
	Addr string
	// TLS, when set, wraps every connection (std transport only).
	TLS *tls.Config
	// MaxClients caps concurrent connections (default 10,000). Past it a new
	// client gets an error and is closed.
	MaxClients int
	// MaxOpen caps open connections, refused ones included, so that a
	// burst of connections cannot use up the process's file descriptors
	// (gnet's accept loop stops the whole server when accept fails with
	// EMFILE). Past it a new connection is closed at once, unanswered, and
	// counted as rejected. Default: the open-file limit less ReservedFDs and
	// two per event loop, or none when that limit is unknown; negative: no
	// cap.
	MaxOpen int
	// IdleTimeout closes connections idle that long; 0 disables it.
	IdleTimeout time.Duration
	// QueryBufferLimit caps the unprocessed input buffered per connection.
	QueryBufferLimit int64
	// OutputHardLimit disconnects a client whose pending output exceeds it.
	OutputHardLimit int64
	// OutputSoftLimit disconnects a client whose pending output stays above
	// it for OutputSoftSeconds.
	OutputSoftLimit int64
	// OutputSoftSeconds is how long pending output may stay above
	// OutputSoftLimit.
	OutputSoftSeconds time.Duration
	// RESP and Binary are the decoders' limits.
	RESP   RESPLimits
	Binary binproto.Limits
	// Loops is the number of gnet event loops (default GOMAXPROCS).
	Loops int

	// waits shortens internal timings (config.go) for this package's tests
	// of what happens once a wait has run out, so that each need not take
	// seconds. Unexported: outside the package the defaults always hold.
	waits waits
}

// RESPLimits mirrors resp.Limits so that callers need not import resp.
// Zero fields take resp's defaults.
type RESPLimits struct {
	// MaxBulk is the largest bulk string length ($n) a request may declare.
	MaxBulk int64
	// MaxArray is the largest element count (*n) a request may declare.
	MaxArray int64
	// MaxInline is the longest inline command line, in bytes.
	MaxInline int
}

// Server is a running transport. Each implementation (NewGnet, NewStd,
// NewPipe) also implements StatsProvider.
type Server interface {
	// Serve accepts connections and hands their requests to h until
	// Shutdown. It returns once the listener is ready to be closed, with
	// nil after Shutdown; a listen error is returned at once (Ready is then
	// never closed). A Server serves once: Serve after Serve or after
	// Shutdown returns ErrServerClosed.
	Serve(h Handler) error
	// Ready is closed once the listener is bound; Addr is valid from then.
	Ready() <-chan struct{}
	// Addr is the bound address.
	Addr() net.Addr
	// Shutdown stops accepting, lets in-flight replies be written, then
	// closes every connection; it returns when done or when ctx ends (with
	// ctx's error; connections left are then closed without waiting).
	// Binary clients get a DISCONNECT push first. Requests still parked
	// are abandoned: Handler.Close is called for their connections.
	Shutdown(ctx context.Context) error
}
