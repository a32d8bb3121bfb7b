package transport

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// holdRandSeed returns the seed of a randomized hold test: HOLDRAND_SEED
// when set, else the time. It is logged so that a failure can be replayed.
func holdRandSeed(t *testing.T) uint64 {
	if s := os.Getenv("HOLDRAND_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("HOLDRAND_SEED: %v", err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// holdRandRounds is how many random connections each transport gets
// (HOLDRAND_ROUNDS, default 3).
func holdRandRounds() int {
	if n, err := strconv.Atoi(os.Getenv("HOLDRAND_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 2
}

// holdRandMaxSleep bounds the reader's pause before each read, in ms
// (HOLDRAND_MAXSLEEP, default 20).
func holdRandMaxSleep() int {
	if n, err := strconv.Atoi(os.Getenv("HOLDRAND_MAXSLEEP")); err == nil && n > 0 {
		return n
	}
	return 20
}

// throttled reads at most a random number of bytes per Read and sleeps a
// random time before each: a client reading at random speeds.
type throttled struct {
	c        net.Conn
	rng      *rand.Rand
	minChunk int
	maxChunk int
	maxSleep time.Duration
	got      int64
}

func (r *throttled) Read(p []byte) (int, error) {
	if r.maxSleep > 0 {
		time.Sleep(time.Duration(r.rng.Int64N(int64(r.maxSleep) + 1)))
	}
	n := r.minChunk + r.rng.IntN(r.maxChunk-r.minChunk+1)
	if len(p) > n {
		p = p[:n]
	}
	k, err := r.c.Read(p)
	r.got += int64(k)
	return k, err
}

// holdRandCmd is one request of a random pipeline and its expected reply.
type holdRandCmd struct {
	req  []byte
	want any
	desc string
}

func holdRandGen(rng *rand.Rand, i int) holdRandCmd {
	switch rng.IntN(10) {
	case 0, 1, 2: // BIG: a reply of up to 1 MiB, often over the hard limit
		n := rng.IntN(512 << 10)
		if rng.IntN(3) == 0 {
			n = rng.IntN(4 << 10)
		}
		return holdRandCmd{cmd("BIG", strconv.Itoa(n)), string(make([]byte, n)), "BIG " + strconv.Itoa(n)}
	case 3, 4: // ECHO of a large request
		n := rng.IntN(300 << 10)
		v := bytes.Repeat([]byte{byte('a' + i%26)}, n)
		return holdRandCmd{cmd("ECHO", string(v)), string(v), "ECHO " + strconv.Itoa(n)}
	case 5: // SET then GET of the same key in the same pipeline
		k := "k" + strconv.Itoa(i)
		v := bytes.Repeat([]byte{'v'}, rng.IntN(64<<10))
		return holdRandCmd{append(cmd("SET", k, string(v)), cmd("GET", k)...), []any{"OK", string(v)}, "SET+GET " + strconv.Itoa(len(v))}
	case 6: // a parked request
		ms := rng.IntN(5)
		r := "blocked-" + strconv.Itoa(i)
		return holdRandCmd{cmd("BLOCK", strconv.Itoa(ms), r), r, "BLOCK " + strconv.Itoa(ms)}
	case 7: // inline
		return holdRandCmd{[]byte("PING\r\n"), "PONG", "inline PING"}
	default:
		return holdRandCmd{cmd("PING"), "PONG", "PING"}
	}
}

// holdRandGenBin is holdRandGen for the binary protocol: want is the
// reply frames' opcodes, ids and values, in order.
type binWant struct {
	op  binproto.Opcode
	id  uint32
	val any
}

func holdRandGenBin(rng *rand.Rand, i int) (req []byte, want []binWant, desc string) {
	id := uint32(i + 1)
	switch rng.IntN(8) {
	case 0, 1, 2:
		n := rng.IntN(512 << 10)
		if rng.IntN(3) == 0 {
			n = rng.IntN(4 << 10)
		}
		return binReq(opBig, id, n), []binWant{{opBig, id, string(make([]byte, n))}}, "BIG " + strconv.Itoa(n)
	case 3, 4:
		n := rng.IntN(300 << 10)
		v := bytes.Repeat([]byte{byte('a' + i%26)}, n)
		return binReq(binproto.OpPing, id, v), []binWant{{binproto.OpPing, id, string(v)}}, "PING " + strconv.Itoa(n)
	case 5:
		k := "k" + strconv.Itoa(i)
		v := bytes.Repeat([]byte{'v'}, rng.IntN(64<<10))
		req = append(binReq(binproto.OpSet, id, k, v), binReq(binproto.OpGet, id+100000, k)...)
		return req, []binWant{{binproto.OpSet, id, binOK{}}, {binproto.OpGet, id + 100000, string(v)}}, "SET+GET " + strconv.Itoa(len(v))
	case 6:
		ms := rng.IntN(5)
		r := "blocked-" + strconv.Itoa(i)
		return binReq(opBlock, id, ms, r), []binWant{{opBlock, id, r}}, "BLOCK " + strconv.Itoa(ms)
	default:
		return binReq(binproto.OpPing, id), []binWant{{binproto.OpPing, id, binOK{}}}, "PING"
	}
}

// A client that pipelines random requests (large replies, large requests,
// parked requests) under a small OutputHardLimit, and reads its replies
// all the time at random speeds, gets every reply, in order, and is never
// disconnected: the transport holds its input while the output is over
// the limit (connState.hold) and serves it again as the client reads.
func TestRandomPipelineOnHold(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("slow readers: a minute or two")
	}
	seed := holdRandSeed(t)
	t.Logf("seed %d (HOLDRAND_SEED to replay)", seed)
	for ki, kind := range []string{"gnet", "std", "pipe"} {
		t.Run(kind, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(ki)))
			for round := range holdRandRounds() {
				hard := []int64{64 << 10, 256 << 10, 1 << 20}[rng.IntN(3)]
				e := startEnv(t, kind, Config{OutputHardLimit: hard, Loops: 1})
				holdRandRound(t, e, rng, round, hard, round%2 == 1)
			}
		})
	}
}

