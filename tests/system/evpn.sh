#!/bin/bash
# BGP EVPN through GoBGP: hosts on an underlay that carries no multicast,
# each with vswitchd, gobgpd and the agent vswitch-evpn, in iBGP with a
# route reflector (gobgpd too, in a namespace of its own).  VMs in two
# EVPN VNIs: every host lists the remote MACs against the right VTEPs,
# all pairs ping with no unicast flooded (only ARP requests are
# broadcast), a moved VM is reachable again within 2 s, a removed port is
# withdrawn everywhere, and restarts of gobgpd, of the agent and of
# vswitchd (kill -9) converge back with nothing stale.
# EVPN_HOSTS sets how many hosts (default 8).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

N=${EVPN_HOSTS:-8}
VNIS="5 6"
HOSTS=$(seq "$N")
. "$(dirname "$0")/evpn-hosts.sh"
take_turn

make_evpn_hosts
check "every host's flood lists name the other VTEPs (type-3 routes)" \
    wait_for 30 flood_lists_converged
announce_all
check "every host lists every remote MAC against its VTEP (type-2 routes)" \
    wait_for 30 views_converged
for i in $HOSTS; do
    check_eq "h$i's remote MACs" "$(expected_view "$i")" "$(remote_view "h$i")"
done

# All pairs ping.  On h1's underlay, every inner unicast frame goes to one
# VTEP only: nothing is flooded but broadcasts (ARP requests).
start_capture ul h1 eth0 "$WORK/underlay.pcap" udp port 4789 \
    || fail "tcpdump on h1's underlay"
ping_all_pairs "$HOSTS"
stop_capture ul
tshark -r "$WORK/underlay.pcap" -Y vxlan -T fields -e frame.number \
    -e ip.src -e ip.dst -e eth.dst -e ip.id 2>/dev/null >"$WORK/ul.txt"
check_eq "no unicast frame was flooded by h1 (one copy each)" "" \
    "$(awk -F'\t' -v me="$(vtep 1)" '
        { split($2, s, ","); split($3, d, ","); split($4, e, ",");
          inner = e[2]; if (s[1] != me) next
          if (inner ~ /^ff:ff:ff:ff:ff:ff$/) next
          key = inner "/" $5; n[key]++ }
        END { for (k in n) if (n[k] > 1) print k }' "$WORK/ul.txt")"
check "h1 sent broadcasts only as ARP requests" test "$(tshark \
    -r "$WORK/underlay.pcap" -Y "vxlan && eth.dst == ff:ff:ff:ff:ff:ff \
                                 && !arp" 2>/dev/null | wc -l)" = 0
for i in $HOSTS; do
    check_eq "h$i learned nothing from the underlay" 0 \
        "$(vsctl "h$i" --format=json fdb-show \
            | json "sum(1 for e in j['entries']
                         if e['type'] == 'dynamic' and e['remote'])")"
done

# A VM moves: v51 leaves h1 for h2 (a new TAP port there, same MAC and
# address) and says so, its port on h1 left behind as a migration leaves
# it until the source host cleans up (its MAC still in h1's table).  v5N
# reaches it again within 2 s, timed from the move alone: nothing of the
# test's own runs between the move and the pings.  h2 announces it with
# the next MAC-mobility sequence number (RFC 7432 section 15), which
# makes h1 withdraw its own; h3's BGP session carries the route, whose
# encoding is checked on the wire.
LAST=$N
start_capture bgp h3 eth0 "$WORK/bgp.pcap" tcp port 179 \
    || fail "tcpdump on h3's BGP session"
