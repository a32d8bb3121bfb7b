package core

import "math"

// The memory bound is one budget for the whole keyspace, held in parts.
// Each shard has a limit (shard.limit) that its writes allocate within,
// under the shard's own lock, as before; the part no shard holds is the
// pool (Keyspace.pool). At every moment the limits, the pool and the
// budget in transit in shed add up to MaxMemory, and each shard's used
// bytes stay within its limit, so the keyspace's stay within the bound.
//
// A shard that needs more takes it from the pool with one CAS (borrow),
// a few pages at a time. One that holds more than it uses gives the rest
// back (lendSurplus, at each active expiry cycle). When the pool has too
// little, the write that needs the room returns a *shedError with every
// lock released; Keyspace.shed then collects the budget from the other
// shards one lock at a time (holding no other: multi-key writes lock
// several shards in order, so taking another shard's lock while holding
// one could deadlock), the unused budget first and then, as the policy
// allows, what evicting their keys frees, and the write runs again.
// Eviction for an ordinary write stays local to its shard: under a
// uniform load every shard evicts its own coldest keys, as before.

// unboundedLimit is every shard's limit without a bound: far above any
// size, with room to add one.
const unboundedLimit = math.MaxInt64 / 4

// maxShedTries bounds how often a write collects budget from other
// shards and runs again before it runs local-only: writers of the same
// shard may use up what one collected before it runs again (pending
// serves every allocation over a page), each time completing a write of
// their own. With three, one of eight clients rewriting large values in
// a shard with nothing its policy may evict ran out of tries about once
// in 150 writes, and failed while other shards had keys to evict.
const maxShedTries = 16

// shedError is the error of a write that needs budget other shards hold.
// The public write that gets it has released its locks; its retrier
// collects the budget (shed) and runs it again. It matches
// ErrOOM, which is what such a write returns when shed cannot help.
type shedError struct {
	s    *shard
	need int64 // bytes s's limit must grow by
	// hold: the allocation is larger than a page, and what shed collects
	// is held for it (shard.pending) rather than left to the shard's
	// other writes, which would take it a page at a time before the
	// write ran again.
	hold bool
	// keep is the key a multi-key write reads (RENAME's and COPY's
	// source, keepKey), or nil: shed evicts it nowhere, or the run after
	// it would find it gone. Only that key: sparing the write's shards
	// whole failed the write when they held the bound, after it had run
	// local-only and emptied its destination shard.
	keep []byte
}

// keepKey marks err, when it is a *shedError of a write that reads key,
// so that the budget collected for it is not freed by evicting key; it
// returns err.
func keepKey(err error, key []byte) error {
	if se, ok := err.(*shedError); ok {
		se.keep = key
	}
	return err
}

func (e *shedError) Error() string        { return ErrOOM.Error() }
func (e *shedError) Is(target error) bool { return target == ErrOOM }
func (e *shedError) Unwrap() error        { return ErrOOM }

// setBudget sets the bound and hands it out: each shard gets what it uses
// and two pages more, the pool the rest. A bound lower than that gives
// each shard a part in proportion to what it uses; evictToBudget (or,
// under NoEviction, deletes) then bring each within its part.
// REQUIRES every shard's lock held, or no other user.
func (k *Keyspace) setBudget(maxMemory int64) {
	k.lowered.Add(1) // limits may go down
	k.maxMemory.Store(maxMemory)
	for i := range k.shards {
		k.shards[i].pending.Store(0)
	}
	if maxMemory <= 0 {
		for i := range k.shards {
			k.shards[i].limit.Store(unboundedLimit)
		}
		k.pool.Store(0)
		return
	}
	ps := int64(k.pageSize)
	// The values readers hold after their shard dropped them stay with
	// it, outside the proportions: evicting its keys would not free them
	// (a shard holding a large one lost every key to a lowered bound).
	var want int64
	for i := range k.shards {
		s := &k.shards[i]
		want += s.used.Load() - s.lentDropped.Load() + 2*ps
	}
	avail, lent := maxMemory-k.lent.Load(), k.lent.Load()
	var held int64
	for i := range k.shards {
		s := &k.shards[i]
		l := s.lentDropped.Load()
		w := s.used.Load() - l + 2*ps
		switch {
		case avail <= 0:
			// The readers hold more than the bound: nothing is left
			// for keys, and the bound is shared as they hold it.
			w = int64(float64(maxMemory) / float64(lent) * float64(l))
		case want > avail:
			w = int64(float64(avail)/float64(want)*float64(w)) + l
		default:
			w += l
		}
		s.limit.Store(w)
		held += w
	}
	k.pool.Store(maxMemory - held)
}

