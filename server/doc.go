// Package server is ringdb's command layer: the command table shared by the
// RESP and binary protocols (name or opcode → handler, arity, flags), the
// per-connection sessions (authentication, protocol version, parked
// requests), the configuration and the lifecycle that ties a core.Keyspace
// to a transport.
//
// Handlers run inline on the transport's event loop (or, for the std
// transport, on the connection's goroutine). They never block and write
// exactly one reply per request through the transport.Writer they are given
// (but for a second MONITOR, which Redis leaves unanswered).
// A command that has to wait parks its request with transport.Conn.Park and
// completes it from another goroutine.
//
// A typical embedding:
//
//	srv, err := server.New(server.DefaultConfig(), slog.Default())
//	if err != nil { ... }
//	err = srv.Run(ctx) // until ctx ends, then a graceful shutdown
package server