# rib_route HOST MAC VTEP: the route for MAC from VTEP in HOST's gobgpd:
# its labels and sequence number, as GoBGP decodes them.
rib_route() {
    in_ns "$1" gobgp global rib -a evpn -j | json "' '.join(
        str(x) for d in j.values() for p in d
        if p['nlri']['value'].get('mac') == '$2'
        and [a for a in p['attrs'] if a.get('nexthop') == '$3']
        for x in (p['nlri']['value']['labels'],
                  [e.get('sequence', 0) for a in p['attrs']
                   if a['type'] == 16 for e in a['value']
                   if e.get('type') == 6 and e.get('subtype') == 0]))"
}
vsctl h2 add-port t5m type=tap vni=5000 || fail "v51's new port on h2"
in_ns h2 ip link set t5m netns "$(ns v51)"
in_ns v51 ip link set t5m address "$(mac 5 1)" mtu 1450
start=$(date +%s%N)
in_ns v51 ip link set t5 down
in_ns v51 ip addr flush dev t5
in_ns v51 ip link set t5m up
in_ns v51 ip addr add "$(ip_of 5 1)/24" dev t5m
announce v51 t5m "$(mac 5 1)" "$(ip_of 5 1)"
until in_ns "v5$LAST" ping -c 1 -W 0.2 "$(ip_of 5 1)" >/dev/null 2>&1; do
    [ $(( ($(date +%s%N) - start) / 1000000 )) -gt 10000 ] && break
done
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
echo "moved VM reachable after $elapsed ms"
check "the moved VM is reachable from h$LAST within 2 s ($elapsed ms)" \
    test "$elapsed" -le 2000
claimed() {
    [ "$(rib_route h2 "$(mac 5 1)" "$(vtep 2)")" = "[5000] [1]" ]
}
check "h2 announces v51, seen there while h1's route held it, with seq 1" \
    wait_for 10 claimed
moved_view_ok() {
    local i want
    for i in $HOSTS; do
        [ "$i" = 2 ] && continue
        want="5000 $(mac 5 1) $(vtep 2)"
        remote_view "h$i" | grep -qx "$want" || return 1
    done
}
check "every other host lists v51 at h2" wait_for 10 moved_view_ok
stop_capture bgp
# wire_route MAC VTEP: what h3 received last of the type-2 route for MAC
# from VTEP (its RD), from tshark's PDML: the label's 24 bits as they are
# on the wire (tshark shows them as a 20-bit MPLS label), the IP length,
# the ESI and Ethernet tag; then the MAC mobility sequence number, the
# encapsulation's tunnel type and the route target of that UPDATE.
wire_route() {
    tshark -r "$WORK/bgp.pcap" -Y "bgp.evpn.nlri.mac_addr == $1" -T pdml \
        2>/dev/null | python3 -c '
import sys, xml.etree.ElementTree as ET
mac, rd, last = sys.argv[1], sys.argv[2], None
for pkt in ET.parse(sys.stdin).getroot():
    f = {}
    for e in pkt.iter("field"):
        f.setdefault(e.get("name"), []).append(e)
    for n in f.get("bgp.evpn.nlri", []):
        g = {e.get("name"): e for e in n.iter("field")}
        if g.get("bgp.evpn.nlri.mac_addr") is None \
                or g["bgp.evpn.nlri.mac_addr"].get("show") != mac \
                or "(%s:" % rd not in g["bgp.evpn.nlri.rd"].get("showname"):
            continue
        ext = lambda k: ",".join(e.get("show") for e in f.get(k, []))
        last = " ".join(str(x) for x in (
            int(g["bgp.evpn.nlri.mpls_ls1"].get("unmaskedvalue")
                or g["bgp.evpn.nlri.mpls_ls1"].get("value"), 16),
            g["bgp.evpn.nlri.iplen"].get("show"),
            int(g["bgp.evpn.nlri.esi"].get("value") if "bgp.evpn.nlri.esi"
                in g else "0", 16),
            g["bgp.evpn.nlri.etag"].get("show"),
            ext("bgp.ext_com_evpn.mmac.seq"), ext("bgp.ext_com.tunnel_type"),
            ext("bgp.ext_com.value_as2"), ext("bgp.ext_com.value_an4")))
print(last)
' "$1" "$2"
}
check_eq "on the wire: label = VNI 5000 in 24 bits, no IP, ESI 0, tag 0; \
MAC mobility seq 1, VXLAN (8), RT 65000:5000" "5000 0 0 0 1 8 65000 5000" \
    "$(wire_route "$(mac 5 1)" "$(vtep 2)")"
