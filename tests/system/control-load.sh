#!/bin/bash
# Control load must not stall forwarding (vswitchd(8), LIMITS): with a full
# MAC table of 262144 entries, eight clients loop "vswitch-ctl fdb-show"
# for 10 seconds while one VM pings another across the switch every 10 ms;
# no ping may be lost and none may take 100 ms or more.  Every dump still
# holds the whole table, and the threads that built them are not left
# niced.  A client that pipelines 100 dumps holds back only
# itself, one that reads none is closed, one that reads a full table's
# answer slowly is not.  256 idle connections of an
# unprivileged user hold every ordinary place and root can still run
# commands.  60 clients that each ask for the table and read nothing keep
# the daemon's memory within the bound on answers held.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
take_turn

N_MACS=262144
LOAD_SECONDS=10
N_LOADERS=8

make_ns h1
start_vswitchd h1 || fail "vswitchd on h1"
vsctl h1 add-vni 5000
make_vm vm1 h1 tap0 5000 10.99.0.1/24 02:00:00:99:00:01 || fail "vm1"
make_vm vm2 h1 tap1 5000 10.99.0.2/24 02:00:00:99:00:02 || fail "vm2"

# The table is filled by a capture file of frames from distinct sources,
# replayed into a VNI of its own so that their flooding reaches nobody.
make_fill_pcap "$WORK/fill.pcap" "$N_MACS"
vsctl h1 add-vni 6000
check "add a pcap port replaying $N_MACS sources" \
    vsctl h1 add-port cap0 type=pcap rx="$WORK/fill.pcap" vni=6000
n_dynamic() {
    vsctl h1 --format=json fdb-stats | json "j['dynamic_macs']"
}
table_full() { [ "$(n_dynamic)" = "$N_MACS" ]; }
wait_for 60 table_full && pass "the MAC table is full" \
    || fail "the MAC table holds $(n_dynamic) entries, not $N_MACS"
check "vm1 pings vm2 before the load" in_ns vm1 ping -c 3 -W 2 10.99.0.2

start=$(date +%s%N)
vsctl h1 fdb-show >/dev/null
echo "one fdb-show of a full table: $((($(date +%s%N) - start) / 1000000)) ms"

# The load: each client counts the dumps it finished.  A dump may take
# long where eight are served in turn (a sanitizer build, a busy machine):
# a client is starved only if it waits a minute.
load() {
    local end=$((SECONDS + LOAD_SECONDS)) n=0
    while [ $SECONDS -lt "$end" ]; do
        timeout 70 "$CTL_BIN" --socket "$WORK/h1.sock" --timeout 60 \
            fdb-show >/dev/null && n=$((n + 1))
    done
    echo "$n" >"$WORK/load.$1"
}
pids=()
for i in $(seq "$N_LOADERS"); do
    load "$i" &
    pids+=($!)
done
in_ns vm1 ping -q -i 0.01 -w $((2 * LOAD_SECONDS + 5)) \
    -c $((LOAD_SECONDS * 100)) \
    -W 2 10.99.0.2 >"$WORK/ping.txt" 2>&1
wait "${pids[@]}"
dumps=$(cat "$WORK"/load.* | paste -sd+ | bc)
echo "fdb-show dumps during the load: $dumps"
peak_kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$(cat "$WORK/h1.pid")/status")
echo "vswitchd's peak resident memory: $((peak_kb / 1024)) MiB"
check_ping "under control load" "$WORK/ping.txt"
[ "${dumps:-0}" -ge "$N_LOADERS" ] && pass "the clients were served" \
    || fail "only ${dumps:-0} dumps finished during the load"
# The two VMs' entries pushed out two of the replayed ones.
check_eq "fdb-show still returns the whole table" "$N_MACS" \
    "$(vsctl h1 --format=json fdb-show | json "len(j['entries'])")"

