package transport

import (
	"bytes"
	"fmt"
	"math/rand"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ringdb/ringdb/transport/binproto"
)

// TestLoopSharingInterleaved: the connections of one gnet loop share its
// Writer and Request (replyScratch) and lend one another their decoders
// (decPool). Many connections pipelining at once, their requests cut at
// random bytes (so that some hold half a request, and a decoder, while the
// others are served with decoders from the pool), parking (BLOCK),
// postponing (POSTPONE, whose copy is served again after the decoder went
// back) and streaming large values by reference (BIGREF), must each get
// their own replies, in order, with nothing of another's mixed in.
//
// The second pass has a small output hard limit, so that connections are
// held (and resumed) for their output, and RESP3 pushes from other
// goroutines (PUSH) come between the replies.
func TestLoopSharingInterleaved(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind string
		cfg  Config
	}{
		{"gnet", Config{Loops: 1}},
		{"gnet", Config{Loops: 1, OutputHardLimit: 64 << 10}},
		{"std", Config{Loops: 1}},
	} {
		kind := tc.kind
		t.Run(fmt.Sprintf("%s-hard%d", kind, tc.cfg.OutputHardLimit), func(t *testing.T) {
			t.Parallel()
			e := startEnv(t, kind, tc.cfg)
			const conns, rounds = 10, 5
			runClients(t, e, conns, func(c *client, ci int) error {
				return loopShareClient(c, ci, rounds, tc.cfg.OutputHardLimit > 0)
			})
		})
	}
}

// bigWant is the reply BIG n k is expected to get.
type bigWant struct{ n, k int }

// loopShareClient runs rounds of a random pipeline on c and checks every
// reply; with pushes, in RESP3, with pushes asked for among them.
func loopShareClient(c *client, ci, rounds int, pushes bool) error {
	rng := rand.New(rand.NewSource(int64(ci) + 1))
	var pushed, got int
	// next reads the next reply, counting the pushes that come before it.
	next := func() (any, error) {
		for {
			v, err := c.read()
			if p, ok := v.(respPush); ok && err == nil {
				if len(p) != 2 || p[0] != "chan" {
					return nil, fmt.Errorf("bad push %v", p)
				}
				got++
				continue
			}
			return v, err
		}
	}
	if pushes {
		if _, err := c.Write(cmd("HELLO", "3")); err != nil {
			return err
		}
		if v, err := next(); err != nil || fmt.Sprint(v) != "[proto 3]" {
			return fmt.Errorf("HELLO 3 = %v, %v", v, err)
		}
	}
	for r := range rounds {
		var p []byte
		var want []any // string: a bulk or status; int: BIGREF n
		for k := range 4 + rng.Intn(6) {
			tag := fmt.Sprintf("c%d-r%d-k%d-", ci, r, k)
			switch rng.Intn(8) {
			case 7: // over turnOut in one reply: the connection's turn ends
				if pushes || rng.Intn(3) > 0 { // over the hard limit there: dropped
					continue
				}
				p = append(p, cmd("BIG", "70000", "16")...)
				want = append(want, bigWant{70000, 16})
			case 6:
				if !pushes {
					continue
				}
				n := 1 + rng.Intn(20)
				pushed += n
				p = append(p, cmd("PUSH", strconv.Itoa(n))...)
				want = append(want, "OK")
			case 0, 1:
				v := tag + string(bytes.Repeat([]byte{'a' + byte(ci%26)}, rng.Intn(3000)))
				if pushes && rng.Intn(4) == 0 {
					v += string(bytes.Repeat([]byte{'z'}, 100<<10)) // copied, not by reference
				}
				p = append(p, cmd("ECHO", v)...)
				want = append(want, v)
			case 2:
				v := tag + "blocked"
				p = append(p, cmd("BLOCK", strconv.Itoa(1+rng.Intn(3)), v)...)
				want = append(want, v)
			case 3:
				v := tag + "postponed" + string(bytes.Repeat([]byte{'p'}, rng.Intn(500)))
				p = append(p, cmd("POSTPONE", strconv.Itoa(1+rng.Intn(3)), v)...)
				want = append(want, v)
			case 4:
				n := refMin + rng.Intn(300<<10)
				p = append(p, cmd("BIGREF", strconv.Itoa(n))...)
				want = append(want, n)
			case 5:
				p = append(p, cmd("PING")...)
				want = append(want, "PONG")
			}
		}
		// Cut the pipeline at random bytes, with pauses that let the
		// loop serve the others in between.
		errc := make(chan error, 1)
		wrng := rand.New(rand.NewSource(rng.Int63()))
		go func() {
			for len(p) > 0 {
				n := min(len(p), 1+wrng.Intn(len(p)))
				if _, err := c.Write(p[:n]); err != nil {
					errc <- err
					return
				}
				p = p[n:]
				if wrng.Intn(3) == 0 {
					time.Sleep(time.Duration(wrng.Intn(500)) * time.Microsecond)
				}
			}
			errc <- nil
		}()
		if pushes && r%2 == 1 {
			// A slow reader: the replies pile up past the hard limit,
			// and the connection is held until it reads.
			time.Sleep(20 * time.Millisecond)
		}
		for i, w := range want {
			v, err := next()
			if err != nil {
				return fmt.Errorf("round %d reply %d: %w", r, i, err)
			}
			switch w := w.(type) {
			case string:
				if s, ok := v.(string); !ok || s != w {
					return fmt.Errorf("round %d reply %d: got %.80q, want %.80q", r, i, fmt.Sprint(v), w)
				}
			case bigWant:
				a, ok := v.([]any)
				if !ok || len(a) != w.k {
					return fmt.Errorf("round %d reply %d: BIG %d %d came back as %T", r, i, w.n, w.k, v)
				}
				zeros := string(make([]byte, w.n))
				for _, e := range a {
					if s, ok := e.(string); !ok || s != zeros {
						return fmt.Errorf("round %d reply %d: BIG %d %d came back wrong", r, i, w.n, w.k)
					}
				}
			case int:
				if s, ok := v.(string); !ok || s != string(refValue(w)) {
					return fmt.Errorf("round %d reply %d: BIGREF %d came back wrong (%d bytes)", r, i, w, len(fmt.Sprint(v)))
				}
			}
		}
		if err := <-errc; err != nil {
			return err
		}
	}
	// The pushes still on their way; a PING's reply comes after them all
	// only once they are all queued, so poll.
	for got < pushed {
		if _, err := c.Write(cmd("PING")); err != nil {
			return err
		}
		if v, err := next(); err != nil || v != "PONG" {
			return fmt.Errorf("PING = %v, %v", v, err)
		}
		if got < pushed {
			time.Sleep(time.Millisecond)
		}
	}
	if got != pushed {
		return fmt.Errorf("%d pushes, want %d", got, pushed)
	}
	return nil
}

