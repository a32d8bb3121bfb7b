package core_test

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/ringdb/ringdb/core"
)

// Single-key operations recorded in a history and checked with porcupine,
// partitioned by key. The sequential model is one key's string value plus an
// exists flag.

type linOp uint8

const (
	linGet linOp = iota
	linSet
	linDelete
	linIncrBy
	linSetNX
	linSetXX
	linSetGet // SET ... GET: returns the previous value
	linGetDel
	linAppend
	linNumOps
)

var linOpNames = [...]string{"get", "set", "del", "incrby", "setnx", "setxx", "setget", "getdel", "append"}

type linInput struct {
	op    linOp
	key   string
	val   string
	delta int64
}

type linOutput struct {
	ok  bool   // found / written / deleted
	val string // value read (get, setget, getdel)
	n   int64  // incrby result, append length
	err string // "" or "notint" or "overflow"
}

type linState struct {
	val    string
	exists bool
}

// linParseInt parses like Redis string2ll: canonical decimal only.
func linParseInt(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != s {
		return 0, false
	}
	return n, true
}

var linModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		m := make(map[string][]porcupine.Operation)
		for _, op := range history {
			k := op.Input.(linInput).key
			m[k] = append(m[k], op)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, m[k])
		}
		return out
	},
	Init: func() any { return linState{} },
	Step: func(state, input, output any) (bool, any) {
		st := state.(linState)
		in := input.(linInput)
		out := output.(linOutput)
		switch in.op {
		case linGet:
			return out.ok == st.exists && (!out.ok || out.val == st.val), st
		case linSet:
			return out.err == "", linState{val: in.val, exists: true}
		case linDelete:
			return out.ok == st.exists, linState{}
		case linIncrBy:
			cur := int64(0)
			if st.exists {
				n, ok := linParseInt(st.val)
				if !ok {
					return out.err == "notint", st
				}
				cur = n
			}
			if (in.delta > 0 && cur > math.MaxInt64-in.delta) || (in.delta < 0 && cur < math.MinInt64-in.delta) {
				return out.err == "overflow", st
			}
			n := cur + in.delta
			return out.err == "" && out.n == n, linState{val: strconv.FormatInt(n, 10), exists: true}
		case linSetNX:
			if st.exists {
				return !out.ok, st
			}
			return out.ok, linState{val: in.val, exists: true}
		case linSetXX:
			if !st.exists {
				return !out.ok, st
			}
			return out.ok, linState{val: in.val, exists: true}
		case linSetGet:
			return out.ok == st.exists && (!out.ok || out.val == st.val), linState{val: in.val, exists: true}
		case linGetDel:
			return out.ok == st.exists && (!out.ok || out.val == st.val), linState{}
		case linAppend:
			nv := st.val + in.val
			if !st.exists {
				nv = in.val
			}
			return out.n == int64(len(nv)), linState{val: nv, exists: true}
		}
		return false, st
	},
	Hash: func(state any) uint64 {
		st := state.(linState)
		h := fnv.New64a()
		h.Write([]byte(st.val))
		if st.exists {
			h.Write([]byte{1})
		}
		return h.Sum64()
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(linInput), output.(linOutput)
		v := in.val
		if len(v) > 24 {
			v = fmt.Sprintf("%s…(%d)", v[:16], len(v))
		}
		o := out.val
		if len(o) > 24 {
			o = fmt.Sprintf("%s…(%d)", o[:16], len(o))
		}
		return fmt.Sprintf("%s(%q,%q,%d) -> ok=%v val=%q n=%d err=%s", linOpNames[in.op], in.key, v, in.delta, out.ok, o, out.n, out.err)
	},
	DescribeState: func(state any) string {
		st := state.(linState)
		if !st.exists {
			return "<absent>"
		}
		if len(st.val) > 24 {
			return fmt.Sprintf("%q…(%d)", st.val[:16], len(st.val))
		}
		return strconv.Quote(st.val)
	},
}

type linConfig struct {
	opts       core.Options
	keys       int
	clients    int
	opsPerCli  int
	largeVals  bool // some values larger than a 4 KiB page
	growers    int  // goroutines inserting fresh keys during the history
	growTarget int64
	maxOps     int // with growers: clients go on until growTarget keys were inserted, up to maxOps each
	churners   int // goroutines overwriting filler keys (page turnover)
	checkLimit time.Duration
}

