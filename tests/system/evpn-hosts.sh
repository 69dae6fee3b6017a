# Hosts for the EVPN test and benchmark: each with vswitchd, gobgpd and
# the agent vswitch-evpn, in iBGP with a route reflector (gobgpd too, in a
# namespace of its own), on an underlay that carries no multicast.  Source
# it after lib.sh and netns.sh, set N (hosts) and VNIS (digits: 5 for VNI
# 5000...), then run make_evpn_hosts (RR_CLIENTS may name more addresses
# that the route reflector takes as clients: peers of another kind).
# Host hI is at $(vtep I); its VM of VNI V000 is the namespace vVI, on
# the TAP port tV, at $(ip_of V I) with the MAC $(mac V I).

if ! command -v gobgpd >/dev/null || ! command -v gobgp >/dev/null; then
    echo "SKIP: gobgpd is not installed (tests/deps.sh installs it)"
    exit 77
fi

AGENT=$top_builddir/evpn/vswitch-evpn
RR=172.31.251.200
vtep() { echo "172.31.251.$1"; }
mac() { printf '02:00:00:96:%02x:%02x' "$1" "$2"; }
ip_of() { echo "10.98.${1}0.$2"; }     # As ping_all_pairs has it.

# gobgp_conf ROUTER-ID rr|client NEIGHBOR...: gobgpd's configuration, in
# AS 65000; a route reflector's neighbors are its clients.
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

# start_gobgpd HOST, start_agent HOST: the daemons of HOST, in the
# background (not under in_ns, whose time limit is for commands), their
# API on HOST's own loopback; killed at exit.
declare -A GOBGPD=() AGENTS=()
start_gobgpd() {
    local host=$1
    ip netns exec "$(ns "$host")" gobgpd -f "$WORK/$host.toml" \
        --api-hosts 127.0.0.1:50051 >"$WORK/$host-gobgpd.log" 2>&1 &
    GOBGPD[$host]=$!
    at_exit "kill_child -9 ${GOBGPD[$host]}"
    wait_for 10 in_ns "$host" gobgp global
}
start_agent() {
    local host=$1
    ip netns exec "$(ns "$host")" "$AGENT" --ctl "$CTL_BIN" \
        --socket "$WORK/$host.sock" >>"$WORK/$host-agent.log" 2>&1 &
    AGENTS[$host]=$!
    at_exit "kill_child ${AGENTS[$host]}"
}

# kill_wait PID: kill -9, and wait until it is gone (what it held, a
# port or a pid file, is free again).
kill_wait() {
    kill -9 "$1"
    wait_for 10 bash -c "! kill -0 $1 || ps -o stat= -p $1 | grep -q Z"
}

# make_ns_no_ipv6 NAME: a namespace without IPv6, so that nothing crosses
# the switches but what the test sends.
make_ns_no_ipv6() {
    make_ns "$1" && in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
}

# make_underlay_host I: the namespace hI on the underlay at $(vtep I),
# where no multicast reaches it.
make_underlay_host() {
    local port="p$TAG""h$1"
    make_ns_no_ipv6 "h$1"
    plug "h$1" sw "$(vtep "$1")/24"
    in_ns sw bridge link set dev "${port:0:15}" mcast_flood off
}

make_evpn_hosts() {
    local i v
    make_underlay sw
    make_ns rr
    plug rr sw "$RR/24"
    gobgp_conf "$RR" rr $(for i in $(seq "$N"); do vtep "$i"; done) \
        ${RR_CLIENTS:-} >"$WORK/rr.toml"
    start_gobgpd rr || fail "gobgpd on the route reflector"
    for i in $(seq "$N"); do
        make_underlay_host "$i"
        start_vswitchd "h$i" || fail "vswitchd on h$i"
        vsctl "h$i" add-port vtep0 type=vxlan local_ip="$(vtep "$i")" \
            dev=eth0 || fail "vxlan port on h$i"
        for v in $VNIS; do
            vsctl "h$i" add-vni "${v}000" control=evpn ageing=3600 \
                || fail "EVPN VNI ${v}000 on h$i"
            make_ns_no_ipv6 "v$v$i"
            make_vm_tap "v$v$i" "h$i" "t$v" "${v}000" \
                "$(ip_of "$v" "$i")/24" "$(mac "$v" "$i")" \
                || fail "VM of VNI ${v}000 on h$i"
        done
        gobgp_conf "$(vtep "$i")" client "$RR" >"$WORK/h$i.toml"
        start_gobgpd "h$i" || fail "gobgpd on h$i"
        start_agent "h$i"
    done
}

# announce VM DEV MAC IP [COUNT]: the VM says where it is (a gratuitous
# ARP), as a VM does when it boots or has moved; with COUNT, as many
# frames from as many source MACs, MAC's last two bytes counting up,
# paced so that the TAP device's queue does not overflow.
announce() {
    in_ns "$1" python3 -c '
import socket, sys, time
dev, ip = sys.argv[1], socket.inet_aton(sys.argv[3])
base = bytes.fromhex(sys.argv[2].replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
for n in range(int(sys.argv[4])):
    mac = base[:4] + ((int.from_bytes(base[4:], "big") + n) % 65536) \
        .to_bytes(2, "big")
    arp = b"\x00\x01\x08\x00\x06\x04\x00\x01" + mac + ip + b"\0" * 6 + ip
    s.send(b"\xff" * 6 + mac + b"\x08\x06" + arp)
    if n % 64 == 63:
        time.sleep(0.002)   # Within what the TAP queue holds.
' "$2" "$3" "$4" "${5:-1}"
}

# announce_all: every VM of every host (of HOSTS and PEERS) announces
# itself.
announce_all() {
    local i v
    for i in ${PEERS:-$HOSTS}; do
        for v in $VNIS; do
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

# expected_view HOST [SKIP-MAC]: what remote_view should print: the MACs
# of every VM of the other hosts (those of HOSTS, and PEERS, which may
# name hosts of another kind that run the same VMs) but SKIP-MAC.
expected_view() {
    local i v
    for i in ${PEERS:-$HOSTS}; do
        [ "$i" = "$1" ] && continue
        for v in $VNIS; do
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

# flood_lists_converged: every VNI of each host of HOSTS floods to the
# other hosts (of HOSTS and PEERS), as their type-3 routes say.
flood_lists_converged() {
    local i j want
    for i in $HOSTS; do
        want=$(for j in ${PEERS:-$HOSTS}; do
                   [ "$j" = "$i" ] || vtep "$j"
               done | sort | paste -sd,)
        [ "$(vsctl "h$i" --format=json list-vnis \
             | json "','.join(sorted(set(','.join(sorted(v['evpn_vteps']))
                                          for v in j['vnis'])))")" \
            = "$want" ] || return 1
    done
}

# evpn_macs HOST: how many EVPN entries HOST holds.
evpn_macs() { vsctl "$1" --format=json fdb-stats | json "j['evpn_macs']"; }