// bounded reports whether the keyspace has a memory bound.
func (k *Keyspace) bounded() bool { return k.maxMemory.Load() > 0 }

// borrow raises the shard's limit by need bytes or more from the pool: a
// couple of pages more when the pool has them, so that a growing shard
// does not come back for every page. It reports whether the pool had
// need. REQUIRES s.mu held.
func (s *shard) borrow(need int64) bool {
	k := s.ks
	if need <= 0 {
		return true
	}
	if !k.bounded() {
		return false
	}
	want := max(need, 2*int64(k.pageSize))
	for {
		p := k.pool.Load()
		if p < need {
			return false
		}
		g := min(want, p)
		if k.pool.CompareAndSwap(p, p-g) {
			s.limit.Add(g)
			return true
		}
	}
}

// lendSurplus gives the pool what the shard's limit holds beyond its use
// and two pages: deletes, expiry and FLUSHALL free memory in one shard
// that writes in another may need. REQUIRES s.mu held.
func (s *shard) lendSurplus() {
	if !s.ks.bounded() {
		return
	}
	// Budget held for a write that shed collected for goes back too: that
	// write ran again long ago, and did not need it all.
	s.pending.Store(0)
	keep := 2 * int64(s.ks.pageSize)
	if spare := s.limit.Load() - s.used.Load() - keep; spare > keep {
		s.limit.Add(-spare)
		s.ks.lowered.Add(1) // before the pool has it (sumUsed)
		s.ks.pool.Add(spare)
	}
}

// spare returns what the shard's limit holds beyond its use and the page
// eviction keeps in reserve (budget): budget another shard may take.
func (s *shard) spare() int64 {
	return max(0, s.limit.Load()-s.used.Load()-int64(s.ks.pageSize)-s.pending.Load())
}

// needBudget is the error of a write in s that needs n bytes more than
// its limit allows and could not free them itself: a *shedError when the
// pool and the other shards might provide them, ErrOOM when they cannot
// (under NoEviction, only their unused budget can help).
// REQUIRES s.mu held.
func (s *shard) needBudget(n int64) error {
	k := s.ks
	need := s.used.Load() + n - s.budget(false) - s.heldFor(n, false)
	if !k.bounded() || need <= 0 {
		return ErrOOM
	}
	// A write running local-only (retrier) gets a shedError here too,
	// which its retrier turns into ErrOOM; the shard's localOnly must not
	// fail the other writes of the shard, which may still shed.
	if k.policy() == NoEviction {
		have := k.pool.Load()
		for i := range k.shards {
			if o := &k.shards[i]; o != s {
				have += o.spare()
			}
		}
		if have < need {
			return ErrOOM
		}
	}
	return &shedError{s: s, need: need, hold: n > int64(k.pageSize)}
}

// neverFits returns a *BoundError when n more bytes could not fit in s
// even with every key of the keyspace evicted: the index tables and the
// ghost filters stay (counted at their present size: eviction shrinks a
// table only once most of it is empty, shrinkForRoom), and so do the
// page of reserve each shard keeps for moving records and the values
// readers hold after the keyspace dropped them (Stats.LentBytes, until
// they let go). Nothing is evicted for such a write. REQUIRES s.mu held.
func (s *shard) neverFits(n int64) error {
	k := s.ks
	m := k.maxMemory.Load()
	if m <= 0 {
		return nil
	}
	fixed := int64(len(k.shards)) * int64(k.pageSize)
	for i := range k.shards {
		o := &k.shards[i]
		fixed += o.table.Load().bytes() + o.ghostBytes.Load()
	}
	lent := k.lent.Load()
	// Values the keyspace dropped that readers still hold stay too: no
	// eviction frees them (evicting a value a reader holds only moves it
	// there). Left out, a write that could not fit beside them evicted
	// every key before it failed.
	if room := m - fixed - lent; n > room {
		return &BoundError{Need: n, Room: max(room, 0), MaxMemory: m, Lent: lent}
	}
	return nil
}

// retrier decides, for a public write that ran with its locks released,
// whether it runs again (again).
type retrier struct {
	sheds int    // how often shed ran for it
	local *shard // the shard whose localOnly the last run raised
}

