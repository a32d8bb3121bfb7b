// Command soak drives a RESP server (ringdb or Redis) with a long, mixed
// cache workload and reports, at every interval, the server's resident
// memory (from /proc/<pid>/status) next to what INFO says, so that a
// memory bound can be checked over time rather than after one load:
//
//	soak -addr 127.0.0.1:7379 -pid 1234 -duration 10m
//
// The workload is what a shared cache sees: values of log-uniform sizes
// from 16 bytes to 64 KiB (one in a hundred of 200-400 KB), most written
// with a TTL of 1-60 s, reads of a skewed key set, deletes, TTL changes,
// GETEX, MGET, counters (INCR) and append-only logs (APPEND, deleted past
// 1 MB). Every value carries its key and length, and every GET and MGET
// reply is checked against them: a value of another key, a torn or
// resized value is counted as corrupt. Errors are counted by their first
// word (OOM is expected only under noeviction).
//
// One line per interval: seconds, ops/s in the interval, RSS MiB,
// used_memory MiB, keys, evicted and expired keys so far, hit ratio so
// far. Then one summary line starting "summary" with key=value pairs,
// among them the server's CPU time (user and system) per operation.
// Exit status 1 if any reply was corrupt or malformed.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7379", "server address")
	pid := flag.Int("pid", 0, "server process id, for its RSS (0: do not read it)")
	duration := flag.Duration("duration", 5*time.Minute, "how long to run")
	clients := flag.Int("clients", 32, "connections, one goroutine each")
	keys := flag.Int("keys", 200000, "distinct cache keys")
	interval := flag.Duration("interval", 10*time.Second, "report interval")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	s := &soak{addr: *addr, keys: *keys}
	if err := s.run(*pid, *duration, *clients, *interval, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if s.corrupt.Load() > 0 || s.malformed.Load() > 0 {
		os.Exit(1)
	}
}

type soak struct {
	addr string
	keys int

	ops       atomic.Int64
	corrupt   atomic.Int64
	malformed atomic.Int64
	errMu     sync.Mutex
	errs      map[string]int64
	firstBad  atomic.Pointer[string]
}

func (s *soak) run(pid int, duration time.Duration, clients int, interval time.Duration, seed uint64) error {
	s.errs = map[string]int64{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var dialErr atomic.Pointer[error]
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.client(stop, rand.New(rand.NewPCG(seed, uint64(i)))); err != nil {
				dialErr.CompareAndSwap(nil, &err)
			}
		}()
	}
	info, err := dial(s.addr)
	if err != nil {
		close(stop)
		wg.Wait()
		return err
	}
	start := time.Now()
	cpu0 := cpuSeconds(pid)
	var rss []float64
	var lastOps int64
	last := start
	fmt.Println("# sec ops/s rss_mib used_mib keys evicted expired hit_ratio")
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for time.Since(start) < duration {
		<-tick.C
		if e := dialErr.Load(); e != nil {
			close(stop)
			wg.Wait()
			return *e
		}
		now := time.Now()
		ops := s.ops.Load()
		st, err := info.info()
		if err != nil {
			close(stop)
			wg.Wait()
			return fmt.Errorf("INFO: %w", err)
		}
		r := rssMiB(pid)
		rss = append(rss, r)
		fmt.Printf("%4.0f %8.0f %8.1f %8.1f %8d %9d %9d %.3f\n", now.Sub(start).Seconds(),
			float64(ops-lastOps)/now.Sub(last).Seconds(), r, float64(st["used_memory"])/(1<<20),
			st["keys"], st["evicted_keys"], st["expired_keys"], hitRatio(st))
		lastOps, last = ops, now
	}
	close(stop)
	wg.Wait()
	st, err := info.info()
	if err != nil {
		return fmt.Errorf("INFO: %w", err)
	}
	// Peak, and the median over the second half (after warm-up).
	peak, med2 := 0.0, 0.0
	for _, r := range rss {
		peak = max(peak, r)
	}
	if h := rss[len(rss)/2:]; len(h) > 0 {
		c := append([]float64(nil), h...)
		sort.Float64s(c)
		med2 = c[len(c)/2]
	}
	s.errMu.Lock()
	var errs []string
	for k, v := range s.errs {
		errs = append(errs, fmt.Sprintf("%s:%d", k, v))
	}
	s.errMu.Unlock()
	sort.Strings(errs)
	cpuPerOp := 0.0
	if n := s.ops.Load(); n > 0 {
		cpuPerOp = (cpuSeconds(pid) - cpu0) / float64(n) * 1e6
	}
	fmt.Printf("summary ops=%d ops_per_sec=%.0f server_cpu_us_per_op=%.2f rss_peak_mib=%.1f rss_median_2nd_half_mib=%.1f rss_last_mib=%.1f maxmemory_mib=%.1f used_last_mib=%.1f keys=%d evicted=%d expired=%d hit_ratio=%.3f corrupt=%d malformed=%d errors=%s\n",
		s.ops.Load(), float64(s.ops.Load())/time.Since(start).Seconds(), cpuPerOp, peak, med2, rss[len(rss)-1],
		float64(st["maxmemory"])/(1<<20), float64(st["used_memory"])/(1<<20), st["keys"],
		st["evicted_keys"], st["expired_keys"], hitRatio(st), s.corrupt.Load(), s.malformed.Load(), strings.Join(errs, ","))
	if p := s.firstBad.Load(); p != nil {
		fmt.Println("first bad reply:", *p)
	}
	return nil
}

