package main

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

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
		var b strings.Builder
		b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
		for _, a := range args {
			b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
		}
		_, err := conn.Write([]byte(b.String()))
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
