package repl

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
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
// exit code. Its stdout is a buffer, not a terminal: replies come raw
// unless args say -no-raw.
func oneShot(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// onTerminal runs ringdb-cli as if stdin and stdout were the terminals tty
// says, with stdin reading in.
func onTerminal(t *testing.T, tty terminals, in string, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(in), &out, io.Discard, tty)
	return out.String(), code
}

// TestOneShot runs every command once per way of choosing the output
// style: stdout a pipe (raw, as redis-cli), a pipe with -no-raw
// (standard), a terminal (standard) and a terminal with -raw (raw).
// The expected outputs are what redis-cli 7.0 prints for the same
// command sent to Redis.
func TestOneShot(t *testing.T) {
	cases := []struct {
		args     []string
		std, raw string // "" for a reply checked below
		code     int
	}{
		{[]string{"PING"}, "PONG\n", "PONG\n", 0},
		{[]string{"ping", "hi there"}, "\"hi there\"\n", "hi there\n", 0},
		{[]string{"GET", "k"}, "(nil)\n", "\n", 0},
		{[]string{"SET", "k", "v"}, "OK\n", "OK\n", 0},
		{[]string{"set", "k", "w", "NX"}, "(nil)\n", "\n", 0},
		{[]string{"SET", "k", "w", "GET"}, "\"v\"\n", "v\n", 0},
		{[]string{"GET", "k"}, "\"w\"\n", "w\n", 0},
		{[]string{"SET", "bin", "a\"b\x01\n\xc3"}, "OK\n", "OK\n", 0},
		{[]string{"GET", "bin"}, "\"a\\\"b\\x01\\n\\xc3\"\n", "a\"b\x01\n\xc3\n", 0},
		{[]string{"TTL", "k"}, "(integer) -1\n", "-1\n", 0},
		{[]string{"TTL", "missing"}, "(integer) -2\n", "-2\n", 0},
		{[]string{"EXPIRE", "k", "100"}, "(integer) 1\n", "1\n", 0},
		{[]string{"EXPIRE", "k", "50", "GT"}, "(integer) 0\n", "0\n", 0},
		{[]string{"TTL", "k"}, "(integer) 100\n", "100\n", 0},
		{[]string{"PERSIST", "k"}, "(integer) 1\n", "1\n", 0},
		{[]string{"SET", "t", "v", "EX", "10"}, "OK\n", "OK\n", 0},
		{[]string{"PTTL", "t"}, "", "", 0}, // checked below
		{[]string{"GETEX", "t", "PERSIST"}, "\"v\"\n", "v\n", 0},
		{[]string{"INCR", "n"}, "(integer) 1\n", "1\n", 0},
		{[]string{"INCRBY", "n", "41"}, "(integer) 42\n", "42\n", 0},
		{[]string{"DECRBY", "n", "2"}, "(integer) 40\n", "40\n", 0},
		{[]string{"DECR", "n"}, "(integer) 39\n", "39\n", 0},
		{[]string{"APPEND", "n", "0"}, "(integer) 3\n", "3\n", 0},
		{[]string{"MSET", "a", "1", "b", "2"}, "OK\n", "OK\n", 0},
		{[]string{"MGET", "a", "x", "b"}, "1) \"1\"\n2) (nil)\n3) \"2\"\n", "1\n\n2\n", 0},
		{[]string{"EXISTS", "a", "b", "x"}, "(integer) 2\n", "2\n", 0},
		{[]string{"RENAME", "a", "a2"}, "OK\n", "OK\n", 0},
		{[]string{"GETDEL", "a2"}, "\"1\"\n", "1\n", 0},
		{[]string{"DEL", "b", "x"}, "(integer) 1\n", "1\n", 0},
		{[]string{"KEYS", "bi*"}, "1) \"bin\"\n", "bin\n", 0},
		{[]string{"KEYS", "zz*"}, "(empty array)\n", "\n", 0},
		{[]string{"DBSIZE"}, "(integer) 4\n", "4\n", 0},
		// Error replies exit 1; raw, redis-cli follows one with an
		// empty line.
		{[]string{"INCR", "bin"}, "(error) ERR value is not an integer or out of range\n", "ERR value is not an integer or out of range\n\n", 1},
		{[]string{"RENAME", "nope", "x"}, "(error) ERR no such key\n", "ERR no such key\n\n", 1},
		{[]string{"SET", "k", "v", "NX", "XX"}, "(error) ERR syntax error\n", "ERR syntax error\n\n", 1},
		{[]string{"GET"}, "(error) ERR wrong number of arguments for 'get' command (usage: GET key)\n", "ERR wrong number of arguments for 'get' command (usage: GET key)\n\n", 1},
		{[]string{"NOSUCH"}, "(error) ERR unknown command 'NOSUCH' (try 'help')\n", "ERR unknown command 'NOSUCH' (try 'help')\n\n", 1},
		{[]string{"SET", strings.Repeat("k", 70000), "v"}, "(error) LIMIT key too large\n", "LIMIT key too large\n\n", 1},
		{[]string{"FLUSHALL"}, "OK\n", "OK\n", 0},
		{[]string{"SCAN", "0"}, "1) \"0\"\n2) (empty array)\n", "0\n\n", 0},
		{[]string{"SET", "only", "1"}, "OK\n", "OK\n", 0},
		{[]string{"SCAN", "0"}, "1) \"0\"\n2) 1) \"only\"\n", "0\nonly\n", 0},
	}
	for _, mode := range []struct {
		name  string
		flags []string
		tty   bool // stdout a terminal
		raw   bool // the style expected
	}{
		{"pipe", nil, false, true},
		{"pipe -no-raw", []string{"-no-raw"}, false, false},
		{"terminal", nil, true, false},
		{"terminal -raw", []string{"-raw"}, true, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			addr := startServer(t, server.Config{})
			cli := func(args ...string) (string, int) {
				args = append(append([]string{"-a", addr}, mode.flags...), args...)
				if !mode.tty { // Run's own check: a bytes.Buffer is no terminal
					out, _, code := oneShot(t, args...)
					return out, code
				}
				return onTerminal(t, terminals{out: true}, "", args...)
			}
			for _, tc := range cases {
				want := tc.std
				if mode.raw {
					want = tc.raw
				}
				out, code := cli(tc.args...)
				if code != tc.code || (want != "" && out != want) {
					t.Errorf("%.40q: got %q exit %d, want %q exit %d", tc.args, out, code, want, tc.code)
				}
				if tc.args[0] == "PTTL" {
					n, ok := strings.CutPrefix(out, "(integer) ")
					if ok == mode.raw || !strings.HasSuffix(n, "\n") {
						t.Errorf("PTTL: %q", out)
					} else if ms, err := strconv.Atoi(strings.TrimSuffix(n, "\n")); err != nil || ms <= 0 || ms > 10000 {
						t.Errorf("PTTL: %q", out)
					}
				}
			}

			// STATS prints its table either way, as redis-cli prints INFO.
			out, code := cli("STATS")
			if code != 0 || !strings.HasPrefix(out, "keys ") || !strings.Contains(out, "\nhits ") || strings.HasSuffix(out, "\n\n") {
				t.Errorf("STATS: %q", out)
			}
			out, code = cli("DIGEST")
			if code != 0 || len(out) != 17 || out[16] != '\n' {
				t.Errorf("DIGEST: %q", out)
			}
		})
	}
}

