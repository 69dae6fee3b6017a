#!/bin/bash
# BGP EVPN between our VTEPs and FRR's: two hosts with vswitchd, gobgpd
# and the agent vswitch-evpn (tests/system/evpn-hosts.sh) and one host
# with FRR (bgpd and zebra, advertise-all-vni) over kernel VXLAN devices
# in bridges, all in iBGP with a gobgpd route reflector, on an underlay
# that carries no multicast.  VMs in two VNIs.  FRR's kernel tables list
# our MACs at our VTEPs and flood to our VTEPs; ours list FRR's MACs and
# VTEP; FRR shows our routes with the VNI, RD, RT and encapsulation that
# RFC 8365 gives them; all pairs ping; a port removed on our side leaves
# FRR's table, a VM gone on FRR's side leaves ours; a VM that moves from
# our side to FRR's and on to ours again is followed at once both times,
# by the MAC mobility sequence numbers that FRR and gobgpd give.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

FRR_LIB=/usr/lib/frr
if [ ! -x "$FRR_LIB/bgpd" ] || [ ! -x "$FRR_LIB/zebra" ] \
       || ! command -v vtysh >/dev/null; then
    echo "SKIP: FRR is not installed (tests/deps.sh installs frr)"
    exit 77
fi
if ! out=$("$FRR_LIB/bgpd" --version 2>&1); then
    echo "SKIP: FRR's bgpd does not run here: $(echo "$out" | head -1)"
    exit 77
fi

N=2
VNIS="5 6"
HOSTS=$(seq "$N")
F=3                     # FRR's host: h3, at $(vtep 3), VMs v53 and v63.
PEERS="$HOSTS $F"
. "$(dirname "$0")/evpn-hosts.sh"
take_turn
RR_CLIENTS=$(vtep "$F")
FRR_DIR=$WORK/frr       # FRR's configuration, pid files, sockets, logs.

# start_frr: zebra and bgpd in h3, with paths of their own (nothing of
# the system's FRR), as the user frr, with no vty on TCP.
start_frr() {
    local d
    mkdir -p "$FRR_DIR"
    chown frr:frr "$FRR_DIR"
    cat >"$FRR_DIR/zebra.conf" <<EOF
hostname h$F
EOF
    cat >"$FRR_DIR/bgpd.conf" <<EOF
hostname h$F
router bgp 65000
 bgp router-id $(vtep "$F")
 no bgp default ipv4-unicast
 neighbor $RR remote-as 65000
 neighbor $RR timers 3 9
 neighbor $RR timers connect 1
 address-family l2vpn evpn
  neighbor $RR activate
  advertise-all-vni
 exit-address-family
EOF
    for d in zebra bgpd; do
        ip netns exec "$(ns "h$F")" "$FRR_LIB/$d" -d -u frr -g frr \
            -f "$FRR_DIR/$d.conf" -i "$FRR_DIR/$d.pid" \
            -z "$FRR_DIR/zserv.api" --vty_socket "$FRR_DIR" -P 0 \
            --log "file:$FRR_DIR/$d.log" >>"$FRR_DIR/$d.out" 2>&1 \
            || return 1
        at_exit "stop_frr $d"
        wait_for 10 test -S "$FRR_DIR/$d.vty" || return 1
    done
}

# stop_frr DAEMON: stops it (KILL if TERM did not within 10 s) and
# removes what it leaves in FRR's fixed temporary directory.
stop_frr() {
    local pid
    pid=$(cat "$FRR_DIR/$1.pid") || return 0
    stop_daemon_of "$FRR_DIR/$1.pid" || kill -KILL "$pid"
    rm -rf "/var/tmp/frr/$1.$pid"
}

# vty COMMAND: vtysh against h3's daemons.
vty() {
    timeout 20 vtysh --vty_socket "$FRR_DIR" -c "$1"
}

# make_frr_host: h3 on the underlay, each VNI a kernel VXLAN device (no
# learning from the underlay, no group: floods go to the VTEPs that
# zebra lists) in a bridge of its own, each VM a veth into that bridge.
make_frr_host() {
    local v
    make_underlay_host "$F"
    for v in $VNIS; do
        in_ns "h$F" ip link add "br$v" type bridge || return 1
        in_ns "h$F" ip link add "vxlan${v}000" type vxlan id "${v}000" \
            local "$(vtep "$F")" dstport 4789 nolearning || return 1
        in_ns "h$F" ip link set "vxlan${v}000" master "br$v" mtu 1450 up
        in_ns "h$F" bridge link set dev "vxlan${v}000" learning off
        in_ns "h$F" ip link set "br$v" up
        make_ns_no_ipv6 "v$v$F"
        ip link add "t$v" netns "$(ns "v$v$F")" type veth peer name "vm$v" \
            netns "$(ns "h$F")" || return 1
        in_ns "h$F" ip link set "vm$v" master "br$v" mtu 1450 up
        in_ns "v$v$F" ip link set "t$v" address "$(mac "$v" "$F")" \
            mtu 1450 up
        in_ns "v$v$F" ip addr add "$(ip_of "$v" "$F")/24" dev "t$v"
    done
}

