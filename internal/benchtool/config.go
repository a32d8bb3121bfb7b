// Package benchtool implements ringdb-bench, a closed- or open-loop load
// generator for ringdb (binary protocol, through the client SDK) and for any
// RESP server such as Redis (through a minimal pipelined RESP client).
package benchtool

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Config is one benchmark run.
type Config struct {
	Addr       string
	Protocol   string // "binary" or "resp"
	Clients    int
	Pipeline   int
	Duration   time.Duration // 0 when Requests is used
	Requests   int64         // 0 when Duration is used
	SetRatio   int
	GetRatio   int
	KeyPattern string // "uniform" or "zipf"
	Keyspace   int64
	DataSize   int
	Rate       float64 // total ops/s cap, 0 = unlimited (closed loop)
	JSON       bool
}

// Ratio returns the ratio as "set:get".
func (c Config) Ratio() string { return fmt.Sprintf("%d:%d", c.SetRatio, c.GetRatio) }

// errHelp is returned by ParseFlags for -h/--help.
var errHelp = flag.ErrHelp

// ParseFlags parses and validates the command line. Usage and parse errors
// are written to errOut.
func ParseFlags(args []string, errOut io.Writer) (Config, error) {
	var c Config
	var ratio string
	fs := flag.NewFlagSet("ringdb-bench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:7379", "server address host:port")
	fs.StringVar(&c.Protocol, "protocol", "binary", "protocol: binary (ringdb SDK) or resp (ringdb or Redis)")
	fs.IntVar(&c.Clients, "clients", 50, "concurrent callers (binary: goroutines sharing one *client.Client; resp: one connection each)")
	fs.IntVar(&c.Pipeline, "pipeline", 1, "commands per explicit batch (1 = no explicit pipeline)")
	fs.DurationVar(&c.Duration, "duration", 0, "run for this long (default 10s unless --requests is set)")
	fs.Int64Var(&c.Requests, "requests", 0, "total requests to send, split across clients (excludes --duration)")
	fs.StringVar(&ratio, "ratio", "1:10", "set:get mix, e.g. 1:10, 1:0 (sets only), 0:1 (gets only)")
	fs.StringVar(&c.KeyPattern, "key-pattern", "uniform", "key distribution: uniform or zipf")
	fs.Int64Var(&c.Keyspace, "keyspace", 100000, "number of distinct keys")
	fs.IntVar(&c.DataSize, "data-size", 64, "value size in bytes for SET")
	fs.Float64Var(&c.Rate, "rate", 0, "total ops/s cap, open-loop (latency from intended send time); 0 = unlimited")
	fs.BoolVar(&c.JSON, "json", false, "print one JSON object on stdout instead of the table")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	durSet := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "duration" {
			durSet = true
		}
	})
	var err error
	if c.SetRatio, c.GetRatio, err = parseRatio(ratio); err != nil {
		return c, err
	}
	if durSet && c.Requests > 0 {
		return c, errors.New("--duration and --requests are mutually exclusive")
	}
	if !durSet && c.Requests == 0 {
		c.Duration = 10 * time.Second
	}
	return c, c.Validate()
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Addr == "":
		return errors.New("--addr is empty")
	case c.Protocol != "binary" && c.Protocol != "resp":
		return fmt.Errorf("--protocol %q: want binary or resp", c.Protocol)
	case c.Clients < 1:
		return fmt.Errorf("--clients %d: want >= 1", c.Clients)
	case c.Pipeline < 1:
		return fmt.Errorf("--pipeline %d: want >= 1", c.Pipeline)
	case c.Duration < 0 || c.Requests < 0:
		return errors.New("--duration and --requests must not be negative")
	case c.Duration == 0 && c.Requests == 0:
		return errors.New("one of --duration or --requests is required")
	case c.Duration > 0 && c.Requests > 0:
		return errors.New("--duration and --requests are mutually exclusive")
	case c.SetRatio < 0 || c.GetRatio < 0 || c.SetRatio+c.GetRatio == 0:
		return fmt.Errorf("--ratio %s: want two non-negative integers, not both 0", c.Ratio())
	case c.KeyPattern != "uniform" && c.KeyPattern != "zipf":
		return fmt.Errorf("--key-pattern %q: want uniform or zipf", c.KeyPattern)
	case c.Keyspace < 1:
		return fmt.Errorf("--keyspace %d: want >= 1", c.Keyspace)
	case c.DataSize < 0:
		return fmt.Errorf("--data-size %d: want >= 0", c.DataSize)
	case c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return fmt.Errorf("--rate %g: want a number >= 0", c.Rate)
	case c.Rate > 0 && c.rateInterval() >= float64(math.MaxInt64)/float64(c.Clients):
		// Run staggers the clients by fractions of the interval in
		// time.Duration arithmetic, which would overflow (and a negative
		// interval ran the benchmark unlimited).
		return fmt.Errorf("--rate %g: too low (under one batch per client in %v)", c.Rate, time.Duration(math.MaxInt64/int64(c.Clients)))
	}
	return nil
}

// rateInterval is the time between two batches of one client under
// --rate, in nanoseconds.
func (c Config) rateInterval() float64 {
	return float64(time.Second) * float64(c.Pipeline) * float64(c.Clients) / c.Rate
}

func parseRatio(s string) (set, get int, err error) {
	a, b, ok := strings.Cut(s, ":")
	if ok {
		set, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			get, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || set < 0 || get < 0 || set+get == 0 {
		return 0, 0, fmt.Errorf("--ratio %q: want set:get, e.g. 1:10", s)
	}
	return set, get, nil
}
