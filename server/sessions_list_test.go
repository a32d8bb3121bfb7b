package server

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestSessionsLeaveFromAnywhere: the server's sessions (a list each knows
// its place in) hold exactly the open connections whichever of them
// close, first, last or in between: CLIENT LIST shows the others, each
// once, and INFO counts them.
func TestSessionsLeaveFromAnywhere(t *testing.T) {
	ts := startServer(t, TransportGnet, Config{})
	clients := make([]*netClient, 8)
	ids := make([]string, len(clients))
	for i := range clients {
		clients[i] = ts.raw(t)
		ids[i] = strings.TrimSuffix(strings.TrimPrefix(clients[i].do(t, "CLIENT", "ID"), ":"), "\r\n")
	}
	lister := clients[len(clients)-1]
	idRe := regexp.MustCompile(`(?m)^id=(\d+) `)
	listed := func() []string {
		out := lister.do(t, "CLIENT", "LIST")
		var got []string
		for _, m := range idRe.FindAllStringSubmatch(out, -1) {
			got = append(got, m[1])
		}
		sort.Strings(got)
		return got
	}
	open := map[int]bool{}
	for i := range clients {
		open[i] = true
	}
	for _, i := range []int{0, 6, 3, 1} { // the first, the last but the lister, middles
		clients[i].conn.Close()
		delete(open, i)
		var want []string
		for j := range clients {
			if open[j] {
				want = append(want, ids[j])
			}
		}
		sort.Strings(want)
		waitUntil(t, fmt.Sprintf("CLIENT LIST = %v", want), func() bool {
			return fmt.Sprint(listed()) == fmt.Sprint(want)
		})
		if got := infoField(t, lister.do(t, "INFO", "clients"), "connected_clients"); got != int64(len(want)) {
			t.Fatalf("connected_clients = %d, want %d", got, len(want))
		}
	}
}