# The worker threads that built those answers, niced meanwhile so that the
# loop wins the CPU, are back at the daemon's priority: the saves that run
# in them next must not be niced.
nice_of() { awk '{ sub(/^.*\) /, ""); print $17 }' "$@"; }
daemon_pid=$(cat "$WORK/h1.pid")
niced=$(nice_of /proc/"$daemon_pid"/task/*/stat \
            | grep -cvx -- "$(nice_of /proc/"$daemon_pid"/stat)")
check_eq "no thread of vswitchd is left niced after the dumps" 0 "$niced"

# A client that asks for the table and never reads the answer holds memory
# that everyone's requests count against: it is closed after 10 seconds.
python3 - "$WORK/h1.sock" >"$WORK/unread.out" 2>&1 <<'PYEOF' &
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
req = bytes([0x08, 0x01, 0xba, 0x01, 0x00])    # protocol 1, fdb_show {}
s.sendall(struct.pack(">I", len(req)) + req)
time.sleep(15)
s.settimeout(2)
try:
    while s.recv(1 << 20):
        pass
    print("closed")
except socket.timeout:
    print("open")
PYEOF
unread_pid=$!
at_exit "kill_child $unread_pid"

# One client pipelines 100 fdb-show requests and reads its answers slowly:
# it is served one request at a time, and others are served meanwhile.
python3 - "$WORK/h1.sock" >"$WORK/pipeline.out" 2>&1 <<'PYEOF' &
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
req = bytes([0x08, 0x01, 0xba, 0x01, 0x00])    # protocol 1, fdb_show {}
s.sendall((struct.pack(">I", len(req)) + req) * 100)
s.settimeout(30)
got = b""
answers = 0
while answers < 3:
    time.sleep(0.05)
    data = s.recv(1 << 16)
    if not data:
        break
    got += data
    while len(got) >= 4 and len(got) >= 4 + struct.unpack(">I", got[:4])[0]:
        got = got[4 + struct.unpack(">I", got[:4])[0]:]
        answers += 1
print(answers)
PYEOF
pipeline_pid=$!
at_exit "kill_child $pipeline_pid"
in_ns vm1 ping -q -i 0.01 -c 500 -w 20 -W 2 10.99.0.2 >"$WORK/ping2.txt" 2>&1 &
ping_pid=$!
worst_ctl=0
for i in $(seq 10); do
    start=$(date +%s%N)
    vsctl h1 ping >/dev/null || worst_ctl=99999
    took=$((($(date +%s%N) - start) / 1000000))
    [ "$took" -gt "$worst_ctl" ] && worst_ctl=$took
    sleep 0.2
done
[ "$worst_ctl" -lt 500 ] \
    && pass "other clients are answered meanwhile (worst $worst_ctl ms)" \
    || fail "another client waited $worst_ctl ms behind a pipelining one"
wait "$ping_pid"
check_ping "while a client pipelines dumps" "$WORK/ping2.txt"
wait "$pipeline_pid"
check_eq "the pipelining client got its answers" 3 "$(cat "$WORK/pipeline.out")"

wait "$unread_pid"
check_eq "a client that leaves its answer unread is closed" closed \
    "$(cat "$WORK/unread.out")"

# The size of a full table's answer, read at once.
reply_bytes=$(python3 - "$WORK/h1.sock" <<'PYEOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
req = bytes([0x08, 0x01, 0xba, 0x01, 0x00])    # protocol 1, fdb_show {}
s.sendall(struct.pack(">I", len(req)) + req)
got = b""
while len(got) < 4 or len(got) < 4 + struct.unpack(">I", got[:4])[0]:
    data = s.recv(1 << 20)
    if not data:
        break
    got += data
print(len(got))
PYEOF
)

# A client that reads a full table's answer slowly, at 600 KB/s, makes
# progress: it gets the whole of it though that takes longer than the
# 10 seconds an answer may stay unread.
python3 - "$WORK/h1.sock" >"$WORK/slow.out" 2>&1 <<'PYEOF'
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
req = bytes([0x08, 0x01, 0xba, 0x01, 0x00])    # protocol 1, fdb_show {}
s.sendall(struct.pack(">I", len(req)) + req)
s.settimeout(15)
got = b""
start = time.monotonic()
while len(got) < 4 or len(got) < 4 + struct.unpack(">I", got[:4])[0]:
    data = s.recv(60000)
    if not data:
        break
    got += data
    time.sleep(max(0, start + len(got) / 600000 - time.monotonic()))
took = time.monotonic() - start
whole = len(got) >= 4 and len(got) == 4 + struct.unpack(">I", got[:4])[0]
print("whole" if whole else "cut", len(got), int(took))
PYEOF
echo "slow reader: $(cat "$WORK/slow.out") (bytes, seconds)"
check_eq "a client reading at 600 KB/s gets the whole answer" whole \
    "$(cut -d' ' -f1 "$WORK/slow.out")"
[ "$(cut -d' ' -f3 "$WORK/slow.out")" -ge 12 ] \
    && pass "reading it took longer than the unread timeout" \
    || fail "reading it took only $(cut -d' ' -f3 "$WORK/slow.out") s"

# Idle connections of a user who may not change anything fill the places
# open to everyone; root (who may) still gets one of the places kept back.
chmod 666 "$WORK/h1.sock"
python3 "$(dirname "$0")/hold-connections.py" "$WORK/h1.sock" nobody \
    "$(id -gn nobody)" 256 30 >"$WORK/idle.out" 2>&1 &
idle_pid=$!
at_exit "kill_child $idle_pid"
wait_for 20 test -s "$WORK/idle.out"
echo "idle connections of nobody kept open: $(cat "$WORK/idle.out")"
check "root runs show while 256 idle connections are open" vsctl h1 show
check "root changes the configuration meanwhile" vsctl h1 add-vni 7000
stop_child "$idle_pid" 5
few_sockets() {
    [ "$(find /proc/"$daemon_pid"/fd -lname 'socket:*' | wc -l)" -lt 50 ]
}
wait_for 10 few_sockets || fail "vswitchd still holds the idle connections"

# Answers being built or left unsent hold at most CONTROL_MAX_HELD
# (64 MiB) and one answer more in all, counted from the start of a dump to
# the last byte written: 60 clients that each ask for the table at once and
# never read wait their turn, and the daemon's memory stays bounded;
# other requests go on meanwhile.
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$(cat "$WORK/h1.pid")/status"; }
base_kb=$(rss_kb)
python3 - "$WORK/h1.sock" 60 >"$WORK/greedy.out" 2>&1 <<'PYEOF' &
import socket, struct, sys, time
req = bytes([0x08, 0x01, 0xba, 0x01, 0x00])    # protocol 1, fdb_show {}
held = []
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(struct.pack(">I", len(req)) + req)
    held.append(s)
print(len(held), flush=True)
time.sleep(14)
PYEOF
greedy_pid=$!
at_exit "kill_child $greedy_pid"
in_ns vm1 ping -q -i 0.01 -c 1200 -w 30 -W 2 10.99.0.2 >"$WORK/ping3.txt" 2>&1 &
ping_pid=$!
peak_kb=$base_kb
end=$((SECONDS + 12))
while [ $SECONDS -lt $end ]; do
    kb=$(rss_kb)
    [ "${kb:-0}" -gt "$peak_kb" ] && peak_kb=$kb
    sleep 0.1
done
# A dump being built holds its copy of the table, the message made from
# it and the packed answer: about five answers' worth (fdb_dump_size()).
bound_kb=$((base_kb + 65536 + 5 * reply_bytes / 1024 + 32768))
echo "one answer: $((reply_bytes / 1024)) KiB; resident memory before" \
    "$((base_kb / 1024)) MiB, peak $((peak_kb / 1024)) MiB," \
    "bound $((bound_kb / 1024)) MiB"
[ "$peak_kb" -le "$bound_kb" ] \
    && pass "60 unread dumps keep vswitchd under $((bound_kb / 1024)) MiB" \
    || fail "60 unread dumps took vswitchd to $((peak_kb / 1024)) MiB"
check_eq "the 60 greedy clients connected" 60 "$(head -1 "$WORK/greedy.out")"
wait "$ping_pid"
check_ping "while 60 clients leave their dumps unread" "$WORK/ping3.txt"
check "root runs show meanwhile" vsctl h1 show

finish