func hitRatio(st map[string]int64) float64 {
	if n := st["keyspace_hits"] + st["keyspace_misses"]; n > 0 {
		return float64(st["keyspace_hits"]) / float64(n)
	}
	return 0
}

// rssMiB returns VmRSS of pid in MiB, or 0.
func rssMiB(pid int) float64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuSeconds returns the user and system CPU time pid has used, from
// /proc/<pid>/stat (in clock ticks of 1/100 s, as on every Linux the
// scripts run on), or 0.
func cpuSeconds(pid int) float64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64) // field 14
	stime, _ := strconv.ParseFloat(f[12], 64) // field 15
	return (utime + stime) / 100
}

// ---- the workload ----

func (s *soak) cacheKey(r *rand.Rand) string {
	// Skewed: half the reads and writes go to a tenth of the keys.
	n := s.keys
	if r.IntN(2) == 0 {
		n = max(s.keys/10, 1)
	}
	return "c:" + strconv.Itoa(r.IntN(n))
}

// valueSize is log-uniform in [16, 64 KiB], or 200-400 KB one time in 100.
func valueSize(r *rand.Rand) int {
	if r.IntN(100) == 0 {
		return 200_000 + r.IntN(200_001)
	}
	return int(math.Exp(math.Log(16) + r.Float64()*(math.Log(64<<10)-math.Log(16))))
}

// value returns a value of n bytes (n >= len of its header) that names its
// key and length: "key|n|" then filler derived from both.
func value(buf []byte, key string, n int) []byte {
	buf = append(buf[:0], key...)
	buf = append(buf, '|')
	buf = strconv.AppendInt(buf, int64(n), 10)
	buf = append(buf, '|')
	seed := byte(len(key)*7 + n)
	for len(buf) < n {
		buf = append(buf, 'a'+(seed+byte(len(buf)))%26)
	}
	return buf
}

// checkValue reports whether v is a value written for key.
func checkValue(key string, v []byte) bool {
	k, rest, ok := bytes.Cut(v, []byte{'|'})
	if !ok || string(k) != key {
		return false
	}
	ns, _, ok := bytes.Cut(rest, []byte{'|'})
	n, err := strconv.Atoi(string(ns))
	if !ok || err != nil || n != len(v) {
		return false
	}
	seed := byte(len(key)*7 + n)
	want := func(i int) byte { return 'a' + (seed+byte(i))%26 }
	from := len(key) + len(ns) + 2
	for i := from; i < len(v); i += 97 { // a sample of the filler
		if v[i] != want(i) {
			return false
		}
	}
	return len(v) == from || v[len(v)-1] == want(len(v)-1)
}

