package server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// SCAN with a COUNT whose keys would make a reply over the output hard
// limit returns fewer keys and a cursor to go on from, as SCAN may,
// rather than gathering them all and having its reply dropped (a client
// iterating with that COUNT then never got past the first call). The
// iteration still returns every key.
func TestScanOverHardLimitReturnsFewerKeys(t *testing.T) {
	const keys = 20000
	forEachTransport(t, Config{OutputHardLimit: 64 << 10}, func(t *testing.T, ts *testServer) {
		for i := range keys {
			if err := ts.ks.Set(fmt.Appendf(nil, "key:%06d", i), []byte("v")); err != nil {
				t.Fatal(err)
			}
		}
		c := ts.raw(t)
		seen := make(map[string]bool, keys)
		cursor, calls := "0", 0
		for {
			got := c.do(t, "SCAN", cursor, "COUNT", "1000000")
			calls++
			// *2, the cursor's $n and value, *m, then each key's $n and value.
			lines := strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n")
			if len(lines) < 4 || lines[0] != "*2" || !strings.HasPrefix(lines[3], "*") {
				t.Fatalf("SCAN %s COUNT 1000000 (call %d): %.80q", cursor, calls, got)
			}
			n, err := strconv.Atoi(lines[3][1:])
			if err != nil || len(lines) != 4+2*n {
				t.Fatalf("SCAN %s COUNT 1000000 (call %d): %.80q", cursor, calls, got)
			}
			for i := 0; i < n; i++ {
				seen[lines[5+2*i]] = true
			}
			if cursor = lines[2]; cursor == "0" {
				break
			}
			if calls > keys {
				t.Fatal("SCAN does not end")
			}
		}
		if len(seen) != keys {
			t.Fatalf("the iteration returned %d keys of %d", len(seen), keys)
		}
		if calls < 2 {
			t.Fatalf("one call returned %d keys (%d KiB) under a 64 KiB hard limit", keys, keys*16>>10)
		}
	})
}
