package main

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLogLevelReachesTransportLogs: the gnet transport logs through slog's
// default logger, which once stayed Go's (level info, another format), so
// --log-level debug did not show gnet's debug lines and --log-level error
// did not hide its warnings.
func TestLogLevelReachesTransportLogs(t *testing.T) {
	bin := buildServer(t)
	addr := freeAddr(t)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "--listen", addr, "--maxmemory", "64MiB", "--metrics-listen", "off", "--log-level", "debug")
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	dialRetry(t, addr).Close()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait())
	// gnet's routine lines ("Starting gnet client with N event loops",
	// "event-loop(0) is exiting ...") are logged at debug level.
	found := false
	for _, l := range strings.Split(stderr.String(), "\n") {
		found = found || strings.Contains(l, "level=DEBUG") && strings.Contains(l, "gnet")
	}
	require.True(t, found, "no gnet line in the server's format at --log-level debug:\n%s", stderr.String())
}