// again reports whether a write that failed with *err, its locks
// released, should run again, and sets *err to what the write returns
// otherwise; it must be called after every run that follows one it asked
// for. A write that needs budget other shards hold (a *shedError) runs
// again once shed has collected it; when shed cannot, or has collected
// it maxShedTries times (the shard's other writers took it each time),
// it runs once more in local-only mode, freeing room in its own shard
// only, as if the keyspace had no other shard; under NoEviction, where
// its own shard has nothing more to give, it fails with ErrOOM.
func (r *retrier) again(k *Keyspace, err *error) bool {
	if r.local != nil {
		r.local.localOnly.Add(-1)
		r.local = nil
		if _, ok := (*err).(*shedError); ok {
			*err = ErrOOM
		}
		return false
	}
	se, ok := (*err).(*shedError)
	if !ok {
		return false
	}
	if r.sheds < maxShedTries {
		r.sheds++
		if k.shed(se.s, se.need, se.hold, se.keep) {
			return true
		}
	}
	if k.policy() == NoEviction {
		*err = ErrOOM
		return false
	}
	se.s.localOnly.Add(1)
	r.local = se.s
	return true
}

// retrying runs write, the locked body of a public write, and runs it
// again as retrier decides. write must take its locks itself and release
// them before it returns, and a run that fails must have changed nothing
// another run would not redo.
func retrying[T any](k *Keyspace, write func() (T, error)) (T, error) {
	var r retrier
	for {
		v, err := write()
		if err == nil && r.local == nil || !r.again(k, &err) {
			return v, err
		}
	}
}

// shed collects need bytes of budget for shard s, which a write needs
// and could not free itself, and adds them to its limit. It reports
// whether the write should run again: it collected need, or there is no
// bound any more. It does not evict keep (the key the write reads,
// keepKey), when not nil. It holds no lock on entry and at most one
// shard's lock at a time.
func (k *Keyspace) shed(s *shard, need int64, hold bool, keep []byte) bool {
	got := k.collect(s, need, 0, hold, keep)
	// A bound removed since the write needed budget (SetMaxMemory(0))
	// leaves nothing to collect, and room for it: it runs again rather
	// than fail (under NoEviction) or run local-only.
	return got >= need || !k.bounded()
}

// feed gives shard s, which holds less than an even share of the bound and
// needs more (starved), budget from the shards holding more than an even
// share: a uniform load leaves every shard near its share, where each
// evicts its own coldest keys, but a shard that grew on large values would
// otherwise keep them while the others evict their small keys. It moves a
// little at a time (feedStep; each write that finds the shard starved
// moves more), so that no write waits for much eviction. It holds no lock on
// entry and at most one shard's lock at a time.
//
// keep is the key a multi-key write that feeds s before locking it
// reads (lockSet: RENAME's source), or nil: it is not evicted.
func (k *Keyspace) feed(s *shard, keep []byte) {
	if !s.starved.CompareAndSwap(1, 0) {
		return // another writer feeds it
	}
	fair := k.fairShare()
	want := min(fair-s.share(), k.feedStep())
	if want <= 0 {
		return
	}
	k.collect(s, want, fair, false, keep)
}

// fairShare is an even share among the shards of the bound, less what
// readers hold of values the shards dropped (Keyspace.lent): no shard's
// keys can have that part.
func (k *Keyspace) fairShare() int64 {
	return max(k.maxMemory.Load()-k.lent.Load(), 0) / int64(len(k.shards))
}

// share is the part of the shard's limit its keys may have: the limit
// less the values readers hold that it has dropped (lentDropped), which
// its limit counts as its used bytes do, but which no eviction of its
// keys frees. The bound's fairness compares shares: compared by limit, a
// shard whose dropped 10 MiB value a slow client was still reading gave
// every key it had to the other shards' writes (feed), and freed nothing.
func (s *shard) share() int64 { return s.limit.Load() - s.lentDropped.Load() }

// feedStep is the most budget feed moves at once, and what collect
// evicts in one shard before it looks again for the one holding the most:
// an eighth of an even share, at most 1 MiB (8 pages of the default
// size). It reads no page size: feed runs without a lock.
func (k *Keyspace) feedStep() int64 { return max(min(k.fairShare()/8, 1<<20), 1) }

// underShare reports whether s holds less than an even share of the bound
// by some pages while another shard holds more by as much: then it is
// starved, and feed should move budget to it rather than s evicting its
// own keys. REQUIRES s.mu held.
func (s *shard) underShare() bool {
	k := s.ks
	if !k.bounded() || k.policy() == NoEviction {
		return false
	}
	fair, slack := k.fairShare(), k.feedStep()
	if s.share()+slack > fair {
		return false
	}
	for i := range k.shards {
		if k.shards[i].share() > fair+slack {
			return true
		}
	}
	return false
}

// starve marks s starved when it is under its share (underShare), so that
// the next write to it feeds it before taking the lock, and reports
// whether it did. REQUIRES s.mu held.
func (s *shard) starve() bool {
	if s.starved.Load() == 0 && s.underShare() {
		s.starved.Store(1)
	}
	return s.starved.Load() != 0
}