func (s *soak) client(stop <-chan struct{}, r *rand.Rand) error {
	c, err := dial(s.addr)
	if err != nil {
		return err
	}
	defer c.nc.Close()
	var vbuf []byte
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		key := s.cacheKey(r)
		var err error
		switch p := r.IntN(100); {
		case p < 55: // GET
			err = s.get(c, key)
		case p < 75: // SET with a TTL of 1-60 s
			n := valueSize(r)
			vbuf = value(vbuf, key, max(n, len(key)+16))
			err = s.expect(c, "+", "SET", key, string(vbuf), "EX", strconv.Itoa(1+r.IntN(60)))
		case p < 80: // SET without a TTL
			vbuf = value(vbuf, key, max(valueSize(r), len(key)+16))
			err = s.expect(c, "+", "SET", key, string(vbuf))
		case p < 84:
			err = s.expect(c, ":", "DEL", key)
		case p < 87:
			err = s.expect(c, ":", "EXPIRE", key, strconv.Itoa(1+r.IntN(120)))
		case p < 90: // GETEX with a new TTL: a sliding expiry
			err = s.getex(c, key, strconv.Itoa(1+r.IntN(60)))
		case p < 92:
			err = s.mget(c, r)
		case p < 96: // counters
			err = s.expect(c, ":", "INCR", "ctr:"+strconv.Itoa(r.IntN(1000)))
		default: // append-only logs, dropped past 1 MB
			lk := "log:" + strconv.Itoa(r.IntN(200))
			var n int64
			n, err = s.appendLog(c, lk, r.IntN(200)+20)
			if err == nil && n > 1<<20 {
				err = s.expect(c, ":", "DEL", lk)
			}
		}
		if err != nil {
			return err
		}
	}
}

// bad records a reply that breaks the protocol or the data.
func (s *soak) bad(counter *atomic.Int64, what string) {
	counter.Add(1)
	s.firstBad.CompareAndSwap(nil, &what)
}

// expect sends a command and checks the reply's type byte; an error reply
// is counted by its first word.
func (s *soak) expect(c *conn, typ string, args ...string) error {
	v, err := c.do(args...)
	if err != nil {
		return err
	}
	s.ops.Add(1)
	switch {
	case v.typ == '-':
		s.countErr(v.s)
	case string(v.typ) != typ:
		s.bad(&s.malformed, fmt.Sprintf("%q -> %c%q", args[0], v.typ, v.s))
	}
	return nil
}

func (s *soak) countErr(msg string) {
	w, _, _ := strings.Cut(msg, " ")
	s.errMu.Lock()
	s.errs[w]++
	s.errMu.Unlock()
}

func (s *soak) get(c *conn, key string) error {
	v, err := c.do("GET", key)
	if err != nil {
		return err
	}
	s.ops.Add(1)
	s.checkBulk(key, v)
	return nil
}

func (s *soak) getex(c *conn, key, ttl string) error {
	v, err := c.do("GETEX", key, "EX", ttl)
	if err != nil {
		return err
	}
	s.ops.Add(1)
	s.checkBulk(key, v)
	return nil
}

func (s *soak) checkBulk(key string, v reply) {
	switch {
	case v.typ == '-':
		s.countErr(v.s)
	case v.typ != '$':
		s.bad(&s.malformed, fmt.Sprintf("GET %s -> %c%q", key, v.typ, v.s))
	case !v.null && !checkValue(key, []byte(v.s)):
		s.bad(&s.corrupt, fmt.Sprintf("GET %s -> %d bytes starting %q", key, len(v.s), v.s[:min(len(v.s), 40)]))
	}
}

func (s *soak) mget(c *conn, r *rand.Rand) error {
	args := []string{"MGET"}
	for range 5 {
		args = append(args, s.cacheKey(r))
	}
	v, err := c.do(args...)
	if err != nil {
		return err
	}
	s.ops.Add(1)
	if v.typ == '-' {
		s.countErr(v.s)
		return nil
	}
	if v.typ != '*' || len(v.elems) != 5 {
		s.bad(&s.malformed, fmt.Sprintf("MGET -> %c with %d elements", v.typ, len(v.elems)))
		return nil
	}
	for i, e := range v.elems {
		s.checkBulk(args[1+i], e)
	}
	return nil
}

