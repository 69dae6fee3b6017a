#!/bin/bash
# The event stream (vswitch-ctl monitor): two hosts, a VM on each.  A
# monitor of every kind on h1 sees, each with its fields and with
# strictly increasing sequence numbers: MACs learned from a ping, one
# moved by a pcap port's replay, flushed, aged (ageing=1), a static entry
# added and deleted; ports added, removed, down (the veth of a system
# port deleted) and up (made again); VNIs added, changed, removed; flow
# rules added, modified, removed and expired (hard_timeout=1).  Monitors
# of some kinds see only those; --initial lists what exists, then goes on
# with no gap; a reader stopped while 100,000 MACs are flushed does not
# stall forwarding and, resumed, is told how many events it missed (the
# gap of sequence numbers); no more than 16 monitors run at once; stopping
# the daemon ends a monitor cleanly; --format=table prints words.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

make_hosts 2 172.31.247 10.94.0 02:00:00:94:00 flood=172.31.247.2
vsctl h2 set-vni 5000 flood=172.31.247.1
VM1=02:00:00:94:00:01
VM2=02:00:00:94:00:02

# vmon NAME HOST ARGS...: "vswitch-ctl monitor ARGS" against HOST in the
# background, stdout to $WORK/NAME.out, stderr to $WORK/NAME.err; returns
# once the monitor runs (the daemon logs it).  VMON[NAME] is its pid.
declare -A VMON=()
vmon() {
    local name=$1 host=$2 before
    shift 2
    before=$(grep -c "monitor started" "$WORK/$host.log")
    in_background 600 "$CTL_BIN" --socket "$WORK/$host.sock" monitor "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err"
    VMON[$name]=$BG_PID
    wait_for 10 bash -c "[ \$(grep -c 'monitor started' '$WORK/$host.log') \
        -gt $before ]"
}

# events NAME PYTHON-FILTER: how many events of NAME's output the filter
# (over the event 'e') selects.
events() {
    python3 - "$WORK/$1.out" "$2" <<'EOF'
import collections, json, sys
n = 0
for line in open(sys.argv[1]):
    # A field an event lacks reads as None.
    e = collections.defaultdict(lambda: None, json.loads(line))
    n += bool(eval('(' + sys.argv[2] + ')'))
print(n)
EOF
}

# has NAME PYTHON-FILTER: NAME's output has such an event (10 s at most).
has() { wait_for 10 has_now "$1" "$2"; }
has_now() { [ "$(events "$1" "$2")" -gt 0 ]; }

# expect NAME WHAT PYTHON-FILTER: a check that NAME's output has one.
expect() {
    check "$2" has "$1" "$3"
}

vmon all h1
vmon fdb h1 fdb
vmon pv h1 ports vnis
vmon flows h1 flows

# MACs learned: vm1's on tap0, vm2's from h2's VTEP.
check "vm1 pings vm2" in_ns vm1 ping -c 2 -i 0.2 -W 2 10.94.0.2
expect all "vm1's MAC learned on tap0, dynamic" \
    "e['kind'] == 'fdb' and e['action'] == 'learned' and e['vni'] == 5000
     and e['mac'] == '$VM1' and e['port'] == 'tap0'
     and e['type'] == 'dynamic' and 'remote' not in e"
expect all "vm2's MAC learned from the remote VTEP" \
    "e['kind'] == 'fdb' and e['action'] == 'learned'
     and e['mac'] == '$VM2' and e['remote'] == '172.31.247.2'
     and 'port' not in e"

# Moved: a pcap port replays a frame from vm2's MAC, to vm1 (a broadcast
# would teach h2 that vm2 is behind h1).
python3 - "$WORK/moved.pcap" "$VM2" "$VM1" <<'EOF'
import struct, sys
mac = bytes.fromhex(sys.argv[2].replace(':', ''))
frame = bytes.fromhex(sys.argv[3].replace(':', '')) + mac + b'\x88\xb5' + b'\0' * 46
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    f.write(struct.pack('<IIII', 1, 0, len(frame), len(frame)) + frame)
EOF
check "add pcap port cap0 replaying a frame from vm2's MAC" \
    vsctl h1 add-port cap0 type=pcap rx="$WORK/moved.pcap" vni=5000
