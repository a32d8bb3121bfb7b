package benchtool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in nanoseconds, 1 ns to 60 s, 3 significant digits;
// slower operations are recorded as 60 s.
const (
	histMin    = 1
	histMax    = int64(60 * time.Second)
	histDigits = 3
)

// callTimeout bounds how long one batch may wait for its replies.
const callTimeout = 10 * time.Second

// op is one command of a batch.
type op struct {
	set bool
	key string
}

// opResult is what a driver reports for one batch.
type opResult struct {
	errs   int64 // commands that failed (server error reply, I/O, protocol)
	misses int64 // GETs of a missing key (not errors)
	err    error // first error, for the report
}

// driver sends batches for one client goroutine.
type driver interface {
	do(ctx context.Context, ops []op) opResult
	close()
}

// worker is the per-client state; nothing in it is shared on the hot path
// except the progress counter, which only the reporter reads.
type worker struct {
	id       int
	hist     *hdrhistogram.Histogram
	lag      *hdrhistogram.Histogram // --rate only: intended -> actual send time
	done     atomic.Int64            // operations completed, read by the progress reporter
	sets     int64
	gets     int64
	misses   int64
	errs     int64
	firstErr error
	_        [64]byte // keep the next worker's counter off this cache line
}

// Result is the outcome of a run.
type Result struct {
	Protocol   string  `json:"protocol"`
	Addr       string  `json:"addr"`
	Clients    int     `json:"clients"`
	Pipeline   int     `json:"pipeline"`
	Ratio      string  `json:"ratio"`
	KeyPattern string  `json:"key_pattern"`
	Keyspace   int64   `json:"keyspace"`
	DataSize   int     `json:"data_size"`
	Rate       float64 `json:"rate"`
	Requests   int64   `json:"requests"`
	Sets       int64   `json:"sets"`
	Gets       int64   `json:"gets"`
	Misses     int64   `json:"get_misses"`
	Errors     int64   `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	DurationS  float64 `json:"duration_s"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	MeanUs     float64 `json:"mean_us"`
	P50Us      float64 `json:"p50_us"`
	P90Us      float64 `json:"p90_us"`
	P99Us      float64 `json:"p99_us"`
	P999Us     float64 `json:"p999_us"`
	MaxUs      float64 `json:"max_us"`
	// With --rate: how late batches were actually sent after their intended
	// time (timer slack of the Go runtime, up to ~1 ms, plus any backlog when
	// the server falls behind). It is included in the latencies above.
	SendLagP50Us float64 `json:"send_lag_p50_us,omitempty"`
	SendLagP99Us float64 `json:"send_lag_p99_us,omitempty"`
}

// Run executes the benchmark described by cfg. Progress lines go to
// progress (nil for none). Cancelling ctx stops the run early; the result
// then covers what was done.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	value := make([]byte, cfg.DataSize)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	newDriver, cleanup, err := newDriverFactory(ctx, cfg, value)
	if err != nil {
		return nil, err
	}
	defer cleanup()

	workers := make([]*worker, cfg.Clients)
	drivers := make([]driver, cfg.Clients)
	defer func() {
		for _, d := range drivers {
			if d != nil {
				d.close()
			}
		}
	}()
	for i := range workers {
		workers[i] = &worker{id: i, hist: hdrhistogram.New(histMin, histMax, histDigits)}
		if cfg.Rate > 0 {
			workers[i].lag = hdrhistogram.New(histMin, histMax, histDigits)
		}
		if drivers[i], err = newDriver(ctx, i); err != nil {
			return nil, fmt.Errorf("client %d: %w", i, err)
		}
	}
	keys := newKeyTable(cfg.Keyspace)

	// Per-client share of --requests and of --rate.
	share := func(i int) int64 {
		q, r := cfg.Requests/int64(cfg.Clients), cfg.Requests%int64(cfg.Clients)
		if int64(i) < r {
			q++
		}
		return q
	}
	var interval time.Duration // between batches of one client, when rate-limited
	if cfg.Rate > 0 {
		interval = time.Duration(cfg.rateInterval())
	}

	// The hard context bounds every call: it ends a grace period after ctx
	// ends (workers stop at their next batch, so in-flight calls normally
	// finish) or after the --duration deadline.
	hardCtx, hardCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hardCancel()
	stopAfter := context.AfterFunc(ctx, func() { time.AfterFunc(callTimeout, hardCancel) })
	defer stopAfter()

	start := time.Now()
	var deadline time.Time
	if cfg.Duration > 0 {
		deadline = start.Add(cfg.Duration)
		t := time.AfterFunc(cfg.Duration+callTimeout, hardCancel)
		defer t.Stop()
	}

	stopProgress := startProgress(progress, cfg, start, workers)
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runWorker(hardCtx, ctx, cfg, w, drivers[i], keys, share(i), start, deadline, interval)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()

	res := &Result{
		Protocol: cfg.Protocol, Addr: cfg.Addr, Clients: cfg.Clients, Pipeline: cfg.Pipeline,
		Ratio: cfg.Ratio(), KeyPattern: cfg.KeyPattern, Keyspace: cfg.Keyspace,
		DataSize: cfg.DataSize, Rate: cfg.Rate, DurationS: elapsed.Seconds(),
	}
	total := hdrhistogram.New(histMin, histMax, histDigits)
	lag := hdrhistogram.New(histMin, histMax, histDigits)
	for _, w := range workers {
		total.Merge(w.hist)
		if w.lag != nil {
			lag.Merge(w.lag)
		}
		res.Sets += w.sets
		res.Gets += w.gets
		res.Misses += w.misses
		res.Errors += w.errs
		if res.FirstError == "" && w.firstErr != nil {
			res.FirstError = w.firstErr.Error()
		}
	}
	res.Requests = res.Sets + res.Gets
	if elapsed > 0 {
		res.OpsPerSec = float64(res.Requests) / elapsed.Seconds()
	}
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	res.MeanUs = total.Mean() / 1e3
	res.P50Us = us(total.ValueAtQuantile(50))
	res.P90Us = us(total.ValueAtQuantile(90))
	res.P99Us = us(total.ValueAtQuantile(99))
	res.P999Us = us(total.ValueAtQuantile(99.9))
	res.MaxUs = us(total.Max())
	if cfg.Rate > 0 {
		res.SendLagP50Us = us(lag.ValueAtQuantile(50))
		res.SendLagP99Us = us(lag.ValueAtQuantile(99))
	}
	return res, nil
}

