# Shared helpers for the system tests.  Source it; it sets up a private
# directory, a cleanup trap that runs on every exit, and check functions
# that print "PASS: ..." or "FAIL: ..." lines, which tests/summary.sh
# counts.  Every wait is bounded.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
VSWITCHD=$top_builddir/switchd/vswitchd
CTL_BIN=$top_builddir/ctl/vswitch-ctl
XFER=$top_srcdir/tests/system/xfer.py   # TCP transfers checked by SHA-256

if [ "$(id -u)" != 0 ]; then
    echo "FAIL: $(basename "$0") needs root"
    exit 1
fi

WORK=$(mktemp -d "/tmp/vswitch-test.XXXXXX")
chmod 755 "$WORK"
N_FAILED=0
CLEANUPS=()

on_exit() {
    local i
    for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${CLEANUPS[i]}" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
    # For ordering the tests under make -j (tests/automake.mk).
    echo "# $(basename "$0") took $SECONDS s"
}
trap on_exit EXIT
trap 'exit 1' INT TERM

# Runs a command at exit, last registered first.
at_exit() {
    CLEANUPS+=("$1")
}

# kill_vswitchd PIDFILE...: kill -9 of the vswitchd whose pid each
# PIDFILE holds, if that pid is still a vswitchd's (a daemon killed
# earlier leaves its pidfile, and its pid may be another process's by
# now: see kill_child).
kill_vswitchd() {
    local file pid
    for file in "$@"; do
        pid=$(cat "$file" 2>/dev/null) || continue
        [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = vswitchd ] \
            && kill -9 "$pid"
    done
    return 0
}

# kill_child [-SIGNAL] PID...: signals (TERM by default) each PID that is
# still a child of this shell; returns non-zero if none is.  For cleanups
# of background commands: once one has ended and been reaped, its PID may
# be another process's by the time the test exits (pid_max is 32,768 on
# these machines), another test's among them.
kill_child() {
    local sig=-TERM pid found=1
    case $1 in -*) sig=$1; shift ;; esac
    for pid in "$@"; do
        if [ "$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$$" ]; then
            kill "$sig" "$pid" && found=0
        fi
    done
    return $found
}

# take_turn: for a test that loads the whole machine (a dozen daemons, a
# guest, a package build) or holds forwarding to a time bound.  It waits
# until no other such test runs (at most 15 min; a holder that died
# without cleaning up is passed over), so that "make -j check" never puts
# two of them on the same cores to fail each other's bounds.
TURN_DIR=/tmp/vswitch-test-turn
take_turn() {
    local holder deadline=$((SECONDS + 900))
    # The turn is a directory holding its holder's pid, renamed into place
    # whole, so that no one ever sees it without the pid.
    mkdir "$WORK/turn" && echo $$ >"$WORK/turn/pid" || return 1
    at_exit "[ \"\$(cat $TURN_DIR/pid)\" = $$ ] && rm -rf $TURN_DIR"
    until mv -T "$WORK/turn" "$TURN_DIR" 2>/dev/null; do
        holder=$(cat "$TURN_DIR/pid" 2>/dev/null || true)
        if [ -n "$holder" ] && ! kill -0 "$holder" 2>/dev/null; then
            rm -rf "$TURN_DIR"
            continue
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "FAIL: $(basename "$0"): no turn in 15 min (pid $holder)"
            exit 1
        fi
        sleep 0.5
    done
    echo "# turn taken after $((SECONDS - deadline + 900)) s"
}

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; N_FAILED=$((N_FAILED + 1)); }

# check DESCRIPTION COMMAND...: passes if the command exits 0.
check() {
    local what=$1
    shift
    if "$@" >"$WORK/out" 2>"$WORK/err"; then
        pass "$what"
    else
        fail "$what (exit $?: $(head -c 300 "$WORK/err"))"
    fi
}

