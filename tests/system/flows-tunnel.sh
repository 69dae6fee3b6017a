#!/bin/bash
# Tunnels made of flow rules (vswitch-ctl(8), FLOW SYNTAX, Actions) between
# three hosts: VNI 5000 has no group and no flood list anywhere, and the
# VMs have static ARP entries, so nothing is flooded and h1 learns
# nothing.  On h1 rules send what vm1 sends to h2's or h3's VTEP
# (set_field:...->tun_dst, set_tunnel, output:vtep0), or into VNI 6000
# that only h2 has, and one gives vm1 what comes from the tunnel; trace
# agrees with the underlay each time.  h2 and h3 decapsulate into their
# learning switch (normal); h2's rules match the outer addresses and VNI;
# h2 mirrors its TAP port into a pcap port that tshark reads back.  Last,
# a rule with idle_timeout=2 stays while traffic matches it (traced or
# not) and goes once it stops, and one with hard_timeout=3 goes while it
# does.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

MAC1=02:00:00:96:00:01
MAC2=02:00:00:96:00:02
TUNNEL="priority=100,in_port=tap0"
TUNNEL_ACTIONS="set_field:172.31.242.2->tun_dst,set_tunnel:5000,output:vtep0"
FROM_TUNNEL="priority=100,in_port=vtep0"

MAC3=02:00:00:96:00:03

make_hosts 3 172.31.242 10.96.0 02:00:00:96:00
for i in 2 3; do
    in_ns vm1 ip neigh replace "10.96.0.$i" lladdr "02:00:00:96:00:0$i" \
        dev tap0 nud permanent
    in_ns "vm$i" ip neigh replace 10.96.0.1 lladdr $MAC1 dev tap0 \
        nud permanent
done

# fdb HOST: HOST's MAC table for VNI 5000, "MAC@WHERE" sorted.
fdb() {
    vsctl "$1" --format=json fdb-show 5000 \
        | json "' '.join(sorted('%s@%s' % (e['mac'], e['remote'] or e['port'])
                                for e in j['entries']))"
}

# ping_across IP MAC HOST VNI COUNT: trace says that vm1's frames for IP
# (at MAC) go to the VTEP of HOST (a number) in VNI; vm1 pings IP COUNT
# times; the echo requests really crossed the underlay so, all COUNT of
# them, and nothing went to a group.
ping_across() {
    local ip=$1 mac=$2 host=$3 vni=$4 count=$5 file="$WORK/to-$1.pcap"
    local want="remote 172.31.242.$host vni $vni"
    local flow="in_port=tap0,icmp,dl_src=$MAC1,dl_dst=$mac,nw_dst=$ip"
    check_eq "trace: vm1's frames for $ip go to h$host's VTEP in VNI $vni" \
        "$want" "$(trace_result h1 "$flow")"
    start_capture "$ip" h1 eth0 "$file" udp port 4789
    check "vm1 pings $ip through the rules" \
        in_ns vm1 ping -c "$count" -i 0.2 -W 2 "$ip"
    stop_capture "$ip"
    check_eq "the echo requests crossed so, as trace said" "$want" \
        "$(vxlan_result "$file" 'icmp.type == 8')"
    check_eq "all $count of them, and nothing went to a group" "$count 0" \
        "$(tshark -r "$file" -Y 'vxlan && icmp.type == 8' 2>/dev/null \
           | wc -l) $(tshark -r "$file" -Y 'ip.dst == 224.0.0.0/4' \
                          2>/dev/null | wc -l)"
}

check "without a flood target, vm1 does not reach vm2" \
    bash -c "! timeout 60 ip netns exec $(ns vm1) ping -c 2 -W 1 10.96.0.2"

check "add-flow of the tunnel on h1" \
    vsctl h1 add-flow "$TUNNEL,actions=$TUNNEL_ACTIONS"
check "add-flow of the way back on h1" \
    vsctl h1 add-flow "$FROM_TUNNEL,actions=output:tap0"
# Forget what normal learned before the rules came.
vsctl h1 fdb-flush 5000 >/dev/null
ping_across 10.96.0.2 $MAC2 2 5000 4
check_eq "the tunnel rule counted every frame from vm1" True \
    "$(python3 -c "print($(flow_stat h1 "$TUNNEL" n_packets) >= 4)")"
check_eq "h2 learned vm1 behind h1's VTEP, from the decapsulated frames" \
    "$MAC1@172.31.242.1 $MAC2@tap0" "$(fdb h2)"

# A third host: a rule for vm3's MAC picks h3's VTEP.
TO_VM3="priority=120,in_port=tap0,dl_dst=$MAC3"
check "add-flow of a tunnel to h3 for vm3" vsctl h1 add-flow \
    "$TO_VM3,actions=${TUNNEL_ACTIONS/172.31.242.2/172.31.242.3}"
ping_across 10.96.0.3 $MAC3 3 5000 3
check_eq "h3 learned vm1 behind h1's VTEP" "$MAC1@172.31.242.1 $MAC3@tap0" \
    "$(fdb h3)"
