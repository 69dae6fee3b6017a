#!/bin/bash
# vswitchd and vswitch-ctl end to end, on a private socket and database:
# every command with its error paths, JSON output, a restart after SIGKILL
# with the configuration intact, a corrupt database, many clients, a
# client that hangs mid-frame, an oversized frame, a peer without the
# right to change anything, signals.

# Ports create real devices (a TAP), so the whole test runs in a network
# namespace of its own, which takes them along when it ends.
if [ -z "${VSW_PRIVATE_NETNS:-}" ]; then
    exec unshare --net env VSW_PRIVATE_NETNS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
ip link set lo up

SOCK=$WORK/vswitchd.sock
DB=$WORK/conf.db
PIDFILE=$WORK/vswitchd.pid
LOG=$WORK/vswitchd.log

ctl() { timeout 15 "$CTL_BIN" --socket "$SOCK" --timeout 5 "$@"; }
jctl() { ctl --format=json "$@"; }

start_daemon() {
    timeout 15 "$VSWITCHD" --socket "$SOCK" --db "$DB" --pidfile="$PIDFILE" \
        --log-file="$LOG" --detach "$@"
}

stop_daemon() { stop_daemon_of "$PIDFILE"; }
at_exit 'kill_vswitchd "$PIDFILE"'

# Start-up.
check "vswitchd --detach returns once the socket answers" start_daemon
check "ctl ping" ctl ping
check "pidfile holds a live pid" kill -0 "$(cat "$PIDFILE")"
check_exit "a second daemon on the same socket is refused" 1 \
    timeout 15 "$VSWITCHD" --socket "$SOCK" --db "$DB"
grep -q "another vswitchd is running on $SOCK" "$WORK/err" \
    && pass "the refusal names the socket" || fail "refusal message: $(cat "$WORK/err")"
check "version, JSON" bash -c "'$CTL_BIN' --socket '$SOCK' --format=json version > '$WORK/v.json'"
check_eq "version reports protocol 1" 1 "$(json 'j["protocol"]' <"$WORK/v.json")"

# VNIs.
check "add-vni with a multicast group" ctl add-vni 5000 group=239.1.1.1
check "add-vni with a head-end replication list" \
    ctl add-vni 6000 flood=172.31.0.2,172.31.0.3 ageing=60 mac-limit=100
check_exit "add-vni of an existing VNI is refused" 1 ctl add-vni 5000 group=239.1.1.1
check_exit "--may-exist add-vni with the same settings succeeds" 0 \
    ctl --may-exist add-vni 5000 group=239.1.1.1
check_exit "--may-exist add-vni with other settings is refused" 1 \
    ctl --may-exist add-vni 5000 group=239.1.1.2
check_exit "VNI 0 is a bad argument" 2 ctl add-vni 0
check_exit "VNI 16777216 is a bad argument" 2 ctl add-vni 16777216
check_exit "a unicast group is a bad argument" 2 ctl add-vni 7000 group=10.0.0.1
check_exit "group and flood together are a bad argument" 2 \
    ctl add-vni 7000 group=239.1.1.1 flood=10.0.0.1
check "set-vni changes ageing" ctl set-vni 5000 ageing=120
check_exit "set-vni of a missing VNI is refused" 1 ctl set-vni 7777 ageing=5
jctl list-vnis >"$WORK/vnis.json"
check_eq "list-vnis: two VNIs" 2 "$(json 'len(j["vnis"])' <"$WORK/vnis.json")"
check_eq "list-vnis: group" 239.1.1.1 \
    "$(json '[v for v in j["vnis"] if v["vni"] == 5000][0]["group"]' <"$WORK/vnis.json")"
check_eq "list-vnis: ageing in effect" 120 \
    "$(json '[v for v in j["vnis"] if v["vni"] == 5000][0]["ageing"]' <"$WORK/vnis.json")"
check_eq "list-vnis: flood list" "['172.31.0.2', '172.31.0.3']" \
    "$(json '[v for v in j["vnis"] if v["vni"] == 6000][0]["flood"]' <"$WORK/vnis.json")"
check_eq "list-vnis: mac limit" 100 \
    "$(json '[v for v in j["vnis"] if v["vni"] == 6000][0]["mac_limit"]' <"$WORK/vnis.json")"

