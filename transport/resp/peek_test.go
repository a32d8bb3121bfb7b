package resp

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPeek(t *testing.T) {
	cmd := func(args ...string) []byte {
		argv := make([][]byte, len(args))
		for i, a := range args {
			argv[i] = []byte(a)
		}
		return AppendCommand(nil, argv...)
	}
	var in []byte
	in = append(in, cmd("SET", "k1", "v")...)
	in = append(in, cmd("PING")...) // one argument: nothing to report
	in = append(in, cmd("GET", "k2")...)
	in = append(in, cmd("MSET", "k3", "a", "k4", "b")...)
	full := len(in)
	in = append(in, cmd("GET", "k5")...)

	strs := func(b [][]byte) []string {
		var s []string
		for _, x := range b {
			s = append(s, string(x))
		}
		return s
	}
	d := NewDecoder(Limits{})
	d.Feed(in[:full+5]) // the last command is cut short
	require.Equal(t, []string{"k1", "k2", "k3"}, strs(d.Peek(nil, 100)))
	require.Equal(t, []string{"k1", "k2"}, strs(d.Peek(nil, 3)), "max counts commands")
	// Peek consumed nothing: Next still returns everything in order.
	argv, err := d.Next()
	require.NoError(t, err)
	require.Equal(t, "SET", string(argv[0]))
	require.Equal(t, []string{"k2", "k3"}, strs(d.Peek(nil, 100)))

	// Inline commands, a split command and bad input stop the look-ahead.
	d = NewDecoder(Limits{})
	d.Feed([]byte("PING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"))
	require.Empty(t, d.Peek(nil, 100))
	d = NewDecoder(Limits{})
	d.Feed([]byte("*2\r\n$3\r\nGE"))
	_, _ = d.Next() // copies the partial command
	d.Feed([]byte("T\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$1\r\nj\r\n"))
	require.Empty(t, d.Peek(nil, 100))
	for _, bad := range []string{"*2\r\n$03\r\nGET\r\n$1\r\nk\r\n", "*02\r\n$3\r\nGET\r\n$1\r\nk\r\n", "*2\r\n$x\r\n", "*2\r\n$3\r\nGETXX", "*99999999999999999999\r\n", "*2\r\n$-1\r\n", "*1\r\n$9999999999\r\n"} {
		d = NewDecoder(Limits{})
		d.Feed([]byte(bad))
		require.Empty(t, d.Peek(nil, 100), "%q", bad)
	}
	d = NewDecoder(Limits{MaxBulk: 4})
	d.Feed(cmd("GET", "longkey"))
	require.Empty(t, d.Peek(nil, 100), "over the bulk limit")
}

// On random pipelines cut at random points, Peek reports exactly the second
// argument of each complete command Next then returns, in order.
func TestPeekAgreesWithNext(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 500 {
		var in []byte
		for range 1 + rng.IntN(20) {
			n := 1 + rng.IntN(4)
			argv := make([][]byte, n)
			for i := range argv {
				argv[i] = fmt.Appendf(nil, "a%d-%s", i, make([]byte, rng.IntN(40)))
			}
			in = AppendCommand(in, argv...)
		}
		in = in[:rng.IntN(len(in)+1)]
		d := NewDecoder(Limits{})
		d.Feed(in)
		peeked := d.Peek(nil, 1000)
		var want [][]byte
		for {
			argv, err := d.Next()
			require.NoError(t, err)
			if argv == nil {
				break
			}
			if len(argv) >= 2 {
				want = append(want, append([]byte(nil), argv[1]...))
			}
		}
		require.Equal(t, len(want), len(peeked), "round %d", round)
		for i := range want {
			require.Equal(t, string(want[i]), string(peeked[i]), "round %d", round)
		}
	}
}

func TestPeekAllocs(t *testing.T) {
	in := AppendCommand(nil, []byte("GET"), []byte("k"))
	in = AppendCommand(in, []byte("SET"), []byte("k"), []byte("v"))
	d := NewDecoder(Limits{})
	d.Feed(in)
	dst := make([][]byte, 0, 8)
	require.Zero(t, testing.AllocsPerRun(100, func() { dst = d.Peek(dst[:0], 8) }))
}
