#!/bin/bash
# The flow tables through vswitch-ctl (vswitch-ctl(8), Flows; vswitchd(8),
# FLOW RULES): the default rule; add-flow, mod-flows, del-flows, strict and
# not; add-flows all or nothing, naming the bad line, and from standard
# input; replace-flows twice keeps counters; diff-flows' exit status;
# dump-flows' JSON keys; trace; what survives a restart (permanent rules,
# not timed ones; no rules once all were deleted; the default rule for a
# configuration that never had rules); the bound on rules; a file of
# 65,536 rules in one command and the latency of add-flow beside them;
# rules naming ports that do not exist; garbage on the socket.  Traffic
# comes from pcap ports replaying a capture into the switch.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

MAC1=02:00:00:00:00:01
MAC2=02:00:00:00:00:02

# write_pcap FILE: three TCP frames to port 22 and two UDP frames to port
# 53, from MAC1/10.0.0.1 to MAC2/10.0.0.2.
write_pcap() {
    python3 - "$1" <<'EOF'
import struct, sys

def frame(proto, dport):
    eth = bytes.fromhex('020000000002' '020000000001' '0800')
    l4 = (struct.pack('!HHIIHHHH', 40000, dport, 1, 0, 0x5002, 65535, 0, 0)
          if proto == 6 else struct.pack('!HHHH', 40000, dport, 8, 0))
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 0, 0, 64, proto,
                     0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    data = eth + ip + l4
    return data + bytes(max(0, 60 - len(data)))

with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for p, d in [(6, 22)] * 3 + [(17, 53)] * 2:
        data = frame(p, d)
        f.write(struct.pack('<IIII', 0, 0, len(data), len(data)) + data)
EOF
}

# flows HOST: the rules of HOST, one a line, without the counters and
# ages that change between two dumps.
flows() {
    vsctl "$1" dump-flows | sed -e 's/duration=[0-9.]*s, //' \
                                -e 's/idle_age=[0-9]*, //'
}

# n_packets HOST MATCH: the packets counted by the rule whose match is
# MATCH.
n_packets() {
    vsctl "$1" --format=json dump-flows \
        | json "[r['n_packets'] for r in j['flows'] if r['match'] == '$2']"
}

restart() {
    stop_vswitchd "$1"
    start_vswitchd "$1"
}

make_ns h1
start_vswitchd h1 || fail "vswitchd on h1"
mkdir -p "$WORK/pcap"
write_pcap "$WORK/pcap/in.pcap"
vsctl h1 add-vni 5000
vsctl h1 add-port cap0 type=pcap tx=cap0.pcap vni=5000
vsctl h1 add-port cap1 type=pcap tx=cap1.pcap vni=5000

# The default rule of a new bridge.
check_eq "a new switch has the default rule alone" \
    " cookie=0x0, table=0, n_packets=0, n_bytes=0, priority=0 actions=normal" \
    "$(flows h1)"

# add, mod, del.
ACL="priority=100,tcp,in_port=cap0,tp_dst=22"
check "add-flow of an ACL rule" vsctl h1 add-flow "$ACL,actions=drop"
check_eq "dump-flows prints it first, by priority, naming the port" \
    " cookie=0x0, table=0, n_packets=0, n_bytes=0, $ACL actions=drop" \
    "$(flows h1 | head -1)"
check "mod-flows --strict with another priority" \
    vsctl h1 mod-flows --strict "priority=99,tcp,in_port=cap0,tp_dst=22,actions=normal"
check_eq "changes nothing" "$ACL actions=drop" \
    "$(flows h1 | head -1 | sed 's/.*n_bytes=0, //')"
check "mod-flows (not strict) of every TCP rule" \
    vsctl h1 mod-flows "tcp,actions=output:cap1"
check_eq "gives the ACL rule the new actions" "$ACL actions=output:cap1" \
    "$(flows h1 | head -1 | sed 's/.*n_bytes=0, //')"
