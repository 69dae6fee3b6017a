#!/bin/bash
# BGP EVPN through GoBGP: hosts on an underlay that carries no multicast,
# each with vswitchd, gobgpd and the agent vswitch-evpn, in iBGP with a
# route reflector (gobgpd too, in a namespace of its own).  VMs in two
# EVPN VNIs: every host lists the remote MACs against the right VTEPs,
# all pairs ping with no unicast flooded (only ARP requests are
# broadcast), a moved VM is reachable again within 2 s, a removed port is
# withdrawn everywhere, and restarts of gobgpd, of the agent and of
# vswitchd (kill -9) converge back with nothing stale.
# EVPN_HOSTS sets how many hosts (default 3).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

if ! command -v gobgpd >/dev/null || ! command -v gobgp >/dev/null; then
    echo "SKIP: gobgpd is not installed (tests/deps.sh installs it)"
    exit 77
fi

AGENT=$top_srcdir/evpn/vswitch-evpn.py
N=${EVPN_HOSTS:-3}
HOSTS=$(seq "$N")
RR=172.31.251.200
vtep() { echo "172.31.251.$1"; }
mac() { printf '02:00:00:96:%02x:%02x' "$1" "$2"; }     # VNI digit, host
ip_of() { echo "10.98.${1}0.$2"; }     # As ping_all_pairs has it.

# gobgpd HOST ROUTER-ID NEIGHBOR...: a gobgpd in HOST's namespace, its API
# on HOST's own loopback; the route reflector's neighbors are its
# clients.
gobgp_conf() {
    local id=$1 rr=$2 n
    shift 2
    printf '[global.config]\n  as = 65000\n  router-id = "%s"\n' "$id"
    for n in "$@"; do
        printf '[[neighbors]]\n  [neighbors.config]\n'
        printf '    neighbor-address = "%s"\n    peer-as = 65000\n' "$n"
        printf '  [neighbors.timers.config]\n    connect-retry = 1\n'
        printf '    hold-time = 9\n    keepalive-interval = 3\n'
        if [ "$rr" = rr ]; then
            printf '  [neighbors.route-reflector.config]\n'
            printf '    route-reflector-client = true\n'
            printf '    route-reflector-cluster-id = "%s"\n' "$id"
        fi
        printf '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n'
        printf '      afi-safi-name = "l2vpn-evpn"\n'
    done
}

declare -A GOBGPD=() AGENTS=()
start_gobgpd() {
    local host=$1
    ip netns exec "$(ns "$host")" gobgpd -f "$WORK/$host.toml" \
        --api-hosts 127.0.0.1:50051 >"$WORK/$host-gobgpd.log" 2>&1 &
    GOBGPD[$host]=$!
    at_exit "kill -9 ${GOBGPD[$host]}"
    wait_for 10 in_ns "$host" gobgp global
}
start_agent() {
    local host=$1
    ip netns exec "$(ns "$host")" python3 "$AGENT" --ctl "$CTL_BIN" \
        --socket "$WORK/$host.sock" >>"$WORK/$host-agent.log" 2>&1 &
    AGENTS[$host]=$!
    at_exit "kill ${AGENTS[$host]}"
}
gobgp_in() { in_ns "$1" gobgp "${@:2}"; }

make_underlay sw
make_ns rr
plug rr sw "$RR/24"
gobgp_conf "$RR" rr $(for i in $HOSTS; do vtep "$i"; done) >"$WORK/rr.toml"
start_gobgpd rr || fail "gobgpd on the route reflector"
for i in $HOSTS; do
    make_ns "h$i"
    in_ns "h$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
    plug "h$i" sw "$(vtep "$i")/24"
    port="p$TAG""h$i"
    in_ns sw bridge link set dev "${port:0:15}" mcast_flood off
    start_vswitchd "h$i" || fail "vswitchd on h$i"
    vsctl "h$i" add-port vtep0 type=vxlan local_ip="$(vtep "$i")" dev=eth0 \
        || fail "vxlan port on h$i"
    for v in 5 6; do
        vsctl "h$i" add-vni "${v}000" control=evpn \
            || fail "EVPN VNI ${v}000 on h$i"
        make_ns "v$v$i"
        in_ns "v$v$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1
        make_vm_tap "v$v$i" "h$i" "t$v" "${v}000" "$(ip_of "$v" "$i")/24" \
            "$(mac "$v" "$i")" || fail "VM of VNI ${v}000 on h$i"
    done
    gobgp_conf "$(vtep "$i")" client "$RR" >"$WORK/h$i.toml"
    start_gobgpd "h$i" || fail "gobgpd on h$i"
    start_agent "h$i"
done