func TestLinearizability(t *testing.T) {
	t.Parallel() // its own keyspace: overlaps the others, under -race too
	cases := []struct {
		name string
		cfg  linConfig
	}{
		{"default", linConfig{
			opts: core.Options{}, keys: 3, clients: 6, opsPerCli: 2000,
		}},
		{"small-pages-large-values-noeviction", linConfig{
			opts: core.Options{PageSize: 4096, Eviction: core.NoEviction}, keys: 3, clients: 6, opsPerCli: 1500,
			largeVals: true, churners: 1,
		}},
		{"index-growth", linConfig{
			opts: core.Options{Shards: 2}, keys: 4, clients: 6, opsPerCli: 300,
			growers: 2, growTarget: 100_000, maxOps: 4000,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			if testing.Short() {
				cfg.opsPerCli /= 3
				cfg.growTarget /= 3
				cfg.maxOps /= 3
			}
			cfg.checkLimit = 60 * time.Second
			runLinearizability(t, cfg)
		})
	}
}

func runLinearizability(t *testing.T, cfg linConfig) {
	ks, err := core.New(cfg.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()

	keys := make([]string, cfg.keys)
	for i := range keys {
		keys[i] = fmt.Sprintf("lin:%d", i)
	}
	base := time.Now()
	clock := func() int64 { return int64(time.Since(base)) }

	var stop atomic.Bool
	var bg sync.WaitGroup
	var grown atomic.Int64
	for g := 0; g < cfg.growers; g++ {
		bg.Add(1)
		go func(g int) {
			defer bg.Done()
			val := []byte("grow-value-0123456789")
			for i := 0; !stop.Load() && i < 1_000_000; i++ {
				if err := ks.Set([]byte(fmt.Sprintf("grow:%d:%d", g, i)), val); err != nil {
					t.Errorf("grower Set: %v", err)
					return
				}
				grown.Add(1)
			}
		}(g)
	}
	for c := 0; c < cfg.churners; c++ {
		bg.Add(1)
		go func(c int) {
			defer bg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 77))
			val := make([]byte, 6000)
			for i := 0; !stop.Load(); i++ {
				k := []byte(fmt.Sprintf("churn:%d:%d", c, rng.IntN(32)))
				if err := ks.Set(k, val[:rng.IntN(len(val))]); err != nil {
					t.Errorf("churner Set: %v", err)
					return
				}
				if i%3 == 0 {
					ks.Delete(k)
				}
			}
		}(c)
	}

	// With growers, keys present for the whole run must be returned by every
	// full SCAN while the tables grow underneath it.
	var stable map[string]bool
	if cfg.growers > 0 {
		stable = make(map[string]bool)
		for i := 0; i < 100; i++ {
			k := fmt.Sprintf("stable:%d", i)
			stable[k] = true
			if err := ks.Set([]byte(k), []byte("s")); err != nil {
				t.Fatal(err)
			}
		}
		bg.Add(1)
		go func() {
			defer bg.Done()
			scans := 0
			var dst [][]byte
			for !stop.Load() {
				seen := make(map[string]bool, len(stable))
				cursor := uint64(0)
				for {
					dst, cursor = ks.Scan(cursor, []byte("stable:*"), 7, dst[:0])
					for _, k := range dst {
						seen[string(k)] = true
					}
					if cursor == 0 {
						break
					}
				}
				for k := range stable {
					if !seen[k] {
						t.Errorf("full SCAN during index growth missed %q, present throughout", k)
						return
					}
				}
				scans++
			}
			t.Logf("%d full scans during growth, each returned all %d stable keys", scans, len(stable))
		}()
	}

	histories := make([][]porcupine.Operation, cfg.clients)
	var wg sync.WaitGroup
	for c := 0; c < cfg.clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			more := func(i int) bool { return i < cfg.opsPerCli }
			if cfg.growers > 0 {
				more = func(i int) bool {
					return i < cfg.opsPerCli || (grown.Load() < cfg.growTarget && i < cfg.maxOps)
				}
			}
			histories[c] = linClient(t, ks, c, cfg, keys, clock, more)
		}(c)
	}
	wg.Wait()
	grownDuring := grown.Load()
	stop.Store(true)
	bg.Wait()

	var history []porcupine.Operation
	for _, h := range histories {
		history = append(history, h...)
	}
	if cfg.growers > 0 {
		t.Logf("%d keys inserted while the history was recorded (%d in all); Len()=%d", grownDuring, grown.Load(), ks.Len())
		if grownDuring < cfg.growTarget/4 {
			t.Errorf("only %d keys inserted during the history; index growth barely exercised", grownDuring)
		}
	}
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(linModel, history, cfg.checkLimit)
	t.Logf("%d operations on %d keys checked in %v: %s", len(history), len(keys), time.Since(start).Round(time.Millisecond), res)
	switch res {
	case porcupine.Illegal:
		path := filepath.Join(os.TempDir(), fmt.Sprintf("ringdb-lin-%s-%d.html", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano()))
		if err := porcupine.VisualizePath(linModel, info, path); err == nil {
			t.Errorf("history is not linearizable; visualization in %s", path)
		} else {
			t.Errorf("history is not linearizable (visualization failed: %v)", err)
		}
	case porcupine.Unknown:
		t.Logf("linearizability check timed out after %v (not a failure)", cfg.checkLimit)
	}
}

