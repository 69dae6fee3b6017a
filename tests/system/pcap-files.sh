#!/bin/bash
# Capture files of pcap ports (vswitchd(8), SECURITY): which files a
# client may name, and a tx file that fills up.  A member of
# --socket-group (user nobody, group nogroup) may name files in the
# capture directory only: each way out (an absolute name, "..", a
# symbolic link on the way or at the end) is refused with one line and
# the file outside is untouched; nor a file or directory in it that the
# member could not use itself; created captures are mode 0660; rx and
# tx are never the same file; the configuration file is never a capture,
# not even for root, and the daemon still restarts; root names any other
# path.  A name a client gave stays confined when the daemon, as root,
# replays its configuration.  A capture directory others may write is
# refused at start.  A tx file on a full file system: the frames
# not written count as tx_error, the file keeps the whole frames written
# before, and the port goes down saying why.

# The full file system is a small tmpfs, mounted in a mount namespace of
# the test's own, which takes it along when it ends.
if [ -z "${VSW_PRIVATE_MNT:-}" ]; then
    exec unshare --mount --propagation private \
        env VSW_PRIVATE_MNT=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

SOCK=$WORK/vswitchd.sock
DB=$WORK/conf.db
PIDFILE=$WORK/vswitchd.pid
LOG=$WORK/vswitchd.log
PCAP=$WORK/pcap

# The test directory may be under a directory nobody cannot enter (a
# checkout under /root): nobody runs a copy of the tool from $WORK.
cp "$CTL_BIN" "$WORK/vswitch-ctl"
chmod 755 "$WORK/vswitch-ctl"

ctl() { timeout 15 "$CTL_BIN" --socket "$SOCK" --timeout 5 "$@"; }
member() {
    timeout 15 setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$WORK/vswitch-ctl" --socket "$SOCK" --timeout 5 "$@"
}
start_daemon() {
    timeout 15 "$VSWITCHD" --socket "$SOCK" --db "$DB" --pidfile="$PIDFILE" \
        --log-file="$LOG" --socket-group nogroup --detach "$@"
}
stop_daemon() { stop_daemon_of "$PIDFILE"; }
at_exit 'kill_vswitchd "$PIDFILE"'
port() {
    ctl --format=json show | json "[p['$2'] for p in j['ports'] if p['name'] == '$1'][0]"
}
drops() {
    ctl --format=json show \
        | json "[p['counters']['drops'].get('$2', 0) for p in j['ports'] if p['name'] == '$1'][0]"
}