# Ports.
check "add-port vxlan" ctl add-port vtep0 type=vxlan local_ip=172.31.0.1 dst_port=4789
check "add-port tap bound to a VNI" ctl add-port tap0 type=tap vni=5000
check "add-port system" ctl add-port eth9 type=system
check "add-port pcap" ctl add-port cap0 type=pcap rx="$WORK/in.pcap" tx="$WORK/out.pcap"
check_exit "a second vxlan port is refused" 1 ctl add-port vtep1 type=vxlan local_ip=172.31.0.9
check_exit "an existing port is refused" 1 ctl add-port tap0 type=tap
check_exit "--may-exist add-port with the same settings succeeds" 0 \
    ctl --may-exist add-port tap0 type=tap vni=5000
check_exit "an unknown port type is a bad argument" 2 ctl add-port x0 type=bogus
check_exit "a vxlan port without local_ip is a bad argument" 2 ctl add-port x0 type=vxlan
for ip in 224.0.0.1 255.255.255.255 0.0.0.0 :: ff02::1; do
    check_exit "local_ip=$ip is a bad argument" 2 \
        ctl add-port x0 type=vxlan local_ip="$ip"
done
grep -q "local_ip: 'ff02::1' is not a unicast IPv4 or IPv6 address" "$WORK/err" \
    && pass "the refusal says what local_ip must be" || fail "message: $(cat "$WORK/err")"
check_exit "an unknown option is a bad argument" 2 ctl add-port x0 type=tap speed=10
check_exit "a port name too long is a bad argument" 2 ctl add-port abcdefghijklmnop type=tap
check_exit "a VNI that does not exist is refused" 1 ctl add-port tap1 type=tap vni=7777
check "bind-vni" ctl bind-vni eth9 6000
check_exit "bind-vni of a vxlan port is refused" 1 ctl bind-vni vtep0 5000
check_exit "bind-vni of a missing port is refused" 1 ctl bind-vni nope0 5000
check "set-port" ctl set-port vtep0 ttl=10
check_exit "set-port with a value no port takes is a bad argument" 2 \
    ctl set-port vtep0 ttl=300
grep -q "ttl" "$WORK/err" && pass "the refusal names the option" || fail "message: $(cat "$WORK/err")"
check_exit "set-port offload=maybe is a bad argument" 2 ctl set-port vtep0 offload=maybe
check_eq "and says what the value should be" \
    "vswitch-ctl: set-port: offload: 'maybe' is not true or false" "$(cat "$WORK/err")"
check_exit "set-port with an option of another type is refused" 1 \
    ctl set-port vtep0 offload=false
jctl list-ports >"$WORK/ports.json"
check_eq "list-ports: four ports" 4 "$(json 'len(j["ports"])' <"$WORK/ports.json")"
check_eq "list-ports: tap0 bound to 5000" 5000 \
    "$(json '[p for p in j["ports"] if p["name"] == "tap0"][0]["vni"]' <"$WORK/ports.json")"
check_eq "list-ports: the TAP device is up" up \
    "$(json '[p for p in j["ports"] if p["name"] == "tap0"][0]["state"]' <"$WORK/ports.json")"
check_eq "list-ports: a system port without its interface is down" \
    "down: interface eth9 does not exist" \
    "$(json '[p["state"] + ": " + p["error"] for p in j["ports"] if p["name"] == "eth9"][0]' <"$WORK/ports.json")"
check_eq "list-ports: vxlan options" 10 \
    "$(json '[p for p in j["ports"] if p["name"] == "vtep0"][0]["options"]["ttl"]' <"$WORK/ports.json")"
check "show, table" ctl show
grep -q "^NAME" "$WORK/out" && grep -q "tap0" "$WORK/out" \
    && pass "show prints the ports table" || fail "show output: $(cat "$WORK/out")"

# Static MACs and the FDB.
check "fdb-add to a port" ctl fdb-add 5000 02:00:00:00:00:01 tap0
check "fdb-add to a remote VTEP" ctl fdb-add 5000 02:00:00:00:00:02 remote=172.31.0.7
check_exit "fdb-add to a port outside the VNI is refused" 1 \
    ctl fdb-add 6000 02:00:00:00:00:03 tap0
check_exit "fdb-add of a multicast MAC is a bad argument" 2 \
    ctl fdb-add 5000 01:00:5e:00:00:01 tap0
check_exit "fdb-add of a malformed MAC is a bad argument" 2 ctl fdb-add 5000 02:00:00 tap0
jctl fdb-show 5000 >"$WORK/fdb.json"
check_eq "fdb-show: two static entries" 2 \
    "$(json 'len([e for e in j["entries"] if e["type"] == "static"])' <"$WORK/fdb.json")"