# announce VM DEV: the VM says where it is (a gratuitous ARP), as a VM
# does when it boots or has moved.
announce() {
    in_ns "$1" python3 -c '
import socket, sys
dev, mac, ip = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), \
    socket.inet_aton(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
arp = b"\x00\x01\x08\x00\x06\x04\x00\x01" + mac + ip + b"\0" * 6 + ip
s.send(b"\xff" * 6 + mac + b"\x08\x06" + arp)
' "$2" "$3" "$4"
}
announce_all() {
    local i v
    for i in $HOSTS; do
        for v in 5 6; do
            announce "v$v$i" "t$v" "$(mac "$v" "$i")" "$(ip_of "$v" "$i")"
        done
    done
}

# remote_view HOST: "VNI MAC VTEP" for each EVPN entry of HOST, sorted.
remote_view() {
    vsctl "$1" --format=json fdb-show \
        | json "'\n'.join(sorted('%d %s %s' % (e['vni'], e['mac'], e['remote'])
                                 for e in j['entries'] if e['type'] == 'evpn'))"
}
# expected_view HOST [SKIP-MAC]: what remote_view should print.
expected_view() {
    local i v
    for i in $HOSTS; do
        [ "$i" = "$1" ] && continue
        for v in 5 6; do
            [ "$(mac "$v" "$i")" = "${2:-}" ] && continue
            echo "${v}000 $(mac "$v" "$i") $(vtep "$i")"
        done
    done | sort
}
views_converged() {
    local i
    for i in $HOSTS; do
        [ "$(remote_view "h$i")" = "$(expected_view "$i" "${1:-}")" ] \
            || return 1
    done
}
flood_lists_converged() {
    local i want
    for i in $HOSTS; do
        want=$(for j in $HOSTS; do [ "$j" = "$i" ] || vtep "$j"; done \
                   | sort | paste -sd,)
        [ "$(vsctl "h$i" --format=json list-vnis \
             | json "','.join(sorted(set(','.join(sorted(v['evpn_vteps']))
                                          for v in j['vnis'])))")" \
            = "$want" ] || return 1
    done
}
stale_free() {
    local i
    for i in $HOSTS; do
        [ "$(vsctl "h$i" --format=json fdb-stats | json "j['evpn_macs']")" \
            = "$(expected_view "$i" "${1:-}" | grep -c .)" ] || return 1
    done
}

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
# address) and says so; v5N reaches it again within 2 s.
LAST=$N
vsctl h1 del-port t5 || fail "removing v51's port on h1"
vsctl h2 add-port t5m type=tap vni=5000 || fail "v51's new port on h2"
in_ns h2 ip link set t5m netns "$(ns v51)"
in_ns v51 ip link set t5m address "$(mac 5 1)" mtu 1450 up
in_ns v51 ip addr add "$(ip_of 5 1)/24" dev t5m
start=$(date +%s%N)
announce v51 t5m "$(mac 5 1)" "$(ip_of 5 1)"
until in_ns "v5$LAST" ping -c 1 -W 0.2 "$(ip_of 5 1)" >/dev/null 2>&1; do
    [ $(( ($(date +%s%N) - start) / 1000000 )) -gt 10000 ] && break
done
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
echo "moved VM reachable after $elapsed ms"
check "the moved VM is reachable from h$LAST within 2 s ($elapsed ms)" \
    test "$elapsed" -le 2000
moved_view_ok() {
    local i want
    for i in $HOSTS; do
        [ "$i" = 2 ] && continue
        want="5000 $(mac 5 1) $(vtep 2)"
        remote_view "h$i" | grep -qx "$want" || return 1
    done
}
check "every other host lists v51 at h2" wait_for 10 moved_view_ok

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
kill -9 "${GOBGPD[h2]}"
start_gobgpd h2 || fail "restarting gobgpd on h2"
check "after gobgpd's restart on h2, the tables converge back" \
    wait_for 30 now_view

# The agent of h3 (killed): a port removed meanwhile is withdrawn when it
# comes back, and nothing else changes.
kill -9 "${AGENTS[h3]}"
vsctl h3 del-port t5 || fail "removing v53's port while the agent is down"
start_agent h3
gone53() {
    local i
    for i in $HOSTS; do
        remote_view "h$i" | grep -q "$(mac 5 3)" && return 1
    done
    return 0
}
check "after the agent's restart on h3, what went meanwhile is withdrawn" \
    wait_for 30 gone53

# vswitchd of h2 (kill -9) and started again: its EVPN state comes back
# from the routes.  Its VMs' TAP devices went with it, so their MACs are
# withdrawn from every other host, and nothing stale stays.
before=$(remote_view h2)
kill -9 "$(cat "$WORK/h2.pid")"
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

for i in $HOSTS; do cat "$WORK/h$i-agent.log"; done | sort | uniq -c \
    | sort -rn | head -20
for i in $HOSTS; do kill "${AGENTS[h$i]}" 2>/dev/null; stop_vswitchd "h$i"; done
finish