// TestOutputFlags: -raw and -no-raw (one dash or two) override the
// terminal check, the later one winning, as redis-cli's --raw and
// --no-raw; -raw=false is -no-raw.
func TestOutputFlags(t *testing.T) {
	addr := startServer(t, server.Config{})
	if out, _, code := oneShot(t, "-a", addr, "SET", "k", "v"); code != 0 || out != "OK\n" {
		t.Fatalf("SET: %q exit %d", out, code)
	}
	for _, tc := range []struct {
		flags []string
		tty   bool
		want  string
	}{
		{nil, false, "v\n"},
		{nil, true, "\"v\"\n"},
		{[]string{"--raw"}, true, "v\n"},
		{[]string{"--no-raw"}, false, "\"v\"\n"},
		{[]string{"-raw", "-no-raw"}, false, "\"v\"\n"},
		{[]string{"-no-raw", "-raw"}, false, "v\n"},
		{[]string{"-raw", "-no-raw"}, true, "\"v\"\n"},
		{[]string{"-no-raw", "-raw"}, true, "v\n"},
		{[]string{"-raw=false"}, false, "\"v\"\n"},
		{[]string{"-raw=true"}, true, "v\n"},
		{[]string{"-no-raw=false"}, true, "v\n"},
	} {
		args := append(append([]string{"-a", addr}, tc.flags...), "GET", "k")
		out, code := onTerminal(t, terminals{out: tc.tty}, "", args...)
		if code != 0 || out != tc.want {
			t.Errorf("%q, stdout a terminal: %v: %q exit %d, want %q", tc.flags, tc.tty, out, code, tc.want)
		}
	}
	if _, errOut, code := oneShot(t, "-a", addr, "-raw=maybe", "GET", "k"); code != 2 || !strings.Contains(errOut, "-raw") {
		t.Errorf("-raw=maybe: exit %d, stderr %q; want 2", code, errOut)
	}
	// -help says which style is the default where; it shows no
	// "(default true)" that changes with where stdout goes.
	for _, tty := range []bool{false, true} {
		var errOut bytes.Buffer
		run(context.Background(), []string{"-help"}, strings.NewReader(""), io.Discard, &errOut, terminals{out: tty})
		for _, want := range []string{
			"\n  -raw\n    \tprint replies raw (the default when stdout is not a terminal)\n",
			"\n  -no-raw\n    \tprint replies formatted, as \"(integer) 1\" (the default when stdout is a terminal)\n",
		} {
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("-help, stdout a terminal: %v: lacks %q:\n%s", tty, want, errOut.String())
			}
		}
	}
}

