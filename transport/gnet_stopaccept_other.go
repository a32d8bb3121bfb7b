//go:build !linux

package transport

import "github.com/panjf2000/gnet/v2"

// Shutting a listening socket ends the listening state on Linux only;
// elsewhere the engine's loops are stopped directly
// (gnetServer.stopLoops), and no duplicate of the listener is kept.

func dupListener(gnet.Engine) int { return -1 }

func stopAccepting(int) bool { return false }

func closeListenerDup(int) {}