expect all "port cap0 added, with its type" \
    "e['kind'] == 'port' and e['action'] == 'added' and e['name'] == 'cap0'
     and e['port_type'] == 'pcap'"
expect all "vm2's MAC moved from the remote VTEP to cap0" \
    "e['kind'] == 'fdb' and e['action'] == 'moved' and e['mac'] == '$VM2'
     and e['port'] == 'cap0' and e['from_remote'] == '172.31.247.2'"
check "delete cap0" vsctl h1 del-port cap0
expect all "port cap0 removed" \
    "e['kind'] == 'port' and e['action'] == 'removed' and e['name'] == 'cap0'"

# Flushed, then aged.
check "fdb-flush" vsctl h1 fdb-flush 5000
expect all "vm1's MAC flushed" \
    "e['kind'] == 'fdb' and e['action'] == 'flushed' and e['mac'] == '$VM1'"
check "set-vni 5000 ageing=1" vsctl h1 set-vni 5000 ageing=1
expect all "VNI 5000 changed" \
    "e['kind'] == 'vni' and e['action'] == 'changed' and e['vni'] == 5000"
check "vm1 pings vm2 again" in_ns vm1 ping -c 2 -i 0.2 -W 2 10.94.0.2
expect all "vm1's MAC aged out" \
    "e['kind'] == 'fdb' and e['action'] == 'aged' and e['mac'] == '$VM1'
     and e['port'] == 'tap0'"
vsctl h1 set-vni 5000 ageing=300

# Static entries.
check "fdb-add a static entry" vsctl h1 fdb-add 5000 02:00:00:94:00:99 tap0
expect all "static entry added" \
    "e['kind'] == 'fdb' and e['action'] == 'added'
     and e['mac'] == '02:00:00:94:00:99' and e['type'] == 'static'
     and e['port'] == 'tap0'"
check "fdb-del the static entry" vsctl h1 fdb-del 5000 02:00:00:94:00:99
expect all "static entry deleted" \
    "e['kind'] == 'fdb' and e['action'] == 'deleted'
     and e['mac'] == '02:00:00:94:00:99' and e['type'] == 'static'"

# A system port whose veth goes and comes back.
in_ns h1 ip link add sys0 type veth peer name sys0p
check "add system port sys0" vsctl h1 add-port sys0 type=system vni=5000
in_ns h1 ip link del sys0
expect all "port sys0 down when its device goes" \
    "e['kind'] == 'port' and e['action'] == 'down' and e['name'] == 'sys0'
     and e['port_type'] == 'system'"
in_ns h1 ip link add sys0 type veth peer name sys0p
expect all "port sys0 up when its device is back" \
    "e['kind'] == 'port' and e['action'] == 'up' and e['name'] == 'sys0'"
vsctl h1 del-port sys0

# VNIs.
check "add-vni 6000" vsctl h1 add-vni 6000 flood=172.31.247.2
check "del-vni 6000" vsctl h1 del-vni 6000
expect all "VNI 6000 added" \
    "e['kind'] == 'vni' and e['action'] == 'added' and e['vni'] == 6000"
expect all "VNI 6000 removed" \
    "e['kind'] == 'vni' and e['action'] == 'removed' and e['vni'] == 6000"

# Flows.
check "add a flow" vsctl h1 add-flow \
    "cookie=0x2a,priority=100,in_port=tap0,tcp,tp_dst=22,actions=drop"
expect all "flow added with table, priority, cookie and match" \
    "e['kind'] == 'flow' and e['action'] == 'added' and e['table'] == 0
     and e['priority'] == 100 and e['cookie'] == '0x2a'
     and e['match'] == 'priority=100,tcp,in_port=tap0,tp_dst=22'
     and e['actions'] == 'drop'"