check_eq "fdb-show: remote entry" 172.31.0.7 \
    "$(json '[e for e in j["entries"] if e["mac"] == "02:00:00:00:00:02"][0]["remote"]' <"$WORK/fdb.json")"
check "fdb-del" ctl fdb-del 5000 02:00:00:00:00:02
check_exit "fdb-del of a missing entry is refused" 1 ctl fdb-del 5000 02:00:00:00:00:02
check_eq "the refusal speaks of any entry, not only static ones" \
    "vswitch-ctl: no entry for 02:00:00:00:00:02 in VNI 5000, static or learned" \
    "$(cat "$WORK/err")"
check_exit "--if-exists fdb-del of a missing entry succeeds" 0 \
    ctl --if-exists fdb-del 5000 02:00:00:00:00:02
check "fdb-flush" ctl fdb-flush
check "fdb-stats, JSON" bash -c "'$CTL_BIN' --socket '$SOCK' --format=json fdb-stats > '$WORK/fs.json'"
check_eq "fdb-stats: one static entry" 1 "$(json 'j["static_macs"]' <"$WORK/fs.json")"
check "stats of one port" ctl stats tap0
check_exit "stats of a missing port is refused" 1 ctl stats nope0

# Restart after SIGKILL: the configuration comes back whole.
jctl show | json 'json.dumps({"ports": [{k: p[k] for k in ("name", "type", "vni", "options")} for p in j["ports"]], "vnis": [{k: v[k] for k in ("vni", "group", "flood", "ageing", "mac_limit", "ports")} for v in j["vnis"]]}, sort_keys=True)' >"$WORK/before"
statics() {
    jctl fdb-show | json '[e for e in j["entries"] if e["type"] == "static"]'
}
statics >"$WORK/fdb-before"
pid=$(cat "$PIDFILE")
kill -9 "$pid"
wait_for 10 bash -c "! ctl ping" || fail "daemon still answers after SIGKILL"
# Its locks go only once its last thread has exited: a worker thread in
# the middle of an fsync finishes it first, while the main thread is
# already a zombie.  So wait for what matters: the locks free.
locks_free() {
    flock --nonblock "$SOCK.lock" true && flock --nonblock "$DB.lock" true
}
wait_for 10 locks_free || fail "daemon still holds its locks after SIGKILL"
check "restart after SIGKILL" start_daemon
jctl show | json 'json.dumps({"ports": [{k: p[k] for k in ("name", "type", "vni", "options")} for p in j["ports"]], "vnis": [{k: v[k] for k in ("vni", "group", "flood", "ageing", "mac_limit", "ports")} for v in j["vnis"]]}, sort_keys=True)' >"$WORK/after"
check "show is the same after the restart" cmp "$WORK/before" "$WORK/after"
statics >"$WORK/fdb-after"
check "the static entries are the same after the restart" \
    cmp "$WORK/fdb-before" "$WORK/fdb-after"

# Removing things.
check "del-port" ctl del-port eth9
check_exit "del-port of a missing port is refused" 1 ctl del-port eth9
check_exit "--if-exists del-port of a missing port succeeds" 0 ctl --if-exists del-port eth9
check "unbind-vni" ctl unbind-vni tap0
check_eq "unbind-vni removed tap0's static entry" 0 \
    "$(jctl fdb-show | json 'len([e for e in j["entries"] if e["type"] == "static"])')"
check "del-vni" ctl del-vni 6000
check_exit "del-vni of a missing VNI is refused" 1 ctl del-vni 6000
check_exit "an unknown command is a bad argument" 2 ctl frobnicate
check_exit "too many arguments are a bad argument" 2 ctl del-vni 5000 6000

# Many clients at once, and one that hangs half-way through a frame.
python3 - "$SOCK" >"$WORK/hang.log" 2>&1 <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"\x00\x00")          # Half a length prefix, then nothing.
time.sleep(4)
PYEOF
hang_pid=$!
at_exit "kill_child $hang_pid"
sleep 0.5
pids=()
for i in $(seq 8); do
    (for j in $(seq 10); do ctl show >/dev/null || exit 1; done) &
    pids+=($!)
done
ok=0
for pid in "${pids[@]}"; do wait "$pid" && ok=$((ok + 1)); done
check_eq "8 clients x 10 requests while another client hangs mid-frame" 8 "$ok"
wait "$hang_pid"

