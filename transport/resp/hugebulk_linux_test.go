//go:build linux && !race && (amd64 || arm64)

package resp

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"github.com/ringdb/ringdb/internal/bufpool"
	"github.com/ringdb/ringdb/internal/memtest"
)

// A command past bufpool.Max made of many small arguments (an MSET of
// small values), whose total no bulk declares, moves to a bigger buffer a
// few times, as doubling did, not every couple of MiB (each move copies
// all of it: quadratic in the command). It comes first in this file: the
// big buffers the tests after it give back are kept for reuse, and one as
// large as the command would hide the moves.
func TestManySmallBulksPastMaxGrowGeometrically(t *testing.T) {
	const pairs = 40_000
	val := bytes.Repeat([]byte{'v'}, 2000)
	cmd := fmt.Appendf(nil, "*%d\r\n$4\r\nMSET\r\n", 1+2*pairs)
	for i := range pairs {
		k := fmt.Sprintf("key:%06d", i)
		cmd = fmt.Appendf(cmd, "$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(val), val)
	}
	d := NewDecoder(Limits{})
	moves := 0
	var argv [][]byte
	for off := 0; argv == nil && off < len(cmd); off += 64 << 10 {
		old := unsafe.SliceData(d.pend)
		d.Feed(cmd[off:min(off+64<<10, len(cmd))])
		var err error
		if argv, err = d.Next(); err != nil {
			t.Fatal(err)
		}
		if cap(d.pend) > bufpool.Max && unsafe.SliceData(d.pend) != old {
			moves++
		}
	}
	if len(argv) != 1+2*pairs || !bytes.Equal(argv[len(argv)-1], val) || string(argv[len(argv)-2]) != fmt.Sprintf("key:%06d", pairs-1) {
		t.Fatalf("command decoded wrong: %d args", len(argv))
	}
	if moves > 4 {
		t.Fatalf("a %d-byte command moved %d times past bufpool.Max", len(cmd), moves)
	}
	d.Reset()
	if bufpool.BigInUse() != 0 {
		t.Fatalf("%d bytes of big buffers in use after Reset", bufpool.BigInUse())
	}
}

// A bulk past bufpool.Max is gathered, once it passes bufpool.BigFrom
// (pooled scratch until then), in one buffer sized from its declared
// length, committed as it arrives and given back to the kernel once the
// command is done. Gathered by doubling, a 100 MiB SET went through 16,
// 32, 64 and 128 MiB buffers on the Go heap, each copied into the next.
func TestHugeBulkGatheredOnce(t *testing.T) {
	const n = 48 << 20
	val := bytes.Repeat([]byte("0123456789abcdef"), n/16)
	val[0], val[n-1] = 'A', 'Z'
	cmd := fmt.Appendf(nil, "*5\r\n$3\r\nSET\r\n$3\r\nkey\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$2\r\n10\r\n", n, val)
	d := NewDecoder(Limits{})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var argv [][]byte
	for off := 0; argv == nil && off < len(cmd); off += 64 << 10 {
		d.Feed(cmd[off:min(off+64<<10, len(cmd))])
		var err error
		if argv, err = d.Next(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if len(argv) != 5 || !bytes.Equal(argv[2], val) || string(argv[4]) != "10" {
		t.Fatalf("command decoded wrong: %d args, value %d bytes equal %v, last %q", len(argv), len(argv[2]), bytes.Equal(argv[2], val), argv[len(argv)-1])
	}
	if heap := after.TotalAlloc - before.TotalAlloc; heap > 4*bufpool.BigFrom {
		t.Fatalf("%d bytes of Go heap allocated gathering a %d-byte bulk", heap, n)
	}
	if res, _ := memtest.Resident(argv[2]); res < n-(1<<20) {
		t.Fatalf("only %d bytes of the bulk resident", res)
	}
	stale := argv[2]
	if argv, err := d.Next(); argv != nil || err != nil {
		t.Fatalf("Next after the command: %q, %v", argv, err)
	}
	if res, span := memtest.Resident(stale); res != 0 {
		t.Fatalf("%d of %d bytes still resident once the command is done", res, span)
	}
}

// A client that declares a huge bulk and sends a little of it costs the
// server what it sent, not what it declared; when its connection goes
// (Reset), that memory goes back too.
func TestHugeBulkDeclaredCostsWhatArrives(t *testing.T) {
	d := NewDecoder(Limits{})
	d.Feed([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\n"))
	if argv, err := d.Next(); argv != nil || err != nil {
		t.Fatalf("Next: %q, %v", argv, err)
	}
	part := bytes.Repeat([]byte{'x'}, 20<<20)
	for off := 0; off < len(part); off += 64 << 10 {
		d.Feed(part[off : off+64<<10])
		if argv, err := d.Next(); argv != nil || err != nil {
			t.Fatalf("Next: %q, %v", argv, err)
		}
	}
	held := d.pend[:cap(d.pend)]
	if len(held) < 500_000_000 {
		t.Fatalf("gathered in %d bytes: not sized for the declared bulk", len(held))
	}
	if res, _ := memtest.Resident(held); res > 24<<20 {
		t.Fatalf("%d bytes resident for 20 MiB received", res)
	}
	d.Reset()
	if res, _ := memtest.Resident(held); res != 0 {
		t.Fatalf("%d bytes resident after Reset", res)
	}
}
