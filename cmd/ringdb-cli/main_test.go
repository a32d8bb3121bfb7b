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
// an in-process server, checking output and exit status.
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
		{[]string{"SET", "k", "v"}, "OK\n", 0},
		{[]string{"GET", "k"}, "\"v\"\n", 0},
		{[]string{"EXISTS", "k"}, "(integer) 1\n", 0},
		{[]string{"INCR", "k"}, "(error) ERR value is not an integer or out of range\n", 1},
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
}
