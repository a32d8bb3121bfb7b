package repl

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdb/ringdb/server"
)

// TestPExpireFarTTLKeepsKey: PEXPIRE with a TTL beyond what a
// time.Duration holds (~292 years) used to wrap to a negative duration in
// the CLI and delete the key, where Redis (and the server) set the TTL.
func TestPExpireFarTTLKeepsKey(t *testing.T) {
	addr := startServer(t, server.Config{})
	oneShot(t, "-a", addr, "SET", "k", "v")
	out, _, code := oneShot(t, "-a", addr, "PEXPIRE", "k", "9300000000000") // ~295 years
	t.Logf("PEXPIRE -> %q exit %d", out, code)
	out, _, _ = oneShot(t, "-a", addr, "EXISTS", "k")
	if out != "1\n" {
		t.Fatalf("after PEXPIRE k 9300000000000 (a ~295-year TTL) EXISTS k = %q; the key was deleted", out)
	}
}

// TestSetPXFarTTL: SET ... PX with a TTL past 292 years used to be refused.
func TestSetPXFarTTL(t *testing.T) {
	addr := startServer(t, server.Config{})
	out, _, code := oneShot(t, "-a", addr, "SET", "k", "v", "PX", "9300000000000")
	if code != 0 || out != "OK\n" {
		t.Fatalf("SET k v PX 9300000000000 = %q exit %d, want OK (Redis accepts it)", out, code)
	}
}

// TestTTLFarDeadline: TTL/PTTL of a key whose deadline is more
// than 292 years away printed a negative number (the SDK's TTL clamps to
// TTLMax and the CLI's rounding overflowed); they print the exact value.
func TestTTLFarDeadline(t *testing.T) {
	addr := startServer(t, server.Config{})
	oneShot(t, "-a", addr, "SET", "k", "v")
	if out, _, _ := oneShot(t, "-a", addr, "EXPIREAT", "k", "99999999999"); out != "1\n" { // year 5138
		t.Fatalf("EXPIREAT: %q", out)
	}
	for _, cmd := range []string{"TTL", "PTTL"} {
		before := time.Now().Unix()
		out, _, _ := oneShot(t, "-a", addr, cmd, "k")
		after := time.Now().Unix()
		n, err := strconv.ParseInt(strings.TrimSuffix(out, "\n"), 10, 64)
		if cmd == "PTTL" {
			n /= 1000
		}
		if err != nil || n < 99999999999-after-1 || n > 99999999999-before+1 {
			t.Errorf("%s k (deadline 99999999999, year 5138) = %q, want about %d s", cmd, out, 99999999999-before)
		}
	}
}

// TestDecrByMinInt64: DECRBY key -9223372036854775808 negates the
// delta used to overflow and run INCRBY key MinInt64 instead of failing as
// Redis does ("decrement would overflow").
func TestDecrByMinInt64(t *testing.T) {
	addr := startServer(t, server.Config{})
	oneShot(t, "-a", addr, "SET", "n", "1")
	out, _, code := oneShot(t, "-a", addr, "DECRBY", "n", "-9223372036854775808")
	if code != 1 || !strings.Contains(out, "overflow") {
		t.Errorf("DECRBY n -9223372036854775808 = %q exit %d, want an overflow error", out, code)
	}
	if out, _, _ := oneShot(t, "-a", addr, "GET", "n"); out != "1\n" {
		t.Errorf("GET n after the failed DECRBY = %q, want 1", out)
	}
}

// TestUnixSecondsOutOfRange: a deadline in unix seconds whose
// milliseconds overflow int64 is Redis's "invalid expire time". The CLI
// passed it to the SDK, which saturates: EXPIREAT, SET ... EXAT and
// GETEX ... EXAT set a TTL of 292 million years, and EXPIREAT with a
// hugely negative time deleted the key.
func TestUnixSecondsOutOfRange(t *testing.T) {
	addr := startServer(t, server.Config{})
	oneShot(t, "-a", addr, "SET", "k", "v")
	for _, args := range [][]string{
		{"EXPIREAT", "k", "-9223372036854775808"},
		{"EXPIREAT", "k", "-9223372036854776"},
		{"EXPIREAT", "k", "9223372036854776"},
		{"EXPIREAT", "k", "9223372036854775807"},
		{"GETEX", "k", "EXAT", "9223372036854776"},
		{"SET", "k", "v", "EXAT", "9223372036854775807"},
	} {
		out, _, code := oneShot(t, append([]string{"-a", addr}, args...)...)
		if code != 1 || !strings.Contains(out, "invalid expire time") {
			t.Errorf("%q = %q exit %d, want invalid expire time", args, out, code)
		}
		if out, _, _ := oneShot(t, "-a", addr, "TTL", "k"); out != "-1\n" {
			t.Fatalf("after %q: TTL k = %q, want -1 (key kept, no TTL)", args, out)
		}
	}
	// The largest deadline that fits is accepted, as by Redis.
	if out, _, code := oneShot(t, "-a", addr, "EXPIREAT", "k", "9223372036854775"); code != 0 || out != "1\n" {
		t.Errorf("EXPIREAT k 9223372036854775 = %q exit %d", out, code)
	}
}