# capture FILE N SIZE: writes a capture of N broadcast frames of SIZE
# bytes.
capture() {
    python3 - "$@" <<'EOF'
import struct, sys
path, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(n):
        frame = (b"\xff" * 6 + bytes.fromhex("020000985001") + b"\x88\xb5"
                 + struct.pack("!I", i) * ((size - 14) // 4))
        f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)
EOF
}
# frames FILE: how many whole frames capture FILE holds, or "partial" if
# it ends inside a record.
frames() {
    python3 - "$1" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
off, n = 24, 0
while off + 16 <= len(data):
    caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
    if off + 16 + caplen > len(data):
        break
    off, n = off + 16 + caplen, n + 1
print(n if off == len(data) else "partial")
EOF
}

# A root-only file in a directory nobody cannot read.
mkdir -m 700 "$WORK/secret"
echo "precious" >"$WORK/secret/data"
chmod 600 "$WORK/secret/data"
SECRET=$(sha256sum <"$WORK/secret/data")
capture "$WORK/in.pcap" 3 100
IN=$(sha256sum <"$WORK/in.pcap")

# A capture directory others may fill with links or swap files in is
# refused; one given with a trailing slash is made as without it.
mkdir -m 1777 "$WORK/wide"
chmod 1777 "$WORK/wide"
check_exit "vswitchd refuses a capture directory anyone may write" 1 \
    start_daemon --pcap-dir "$WORK/wide"
stop_daemon     # Should it have started.
grep -q "wide: writable by others: refused" "$WORK/err" \
    && pass "saying why" || fail "message: $(cat "$WORK/err")"
mkdir -m 770 "$WORK/groupw"
check_exit "or one another group may write" 1 \
    start_daemon --pcap-dir "$WORK/groupw"
stop_daemon
chown nobody "$WORK/groupw"
chmod 750 "$WORK/groupw"
check_exit "or someone else's" 1 start_daemon --pcap-dir "$WORK/groupw"
cp "$WORK/err" "$WORK/err.owner"
stop_daemon
grep -q "not by the daemon's user" "$WORK/err.owner" \
    && pass "saying why" || fail "message: $(cat "$WORK/err.owner")"
check "vswitchd starts with --pcap-dir DIR/" \
    start_daemon --pcap-dir "$WORK/slash/"
check_eq "DIR is made mode 2750, group nogroup" "2750 nogroup" \
    "$(stat -c '%a %G' "$WORK/slash")"
check "vswitchd stops" stop_daemon

check "vswitchd starts" start_daemon
check_eq "the capture directory is made, mode 2750, group nogroup" \
    "2750 nogroup" "$(stat -c '%a %G' "$PCAP")"
check "a member may add a port" member add-vni 5000

check_exit "a member may not name a file outside the capture directory" 1 \
    member add-port cap0 type=pcap tx="$WORK/secret/data"
grep -q "only root names files outside the capture directory" "$WORK/err" \
    && pass "the refusal says why" || fail "message: $(cat "$WORK/err")"
check_eq "the root-only file is untouched" "$SECRET" \
    "$(sha256sum <"$WORK/secret/data")"
check_exit "nor climb out with .." 1 \
    member add-port cap0 type=pcap tx=../secret/data
grep -q '"\.\." may not leave the capture directory' "$WORK/err" \
    && pass "the refusal names .." || fail "message: $(cat "$WORK/err")"
ln -s "$WORK/secret/data" "$PCAP/link.pcap"
check_exit "nor go through a symbolic link in the directory" 1 \
    member add-port cap0 type=pcap tx=link.pcap
grep -q "a symbolic link, which is not followed" "$WORK/err" \
    && pass "the refusal names the link" || fail "message: $(cat "$WORK/err")"
ln -s "$WORK/secret" "$PCAP/sub"
check_exit "nor a link on the way" 1 \
    member add-port cap0 type=pcap tx=sub/new.pcap
check "so nothing was made outside" test ! -e "$WORK/secret/new.pcap"
check_eq "and the root-only file is still untouched" "$SECRET" \
    "$(sha256sum <"$WORK/secret/data")"
check_exit "a member may not read a root-only file either" 1 \
    member add-port cap0 type=pcap rx="$WORK/secret/data"
echo "notes" >"$PCAP/notes.txt"
check_exit "an existing file that is not a capture is not emptied" 1 \
    member add-port cap0 type=pcap tx=notes.txt
check_eq "and keeps what it held" "notes" "$(cat "$PCAP/notes.txt")"
check_exit "a file name with a newline is a bad argument" 2 \
    member add-port cap0 type=pcap tx=$'a\nb.pcap'
check_exit "so is one with an escape sequence" 2 \
    member add-port cap0 type=pcap tx=$'\033[2Jx.pcap'
grep -q "control characters" "$WORK/err" && ! grep -q $'\033' "$WORK/err" \
    && pass "the refusal says why without echoing it" \
    || fail "message: $(cat -v "$WORK/err")"

check "a member may name a capture in the directory" \
    member add-port cap0 type=pcap tx=cap0.pcap vni=5000
check_eq "it is there, mode 0660, group nogroup" "660 nogroup" \
    "$(stat -c '%a %G' "$PCAP/cap0.pcap")"
check_eq "the port is up" up "$(port cap0 state)"
check_eq "the member's group reads it (a pcap file header)" "d4c3b2a1" \
    "$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
        od -An -tx1 -N4 "$PCAP/cap0.pcap" | tr -d ' ')"

# What root left in the capture directory for itself: a member may not
# make the daemon empty it or replay it (into a VNI where the member has
# a port, to read it).
capture "$PCAP/root.pcap" 2 100
chmod 600 "$PCAP/root.pcap"
mkdir -m 700 "$PCAP/priv"
capture "$PCAP/priv/x.pcap" 2 100
ROOT_SUM=$(sha256sum <"$PCAP/root.pcap")
PRIV_SUM=$(sha256sum <"$PCAP/priv/x.pcap")
check_exit "a member may not empty root's 0600 capture" 1 \
    member add-port capr type=pcap tx=root.pcap
grep -q "root.pcap: you may not write it" "$WORK/err" \
    && pass "the refusal says why" || fail "message: $(cat "$WORK/err")"
check_exit "nor replay it" 1 member add-port capr type=pcap rx=root.pcap
grep -q "root.pcap: you may not read it" "$WORK/err" \
    && pass "the refusal says why" || fail "message: $(cat "$WORK/err")"
check_exit "nor empty a capture in root's 0700 directory" 1 \
    member add-port capr type=pcap tx=priv/x.pcap
grep -q "you may not enter directory priv" "$WORK/err" \
    && pass "the refusal says why" || fail "message: $(cat "$WORK/err")"
check_exit "nor replay it" 1 member add-port capr type=pcap rx=priv/x.pcap
check_exit "nor create a capture there" 1 \
    member add-port capr type=pcap tx=priv/new.pcap
check_eq "root's captures are untouched" "$ROOT_SUM $PRIV_SUM" \
    "$(sha256sum <"$PCAP/root.pcap") $(sha256sum <"$PCAP/priv/x.pcap")"
check "root may" ctl add-port capr type=pcap rx=priv/x.pcap
check "and delete the port" ctl del-port capr
check "a member names again a capture it made" \
    member add-port capm type=pcap tx=capm.pcap
check "deletes the port" member del-port capm
check "and names it again" member add-port capm type=pcap tx=capm.pcap
check "and deletes the port again" member del-port capm
# The same as a member by a supplementary group only (usermod -aG).
member_sup() {
    timeout 15 setpriv --reuid=nobody --regid=12345 --groups=nogroup \
        "$WORK/vswitch-ctl" --socket "$SOCK" --timeout 5 "$@"
}
check "a member by a supplementary group names it too" \
    member_sup add-port capm type=pcap tx=capm.pcap