make_evpn_hosts
make_frr_host || fail "FRR's host"
start_frr || fail "zebra and bgpd on h$F: $(cat "$FRR_DIR"/*.out)"

frr_established() {
    vty "show bgp l2vpn evpn summary json" \
        | json "j['peers']['$RR']['state']" | grep -qx Established
}
check "FRR's session with the route reflector is established" \
    wait_for 30 frr_established

# frr_view: "VNI MAC VTEP" for each remote entry of h3's VXLAN devices
# (00:00:00:00:00:00 for their floods), sorted.
frr_view() {
    local v
    for v in $VNIS; do
        in_ns "h$F" bridge -j fdb show dev "vxlan${v}000" \
            | json "'\n'.join('${v}000 %s %s' % (e['mac'], e['dst'])
                              for e in j if 'dst' in e)"
    done | grep . | sort
}
# frr_expected [SKIP-MAC]: our VMs at our VTEPs, and floods to our VTEPs.
frr_expected() {
    local i v
    for i in $HOSTS; do
        for v in $VNIS; do
            echo "${v}000 00:00:00:00:00:00 $(vtep "$i")"
            [ "$(mac "$v" "$i")" = "${1:-}" ] \
                || echo "${v}000 $(mac "$v" "$i") $(vtep "$i")"
        done
    done | sort
}
frr_converged() { [ "$(frr_view)" = "$(frr_expected "${1:-}")" ]; }

check "our flood lists name the other VTEPs, FRR's included (type-3)" \
    wait_for 30 flood_lists_converged
announce_all
check "FRR's VXLAN devices list our MACs and flood to our VTEPs" \
    wait_for 30 frr_converged
check_eq "FRR's kernel table" "$(frr_expected)" "$(frr_view)"
check "our hosts list FRR's MACs at FRR's VTEP (type-2)" \
    wait_for 30 views_converged
for i in $HOSTS; do
    check_eq "h$i's remote MACs" "$(expected_view "$i")" "$(remote_view "h$i")"
done

# Our routes as FRR holds them.  frr_route WHICH: "VNI PMSI
# EXTENDED-COMMUNITIES NEXT-HOP" of each path that "show bgp l2vpn evpn
# route WHICH" shows: the VNI of a type-2 route is its label as RFC 8365
# reads it (all of its 24 bits), the PMSI of a type-3 route its tunnel
# type and label, "-" where there is none.
frr_route() {
    vty "show bgp l2vpn evpn route $1 json" | python3 -c '
import json, sys
def paths(o):
    if isinstance(o, dict) and "nexthops" in o:
        yield o
    elif isinstance(o, (dict, list)):
        for v in (o.values() if isinstance(o, dict) else o):
            yield from paths(v)
for p in paths(json.load(sys.stdin)):
    pmsi = p.get("pmsi")
    print(p.get("vni", "-"),
          "%s/%s" % (pmsi["tunnelType"], pmsi["label"]) if pmsi else "-",
          p["extendedCommunity"]["string"], p["nexthops"][0]["ip"])'
}
for v in $VNIS; do
    rd=$(vtep 1):${v}000
    check_eq "FRR holds h1's MAC route of VNI ${v}000 (RD $rd)" \
        "${v}000 - RT:65000:${v}000 ET:8 $(vtep 1)" \
        "$(frr_route "rd $rd mac $(mac "$v" 1)")"
    check_eq "FRR holds h1's VNI ${v}000 route (ingress replication)" \
        "- Ingress Replication/${v}000 RT:65000:${v}000 ET:8 $(vtep 1)" \
        "$(frr_route "rd $rd type multicast")"
done

ping_all_pairs "$PEERS"

# A VM gone on FRR's side (its veth deleted) is withdrawn from ours.
in_ns "h$F" ip link del vm6 || fail "deleting v6$F's veth"
check "v6$F's MAC, gone from FRR's bridge, is withdrawn from our hosts" \
    wait_for 30 views_converged "$(mac 6 "$F")"
check_eq "h1's remote MACs without v6$F" "$(expected_view 1 "$(mac 6 "$F")")" \
    "$(remote_view h1)"

