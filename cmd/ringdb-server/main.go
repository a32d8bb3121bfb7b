// Command ringdb-server runs a ringdb server: the binary protocol and RESP
// on one port. See README.md for flags; every flag but --version can also
// be set as a RINGDB_<FLAG> environment variable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/ringdb/ringdb/internal/cli"
	"github.com/ringdb/ringdb/server"
)

func main() { os.Exit(run()) }

func run() int {
	// As Redis: a write to a closed pipe or socket is an error, never the
	// end of the process. Go otherwise dies of SIGPIPE on a broken stdout
	// or stderr, so a log shipper that exits (`ringdb-server 2>&1 | ...`)
	// would take every key with it at the next log line.
	signal.Ignore(syscall.SIGPIPE)
	// As Redis too: the hangup of the terminal or SSH session it was
	// started from does not stop the server (SIGINT and SIGTERM do).
	signal.Ignore(syscall.SIGHUP)
	opts, err := cli.Parse(os.Args[1:], os.Getenv, cli.MemoryLimit, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // -h or --help: the usage is printed, nothing is wrong
		}
		if errors.Is(err, cli.ErrUsage) {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if opts.Version {
		fmt.Println("ringdb-server", server.Version)
		return 0
	}
	cfg := opts.Config
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	// The gnet transport and net/http log through slog's and log's
	// defaults: send them through this logger, at its level.
	slog.SetDefault(log)

	// The data lives outside the Go heap; give the heap (index, buffers) a
	// soft limit of what the bound leaves, unless GOMEMLIMIT says otherwise,
	// and keep it so when CONFIG SET maxmemory moves the bound.
	if os.Getenv("GOMEMLIMIT") == "" {
		if total, err := cli.MemoryLimit(); err == nil {
			debug.SetMemoryLimit(cli.HeapLimit(total, cfg.MaxMemory))
			cfg.OnMaxMemory = func(n int64) { debug.SetMemoryLimit(cli.HeapLimit(total, n)) }
		}
	}

	srv, err := server.New(cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // server's errors start with "ringdb: "
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log.Info("starting", "maxmemory", cfg.MaxMemory, "eviction", cfg.Eviction.String(), "transport", cfg.Transport)
	// An address that cannot be bound (in use, not this host's) is bad
	// configuration like any other bad value: status 2, naming the flags,
	// since gnet's bind error names neither the flag nor the address.
	if err := srv.Start(); err != nil {
		_ = srv.Shutdown(context.Background())
		fmt.Fprintf(os.Stderr, "%v: cannot listen (--listen %s, --metrics-listen %s): %v\n", cli.ErrUsage, cfg.Addr, cfg.MetricsAddr, err)
		return 2
	}
	if err := srv.Run(ctx); err != nil {
		log.Error("server stopped", "err", err)
		return 1
	}
	return 0
}
