package server

import (
	"strconv"
	"strings"
	"time"

	"github.com/ringdb/ringdb/transport"
)

func cmdDBSize(c *cmdCtx) { c.w.Int(int64(c.srv.ks.Len())) }

// cmdFlush is FLUSHDB and FLUSHALL [ASYNC|SYNC]; both flush synchronously.
func cmdFlush(c *cmdCtx) {
	switch {
	case len(c.argv) > 2:
		c.syntaxErr()
		return
	case len(c.argv) == 2 && !eqFold(c.argv[1], "async") && !eqFold(c.argv[1], "sync"):
		c.syntaxErr()
		return
	}
	c.replyFlush()
}

// cmdTime is TIME: [unix seconds, microseconds], as bulk strings.
func cmdTime(c *cmdCtx) {
	now := time.Now()
	var num [20]byte
	c.w.Array(2)
	c.w.Bulk(strconv.AppendInt(num[:0], now.Unix(), 10))
	c.w.Bulk(strconv.AppendInt(num[:0], int64(now.Nanosecond()/1000), 10))
}

// cmdRole is ROLE. ringdb has no replication yet, so it answers as a Redis
// primary with no replicas does: ["master", replication offset 0, no
// replicas], arrays in RESP3 too (redis-server 7.0.15 answers
// *3 $6 master :0 *0 in both). INFO replication agrees: role:master,
// master_repl_offset:0.
func cmdRole(c *cmdCtx) {
	c.w.Array(3)
	c.w.BulkString("master")
	c.w.Int(0)
	c.w.Array(0)
}

// cmdLastSave is LASTSAVE: the Unix time of the last successful save.
// Redis sets it to its start time when it starts, and moves it on each
// save; ringdb keeps nothing on disk, so it stays the start time, as on a
// Redis with no save points that has never been asked to save (INFO
// persistence shows it as rdb_last_save_time).
func cmdLastSave(c *cmdCtx) { c.w.Int(c.srv.started.Unix()) }

// cmdInfo is INFO [section ...].
func cmdInfo(c *cmdCtx) {
	sections := make([]string, 0, len(c.argv)-1)
	for _, a := range c.argv[1:] {
		sections = append(sections, strings.ToLower(string(a)))
	}
	c.w.Verbatim("txt", c.srv.infoText(sections))
}

// cmdDebugSleepReply is DEBUG.SLEEPREPLY milliseconds, registered only with
// Config.EnableDebugCommands: it parks the request and completes it with
// +OK from a timer goroutine, proving that a parked request neither blocks
// its event loop nor lets later replies overtake it.
func cmdDebugSleepReply(c *cmdCtx) {
	ms, ok := parseInt(c.argv[1])
	if !ok || ms < 0 {
		c.notInteger()
		return
	}
	sess := c.sess
	sess.parked.Add(1)
	p := c.conn.Park()
	quiet := c.quiet // CLIENT REPLY OFF or SKIP
	var t *time.Timer
	// Holding mu until t is recorded keeps the callback (which takes mu)
	// from running before it.
	sess.mu.Lock()
	t = time.AfterFunc(time.Duration(ms)*time.Millisecond, func() {
		if !sess.doneTimer(&t) {
			return // the connection closed first
		}
		sess.parked.Add(-1)
		p.Complete(func(w *transport.Writer) {
			if !quiet {
				w.OK()
			}
		})
	})
	sess.addTimerLocked(t)
	sess.mu.Unlock()
}

// cmdShutdown is SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: a graceful
// stop, as SIGTERM's (the server stops accepting, writes the replies in
// flight and exits 0). As in Redis, the client gets no reply: its
// connection closes. ringdb keeps nothing on disk, so NOSAVE, NOW and
// FORCE change nothing, SAVE fails (there is no snapshot to write) and
// ABORT finds no shutdown to cancel (one that has begun cannot be).
func cmdShutdown(c *cmdCtx) {
	var save, nosave, now, force, abort bool
	for _, a := range c.argv[1:] {
		switch {
		case eqFold(a, "nosave"):
			nosave = true
		case eqFold(a, "save"):
			save = true
		case eqFold(a, "now"):
			now = true
		case eqFold(a, "force"):
			force = true
		case eqFold(a, "abort"):
			abort = true
		default:
			c.syntaxErr()
			return
		}
	}
	if save && nosave || abort && (save || nosave || now || force) {
		c.syntaxErr()
		return
	}
	if abort {
		c.errReply("No shutdown in progress.")
		return
	}
	if save {
		c.srv.log.Warn("SHUTDOWN SAVE refused: ringdb keeps no snapshot on disk; SHUTDOWN or SHUTDOWN NOSAVE stops the server", "client", c.sess.addr())
		c.errReply("Errors trying to SHUTDOWN. Check logs.")
		return
	}
	c.srv.log.Info("shutdown requested by a client", "client", c.sess.addr(), "id", c.sess.id())
	c.conn.Close()
	c.srv.requestShutdown()
}
