#!/bin/bash
# An EVPN VNI (control=evpn) driven by hand, as the agent vswitch-evpn
# drives it: two hosts on an underlay that carries no multicast, the
# remote MACs and flood lists set with evpn-mac-add and evpn-vtep-add.
# The VMs ping; nothing is learned from the underlay; the first ARP
# request leaves as one unicast copy to the listed VTEP; MAC-mobility
# sequence numbers decide moves; del-vni, control=flood-and-learn and a
# restart leave no EVPN state behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

vtep() { echo "172.31.252.$1"; }
mac() { echo "02:00:00:97:50:0$1"; }
ELSEWHERE=172.31.252.9

make_underlay sw
for i in 1 2; do
    make_ns "h$i"
    # No IPv6, so that nothing crosses the switch but what the test sends
    # (a TAP up in its host's namespace would solicit routers).
    in_ns "h$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
    plug "h$i" sw "$(vtep "$i")/24"
    port="p$TAG""h$i"
    in_ns sw bridge link set dev "${port:0:15}" mcast_flood off \
        || fail "mcast_flood off on ${port:0:15}"
    start_vswitchd "h$i" || fail "vswitchd on h$i"
    vsctl "h$i" add-port vtep0 type=vxlan local_ip="$(vtep "$i")" dev=eth0 \
        || fail "vxlan port on h$i"
    vsctl "h$i" add-vni 5000 control=evpn || fail "EVPN VNI 5000 on h$i"
    make_ns "v$i"
    in_ns "v$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
    make_vm_tap "v$i" "h$i" t5000 5000 "10.97.50.$i/24" "$(mac "$i")" \
        || fail "VM on h$i"
done

# entries HOST: "MAC TYPE DEST SEQ" for each entry of VNI 5000, sorted.
entries() {
    vsctl "$1" --format=json fdb-show 5000 \
        | json "'\n'.join(sorted('%s %s %s %s' % (e['mac'], e['type'],
                                 e['port'] or e['remote'], e.get('seq', '-'))
                                 for e in j['entries']))"
}
stat() { vsctl "$1" --format=json fdb-stats | json "j['$2']"; }

check_eq "an EVPN VNI says so and learns by EVPN" "evpn evpn [] 0" \
    "$(vsctl h1 --format=json list-vnis \
        | json "' '.join(str(x) for v in j['vnis'] for x in
                 (v['control'], v['learn'], v['evpn_vteps'], v['evpn_macs']))")"
check "without routes, there is nowhere to flood: no ping" \
    bash -c "! timeout 20 ip netns exec $(ns v1) ping -c 1 -W 1 10.97.50.2"

for i in 1 2; do
    j=$((3 - i))
    check "h$i: evpn-vtep-add" vsctl "h$i" evpn-vtep-add 5000 "$(vtep "$j")"
    check "h$i: evpn-mac-add" \
        vsctl "h$i" evpn-mac-add 5000 "$(mac "$j")" remote="$(vtep "$j")"
done
check_exit "evpn-vtep-add of a listed VTEP fails" 1 \
    vsctl h1 evpn-vtep-add 5000 "$(vtep 2)"
check "--may-exist evpn-vtep-add of a listed VTEP succeeds" \
    vsctl h1 --may-exist evpn-vtep-add 5000 "$(vtep 2)"
check_eq "list-vnis shows the EVPN VTEP and MAC" "['$(vtep 2)'] 1" \
    "$(vsctl h1 --format=json list-vnis \
        | json "' '.join(str(x) for v in j['vnis']
                         for x in (v['evpn_vteps'], v['evpn_macs']))")"
vsctl h1 list-vnis >"$WORK/vnis.txt"
check "list-vnis shows the EVPN flood list in its table" \
    grep -q "evpn $(vtep 2)" "$WORK/vnis.txt"

# The kernel's ARP probes of the failed ping may have gone on meanwhile.
for i in 1 2; do in_ns "v$i" ip neigh flush all; done
start_capture ul h1 eth0 "$WORK/underlay.pcap" udp port 4789 \
    || fail "tcpdump on h1's underlay"
check "v1 pings v2 across the EVPN VNI" \
    in_ns v1 ping -c 3 -i 0.2 -W 2 10.97.50.2
