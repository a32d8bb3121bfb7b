package core

import "math"

// notFrozen is Keyspace.frozen's value while the clock runs.
const notFrozen = math.MinInt64

// FreezeClock makes every operation read the time it was called at, until
// ThawClock: as Redis freezes the time for a transaction, the commands the
// server's EXEC runs see one instant, so that a key cannot expire between
// two of them. Background expiry reads the frozen time too. The caller
// keeps other clients' operations out meanwhile (the server's EXEC holds
// its execution gate exclusively), and does not nest calls.
func (k *Keyspace) FreezeClock() { k.frozen.Store(k.clock()) }

// ThawClock lets the clock run again after FreezeClock.
func (k *Keyspace) ThawClock() { k.frozen.Store(notFrozen) }