check_eq "and leaves the default rule alone" "priority=0 actions=normal" \
    "$(flows h1 | tail -1 | sed 's/.*n_bytes=0, //')"
check "del-flows --strict of a rule that is not there" \
    vsctl h1 del-flows --strict "priority=100,tcp,in_port=cap0"
check_eq "deletes nothing" 2 "$(flows h1 | wc -l)"
check "del-flows --strict of the ACL rule" vsctl h1 del-flows --strict "$ACL"
check_eq "leaves the default rule" "priority=0 actions=normal" \
    "$(flows h1 | sed 's/.*n_bytes=0, //')"
vsctl h1 add-flow "priority=10,udp,actions=normal"
vsctl h1 add-flow "priority=11,udp,tp_dst=53,actions=normal"
check "del-flows (not strict) of udp" vsctl h1 del-flows "udp"
check_eq "deletes both UDP rules" "priority=0 actions=normal" \
    "$(flows h1 | sed 's/.*n_bytes=0, //')"

# add-flows: all or nothing.
before=$(flows h1)
printf '# a comment\npriority=5,ip,actions=normal\npriority=6,ip,nw_dst=10.0.0.2,no_such_field=1,actions=drop\npriority=7,arp,actions=normal\n' \
    >"$WORK/bad.flows"
check_exit "add-flows with a bad line 3 fails" 1 \
    vsctl h1 add-flows "$WORK/bad.flows"
cp "$WORK/err" "$WORK/error"
check "the error names line 3" grep -q "line 3: .*no_such_field" \
    "$WORK/error"
check_eq "and nothing changed" "$before" "$(flows h1)"
printf '# rules\n\npriority=5,ip,actions=normal\n  # indented comment\npriority=7,arp,actions=normal\n' \
    | vsctl h1 add-flows - >"$WORK/out" 2>&1
check_eq "add-flows - reads standard input" \
    "priority=7,arp actions=normal
priority=5,ip actions=normal
priority=0 actions=normal" "$(flows h1 | sed 's/.*n_bytes=0, //')"

# replace-flows twice; counters of unchanged rules survive.
cat >"$WORK/tables.flows" <<EOF
priority=100,tcp,in_port=cap0,tp_dst=22,actions=drop
priority=50,udp,actions=output:cap1
table=0,priority=0,actions=normal
EOF
check "replace-flows" vsctl h1 replace-flows "$WORK/tables.flows"
check_eq "makes the tables equal to the file" \
    "$ACL actions=drop
priority=50,udp actions=output:cap1
priority=0 actions=normal" "$(flows h1 | sed 's/.*n_bytes=[0-9]*, //')"
vsctl h1 set-port cap0 rx=in.pcap
for i in $(seq 50); do
    [ "$(n_packets h1 "$ACL")" = "[3]" ] && break
    sleep 0.1
done
acl_packets=$(n_packets h1 "$ACL")
check_eq "traffic replayed from a capture is counted by the ACL rule" \
    "[3]" "$acl_packets"
udp_packets=$(n_packets h1 "priority=50,udp")
check_eq "and by the UDP rule" "[2]" "$udp_packets"
vsctl h1 --format=json replace-flows "$WORK/tables.flows" >"$WORK/replace.json"
check_eq "replace-flows again changes nothing" "0 0 0" \
    "$(json '"%d %d %d" % (j["added"], j["modified"], j["deleted"])' <"$WORK/replace.json")"
check_eq "and the ACL rule keeps its counters" "$acl_packets" \
    "$(n_packets h1 "$ACL")"
check_eq "and so does the UDP rule" "[2]" "$(n_packets h1 "priority=50,udp")"

# diff-flows.
check_exit "diff-flows of the tables' own file exits 0" 0 \
    vsctl h1 diff-flows "$WORK/tables.flows"