func linClient(t *testing.T, ks *core.Keyspace, c int, cfg linConfig, keys []string, clock func() int64, more func(int) bool) []porcupine.Operation {
	rng := rand.New(rand.NewPCG(uint64(c), 0x11))
	ops := make([]porcupine.Operation, 0, cfg.opsPerCli)
	var buf []byte
	for i := 0; more(i); i++ {
		in := linInput{op: linOp(rng.IntN(int(linNumOps))), key: keys[rng.IntN(len(keys))]}
		switch in.op {
		case linSet, linSetNX, linSetXX, linSetGet:
			switch r := rng.IntN(10); {
			case r < 6:
				in.val = strconv.Itoa(rng.IntN(2000) - 1000)
			case r < 7:
				in.val = strconv.FormatInt(math.MaxInt64-int64(rng.IntN(3)), 10)
			case r < 8 && cfg.largeVals:
				in.val = strings.Repeat(string(rune('A'+c)), 4000+rng.IntN(9000)) + strconv.Itoa(i)
			default:
				in.val = fmt.Sprintf("c%d-%d", c, i)
			}
		case linAppend:
			in.val = string(rune('a' + rng.IntN(26)))
			if cfg.largeVals && rng.IntN(4) == 0 {
				in.val = strings.Repeat("z", 1000+rng.IntN(3000))
			}
		case linIncrBy:
			in.delta = int64(rng.IntN(21) - 10)
			if rng.IntN(8) == 0 {
				in.delta = math.MaxInt64 / 2
			}
		}
		key := []byte(in.key)
		var out linOutput
		var err error
		call := clock()
		switch in.op {
		case linGet:
			buf, out.ok = ks.Get(buf[:0], key)
			out.val = string(buf)
		case linSet:
			err = ks.Set(key, []byte(in.val))
		case linDelete:
			out.ok = ks.Delete(key)
		case linIncrBy:
			out.n, err = ks.IncrBy(key, in.delta)
			switch {
			case errors.Is(err, core.ErrNotInteger):
				out.err, err = "notint", nil
			case errors.Is(err, core.ErrOverflow):
				out.err, err = "overflow", nil
			}
		case linSetNX, linSetXX:
			var res core.SetResult
			res, err = ks.SetOpt(nil, key, []byte(in.val), core.SetOptions{NX: in.op == linSetNX, XX: in.op == linSetXX})
			out.ok = res.Written
		case linSetGet:
			var res core.SetResult
			res, err = ks.SetOpt(buf[:0], key, []byte(in.val), core.SetOptions{Get: true})
			out.ok, out.val = res.HadPrev, string(res.Prev)
			buf = res.Prev
		case linGetDel:
			buf, out.ok = ks.GetDel(buf[:0], key)
			out.val = string(buf)
		case linAppend:
			var n int
			n, err = ks.Append(key, []byte(in.val))
			out.n = int64(n)
		}
		ret := clock()
		if cfg.growers > 0 && i%4 == 3 {
			// Pace the clients so the history spans the index growth.
			time.Sleep(20 * time.Microsecond)
		}
		if err != nil {
			t.Errorf("client %d: %s(%q): unexpected error %v", c, linOpNames[in.op], in.key, err)
			return ops
		}
		if !out.ok && (in.op == linGet || in.op == linGetDel || in.op == linSetGet) {
			out.val = ""
		}
		ops = append(ops, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
	}
	return ops
}
