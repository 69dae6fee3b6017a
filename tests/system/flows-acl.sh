#!/bin/bash
# Flow rules with traffic across VXLAN (vswitch-ctl(8), Flows): two hosts
# that flood and learn through a group, as in two-hosts.sh, and on h1 an
# ACL that drops TCP port 22 while ping and TCP port 80 pass, counted in
# dump-flows as the SYNs really sent; trace agrees with what the frames
# really did on the underlay (a learned destination, the ACL, an unknown
# destination, frames out of the tunnel), from a flow and from a frame of
# a capture of vm1's TAP or of the underlay; replace-flows
# run twice with traffic between; a change of the rules applied at once
# to a flow already seen; a restart that keeps the permanent rules (the
# ACL still working) and not the timed ones; and a SIGKILL right after a
# change, which comes back.  flows.sh tests the commands themselves.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

MAC1=02:00:00:97:00:01
MAC2=02:00:00:97:00:02
MAC_NOWHERE=02:00:00:97:00:77
ACL="priority=100,tcp,tp_dst=22"
# Frames from vm1 to vm2, for trace.
FROM_VM1="in_port=tap0,dl_src=$MAC1,dl_dst=$MAC2,nw_src=10.97.0.1"
ICMP_FLOW="$FROM_VM1,icmp,nw_dst=10.97.0.2,icmp_type=8"
SSH_FLOW="$FROM_VM1,tcp,nw_dst=10.97.0.2,tp_dst=22"

make_hosts 2 172.31.241 10.97.0 02:00:00:97:00 group=239.1.1.1

# serve VM: VM serves TCP ports 22 and 80; each connection is told
# "hello" and its port is written to VM's log, one a line.
serve() {
    timeout 300 ip netns exec "$(ns "$1")" python3 -c '
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in (22, 80):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    sel.register(s, selectors.EVENT_READ)
log = open(sys.argv[1], "a", buffering=1)
log.write("ready\n")
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept()
        log.write("%d\n" % key.fileobj.getsockname()[1])
        c.sendall(b"hello\n")
        c.close()
' "$WORK/$1.log" &
    at_exit "kill_child $!"
    wait_for 10 grep -q ready "$WORK/$1.log" || fail "$1's server"
}
serve vm1
serve vm2

# tcp_try PORT [FROM TO]: FROM (vm1) connects to PORT of TO (vm2) and is
# told "hello", within 3 s.
tcp_try() {
    in_ns "${2:-vm1}" python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[2], int(sys.argv[1])), timeout=3)
    sys.exit(s.recv(16) != b"hello\n")
except OSError:
    sys.exit(1)' "$1" "10.97.0.${3:-2}"
}
# accepted PORT [VM]: how many connections VM's (vm2's) server took on PORT.
accepted() {
    grep -c "^$1\$" "$WORK/${2:-vm2}.log"
}

check "vm1 pings vm2 across VXLAN" in_ns vm1 ping -c 2 -W 2 10.97.0.2
check "TCP port 22 passes without the ACL" tcp_try 22
check "and so does port 80" tcp_try 80

check "add-flow of the ACL on h1" vsctl h1 add-flow "$ACL,actions=drop"
start_capture underlay h1 eth0 "$WORK/underlay.pcap" udp port 4789
start_capture tap vm1 tap0 "$WORK/tap.pcap"

ATTEMPTS=3
for i in $(seq $ATTEMPTS); do
    tcp_try 22 && fail "TCP port 22 connection $i passed the ACL"
done
check "TCP port 80 passes beside the ACL" tcp_try 80
check "and a second time" tcp_try 80
check "ping passes beside the ACL" in_ns vm1 ping -c 3 -i 0.2 -W 2 10.97.0.2
check_eq "vm2 took one connection on port 22 (before the ACL)" 1 \
    "$(accepted 22)"
check_eq "and three on port 80" 3 "$(accepted 80)"

# An unknown destination: a frame to a MAC no one has.
in_ns vm1 ip neigh replace 10.97.0.77 lladdr $MAC_NOWHERE dev tap0 \
    nud permanent
in_ns vm1 ping -c 1 -W 1 10.97.0.77 >/dev/null
stop_capture tap
stop_capture underlay

# The ACL's counters are the SYNs vm1 really sent to port 22.
syns=$(tshark -r "$WORK/tap.pcap" -Y 'tcp.dstport == 22 && tcp.flags.syn == 1' \
           -T fields -e frame.len 2>/dev/null)