check_eq "h3's RIB: v51's route from h2 with MAC mobility seq 1" \
    "[5000] [1]" "$(rib_route h3 "$(mac 5 1)" "$(vtep 2)")"
h1_withdrew() { [ -z "$(rib_route h3 "$(mac 5 1)" "$(vtep 1)")" ]; }
check "and h1 withdrew its own, with the lower number, its port still there" \
    wait_for 10 h1_withdrew
vsctl h1 del-port t5 || fail "removing v51's old port on h1"
check_eq "h1's RIB: h2's type-3 route, PMSI ingress replication, label \
6000, tunnel endpoint h2" "6 6000 $(vtep 2)" \
    "$(in_ns h1 gobgp global rib -a evpn -j | json "' '.join(
        str(a[k]) for d in j.values() for p in d
        if p['nlri']['type'] == 3 and p['nlri']['value']['ip'] == '$(vtep 2)'
        and p['nlri']['value']['rd']['assigned'] == 6000
        for a in p['attrs'] if a['type'] == 22
        for k in ('tunnel-type', 'label', 'tunnel-id'))")"

# A port removed is withdrawn everywhere.
vsctl "h$LAST" del-port t6 || fail "removing v6$LAST's port"
gone_everywhere() {
    local i
    for i in $HOSTS; do
        remote_view "h$i" | grep -q "$(mac 6 "$LAST")" && return 1
    done
    return 0
}
check "v6$LAST's MAC is withdrawn from every host" wait_for 10 gone_everywhere

# The state now: v51 on h2, v6N gone.
now_view() {
    local i v want
    for i in $HOSTS; do
        want=$(for j in $HOSTS; do
                   [ "$j" = "$i" ] && continue
                   [ "$j" != 1 ] && echo "5000 $(mac 5 "$j") $(vtep "$j")"
                   [ "$j" != "$LAST" ] && echo "6000 $(mac 6 "$j") $(vtep "$j")"
               done
               [ "$i" != 2 ] && echo "5000 $(mac 5 1) $(vtep 2)"
               true)
        [ "$(remote_view "h$i")" = "$(echo "$want" | grep . | sort)" ] \
            || { echo "h$i: $(remote_view "h$i")" >"$WORK/why"; return 1; }
    done
}
check "the tables agree with the routes" wait_for 10 now_view

# Restarts.  gobgpd of h2 (kill -9): the others lose h2's routes, then get
# them again; h2 gets everything again.
kill_wait "${GOBGPD[h2]}"
start_gobgpd h2 || fail "restarting gobgpd on h2"
check "after gobgpd's restart on h2, the tables converge back" \
    wait_for 30 now_view

# The agent of h3 (killed): a port removed meanwhile is withdrawn when it
# comes back, and nothing else changes.
kill_wait "${AGENTS[h3]}"
vsctl h3 del-port t5 || fail "removing v53's port while the agent is down"
start_agent h3
# listed_nowhere MAC: no host lists MAC among its remote MACs.
listed_nowhere() {
    local i
    for i in $HOSTS; do
        remote_view "h$i" | grep -q " $1 " && return 1
    done
    return 0
}
check "after the agent's restart on h3, what went meanwhile is withdrawn" \
    wait_for 30 listed_nowhere "$(mac 5 3)"

# vswitchd of h2 (kill -9) and started again: its EVPN state comes back
# from the routes.  Its VMs' TAP devices went with it, so their MACs are
# withdrawn from every other host, and nothing stale stays.
before=$(remote_view h2)
kill_wait "$(cat "$WORK/h2.pid")"
start_vswitchd h2 || fail "restarting vswitchd on h2"
h2_back() { [ "$(remote_view h2)" = "$before" ]; }
check "after vswitchd's restart on h2, its EVPN MACs come back" \
    wait_for 30 h2_back
