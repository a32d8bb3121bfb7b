package benchtool

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
)

// WriteTable prints the human-readable result.
func WriteTable(w io.Writer, r *Result) {
	fmt.Fprintf(w, "ringdb-bench: %s %s, %d clients, pipeline %d, ratio %s, %s keys over %d, %d-byte values",
		r.Protocol, r.Addr, r.Clients, r.Pipeline, r.Ratio, r.KeyPattern, r.Keyspace, r.DataSize)
	if r.Rate > 0 {
		fmt.Fprintf(w, ", rate cap %.0f ops/s (latency from intended send time)", r.Rate)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%d requests (%d SET, %d GET, %d GET misses), %d errors in %.2fs\n",
		r.Requests, r.Sets, r.Gets, r.Misses, r.Errors, r.DurationS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ops/s\tp50 µs\tp90 µs\tp99 µs\tp99.9 µs\tmax µs\t")
	fmt.Fprintf(tw, "%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\n",
		r.OpsPerSec, r.P50Us, r.P90Us, r.P99Us, r.P999Us, r.MaxUs)
	tw.Flush()
	if r.Rate > 0 {
		fmt.Fprintf(w, "send lag (intended -> actual send, included above): p50 %.1f µs, p99 %.1f µs\n",
			r.SendLagP50Us, r.SendLagP99Us)
	}
}

// WriteJSON prints r as one JSON object followed by a newline.
func WriteJSON(w io.Writer, r *Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Main is the ringdb-bench command: it returns the exit status, 0 for a
// clean run, 1 for a run with errors or that could not start, 2 for bad flags.
func Main(args []string, stdout, stderr io.Writer) int {
	cfg, err := ParseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "ringdb-bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := Run(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ringdb-bench:", err)
		return 1
	}
	if cfg.JSON {
		if err := WriteJSON(stdout, res); err != nil {
			fmt.Fprintln(stderr, "ringdb-bench:", err)
			return 1
		}
	} else {
		WriteTable(stdout, res)
	}
	switch {
	case res.Errors > 0:
		fmt.Fprintf(stderr, "ringdb-bench: run had %d errors (first: %s)\n", res.Errors, res.FirstError)
		return 1
	case res.Requests == 0:
		fmt.Fprintln(stderr, "ringdb-bench: no requests completed")
		return 1
	}
	return 0
}
