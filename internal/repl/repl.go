// Package repl is ringdb-cli: an interactive shell and one-shot command
// runner speaking the binary protocol through the client SDK. It lives
// apart from cmd/ringdb-cli so that it can be tested.
package repl

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ringdb/ringdb/client"
	"golang.org/x/term"
)

// HistoryFile is the name of the history file in the user's home directory.
const HistoryFile = ".ringdb_history"

// maxHistory is how many lines of history are kept.
const maxHistory = 1000

// Run runs ringdb-cli with the command-line arguments args (without the
// program name) and returns the process exit code: 0 on success, 1 when a
// command got an error reply or the server cannot be reached, 2 for a bad
// command line. With command arguments it runs that one command (one-shot
// mode); otherwise it reads commands from stdin, one per line, printing a
// prompt when stdin is a terminal. Fed a script (stdin not a terminal), it
// exits 1 if any command got an error reply.
//
// As redis-cli, it prints replies in the standard (formatted) style when
// stdout is a terminal and raw otherwise; -raw and -no-raw force one.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, stdin, stdout, stderr, terminals{in: isTerminal(stdin), out: isTerminal(stdout)})
}

// terminals says which of stdin and stdout are terminals: Run finds out,
// tests choose.
type terminals struct{ in, out bool }

// run is Run with the terminal check done.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, tty terminals) int {
	fs := flag.NewFlagSet("ringdb-cli", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("a", "127.0.0.1:7379", "server address host:port")
	token := fs.String("auth", "", "auth token (default $RINGDB_AUTH_TOKEN)") // not the default value: -help would print it
	name := fs.String("name", "ringdb-cli", "client name shown by the server")
	timeout := fs.Duration("timeout", 10*time.Second, "timeout of each command (0: none)")
	useTLS := fs.Bool("tls", false, "connect with TLS")
	insecure := fs.Bool("insecure", false, "with -tls: do not verify the server certificate")
	caCert := fs.String("cacert", "", "with -tls: PEM file of the CA certificates that verify the server (default: the system's), as redis-cli's --cacert")
	histPath := fs.String("history", "", "history file (default ~/"+HistoryFile+" when stdin is a terminal, none for a script; \"off\" disables it)")
	var style outputStyle
	fs.Var(outputFlag{&style, rawStyle}, "raw", "print replies raw (the default when stdout is not a terminal)")
	fs.Var(outputFlag{&style, standardStyle}, "no-raw", "print replies formatted, as \"(integer) 1\" (the default when stdout is a terminal)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ringdb-cli [flags] [command [arg ...]]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	authSet := false
	fs.Visit(func(f *flag.Flag) { authSet = authSet || f.Name == "auth" })
	if !authSet {
		*token = os.Getenv("RINGDB_AUTH_TOKEN")
	}
	if fs.NArg() > 0 && isHelp(fs.Arg(0)) { // needs no server
		if !(&shell{out: stdout}).help(fs.Args()[1:]) {
			return 1
		}
		return 0
	}
	opts := []client.Option{client.WithPoolSize(1), client.WithClientName(*name), client.WithAuthToken(*token)}
	if *caCert != "" && !*useTLS {
		fmt.Fprintln(stderr, "ringdb-cli: -cacert needs -tls")
		return 2
	}
	if *useTLS {
		cfg := &tls.Config{InsecureSkipVerify: *insecure}
		if *caCert != "" {
			pool, err := loadCAs(*caCert)
			if err != nil {
				fmt.Fprintf(stderr, "ringdb-cli: -cacert %s: %v\n", *caCert, err)
				return 2
			}
			cfg.RootCAs = pool
		}
		opts = append(opts, client.WithTLS(cfg))
	}
	dctx, cancel := withTimeout(ctx, *timeout)
	c, err := client.New(dctx, *addr, opts...)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "Could not connect to ringdb at %s: %v\n", *addr, err)
		return 1
	}
	defer c.Close()
	s := &shell{c: c, timeout: *timeout, out: stdout, raw: style == rawStyle}
	if style == autoStyle { // redis-cli's rule: formatted for a person, raw for a pipe or file
		s.raw = !tty.out
	}
	if fs.NArg() > 0 {
		if !s.exec(ctx, fs.Args()) {
			return 1
		}
		return 0
	}
	if tty.in {
		s.prompt = *addr + "> "
	}
	if *histPath == "" && s.prompt != "" {
		// As redis-cli, only a person's typing goes to the default
		// history file: a script fed on stdin (cron, a pipe) would fill
		// it forever, with whatever values it sets.
		if home, err := os.UserHomeDir(); err == nil {
			*histPath = filepath.Join(home, HistoryFile)
		}
	}
	if *histPath != "off" {
		s.histPath = *histPath // "" for a script without -history: none
	}
	s.loadHistory()
	if !s.loop(ctx, stdin) && s.prompt == "" {
		return 1 // a script (stdin not a terminal) had an error reply
	}
	return 0
}

// loadCAs reads the PEM certificates of file into a pool.
func loadCAs(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, errors.New("no PEM certificate in it")
	}
	return pool, nil
}

// outputStyle is how replies are printed: as -raw or -no-raw say, or
// by whether stdout is a terminal.
type outputStyle int