check "mod-flows" vsctl h1 mod-flows --strict \
    "priority=100,in_port=tap0,tcp,tp_dst=22,actions=normal"
expect all "flow modified" \
    "e['kind'] == 'flow' and e['action'] == 'modified'
     and e['priority'] == 100 and e['actions'] == 'normal'"
check "del-flows" vsctl h1 del-flows --strict \
    "priority=100,in_port=tap0,tcp,tp_dst=22"
expect all "flow removed" \
    "e['kind'] == 'flow' and e['action'] == 'removed'
     and e['priority'] == 100"
check "add a flow with hard_timeout=1" vsctl h1 add-flow \
    "hard_timeout=1,priority=50,udp,actions=drop"
expect all "flow expired" \
    "e['kind'] == 'flow' and e['action'] == 'expired'
     and e['priority'] == 50 and e['match'] == 'priority=50,udp'"

# The sequence, and the filters.
seqs_ok() {
    python3 - "$WORK/$1.out" <<'EOF'
import json, sys
seqs = [json.loads(l)['seq'] for l in open(sys.argv[1])]
sys.exit(not (len(seqs) > 1 and all(a < b for a, b in zip(seqs, seqs[1:]))))
EOF
}
check "sequence numbers strictly increase" seqs_ok all
check_eq "every event carries its time, near now" 0 \
    "$(events all "abs(e['time'] - $(date +%s)) > 300")"
check_eq "monitor fdb sees only fdb events" 0 \
    "$(events fdb "e['kind'] != 'fdb'")"
check_eq "monitor fdb sees every fdb event the full monitor sees" \
    "$(events all "e['kind'] == 'fdb'")" "$(events fdb "True")"
check_eq "monitor ports vnis sees only ports and VNIs" 0 \
    "$(events pv "e['kind'] not in ('port', 'vni')")"
check "monitor ports vnis sees the VNI changes" has pv "e['kind'] == 'vni'"
check_eq "monitor flows sees only flows" 0 \
    "$(events flows "e['kind'] != 'flow'")"
check_eq "monitor flows sees 5 flow events" 5 "$(events flows True)"

# --initial: what exists, then the live events, no gap.
check "vm1 pings vm2 to have MACs" in_ns vm1 ping -c 2 -i 0.2 -w 5 10.94.0.2
vmon init h1 --initial
check "add-vni 7000 after --initial" vsctl h1 add-vni 7000 \
    flood=172.31.247.2
has init "e['kind'] == 'vni' and e['action'] == 'added'"
initial_ok() {
    python3 - "$WORK/init.out" "$VM1" <<'EOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
present = [e for e in evs if e['action'] == 'present']
live = evs[len(present):]
have = {(e['kind'], e.get('name') or e.get('mac') or e.get('vni')
         or e.get('match')) for e in present}
want = {('port', 'vtep0'), ('port', 'tap0'), ('vni', 5000),
        ('fdb', sys.argv[2])}
seq = {e['seq'] for e in present}
ok = (want <= have and len(seq) == 1
      and any(e['kind'] == 'flow' and e['priority'] == 0 for e in present)
      and all(e['action'] != 'present' for e in live)
      and live[0]['seq'] == seq.pop() + 1)
print(sorted(have), [e['seq'] for e in live][:3])
sys.exit(not ok)
EOF
}
check "--initial lists the ports, VNIs, flows and MACs, then the next event" \
    initial_ok
vsctl h1 del-vni 7000

