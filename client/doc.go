// Package client is the Go SDK for ringdb over its binary protocol
// (docs/PROTOCOL.md).
//
// A *Client is safe for concurrent use by many goroutines. It keeps a small
// pool of connections (WithPoolSize) and multiplexes every call over them:
// each request carries an id, and replies are matched back to their callers
// by that id. A call goes to the connection with the fewest calls in
// flight, so a lightly loaded client keeps using one warm connection.
// Requests issued concurrently on one connection are coalesced into a single
// vectored write: the caller that finds the connection's writer role free
// yields once, then writes everything queued so far, and frames queued while
// a write is under way are written by the next turn (automatic
// pipelining). Many callers therefore cost few syscalls without any explicit
// batching; Pipeline gives explicit batching on top of that.
//
// Every call takes a context.Context. When the context ends before the reply
// arrives the call returns ctx.Err(); the late reply is discarded by id and
// the connection stays usable for everyone else (a frame whose write the
// context cut short is finished in the background, within the write
// timeout). A write whose context ended may or may not have been applied
// by the server.
//
// A connection that breaks fails the calls in flight on it with an error
// matching ErrConnLost, and is re-dialled with exponential backoff by the next
// call that needs it. Calls that cannot change data (GET, MGET, EXISTS, TTL,
// SCAN, DBSIZE, STATS, DIGEST, PING), and GETEX without a TTL or deadline
// (plain, or PERSIST), are retried once on a fresh connection; writes are
// not, because the server may already have applied them.
// The exception is a call the server is known not to have run: one that
// never reached the wire, or one still waiting when the server announced
// with a DISCONNECT push (shutdown, idle timeout, a buffer limit) that it
// was closing the connection, since the server answers everything it ran
// before that push and runs nothing after it. Such a call, read or write,
// is re-sent on a fresh connection, and if it still fails its error
// matches ErrNotExecuted as well as ErrConnLost.
//
// Server errors are *ServerError values carrying the protocol's error class;
// match them with errors.Is against ErrWrongType, ErrOOM, ErrReadOnly,
// ErrAuth, ErrLimit, ErrProtocol and ErrNotFound, or errors.As for the
// message.
//
// Byte slices returned by calls are owned by the caller: the client never
// writes to them again. Values of replies up to 512 bytes share 32 KiB
// blocks with other replies, so a caller that keeps a few small values for
// long keeps their blocks alive and should copy them. Byte slices passed
// in may be reused once the call has returned.
package client
