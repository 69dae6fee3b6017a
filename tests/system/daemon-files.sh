#!/bin/bash
# The daemon's own files: the database is locked against a second daemon
# on another socket, --socket never removes anything but a stale socket,
# and the pidfile, the lock files and the database's temporary file are
# never written through a symbolic link planted in their place.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"       # For stop_vswitchd.

# Every daemon of this test runs with its own files under $WORK/NAME.*
# unless told otherwise; 'start NAME [OPTION...]' starts one.
start() {
    local name=$1
    shift
    timeout 15 "$VSWITCHD" --socket "$WORK/$name.sock" --db "$WORK/conf.db" \
        --pidfile="$WORK/$name.pid" --log-file="$WORK/$name.log" --detach "$@"
}
ctl() { timeout 15 "$CTL_BIN" --socket "$WORK/$1.sock" --timeout 5 "${@:2}"; }
stop() { stop_vswitchd "$1"; }
at_exit 'kill_vswitchd "$WORK"/*.pid'

# Two daemons, one database.
check "the first daemon starts" start a
check "and takes a change" ctl a add-vni 5000
check_exit "a second daemon on another socket but the same database is refused" \
    1 start b
grep -q "another vswitchd is running with the database $WORK/conf.db (pid $(cat "$WORK/a.pid"))" \
    "$WORK/err" && pass "the refusal names the database and the pid" \
    || fail "refusal message: $(cat "$WORK/err")"
check "the second daemon left no socket" test ! -e "$WORK/b.sock"
check "the first daemon's change is still there" ctl a add-vni 5001
check_eq "and both VNIs are saved" "[5000, 5001]" \
    "$(ctl a --format=json list-vnis | json 'sorted(v["vni"] for v in j["vnis"])')"
check "the first daemon stops" stop a
check "the database's lock file stays, unlocked" \
    flock --nonblock "$WORK/conf.db.lock" true
check "then the second daemon may start" start b
check "and sees the first one's VNIs" ctl b set-vni 5001 ageing=30
stop b

# The loop runs at a higher priority than ordinary processes, as
# ovs-vswitchd does, unless told otherwise.
nice_of() { awk '{ print $19 }' "/proc/$(cat "$WORK/$1.pid")/stat"; }
check "a daemon with the default priority starts" start e --db="$WORK/e.db"
check_eq "it runs at nice -10" -10 "$(nice_of e)"
stop e
check "a daemon with --nice=5 starts" start e --db="$WORK/e.db" --nice=5
check_eq "it runs at nice 5" 5 "$(nice_of e)"
stop e
check_exit "--nice=-21 is refused" 1 start e --db="$WORK/e.db" --nice=-21
check_eq "saying why" "vswitchd: --nice: '-21' is not a number from -20 to 19" \
    "$(cat "$WORK/err")"

# --socket names something that is not a socket.
echo "precious" >"$WORK/file"
check_exit "a regular file at the socket path is refused" 1 \
    timeout 15 "$VSWITCHD" --socket "$WORK/file" --db "$WORK/conf.db"
check_eq "with a clear reason" "vswitchd: $WORK/file: exists and is not a socket" \
    "$(cat "$WORK/err")"
check_eq "and the file is left as it was" precious "$(cat "$WORK/file")"
mkdir "$WORK/dir"
check_exit "a directory at the socket path is refused" 1 \
    timeout 15 "$VSWITCHD" --socket "$WORK/dir" --db "$WORK/conf.db"
check "and the directory is left" test -d "$WORK/dir"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
    "$WORK/c.sock"
check "a stale socket is replaced" start c
check "and the new one answers" ctl c ping
stop c

# Symbolic links in place of the daemon's files.
echo "root's" >"$WORK/victim"
ln -s "$WORK/victim" "$WORK/d.pid"
check_exit "a pidfile that is a symbolic link stops the daemon" 1 start d
grep -q "d.pid: is a symbolic link, refusing to follow it" "$WORK/err" \
    && pass "the refusal says why" || fail "refusal message: $(cat "$WORK/err")"
check_eq "the link's target is untouched" "root's" "$(cat "$WORK/victim")"
rm -f "$WORK/d.pid"
ln -sf "$WORK/victim" "$WORK/d.sock.lock"
check_exit "a socket lock file that is a symbolic link stops the daemon" 1 start d
check_eq "the link's target is untouched" "root's" "$(cat "$WORK/victim")"
rm -f "$WORK/d.sock.lock"
ln -sf "$WORK/victim" "$WORK/conf.db.lock"
check_exit "a database lock file that is a symbolic link stops the daemon" 1 start d
check_eq "the link's target is untouched" "root's" "$(cat "$WORK/victim")"
rm -f "$WORK/conf.db.lock"
check "without the links it starts" start d
ln -s "$WORK/victim" "$WORK/conf.db.tmp"
check "a change saves with a link planted at the temporary file" \
    ctl d add-vni 7000
check_eq "the link's target is untouched" "root's" "$(cat "$WORK/victim")"
check "the database is a regular file" test -f "$WORK/conf.db" -a ! -L "$WORK/conf.db"
stop d
check "the saved change survives a restart" start d
check "with VNI 7000" ctl d set-vni 7000 ageing=40
stop d
finish
