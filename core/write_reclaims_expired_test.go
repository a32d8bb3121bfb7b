package core

import (
	"errors"
	"testing"
)

// TestWritesThatChangeNothingReclaimExpiredKey: as Redis's lookupKeyWrite
// deletes an expired key before the command decides what to do, a write
// that finds the key expired reclaims it (DBSIZE drops, expired_keys
// counts it) even when it then writes nothing: SET ... XX, and
// INCRBYFLOAT refused for its increment (Redis looks the key up before it
// parses either number), SETRANGE refused for the size it would make
// (Redis looks the key up before it checks it). They left it for the active cycle, counted by
// Len and Stats though a write had found it expired.
func TestWritesThatChangeNothingReclaimExpiredKey(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(k *Keyspace) error
	}{
		{"SET XX", func(k *Keyspace) error {
			res, err := k.SetOpt(nil, []byte("k"), []byte("new"), SetOptions{XX: true})
			if res.Written {
				return errors.New("SET XX wrote an expired key")
			}
			return err
		}},
		{"SET XX GET", func(k *Keyspace) error {
			res, err := k.SetOpt(nil, []byte("k"), []byte("new"), SetOptions{XX: true, Get: true})
			if res.Written || res.HadPrev {
				return errors.New("SET XX GET saw an expired key")
			}
			return err
		}},
		{"INCRBYFLOAT inf", func(k *Keyspace) error {
			if _, err := k.IncrByFloat(nil, []byte("k"), []byte("inf")); !errors.Is(err, ErrNaNOrInf) {
				return err
			}
			return nil
		}},
		{"INCRBYFLOAT not a number", func(k *Keyspace) error {
			if _, err := k.IncrByFloat(nil, []byte("k"), []byte("abc")); !errors.Is(err, ErrNotFloat) {
				return err
			}
			return nil
		}},
		{"SETRANGE past the value limit", func(k *Keyspace) error {
			if _, err := k.SetRange([]byte("k"), DefaultMaxValueSize, []byte("x")); !errors.Is(err, ErrValueTooLarge) {
				return err
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := int64(1_000_000)
			k, err := New(Options{NoActiveExpiry: true, Shards: 1, Clock: func() int64 { return now }})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			if _, err := k.SetOpt(nil, []byte("k"), []byte("1"), SetOptions{TTL: 10}); err != nil {
				t.Fatal(err)
			}
			now += 11
			if err := tc.write(k); err != nil {
				t.Fatal(err)
			}
			if n, st := k.Len(), k.Stats(); n != 0 || st.Expired != 1 {
				t.Fatalf("after the write found the key expired: Len %d, Stats.Expired %d; want 0 and 1", n, st.Expired)
			}
		})
	}
}