// TestLoopSharingBinaryInterleaved is TestLoopSharingInterleaved over the
// binary protocol: frames cut at random bytes, parked and postponed ones
// among them, each reply matched to its request by id.
func TestLoopSharingBinaryInterleaved(t *testing.T) {
	t.Parallel()
	e := startEnv(t, "gnet", Config{Loops: 1})
	const conns, rounds = 10, 6
	runClients(t, e, conns, func(c *client, ci int) error {
		rng := rand.New(rand.NewSource(int64(ci) + 100))
		id := uint32(0)
		for r := range rounds {
			var p []byte
			type exp struct {
				op binproto.Opcode
				id uint32
				v  string
			}
			var want []exp
			for k := range 3 + rng.Intn(6) {
				id++
				v := fmt.Sprintf("b%d-r%d-k%d-%s", ci, r, k, bytes.Repeat([]byte{'x'}, rng.Intn(2000)))
				switch rng.Intn(3) {
				case 0:
					p = append(p, binReq(binproto.OpPing, id, v)...)
					want = append(want, exp{binproto.OpPing, id, v})
				case 1:
					p = append(p, binReq(opBlock, id, 1+rng.Intn(3), v)...)
					want = append(want, exp{opBlock, id, v})
				case 2:
					p = append(p, binReq(opPostpone, id, 1+rng.Intn(3), v)...)
					want = append(want, exp{opPostpone, id, v})
				}
			}
			wrng := rand.New(rand.NewSource(rng.Int63()))
			wrote := make(chan struct{})
			go func() {
				defer close(wrote)
				for len(p) > 0 {
					n := min(len(p), 1+wrng.Intn(len(p)))
					if _, err := c.Write(p[:n]); err != nil {
						return
					}
					p = p[n:]
					if wrng.Intn(3) == 0 {
						time.Sleep(time.Duration(wrng.Intn(500)) * time.Microsecond)
					}
				}
			}()
			for _, w := range want {
				f, err := c.readFrame()
				if err != nil {
					return err
				}
				if f.Op != w.op || f.ID != w.id || fmt.Sprint(f.Value) != w.v {
					return fmt.Errorf("got op %#x id %d %.60q, want op %#x id %d %.60q", f.Op, f.ID, fmt.Sprint(f.Value), w.op, w.id, w.v)
				}
			}
			<-wrote
		}
		return nil
	})
}

// runClients runs fn for each of conns new clients of e, ci numbering
// them, each on a goroutine of its own, and fails t with what they
// return.
func runClients(t *testing.T, e *env, conns int, fn func(c *client, ci int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for ci := range conns {
		c := e.conn(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(c, ci); err != nil {
				errs <- fmt.Errorf("conn %d: %w", ci, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
