package stats

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The Grafana dashboard is valid JSON, has the panels docs/monitoring.md
// promises, and queries only metrics that /metrics exposes.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("../deploy/grafana/ringdb.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	known := map[string]bool{"process_resident_memory_bytes": true}
	for _, n := range []string{
		"ringdb_cache_hits_total", "ringdb_cache_misses_total",
		"ringdb_network_inbound_bytes_total", "ringdb_network_outbound_bytes_total",
		"ringdb_commands_total", "ringdb_command_errors_total", "ringdb_command_duration_seconds_bucket",
		"ringdb_connected_clients", "ringdb_connections_total", "ringdb_rejected_connections_total",
		"ringdb_output_buffer_disconnects_total", "ringdb_keys", "ringdb_memory_used_bytes",
		"ringdb_memory_max_bytes", "ringdb_evicted_keys_total", "ringdb_expired_keys_total",
	} {
		known[n] = true
	}
	titles := map[string]bool{}
	name := regexp.MustCompile(`\b(ringdb_[a-z_]+|process_[a-z_]+)`)
	for _, p := range d.Panels {
		titles[p.Title] = true
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				if !known[n] {
					t.Errorf("panel %q queries unknown metric %s", p.Title, n)
				}
			}
		}
	}
	for _, want := range []string{"Cache hit ratio", "Ops/s by command", "p99 command latency", "Network in/out", "Memory used vs limit", "Evictions and expirations", "Clients"} {
		if !titles[want] {
			t.Errorf("no panel %q (have %s)", want, strings.Join(keys(titles), ", "))
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
