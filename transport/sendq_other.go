//go:build !linux

package transport

// socketSendQueued is not known here: progress is seen in the transport's
// own buffer only.
func socketSendQueued(uintptr) int64 { return 0 }

// socketRecvQueued is not known here: a client whose request waits unread
// when its idle timeout passes is closed as idle.
func socketRecvQueued(uintptr) int64 { return 0 }

// socketAcked is not known here: a close sees progress in its writes only.
func socketAcked(uintptr) int64 { return 0 }