func holdRandRound(t *testing.T, e *env, rng *rand.Rand, round int, hard int64, bin bool) {
	c, err := e.dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Minute)) // slow readers take long

	n := 20 + rng.IntN(100)
	cmds := make([]holdRandCmd, n)
	bwant := make([][]binWant, n)
	var total int
	if bin {
		cmds = append(cmds, holdRandCmd{}) // HELLO first
		copy(cmds[1:], cmds)
		bwant = append([][]binWant{nil}, bwant...)
		cmds[0] = holdRandCmd{req: binReq(binproto.OpHello, 777777, 1, 1), desc: "HELLO"}
	}
	for i := range cmds {
		if bin {
			if i > 0 {
				cmds[i].req, bwant[i], cmds[i].desc = holdRandGenBin(rng, i)
			}
		} else {
			cmds[i] = holdRandGen(rng, i)
		}
		total += len(cmds[i].req)
	}
	// The reader: 1 KiB or more every 20 ms at most (by default), so at
	// least ~50 KB/s, at most several MB/s.
	tr := &throttled{c: c, rng: rand.New(rand.NewPCG(rng.Uint64(), 1)),
		minChunk: 1 << 10, maxChunk: 1 << (12 + rng.IntN(5)),
		maxSleep: time.Duration(rng.IntN(holdRandMaxSleep())) * time.Millisecond}
	// A round reads for about two seconds at most: a slow reader of tens
	// of MiB of replies made the test take from 22 to 89 s with the seed
	// (the longest test of CI's steps). A big pipeline gets a faster
	// reader; a small one may still be read slowly.
	replies := 0
	for i := range cmds {
		if bin {
			for _, w := range bwant[i] {
				replies += len(fmt.Sprint(w.val))
			}
		} else {
			replies += len(fmt.Sprint(cmds[i].want))
		}
	}
	if reads := replies/((tr.minChunk+tr.maxChunk)/2) + 1; time.Duration(reads)*tr.maxSleep/2 > 2*time.Second {
		tr.maxSleep = 4 * time.Second / time.Duration(reads)
	}
	where := fmt.Sprintf("round %d (binary %v): hard limit %d, %d commands (%d bytes), reads of %d..%d bytes every <= %v",
		round, bin, hard, n, total, tr.minChunk, tr.maxChunk, tr.maxSleep)

	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		var buf []byte
		for _, cm := range cmds {
			buf = append(buf, cm.req...)
		}
		// Written in random pieces.
		for len(buf) > 0 && werr == nil {
			k := min(len(buf), 1+rng.IntN(256<<10))
			_, werr = c.Write(buf[:k])
			buf = buf[k:]
		}
	}()
	cl := &client{Conn: c}
	cl.br = newBufReader(tr)
	start := time.Now()
	for i, cm := range cmds {
		if bin {
			if i == 0 {
				if f, err := cl.readFrame(); err != nil || f.Op != binproto.OpHello {
					t.Fatalf("%s: HELLO: %+v %v", e.kind, f, err)
				}
				continue
			}
			for _, w := range bwant[i] {
				f, err := cl.readFrame()
				if err != nil {
					wg.Wait()
					t.Fatalf("%s: %s\nreply to #%d %s: %v after %d bytes in %v (write error: %v; output-limit disconnects: %d)",
						e.kind, where, i, cm.desc, err, tr.got, time.Since(start), werr, e.stats().OutputBufferDisconnects)
				}
				if f.Flags != binproto.FlagReply || f.Op != w.op || f.ID != w.id || fmt.Sprintf("%#v", f.Value) != fmt.Sprintf("%#v", w.val) {
					t.Fatalf("%s: %s\nreply to #%d %s: got frame %+v %.60q, want op %v id %d %.60q", e.kind, where, i, cm.desc, f.Header, fmt.Sprint(f.Value), w.op, w.id, fmt.Sprint(w.val))
				}
			}
			continue
		}
		wants := []any{cm.want}
		if l, ok := cm.want.([]any); ok {
			wants = l
		}
		for _, want := range wants {
			got, err := cl.read()
			if err != nil {
				wg.Wait()
				t.Fatalf("%s: %s\nreply to #%d %s: %v after %d bytes in %v (write error: %v; output-limit disconnects: %d)",
					e.kind, where, i, cm.desc, err, tr.got, time.Since(start), werr, e.stats().OutputBufferDisconnects)
			}
			if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
				t.Fatalf("%s: %s\nreply to #%d %s: got %d bytes %.40q, want %d bytes %.40q", e.kind, where, i, cm.desc, len(g), g, len(w), w)
			}
		}
	}
	wg.Wait()
	if werr != nil {
		t.Fatalf("%s: %s: write: %v", e.kind, where, werr)
	}
	if d := e.stats().OutputBufferDisconnects; d != 0 {
		t.Fatalf("%s: %s: %d output-limit disconnects", e.kind, where, d)
	}
	// Nothing more, and the connection still serves.
	if bin {
		c.Write(binReq(binproto.OpPing, 999999))
		if f, err := cl.readFrame(); err != nil || f.ID != 999999 {
			t.Fatalf("%s: %s: final PING: %+v %v", e.kind, where, f, err)
		}
	} else {
		c.Write(cmd("PING"))
		if got, err := cl.read(); err != nil || got != "PONG" {
			t.Fatalf("%s: %s: final PING: %v %v", e.kind, where, got, err)
		}
	}
	if cl.br.Buffered() != 0 {
		t.Fatalf("%s: %s: %d unexpected bytes", e.kind, where, cl.br.Buffered())
	}
	t.Logf("%s: %s: ok in %v", e.kind, where, time.Since(start))
}

func newBufReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, 64<<10) }
