// Package workload builds the deterministic data set and the per-goroutine
// random key picker that every store in the comparison is driven with.
//
// A record is a 16-byte key and a 64-byte value. Keys are "key:" followed by
// twelve zero-padded decimal digits; a value is its key repeated four times.
// The same index always yields the same bytes, so a reader can check a value
// without keeping a copy.
package workload

// Record sizes in bytes.
const (
	KeySize    = 16
	ValueSize  = 64
	RecordSize = KeySize + ValueSize
)

const keyPrefix = "key:"

// AppendKey appends the key of record i to dst. i must be below 10^12.
// It costs a few nanoseconds and touches no memory but dst, so a timed loop
// can build each key where a server would find it: in a buffer already in
// cache.
func AppendKey(dst []byte, i int) []byte {
	dst = append(dst, keyPrefix...)
	var digits [KeySize - len(keyPrefix)]byte
	v := uint64(i)
	for j := len(digits) - 2; j >= 0; j -= 2 {
		d := v % 100 * 2
		v /= 100
		digits[j], digits[j+1] = pairs[d], pairs[d+1]
	}
	return append(dst, digits[:]...)
}

const pairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// AppendValue appends the value of record i to dst.
func AppendValue(dst []byte, i int) []byte {
	var key [KeySize]byte
	return AppendValueOf(dst, AppendKey(key[:0], i))
}

// AppendValueOf appends the value that belongs to key: the key repeated
// ValueSize/KeySize times. Deriving it costs four 16-byte copies and no
// memory access beyond the key, and a store that returns another key's value
// is still caught.
func AppendValueOf(dst, key []byte) []byte {
	for range ValueSize / KeySize {
		dst = append(dst, key...)
	}
	return dst
}

// Dataset holds the keys of n records in one flat, pointer-free array, for
// prefilling and checking. The timed loops do not read it: at 16 MiB for
// 2^20 keys it does not stay in this machine's cache (about 8 MiB of
// effective last-level cache), and a cache miss per key drawn added the same
// ~80 ns to every store's figure; they build keys with AppendKey instead.
type Dataset struct {
	keys []byte
	n    int
}

// NewDataset materialises the keys of records 0..n-1.
func NewDataset(n int) *Dataset {
	keys := make([]byte, 0, n*KeySize)
	for i := range n {
		keys = AppendKey(keys, i)
	}
	return &Dataset{keys: keys, n: n}
}

// Len returns the number of records.
func (d *Dataset) Len() int { return d.n }

// Key returns the key of record i. The slice has no spare capacity, so an
// append to it cannot overwrite the next key. Callers must not modify it.
func (d *Dataset) Key(i int) []byte {
	off := i * KeySize
	return d.keys[off : off+KeySize : off+KeySize]
}

// Rand is a splitmix64 generator: one add and three multiply-xorshift rounds
// per draw, no shared state. Give each goroutine its own.
type Rand struct{ state uint64 }

// NewRand returns a generator seeded with seed. The seed is mixed into the
// starting state: splitmix64 walks one Weyl sequence (state += constant), so
// seeds k*constant would start goroutines one step apart on the same
// sequence, drawing the same keys in lockstep.
func NewRand(seed uint64) Rand { return Rand{state: mix(seed ^ 0x6a09e667f3bcc909)} }

// Next returns the next 64 random bits.
func (r *Rand) Next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return mix(r.state)
}

// Index maps the low 32 bits of r uniformly onto [0, n) without a division.
// n must be below 2^32.
func Index(r uint64, n int) int {
	return int(uint64(uint32(r)) * uint64(n) >> 32)
}

// mix is the splitmix64 finaliser.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