# A reader that stops reading while 100,000 MACs are flushed.  The MACs
# are learned first, from a pcap port, at whatever pace this build has;
# the flush then makes its 100,000 events within a few loop turns, so
# the reader is stopped long enough for its queue to overflow and not so
# long that the control server's 10 s for unread answers cuts it off.
python3 - "$WORK/flood.pcap" <<'EOF2'
import struct, sys
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(100000):
        frame = (b'\xff' * 6 + b'\x02\x01' + struct.pack('>I', i)
                 + b'\x88\xb5' + b'\0' * 46)
        f.write(struct.pack('<IIII', 1, 0, len(frame), len(frame)) + frame)
EOF2
dynamic_macs() {
    "$CTL_BIN" --socket "$WORK/h1.sock" --format=json fdb-stats \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["dynamic_macs"])'
}
vsctl h1 add-port flood0 type=pcap rx="$WORK/flood.pcap" vni=5000
macs_at_least() { [ "$(dynamic_macs)" -ge "$1" ]; }
check "the 100,000 MACs are learned" wait_for 60 macs_at_least 100000
vmon slow h1 fdb
slow=$(pgrep -P "${VMON[slow]}")        # vswitch-ctl, under timeout.
kill -STOP "$slow"
in_ns vm1 ping -c 20 -i 0.1 -w 10 10.94.0.2 >"$WORK/ping.out" 2>&1 &
ping_pid=$!
check "fdb-flush of 100,000 MACs" vsctl h1 fdb-flush 5000
wait $ping_pid
kill -CONT "$slow"
check_eq "forwarding goes on while a monitor stops reading" 20 \
    "$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$WORK/ping.out")"
# An event made after the resume: once the reader has it, it has all.
vsctl h1 fdb-add 5000 02:00:00:94:00:98 tap0
has slow "e['mac'] == '02:00:00:94:00:98'"
vsctl h1 fdb-del 5000 02:00:00:94:00:98
check "the resumed reader is told what it missed" \
    has_now slow "e['kind'] == 'missed'"
missed_ok() {
    python3 - "$WORK/slow.out" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
i = next(i for i, e in enumerate(evs) if e['kind'] == 'missed')
m, before = evs[i], evs[i - 1]
after = evs[i + 1] if i + 1 < len(evs) else None
flushed = sum(e['action'] == 'flushed' for e in evs if e['kind'] == 'fdb')
print(m, before['seq'], after and after['seq'], flushed)
ok = (m['count'] > 0 and m['first_seq'] == before['seq'] + 1
      and m['seq'] - m['first_seq'] + 1 == m['count']
      and (after is None or after['seq'] == m['seq'] + 1)
      and flushed + m['count'] >= 100000)
sys.exit(not ok)
EOF2
}
check "the missed count equals the gap of sequence numbers" missed_ok
vsctl h1 del-port flood0

# At most 16 monitors (root may take them all).
for i in $(seq 7 16); do
    vmon "extra$i" h1 vnis
done
check_exit "a 17th monitor is refused" 1 vsctl h1 monitor vnis
cp "$WORK/err" "$WORK/refused"
check "the refusal says why" grep -q "16 monitors are running" \
    "$WORK/refused"
for i in $(seq 7 16); do
    stop_child "${VMON[extra$i]}" 5
done

# --format=table: one line of words per event.
# (--foreground: see in_background in lib.sh.)
timeout --foreground --kill-after=5 5 "$CTL_BIN" --socket "$WORK/h1.sock" \
    --format=table monitor --initial vnis >"$WORK/table.out" 2>/dev/null
check "--format=table: seq, time, kind, action, vni=" \
    grep -Eq "^[0-9]+ [0-9]+\.[0-9]{3} vni present vni=5000$" \
    "$WORK/table.out"

# Stopping the daemon ends the monitors cleanly.
stop_vswitchd h1
check "the monitor ends when vswitchd stops" wait_for 10 bash -c \
    "! kill -0 ${VMON[all]} || ps -o stat= -p ${VMON[all]} | grep -q Z"
wait "${VMON[all]}"
check_eq "...with status 0" 0 $?
check "...saying why" grep -q "^monitor ended: vswitchd is stopping" \
    "$WORK/all.err"
finish