// runWorker is one client's loop. In closed-loop mode (no rate) each batch
// is sent as soon as the previous one completes and its latency is measured
// from the actual send. In open-loop mode batch k of client i is due at
// start+k*interval+i*interval/clients and its latency is measured from that intended time, so a stalled server
// is charged for the requests that should have been sent meanwhile
// (no coordinated omission).
func runWorker(hardCtx, stopCtx context.Context, cfg Config, w *worker, d driver, keys *keyTable,
	quota int64, start, deadline time.Time, interval time.Duration) {
	kg := NewKeyGen(cfg.KeyPattern, cfg.Keyspace, uint64(w.id)*7919+1)
	mix := NewMixer(cfg.SetRatio, cfg.GetRatio, w.id)
	ops := make([]op, cfg.Pipeline)
	var timer *time.Timer
	// Clients' schedules are staggered so that together they send evenly
	// rather than in bursts of --clients batches.
	phase := interval * time.Duration(w.id) / time.Duration(cfg.Clients)
	for k := int64(0); ; k++ {
		if stopCtx.Err() != nil {
			return
		}
		n := int64(cfg.Pipeline)
		if cfg.Requests > 0 {
			if quota <= 0 {
				return
			}
			n = min(n, quota)
			quota -= n
		}
		var sent time.Time
		if interval > 0 {
			sent = start.Add(time.Duration(k)*interval + phase)
			if !deadline.IsZero() && !sent.Before(deadline) {
				return
			}
			if wait := time.Until(sent); wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				select {
				case <-timer.C:
				case <-stopCtx.Done():
					return
				}
			}
		} else {
			sent = time.Now()
			if !deadline.IsZero() && !sent.Before(deadline) {
				return
			}
		}
		batch := ops[:n]
		for i := range batch {
			batch[i] = op{set: mix.IsSet(), key: keys.key(kg.Next())}
			if batch[i].set {
				w.sets++
			} else {
				w.gets++
			}
		}
		if w.lag != nil {
			_ = w.lag.RecordValue(max(int64(time.Since(sent)), 1))
		}
		r := d.do(hardCtx, batch)
		lat := time.Since(sent)
		_ = w.hist.RecordValues(max(int64(lat), 1), n)
		w.misses += r.misses
		w.errs += r.errs
		if r.err != nil && w.firstErr == nil {
			w.firstErr = r.err
		}
		w.done.Add(n)
		if r.errs > 0 && errors.Is(r.err, context.Canceled) {
			return
		}
	}
}

// startProgress prints a live ops/s line about once a second and returns a
// function that stops it and ends the line.
func startProgress(out io.Writer, cfg Config, start time.Time, workers []*worker) func() {
	if out == nil {
		return func() {}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var last int64
		lastT := start
		printed := false
		for {
			select {
			case <-stop:
				if printed {
					fmt.Fprintln(out)
				}
				return
			case now := <-t.C:
				var sum int64
				for _, w := range workers {
					sum += w.done.Load()
				}
				rate := float64(sum-last) / now.Sub(lastT).Seconds()
				last, lastT = sum, now
				el := now.Sub(start)
				var pct float64
				if cfg.Requests > 0 {
					pct = 100 * float64(sum) / float64(cfg.Requests)
				} else {
					pct = 100 * el.Seconds() / cfg.Duration.Seconds()
				}
				fmt.Fprintf(out, "\r[%s] %3.0f%% %5.0fs  %d ops  %.0f ops/s   ",
					bar(pct, 20), min(pct, 100), el.Seconds(), sum, rate)
				printed = true
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

func bar(pct float64, width int) string {
	n := min(max(int(pct/100*float64(width)), 0), width)
	b := make([]byte, width)
	for i := range b {
		if i < n {
			b[i] = '#'
		} else {
			b[i] = '.'
		}
	}
	return string(b)
}