h2_gone() {
    local i
    for i in $HOSTS; do
        [ "$i" = 2 ] && continue
        remote_view "h$i" | grep -q " $(vtep 2)$" && return 1
    done
    return 0
}
check "and h2's VMs, gone with it, are withdrawn everywhere" \
    wait_for 30 h2_gone

# The agent of h3 stopped while h3's vswitchd has more changes than a
# monitor holds (80,000 MACs learned in a flood-and-learn VNI, which the
# agent ignores), and a VM's port removed among them: its event is lost,
# and only reading vswitchd again finds it.
X=02:00:00:96:08:03
vsctl h3 add-port t8 type=tap vni=5000 || fail "a port for v83 on h3"
make_ns v83
in_ns h3 ip link set t8 netns "$(ns v83)"
in_ns v83 ip link set t8 address $X mtu 1450 up
announce v83 t8 $X 10.98.50.83
seen_x() {
    local i
    for i in $HOSTS; do
        [ "$i" = 3 ] || remote_view "h$i" | grep -q " $X " || return 1
    done
}
check "v83 is on every other host" wait_for 30 seen_x
vsctl h3 add-vni 7000 flood="$(vtep 1)" || fail "VNI 7000 on h3"
make_ns v73
make_vm_tap v73 h3 t7 7000 10.98.70.3/24 02:00:00:96:07:03 \
    || fail "VM of VNI 7000 on h3"
kill -STOP "${AGENTS[h3]}"
announce v73 t7 02:00:00:97:00:00 10.98.70.3 40000
announce v73 t7 02:00:00:99:00:00 10.98.70.3 40000
vsctl h3 del-port t8 || fail "removing v83's port while the agent sleeps"
kill -CONT "${AGENTS[h3]}"
check "after missed events, h3's agent reads vswitchd again and \
withdraws v83" wait_for 60 listed_nowhere "$X"
check "h3's agent says why it read vswitchd again" \
    grep -Eq "missed [0-9]+ events|vswitchd went away" "$WORK/h3-agent.log"
grep -E "missed|went away" "$WORK/h3-agent.log"

# Many MACs at once: 2,000 sent from h1's VM v61 (those h1 learned, at
# least 1,000 of them), on every other host within 60 s (one process per
# route took a minute for 200).  The frames that the TAP device's queue
# dropped on a loaded machine are sent again, twice at most.
declare -A had=()
for i in $HOSTS; do had[$i]=$(evpn_macs "h$i"); done
learned_98() { vsctl h1 fdb-show 6000 | grep -c ' 02:00:00:98:'; }
start=$(date +%s%N)
for k in 1 2 3; do
    announce v61 t6 02:00:00:98:00:00 "$(ip_of 6 1)" 2000
    [ "$(learned_98)" -ge 1000 ] && break
done
many=$(learned_98)
check "h1 learned 1,000 MACs or more of them ($many)" test "$many" -ge 1000
all_have() {
    local i
    for i in $HOSTS; do
        [ "$i" = 1 ] && continue
        [ "$(evpn_macs "h$i")" -ge $((had[$i] + many)) ] || return 1
    done
}
check "$many MACs announced at once reach every host within 60 s" \
    wait_for 60 all_have
echo "$many MACs on $((N - 1)) hosts after \
$(( ($(date +%s%N) - start) / 1000000 )) ms (load \
$(cut -d' ' -f1-3 /proc/loadavg)); EVPN entries: $(for i in $HOSTS; do
    evpn_macs "h$i"; done | paste -sd' ')"

for i in $HOSTS; do cat "$WORK/h$i-agent.log"; done | sort | uniq -c \
    | sort -rn | head -20
for i in $HOSTS; do kill "${AGENTS[h$i]}" 2>/dev/null; stop_vswitchd "h$i"; done
finish
