package impls

import "github.com/ringdb/ringdb/core"

// Ringdb adapts a *core.Keyspace: unbounded memory, no background expiry.
type Ringdb struct{ ks *core.Keyspace }

// NewRingdb returns an empty keyspace.
func NewRingdb() (Ringdb, error) {
	ks, err := core.New(core.Options{MaxMemory: 0, NoActiveExpiry: true})
	if err != nil {
		return Ringdb{}, err
	}
	return Ringdb{ks: ks}, nil
}

// Get implements Store.
func (r Ringdb) Get(dst, key []byte) ([]byte, bool) { return r.ks.Get(dst, key) }

// Set implements Store.
func (r Ringdb) Set(key, value []byte) error { return r.ks.Set(key, value) }

// Close implements Store.
func (r Ringdb) Close() { r.ks.Close() }

// Keyspace returns the adapted keyspace, for reading its Stats.
func (r Ringdb) Keyspace() *core.Keyspace { return r.ks }
