package client

import (
	"context"
	"errors"
	"time"

	op "github.com/ringdb/ringdb/transport/binproto"
)

// Pipeline batches commands: Exec sends them all on one connection in one
// write and waits for every reply. Queue commands with its methods, each of
// which returns a *Result that is filled in by Exec. A Pipeline is not safe
// for concurrent use and is not a transaction: other clients' commands may
// run between its commands. It is never retried, since it may hold writes.
type Pipeline struct {
	c       *Client
	frames  [][]byte
	parsers []func(body []byte, err error) error
}

// Result is the outcome of one pipelined command, valid after Exec.
type Result[T any] struct {
	val T
	err error
}

// Val returns the command's value and error. Before Exec returns it holds
// the zero value and a nil error.
func (r *Result[T]) Val() (T, error) { return r.val, r.err }

// Err returns the command's error.
func (r *Result[T]) Err() error { return r.err }

// Pipeline returns an empty pipeline on c.
func (c *Client) Pipeline() *Pipeline { return &Pipeline{c: c} }

// Len returns the number of queued commands.
func (p *Pipeline) Len() int { return len(p.frames) }

func queue[T any](p *Pipeline, cmd command[T]) *Result[T] {
	r := new(Result[T])
	p.frames = append(p.frames, cmd.frame)
	p.parsers = append(p.parsers, func(body []byte, err error) error {
		if err != nil {
			r.err = err
			return err
		}
		r.val, r.err = cmd.parse(body)
		return r.err
	})
	return r
}

// Exec sends every queued command and waits for all replies, then empties
// the pipeline. It returns the first command's error, if any (a failure,
// an error reply or a reply of the wrong kind; a missing key is not one, though Get's and GetDel's
// Results report it as ErrNotFound); each Result holds its own. If ctx
// ends first, the commands without a reply get ctx.Err() (those that were
// writes may still be applied); if it has ended already, nothing is sent.
// If the connection breaks, the commands without a reply get an error
// matching ErrConnLost; when it also matches ErrNotExecuted (the server
// closed the connection with a DISCONNECT push before running them) they
// were not applied and may be queued again.
func (p *Pipeline) Exec(ctx context.Context) error {
	frames, parsers := p.frames, p.parsers
	p.frames, p.parsers = nil, nil
	if len(frames) == 0 {
		return nil
	}
	ctx, cancel := p.c.callCtx(ctx)
	defer cancel()
	calls := make([]*call, len(frames))
	for i := range calls {
		calls[i] = &call{done: make(chan struct{})}
	}
	var cn *conn
	var err error
	for attempt := 0; ; attempt++ {
		// An ended context sends nothing, as for a single call: the
		// commands would fail with ctx.Err() yet their writes be applied.
		if err = ctxEnded(ctx); err != nil {
			cn = nil
		} else if cn, err = p.c.conn(ctx); err == nil {
			if attempt > 0 {
				for i, f := range frames {
					frames[i] = append([]byte(nil), f...)
				}
			}
			if err = cn.send(ctx, frames, calls); err == nil {
				break
			}
		}
		if cn == nil || attempt >= 3 || !errors.Is(err, ErrNotExecuted) {
			if cerr := ctxEnded(ctx); cerr != nil {
				err = cerr // the (re)dial ran out of the caller's time
			} else if cn == nil {
				err = notExecuted(err) // no connection: nothing was sent
			}
			for _, f := range parsers {
				f(nil, err)
			}
			return err
		}
	}
	var firstErr error
	for i, cl := range calls {
		var err error
		select {
		case <-cl.done:
			err = cl.err
			if err != nil {
				if cerr := ctxEnded(ctx); cerr != nil {
					err = cerr // its own write ran past the deadline
				}
			}
			perr := parsers[i](cl.body, err)
			if err == nil && !errors.Is(perr, ErrNotFound) {
				// An error reply, or a reply the command could not
				// parse: a Result holding an error Exec did not report
				// went unnoticed by callers that check only Exec.
				err = perr
			}
			if err == nil {
				_, _, err = first(cl.body) // a server error reply
			}
		case <-ctx.Done():
			cn.forget(cl)
			err = ctx.Err()
			parsers[i](nil, err)
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// Get queues GET. A missing key gives a nil value and ErrNotFound.
func (p *Pipeline) Get(key string) *Result[[]byte] {
	c := cmdGet(key)
	return queue(p, command[[]byte]{c.frame, true, func(b []byte) ([]byte, error) {
		r, err := c.parse(b)
		if err == nil && !r.found {
			err = ErrNotFound
		}
		return r.val, err
	}})
}

// Set queues SET with options; the value reports whether it was written.
func (p *Pipeline) Set(key string, value []byte, o SetOptions) *Result[bool] {
	return queue(p, cmdSet(key, value, o))
}

// Del queues DEL.
func (p *Pipeline) Del(keys ...string) *Result[int64] { return queue(p, cmdDel(keys)) }

// Exists queues EXISTS.
func (p *Pipeline) Exists(keys ...string) *Result[int64] { return queue(p, cmdExists(keys)) }

// IncrBy queues INCRBY.
func (p *Pipeline) IncrBy(key string, delta int64) *Result[int64] {
	return queue(p, cmdIncrBy(key, delta))
}

// Incr queues INCRBY key 1.
func (p *Pipeline) Incr(key string) *Result[int64] { return p.IncrBy(key, 1) }

// MGet queues MGET.
func (p *Pipeline) MGet(keys ...string) *Result[[][]byte] { return queue(p, cmdMGet(keys)) }

// MSet queues MSET.
func (p *Pipeline) MSet(pairs ...KV) *Result[struct{}] { return queue(p, cmdMSet(pairs)) }

// Expire queues PEXPIRE with cond.
func (p *Pipeline) Expire(key string, ttl time.Duration, cond ExpireCond) *Result[bool] {
	return queue(p, cmdExpire(key, op.OpPExpire, ms(ttl), cond))
}

// TTL queues PTTL; see Client.TTL for TTLPersistent and TTLMissing.
func (p *Pipeline) TTL(key string) *Result[time.Duration] { return queue(p, cmdPTTL(key)) }

// Decr queues INCRBY key -1.
func (p *Pipeline) Decr(key string) *Result[int64] { return p.IncrBy(key, -1) }

// GetDel queues GETDEL. A missing key gives a nil value and ErrNotFound.
func (p *Pipeline) GetDel(key string) *Result[[]byte] {
	return queue(p, command[[]byte]{keyCmd(op.OpGetDel, key).finish(), false, func(b []byte) ([]byte, error) {
		r, err := parseOptBytes(b)
		if err == nil && !r.found {
			err = ErrNotFound
		}
		return r.val, err
	}})
}

// Append queues APPEND; the value is the new length.
func (p *Pipeline) Append(key string, value []byte) *Result[int64] {
	return queue(p, command[int64]{newReq(op.OpAppend, 2).str(key).bytes(value).finish(), false, parseInt})
}

// ExpireAt queues PEXPIREAT with cond.
func (p *Pipeline) ExpireAt(key string, t time.Time, cond ExpireCond) *Result[bool] {
	return queue(p, cmdExpire(key, op.OpPExpireAt, unixMs(t), cond))
}

// Persist queues PERSIST.
func (p *Pipeline) Persist(key string) *Result[bool] {
	return queue(p, command[bool]{keyCmd(op.OpPersist, key).finish(), false, parseBool})
}
