#!/bin/bash
# The README's demo: DESIGN.md's packet story on three hosts.
#
# Installs what is needed and builds vswitch, then builds three hosts in
# network namespaces on one underlay segment, each with its own vswitchd,
# a VXLAN port and VMs (namespaces behind TAP ports) in VNIs 5000 and 6000,
# and shows: the first ARP flooded to the VNI's multicast group, every
# VTEP learning the sender against the outer source address, the traffic
# after it unicast VTEP to VTEP, each host's MAC table and counters, and
# VNI 6000 kept apart.  Everything it makes is removed at the end.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
if [ -e "$top/config.status" ]; then
    build=$top                  # A developer's in-place build.
    make -C "$build" -s -j"$(nproc)"
else
    bash "$top/tests/build.sh" demo
    build=$top/build-demo
fi
VSWITCHD=$build/switchd/vswitchd
CTL=$build/ctl/vswitch-ctl

WORK=$(mktemp -d /tmp/vswitch-demo.XXXXXX)
TAG=$$
NAMESPACES=()
cleanup() {
    for pid in "$WORK"/*.pid; do
        [ -e "$pid" ] && kill -9 "$(cat "$pid")" 2>/dev/null
    done
    for n in "${NAMESPACES[@]}"; do
        ip netns del "$n" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

ns() { echo "demo$TAG-$1"; }
in_ns() { local n=$1; shift; timeout 30 ip netns exec "$(ns "$n")" "$@"; }
make_ns() {
    ip netns add "$(ns "$1")"
    NAMESPACES+=("$(ns "$1")")
    in_ns "$1" ip link set lo up
}
ctl() { local h=$1; shift; timeout 10 "$CTL" --socket "$WORK/$h.sock" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Building three hosts on one underlay segment (172.31.250.0/24)"
make_ns underlay
in_ns underlay ip link add br0 type bridge mcast_snooping 0
in_ns underlay ip link set br0 up
for i in 1 2 3; do
    make_ns "h$i"
    ip link add eth0 netns "$(ns "h$i")" type veth peer name "d$TAG$i" \
        netns "$(ns underlay)"
    in_ns underlay ip link set "d$TAG$i" master br0 up
    in_ns "h$i" ip link set eth0 up
    in_ns "h$i" ip addr add "172.31.250.$i/24" dev eth0
    in_ns "h$i" "$VSWITCHD" --socket "$WORK/h$i.sock" --db "$WORK/h$i.db" \
        --pidfile="$WORK/h$i.pid" --log-file="$WORK/h$i.log" --detach
    ctl "h$i" add-port vtep0 type=vxlan local_ip="172.31.250.$i" dev=eth0
    ctl "h$i" add-vni 5000 group=239.1.1.1
    ctl "h$i" add-vni 6000 group=239.1.1.2
done

# vm NAME HOST VNI IP MAC: a VM namespace behind a TAP port.
vm() {
    make_ns "$1"
    # IPv4 only, so that the capture below tells the story and no more.
    in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
    ctl "$2" add-port "$1" type=tap vni="$3"
    in_ns "$2" ip link set "$1" netns "$(ns "$1")"
    in_ns "$1" ip link set "$1" address "$5" mtu 1450 up
    in_ns "$1" ip addr add "$4/24" dev "$1"
}
vm vmA h1 5000 10.0.50.1 02:00:00:00:01:11
vm vmB h2 5000 10.0.50.2 02:00:00:00:02:22
vm vmC h3 5000 10.0.50.3 02:00:00:00:03:33
vm vmD h1 6000 10.0.60.1 02:00:00:00:06:01
vm vmE h3 6000 10.0.60.3 02:00:00:00:06:03
echo "VNI 5000: vmA on h1, vmB on h2, vmC on h3 (flooding to 239.1.1.1)"
echo "VNI 6000: vmD on h1, vmE on h3 (flooding to 239.1.1.2)"
ctl h1 show

in_ns h1 tcpdump -i eth0 -n -U -w "$WORK/underlay.pcap" udp port 4789 \
    >/dev/null 2>&1 &
capture=$!
sleep 1

say "vmA (10.0.50.1) pings vmB (10.0.50.2); nobody knows anybody yet"
in_ns vmA ping -c 3 -i 0.3 -W 2 10.0.50.2
say "vmD pings vmE in VNI 6000"
in_ns vmD ping -c 2 -i 0.3 -W 2 10.0.60.3
sleep 0.5
kill "$capture"
wait "$capture" 2>/dev/null || true

say "What h1's underlay carried (outer destination, VNI, inner frame)"
tshark -r "$WORK/underlay.pcap" -Y vxlan -T fields -e frame.number \
    -e ip.src -e ip.dst -e vxlan.vni -e _ws.col.Info 2>/dev/null \
    | awk -F'\t' '{ split($2, s, ","); split($3, d, ",");
                    printf "%3s  %-13s -> %-13s VNI %-5s %s\n",
                           $1, s[1], d[1], $4, $5 }' | head -16
echo "The first ARP request went to the group 239.1.1.1; every VTEP in it"
echo "learned vmA against 172.31.250.1.  vmB's reply and the pings after it"
echo "went unicast between the two VTEPs; VNI 6000 flooded to 239.1.1.2."

for i in 1 2 3; do
    say "h$i: vswitch-ctl fdb-show"
    ctl "h$i" fdb-show
done
say "h1: vswitch-ctl stats"
ctl h1 stats
say "h3: vswitch-ctl --format=json fdb-show 5000"
ctl h3 --format=json fdb-show 5000

say "VNI isolation: vmC (VNI 5000) cannot reach vmE (VNI 6000)"
if in_ns vmC ping -c 1 -W 1 10.0.60.3 >/dev/null 2>&1; then
    echo "unexpected: it answered"
    exit 1
fi
echo "no answer, as it should be"
say "Done; removing the hosts"