check_eq "h1 learned nothing: neither vm2, vm3 nor vm1" "" "$(fdb h1)"

# h2's rules see the outer addresses and the VNI of what came out of the
# tunnel: a rule that drops vm1's ICMP by them catches the 2 requests of
# 2 pings when they agree, none when one differs.
# outcome RC: "passes" or "fails", as a ping's exit status RC says.
outcome() {
    [ "$1" = 0 ] && echo passes || echo fails
}
for m in "tun_src=172.31.242.0/24,tun_dst=172.31.242.2,tun_id=5000:2" \
         "tun_src=172.31.242.9:0" "tun_dst=172.31.242.1:0" "tun_id=5001:0"; do
    match=${m%:*} want=${m##*:}
    vsctl h2 add-flow "priority=300,icmp,in_port=vtep0,$match,actions=drop"
    in_ns vm1 ping -c 2 -i 0.2 -W 1 10.96.0.2 >/dev/null
    got="$(outcome $?) $(vsctl h2 --format=json dump-flows \
        | json "[r['n_packets'] for r in j['flows'] if r['priority'] == 300]")"
    check_eq "a rule on h2 with $match catches $want of 2 requests" \
        "$(outcome "$want") [$want]" "$got"
    vsctl h2 del-flows --strict "priority=300,icmp,in_port=vtep0,$match"
done

# Another VNI that only the rules know on h1: frames for vm4, in VNI
# 6000 on h2, cross with set_tunnel:6000; h1 has no VNI 6000 at all.
vsctl h2 add-vni 6000
make_ns vm4
in_ns vm4 sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
make_vm_tap vm4 h2 tap1 6000 10.96.0.4/24 02:00:00:96:00:04 || fail "vm4"
in_ns vm1 ip neigh replace 10.96.0.4 lladdr 02:00:00:96:00:04 dev tap0 \
    nud permanent
in_ns vm4 ip neigh replace 10.96.0.1 lladdr $MAC1 dev tap1 nud permanent
TO_VM4="priority=110,ip,in_port=tap0,nw_dst=10.96.0.4"
check "add-flow of a tunnel into VNI 6000 for vm4" vsctl h1 add-flow \
    "$TO_VM4,actions=${TUNNEL_ACTIONS/set_tunnel:5000/set_tunnel:6000}"
ping_across 10.96.0.4 02:00:00:96:00:04 2 6000 3
check_eq "h2 learned vm1 in VNI 6000 behind h1's VTEP" "['172.31.242.1']" \
    "$(vsctl h2 --format=json fdb-show 6000 \
       | json "[e['remote'] for e in j['entries'] if e['mac'] == '$MAC1']")"
check_eq "trace of a frame out of the tunnel on h2: to vm2's port" \
    "port tap0" \
    "$(trace_result h2 "in_port=vtep0,tun_id=5000,tun_src=172.31.242.1,\
tun_dst=172.31.242.2,icmp,dl_src=$MAC1,dl_dst=$MAC2")"
check_eq "h1 still learned nothing" "" "$(fdb h1)"

# A VNI that h2 does not have: trace on h2 says unknown_vni, and so do
# h2's counters for what really came.
in_ns vm1 ip neigh replace 10.96.0.7 lladdr 02:00:00:96:00:07 dev tap0 \
    nud permanent
vsctl h1 add-flow "priority=110,ip,in_port=tap0,nw_dst=10.96.0.7,\
actions=${TUNNEL_ACTIONS/set_tunnel:5000/set_tunnel:7000}"
check_eq "trace on h2 of a frame in VNI 7000: dropped as unknown_vni" \
    " drop unknown_vni" \
    "$(trace_result h2 "in_port=vtep0,tun_id=7000,tun_src=172.31.242.1,\
tun_dst=172.31.242.2,icmp,dl_src=$MAC1,dl_dst=02:00:00:96:00:07")"
# unknown_vni: what h2's VTEP counted so.
unknown_vni() {
    vsctl h2 --format=json list-ports \
        | json "[p['counters']['drops'].get('unknown_vni', 0)
                 for p in j['ports'] if p['name'] == 'vtep0'][0]"
}
before=$(unknown_vni)
in_ns vm1 ping -c 2 -i 0.2 -W 1 10.96.0.7 >/dev/null
check_eq "h2 counted vm1's 2 requests in VNI 7000 as unknown_vni" \
    $((before + 2)) "$(unknown_vni)"
vsctl h1 del-flows --strict "priority=110,ip,in_port=tap0,nw_dst=10.96.0.7"

# A mirror of h2's TAP port into a pcap port: the normal switch and a copy.
check "add a pcap port to mirror into on h2" \
    vsctl h2 add-port cap0 type=pcap tx="$WORK/mirror.pcap"
check "add-flow of the mirror on h2" \
    vsctl h2 add-flow "in_port=tap0,actions=normal,output:cap0"
check "vm2 pings vm1 through the mirror" \
    in_ns vm2 ping -c 5 -i 0.2 -W 2 10.96.0.1