// appendLog appends n bytes of a line naming the log and returns the new
// length.
func (s *soak) appendLog(c *conn, key string, n int) (int64, error) {
	line := strings.Repeat("x", n-1) + "\n"
	v, err := c.do("APPEND", key, line)
	if err != nil {
		return 0, err
	}
	s.ops.Add(1)
	if v.typ == '-' {
		s.countErr(v.s)
		return 0, nil
	}
	if v.typ != ':' {
		s.bad(&s.malformed, fmt.Sprintf("APPEND -> %c%q", v.typ, v.s))
		return 0, nil
	}
	return v.n, nil
}

// ---- a small RESP2 client ----

type conn struct {
	nc  net.Conn
	r   *bufio.Reader
	w   *bufio.Writer
	out []byte
}

type reply struct {
	typ   byte
	s     string
	n     int64
	null  bool
	elems []reply
}

func dial(addr string) (*conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &conn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), w: bufio.NewWriterSize(nc, 64<<10)}, nil
}

func (c *conn) do(args ...string) (reply, error) {
	c.out = append(c.out[:0], '*')
	c.out = strconv.AppendInt(c.out, int64(len(args)), 10)
	c.out = append(c.out, "\r\n"...)
	for _, a := range args {
		c.out = append(c.out, '$')
		c.out = strconv.AppendInt(c.out, int64(len(a)), 10)
		c.out = append(c.out, "\r\n"...)
		c.out = append(c.out, a...)
		c.out = append(c.out, "\r\n"...)
	}
	_ = c.nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.w.Write(c.out); err != nil {
		return reply{}, err
	}
	if err := c.w.Flush(); err != nil {
		return reply{}, err
	}
	return c.read()
}

func (c *conn) line() (string, error) {
	l, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(l, "\r\n") {
		return "", errors.New("line without CRLF")
	}
	return l[:len(l)-2], nil
}

func (c *conn) read() (reply, error) {
	l, err := c.line()
	if err != nil {
		return reply{}, err
	}
	if l == "" {
		return reply{}, errors.New("empty reply line")
	}
	v := reply{typ: l[0], s: l[1:]}
	switch v.typ {
	case '+', '-':
	case ':':
		v.n, err = strconv.ParseInt(v.s, 10, 64)
	case '$':
		n, perr := strconv.Atoi(v.s)
		if perr != nil || n < -1 || n > 512<<20 {
			return v, fmt.Errorf("bad bulk length %q", v.s)
		}
		if n == -1 {
			v.null, v.s = true, ""
			return v, nil
		}
		b := make([]byte, n+2)
		if _, err = readFull(c.r, b); err == nil && string(b[n:]) != "\r\n" {
			err = errors.New("bulk without CRLF")
		}
		v.s = string(b[:n])
	case '*':
		n, perr := strconv.Atoi(v.s)
		if perr != nil || n < -1 || n > 1<<20 {
			return v, fmt.Errorf("bad array length %q", v.s)
		}
		for range max(n, 0) {
			e, err := c.read()
			if err != nil {
				return v, err
			}
			v.elems = append(v.elems, e)
		}
	default:
		err = fmt.Errorf("unknown reply type %q", l)
	}
	return v, err
}

func readFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// info returns the numeric fields of INFO (all sections) that soak
// reports, and the key count of db0 as "keys".
func (c *conn) info() (map[string]int64, error) {
	v, err := c.do("INFO", "all")
	if err != nil {
		return nil, err
	}
	if v.typ != '$' {
		return nil, fmt.Errorf("INFO -> %c%q", v.typ, v.s)
	}
	st := map[string]int64{}
	for _, line := range strings.Split(v.s, "\r\n") {
		k, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if k == "db0" { // keys=N,expires=M,avg_ttl=T
			for _, f := range strings.Split(val, ",") {
				if n, ok := strings.CutPrefix(f, "keys="); ok {
					st["keys"], _ = strconv.ParseInt(n, 10, 64)
				}
			}
			continue
		}
		if n, err := strconv.ParseInt(val, 10, 64); err == nil {
			st[k] = n
		}
	}
	return st, nil
}
