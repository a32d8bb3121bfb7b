// Command footprint measures what one store costs the process once it holds n
// records: resident memory per entry, and how much longer a forced garbage
// collection takes than with the store empty.
//
//	footprint -impl ringdb -n 1048576
//
// It prints one JSON line. Run one process per store (footprint.sh does), so
// no store's memory or heap objects show up in another's numbers. Keys and
// values are generated into reused buffers, so the input costs no memory.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ringdb/ringdb/benchmarks/internal/impls"
	"github.com/ringdb/ringdb/benchmarks/internal/workload"
)

type result struct {
	Impl         string  `json:"impl"`
	N            int     `json:"n"`
	PayloadBytes int     `json:"payload_bytes"`
	RSSEmpty     int64   `json:"rss_empty"`
	RSSLoaded    int64   `json:"rss_loaded"`
	RSSPerEntry  float64 `json:"rss_per_entry"`
	GCEmptyNs    int64   `json:"gc_empty_ns"`
	GCLoadedNs   int64   `json:"gc_loaded_ns"`
	GCRatio      float64 `json:"gc_ratio"`
}

func main() {
	impl := flag.String("impl", "ringdb", "store to measure: "+strings.Join(impls.Names, ", "))
	n := flag.Int("n", 1<<20, "records to insert (16-byte key, 64-byte value)")
	gcRuns := flag.Int("gcruns", 5, "forced collections each GC time is the median of")
	flag.Parse()
	if err := run(*impl, *n, max(*gcRuns, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "footprint:", err)
		os.Exit(1)
	}
}

func run(impl string, n, gcRuns int) error {
	if n <= 0 {
		return fmt.Errorf("-n must be positive, got %d", n)
	}
	s, err := impls.New(impl)
	if err != nil {
		return err
	}
	r := result{Impl: impl, N: n, PayloadBytes: workload.RecordSize}

	if r.RSSEmpty, err = settledRSS(); err != nil {
		return err
	}
	r.GCEmptyNs = medianGC(gcRuns)

	key := make([]byte, 0, workload.KeySize)
	val := make([]byte, 0, workload.ValueSize)
	for i := range n {
		key = workload.AppendKey(key[:0], i)
		val = workload.AppendValue(val[:0], i)
		if err := s.Set(key, val); err != nil {
			return fmt.Errorf("Set(%q) #%d: %w", key, i, err)
		}
	}

	if r.RSSLoaded, err = settledRSS(); err != nil {
		return err
	}
	r.GCLoadedNs = medianGC(gcRuns)
	r.RSSPerEntry = float64(r.RSSLoaded-r.RSSEmpty) / float64(n)
	r.GCRatio = float64(r.GCLoadedNs) / float64(max(r.GCEmptyNs, 1))

	// Check after measuring, so the reads do not disturb the numbers.
	var got []byte
	for i := range n {
		key = workload.AppendKey(key[:0], i)
		val = workload.AppendValue(val[:0], i)
		var ok bool
		got, ok = s.Get(got[:0], key)
		if !ok || !bytes.Equal(got, val) {
			return fmt.Errorf("%s: Get(%q) = %x, %v after loading; want %x", impl, key, got, ok, val)
		}
	}
	s.Close()

	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Printf("%s\n", line)
	return err
}

// settledRSS collects garbage, returns free pages to the OS and reads the
// resident set size.
func settledRSS() (int64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	return rss()
}

// rss reads the resident set size from /proc/self/statm (second field, in
// pages).
func rss() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("unexpected /proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/self/statm: %w", err)
	}
	return pages * int64(os.Getpagesize()), nil
}

// medianGC returns the median wall time of runs forced collections.
func medianGC(runs int) int64 {
	ns := make([]int64, runs)
	for i := range ns {
		start := time.Now()
		runtime.GC()
		ns[i] = time.Since(start).Nanoseconds()
	}
	slices.Sort(ns)
	return ns[runs/2]
}