const (
	autoStyle outputStyle = iota
	rawStyle
	standardStyle
)

// outputFlag is -raw or -no-raw. Both set one style, the later on the
// command line winning, as redis-cli's --raw and --no-raw; -raw=false is
// -no-raw and -no-raw=false is -raw.
type outputFlag struct {
	style *outputStyle
	sets  outputStyle // rawStyle or standardStyle
}

func (f outputFlag) IsBoolFlag() bool { return true }

func (f outputFlag) String() string {
	return strconv.FormatBool(f.style != nil && *f.style == f.sets)
}

func (f outputFlag) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	switch {
	case b:
		*f.style = f.sets
	case f.sets == rawStyle:
		*f.style = standardStyle
	default:
		*f.style = rawStyle
	}
	return nil
}

// isTerminal reports whether stdin or stdout f is a terminal, i.e. a
// person is typing or reading: then the shell prints prompts (stdin) and
// formatted replies (stdout). It asks the terminal driver (isatty), as
// redis-cli does: /dev/null is a character device too, and a script whose
// output goes there is no person.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// shell is one CLI session.
type shell struct {
	c        *client.Client
	timeout  time.Duration
	out      io.Writer
	raw      bool // redis-cli's raw output, else its standard (formatted) one
	prompt   string
	history  []string
	histPath string
}

// withTimeout is context.WithTimeout where d <= 0 means no timeout, as
// for the SDK's own timeouts (a zero timeout made every command fail).
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// exec runs one command and prints its reply; it reports success.
func (s *shell) exec(ctx context.Context, args []string) bool {
	ctx, cancel := withTimeout(ctx, s.timeout)
	defer cancel()
	r, err := execute(ctx, s.c, args)
	switch {
	case err != nil && s.raw:
		// redis-cli ends a raw error with a newline and then ends the
		// reply with another: an empty line follows.
		fmt.Fprint(s.out, errorText(err), "\n\n")
	case err != nil:
		fmt.Fprintln(s.out, "(error)", errorText(err))
	default:
		s.print(r)
	}
	return err == nil
}

// print prints a reply in the session's style, ending it with a newline.
func (s *shell) print(r reply) {
	if s.raw {
		s.out.Write(append(r.appendRaw(nil), '\n'))
		return
	}
	r.write(s.out, "")
}

// loop reads, evaluates and prints until EOF, "quit" or "exit". It reports
// whether every command succeeded.
func (s *shell) loop(ctx context.Context, in io.Reader) bool {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<30)
	allOK := true
	for {
		fmt.Fprint(s.out, s.prompt)
		if !sc.Scan() {
			if s.prompt != "" {
				fmt.Fprintln(s.out)
			}
			if err := sc.Err(); err != nil { // a line over 1 GiB, or a read error
				fmt.Fprintln(s.out, "Error reading input:", err)
				return false
			}
			return allOK
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		s.remember(line)
		args, err := splitLine(line)
		if err != nil {
			fmt.Fprintln(s.out, "Invalid argument(s):", err)
			allOK = false
			continue
		}
		if isHelp(args[0]) {
			s.help(args[1:])
			continue
		}
		switch strings.ToLower(args[0]) {
		case "quit", "exit":
			return allOK
		case "history":
			for i, h := range s.history {
				fmt.Fprintf(s.out, "%4d  %s\n", i+1, h)
			}
			continue
		}
		if !s.exec(ctx, args) {
			allOK = false
		}
	}
}

// isHelp reports whether name is the help command.
func isHelp(name string) bool {
	return strings.EqualFold(name, "help") || name == "?"
}

// help lists every command, or describes the named ones. It reports
// whether every name was a command.
func (s *shell) help(names []string) bool {
	if len(names) == 0 {
		fmt.Fprintln(s.out, "ringdb-cli commands (case-insensitive; quote arguments with \"...\" or '...'):")
		all := make([]string, 0, len(commands))
		for n := range commands {
			all = append(all, n)
		}
		slices.Sort(all)
		names = all
		defer fmt.Fprintln(s.out, "  help [command], history, quit")
	}
	known := true
	for _, n := range names {
		cmd, ok := commands[strings.ToUpper(n)]
		if !ok {
			fmt.Fprintf(s.out, "unknown command '%s'\n", n)
			known = false
			continue
		}
		usage := strings.TrimRight(fmt.Sprintf("  %-10s %s", strings.ToUpper(n), cmd.args), " ")
		fmt.Fprintf(s.out, "%s\n  %-10s   %s\n", usage, "", cmd.summary)
	}
	return known
}

// loadHistory reads the history file, if any.
func (s *shell) loadHistory() {
	if s.histPath == "" {
		return
	}
	b, err := os.ReadFile(s.histPath)
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			s.history = append(s.history, l)
		}
	}
	if len(s.history) > maxHistory {
		s.history = s.history[len(s.history)-maxHistory:]
	}
}

// remember adds line to the history in memory and appends it to the
// history file.
func (s *shell) remember(line string) {
	s.history = append(s.history, line)
	if len(s.history) > maxHistory {
		s.history = s.history[1:]
	}
	if s.histPath == "" {
		return
	}
	f, err := os.OpenFile(s.histPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	fmt.Fprintln(f, line)
	f.Close()
}
