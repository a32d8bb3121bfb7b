package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ringdb/ringdb/transport/resp"
	"github.com/stretchr/testify/require"
)

// TestAuthTokenFromEnvironment: a server started with RINGDB_AUTH_TOKEN
// refuses every command but AUTH until the client gives that password,
// as redis-server --requirepass does, from its first connection on.
func TestAuthTokenFromEnvironment(t *testing.T) {
	bin := buildServer(t)
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--listen", addr, "--maxmemory", "64MiB", "--metrics-listen", "off")
	cmd.Env = append(os.Environ(), "RINGDB_AUTH_TOKEN=s3cret")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	conn := dialRetry(t, addr)
	defer conn.Close()
	r := bufio.NewReader(conn)
	do := func(args ...string) string {
		t.Helper()
		argv := make([][]byte, len(args))
		for i, a := range args {
			argv[i] = []byte(a)
		}
		_, err := conn.Write(resp.AppendCommand(nil, argv...))
		require.NoError(t, err)
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		return line
	}
	require.True(t, strings.HasPrefix(do("SET", "k", "v"), "-NOAUTH "), "a command before AUTH")
	require.True(t, strings.HasPrefix(do("AUTH", "wrong"), "-WRONGPASS "), "AUTH with a wrong password")
	require.Equal(t, "+OK\r\n", do("AUTH", "s3cret"))
	require.Equal(t, "+OK\r\n", do("SET", "k", "v"))
}