n_syns=$(echo "$syns" | grep -c .)
syn_bytes=$(echo "$syns" | awk '{ n += $1 } END { print n + 0 }')
if [ "$n_syns" -ge $ATTEMPTS ]; then
    pass "vm1 sent $n_syns SYNs to port 22 in $ATTEMPTS attempts"
else
    fail "vm1 sent $n_syns SYNs to port 22 in $ATTEMPTS attempts"
fi
check_eq "the ACL counted every SYN" "$n_syns" \
    "$(flow_stat h1 "$ACL" n_packets)"
check_eq "and their bytes" "$syn_bytes" "$(flow_stat h1 "$ACL" n_bytes)"
check_eq "no frame to port 22 reached the underlay" "" \
    "$(vxlan_result "$WORK/underlay.pcap" 'tcp.dstport == 22')"

# trace against what happened.
check_eq "trace of TCP port 22 from vm1: dropped by the ACL" " drop flow_drop" \
    "$(trace_result h1 "$SSH_FLOW")"
check_eq "trace of vm1's ping once learned: to h2's VTEP in VNI 5000" \
    "remote 172.31.241.2 vni 5000" "$(trace_result h1 "$ICMP_FLOW")"
check_eq "where the echo requests really went" \
    "$(trace_result h1 "$ICMP_FLOW")" \
    "$(vxlan_result "$WORK/underlay.pcap" "icmp.type == 8 && eth.dst == $MAC2")"
check_eq "trace of TCP port 80: to h2's VTEP too" \
    "remote 172.31.241.2 vni 5000" \
    "$(trace_result h1 "${SSH_FLOW/tp_dst=22/tp_dst=80}")"
check_eq "where the SYNs to port 80 really went" \
    "$(trace_result h1 "${SSH_FLOW/tp_dst=22/tp_dst=80}")" \
    "$(vxlan_result "$WORK/underlay.pcap" \
           'tcp.dstport == 80 && tcp.flags.syn == 1 && tcp.flags.ack == 0')"
NOWHERE_FLOW="${ICMP_FLOW/dl_dst=$MAC2/dl_dst=$MAC_NOWHERE}"
NOWHERE_FLOW="${NOWHERE_FLOW/nw_dst=10.97.0.2/nw_dst=10.97.0.77}"
check_eq "trace to an unknown MAC: flooded to the group" \
    "remote 239.1.1.1 vni 5000" "$(trace_result h1 "$NOWHERE_FLOW")"
check_eq "where that frame really went" \
    "$(trace_result h1 "$NOWHERE_FLOW")" \
    "$(vxlan_result "$WORK/underlay.pcap" "eth.dst == $MAC_NOWHERE")"
vsctl h1 --format=json trace "$NOWHERE_FLOW" >"$WORK/trace.json"
check_eq "saying that normal found the destination unknown" True \
    "$(json "any('flood' in n for t in j['tables'] for n in t['notes'])" \
           <"$WORK/trace.json")"
check_eq "trace counted nothing" "$n_syns" "$(flow_stat h1 "$ACL" n_packets)"

# trace --pcap of frames from vm1's capture gives the flow form's answer:
# the same tables, rules, actions, outputs and drop.
trace_json() {
    vsctl h1 --format=json trace "$@" \
        | json '([(t["table"], t["rule"], t["actions"]) for t in j["tables"]],
                 j["outputs"], j["drop"])'
}
# check_trace_frame WHAT FILE PORT FILTER FLOW: the first frame of the
# capture FILE that FILTER selects, arriving on PORT, traces as FLOW does.
check_trace_frame() {
    local frame want got
    frame=$(tshark -r "$2" -Y "$4" -T fields -e frame.number 2>/dev/null \
                | head -1)
    want=$(trace_json "$5")
    got=$(trace_json --pcap "$2" --frame "$frame" in_port="$3")
    if [ -n "$want" ] && [ "$want" = "$got" ]; then
        pass "trace of $1 (frame $frame of a capture) = the flow form: $got"
    else
        fail "trace of $1 (frame '$frame'): '$got', the flow form '$want'"
    fi
}
check_trace_frame "an echo request" "$WORK/tap.pcap" tap0 'icmp.type == 8' \
    "$ICMP_FLOW"
check_trace_frame "a SYN to port 22" "$WORK/tap.pcap" tap0 \
    'tcp.dstport == 22' "$SSH_FLOW"

# A change of the rules applies at once to a flow the switch has seen
# (the exact-match cache in front of the tables forgets it): vm1's pings,
# which the default rule carried, stop under a new drop rule, which counts
# exactly the requests; they pass again once mod-flows changes its actions,
# and stop again when it is added back as a drop.
STOP="priority=300,icmp,in_port=tap0"
check "vm1 pings vm2 (the flow is known)" \
    in_ns vm1 ping -c 3 -i 0.2 -W 2 10.97.0.2
