package server

import (
	"crypto/subtle"
	"math"
	"strings"

	"github.com/ringdb/ringdb/transport/binproto"
)

// cmdPing is PING [message].
func cmdPing(c *cmdCtx) {
	switch len(c.argv) {
	case 1:
		c.w.Simple("PONG")
	case 2:
		c.w.Bulk(c.argv[1])
	default:
		c.arityErr(c.cmd.name)
	}
}

func cmdEcho(c *cmdCtx) { c.w.Bulk(c.argv[1]) }

// cmdQuit is QUIT: OK, then the connection closes once the reply is out.
func cmdQuit(c *cmdCtx) {
	c.srv.stopMonitor(c.sess)
	c.w.OK()
	c.conn.Close()
}

// cmdSelect is SELECT index: only database 0 exists.
func cmdSelect(c *cmdCtx) {
	db, ok := parseInt(c.argv[1])
	switch {
	case !ok:
		c.notInteger()
	case db < math.MinInt32 || db > math.MaxInt32:
		c.errReply(msgIntRange) // Redis reads the index as a C int
	case db != 0:
		c.errReply(msgDBRange)
	default:
		c.w.OK()
	}
}

// cmdReset is RESET (Redis 6.2), which leaves the connection as a new
// one is: it discards an open transaction and the watched keys, returns to
// RESP2, clears the client name and, with a password set, deauthenticates
// (the pre-authentication limits apply again); it answers +RESET. As in
// Redis it may be sent before AUTH, and inside MULTI it acts at once. The
// library name and version of CLIENT SETINFO stay (Redis 7.2 keeps them);
// there is no database but 0, no pub/sub and no client tracking yet, so
// nothing else to leave.
func cmdReset(c *cmdCtx) {
	sess := c.sess
	c.srv.stopMonitor(sess)
	sess.tx = nil
	sess.multi.Store(0)
	sess.unwatch()
	// Replies back on, as Redis clears CLIENT_REPLY_OFF and SKIP_NEXT (a
	// SKIP before RESET still drops RESET's reply).
	sess.replyOff, sess.replySkipNext = false, false
	sess.syncMuted()
	sess.mu.Lock()
	if sess.names != nil {
		sess.names.name = ""
	}
	sess.mu.Unlock()
	c.conn.SetRESPVersion(2)
	sess.resp.Store(2)
	switch {
	case c.srv.token() == "":
		sess.authed = true // as Redis's default user without a password
	case sess.authed:
		sess.authed = false
		sess.restrict()
	}
	c.w.Simple("RESET")
}

// checkPassword reports whether user/pass authenticate, as Redis's default
// user does: with no token configured any password is accepted for
// "default"; otherwise it must match the token.
func (s *Server) checkPassword(user, pass []byte) bool {
	if string(user) != "default" {
		return false
	}
	tok := s.token()
	return tok == "" || subtle.ConstantTimeCompare([]byte(tok), pass) == 1
}

