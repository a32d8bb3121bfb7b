package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestGoRedis drives every command through go-redis, over every transport
// and both RESP versions, checking values, nulls (redis.Nil), integer
// replies, error prefixes and TTLs within a tolerance.
func TestGoRedis(t *testing.T) {
	forEachTransport(t, Config{}, func(t *testing.T, ts *testServer) {
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
				rdb := ts.redis(t, proto, nil)
				if err := rdb.FlushAll(context.Background()).Err(); err != nil {
					t.Fatal(err)
				}
				goRedisSuite(t, rdb, proto)
			})
		}
	})
}

// check fails the test when err is not nil or got differs from want.
func check[T comparable](t *testing.T, what string, got T, err error, want T) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: unexpected error %v", what, err)
		return
	}
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// checkNil fails unless err is redis.Nil.
func checkNil(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, redis.Nil) {
		t.Errorf("%s: err = %v, want redis.Nil", what, err)
	}
}

// checkErr fails unless err is a Redis error with exactly msg.
func checkErr(t *testing.T, what string, err error, msg string) {
	t.Helper()
	var re redis.Error
	if !errors.As(err, &re) || err.Error() != msg {
		t.Errorf("%s: err = %v, want %q", what, err, msg)
	}
}

// checkDur fails unless d is within [lo, hi].
func checkDur(t *testing.T, what string, d time.Duration, err error, lo, hi time.Duration) {
	t.Helper()
	if err != nil || d < lo || d > hi {
		t.Errorf("%s = %v (%v), want within [%v, %v]", what, d, err, lo, hi)
	}
}