check "add-flow of a rule dropping vm1's ICMP" \
    vsctl h1 add-flow "$STOP,actions=drop"
check "vm1's pings stop at once" \
    bash -c "! timeout 60 ip netns exec $(ns vm1) \
                 ping -c 3 -i 0.2 -W 1 10.97.0.2"
check_eq "the drop rule counted the 3 requests" 3 \
    "$(flow_stat h1 "$STOP" n_packets)"
check "mod-flows gives it normal" \
    vsctl h1 mod-flows --strict "$STOP,actions=normal"
check "vm1's pings pass at once" \
    in_ns vm1 ping -c 3 -i 0.2 -W 2 10.97.0.2
check_eq "through the modified rule" 6 "$(flow_stat h1 "$STOP" n_packets)"
check "del-flows of it" vsctl h1 del-flows --strict "$STOP"
check "vm1's pings still pass" in_ns vm1 ping -c 2 -i 0.2 -W 2 10.97.0.2

# The ACL (no in_port) drops what comes out of the tunnel too: vm2's SYNs
# to vm1's port 22 cross the underlay and stop at h1.
before=$(flow_stat h1 "$ACL" n_packets)
before_bytes=$(flow_stat h1 "$ACL" n_bytes)
start_capture back h1 eth0 "$WORK/back.pcap" udp port 4789
tcp_try 22 vm2 1 && fail "vm2 reached vm1's port 22 through h1's ACL"
check "vm2 reaches vm1's port 80" tcp_try 80 vm2 1
stop_capture back
# The inner frames: 50 bytes of outer Ethernet, IPv4, UDP and VXLAN less.
tshark -r "$WORK/back.pcap" -T fields -e frame.len 2>/dev/null \
    -Y 'vxlan && tcp.dstport == 22 && tcp.flags.syn == 1' >"$WORK/back.txt"
n=$(wc -l <"$WORK/back.txt")
inner_bytes=$(awk '{ n += $1 - 50 } END { print n + 0 }' "$WORK/back.txt")
if [ "$n" -ge 1 ]; then
    pass "vm2's SYNs to port 22 reached h1 ($n)"
else
    fail "no SYN from vm2 to port 22 reached h1"
fi
check_eq "the ACL counted every one as it came out of the tunnel" \
    $((before + n)) "$(flow_stat h1 "$ACL" n_packets)"
check_eq "and their inner bytes" $((before_bytes + inner_bytes)) \
    "$(flow_stat h1 "$ACL" n_bytes)"
check_eq "vm1 took no connection on port 22" 0 "$(accepted 22 vm1)"
DECAP_FLOW="in_port=vtep0,tun_id=5000,tun_src=172.31.241.2,tun_dst=172.31.241.1"
DECAP_FLOW="$DECAP_FLOW,tcp,dl_src=$MAC2,dl_dst=$MAC1,nw_src=10.97.0.2"
DECAP_FLOW="$DECAP_FLOW,nw_dst=10.97.0.1"
check_eq "trace of a decapsulated SYN to port 22: dropped by the ACL" \
    " drop flow_drop" "$(trace_result h1 "$DECAP_FLOW,tp_dst=22")"
check_eq "trace of one to port 80: to vm1's port" "port tap0" \
    "$(trace_result h1 "$DECAP_FLOW,tp_dst=80")"
# The same from the frames of the underlay capture, as they came to vtep0.
check_trace_frame "vm2's SYN to port 22 from the underlay" \
    "$WORK/back.pcap" vtep0 'vxlan && tcp.dstport == 22' \
    "$DECAP_FLOW,tp_dst=22"
# A rule on the outer source and the VNI: the frame of the capture gets
# them from its outer headers.
TUN_RULE="priority=150,tcp,tun_id=0x1388,tun_src=172.31.241.2,tp_dst=80"
vsctl h1 add-flow "$TUN_RULE,actions=output:tap0"
check_eq "trace of a decapsulated SYN to port 80 by the rule on tun_src" \
    "$TUN_RULE" \
    "$(vsctl h1 --format=json trace "$DECAP_FLOW,tp_dst=80" \
       | json 'j["tables"][0]["rule"]')"
check_trace_frame "vm2's SYN to port 80 from the underlay" \
    "$WORK/back.pcap" vtep0 'vxlan && tcp.dstport == 80' \
    "$DECAP_FLOW,tp_dst=80"
vsctl h1 del-flows --strict "$TUN_RULE"

