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
// bounded by closeWait as any close whose output does not move
// (drainStalled, in both transports). Where the queue cannot be seen (0) the
// linger ends after lingerWait.
func lingerDone(queued, at, now int64) bool {
	return queued <= 1 && time.Duration(now-at) > lingerWait
}
