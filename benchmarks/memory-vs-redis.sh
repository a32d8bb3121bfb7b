#!/usr/bin/env bash
# Resident memory of Redis and ringdb-server (gnet and std transports):
#   1. per key, after loading KEYS keys of 16 bytes (key:%012d) with 64-byte
#      values through RESP (cmd/resploader: one connection, SET pipelined by
#      1000, every reply checked);
#   2. per idle connection, with CONNS connections open that each sent one
#      PING and read +PONG (cmd/idleconns), and the server's CPU time per
#      second over the second half of CONN_SETTLE with them open and idle.
# Each measurement starts a fresh server. RSS is VmRSS from
# /proc/PID/status: read once the server answers PING (after SETTLE), and
# again SETTLE after the load, or CONN_SETTLE with the connections open
# (Redis shrinks an idle client's buffers after 2 s, in its cron: read
# sooner, its figure is four times its steady one); per key or per
# connection = (after - before) / count.
#
#   ./memory-vs-redis.sh
#   KEYS=100000 CONNS=1000 ./memory-vs-redis.sh
#
# Redis runs with --save '' --appendonly no --maxclients 20000. ringdb's
# maximum client count is its default, 10,000 (it has no flag; the script
# does not raise it with CONFIG SET maxclients); if ringdb refuses any of 10,000
# connections, the connection test is run again with 9,990 for every server.
#
# ringdb runs as by default, its /metrics endpoint on (per-connection
# command counters come with it), on METRICS_PORT_BASE plus its port's
# offset from PORT_BASE: by default its own port plus 50.
#
# Environment: KEYS (1048576), CONNS (10000), SETTLE (3 s), CONN_SETTLE
# (20 s), PORT_BASE (first of three loopback ports, 26479),
# METRICS_PORT_BASE (PORT_BASE + 50), MAXMEMORY (3GiB, ringdb's
# --maxmemory).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

KEYS=${KEYS:-1048576}
CONNS=${CONNS:-10000}
SETTLE=${SETTLE:-3}
CONN_SETTLE=${CONN_SETTLE:-20}
PORT_BASE=${PORT_BASE:-26479}
METRICS_PORT_BASE=${METRICS_PORT_BASE:-$((PORT_BASE + 50))}
MAXMEMORY=${MAXMEMORY:-3GiB}

need "redis-server redis-tools" redis-server redis-cli

# 10,000 connections need 10,000 descriptors on each side.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

make_tmp

host_note=", ulimit -n $(ulimit -n)"
print_header

build "$root" ringdb-server
build "$here" resploader idleconns

servers=(redis gnet std)
number_ports "$PORT_BASE" "${servers[@]}"

start() { # SERVER
	local s=$1
	port_free "$s"
	if [ "$s" = redis ]; then
		start_redis "$s" --maxclients 20000
	else
		start_ringdb "$s" --transport "$s" --maxmemory "$MAXMEMORY" \
			--metrics-listen "127.0.0.1:$((METRICS_PORT_BASE + ${port[$s]} - PORT_BASE))"
	fi
	wait_up "$s"
	sleep "$SETTLE"
}

stop() { # SERVER
	local s=$1
	if ! kill -0 "${pid[$s]}" 2>/dev/null; then
		echo "$s (pid ${pid[$s]}) is no longer running:" >&2
		tail -n 20 "$tmp/$s.log" >&2
	fi
	stop_server "$s"
	if grep -qiE 'level=(WARN|ERROR)|panic' "$tmp/$s.log"; then
		echo "# $s log:" && grep -iE 'level=(WARN|ERROR)|panic' "$tmp/$s.log" | head -n 10
	fi
}

rss() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status"; }

echo
echo "## keys: $KEYS x (16-byte key, 64-byte value)"
: >"$tmp/keys"
for s in "${servers[@]}"; do
	start "$s"
	before=$(rss "${pid[$s]}")
	used0=$(info_field "$s" memory used_memory)
	out=$("$tmp/resploader" -addr "127.0.0.1:${port[$s]}" -n "$KEYS" -size 64 -pipeline 1000 2>&1)
	rc=$?
	echo "# $s: $out"
	sleep "$SETTLE"
	after=$(rss "${pid[$s]}")
	used1=$(info_field "$s" memory used_memory)
	dbsize=$(redis-cli -p "${port[$s]}" dbsize)
	[ "$rc" -ne 0 ] && echo "# $s: resploader exit $rc"
	echo "$s $KEYS $dbsize $before $after $used0 $used1" >>"$tmp/keys"
	stop "$s"
done

echo
echo "| server | keys | DBSIZE | RSS before MiB | RSS after MiB | RSS bytes/key | / Redis | INFO used_memory bytes/key |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
awk '
$1 == "redis" { base = ($5 - $4) / $2 }
{
	per = ($5 - $4) / $2
	printf "| %s | %d | %s | %.1f | %.1f | %.1f | **%s** | %.1f |\n", $1, $2, $3, $4 / 1048576, $5 / 1048576, per,
		(base > 0 ? sprintf("%.2f", per / base) : "-"), ($7 - $6) / $2
}' "$tmp/keys"

# conns_round N: one idleconns run per server; returns 3 when ringdb refused
# or dropped a connection.
conns_round() {
	local n=$1 status=0 s out rc
	: >"$tmp/conns"
	for s in "${servers[@]}"; do
		start "$s"
		out=$("$tmp/idleconns" -addr "127.0.0.1:${port[$s]}" -pid "${pid[$s]}" -n "$n" -settle "${CONN_SETTLE}s" 2>&1)
		rc=$?
		echo "# $s: $(echo "$out" | tr '\n' ' ')(exit $rc)"
		echo "$s $(echo "$out" | grep '^conns=' | tr ' ' '\n' | cut -d= -f2 | tr '\n' ' ')" >>"$tmp/conns"
		if [ "$s" = redis ]; then
			grep -i 'maxclients' "$tmp/$s.log" | sed 's/^/# redis log: /'
		elif [ "$rc" -eq 3 ]; then
			status=3
		fi
		stop "$s"
	done
	return $status
}

echo
echo "## idle connections: $CONNS, each sent one PING"
conns_round "$CONNS"
if [ $? -eq 3 ] && [ "$CONNS" -eq 10000 ]; then
	CONNS=9990
	echo
	echo "## ringdb refused or dropped some of 10,000 connections (max clients 10,000 by default); again with $CONNS for every server"
	conns_round "$CONNS"
fi

echo
echo "| server | conns | answered PING | dropped on re-check | RSS before MiB | RSS after MiB | RSS bytes/conn | / Redis | idle CPU ms/s | / Redis |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
# fields: server conns ok refused dropped open_seconds rss_before rss_after rss_per_conn threads idle_cpu_ms_per_s
awk '
$1 == "redis" { base = $9; cbase = $11 }
{
	printf "| %s | %d | %d | %d | %.1f | %.1f | %.0f | **%s** | %.1f | %s |\n", $1, $2, $3, $5, $7 / 1048576, $8 / 1048576, $9,
		(base > 0 ? sprintf("%.2f", $9 / base) : "-"), $11, (cbase > 0 ? sprintf("%.2f", $11 / cbase) : "-")
}' "$tmp/conns"

echo
echo "# load at end: $(uptime)"
