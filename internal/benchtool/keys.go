package benchtool

import (
	"math/rand/v2"
	"strconv"
)

// ZipfExponent is the skew of --key-pattern zipf (math/rand's Zipf needs s > 1).
const ZipfExponent = 1.1

// KeyGen draws key indexes in [0, keyspace). A KeyGen is used by one
// goroutine only.
type KeyGen interface {
	Next() int64
}

type uniformGen struct {
	r *rand.Rand
	n int64
}

func (g *uniformGen) Next() int64 { return g.r.Int64N(g.n) }

type zipfGen struct{ z *rand.Zipf }

func (g *zipfGen) Next() int64 { return int64(g.z.Uint64()) }

// NewKeyGen returns a generator for pattern ("uniform" or "zipf") over
// keyspace keys, seeded by seed.
func NewKeyGen(pattern string, keyspace int64, seed uint64) KeyGen {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	if pattern == "zipf" {
		return &zipfGen{rand.NewZipf(r, ZipfExponent, 1, uint64(keyspace-1))}
	}
	return &uniformGen{r, keyspace}
}

// keyPrefix prefixes every key: key i is "rb:<i>".
const keyPrefix = "rb:"

// maxPrebuilt is the largest keyspace whose key strings are built once up front.
const maxPrebuilt = 1 << 22

// keyTable turns indexes into key strings, prebuilt for small keyspaces.
type keyTable struct{ keys []string }

func newKeyTable(keyspace int64) *keyTable {
	t := &keyTable{}
	if keyspace <= maxPrebuilt {
		t.keys = make([]string, keyspace)
		for i := range t.keys {
			t.keys[i] = keyPrefix + strconv.Itoa(i)
		}
	}
	return t
}

func (t *keyTable) key(i int64) string {
	if t.keys != nil {
		return t.keys[i]
	}
	return keyPrefix + strconv.FormatInt(i, 10)
}

// Mixer yields SET or GET in the exact set:get proportion, interleaved
// deterministically: within each cycle of set+get operations the sets are
// spread evenly (Bresenham-style) among the gets.
type Mixer struct {
	set, total int
	pos        int
}

// NewMixer returns a mixer for set:get starting at cycle offset start.
func NewMixer(set, get, start int) *Mixer {
	t := set + get
	return &Mixer{set: set, total: t, pos: ((start % t) + t) % t}
}

// IsSet reports whether the next operation is a SET.
func (m *Mixer) IsSet() bool {
	p := m.pos
	m.pos++
	if m.pos == m.total {
		m.pos = 0
	}
	// Operation p is a SET when floor((p+1)*set/total) > floor(p*set/total).
	return (p+1)*m.set/m.total > p*m.set/m.total
}
