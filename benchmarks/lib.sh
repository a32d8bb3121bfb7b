# shellcheck shell=bash disable=SC2034 # its variables are for the scripts that source it
# Setup shared by the benchmark scripts in this directory. A script sources
# it first thing (. "$(dirname "$0")/lib.sh"); sourcing only sets the
# variables below and defines functions, it starts and writes nothing.
#
#   here  this directory (the benchmarks module)
#   root  the ringdb tree above it
#   hz    clock ticks per second (getconf CLK_TCK), the unit of cpu_ticks
#   pid, port  servers by name: pid[NAME] and port[NAME]; a server's output
#         goes to $tmp/NAME.log, and cleanup kills every server in pid
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
hz=$(getconf CLK_TCK)
declare -A pid port

# need PACKAGES COMMAND...: when any COMMAND is missing, installs PACKAGES
# (a space-separated list) with apt-get, again after apt-get update if the
# first try fails; exits 1 if that fails too.
need() {
	local c pkgs
	read -ra pkgs <<<"$1"
	shift
	for c in "$@"; do
		command -v "$c" >/dev/null && continue
		apt-get install -y "${pkgs[@]}" ||
			{ apt-get update && apt-get install -y "${pkgs[@]}"; } || exit 1
		return 0
	done
}

# make_tmp: makes the scratch directory $tmp (ringdb_bin defaults to the
# ringdb-server built there) and sets the traps: on exit cleanup runs, INT
# and TERM exit 130.
make_tmp() {
	tmp=$(mktemp -d)
	ringdb_bin=$tmp/ringdb-server
	trap cleanup EXIT
	trap 'exit 130' INT TERM
}

# cleanup: kills every server still in pid and waits for them, copies $tmp
# into $keep_dir when a script set it, and removes $tmp.
cleanup() {
	local s
	for s in "${!pid[@]}"; do kill "${pid[$s]}" 2>/dev/null; done
	for s in "${!pid[@]}"; do wait "${pid[$s]}" 2>/dev/null; done
	if [ -n "${keep_dir:-}" ]; then
		mkdir -p "$keep_dir" && cp -r "$tmp"/. "$keep_dir"/
	fi
	rm -rf "$tmp"
}

# build DIR NAME...: go build DIR/cmd/NAME into $tmp/NAME, for each NAME
# (DIR is $root for ringdb-server and ringdb-bench, $here for this module's
# load generators); exits 1 when a build fails.
build() {
	local dir=$1 name
	shift
	for name in "$@"; do
		(cd "$dir" && go build -o "$tmp/$name" "./cmd/$name") || exit 1
	done
}

# host_info: "DATE UTC, N CPUs, KERNEL", how the scripts' first line starts.
host_info() { echo "$(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, $(uname -r)"; }

# ringdb_rev: the tree's short commit, plus " + uncommitted changes" when
# the working tree differs from it.
ringdb_rev() {
	echo "$(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
}

# go_version: the Go release, e.g. go1.24.1.
go_version() { go version | cut -d' ' -f3; }

# print_header: the four "# " lines a run against Redis starts with: date,
# CPUs and kernel (then $host_note, when a script set it), load, Redis
# version, ringdb commit and Go version.
print_header() {
	echo "# $(host_info)${host_note:-}"
	echo "# load at start: $(uptime)"
	echo "# $(redis-server --version)"
	echo "# ringdb $(ringdb_rev), $(go_version)"
}

# number_ports BASE NAME...: port[NAME] = BASE, BASE + 1, ... in order.
number_ports() {
	local p=$1 s
	shift
	for s in "$@"; do
		port[$s]=$p
		p=$((p + 1))
	done
}

# port_free NAME: exits 1 when something already answers PING on port[NAME].
port_free() {
	if redis-cli -p "${port[$1]}" ping >/dev/null 2>&1; then
		echo "port ${port[$1]} is already in use" >&2
		exit 1
	fi
}

# start_redis NAME [ARG...]: starts redis-server in the background on
# 127.0.0.1:port[NAME], without persistence, with the ARGs added; sets
# pid[NAME], output to $tmp/NAME.log.
start_redis() {
	local s=$1
	shift
	redis-server --port "${port[$s]}" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize no "$@" >"$tmp/$s.log" 2>&1 &
	pid[$s]=$!
}

# start_ringdb NAME [ARG...]: starts $ringdb_bin in the background on
# 127.0.0.1:port[NAME] with the ARGs; sets pid[NAME], output to
# $tmp/NAME.log.
start_ringdb() {
	local s=$1
	shift
	"$ringdb_bin" --listen "127.0.0.1:${port[$s]}" "$@" >"$tmp/$s.log" 2>&1 &
	pid[$s]=$!
}

# wait_up NAME [FILE...]: waits up to 10 s for port[NAME] to answer PING;
# when it does not, prints "NAME did not start:" and the FILEs (by default
# $tmp/NAME.log) to stderr and exits 1.
wait_up() {
	local s=$1
	shift
	[ $# -gt 0 ] || set -- "$tmp/$s.log"
	for _ in $(seq 100); do
		redis-cli -p "${port[$s]}" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.1
	done
	echo "$s did not start:" >&2
	cat "$@" >&2
	exit 1
}

# check_alive NAME: when pid[NAME] has exited, prints "NAME died:" and the
# end of its log to stderr and returns 1.
check_alive() {
	kill -0 "${pid[$1]}" 2>/dev/null && return 0
	echo "$1 died:" >&2
	tail -n 20 "$tmp/$1.log" >&2
	return 1
}

# stop_server NAME: kills pid[NAME], waits for it and forgets it.
stop_server() {
	kill "${pid[$1]}" 2>/dev/null
	wait "${pid[$1]}" 2>/dev/null
	unset "pid[$1]"
}

# cpu_ticks PID: utime + stime of the whole process, in clock ticks (hz a
# second). The command name (field 2) may hold spaces, so fields count from
# after its ")".
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# cpu_us TICKS N DIGITS: CPU µs per request, TICKS clock ticks over N
# requests, with DIGITS decimals.
cpu_us() { awk -v d="$1" -v hz="$hz" -v n="$2" -v f="%.$3f" 'BEGIN { printf f, d / hz * 1e6 / n }'; }

# status_kb PID FIELD: a kB field of /proc/PID/status (VmRSS, VmHWM), a number.
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# info_field NAME SECTION FIELD: FIELD of INFO SECTION from the server on
# port[NAME].
info_field() {
	redis-cli -p "${port[$1]}" info "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2 }'
}

# awk_median: awk source of median(list), the median of the numbers in the
# space-separated string list, "" when it is empty; put it before an awk
# program: awk "$awk_median"'...'.
awk_median='
function median(list,    a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) {
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	if (n == 0) return ""
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}'
