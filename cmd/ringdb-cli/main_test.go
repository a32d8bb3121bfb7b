package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
)

// TestBinaryOneShot builds ringdb-cli and runs it in one-shot mode against
// an in-process server, checking output and exit status. Its stdout is a
// pipe, so replies come raw, as from redis-cli, unless -no-raw asks for
// the formatted style a terminal gets.
func TestBinaryOneShot(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "ringdb-cli")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	s, err := server.New(server.Config{Addr: "127.0.0.1:0", MetricsAddr: "off", Loops: 1},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	run := func(args ...string) (string, int) {
		out, err := exec.Command(bin, append([]string{"-a", s.Addr()}, args...)...).Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	for _, tc := range []struct {
		args []string
		out  string
		code int
	}{
		{[]string{"SET", "k", "v w"}, "OK\n", 0},
		{[]string{"GET", "k"}, "v w\n", 0},
		{[]string{"-no-raw", "GET", "k"}, "\"v w\"\n", 0},
		{[]string{"--no-raw", "GET", "k"}, "\"v w\"\n", 0},
		{[]string{"-raw", "GET", "k"}, "v w\n", 0},
		{[]string{"--no-raw", "--raw", "GET", "k"}, "v w\n", 0},
		{[]string{"GET", "nokey"}, "\n", 0},
		{[]string{"-no-raw", "GET", "nokey"}, "(nil)\n", 0},
		{[]string{"EXISTS", "k"}, "1\n", 0},
		{[]string{"-no-raw", "EXISTS", "k"}, "(integer) 1\n", 0},
		{[]string{"MGET", "k", "nokey"}, "v w\n\n", 0},
		{[]string{"-no-raw", "MGET", "k", "nokey"}, "1) \"v w\"\n2) (nil)\n", 0},
		{[]string{"INCR", "k"}, "ERR value is not an integer or out of range\n\n", 1},
		{[]string{"-no-raw", "INCR", "k"}, "(error) ERR value is not an integer or out of range\n", 1},
	} {
		out, code := run(tc.args...)
		if out != tc.out || code != tc.code {
			t.Errorf("%q: %q exit %d, want %q exit %d", tc.args, out, code, tc.out, tc.code)
		}
	}
	out, code := run("STATS")
	if code != 0 || !strings.Contains(out, "keys") {
		t.Errorf("STATS: %q exit %d", out, code)
	}

	// What scripts do: $(...) drops the trailing newline, leaving the value.
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	script := `V=$("$0" -a "$1" GET k) && printf '[%s]' "$V"`
	b, err := exec.Command(sh, "-c", script, bin, s.Addr()).Output()
	if err != nil || string(b) != "[v w]" {
		t.Errorf("V=$(ringdb-cli GET k): %q, %v; want [v w]", b, err)
	}
}