# check_exit DESCRIPTION CODE COMMAND...: passes if the command exits CODE
# and prints exactly one line on stderr.
check_exit() {
    local what=$1 want=$2 got
    shift 2
    "$@" >"$WORK/out" 2>"$WORK/err"
    got=$?
    if [ "$got" != "$want" ]; then
        fail "$what (exit $got, wanted $want: $(head -c 300 "$WORK/err"))"
    elif [ "$want" != 0 ] && [ "$(wc -l <"$WORK/err")" != 1 ]; then
        fail "$what (stderr is not one line: $(head -c 300 "$WORK/err"))"
    else
        pass "$what"
    fi
}

# check_eq DESCRIPTION WANT GOT
check_eq() {
    if [ "$2" == "$3" ]; then
        pass "$1"
    else
        fail "$1 (wanted '$2', got '$3')"
    fi
}

# wait_for SECONDS COMMAND...: polls until the command succeeds.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# json EXPRESSION: evaluates a Python expression over the JSON document
# on stdin, bound to 'j', and prints the result.
json() {
    python3 -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# make_fill_pcap FILE N: a capture of N frames from N distinct unicast
# sources (06:00:00:00:00:00 counting up in the middle four bytes, to
# 02:00:00:ff:ff:fe), which a pcap port replays to fill a MAC table.
make_fill_pcap() {
    python3 - "$1" "$2" <<'EOF'
import struct, sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(n):
        frame = (bytes.fromhex("020000fffffe") + b"\x06" + i.to_bytes(4, "big")
                 + b"\x00" + b"\x88\xb5" + bytes(46))
        f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)
EOF
}

# stop_daemon_of PIDFILE: stops the vswitchd whose pid PIDFILE holds with
# TERM and waits (10 s at most) until it has exited.
stop_daemon_of() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    kill -TERM "$pid" 2>/dev/null
    wait_for 10 bash -c "! kill -0 $pid"
}

# stop_child PID SECONDS: stops a background child of this shell with
# TERM, or KILL if it is still there after SECONDS, and reaps it.
stop_child() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null
    # Our child stays a zombie until waited for: gone or defunct will do.
    wait_for "$2" bash -c "! kill -0 $pid || ps -o stat= -p $pid | grep -q Z" \
        || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# in_background SECONDS COMMAND...: runs COMMAND in the background, killed
# after SECONDS (and 5 s later with SIGKILL); BG_PID is the pid that
# signals go to, and the exit kills both.  --foreground: without it,
# timeout follows a signal it forwards with SIGCONT, which cancels the
# SIGSTOP that LeakSanitizer stops an exiting process with, and leaves the
# process spinning forever in its leak check.
in_background() {
    timeout --foreground --kill-after=5 "$@" &
    BG_PID=$!
    at_exit "kill_child -0 $BG_PID && { pkill -KILL -P $BG_PID; kill -KILL $BG_PID; }"
}

# public_ctl: prints the path of a copy of vswitch-ctl that any user may
# run, for checks made as another user: the checkout may live where only
# root can enter (a clone under /root, mode 0700).
public_ctl() {
    if [ ! -x "$WORK/bin/vswitch-ctl" ]; then
        mkdir -p "$WORK/bin" && chmod 755 "$WORK/bin" \
            && install -m 755 "$CTL_BIN" "$WORK/bin/vswitch-ctl" || return 1
    fi
    echo "$WORK/bin/vswitch-ctl"
}

# copy_source_tree DIR: the source files, without build directories or
# anything generated: what a clean checkout holds, with the changes not
# yet committed.
copy_source_tree() {
    mkdir -p "$1"
    if git -C "$top_srcdir" rev-parse --show-toplevel >/dev/null 2>&1; then
        (cd "$top_srcdir" && git ls-files -z -co --exclude-standard \
             | while IFS= read -r -d '' f; do
                   [ -e "$f" ] && printf '%s\0' "$f"
               done | tar -cf - --null -T -) | tar -C "$1" -xf -
    else
        (cd "$top_srcdir" && tar -cf - --exclude='./build-*' \
             --exclude=./.git --exclude=./autom4te.cache .) \
            | tar -C "$1" -xf -
    fi
}

finish() {
    [ "$N_FAILED" -eq 0 ]
    exit $?
}