check "and deletes the port" member_sup del-port capm
check_exit "but not root's 0600 capture" 1 \
    member_sup add-port capr type=pcap tx=root.pcap

cp "$WORK/in.pcap" "$PCAP/in.pcap"
chmod 660 "$PCAP/in.pcap"
check_exit "rx and tx may not be the same file" 1 \
    member add-port cap1 type=pcap rx=in.pcap tx=in.pcap
grep -q "rx and tx must differ" "$WORK/err" \
    && pass "the refusal says so" || fail "message: $(cat "$WORK/err")"
check "a port with rx only" member add-port cap1 type=pcap rx=in.pcap
check_exit "nor made the same by set-port" 1 ctl set-port cap1 tx="$PCAP/in.pcap"
check_eq "the rx capture is untouched" "$IN" "$(sha256sum <"$PCAP/in.pcap")"

DB_SUM=$(sha256sum <"$DB")
check_exit "not even root may make the configuration file a capture" 1 \
    ctl add-port cap2 type=pcap tx="$DB"
grep -q "one of the daemon's own files" "$WORK/err" \
    && pass "the refusal says so" || fail "message: $(cat "$WORK/err")"
check_exit "nor its temporary file" 1 ctl add-port cap2 type=pcap tx="$DB.tmp"
check_exit "nor the log" 1 ctl add-port cap2 type=pcap tx="$LOG"
check_eq "the configuration file is untouched" "$DB_SUM" "$(sha256sum <"$DB")"

check "root may name a file anywhere else" \
    ctl add-port cap2 type=pcap tx="$WORK/secret/root.pcap"
check_eq "created mode 0660" "660" "$(stat -c %a "$WORK/secret/root.pcap")"

# A name a member gave stays inside the directory when the daemon replays
# its configuration as root, whatever the directory became meanwhile.
mkdir "$PCAP/dir1"
chgrp nogroup "$PCAP/dir1"
chmod g+w "$PCAP/dir1"
check "a member names a capture in a subdirectory" \
    member add-port cap3 type=pcap tx=dir1/x.pcap
check "vswitchd stops" stop_daemon
rm -r "$PCAP/dir1"
ln -s "$WORK/secret" "$PCAP/dir1"
check "vswitchd restarts" start_daemon
check "nothing was made through the link" test ! -e "$WORK/secret/x.pcap"
check_eq "cap3 is down, saying why" \
    "down: tx: dir1/x.pcap: dir1 is not a directory (symbolic links are not followed)" \
    "$(port cap3 state): $(port cap3 error)"
check_eq "cap0 is up again" up "$(port cap0 state)"

# A tx file that fills up: 300 frames of 1000 bytes into 64 KiB.
mkdir "$WORK/full"
mount -t tmpfs -o size=64k tmpfs "$WORK/full" || fail "tmpfs"
at_exit "umount '$WORK/full'"
capture "$PCAP/big.pcap" 300 1000
check "a port that writes to the small file system" \
    ctl add-port full0 type=pcap tx="$WORK/full/out.pcap" vni=5000
check "a port whose replay floods 300 frames to it" \
    member add-port src0 type=pcap rx=big.pcap vni=5000
full0_down() { [ "$(port full0 state)" = down ]; }
check "the full port goes down" wait_for 10 full0_down
check_eq "saying why" \
    "tx: $WORK/full/out.pcap: No space left on device" "$(port full0 error)"
written=$(frames "$WORK/full/out.pcap")
errors=$(drops full0 tx_error)
down=$(drops full0 port_down)
echo "# full0: $written frames written, $errors tx_error, $down port_down"
check_eq "the file holds whole frames only" yes \
    "$( [ "$written" -gt 0 ] 2>/dev/null && echo yes || echo "$written")"
check_eq "written and counted as tx_error make the 300 frames" 300 \
    "$((written + errors + down))"
check_eq "cap0 got the 300 frames" 300 "$(frames "$PCAP/cap0.pcap")"

# Adding the down port again with the same settings opens its files
# again: not for a member, who may not name root's file outside the
# capture directory, which would be emptied.
FULL_SUM=$(sha256sum <"$WORK/full/out.pcap")
check_exit "a member may not revive root's port through --may-exist" 1 \
    member --may-exist add-port full0 type=pcap tx="$WORK/full/out.pcap" \
    vni=5000
grep -q "only root names files outside the capture directory" "$WORK/err" \
    && pass "the refusal says why" || fail "message: $(cat "$WORK/err")"
check_eq "the file is untouched" "$FULL_SUM" \
    "$(sha256sum <"$WORK/full/out.pcap")"
check_eq "the port stays down" down "$(port full0 state)"
check "root may" \
    ctl --may-exist add-port full0 type=pcap tx="$WORK/full/out.pcap" \
    vni=5000
check_eq "and the port is up again" up "$(port full0 state)"
check_eq "with its file emptied" 0 "$(frames "$WORK/full/out.pcap")"
check "root deletes it, which lets the file system go" ctl del-port full0
finish