// collect moves up to want bytes of budget to shard s and returns how
// many it moved: what the pool has, then the other shards' unused budget,
// then (unless the policy is NoEviction) what evicting keys frees in the
// other shards, the one holding the most budget first, a few pages at a
// time. With floor > 0 it takes nothing from a shard's limit below floor
// (feed: only from shards over their share). What it collects is added to
// s's limit, and with hold, when it is all of want, kept for allocations
// larger than a page (shard.pending). It does not evict keep, when not
// nil (the key the write it collects for reads). It holds no lock on
// entry and at most one shard's lock at a time (and Keyspace.budgetMu for
// reading, which SetMaxMemory takes before any shard lock).
func (k *Keyspace) collect(s *shard, want, floor int64, hold bool, keep []byte) int64 {
	// No SetMaxMemory while budget is in transit (Keyspace.budgetMu).
	k.budgetMu.RLock()
	defer k.budgetMu.RUnlock()
	if !k.bounded() {
		return 0 // the bound was removed since the write needed budget
	}
	got := k.takePool(want)
	others := make([]*shard, 0, len(k.shards)-1)
	for i := range k.shards {
		if o := &k.shards[i]; o != s {
			others = append(others, o)
		}
	}
	victims := append([]*shard(nil), others...)
	var keepIn *shard // the shard of keep, which evicts all but keep
	if keep != nil {
		keepIn, _ = k.shardFor(keep)
	}
	above := func(o *shard) int64 {
		if floor <= 0 {
			return want
		}
		return o.share() - floor
	}
	for _, o := range others {
		if got >= want {
			break
		}
		// spare() without its reserve page (the page size is not read
		// without a lock); cede takes the exact spare under o's lock.
		if n := min(want-got, above(o), o.limit.Load()-o.used.Load()-o.pending.Load()); n > 0 {
			got += o.cede(n, false, nil)
		}
	}
	step := k.feedStep()
	for got < want && k.policy() != NoEviction && len(victims) > 0 {
		best := 0
		for i, o := range victims {
			if o.share() > victims[best].share() {
				best = i
			}
		}
		o := victims[best]
		n := min(want-got, step, above(o))
		if n <= 0 {
			break
		}
		var kept []byte
		if o == keepIn {
			kept = keep
		}
		g := o.cede(n, true, kept)
		got += g
		if g < n {
			// Nothing more it may evict.
			victims = append(victims[:best], victims[best+1:]...)
		}
	}
	if got == 0 {
		return 0
	}
	if k.lockOnly(s) != nil {
		k.pool.Add(got)
		return 0
	}
	s.limit.Add(got)
	if hold && got >= want {
		// Short of want, the write does not run again as it asked
		// (retrier): held, the budget would stay out of every other
		// shard's reach (spare) until an active expiry cycle, and
		// their writes fail or evict with it unused.
		s.pending.Add(got)
	}
	s.mu.Unlock()
	return got
}

// cede lowers the shard's limit by up to n bytes and returns by how much:
// its unused budget, and with evict what evicting its keys (as its policy
// allows) but keep (when not nil) frees, a step per lock hold. It takes
// and releases s.mu.
func (s *shard) cede(n int64, evict bool, keep []byte) int64 {
	got := int64(0)
	for tries := 0; got < n; {
		if s.ks.lockOnly(s) != nil {
			return got
		}
		if g := min(s.spare(), n-got); g > 0 {
			s.limit.Add(-g)
			s.ks.lowered.Add(1) // before collect hands it on (sumUsed)
			got += g
		}
		ok := evict && got < n && tries <= s.maxRoomTries()
		if ok {
			s.keep = keep
			ok = s.shrinkForRoom() || s.makeRoom(true, tries)
			s.keep = nil
			// tries counts the steps since one last gave budget, not
			// since memory last went down: moving keep (all a shard may
			// hold) takes a page that the next step frees, and so on
			// for ever.
			if g := min(s.spare(), n-got); g > 0 {
				s.limit.Add(-g)
				s.ks.lowered.Add(1)
				got += g
				tries = 0
			} else {
				tries++
			}
		}
		s.mu.Unlock()
		if !ok {
			break
		}
	}
	return got
}

// takePool takes up to n bytes from the pool and returns how many.
func (k *Keyspace) takePool(n int64) int64 {
	for {
		p := k.pool.Load()
		g := min(n, p)
		if g <= 0 {
			return 0
		}
		if k.pool.CompareAndSwap(p, p-g) {
			return g
		}
	}
}