# replace-flows twice, with traffic between: the second run changes
# nothing and the ACL keeps its counters and its age.
cat >"$WORK/rules.flows" <<EOF
$ACL,actions=drop
priority=90,tcp,tp_dst=23,actions=drop
priority=0,actions=normal
EOF
acl_packets=$(flow_stat h1 "$ACL" n_packets)
acl_age=$(flow_stat h1 "$ACL" duration)
vsctl h1 --format=json replace-flows "$WORK/rules.flows" >"$WORK/replace.json"
check_eq "replace-flows adds the one new rule" "1 0 0" \
    "$(json '"%d %d %d" % (j["added"], j["modified"], j["deleted"])' \
           <"$WORK/replace.json")"
check_eq "and leaves the ACL's counters alone" "$acl_packets" \
    "$(flow_stat h1 "$ACL" n_packets)"
tcp_try 22 && fail "TCP port 22 passed the ACL after replace-flows"
check "TCP port 80 passes after replace-flows" tcp_try 80
acl_packets=$(flow_stat h1 "$ACL" n_packets)
if [ "$acl_packets" -gt "$n_syns" ]; then
    pass "the ACL still counts ($acl_packets packets)"
else
    fail "the ACL counted no new SYN ($acl_packets packets)"
fi
vsctl h1 --format=json replace-flows "$WORK/rules.flows" >"$WORK/replace.json"
check_eq "replace-flows again changes nothing" "0 0 0" \
    "$(json '"%d %d %d" % (j["added"], j["modified"], j["deleted"])' \
           <"$WORK/replace.json")"
check_exit "diff-flows of the file exits 0 after it" 0 \
    vsctl h1 diff-flows "$WORK/rules.flows"
check_eq "the ACL keeps its packets" "$acl_packets" \
    "$(flow_stat h1 "$ACL" n_packets)"
check_eq "and its age" True \
    "$(python3 -c "print($(flow_stat h1 "$ACL" duration) > $acl_age)")"

# A restart keeps the permanent rules, not the timed ones.
vsctl h1 add-flow "priority=60,hard_timeout=300,udp,actions=drop"
vsctl h1 add-flow "priority=61,idle_timeout=300,udp,actions=drop"
matches() {
    vsctl h1 --format=json dump-flows \
        | json '" ".join(r["match"] + ":" + r["actions"] for r in j["flows"])'
}
check_eq "h1 has 5 rules before the restart, 2 of them timed" \
    "$ACL:drop priority=90,tcp,tp_dst=23:drop priority=61,udp:drop \
priority=60,udp:drop priority=0:normal" "$(matches)"
stop_vswitchd h1
check "vswitchd on h1 restarts" start_vswitchd h1
check_eq "with the permanent rules" \
    "$ACL:drop priority=90,tcp,tp_dst=23:drop priority=0:normal" "$(matches)"
tap_up() {
    [ "$(vsctl h1 --format=json list-ports \
         | json "[p['state'] for p in j['ports'] if p['name'] == 'tap0'][0]")" \
      = up ]
}
# acl_works WHEN: once tap0 is up again, vm1 pings vm2, reaches its port
# 80 but not its port 22, which the ACL counts.
acl_works() {
    local n
    wait_for 20 tap_up || fail "tap0 on h1 is not up $1"
    check "vm1 pings vm2 $1" in_ns vm1 ping -c 3 -i 0.2 -W 2 10.97.0.2
    check "TCP port 80 passes $1" tcp_try 80
    tcp_try 22 && fail "TCP port 22 passed the ACL $1"
    n=$(flow_stat h1 "$ACL" n_packets)
    if [ "${n:-0}" -ge 1 ]; then
        pass "the ACL drops port 22 $1 ($n packets)"
    else
        fail "the ACL counted nothing $1 ('$n' packets)"
    fi
    check_eq "vm2 took no connection on port 22 since the ACL" 1 \
        "$(accepted 22)"
}
acl_works "after the restart"

# A crash right after a change: what add-flow acknowledged comes back.
check "add-flow of one more rule" \
    vsctl h1 add-flow "priority=95,tcp,tp_dst=8080,actions=drop"
pid=$(cat "$WORK/h1.pid")
kill -9 "$pid"
wait_for 10 bash -c "! kill -0 $pid 2>/dev/null"
check "vswitchd on h1 restarts after SIGKILL" start_vswitchd h1
check_eq "with every permanent rule, the last one too" \
    "$ACL:drop priority=95,tcp,tp_dst=8080:drop priority=90,tcp,tp_dst=23:drop \
priority=0:normal" "$(matches)"
acl_works "after SIGKILL"

stop_vswitchd h1
stop_vswitchd h2
finish
