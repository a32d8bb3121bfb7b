package repl

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ringdb/ringdb/server"
)

func startServer(t *testing.T, cfg server.Config) string {
	t.Helper()
	cfg.Addr, cfg.MetricsAddr, cfg.Loops = "127.0.0.1:0", "off", 2
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	return s.Addr()
}

// oneShot runs ringdb-cli with args and returns stdout, stderr and the
// exit code.
func oneShot(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestOneShot(t *testing.T) {
	addr := startServer(t, server.Config{})
	cases := []struct {
		args []string
		out  string
		code int
	}{
		{[]string{"PING"}, "PONG\n", 0},
		{[]string{"ping", "hi there"}, "\"hi there\"\n", 0},
		{[]string{"GET", "k"}, "(nil)\n", 0},
		{[]string{"SET", "k", "v"}, "OK\n", 0},
		{[]string{"set", "k", "w", "NX"}, "(nil)\n", 0},
		{[]string{"SET", "k", "w", "GET"}, "\"v\"\n", 0},
		{[]string{"GET", "k"}, "\"w\"\n", 0},
		{[]string{"SET", "bin", "a\"b\x01"}, "OK\n", 0},
		{[]string{"GET", "bin"}, "\"a\\\"b\\x01\"\n", 0},
		{[]string{"TTL", "k"}, "(integer) -1\n", 0},
		{[]string{"TTL", "missing"}, "(integer) -2\n", 0},
		{[]string{"EXPIRE", "k", "100"}, "(integer) 1\n", 0},
		{[]string{"EXPIRE", "k", "50", "GT"}, "(integer) 0\n", 0},
		{[]string{"TTL", "k"}, "(integer) 100\n", 0},
		{[]string{"PERSIST", "k"}, "(integer) 1\n", 0},
		{[]string{"SET", "t", "v", "EX", "10"}, "OK\n", 0},
		{[]string{"PTTL", "t"}, "", 0}, // checked below
		{[]string{"GETEX", "t", "PERSIST"}, "\"v\"\n", 0},
		{[]string{"INCR", "n"}, "(integer) 1\n", 0},
		{[]string{"INCRBY", "n", "41"}, "(integer) 42\n", 0},
		{[]string{"DECRBY", "n", "2"}, "(integer) 40\n", 0},
		{[]string{"DECR", "n"}, "(integer) 39\n", 0},
		{[]string{"APPEND", "n", "0"}, "(integer) 3\n", 0},
		{[]string{"MSET", "a", "1", "b", "2"}, "OK\n", 0},
		{[]string{"MGET", "a", "x", "b"}, "1) \"1\"\n2) (nil)\n3) \"2\"\n", 0},
		{[]string{"EXISTS", "a", "b", "x"}, "(integer) 2\n", 0},
		{[]string{"RENAME", "a", "a2"}, "OK\n", 0},
		{[]string{"GETDEL", "a2"}, "\"1\"\n", 0},
		{[]string{"DEL", "b", "x"}, "(integer) 1\n", 0},
		{[]string{"KEYS", "bi*"}, "1) \"bin\"\n", 0},
		{[]string{"DBSIZE"}, "(integer) 4\n", 0},
		// Error replies exit 1.
		{[]string{"INCR", "bin"}, "(error) ERR value is not an integer or out of range\n", 1},
		{[]string{"RENAME", "nope", "x"}, "(error) ERR no such key\n", 1},
		{[]string{"SET", "k", "v", "NX", "XX"}, "(error) ERR syntax error\n", 1},
		{[]string{"GET"}, "(error) ERR wrong number of arguments for 'get' command (usage: GET key)\n", 1},
		{[]string{"NOSUCH"}, "(error) ERR unknown command 'NOSUCH' (try 'help')\n", 1},
		{[]string{"SET", strings.Repeat("k", 70000), "v"}, "(error) LIMIT key too large\n", 1},
		{[]string{"FLUSHALL"}, "OK\n", 0},
		{[]string{"SCAN", "0"}, "1) \"0\"\n2) (empty array)\n", 0},
	}
	for _, tc := range cases {
		out, errOut, code := oneShot(t, append([]string{"-a", addr}, tc.args...)...)
		if code != tc.code || (tc.out != "" && out != tc.out) {
			t.Errorf("%.40q: got %q (stderr %q) exit %d, want %q exit %d", tc.args, out, errOut, code, tc.out, tc.code)
		}
		if tc.args[0] == "PTTL" && !strings.HasPrefix(out, "(integer) ") {
			t.Errorf("PTTL: %q", out)
		}
	}

	out, _, code := oneShot(t, "-a", addr, "STATS")
	if code != 0 || !strings.Contains(out, "keys ") || !strings.Contains(out, "hits ") {
		t.Errorf("STATS: %q", out)
	}
	out, _, code = oneShot(t, "-a", addr, "DIGEST")
	if code != 0 || len(strings.TrimSpace(out)) != 16 {
		t.Errorf("DIGEST: %q", out)
	}
}

func TestConnectErrors(t *testing.T) {
	addr := startServer(t, server.Config{AuthToken: "tok"})
	_, errOut, code := oneShot(t, "-a", addr, "PING")
	if code != 1 || !strings.Contains(errOut, "authentication") {
		t.Errorf("no token: exit %d, %q", code, errOut)
	}
	out, _, code := oneShot(t, "-a", addr, "-auth", "tok", "PING")
	if code != 0 || out != "PONG\n" {
		t.Errorf("token: exit %d, %q", code, out)
	}
	_, _, code = oneShot(t, "-bogus")
	if code != 2 {
		t.Errorf("bad flag: exit %d", code)
	}
}

func TestInteractive(t *testing.T) {
	addr := startServer(t, server.Config{})
	hist := filepath.Join(t.TempDir(), "hist")
	if err := os.WriteFile(hist, []byte("old command\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := strings.NewReader("set k \"hello world\"\n\nget k\nhelp\nhelp get\nhistory\nset 'unbalanced\nincr k\nquit\nget k\n")
	var out bytes.Buffer
	code := Run(context.Background(), []string{"-a", addr, "-history", hist}, in, &out, io.Discard)
	if code != 1 {
		t.Fatalf("script with an error reply: exit %d, want 1", code)
	}
	o := out.String()
	for _, want := range []string{
		"OK\n",
		"\"hello world\"\n",
		"  SET        key value",
		"  GET        key\n",
		"   1  old command\n",
		"   3  get k\n",
		"Invalid argument(s): unbalanced quotes",
		"(error) ERR value is not an integer",
		"help [command], history, quit",
	} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	if strings.Count(o, "\n\"hello world\"\n") != 1 {
		t.Errorf("commands after quit ran:\n%s", o)
	}
	b, _ := os.ReadFile(hist)
	if !strings.HasPrefix(string(b), "old command\nset k \"hello world\"\nget k\n") || !strings.HasSuffix(string(b), "quit\n") {
		t.Errorf("history file:\n%s", b)
	}
}

func TestSplitLine(t *testing.T) {
	cases := map[string][]string{
		`set k v`:                {"set", "k", "v"},
		`  set   "a b"  'c d'  `: {"set", "a b", "c d"},
		`set k "x\ny\x41\"\\"`:   {"set", "k", "x\nyA\"\\"},
		`set k 'it\'s'`:          {"set", "k", "it's"},
		`set k ""`:               {"set", "k", ""},
		`set k "\a\b\z"`:         {"set", "k", "\a\bz"}, // redis-cli's \a (bell) and \b (backspace)
		// As redis-cli: a quote may open mid-word, \x needs two hex
		// digits, a trailing escape is an escaped character.
		`set ab"c d" e'f g'`:         {"set", "abc d", "ef g"},
		`set k "\x4" "\xZZ" "\x41B"`: {"set", "k", "x4", "xZZ", "AB"},
		// \v and \f are skipped between arguments, but do not end one.
		"set \vk\fv \fx": {"set", "k\fv", "x"},
		`set k "a\\"`:    {"set", "k", "a\\"},
	}
	for in, want := range cases {
		got, err := splitLine(in)
		if err != nil || strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("splitLine(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`set "k`, `set 'k`, `set "a"b`, `set a"b"c`, `set "a\"`, `set 'a\'`} {
		if _, err := splitLine(in); err == nil {
			t.Errorf("splitLine(%q): no error", in)
		}
	}
}

func TestScriptOK(t *testing.T) {
	addr := startServer(t, server.Config{})
	var out bytes.Buffer
	code := Run(context.Background(), []string{"-a", addr, "-history", "off"},
		strings.NewReader("set a 1\nincr a\nget a\n"), &out, io.Discard)
	if code != 0 || out.String() != "OK\n(integer) 2\n\"2\"\n" {
		t.Fatalf("exit %d, output %q", code, out.String())
	}
}

// TestOneShotHelp: "ringdb-cli help" answered "unknown command 'help'
// (try 'help')"; it prints the command list, as "help" does in the shell,
// and needs no server.
func TestOneShotHelp(t *testing.T) {
	out, errOut, code := oneShot(t, "-a", "127.0.0.1:1", "help")
	if code != 0 || !strings.Contains(out, "  SET        key value") {
		t.Errorf("help: %q (stderr %q) exit %d", out, errOut, code)
	}
	out, _, code = oneShot(t, "-a", "127.0.0.1:1", "HELP", "get")
	if code != 0 || !strings.Contains(out, "  GET        key\n") || strings.Contains(out, "SET") {
		t.Errorf("help get: %q exit %d", out, code)
	}
	out, _, code = oneShot(t, "-a", "127.0.0.1:1", "help", "nosuch")
	if code != 1 || !strings.Contains(out, "unknown command 'nosuch'") {
		t.Errorf("help nosuch: %q exit %d", out, code)
	}
}

// TestHelpHidesAuthToken: the -auth flag's default was $RINGDB_AUTH_TOKEN
// itself, so -help printed the secret (`(default "s3cret")`). The token
// is still read from the environment.
func TestHelpHidesAuthToken(t *testing.T) {
	t.Setenv("RINGDB_AUTH_TOKEN", "s3cret-token")
	_, errOut, code := oneShot(t, "-help")
	if code != 0 || !strings.Contains(errOut, "-auth") || strings.Contains(errOut, "s3cret-token") {
		t.Errorf("-help: exit %d, %q", code, errOut)
	}
	addr := startServer(t, server.Config{AuthToken: "s3cret-token"})
	if out, errOut, code := oneShot(t, "-a", addr, "PING"); code != 0 || out != "PONG\n" {
		t.Errorf("token from the environment: %q (stderr %q) exit %d", out, errOut, code)
	}
	if _, _, code := oneShot(t, "-a", addr, "-auth", "wrong", "PING"); code != 1 {
		t.Errorf("-auth wrong over the environment's token: exit %d, want 1", code)
	}
}

// TestZeroTimeoutMeansNone: -timeout 0 made every command fail with an
// i/o timeout (a context that had already ended); 0 now means none, as
// for the SDK's timeouts.
func TestZeroTimeoutMeansNone(t *testing.T) {
	addr := startServer(t, server.Config{})
	out, errOut, code := oneShot(t, "-a", addr, "-timeout", "0", "PING")
	if code != 0 || out != "PONG\n" {
		t.Fatalf("-timeout 0 PING: code %d, out %q, err %q", code, out, errOut)
	}
}

// TestIntegersParsedAsRedisDoes: integer arguments went through
// strconv.ParseInt, which takes "+5" and "010"; redis-cli sends them to
// Redis, which refuses both, so the same script meant different things.
func TestIntegersParsedAsRedisDoes(t *testing.T) {
	addr := startServer(t, server.Config{})
	for _, n := range []string{"+5", "010", " 5", "-0", "5.0", "9223372036854775808"} {
		out, _, code := oneShot(t, "-a", addr, "incrby", "k", n)
		if code != 1 || !strings.Contains(out, "not an integer") {
			t.Errorf("incrby k %q: %q exit %d, want the integer error", n, out, code)
		}
	}
	if out, _, code := oneShot(t, "-a", addr, "incrby", "k", "-5"); code != 0 || out != "(integer) -5\n" {
		t.Errorf("incrby k -5: %q exit %d", out, code)
	}
}

// TestScriptReadError: a read error on stdin (or a line over the
// scanner's 1 GiB) ended the script silently with exit 0, as if every
// command had run.
func TestScriptReadError(t *testing.T) {
	addr := startServer(t, server.Config{})
	var out bytes.Buffer
	in := io.MultiReader(strings.NewReader("set a 1\n"), iotest.ErrReader(errors.New("disk gone")))
	code := Run(context.Background(), []string{"-a", addr, "-history", "off"}, in, &out, io.Discard)
	if code != 1 || !strings.Contains(out.String(), "Error reading input: disk gone") || !strings.HasPrefix(out.String(), "OK\n") {
		t.Fatalf("exit %d, output %q", code, out.String())
	}
}

// TestScriptKeepsNoDefaultHistory: a script fed on stdin (a pipe, cron)
// was appended to ~/.ringdb_history, values and all, run after run; as
// redis-cli, only an interactive session (stdin a terminal) uses the
// default history file. An explicit -history still records a script.
func TestScriptKeepsNoDefaultHistory(t *testing.T) {
	addr := startServer(t, server.Config{})
	home := t.TempDir()
	t.Setenv("HOME", home)
	var out bytes.Buffer
	code := Run(context.Background(), []string{"-a", addr}, strings.NewReader("set token s3cret\n"), &out, io.Discard)
	if code != 0 || out.String() != "OK\n" {
		t.Fatalf("exit %d, output %q", code, out.String())
	}
	if b, err := os.ReadFile(filepath.Join(home, HistoryFile)); err == nil {
		t.Errorf("a script wrote the default history file:\n%s", b)
	}
}

// TestQuoteAsRedisCLI: replies are quoted as redis-cli's sdscatrepr
// quotes them; BEL and BS came out as \x07 and \x08 where redis-cli
// prints \a and \b.
func TestQuoteAsRedisCLI(t *testing.T) {
	for in, want := range map[string]string{
		"a\ab\bc":          `"a\ab\bc"`,
		"\"\\\n\r\t":       `"\"\\\n\r\t"`,
		"\x00\x1f\x7f\xc3": `"\x00\x1f\x7f\xc3"`,
		"plain text ~":     `"plain text ~"`,
	} {
		if got := quote([]byte(in)); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}