stop_capture ul
check_eq "the first ARP request left as one unicast copy to the VTEP" \
    "$(vtep 2)" \
    "$(tshark -r "$WORK/underlay.pcap" -Y 'vxlan && arp.opcode == 1' \
         -T fields -e ip.dst 2>/dev/null | head -1 | cut -d, -f1)"
check_eq "no VXLAN frame went to a multicast address" "" \
    "$(tshark -r "$WORK/underlay.pcap" -Y 'vxlan && ip.dst >= 224.0.0.0' \
         -T fields -e ip.dst 2>/dev/null | head -1)"

check_eq "h1's table: its VM learned, the remote one from EVPN" \
    "$(mac 1) dynamic t5000 -
$(mac 2) evpn $(vtep 2) 0" "$(entries h1)"
check "h1 learned nothing from the underlay, and counted it" \
    test "$(stat h1 learn_refused)" -gt 0
check_eq "fdb-show's table says evpn" "evpn" \
    "$(vsctl h1 fdb-show 5000 \
        | awk -v m="$(mac 2)" '$2 == m { print $(NF - 1) }')"

# MAC mobility: only a newer sequence number moves an EVPN entry.
check_exit "an equal sequence number elsewhere is refused" 1 \
    vsctl h1 evpn-mac-add 5000 "$(mac 2)" remote=$ELSEWHERE seq=0
check_eq "and counted" 1 "$(stat h1 evpn_stale)"
check "a newer one moves it" \
    vsctl h1 evpn-mac-add 5000 "$(mac 2)" remote=$ELSEWHERE seq=1
check_eq "to the new VTEP" "$(mac 2) evpn $ELSEWHERE 1" \
    "$(entries h1 | grep "$(mac 2)")"
check_exit "an older one back is refused" 1 \
    vsctl h1 evpn-mac-add 5000 "$(mac 2)" remote="$(vtep 2)" seq=0
check_exit "the old VTEP's withdrawal leaves the newer entry" 1 \
    vsctl h1 evpn-mac-del 5000 "$(mac 2)" remote="$(vtep 2)"
check_eq "still at the new VTEP" "$(mac 2) evpn $ELSEWHERE 1" \
    "$(entries h1 | grep "$(mac 2)")"
check "a newer one moves it back" \
    vsctl h1 evpn-mac-add 5000 "$(mac 2)" remote="$(vtep 2)" seq=2
check "and the VMs ping again" in_ns v1 ping -c 2 -i 0.2 -W 2 10.97.50.2
check_eq "h1 counted both refusals" 2 "$(stat h1 evpn_stale)"

check_exit "EVPN commands refuse a flood-and-learn VNI" 1 \
    bash -c "$(declare -f vsctl); CTL_BIN='$CTL_BIN' WORK='$WORK'
             vsctl h1 add-vni 6000 flood=$(vtep 2) >/dev/null &&
             vsctl h1 evpn-mac-add 6000 $(mac 2) remote=$(vtep 2)"
cp "$WORK/err" "$WORK/refusal"
check "the refusal names control=evpn" grep -q "control=evpn" "$WORK/refusal"

# A batch of EVPN commands (what the agent sends): each line is judged
# against what the lines before it leave, and one refused refuses all;
# nothing is saved.  h1 holds $(mac 2) at $(vtep 2) with seq 2 now.
db_was=$(stat -c '%i %Y' "$WORK/h1.db")
vnis_was=$(vsctl h1 --format=json list-vnis)
printf '%s\n' "evpn-mac-add 5000 02:00:00:97:50:0a remote=$ELSEWHERE" \
    "evpn-vtep-add 5000 $ELSEWHERE" \
    "evpn-mac-add 5000 $(mac 2) remote=$ELSEWHERE seq=2" >"$WORK/b1"
check_exit "a batch with a stale move is refused" 1 vsctl h1 batch "$WORK/b1"
cp "$WORK/err" "$WORK/refusal"
check "naming its line" grep -q "line 3: VNI 5000: $(mac 2): an entry" \
    "$WORK/refusal"
check_eq "and nothing of it was applied" "$(mac 1) dynamic t5000 -
$(mac 2) evpn $(vtep 2) 2" "$(entries h1)"
check_eq "not even the VTEP of line 2" "$vnis_was" \
    "$(vsctl h1 --format=json list-vnis)"