python3 - "$SOCK" >"$WORK/big.out" <<'PYEOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(struct.pack(">I", (16 << 20) + 1) + b"x" * 1000)   # Root may send 16 MiB.
reply = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    reply += chunk
print("closed", len(reply) > 4, b"limit" in reply)
PYEOF
check_eq "an oversized frame gets an error, then the connection closes" \
    "closed True True" "$(cat "$WORK/big.out")"
# garbage N: N bytes of garbage in a well-formed frame; prints whether the
# answer says "malformed".
garbage() {
    python3 - "$SOCK" "$1" <<'PYEOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
n = int(sys.argv[2])
s.sendall(struct.pack(">I", n) + (b"\xff\xfe\xfd\xfc\xfb" * n)[:n])
n = struct.unpack(">I", s.recv(4))[0]
reply = b""
while len(reply) < n:
    reply += s.recv(n - len(reply))
print(b"malformed" in reply)
PYEOF
}
check_eq "garbage in a well-formed frame gets an error" True "$(garbage 5)"
# From 64 KiB on, a worker thread decodes the request.
check_eq "so does 200 KiB of garbage, decoded by a worker" True \
    "$(garbage 204800)"
# A dump-flows padded past 64 KiB with a field the daemon does not know:
# decoded and freed by workers, its dump (which holds the port names)
# let go by the loop.  Prints whether the answer says OK (status 0).
python3 - "$SOCK" >"$WORK/padded.out" <<'PYEOF'
import socket, struct, sys
def varint(n):
    out = b""
    while n > 0x7f:
        out += bytes([n & 0x7f | 0x80])
        n >>= 7
    return out + bytes([n])
pad = b"p" * 100000
req = (b"\x08\x01" + varint(33 << 3 | 2) + b"\x00"
       + varint(1000 << 3 | 2) + varint(len(pad)) + pad)
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(struct.pack(">I", len(req)) + req)
n = struct.unpack(">I", s.recv(4))[0]
reply = b""
while len(reply) < n:
    reply += s.recv(n - len(reply))
print(reply[2:4] == b"\x10\x00" or reply[:4].hex())
PYEOF
check_eq "a dump-flows padded to 100 KiB is answered" True \
    "$(cat "$WORK/padded.out")"
check "the daemon still answers" ctl ping

# Permissions: open the socket to everyone; 'nobody' may read, not change.
chmod 666 "$SOCK"
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
PUBLIC_CTL=$(public_ctl)
check "nobody may show" nobody timeout 15 "$PUBLIC_CTL" --socket "$SOCK" show
check_exit "nobody may not add a VNI" 1 nobody timeout 15 "$PUBLIC_CTL" --socket "$SOCK" add-vni 9000
grep -q "permission denied" "$WORK/err" && pass "the refusal says permission denied" \
    || fail "refusal message: $(cat "$WORK/err")"
check_exit "the refused change did not happen" 1 ctl set-vni 9000 ageing=5
for i in $(seq 5000); do echo "evpn-vtep-add 5000 10.9.$((i >> 8)).$((i & 255))"; done \
    >"$WORK/big.batch"
check_exit "nor a batch large enough for a worker to decode (5,000 lines)" 1 \
    nobody timeout 15 "$PUBLIC_CTL" --socket "$SOCK" batch "$WORK/big.batch"
grep -q "permission denied" "$WORK/err" && pass "that refusal says permission denied too" \
    || fail "refusal message: $(cat "$WORK/err")"
check_exit "nobody may not change the log level" 1 \
    nobody timeout 15 "$PUBLIC_CTL" --socket "$SOCK" set-log-level debug
check_eq "nobody may read it" "log level info" \
    "$(nobody timeout 15 "$PUBLIC_CTL" --socket "$SOCK" get-log-level)"

# The log level at run time: debug lets client connections through,
# warn holds back even the changes.
check_eq "set-log-level debug says what it replaced" \
    "log level debug (was info)" "$(ctl set-log-level debug)"
check_eq "get-log-level, JSON" debug "$(jctl get-log-level | json 'j["level"]')"
ctl ping >/dev/null
wait_for 5 grep -q "|DBG|control|client [0-9]*: connected" "$LOG" \
    && pass "at debug, client connections are logged" \
    || fail "no DBG line after set-log-level debug"
check_exit "an unknown level is refused" 1 ctl set-log-level verbose
grep -q "unknown log level 'verbose' (err, warn, info or debug)" "$WORK/err" \
    && pass "the refusal names the levels" || fail "message: $(cat "$WORK/err")"