// cmdAuth is AUTH [username] password.
func cmdAuth(c *cmdCtx) {
	var user, pass []byte
	switch len(c.argv) {
	case 2:
		if c.srv.token() == "" {
			c.errReply("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
		user, pass = []byte("default"), c.argv[1]
	case 3:
		user, pass = c.argv[1], c.argv[2]
	default:
		c.syntaxErr()
		return
	}
	if !c.srv.checkPassword(user, pass) {
		c.w.ErrorPrefix(binproto.ClassNoAuth, "WRONGPASS", msgWrongPass)
		return
	}
	c.sess.authenticate()
	c.w.OK()
}

// cmdHello is HELLO [protover [AUTH username password] [SETNAME name]].
func cmdHello(c *cmdCtx) {
	argv := c.argv
	ver := int64(0)
	if len(argv) >= 2 {
		v, ok := parseInt(argv[1])
		if !ok {
			c.errReply("Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.w.ErrorPrefix(binproto.ClassErr, "NOPROTO", "unsupported protocol version")
			return
		}
		ver = v
	}
	// Redis 7.0 acts on each option as it reads it, in argument order:
	// AUTH authenticates and SETNAME names the client there and then. A
	// wrong password or a bad name ends the command before the options
	// after it are looked at; what the options before it did holds, even
	// when the command then fails (a later bad option, or NOAUTH).
	for j := 2; j < len(argv); j++ {
		more := len(argv) - 1 - j
		switch {
		case eqFold(argv[j], "auth") && more >= 2:
			if !c.srv.checkPassword(argv[j+1], argv[j+2]) {
				c.w.ErrorPrefix(binproto.ClassNoAuth, "WRONGPASS", msgWrongPass)
				return
			}
			c.sess.authenticate()
			j += 2
		case eqFold(argv[j], "setname") && more >= 1:
			if !c.setName(argv[j+1]) {
				return
			}
			j++
		default:
			c.errReply("Syntax error in HELLO option '" + clip(string(argv[j]), len(argv[j])) + "'")
			return
		}
	}
	if !c.sess.authed && c.srv.token() != "" {
		c.w.Error(binproto.ClassNoAuth, "HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if ver != 0 {
		// The reply already speaks the new version, as in Redis.
		c.conn.SetRESPVersion(int(ver))
		c.sess.resp.Store(int32(ver))
	}
	c.w.Map(7)
	c.w.BulkString("server")
	c.w.BulkString("redis")
	c.w.BulkString("version")
	c.w.BulkString(redisCompatVersion)
	c.w.BulkString("proto")
	c.w.Int(int64(c.sess.resp.Load()))
	c.w.BulkString("id")
	c.w.Int(int64(c.sess.id()))
	c.w.BulkString("mode")
	c.w.BulkString("standalone")
	c.w.BulkString("role")
	c.w.BulkString("master")
	c.w.BulkString("modules")
	c.w.Array(0)
}

// setName validates and stores a client name, writing the error itself.
func (c *cmdCtx) setName(name []byte) bool {
	if !validName(name) {
		c.errReply(msgBadClientName)
		return false
	}
	c.sess.mu.Lock()
	c.sess.namesLocked().name = string(name)
	c.sess.mu.Unlock()
	return true
}

// subcommand is an entry of a container command's table (CLIENT, CONFIG,
// COMMAND).
type subcommand struct {
	arity int
	run   handlerFunc
	full  string // "client|setname": set by nameSubcommands
	// flags are added to the container's for COMMAND INFO (OBJECT
	// ENCODING is readonly where OBJECT is not), and decide what MONITOR
	// shows: as in Redis 7.0, admin is a subcommand's flag (CONFIG GET,
	// CLIENT KILL), never a container's, so CONFIG HELP is not admin.
	flags cmdFlags
	// firstKey, lastKey and step locate the keys in argv (counting the
	// container's name), for COMMAND INFO; 0 for none.
	firstKey, lastKey, step int
	// summary and since are for COMMAND DOCS of a subcommand Redis 7.0
	// does not have (package cmdspec describes the others).
	summary, since string
}

// nameSubcommands fills in the full names, such as "client|id", that
// arity errors and CLIENT LIST show.
func nameSubcommands(parent string, subs map[string]*subcommand) map[string]*subcommand {
	for name, sub := range subs {
		sub.full = parent + "|" + name
	}
	return subs
}

// dispatchSub runs argv[1] from subs, with Redis's errors for an unknown
// subcommand or a wrong argument count.
func dispatchSub(c *cmdCtx, subs map[string]*subcommand) {
	if sub := lookupSub(c, subs); sub != nil {
		sub.run(c)
	}
}

// lookupSub returns the subcommand argv[1] names, or answers Redis's error
// for an unknown one or a wrong argument count and returns nil. It records
// the subcommand, or the refusal, in c for the counters, and as the
// session's last command (NULL for an unknown one, as Redis's lookup
// leaves it; not for a command EXEC runs, which Redis does not record).
func lookupSub(c *cmdCtx, subs map[string]*subcommand) *subcommand {
	sub, ok := subs[strings.ToLower(string(c.argv[1]))]
	if !c.inExec {
		if ok {
			c.sess.lastCmd.Store(&sub.full)
		} else {
			c.sess.lastCmd.Store(&noCmd)
		}
	}
	if !ok {
		c.refused = refusedUnknownSub
		c.errReply("unknown subcommand '" + clip(string(c.argv[1]), 128) + "'. Try " + strings.ToUpper(c.cmd.name) + " HELP.")
		return nil
	}
	c.sub = sub
	if !arityOK(sub.arity, len(c.argv)) {
		c.refused = refusedCmd
		c.arityErr(sub.full)
		return nil
	}
	return sub
}

// clip shortens s to at most n bytes.
//
// Redis formats such text with printf's %.*s, so it also ends at the first
// NUL byte.
func clip(s string, n int) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if len(s) > n {
		return s[:n]
	}
	return s
}

var clientSubs = nameSubcommands("client", map[string]*subcommand{
	"id":      {arity: 2, run: func(c *cmdCtx) { c.w.Int(int64(c.sess.id())) }},
	"getname": {arity: 2, run: clientGetName},
	"setname": {arity: 3, run: func(c *cmdCtx) {
		if c.setName(c.argv[2]) {
			c.w.OK()
		}
	}},
	"setinfo": {arity: 4, run: clientSetInfo, summary: "Set client or connection specific info", since: "7.2.0"},
	"info": {arity: 2, run: func(c *cmdCtx) {
		c.w.Verbatim("txt", []byte(c.sess.info(c.srv.now())+"\n"))
	}},
	"list":     {arity: -2, flags: flagAdmin, run: clientList},
	"no-evict": {arity: 3, flags: flagAdmin, run: clientNoEvict},
	"no-touch": {arity: 3, run: clientOnOff, summary: "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.", since: "7.2.0"},
	"reply":    {arity: 3, flags: flagNoMulti, run: clientReply}, // see clientReply
	"help":     {arity: 2, run: clientHelp},
	"kill":     {arity: -3, flags: flagAdmin, run: clientKill},
	"pause":    {arity: -3, flags: flagAdmin, run: clientPauseCmd},
	"unpause":  {arity: 2, flags: flagAdmin, run: clientUnpauseCmd},
	"getredir": {arity: 2, run: func(c *cmdCtx) { c.w.Int(-1) }},
	"trackinginfo": {arity: 2, run: func(c *cmdCtx) {
		c.w.Map(3)
		c.w.BulkString("flags")
		c.w.Set(1)
		c.w.BulkString("off")
		c.w.BulkString("redirect")
		c.w.Int(-1)
		c.w.BulkString("prefixes")
		c.w.Array(0)
	}},
})

func cmdClient(c *cmdCtx) { dispatchSub(c, clientSubs) }

func clientGetName(c *cmdCtx) {
	c.sess.mu.Lock()
	name := c.sess.names.get().name
	c.sess.mu.Unlock()
	if name == "" {
		c.w.Null()
		return
	}
	c.w.BulkString(name)
}

// clientSetInfo is CLIENT SETINFO LIB-NAME|LIB-VER value.
func clientSetInfo(c *cmdCtx) {
	attr, val := c.argv[2], c.argv[3]
	var ver bool
	switch {
	case eqFold(attr, "lib-name"):
	case eqFold(attr, "lib-ver"):
		ver = true
	default:
		c.errReply("Unrecognized option '" + clip(string(attr), 128) + "'")
		return
	}
	if !validName(val) {
		c.errReply(clip(string(attr), len(attr)) + " cannot contain spaces, newlines or special characters.")
		return
	}
	c.sess.mu.Lock()
	if n := c.sess.namesLocked(); ver {
		n.libVer = string(val)
	} else {
		n.libName = string(val)
	}
	c.sess.mu.Unlock()
	c.w.OK()
}

// clientList is CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id ...].
func clientList(c *cmdCtx) {
	argv := c.argv
	var ids []uint64
	typ := ""
	// The forms Redis 7.0 takes: CLIENT LIST, CLIENT LIST TYPE type,
	// CLIENT LIST ID id [id ...]; any integer is an id (0 or a negative
	// one matches nobody).
	switch {
	case len(argv) == 2:
	case len(argv) == 4 && eqFold(argv[2], "type"):
		typ = strings.ToLower(clip(string(argv[3]), len(argv[3])))
		switch typ {
		case "normal", "master", "replica", "slave", "pubsub":
		default:
			c.errReply("Unknown client type '" + clip(string(argv[3]), len(argv[3])) + "'")
			return
		}
	case len(argv) > 3 && eqFold(argv[2], "id"):
		ids = make([]uint64, 0, len(argv)-3)
		for _, a := range argv[3:] {
			id, ok := parseInt(a)
			if !ok {
				c.errReply("Invalid client ID")
				return
			}
			if id > 0 {
				ids = append(ids, uint64(id))
			}
		}
	default:
		c.syntaxErr()
		return
	}
	var b strings.Builder
	now := c.srv.now()
	switch {
	case ids != nil:
		// One line per id argument, in their order, repeats included, as
		// Redis walks its arguments.
		byID := make(map[uint64]*session)
		for _, s := range c.srv.sessionList() {
			byID[s.id()] = s
		}
		for _, id := range ids {
			if s := byID[id]; s != nil {
				b.WriteString(s.info(now))
				b.WriteByte('\n')
			}
		}
	case typ == "" || typ == "normal":
		for _, s := range c.srv.sessionList() {
			b.WriteString(s.info(now))
			b.WriteByte('\n')
		}
	}
	c.w.Verbatim("txt", []byte(b.String()))
}

// clientKill is CLIENT KILL, in Redis 7.0's two forms: CLIENT KILL addr
// (the old form: +OK, or an error when no client has that address; it may
// close the caller itself) and CLIENT KILL <filter> <value> ... with
// filters ID, TYPE, ADDR, LADDR, USER and SKIPME (all must match; SKIPME
// defaults to yes), answering the number of clients closed. Every
// connection here is a normal one of the default user. A closed caller
// gets its reply first.
func clientKill(c *cmdCtx) {
	argv := c.argv
	var (
		id          int64
		typ         = ""
		addr, laddr string
		hasAddr     bool
		hasLaddr    bool
		skipme      = true
	)
	if len(argv) == 3 {
		addr, hasAddr, skipme = clip(string(argv[2]), len(argv[2])), true, false // strcmp: up to a NUL
	} else {
		for i := 2; i < len(argv); i += 2 {
			if i+1 >= len(argv) {
				c.syntaxErr()
				return
			}
			v := argv[i+1]
			switch {
			case eqFold(argv[i], "id"):
				n, ok := parseInt(v)
				if !ok || n <= 0 {
					c.errReply("client-id should be greater than 0")
					return
				}
				id = n
			case eqFold(argv[i], "type"):
				switch t := strings.ToLower(clip(string(v), len(v))); t {
				case "normal", "master", "pubsub":
					typ = t
				case "replica", "slave":
					typ = "replica"
				default:
					c.errReply("Unknown client type '" + clip(string(v), len(v)) + "'")
					return
				}
			case eqFold(argv[i], "addr"):
				addr, hasAddr = clip(string(v), len(v)), true
			case eqFold(argv[i], "laddr"):
				laddr, hasLaddr = clip(string(v), len(v)), true
			case eqFold(argv[i], "user"):
				if string(v) != "default" {
					c.errReply("No such user '" + clip(string(v), len(v)) + "'")
					return
				}
			case eqFold(argv[i], "skipme"):
				switch {
				case eqFold(v, "yes"):
					skipme = true
				case eqFold(v, "no"):
					skipme = false
				default:
					c.syntaxErr()
					return
				}
			default:
				c.syntaxErr()
				return
			}
		}
	}
	killed, self := c.srv.killSessions(func(s *session) bool {
		switch {
		case hasAddr && s.addr() != addr,
			hasLaddr && s.laddr() != laddr,
			typ != "" && typ != "normal",
			id != 0 && s.id() != uint64(id),
			s == c.sess && skipme:
			return false
		}
		return true
	}, c.sess)
	switch {
	case len(argv) != 3:
		c.w.Int(killed)
	case killed == 0:
		c.errReply("No such client")
	default:
		c.w.OK()
	}
	if self {
		c.srv.stopMonitor(c.sess) // nothing is written after the reply
		c.conn.Close()            // after the reply, as Redis's CLOSE_AFTER_REPLY
	}
}

// clientOnOff accepts CLIENT NO-TOUCH on|off, which changes nothing here
// (no access times are kept).
func clientOnOff(c *cmdCtx) {
	if !eqFold(c.argv[2], "on") && !eqFold(c.argv[2], "off") {
		c.syntaxErr()
		return
	}
	c.w.OK()
}

// clientNoEvict is CLIENT NO-EVICT ON|OFF: it only sets the flag CLIENT
// LIST shows (e), as there is no client eviction; RESET keeps it, as
// Redis 7.0's does.
func clientNoEvict(c *cmdCtx) {
	on := eqFold(c.argv[2], "on")
	if !on && !eqFold(c.argv[2], "off") {
		c.syntaxErr()
		return
	}
	c.sess.mu.Lock()
	c.sess.noEvict = on
	c.sess.mu.Unlock()
	c.w.OK()
}

// clientReply is CLIENT REPLY ON|OFF|SKIP, as in Redis: OFF drops the
// replies of the commands that follow until CLIENT REPLY ON (which
// answers OK), SKIP the reply of the next command; neither answers
// itself (Serve drops the replies). It is RESP only: the binary protocol
// has no CLIENT, and answers every request. Inside MULTI it is refused: in
// Redis 7.0 an OFF run by EXEC drops the replies after it from EXEC's
// array, whose length was already sent.
func clientReply(c *cmdCtx) {
	s := c.sess
	switch {
	case eqFold(c.argv[2], "on"):
		s.replyOff, s.replySkip, s.replySkipNext = false, false, false
		c.w.OK()
	case eqFold(c.argv[2], "off"):
		s.replyOff = true
	case eqFold(c.argv[2], "skip"):
		if !s.replyOff {
			s.replySkipNext = true
		}
	default:
		c.syntaxErr() // as Redis answers any other mode
	}
	s.syncMuted() // before the monitors are fed this command
}

func clientHelp(c *cmdCtx) {
	lines := []string{
		"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GETNAME", "    Return the name of the current connection.",
		"ID", "    Return the ID of the current connection.",
		"INFO", "    Return information about the current client connection.",
		"KILL <ip:port> | ID <client-id>", "    Kill a connection.",
		"LIST [TYPE normal] [ID <id> [<id> ...]]", "    Return information about client connections.",
		"UNPAUSE", "    Stop the current client pause, resuming traffic.",
		"PAUSE <timeout> [WRITE|ALL]", "    Suspend all, or just write, clients for <timeout> milliseconds.",
		"REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
		"SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client meta attributes.",
		"SETNAME <name>", "    Assign the name <name> to the current connection.",
		"HELP", "    Prints this help.",
	}
	c.w.Array(len(lines))
	for _, l := range lines {
		c.w.Simple(l)
	}
}