func goRedisSuite(t *testing.T, rdb *redis.Client, proto int) {
	ctx := context.Background()
	now := time.Now()

	// Connection and server.
	s, err := rdb.Ping(ctx).Result()
	check(t, "PING", s, err, "PONG")
	s, err = rdb.Echo(ctx, "hi").Result()
	check(t, "ECHO", s, err, "hi")
	hello, err := rdb.Do(ctx, "HELLO", proto).Result()
	if err != nil {
		t.Fatalf("HELLO: %v", err)
	}
	switch m := hello.(type) {
	case map[any]any:
		if proto != 3 || m["proto"] != int64(3) || m["server"] != "redis" {
			t.Errorf("HELLO 3 = %v", m)
		}
	case []any:
		if proto != 2 || len(m) != 14 || m[0] != "server" {
			t.Errorf("HELLO 2 = %v", m)
		}
	default:
		t.Errorf("HELLO = %T %v", hello, hello)
	}
	check(t, "SELECT 0", rdb.Do(ctx, "SELECT", 0).Err(), nil, error(nil))
	checkErr(t, "SELECT 1", rdb.Do(ctx, "SELECT", 1).Err(), "ERR DB index is out of range")
	checkErr(t, "unknown", rdb.Do(ctx, "NOSUCH", "a").Err(), "ERR unknown command 'NOSUCH', with args beginning with: 'a' ")
	id, err := rdb.ClientID(ctx).Result()
	if err != nil || id <= 0 {
		t.Errorf("CLIENT ID = %d, %v", id, err)
	}
	check(t, "CLIENT SETNAME", rdb.Do(ctx, "CLIENT", "SETNAME", "suite").Err(), nil, error(nil))
	s, err = rdb.ClientGetName(ctx).Result()
	check(t, "CLIENT GETNAME", s, err, "suite")
	info, err := rdb.ClientInfo(ctx).Result()
	if err != nil || info.ID != id || info.Name != "suite" || info.Resp != proto || info.LastCmd != "client|info" {
		t.Errorf("CLIENT INFO = %+v, %v", info, err)
	} else if !strings.HasPrefix(info.LibName, "go-redis") {
		t.Errorf("CLIENT INFO lib-name = %q: CLIENT SETINFO from go-redis was lost", info.LibName)
	}
	list, err := rdb.ClientList(ctx).Result()
	if err != nil || !strings.Contains(list, fmt.Sprintf("id=%d ", id)) {
		t.Errorf("CLIENT LIST = %q, %v", list, err)
	}
	list, err = rdb.Do(ctx, "CLIENT", "LIST", "ID", 0, id, id+1000).Text()
	if err != nil || !strings.Contains(list, fmt.Sprintf("id=%d ", id)) || strings.Count(list, "\n") != 1 {
		t.Errorf("CLIENT LIST ID 0 %d %d = %q, %v", id, id+1000, list, err)
	}
	n, err := rdb.DBSize(ctx).Result()
	check(t, "DBSIZE", n, err, 0)
	tm, err := rdb.Time(ctx).Result()
	if err != nil || tm.Sub(now).Abs() > 5*time.Second {
		t.Errorf("TIME = %v, %v", tm, err)
	}
	cfg, err := rdb.ConfigGet(ctx, "maxmemory*").Result()
	if err != nil || cfg["maxmemory"] != "0" || cfg["maxmemory-policy"] != "noeviction" {
		t.Errorf("CONFIG GET maxmemory* = %v, %v", cfg, err)
	}
	check(t, "CONFIG SET", rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(), nil, error(nil))
	n, err = rdb.Do(ctx, "COMMAND", "COUNT").Int64()
	if err != nil || n < 40 {
		t.Errorf("COMMAND COUNT = %d, %v", n, err)
	}
	cmds, err := rdb.Command(ctx).Result()
	if err != nil || cmds["get"] == nil || cmds["get"].Arity != 2 || !cmds["get"].ReadOnly || cmds["mset"].StepCount != 2 {
		t.Errorf("COMMAND: %v", err)
	}
	infoText, err := rdb.Info(ctx, "stats", "keyspace").Result()
	if err != nil || !strings.Contains(infoText, "keyspace_hits:") || strings.Contains(infoText, "# Server") {
		t.Errorf("INFO stats keyspace = %q, %v", infoText, err)
	}

	// Strings.
	checkNil(t, "GET missing", rdb.Get(ctx, "missing").Err())
	check(t, "SET", rdb.Set(ctx, "k", "v", 0).Err(), nil, error(nil))
	s, err = rdb.Get(ctx, "k").Result()
	check(t, "GET", s, err, "v")
	check(t, "SET binary", rdb.Set(ctx, "bin", "a\x00b\r\nc", 0).Err(), nil, error(nil))
	s, err = rdb.Get(ctx, "bin").Result()
	check(t, "GET binary", s, err, "a\x00b\r\nc")
	check(t, "SET empty", rdb.Set(ctx, "empty", "", 0).Err(), nil, error(nil))
	s, err = rdb.Get(ctx, "empty").Result()
	check(t, "GET empty", s, err, "")
	check(t, "SET EX", rdb.Set(ctx, "ttl", "v", 100*time.Second).Err(), nil, error(nil))
	d, err := rdb.TTL(ctx, "ttl").Result()
	checkDur(t, "TTL after SET EX", d, err, 99*time.Second, 100*time.Second)
	check(t, "SET PX", rdb.Set(ctx, "ttl", "v", 1500*time.Millisecond).Err(), nil, error(nil))
	d, err = rdb.PTTL(ctx, "ttl").Result()
	checkDur(t, "PTTL after SET PX", d, err, time.Second, 1500*time.Millisecond)
	check(t, "SET KEEPTTL", rdb.Set(ctx, "ttl", "v2", redis.KeepTTL).Err(), nil, error(nil))
	d, err = rdb.PTTL(ctx, "ttl").Result()
	checkDur(t, "PTTL after KEEPTTL", d, err, time.Second, 1500*time.Millisecond)
	check(t, "SET EXAT", rdb.SetArgs(ctx, "ttl", "v", redis.SetArgs{ExpireAt: now.Add(time.Hour)}).Err(), nil, error(nil))
	d, err = rdb.TTL(ctx, "ttl").Result()
	checkDur(t, "TTL after EXAT", d, err, 3590*time.Second, time.Hour)
	checkErr(t, "SET EX 0", rdb.Do(ctx, "SET", "k", "v", "EX", 0).Err(), "ERR invalid expire time in 'set' command")
	checkErr(t, "SET NX XX", rdb.Do(ctx, "SET", "k", "v", "NX", "XX").Err(), "ERR syntax error")
	b, err := rdb.SetNX(ctx, "k", "x", 0).Result()
	check(t, "SET NX existing", b, err, false)
	b, err = rdb.SetXX(ctx, "nokey", "x", 0).Result()
	check(t, "SET XX missing", b, err, false)
	s, err = rdb.SetArgs(ctx, "k", "v2", redis.SetArgs{Get: true}).Result()
	check(t, "SET GET", s, err, "v")
	checkNil(t, "SET GET missing", rdb.SetArgs(ctx, "fresh", "1", redis.SetArgs{Get: true}).Err())
	b, err = rdb.SetNX(ctx, "nx", "1", 0).Result()
	check(t, "SETNX new", b, err, true)
	n, err = rdb.Do(ctx, "SETNX", "nx", "2").Int64()
	check(t, "SETNX existing", n, err, 0)
	check(t, "SETEX", rdb.SetEx(ctx, "se", "v", 50*time.Second).Err(), nil, error(nil))
	d, err = rdb.TTL(ctx, "se").Result()
	checkDur(t, "TTL after SETEX", d, err, 49*time.Second, 50*time.Second)
	check(t, "PSETEX", rdb.Do(ctx, "PSETEX", "pse", 50000, "v").Err(), nil, error(nil))
	d, err = rdb.PTTL(ctx, "pse").Result()
	checkDur(t, "PTTL after PSETEX", d, err, 49*time.Second, 50*time.Second)
	checkNil(t, "GETSET missing", rdb.GetSet(ctx, "gs", "1").Err())
	s, err = rdb.GetSet(ctx, "gs", "2").Result()
	check(t, "GETSET", s, err, "1")
	s, err = rdb.GetDel(ctx, "gs").Result()
	check(t, "GETDEL", s, err, "2")
	checkNil(t, "GETDEL missing", rdb.GetDel(ctx, "gs").Err())
	s, err = rdb.GetEx(ctx, "k", 30*time.Second).Result()
	check(t, "GETEX EX", s, err, "v2")
	d, err = rdb.TTL(ctx, "k").Result()
	checkDur(t, "TTL after GETEX", d, err, 29*time.Second, 30*time.Second)
	s, err = rdb.GetEx(ctx, "k", 0).Result() // go-redis sends PERSIST for 0
	check(t, "GETEX PERSIST", s, err, "v2")
	d, err = rdb.TTL(ctx, "k").Result()
	check(t, "TTL after PERSIST", d, err, time.Duration(-1))
	checkNil(t, "GETEX missing", rdb.GetEx(ctx, "missing", time.Second).Err())
	check(t, "MSET", rdb.MSet(ctx, "a", "1", "b", "2").Err(), nil, error(nil))
	vals, err := rdb.MGet(ctx, "a", "nokey", "b").Result()
	if err != nil || !slices.Equal(vals, []any{"1", nil, "2"}) {
		t.Errorf("MGET = %v, %v", vals, err)
	}
	b, err = rdb.MSetNX(ctx, "a", "x", "c", "3").Result()
	check(t, "MSETNX existing", b, err, false)
	b, err = rdb.MSetNX(ctx, "c", "3", "d", "4").Result()
	check(t, "MSETNX", b, err, true)
	checkErr(t, "MSET odd", rdb.Do(ctx, "MSET", "a", "1", "b").Err(), "ERR wrong number of arguments for 'mset' command")
	n, err = rdb.Incr(ctx, "counter").Result()
	check(t, "INCR", n, err, 1)
	n, err = rdb.IncrBy(ctx, "counter", 41).Result()
	check(t, "INCRBY", n, err, 42)
	n, err = rdb.Decr(ctx, "counter").Result()
	check(t, "DECR", n, err, 41)
	n, err = rdb.DecrBy(ctx, "counter", 50).Result()
	check(t, "DECRBY", n, err, -9)
	checkErr(t, "INCR not integer", rdb.Incr(ctx, "k").Err(), "ERR value is not an integer or out of range")
	rdb.Set(ctx, "max", "9223372036854775807", 0)
	checkErr(t, "INCR overflow", rdb.Incr(ctx, "max").Err(), "ERR increment or decrement would overflow")
	n, err = rdb.Append(ctx, "ap", "hello").Result()
	check(t, "APPEND new", n, err, 5)
	n, err = rdb.Append(ctx, "ap", " world").Result()
	check(t, "APPEND", n, err, 11)
	n, err = rdb.StrLen(ctx, "ap").Result()
	check(t, "STRLEN", n, err, 11)
	n, err = rdb.StrLen(ctx, "nokey").Result()
	check(t, "STRLEN missing", n, err, 0)
	s, err = rdb.GetRange(ctx, "ap", -5, -1).Result()
	check(t, "GETRANGE", s, err, "world")
	s, err = rdb.GetRange(ctx, "nokey", 0, -1).Result()
	check(t, "GETRANGE missing", s, err, "")
	n, err = rdb.SetRange(ctx, "ap", 0, "J").Result()
	check(t, "SETRANGE", n, err, 11)
	n, err = rdb.SetRange(ctx, "sr", 2, "ab").Result()
	check(t, "SETRANGE missing", n, err, 4)
	s, err = rdb.Get(ctx, "sr").Result()
	check(t, "GET after SETRANGE", s, err, "\x00\x00ab")
	checkErr(t, "SETRANGE negative", rdb.SetRange(ctx, "sr", -1, "x").Err(), "ERR offset is out of range")
	checkErr(t, "SETRANGE too long", rdb.SetRange(ctx, "sr", 1<<29, "x").Err(), "ERR string exceeds maximum allowed size (proto-max-bulk-len)")
	rdb.Set(ctx, "fl", "10.5", 0)
	f, err := rdb.IncrByFloat(ctx, "fl", 0.1).Result()
	check(t, "INCRBYFLOAT", f, err, 10.6)
	s, err = rdb.Get(ctx, "fl").Result()
	check(t, "GET after INCRBYFLOAT", s, err, "10.6")
	checkErr(t, "INCRBYFLOAT not a float", rdb.IncrByFloat(ctx, "ap", 1).Err(), "ERR value is not a valid float")
	checkErr(t, "INCRBYFLOAT inf", rdb.Do(ctx, "INCRBYFLOAT", "fl", "inf").Err(), "ERR increment would produce NaN or Infinity")

	// Keys.
	n, err = rdb.Exists(ctx, "a", "a", "nokey", "b").Result()
	check(t, "EXISTS repeats", n, err, 3)
	n, err = rdb.Del(ctx, "a", "nokey").Result()
	check(t, "DEL", n, err, 1)
	n, err = rdb.Unlink(ctx, "b", "c").Result()
	check(t, "UNLINK", n, err, 2)
	s, err = rdb.Type(ctx, "d").Result()
	check(t, "TYPE", s, err, "string")
	s, err = rdb.Type(ctx, "nokey").Result()
	check(t, "TYPE missing", s, err, "none")
	b, err = rdb.Expire(ctx, "d", 100*time.Second).Result()
	check(t, "EXPIRE", b, err, true)
	b, err = rdb.ExpireNX(ctx, "d", 10*time.Second).Result()
	check(t, "EXPIRE NX", b, err, false)
	b, err = rdb.ExpireGT(ctx, "d", 200*time.Second).Result()
	check(t, "EXPIRE GT", b, err, true)
	b, err = rdb.ExpireLT(ctx, "d", 300*time.Second).Result()
	check(t, "EXPIRE LT later", b, err, false)
	b, err = rdb.ExpireXX(ctx, "d", 150*time.Second).Result()
	check(t, "EXPIRE XX", b, err, true)
	d, err = rdb.TTL(ctx, "d").Result()
	checkDur(t, "TTL after EXPIRE XX", d, err, 149*time.Second, 150*time.Second)
	b, err = rdb.Expire(ctx, "nokey", time.Second).Result()
	check(t, "EXPIRE missing", b, err, false)
	b, err = rdb.PExpire(ctx, "d", 5500*time.Millisecond).Result()
	check(t, "PEXPIRE", b, err, true)
	d, err = rdb.PTTL(ctx, "d").Result()
	checkDur(t, "PTTL after PEXPIRE", d, err, 5*time.Second, 5500*time.Millisecond)
	at := now.Add(time.Hour).Truncate(time.Second)
	b, err = rdb.ExpireAt(ctx, "d", at).Result()
	check(t, "EXPIREAT", b, err, true)
	d, err = rdb.ExpireTime(ctx, "d").Result()
	check(t, "EXPIRETIME", d, err, time.Duration(at.Unix())*time.Second)
	atMs := now.Add(time.Hour).Truncate(time.Millisecond)
	b, err = rdb.PExpireAt(ctx, "d", atMs).Result()
	check(t, "PEXPIREAT", b, err, true)
	d, err = rdb.PExpireTime(ctx, "d").Result()
	check(t, "PEXPIRETIME", d, err, time.Duration(atMs.UnixMilli())*time.Millisecond)
	b, err = rdb.Persist(ctx, "d").Result()
	check(t, "PERSIST", b, err, true)
	b, err = rdb.Persist(ctx, "d").Result()
	check(t, "PERSIST again", b, err, false)
	d, err = rdb.TTL(ctx, "d").Result()
	check(t, "TTL no expiry", d, err, time.Duration(-1))
	d, err = rdb.TTL(ctx, "nokey").Result()
	check(t, "TTL missing", d, err, time.Duration(-2))
	d, err = rdb.PTTL(ctx, "nokey").Result()
	check(t, "PTTL missing", d, err, time.Duration(-2))
	d, err = rdb.ExpireTime(ctx, "nokey").Result()
	check(t, "EXPIRETIME missing", d, err, time.Duration(-2))
	b, err = rdb.Expire(ctx, "d", -time.Second).Result()
	check(t, "EXPIRE negative deletes", b, err, true)
	n, err = rdb.Exists(ctx, "d").Result()
	check(t, "EXISTS after negative EXPIRE", n, err, 0)
	rdb.Set(ctx, "r1", "v", time.Minute)
	check(t, "RENAME", rdb.Rename(ctx, "r1", "r2").Err(), nil, error(nil))
	s, err = rdb.Get(ctx, "r2").Result()
	check(t, "GET renamed", s, err, "v")
	d, err = rdb.TTL(ctx, "r2").Result()
	checkDur(t, "TTL kept by RENAME", d, err, 59*time.Second, time.Minute)
	checkErr(t, "RENAME missing", rdb.Rename(ctx, "nokey", "x").Err(), "ERR no such key")
	rdb.Set(ctx, "r3", "w", 0)
	b, err = rdb.RenameNX(ctx, "r2", "r3").Result()
	check(t, "RENAMENX onto an existing key", b, err, false)
	b, err = rdb.RenameNX(ctx, "r2", "r4").Result()
	check(t, "RENAMENX", b, err, true)
	checkErr(t, "RENAMENX missing", rdb.RenameNX(ctx, "nokey", "x").Err(), "ERR no such key")
	n, err = rdb.Copy(ctx, "r4", "r5", 0, false).Result()
	check(t, "COPY", n, err, 1)
	d, err = rdb.TTL(ctx, "r5").Result()
	checkDur(t, "TTL copied by COPY", d, err, 59*time.Second, time.Minute)
	n, err = rdb.Copy(ctx, "r4", "r3", 0, false).Result()
	check(t, "COPY onto an existing key", n, err, 0)
	n, err = rdb.Copy(ctx, "r4", "r3", 0, true).Result()
	check(t, "COPY REPLACE", n, err, 1)
	checkErr(t, "COPY DB 1", rdb.Copy(ctx, "r4", "r6", 1, false).Err(), "ERR DB index is out of range")
	n, err = rdb.Touch(ctx, "r3", "r4", "nokey").Result()
	check(t, "TOUCH", n, err, 2)
	rdb.Set(ctx, "o", 42, 0)
	s, err = rdb.ObjectEncoding(ctx, "o").Result()
	check(t, "OBJECT ENCODING", s, err, "int")
	n, err = rdb.ObjectRefCount(ctx, "o").Result()
	check(t, "OBJECT REFCOUNT", n, err, 2147483647)
	checkNil(t, "OBJECT ENCODING missing", rdb.ObjectEncoding(ctx, "nokey").Err())
	n, err = rdb.MemoryUsage(ctx, "o").Result()
	if err != nil || n < 10 {
		t.Errorf("MEMORY USAGE = %d, %v", n, err)
	}
	checkNil(t, "MEMORY USAGE missing", rdb.MemoryUsage(ctx, "nokey", 5).Err())

	// Iteration.
	check(t, "FLUSHDB", rdb.FlushDB(ctx).Err(), nil, error(nil))
	checkNil(t, "RANDOMKEY empty", rdb.RandomKey(ctx).Err())
	want := []string{}
	for i := range 50 {
		k := fmt.Sprintf("key:%02d", i)
		want = append(want, k)
		rdb.Set(ctx, k, i, 0)
	}
	rdb.Set(ctx, "other", "x", 0)
	keys, err := rdb.Keys(ctx, "key:*").Result()
	slices.Sort(keys)
	if err != nil || !slices.Equal(keys, want) {
		t.Errorf("KEYS key:* = %v, %v", keys, err)
	}
	var scanned []string
	var cursor uint64
	for i := 0; ; i++ {
		var page []string
		page, cursor, err = rdb.Scan(ctx, cursor, "key:*", 7).Result()
		if err != nil || i > 1000 {
			t.Fatalf("SCAN: %v after %d pages", err, i)
		}
		scanned = append(scanned, page...)
		if cursor == 0 {
			break
		}
	}
	slices.Sort(scanned)
	scanned = slices.Compact(scanned)
	if !slices.Equal(scanned, want) {
		t.Errorf("SCAN MATCH key:* found %d keys, want %d", len(scanned), len(want))
	}
	page, cursor, err := rdb.ScanType(ctx, 0, "", 1000, "string").Result()
	if err != nil || cursor != 0 || len(page) != 51 {
		t.Errorf("SCAN TYPE string = %d keys, cursor %d, %v", len(page), cursor, err)
	}
	s, err = rdb.RandomKey(ctx).Result()
	if err != nil || (s != "other" && !strings.HasPrefix(s, "key:")) {
		t.Errorf("RANDOMKEY = %q, %v", s, err)
	}
	n, err = rdb.DBSize(ctx).Result()
	check(t, "DBSIZE", n, err, 51)
	check(t, "FLUSHALL ASYNC", rdb.FlushAllAsync(ctx).Err(), nil, error(nil))
	n, err = rdb.DBSize(ctx).Result()
	check(t, "DBSIZE after FLUSHALL", n, err, 0)

	// Pipelining keeps order.
	cmdsP, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 100 {
			p.Set(ctx, fmt.Sprint("p", i), i, 0)
			p.Get(ctx, fmt.Sprint("p", i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if v := cmdsP[2*i+1].(*redis.StringCmd).Val(); v != fmt.Sprint(i) {
			t.Fatalf("pipelined GET p%d = %q", i, v)
		}
	}
}