check_eq "and prints nothing" "" "$(cat "$WORK/out")"
vsctl h1 add-flow "priority=20,arp,actions=flood"
vsctl h1 diff-flows "$WORK/tables.flows" >"$WORK/diff.out"
check_eq "diff-flows exits 1 when they differ" 1 "$?"
check_eq "printing the rule the file lacks" \
    "-table=0,priority=20,arp actions=flood" "$(cat "$WORK/diff.out")"
vsctl h1 del-flows --strict "priority=20,arp"

# JSON.
vsctl h1 --format=json dump-flows >"$WORK/dump.json"
check_eq "dump-flows JSON: one object per rule with stable keys" \
    "['actions', 'cookie', 'duration', 'hard_timeout', 'idle_age', 'idle_timeout', 'match', 'n_bytes', 'n_packets', 'priority', 'table']" \
    "$(json 'sorted(set(k for r in j["flows"] for k in r))' <"$WORK/dump.json")"
check_eq "sorted by table then priority" "[100, 50, 0]" \
    "$(json '[r["priority"] for r in j["flows"]]' <"$WORK/dump.json")"

# trace.
vsctl h1 --format=json trace \
    "in_port=cap0,tcp,dl_src=$MAC1,dl_dst=$MAC2,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=22" \
    >"$WORK/trace.json"
check_eq "trace of SSH from cap0: the ACL rule, dropped as flow_drop" \
    "['priority=100,tcp,in_port=cap0,tp_dst=22'] [] flow_drop" \
    "$(json '"%s %s %s" % ([t["rule"] for t in j["tables"]], j["outputs"], j["drop"])' <"$WORK/trace.json")"
vsctl h1 --format=json trace --pcap "$WORK/pcap/in.pcap" --frame 4 \
    in_port=cap0 >"$WORK/trace.json"
check_eq "trace of frame 4 of the capture (UDP): output to cap1" \
    "[{'port': 'cap1'}] None" \
    "$(json '"%s %s" % (j["outputs"], j["drop"])' <"$WORK/trace.json")"
vsctl h1 trace "in_port=cap0,udp,dl_src=$MAC1" >"$WORK/trace.txt"
check "trace prints the table and the result for people" \
    grep -q "^Result: forwarded" "$WORK/trace.txt"
check_eq "trace counted nothing" "[2]" "$(n_packets h1 "priority=50,udp")"

# Bad input.
check_exit "an unknown field is refused" 1 \
    vsctl h1 add-flow "priority=1,no_such_field=1,actions=drop"
cp "$WORK/err" "$WORK/error"
check "with a message naming it" grep -q "no_such_field" "$WORK/error"
check_exit "mod-flows without a flow is a usage error" 2 vsctl h1 mod-flows
check_exit "an unknown option of del-flows is a usage error" 2 \
    vsctl h1 del-flows --loose "udp"
check "a rule naming a port that does not exist is kept" \
    vsctl h1 add-flow "priority=30,in_port=later0,actions=output:later1"
check_eq "and printed by name" "priority=30,in_port=later0 actions=output:later1" \
    "$(flows h1 | grep later0 | sed 's/.*n_bytes=0, //')"
vsctl h1 add-port later1 type=pcap tx=later1.pcap
vsctl h1 add-port later0 type=pcap tx=later0.pcap vni=5000
check_eq "a port added later takes the rule" \
    "[{'table': 0, 'rule': 'priority=30,in_port=later0'}] [{'port': 'later1'}]" \
    "$(vsctl h1 --format=json trace "in_port=later0,dl_src=$MAC1" \
       | json '"%s %s" % ([{"table": t["table"], "rule": t["rule"]} for t in j["tables"]], j["outputs"])')"

# The files of the saved rules are the daemon's own: no capture, also
# where none is yet.
check_exit "a pcap port may not write where the rules' snapshot is made" 1 \
    vsctl h1 add-port bad0 type=pcap tx="$WORK/h1.db.flows.tmp"