// TestStdoutFile: Run decides from stdout itself: an *os.File that is a
// regular file or a pipe is no terminal, so replies come raw.
func TestStdoutFile(t *testing.T) {
	addr := startServer(t, server.Config{})
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if code := Run(context.Background(), []string{"-a", addr, "EXISTS", "k"}, strings.NewReader(""), f, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if b, _ := os.ReadFile(f.Name()); string(b) != "0\n" {
		t.Errorf("EXISTS k to a file: %q, want raw \"0\\n\"", b)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	code := Run(context.Background(), []string{"-a", addr, "EXISTS", "k"}, strings.NewReader(""), w, io.Discard)
	w.Close()
	b, _ := io.ReadAll(r)
	if code != 0 || string(b) != "0\n" {
		t.Errorf("EXISTS k to a pipe: %q exit %d, want raw \"0\\n\"", b, code)
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

// TestInteractive feeds a script on stdin (not a terminal: no prompt,
// exit 1 after an error reply), its output a pipe (raw) or -no-raw.
func TestInteractive(t *testing.T) {
	for _, mode := range []struct {
		flags                  []string
		hello, incrErr, hello2 string
	}{
		{nil, "hello world\n", "ERR value is not an integer or out of range\n\n", "\nhello world\n"},
		{[]string{"-no-raw"}, "\"hello world\"\n", "(error) ERR value is not an integer or out of range\n", "\n\"hello world\"\n"},
	} {
		addr := startServer(t, server.Config{})
		hist := filepath.Join(t.TempDir(), "hist")
		if err := os.WriteFile(hist, []byte("old command\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		in := strings.NewReader("set k \"hello world\"\n\nget k\nhelp\nhelp get\nhistory\nset 'unbalanced\nincr k\nquit\nget k\n")
		var out bytes.Buffer
		code := Run(context.Background(), append([]string{"-a", addr, "-history", hist}, mode.flags...), in, &out, io.Discard)
		if code != 1 {
			t.Fatalf("%q: script with an error reply: exit %d, want 1", mode.flags, code)
		}
		o := out.String()
		for _, want := range []string{
			"OK\n" + mode.hello + "ringdb-cli commands",
			"  SET        key value",
			"  GET        key\n",
			"   1  old command\n",
			"   3  get k\n",
			"Invalid argument(s): unbalanced quotes\n" + mode.incrErr,
			"help [command], history, quit",
		} {
			if !strings.Contains(o, want) {
				t.Errorf("%q: output lacks %q:\n%s", mode.flags, want, o)
			}
		}
		if !strings.HasSuffix(o, mode.incrErr) || strings.Count(o, mode.hello2) != 1 {
			t.Errorf("%q: commands after quit ran:\n%s", mode.flags, o)
		}
		b, _ := os.ReadFile(hist)
		if !strings.HasPrefix(string(b), "old command\nset k \"hello world\"\nget k\n") || !strings.HasSuffix(string(b), "quit\n") {
			t.Errorf("%q: history file:\n%s", mode.flags, b)
		}
	}
}

// TestPromptedSession: a person at a terminal (stdin a terminal) gets a
// prompt and exit 0 whatever the replies were; the replies are formatted
// when stdout is the terminal too, raw when it is redirected or with
// -raw, as redis-cli's.
func TestPromptedSession(t *testing.T) {
	addr := startServer(t, server.Config{})
	p := addr + "> "
	script := "set k v\nget k\nget nokey\nincr k\nmget k nokey\nexists k\nquit\n"
	std := p + "OK\n" + p + "\"v\"\n" + p + "(nil)\n" + p + "(error) ERR value is not an integer or out of range\n" +
		p + "1) \"v\"\n2) (nil)\n" + p + "(integer) 1\n" + p
	raw := p + "OK\n" + p + "v\n" + p + "\n" + p + "ERR value is not an integer or out of range\n\n" +
		p + "v\n\n" + p + "1\n" + p
	for _, tc := range []struct {
		tty   terminals
		flags []string
		want  string
	}{
		{terminals{in: true, out: true}, nil, std},
		{terminals{in: true, out: true}, []string{"-raw"}, raw},
		{terminals{in: true}, nil, raw},
		{terminals{in: true}, []string{"-no-raw"}, std},
	} {
		args := append([]string{"-a", addr, "-history", "off"}, tc.flags...)
		out, code := onTerminal(t, tc.tty, script, args...)
		if code != 0 || out != tc.want {
			t.Errorf("%+v %q: exit %d, output\n%q\nwant\n%q", tc.tty, tc.flags, code, out, tc.want)
		}
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
	for flag, want := range map[string]string{
		"-raw":    "OK\n2\n2\n", // the default for a pipe
		"-no-raw": "OK\n(integer) 2\n\"2\"\n",
	} {
		var out bytes.Buffer
		code := Run(context.Background(), []string{"-a", addr, "-history", "off", flag},
			strings.NewReader("set a 1\nincr a\nget a\n"), &out, io.Discard)
		if code != 0 || out.String() != want {
			t.Fatalf("%s: exit %d, output %q, want %q", flag, code, out.String(), want)
		}
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
	if out, _, code := oneShot(t, "-a", addr, "incrby", "k", "-5"); code != 0 || out != "-5\n" {
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

// TestReplyStyles renders each kind of reply in both styles; the expected
// text is what redis-cli 7.0 prints for the same RESP reply (nested arrays
// from EVAL), with --no-raw and then --raw.
func TestReplyStyles(t *testing.T) {
	ten := make(arrReply, 0, 14)
	for i := 1; i <= 10; i++ {
		ten = append(ten, strReply(strconv.Itoa(i)))
	}
	ten = append(ten, arrReply{strReply("x"), arrReply{strReply("y"), strReply("z")}, arrReply{}},
		nilReply{}, strReply("a\nb"), intReply(42))
	for _, tc := range []struct {
		name     string
		r        reply
		std, raw string
	}{
		{"ok", okReply{}, "OK\n", "OK\n"},
		{"status", textReply("PONG"), "PONG\n", "PONG\n"},
		{"nil", nilReply{}, "(nil)\n", "\n"},
		{"integer", intReply(-7), "(integer) -7\n", "-7\n"},
		{"string", strReply("v"), "\"v\"\n", "v\n"},
		{"empty string", strReply(""), "\"\"\n", "\n"},
		{"binary string", strReply("a\"b\x01\n\xc3"), "\"a\\\"b\\x01\\n\\xc3\"\n", "a\"b\x01\n\xc3\n"},
		{"empty array", arrReply{}, "(empty array)\n", "\n"},
		{"array of an empty array", arrReply{arrReply{}}, "1) (empty array)\n", "\n"},
		{"array of nil", arrReply{nilReply{}}, "1) (nil)\n", "\n"},
		{"nested arrays", ten,
			" 1) \"1\"\n 2) \"2\"\n 3) \"3\"\n 4) \"4\"\n 5) \"5\"\n 6) \"6\"\n 7) \"7\"\n 8) \"8\"\n 9) \"9\"\n10) \"10\"\n" +
				"11) 1) \"x\"\n    2) 1) \"y\"\n       2) \"z\"\n    3) (empty array)\n12) (nil)\n13) \"a\\nb\"\n14) (integer) 42\n",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\nx\ny\nz\n\n\na\nb\n42\n"},
		{"stats", statsReply{"zeta": 1, "hits": 20, "keys": 3}, "keys  3\nhits  20\nzeta  1\n", "keys  3\nhits  20\nzeta  1\n"},
	} {
		var std bytes.Buffer
		(&shell{out: &std}).print(tc.r)
		if std.String() != tc.std {
			t.Errorf("%s, standard: %q, want %q", tc.name, std.String(), tc.std)
		}
		var raw bytes.Buffer
		(&shell{out: &raw, raw: true}).print(tc.r)
		if raw.String() != tc.raw {
			t.Errorf("%s, raw: %q, want %q", tc.name, raw.String(), tc.raw)
		}
	}
}

// TestDevNullIsNoTerminal: output sent to /dev/null (a character device,
// but no terminal) is not taken for a person's screen, as redis-cli's
// isatty test; nor is a pipe or a regular file.
func TestDevNullIsNoTerminal(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if isTerminal(null) {
		t.Errorf("%s taken for a terminal", os.DevNull)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(r) || isTerminal(w) {
		t.Error("a pipe taken for a terminal")
	}
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer taken for a terminal")
	}
}
