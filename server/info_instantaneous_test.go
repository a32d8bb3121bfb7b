package server

import (
	"strings"
	"testing"
	"time"
)

// TestInfoInstantaneousOps: INFO stats has Redis's instantaneous_ops_per_sec,
// instantaneous_input_kbps and instantaneous_output_kbps, the rates between
// the server's last two once-a-second samples. redis_exporter, Datadog's
// Redis check and the usual Grafana Redis dashboards graph them; without
// them those panels stay empty.
func TestInfoInstantaneousOps(t *testing.T) {
	srv := newDirectServer(t, Config{})
	c := newDirectClient(t, srv)
	field := func(name string) string {
		t.Helper()
		info := c.do(t, "INFO", "stats")
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, name+":"); ok {
				return v
			}
		}
		t.Fatalf("INFO stats has no %s: %q", name, info)
		return ""
	}
	if got := field("instantaneous_ops_per_sec"); got != "0" {
		t.Errorf("before any sample: instantaneous_ops_per_sec = %s, want 0", got)
	}
	t0 := time.Now()
	srv.sampleRates(t0)
	for range 200 {
		c.do(t, "SET", "k", "v")
	}
	srv.sampleRates(t0.Add(2 * time.Second))
	// 200 SETs and the INFO above, over 2 seconds.
	if got := field("instantaneous_ops_per_sec"); got != "100" {
		t.Errorf("instantaneous_ops_per_sec = %s, want 100", got)
	}
	for _, name := range []string{"instantaneous_input_kbps", "instantaneous_output_kbps"} {
		if got := field(name); !strings.Contains(got, ".") {
			t.Errorf("%s = %q, want a rate with two decimals", name, got)
		}
	}
}