# A port removed on our side is withdrawn from FRR's kernel table.
vsctl h2 del-port t6 || fail "removing v62's port"
check "v62's MAC, its port removed, is withdrawn from FRR's table" \
    wait_for 30 frr_converged "$(mac 6 2)"
check_eq "FRR's kernel table without v62" "$(frr_expected "$(mac 6 2)")" \
    "$(frr_view)"

# A VM moves from our h1 to FRR's host and says so there, its port on
# h1 left behind (its MAC still in h1's table): FRR announces it with a
# MAC mobility sequence number of 1, which our hosts read and follow, and
# h1 withdraws its route.
in_ns v51 ip link set t5 down
in_ns v51 ip addr flush dev t5
ip link add t5f netns "$(ns v51)" type veth peer name vm51 \
    netns "$(ns "h$F")" || fail "v51's veth into FRR's bridge"
in_ns "h$F" ip link set vm51 master br5 mtu 1450 up
in_ns v51 ip link set t5f address "$(mac 5 1)" mtu 1450 up
in_ns v51 ip addr add "$(ip_of 5 1)/24" dev t5f
announce v51 t5f "$(mac 5 1)" "$(ip_of 5 1)"
# evpn_entry HOST VNI MAC: "REMOTE SEQ" of HOST's EVPN entry for MAC.
evpn_entry() {
    vsctl "$1" --format=json fdb-show "$2" \
        | json "' '.join('%s %d' % (e['remote'], e['seq']) for e in j['entries']
                         if e['type'] == 'evpn' and e['mac'] == '$3')"
}
moved_to_frr() {
    local i
    for i in $HOSTS; do
        [ "$(evpn_entry "h$i" 5000 "$(mac 5 1)")" = "$(vtep "$F") 1" ] \
            || return 1
    done
}
check "our hosts list v51 at FRR's VTEP with sequence number 1" \
    wait_for 30 moved_to_frr
frr_v51() { frr_route "vni 5000 mac $(mac 5 1)"; }
wait_for 10 eval '[ "$(frr_v51 | wc -l)" = 1 ]'
check_eq "FRR holds its own route for v51 only: h1 withdrew its own" \
    "5000 - ET:8 RT:65000:5000 MM:1 $(vtep "$F")" "$(frr_v51)"
check "v52 pings v51 behind FRR's bridge" \
    in_ns v52 ping -c 2 -i 0.2 -W 2 "$(ip_of 5 1)"

# It moves on to our h2 (a new VM namespace, on a TAP port there), and
# its veth in FRR's bridge stays, silent, as a port does until its host
# cleans it up, FRR's bridge holding the MAC there until it ages (300 s).
# h2 keeps the MAC local although FRR's route has sequence number 1 and
# announces it; gobgpd gives that route sequence number 2, which FRR and
# h1 follow at once.
in_ns v51 ip link set t5f arp off
in_ns v51 ip addr flush dev t5f
make_ns_no_ipv6 v51b
make_vm_tap v51b h2 t5b 5000 "$(ip_of 5 1)/24" "$(mac 5 1)" \
    || fail "v51's port on h2"
announce v51b t5b "$(mac 5 1)" "$(ip_of 5 1)"
h2_route="5000 - RT:65000:5000 ET:8 MM:2 $(vtep 2)"
moved_to_h2() {
    [ "$(evpn_entry h1 5000 "$(mac 5 1)")" = "$(vtep 2) 2" ] \
        && [ "$(frr_v51)" = "$h2_route" ]
}
check "v51, moved on to h2, is at h2 for h1 and FRR" wait_for 10 moved_to_h2
check_eq "h1 lists v51 at h2 with sequence number 2" "$(vtep 2) 2" \
    "$(evpn_entry h1 5000 "$(mac 5 1)")"
check_eq "FRR holds h2's route for v51 only, with sequence number 2" \
    "$h2_route" "$(frr_v51)"
check_eq "h2 holds v51 on its port" "dynamic t5b" \
    "$(vsctl h2 --format=json fdb-show 5000 \
        | json "' '.join('%s %s' % (e['type'], e['port']) for e in j['entries']
                         if e['mac'] == '$(mac 5 1)')")"
check_eq "FRR's bridge sends to v51 through its VXLAN device" vxlan5000 \
    "$(in_ns "h$F" bridge -j fdb show br br5 \
        | json "' '.join(e['ifname'] for e in j
                         if e['mac'] == '$(mac 5 1)' and 'master' in e)")"
check "v5$F pings v51 on h2" \
    in_ns "v5$F" ping -c 2 -i 0.2 -W 2 "$(ip_of 5 1)"

for i in $HOSTS; do kill "${AGENTS[h$i]}" 2>/dev/null; stop_vswitchd "h$i"; done
finish