cp "$WORK/err" "$WORK/error"
check "saying it is the daemon's own file" grep -q "own" "$WORK/error"
check_exit "nor into their journal" 1 \
    vsctl h1 add-port bad0 type=pcap tx="$WORK/h1.db.flows.log"

# Garbage on the socket changes nothing.
before=$(flows h1)
python3 - "$WORK/h1.sock" <<'EOF'
import os, socket, sys
for blob in [os.urandom(64), b'\x00\x00\x00\x10' + os.urandom(16),
             b'\x00\x00\x00\x05\x08\x01\xf2\x01\xff']:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(blob)
    s.settimeout(2)
    try:
        s.recv(4096)
    except OSError:
        pass
    s.close()
EOF
check_eq "a client sending garbage changes no rule" "$before" "$(flows h1)"

# Restarts.
vsctl h1 add-flow "priority=40,idle_timeout=300,icmp,actions=drop"
vsctl h1 add-flow "priority=41,hard_timeout=300,icmp,actions=drop"
# Counters are not saved.
no_counters() { sed 's/n_packets=[0-9]*, n_bytes=[0-9]*, //'; }
before=$(flows h1 | grep -v timeout | no_counters)
restart h1
check_eq "a restart keeps the rules with no timeout" "$before" \
    "$(flows h1 | no_counters)"
check_eq "and not the timed ones" "" "$(flows h1 | grep timeout)"
check "del-flows of every rule" vsctl h1 del-flows
check_eq "leaves none" "" "$(flows h1)"
restart h1
check_eq "and a restart then starts with none" "" "$(flows h1)"

# A configuration from before flow rules (none ever written) starts with
# the default rule, and so does a new one.
make_ns h2
start_vswitchd h2 || fail "vswitchd on h2"
vsctl h2 add-vni 6000
restart h2
check_eq "a configuration without rules written starts with the default" \
    " cookie=0x0, table=0, n_packets=0, n_bytes=0, priority=0 actions=normal" \
    "$(flows h2)"
check "and no flow files" test ! -e "$WORK/h2.db.flows.log"

# The bound.
stop_vswitchd h2
rm -f "$WORK/h2.db"
in_ns h2 "$VSWITCHD" --socket "$WORK/h2.sock" --db "$WORK/h2.db" \
    --pidfile="$WORK/h2.pid" --log-file="$WORK/h2.log" --detach \
    --max-flows 3 || fail "vswitchd --max-flows 3"
vsctl h2 add-flow "priority=1,udp,actions=drop"
vsctl h2 add-flow "priority=2,udp,actions=drop"
check_exit "a fourth rule over --max-flows 3 fails" 1 \
    vsctl h2 add-flow "priority=3,udp,actions=drop"
check_eq "saying so" "vswitch-ctl: flow table full (3 rules)" \
    "$(cat "$WORK/err")"
check "replacing a rule at the bound is no new rule" \
    vsctl h2 add-flow "priority=2,udp,actions=normal"
check_eq "three rules" 3 "$(flows h2 | wc -l)"
stop_vswitchd h2

# 65,536 rules in one command, and add-flow beside them, as fast as
# beside none: saving a change appends it to a journal.

# change_latency HOST: the mean time of 20 add-flow and 20 del-flows, in
# microseconds.
change_latency() {
    local start i
    start=$(date +%s%N)
    for i in $(seq 1 20); do
        vsctl "$1" add-flow "priority=65002,tcp,tp_dst=$i,actions=drop" \
            || fail "add-flow $i"
        vsctl "$1" del-flows --strict "priority=65002,tcp,tp_dst=$i"
    done
    echo $((($(date +%s%N) - start) / 40000))
}

echo "# add-flow or del-flows beside no rule:" \
     "$(change_latency h1) us per command (client included)"
