package binproto

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the checked-in fuzz seed corpus")

// corpusFile renders fuzz arguments in the go test corpus file format.
func corpusFile(args ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		fmt.Fprintf(&b, "[]byte(%q)\n", a)
	}
	return b.Bytes()
}

// checkSeeds compares the seed-* files under testdata/fuzz/<name> with
// seeds, or rewrites them with -update-seeds. Files the fuzzer added
// (crash regressions) are left alone.
func checkSeeds(t *testing.T, name string, seeds map[string][2][]byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", name)
	if *updateSeeds {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		old, _ := filepath.Glob(filepath.Join(dir, "seed-*"))
		for _, f := range old {
			os.Remove(f)
		}
	}
	for n, s := range seeds {
		path := filepath.Join(dir, "seed-"+n)
		want := corpusFile(s[0], s[1])
		if *updateSeeds {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (run go test -run TestSeedCorpus -update-seeds): %v", path, err)
		}
	}
}

func TestSeedCorpus(t *testing.T) {
	scanReply := frame(OpScan, FlagReply, 9, func(b []byte) []byte {
		b = AppendArrayHeader(b, 2)
		b = AppendInt(b, 17)
		b = AppendArrayHeader(b, 3)
		for _, k := range []string{"a", "bb", "ccc"} {
			b = AppendString(b, k)
		}
		return b
	})
	stats := frame(OpStats, FlagReply, 10, func(b []byte) []byte {
		b = AppendMapHeader(b, 3)
		for i, k := range []string{"keys", "hits", "misses"} {
			b = AppendString(b, k)
			b = AppendInt(b, int64(i*1000))
		}
		return b
	})
	var p16 []byte
	for i := range 16 {
		p16 = cat(p16, request(OpSet, uint32(i+1), fmt.Sprintf("key:%012d", i), bytes.Repeat([]byte("x"), 64)))
	}
	seeds := map[string][2][]byte{
		"hello":         {request(OpHello, 1, 1, 1, "app", "token"), []byte{12}},
		"get":           {request(OpGet, 2, "key:000001"), []byte{3}},
		"set":           {request(OpSet, 3, "key:000001", "value"), []byte{12, 6}},
		"set-nx-px":     {request(OpSet, 4, "session:abc", "{\"user\":42}", SetNX|ExpPX, 3600000), []byte{20}},
		"mset":          {request(OpMSet, 5, "a", "1", "b", "2", "c", "3"), []byte{1, 1, 1}},
		"mget":          {request(OpMGet, 6, "a", "b", "c"), []byte{}},
		"scan":          {request(OpScan, 7, 0, nil, 100), []byte{13}},
		"ping-no-args":  {cat(request(OpPing, 8), empty), []byte{11}},
		"pipeline":      {cat(request(OpSet, 1, "c", "10"), request(OpIncrBy, 2, "c", -3), request(OpGet, 3, "c"), request(OpDel, 4, "c"), request(OpExpire, 5, "k", 10, CondNX)), []byte{12, 12, 40, 1}},
		"benchmark-p16": {p16, []byte{255, 255, 7}},
		"replies": {cat(
			docExamples[1], reply, docExamples[4], docExamples[6], docExamples[7], docExamples[8], scanReply, stats,
		), []byte{50, 3, 3, 100}},
		"pushes":        {cat(docExamples[9], reply, docExamples[10]), []byte{13}},
		"frame-4GiB":    {mustHex("b100001100000001ffffffff"), []byte{2}},
		"bad-magic":     {cat(request(OpGet, 1, "k"), []byte("*1\r\n$4\r\nPING\r\n")), []byte{}},
		"bad-flags":     {mustHex("b1100010000000010000000000"), []byte{}},
		"args-count-4G": {frame(OpMGet, 0, 1, func(b []byte) []byte { return append(b, 0xff, 0xff, 0xff, 0xff, 0) }), []byte{}},
		"bytes-4GiB":    {frame(OpGet, 0, 1, func(b []byte) []byte { return append(b, 0, 0, 0, 1, 1, 0xff, 0xff, 0xff, 0xff) }), []byte{}},
		"half-frame":    {request(OpSet, 1, "k", "value")[:20], []byte{14}},
		"nested-arg":    {frame(OpGet, 0, 1, func(b []byte) []byte { return AppendArrayHeader(AppendArgCount(b, 1), 0) }), []byte{}},
		"big-value":     {request(OpSet, 1, "k", bytes.Repeat([]byte("0123456789"), 25)), []byte{30, 255}},
		"trailing-body": {frame(OpGet, 0, 1, func(b []byte) []byte { return append(AppendString(AppendArgCount(b, 1), "k"), 0) }), []byte{}},
	}
	checkSeeds(t, "FuzzBinaryDecoder", seeds)
}