check_eq "and the level is unchanged" debug \
    "$(jctl get-log-level | json 'j["level"]')"
check_eq "set-log-level warn" "warn" \
    "$(jctl set-log-level warn | json 'j["level"]')"
# Clients of the debug period may still be saying goodbye: one more round
# trip lets the daemon finish with them.
ctl ping >/dev/null
lines_before=$(wc -l <"$LOG")
ctl add-vni 9002 >/dev/null
ctl del-vni 9002 >/dev/null
check_eq "at warn, changes are not logged" 0 \
    "$(tail -n +$((lines_before + 1)) "$LOG" | grep -c '|INFO|')"
check_exit "set-log-level takes one level" 2 ctl set-log-level
ctl set-log-level info >/dev/null
ctl add-vni 9002 >/dev/null
ctl del-vni 9002 >/dev/null
logged_since() { tail -n +$((lines_before + 1)) "$LOG" | grep -q "$1"; }
wait_for 5 logged_since add-vni \
    && pass "back at info, changes are logged again" \
    || fail "nothing logged after set-log-level info"

# Refusals are anybody's to repeat: their log lines are rate limited.
refused() { grep -c "add-vni refused" "$LOG"; }
refused_before=$(refused)
start=$(date +%s%N)
for _ in $(seq 200); do
    nobody "$PUBLIC_CTL" --socket "$SOCK" add-vni 9000 2>/dev/null
done
refused_logged=$(($(refused) - refused_before))
# The limit: a burst of 10, then 20 a minute (a slow build takes a while
# for the 200).
most=$((10 + ($(date +%s%N) - start) / 3000000000 + 1))
check "200 refused changes log a burst, not 200 lines ($refused_logged, \
at most $most)" test "$refused_logged" -ge 5 -a "$refused_logged" -le "$most"
refuse_and_look() {
    nobody "$PUBLIC_CTL" --socket "$SOCK" add-vni 9000 2>/dev/null
    grep -q "messages like the next one suppressed" "$LOG"
}
check "once the rate allows, the log says how many it suppressed" \
    wait_for 10 refuse_and_look

# A member of the socket's group may change the configuration, but its
# idle connections cannot take the last places, kept for root.
stop_daemon
check "the daemon restarts with a socket group" \
    start_daemon --socket-group=nogroup
python3 "$(dirname "$0")/hold-connections.py" "$SOCK" nobody nogroup 300 30 \
    >"$WORK/member.out" 2>&1 &
member_pid=$!
at_exit "kill_child $member_pid"
wait_for 20 test -s "$WORK/member.out"
check_eq "a member's idle connections get all places but root's" 252 \
    "$(cat "$WORK/member.out")"
check "root still runs show" ctl show
check "and changes the configuration" ctl set-vni 5000 ageing=30
stop_child "$member_pid" 5

# Signals: HUP reopens the log, TERM stops cleanly.
mv "$LOG" "$LOG.1"
kill -HUP "$(cat "$PIDFILE")"
wait_for 5 test -e "$LOG" && pass "SIGHUP reopens the log file" || fail "no new log after SIGHUP"
ctl add-vni 9001 >/dev/null
wait_for 5 grep -q "add-vni" "$LOG" && pass "the new log file gets new lines" \
    || fail "nothing logged after SIGHUP"
check "SIGTERM stops the daemon" stop_daemon
check "the socket is removed" test ! -e "$SOCK"
check "the pidfile is removed" test ! -e "$PIDFILE"
check_exit "ctl reports an unreachable daemon" 3 ctl ping

# A corrupt database stops the daemon and is left as it was.
cp "$DB" "$WORK/good.db"
head -c 100 /dev/urandom >"$DB"
sum_before=$(md5sum <"$DB")
check_exit "a corrupt database is refused" 1 \
    timeout 15 "$VSWITCHD" --socket "$SOCK" --db "$DB"
grep -q "$DB" "$WORK/err" && pass "the refusal names the file" || fail "message: $(cat "$WORK/err")"
check_eq "the corrupt database is untouched" "$sum_before" "$(md5sum <"$DB")"
cp "$WORK/good.db" "$DB"
check "the good database starts again" start_daemon
check_eq "with its VNIs" "[5000, 9001]" "$(jctl list-vnis | json 'sorted(v["vni"] for v in j["vnis"])')"
stop_daemon
finish
