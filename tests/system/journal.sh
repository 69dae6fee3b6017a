#!/bin/bash
# vswitchd's log in the systemd journal: under a service (stderr is the
# stream that $JOURNAL_STREAM names) each message is one entry of the
# journal's native protocol with its priority and module; a stderr that is
# not that stream gets plain lines; a journal that refuses them sends them
# to stderr.
#
# No systemd runs here, so the journal's socket is a listener of the
# test's own, in a mount namespace of its own: it receives exactly the
# datagrams journald would.  tests/system/service.sh reads them back from
# a real journald.

if [ -z "${VSW_PRIVATE_MOUNTS:-}" ]; then
    exec unshare --mount --net env VSW_PRIVATE_MOUNTS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
ip link set lo up

mount --make-rprivate /
mkdir -p /run/systemd/journal
mount -t tmpfs tmpfs /run/systemd/journal

SOCK=$WORK/vswitchd.sock
DB=$WORK/conf.db
JOURNAL=/run/systemd/journal/socket
ctl() { timeout 15 "$CTL_BIN" --socket "$SOCK" --timeout 5 "$@"; }

# Writes each datagram of the journal's socket to $WORK/journal.N, until
# killed.
python3 - "$JOURNAL" "$WORK" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
n = 0
while True:
    data = s.recv(65536)
    with open("%s/journal.%d" % (sys.argv[2], n), "wb") as f:
        f.write(data)
    n += 1
EOF
listener=$!
at_exit "kill_child $listener"
wait_for 5 test -S "$JOURNAL" || fail "the journal's socket is not there"

# start_daemon STDERR-FILE JOURNAL_STREAM: a foreground daemon, as systemd
# starts it.
start_daemon() {
    JOURNAL_STREAM=$2 timeout 60 "$VSWITCHD" --socket "$SOCK" --db "$DB" \
        2>"$1" &
    daemon=$!
    wait_for 10 ctl ping >/dev/null
}
stop_daemon() {
    kill "$daemon"
    wait "$daemon"
}
at_exit 'kill_child -9 $daemon'

stream_of() { stat -L -c '%d:%i' "$1"; }

# The journal's entry holding TEXT, as KEY=value lines.
entry() { grep -l -F -- "$1" "$WORK"/journal.* 2>/dev/null | head -n 1; }
# Whether there is one yet: wait_for runs this each time it looks.
has_entry() { [ -n "$(entry "$1")" ]; }

: >"$WORK/stderr"
start_daemon "$WORK/stderr" "$(stream_of "$WORK/stderr")"
ctl add-vni 5000 >/dev/null
wait_for 5 has_entry 'add-vni' \
    && pass "a change reaches the journal" || fail "no entry for add-vni"
e=$(entry 'add-vni')
check_eq "its message is module|text" 1 \
    "$(grep -c '^MESSAGE=rpc|uid 0 pid [0-9]*: add-vni$' "$e")"
check_eq "its priority is INFO's (6)" "PRIORITY=6" "$(grep '^PRIORITY=' "$e")"
check_eq "its identifier is vswitchd" "SYSLOG_IDENTIFIER=vswitchd" \
    "$(grep '^SYSLOG_IDENTIFIER=' "$e")"
check_eq "its module is a field of its own" "VSWITCH_MODULE=rpc" \
    "$(grep '^VSWITCH_MODULE=' "$e")"
check_eq "no CODE_FUNC field, which would name the log's own function" 0 \
    "$(grep -c '^CODE_' "$e")"
# A client's text with newlines, quoted in a message, forges no field: the
# native protocol is KEY=value lines.
ctl set-log-level $'x\nPRIORITY=0\nMESSAGE=forged' 2>/dev/null
wait_for 5 has_entry 'unknown log level' \
    && pass "a refusal quoting newlines reaches the journal" \
    || fail "no entry for the refusal"
e=$(entry 'unknown log level')
check_eq "one PRIORITY field, INFO's" "PRIORITY=6" "$(grep -a '^PRIORITY=' "$e")"
check_eq "the newlines are no field of their own" 0 \
    "$(grep -ac '^MESSAGE=forged' "$e")"
check "the message keeps the text, its newlines replaced" \
    grep -aq "^MESSAGE=rpc|.*'x?PRIORITY=0?MESSAGE=forged'" "$e"
ctl set-log-level debug >/dev/null
ctl ping >/dev/null
connected=': connected (pid'
wait_for 5 has_entry "$connected" \
    && pass "debug messages reach the journal" || fail "no DBG entry"
e=$(entry "$connected")
check_eq "with DBG's priority (7)" "PRIORITY=7" "$(grep '^PRIORITY=' "$e")"
check_eq "nothing went to stderr" 0 "$(wc -l <"$WORK/stderr")"

# journald gone with its socket left behind (systemd keeps the socket
# while it restarts journald; libsystemd itself drops lines silently only
# where there is no socket at all): lines fall back to stderr.
kill "$listener"
wait "$listener" 2>/dev/null
ctl add-vni 5001 >/dev/null
wait_for 5 grep -q "|INFO|rpc|uid 0 pid [0-9]*: add-vni" "$WORK/stderr" \
    && pass "without a journal, the line goes to stderr" \
    || fail "stderr: $(head -c 300 "$WORK/stderr")"
stop_daemon

# A JOURNAL_STREAM inherited by a daemon whose stderr is elsewhere (run
# from a service's shell, say) is not the journal.
: >"$WORK/other" >"$WORK/stderr2"
start_daemon "$WORK/stderr2" "$(stream_of "$WORK/other")"
ctl add-vni 5002 >/dev/null
wait_for 5 grep -q "|INFO|rpc|uid 0 pid [0-9]*: add-vni" "$WORK/stderr2" \
    && pass "a stream that is not stderr's: plain lines on stderr" \
    || fail "stderr: $(head -c 300 "$WORK/stderr2")"
stop_daemon
finish