python3 -c '
for i in range(65535):
    print("priority=%d,udp,nw_dst=10.%d.%d.0/24,tp_dst=%d,actions=output:cap1"
          % (i % 60000 + 1, i // 256 % 256, i % 256, i % 65535 + 1))
print("table=0,priority=0,actions=normal")' >"$WORK/big.flows"
start=$(date +%s%N)
check "add-flows of a file of 65536 rules, in one command" \
    "$CTL_BIN" --socket "$WORK/h1.sock" --timeout 60 add-flows \
    "$WORK/big.flows"
echo "# add-flows of 65536 rules: $((($(date +%s%N) - start) / 1000000)) ms"
check_eq "holds them all" 65536 "$(vsctl h1 dump-flows | wc -l)"
check_exit "one more is over the default bound" 1 \
    vsctl h1 add-flow "priority=65000,tcp,actions=drop"
check_eq "saying so" "vswitch-ctl: flow table full (65536 rules)" \
    "$(cat "$WORK/err")"
vsctl h1 del-flows --strict "priority=0"
# The first change after the big one may write the snapshot anew.
vsctl h1 add-flow "priority=65001,tcp,actions=drop"
vsctl h1 del-flows --strict "priority=65001,tcp"
echo "# add-flow or del-flows beside 65535 rules:" \
     "$(change_latency h1) us per command (client included)"
restart h1
check_eq "and all 65535 rules come back after a restart" 65535 \
    "$(vsctl h1 dump-flows | wc -l)"

# Requests over 1 MiB: only from clients that may change the
# configuration, and 4 at a time.
chmod 666 "$WORK/h1.sock"
PUBLIC_CTL=$(public_ctl)
check_exit "a client that may only read cannot send 1 MiB" 1 \
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
    timeout 15 "$PUBLIC_CTL" --socket "$WORK/h1.sock" diff-flows \
    "$WORK/big.flows"
cp "$WORK/err" "$WORK/error"
check "and is told why" grep -q "refused: the limit is 1048576 bytes" \
    "$WORK/error"
python3 - "$WORK/h1.sock" >"$WORK/large.out" <<'EOF'
import socket, struct, sys
socks = []
for i in range(5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(struct.pack('!I', 2 << 20) + b'\x08\x01')
    socks.append(s)
socks[4].settimeout(10)
reply = socks[4].recv(4096)
print('refused' if b'the limit is 1048576 bytes' in reply else 'accepted')
for s in socks[:4]:
    s.settimeout(0.5)
    try:
        print('answered' if s.recv(4096) else 'closed')
    except socket.timeout:
        print('waiting')
EOF
check_eq "a fifth request over 1 MiB at once is refused, the four go on" \
    "refused waiting waiting waiting waiting" "$(echo $(cat "$WORK/large.out"))"
"$CTL_BIN" --socket "$WORK/h1.sock" --timeout 60 diff-flows \
    "$WORK/big.flows" >"$WORK/out"
check_eq "and once they are gone a large one goes through (diff-flows: \
the default rule the file has)" "1 +table=0,priority=0 actions=normal" \
    "$? $(cat "$WORK/out")"

# A bound lowered below the saved rules: as many as fit, and a log that
# does not list them all.
stop_vswitchd h1
in_ns h1 "$VSWITCHD" --socket "$WORK/h1.sock" --db "$WORK/h1.db" \
    --pidfile="$WORK/h1.pid" --log-file="$WORK/h1.log" --detach \
    --max-flows 100 || fail "vswitchd --max-flows 100"
check_eq "a lowered bound replays as many saved rules as it allows" 100 \
    "$(vsctl h1 dump-flows | wc -l)"
check_eq "and logs how many it left out" 1 \
    "$(grep -c '65435 saved rules left out in all' "$WORK/h1.log")"
check_eq "naming the first 10 only" 10 \
    "$(grep -c 'left out: the flow table is full' "$WORK/h1.log")"

finish