printf '%s\n' "evpn-mac-del 5000 $(mac 2) remote=$(vtep 2)" \
    "evpn-mac-add 5000 $(mac 2) remote=$ELSEWHERE seq=0" \
    "evpn-vtep-add 5000 $ELSEWHERE" "evpn-vtep-del 5000 $(vtep 2)" \
    "evpn-vtep-add 5000 $(vtep 2)" >"$WORK/b2"
check "a batch whose lines need the ones before succeeds" \
    vsctl h1 batch "$WORK/b2"
check_eq "the MAC moved with seq 0 after its withdrawal" \
    "$(mac 2) evpn $ELSEWHERE 0" "$(entries h1 | grep "$(mac 2)")"
printf '%s\n' "evpn-flush 5000" "evpn-vtep-add 5000 $(vtep 2)" \
    "evpn-mac-add 5000 $(mac 2) remote=$(vtep 2)" >"$WORK/b3"
check "a VTEP listed before evpn-flush may be added after it" \
    vsctl h1 batch "$WORK/b3"
check_eq "and the batch leaves what its last lines say" \
    "['$(vtep 2)'] $(mac 2) evpn $(vtep 2) 0" \
    "$(vsctl h1 --format=json list-vnis \
        | json "str([v['evpn_vteps'] for v in j['vnis']
                     if v['vni'] == 5000][0])") $(entries h1 | grep "$(mac 2)")"
printf '%s\n' "evpn-flush 5000" "add-vni 7000" >"$WORK/b4"
check_exit "EVPN commands and configuration in one batch are refused" 2 \
    vsctl h1 batch "$WORK/b4"
check_eq "the EVPN batches saved nothing" "$db_was" \
    "$(stat -c '%i %Y' "$WORK/h1.db")"
check "and h1 pings v2 again" in_ns v1 ping -c 2 -i 0.2 -W 2 10.97.50.2

# None of it is saved: a restarted daemon has the VNI, not its routes.
stop_vswitchd h1
check "the configuration holds no EVPN entry" \
    bash -c "! grep -aq '$(mac 2)' '$WORK/h1.db'"
start_vswitchd h1 || fail "restarting vswitchd on h1"
check_eq "after a restart: the VNI is EVPN, with no EVPN state" "evpn [] 0" \
    "$(vsctl h1 --format=json list-vnis \
        | json "' '.join(str(x) for v in j['vnis'] if v['vni'] == 5000
                 for x in (v['control'], v['evpn_vteps'], v['evpn_macs']))")"
check_eq "after a restart: no EVPN entry" 0 "$(stat h1 evpn_macs)"

# evpn-flush, control=flood-and-learn and del-vni each clear the state.
vsctl h2 evpn-vtep-add 5000 $ELSEWHERE
check_eq "evpn-flush removes the MAC and both VTEPs" 3 \
    "$(vsctl h2 --format=json evpn-flush 5000 | json "j['removed']")"
vsctl h2 evpn-vtep-add 5000 "$(vtep 1)"
vsctl h2 evpn-mac-add 5000 "$(mac 1)" remote="$(vtep 1)"
check "set-vni control=flood-and-learn" \
    vsctl h2 set-vni 5000 control=flood-and-learn
check_eq "leaves no EVPN entry" 0 "$(stat h2 evpn_macs)"
check_eq "and no EVPN VTEP" "flood-and-learn 0" \
    "$(vsctl h2 --format=json list-vnis \
        | json "' '.join(str(x) for v in j['vnis']
                 for x in (v['control'], len(v.get('evpn_vteps', []))))")"
vsctl h2 set-vni 5000 control=evpn
vsctl h2 evpn-vtep-add 5000 "$(vtep 1)"
vsctl h2 evpn-mac-add 5000 "$(mac 1)" remote="$(vtep 1)"
check "del-vni" vsctl h2 del-vni 5000
check "and add-vni again" vsctl h2 add-vni 5000 control=evpn
check_eq "leave no EVPN entry" 0 "$(stat h2 evpn_macs)"
check_eq "and no EVPN VTEP" "[]" \
    "$(vsctl h2 --format=json list-vnis | json "j['vnis'][0]['evpn_vteps']")"

for i in 1 2; do stop_vswitchd "h$i"; done
finish