mirrored=$(flow_stat h2 in_port=tap0 n_packets)
check "del-port of the pcap port, which closes its file" \
    vsctl h2 del-port cap0
check_eq "tshark reads vm2's 5 echo requests back from the file" \
    "5 10.96.0.2 10.96.0.1" \
    "$(tshark -r "$WORK/mirror.pcap" -Y 'icmp.type == 8' -T fields \
           -e ip.src -e ip.dst 2>/dev/null \
       | awk '{ n++; s = $1 " " $2 } END { print n, s }')"
check_eq "and none of the replies, which came through vtep0" 0 \
    "$(tshark -r "$WORK/mirror.pcap" -Y 'icmp.type == 0' 2>/dev/null \
       | wc -l)"
check_eq "the file holds every frame the mirror rule counted" "$mirrored" \
    "$(tshark -r "$WORK/mirror.pcap" 2>/dev/null | wc -l)"
vsctl h2 del-flows --strict in_port=tap0

# rule_gone MATCH: h1 has no rule MATCH.
rule_gone() {
    vsctl h1 --format=json dump-flows >"$WORK/gone.json" \
        && [ "$(json "[r for r in j['flows'] if r['match'] == '$1']" \
                <"$WORK/gone.json")" = "[]" ]
}
# counted_over MATCH N: h1's rule MATCH counted more than N packets.
counted_over() {
    [ "$(flow_stat h1 "$1" n_packets)" -gt "$2" ]
}

# timed_rule_and_pings RULE COUNT: adds RULE (a match and a timeout)
# with the tunnel's actions to h1, then starts COUNT pings from vm1 to
# vm2, 5 a second, in the background (PING).
timed_rule_and_pings() {
    check "add-flow of $1" vsctl h1 add-flow "$1,actions=$TUNNEL_ACTIONS"
    timeout 60 ip netns exec "$(ns vm1)" ping -c "$2" -i 0.2 -W 2 10.96.0.2 \
        >"$WORK/ping.out" 2>&1 &
    PING=$!
    at_exit "kill_child $PING"
}

# idle_timeout: a rule that carries vm1's ICMP stays while vm1 pings, for
# more than twice its timeout, and goes within a bounded time after.
IDLE="priority=200,icmp,in_port=tap0"
timed_rule_and_pings "$IDLE,idle_timeout=2" 30
start=$SECONDS
seen=0
missing=0
while kill -0 $PING 2>/dev/null && [ $((SECONDS - start)) -lt 60 ]; do
    n=$(flow_stat h1 "$IDLE" n_packets)
    if [ -n "$n" ]; then
        seen=$n
    else
        missing=$((missing + 1))
    fi
    sleep 0.5
done
wait $PING
check_eq "vm1's 30 pings all came back" 0 "$?"
check_eq "the rule was there at every look while they flowed" 0 "$missing"
if [ "$seen" -ge 20 ]; then
    pass "and carried them ($seen packets at the last look)"
else
    fail "the idle rule carried $seen packets at the last look"
fi
# trace_then_gone: trace a frame that the idle rule matches, which must
# not keep it, then see whether it is gone.
trace_then_gone() {
    vsctl h1 trace "in_port=tap0,icmp,dl_src=$MAC1,dl_dst=$MAC2" >/dev/null
    rule_gone "$IDLE"
}
gone=$SECONDS
wait_for 20 trace_then_gone \
    && pass "the rule goes once the pings stop, traced or not\
 (in $((SECONDS - gone)) s)" \
    || fail "the idle rule is still there 20 s after the pings stopped"
check_eq "leaving the permanent rules" \
    "$(printf '%s\n' priority=0 "$TUNNEL" "$FROM_TUNNEL" "$TO_VM3" "$TO_VM4" \
       | LC_ALL=C sort | paste -sd' ')" \
    "$(vsctl h1 --format=json dump-flows \
       | json '" ".join(sorted(r["match"] for r in j["flows"]))')"
before=$(flow_stat h1 "$TUNNEL" n_packets)
check "vm1 still pings vm2, through the tunnel rule again" \
    in_ns vm1 ping -c 2 -i 0.2 -W 2 10.96.0.2
check_eq "which counts the 2 requests" $((before + 2)) \
    "$(flow_stat h1 "$TUNNEL" n_packets)"

# hard_timeout: the rule goes however much traffic it carries.
HARD="priority=200,icmp,in_port=tap0,nw_dst=10.96.0.2"
timed_rule_and_pings "$HARD,hard_timeout=3" 100
added=$SECONDS
wait_for 20 rule_gone "$HARD" \
    && pass "the rule goes while vm1 pings (after $((SECONDS - added)) s)" \
    || fail "the hard_timeout rule is still there after 20 s"
hard_packets=$(flow_stat h1 "$TUNNEL" n_packets)
wait_for 20 counted_over "$TUNNEL" "$hard_packets" \
    && pass "and the pings go on through the tunnel rule" \
    || fail "the tunnel rule counted no ping after the hard_timeout rule went"
stop_child $PING 10

stop_vswitchd h1
stop_vswitchd h2
finish
