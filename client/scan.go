package client

import (
	"context"
	"iter"

	op "github.com/ringdb/ringdb/transport/binproto"
)

// Scan runs one SCAN step: it returns keys matching match (a Redis glob;
// "" matches all) and the cursor to pass next; a next cursor of 0 ends the
// iteration. count (≤ 0: the server's default) hints how much work to do.
func (c *Client) Scan(ctx context.Context, cursor uint64, match string, count int) (keys []string, next uint64, err error) {
	e := newReq(op.OpScan, 3).int(int64(cursor))
	if match == "" {
		e.null()
	} else {
		e.str(match)
	}
	if count <= 0 {
		count = 10
	}
	e.int(int64(count))
	p, err := run(ctx, c, command[scanPage]{e.finish(), true, parseScan})
	return p.keys, p.next, err
}

// Keys iterates over every key matching match with SCAN, yielding each key
// (a key may be yielded more than once, as with SCAN). On an error it
// yields ("", err) once and stops.
func (c *Client) Keys(ctx context.Context, match string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, match, 100)
			if err != nil {
				yield("", err)
				return
			}
			for _, k := range keys {
				if !yield(k, nil) {
					return
				}
			}
			if next == 0 {
				return
			}
			cursor = next
		}
	}
}
