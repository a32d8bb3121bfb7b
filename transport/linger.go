package transport

import "time"

// lingerWait is how long a graceful close drains unread input at least,
// giving the peer time to close first, once it has everything written.
const lingerWait = 500 * time.Millisecond

// A connection closing gracefully half-closes once its output is written
// to the socket, then reads and drops its input until the peer closes or
// the linger is over (lingerDone): closing a socket with unread input
// makes the kernel reset it, and a reset drops what the socket's send
// queue still holds. Both transports closed lingerWait after the
// half-close whatever that queue held, so a client still sending that
// read its replies slowly (a pipelining client at Shutdown or after QUIT)
// lost replies to requests the server had executed.

// lingerDone reports whether a connection that half-closed at time at may
// close at time now, queued being what its socket's send queue holds that
// the peer has not acknowledged (sendQueued): once lingerWait has passed
// with at most the FIN unacknowledged. A queue that does not shrink is
// bounded by closeWait as any close whose output does not move (gnet's
// drainStalled, std's linger). Where the queue cannot be seen (0) the
// linger ends after lingerWait.
func lingerDone(queued, at, now int64) bool {
	return queued <= 1 && time.Duration(now-at) > lingerWait
}

// linger follows std's half-closed connection (lingerClose).
type linger struct {
	at      int64 // when the connection half-closed (hub time)
	queued  int64 // the send queue at the last look; -1 before
	movedAt int64 // when the send queue last shrank
}

// over reports whether the linger may end at time now, given the send
// queue queued: lingerDone, or the queue has not shrunk for stall (a peer
// that stopped reading).
func (l *linger) over(queued, now int64, stall time.Duration) bool {
	if l.queued < 0 || queued < l.queued {
		l.movedAt = now
	}
	l.queued = queued
	return lingerDone(queued, l.at, now) || time.Duration(now-l.movedAt) > stall
}
