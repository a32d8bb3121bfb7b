package resp

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
	c := func(args ...string) []byte {
		argv := make([][]byte, len(args))
		for i, a := range args {
			argv[i] = []byte(a)
		}
		return AppendCommand(nil, argv...)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	big := string(bytes.Repeat([]byte("0123456789"), 100))
	seeds := map[string][2][]byte{
		"set":               {c("SET", "key:000001", "value"), []byte{5}},
		"set-ex":            {c("SET", "session:abc", "{\"user\":42}", "EX", "3600", "NX"), []byte{20, 1}},
		"get":               {c("GET", "key:000001"), []byte{}},
		"mset":              {c("MSET", "a", "1", "b", "2", "c", "3"), []byte{9, 9, 9}},
		"mget":              {c("MGET", "a", "b", "c"), []byte{0, 2}},
		"binary-value":      {c("SET", "k", "a\r\n$3\r\n*\x00\xff"), []byte{13}},
		"big-value-split":   {c("SET", "k", big), []byte{30, 200, 255, 255}},
		"hello3":            {c("HELLO", "3", "AUTH", "default", "secret"), []byte{1}},
		"inline-ping":       {[]byte("PING\r\n"), []byte{2}},
		"inline-set":        {[]byte("SET foo bar\r\nGET foo\n"), []byte{7}},
		"inline-quoted":     {[]byte("SET \"a b\" 'c\\'d' \"\\x41\\n\\t\"\r\n"), []byte{6, 6}},
		"inline-unbalanced": {[]byte("SET \"abc\r\n"), []byte{}},
		"empty-commands":    {[]byte("*0\r\n*-1\r\n\r\n  \n*1\r\n$4\r\nPING\r\n"), []byte{3}},
		"pipeline": {cat(
			c("SET", "counter", "10"), c("INCR", "counter"), c("GET", "counter"),
			[]byte("PING\r\n"), c("DEL", "counter"), c("EXPIRE", "k", "10", "NX"),
		), []byte{4, 17, 30, 1}},
		"benchmark-p16": {func() []byte {
			var b []byte
			for i := range 16 {
				b = cat(b, c("SET", fmt.Sprintf("key:%012d", i), string(bytes.Repeat([]byte("x"), 64))))
			}
			return b
		}(), []byte{255, 255, 100}},
		"huge-array":      {[]byte("*4294967296\r\n"), []byte{}},
		"huge-bulk":       {[]byte("*1\r\n$4294967296\r\n"), []byte{6}},
		"expected-dollar": {[]byte("*2\r\n$3\r\nGET\r\n:1\r\n"), []byte{}},
		"bad-bulk-crlf":   {[]byte("*1\r\n$3\r\nGETX\r\n"), []byte{}},
		"leading-zero":    {[]byte("*01\r\n"), []byte{}},
		"neg-count-min":   {[]byte("*-9223372036854775808\r\n*1\r\n$4\r\nPING\r\n"), []byte{12}},
		"half-command":    {c("SET", "k", "v")[:17], []byte{3}},
		// Bulk lengths around what the grammar allows; only the reference
		// (refDecode) tells a wrong verdict here from a right one.
		"neg-bulk":          {[]byte("*1\r\n$-3\r\nabc\r\n*2\r\n$3\r\nGET\r\n$-1\r\n"), []byte{}},
		"bulk-leading-zero": {[]byte("*1\r\n$03\r\nabc\r\n"), []byte{2}},
		"bulk-at-limit":     {cat(c("SET", "k", string(bytes.Repeat([]byte("v"), int(fuzzLimits.MaxBulk)))), []byte("*1\r\n$4097\r\n")), []byte{}},
		"bulk-bad-lf":       {[]byte("*1\r\n$1\r\na\rX*1\r\n$4\r\nPING\r\n"), []byte{}},
		"count-plus":        {[]byte("*+1\r\n$4\r\nPING\r\n"), []byte{}},
	}
	checkSeeds(t, "FuzzRESPDecoder", seeds)
}
