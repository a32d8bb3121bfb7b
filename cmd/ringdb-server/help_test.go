package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestHelpIsNotBadConfiguration: --help prints the usage and exits 0. It
// used to add "ringdb: bad configuration: flag: help requested" and exit
// 2, the status reserved for bad configuration.
func TestHelpIsNotBadConfiguration(t *testing.T) {
	bin := buildServer(t)
	out, err := exec.Command(bin, "--help").CombinedOutput()
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	if code != 0 || strings.Contains(string(out), "bad configuration") {
		t.Fatalf("--help: exit %d, output ends %q", code, out[max(0, len(out)-80):])
	}
}
