#!/bin/bash
# Make small pcap files of VXLAN frames produced by the Linux kernel vxlan
# driver, as reference data for byte-exact unit tests of vswitch.
#
# Usage (as root, from the repository root):
#     bash tests/data/make-kernel-captures.sh
#
# Writes, next to this script:
#     kernel-vxlan-ipv4.pcap   VNI 5000, IPv4 underlay, unicast remote
#     kernel-vxlan-ipv6.pcap   VNI 6000, IPv6 underlay, unicast remote
#     kernel-vxlan-mcast.pcap  VNI 7000, IPv4 underlay, group 239.1.1.1
# each holding 4 frames: ARP request, ARP reply, ICMP echo request, reply,
# as seen on namespace a's underlay veth.
#
# Two network namespaces joined by a veth pair (underlay); everything is
# created inside them and removed on exit (trap), whatever happens.
# The vxlan devices use kernel defaults for ttl/tos/df/udpcsum on purpose.
# TX checksum offload is turned off on the veth ends (ethtool), otherwise
# tcpdump on the sending veth sees CHECKSUM_PARTIAL skbs whose UDP checksum
# field holds only the pseudo-header sum; with it off the kernel computes the
# full checksum in software and the pcap holds what a real wire would carry.
# This changes no vxlan option.
# Needs: iproute2, ethtool, tcpdump, iputils-ping, coreutils (timeout).

set -eu

DATADIR=$(cd "$(dirname "$0")" && pwd)
NS_A="vswcap-a-$$"
NS_B="vswcap-b-$$"
TMPD=""
TCPDUMP_PID=""

cleanup() {
    local rc=$?
    set +e
    if [ -n "$TCPDUMP_PID" ]; then
        kill "$TCPDUMP_PID" 2>/dev/null
        timeout 5 tail --pid="$TCPDUMP_PID" -f /dev/null 2>/dev/null
        kill -KILL "$TCPDUMP_PID" 2>/dev/null
        TCPDUMP_PID=""
    fi
    # Deleting a namespace destroys the veth ends and vxlan devices in it.
    ip netns del "$NS_A" 2>/dev/null
    ip netns del "$NS_B" 2>/dev/null
    [ -n "$TMPD" ] && rm -rf "$TMPD"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ "$(id -u)" -ne 0 ]; then
    echo "$0: must run as root" >&2
    exit 1
fi
for t in ip ethtool tcpdump ping timeout sysctl; do
    command -v "$t" >/dev/null || { echo "$0: missing tool: $t" >&2; exit 1; }
done

TMPD=$(mktemp -d /tmp/vswcap.XXXXXX)
chmod 755 "$TMPD"

a() { ip netns exec "$NS_A" "$@"; }
b() { ip netns exec "$NS_B" "$@"; }

ip netns add "$NS_A"
ip netns add "$NS_B"

# ---- underlay: veth pair, created directly inside the namespaces ----------
ip -n "$NS_A" link add veth0 address 02:00:00:00:0a:01 type veth \
    peer name veth0 netns "$NS_B" address 02:00:00:00:0b:01

for ns in "$NS_A" "$NS_B"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.veth0.accept_dad=0
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.veth0.router_solicitations=0
    # Devices created from now on (the vxlan overlays) get no IPv6 at all,
    # so no RS/MLD/DAD frames get encapsulated into the captures.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done

ip -n "$NS_A" addr add 172.31.250.1/24 dev veth0
ip -n "$NS_B" addr add 172.31.250.2/24 dev veth0
ip -n "$NS_A" addr add fd00:250::1/64 dev veth0 nodad
ip -n "$NS_B" addr add fd00:250::2/64 dev veth0 nodad
for ns in "$NS_A" "$NS_B"; do
    ip netns exec "$ns" ethtool -K veth0 tx off >/dev/null
    ip -n "$ns" link set veth0 up
done

# ---- overlays: kernel vxlan devices with default options ------------------
# mkvx NS DEV MAC OVERLAY-ADDR VXLAN-ARGS...
mkvx() {
    local ns=$1 dev=$2 mac=$3 addr=$4
    shift 4
    ip -n "$ns" link add "$dev" address "$mac" type vxlan "$@"
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
    ip -n "$ns" addr add "$addr" dev "$dev"
    ip -n "$ns" link set "$dev" up
}

mkvx "$NS_A" vx0 02:00:00:00:01:01 10.250.0.1/24 \
    id 5000 dstport 4789 local 172.31.250.1 remote 172.31.250.2 dev veth0
mkvx "$NS_B" vx0 02:00:00:00:02:02 10.250.0.2/24 \
    id 5000 dstport 4789 local 172.31.250.2 remote 172.31.250.1 dev veth0

mkvx "$NS_A" vx6 02:00:00:00:06:01 10.251.0.1/24 \
    id 6000 dstport 4789 local fd00:250::1 remote fd00:250::2 dev veth0
mkvx "$NS_B" vx6 02:00:00:00:06:02 10.251.0.2/24 \
    id 6000 dstport 4789 local fd00:250::2 remote fd00:250::1 dev veth0

mkvx "$NS_A" vxm 02:00:00:00:07:01 10.252.0.1/24 \
    id 7000 dstport 4789 group 239.1.1.1 dev veth0
mkvx "$NS_B" vxm 02:00:00:00:07:02 10.252.0.2/24 \
    id 7000 dstport 4789 group 239.1.1.1 dev veth0

# For the record: the vxlan options the kernel chose by default.
ip -n "$NS_A" -d link show vx0
ip -n "$NS_A" -d link show vx6
ip -n "$NS_A" -d link show vxm

# Wait (bounded) until the underlay is usable in both directions.
timeout 10 bash -c "until ip netns exec '$NS_A' ping -c 1 -W 1 -q 172.31.250.2 >/dev/null 2>&1; do sleep 0.2; done"
timeout 10 bash -c "until ip netns exec '$NS_A' ping -c 1 -W 1 -q fd00:250::2 >/dev/null 2>&1; do sleep 0.2; done"
# Let IGMP joins / any residual underlay chatter settle (not captured anyway:
# the capture filter is udp port 4789).
sleep 1

# ---- captures --------------------------------------------------------------
# capture OUTFILE PEER-OVERLAY-IP
capture() {
    local out=$1 peer=$2 tmp err="$TMPD/tcpdump.err"
    tmp="$TMPD/$(basename "$out")"
    : >"$err"
    timeout 20 ip netns exec "$NS_A" \
        tcpdump -i veth0 -n -U -s 0 -c 4 -Z root -w "$tmp" 'udp port 4789' \
        2>"$err" &
    TCPDUMP_PID=$!
    # Bounded wait until tcpdump has its filter attached.
    if ! timeout 10 bash -c "until grep -q 'listening on' '$err'; do sleep 0.1; done"; then
        echo "$0: tcpdump did not start:" >&2
        cat "$err" >&2
        exit 1
    fi
    a ping -c 1 -W 2 "$peer" >/dev/null
    # tcpdump exits by itself after 4 frames; bound the wait, then stop it.
    if ! timeout 5 tail --pid="$TCPDUMP_PID" -f /dev/null; then
        kill -TERM "$TCPDUMP_PID" 2>/dev/null || true
    fi
    local rc=0
    wait "$TCPDUMP_PID" || rc=$?
    TCPDUMP_PID=""
    if [ "$rc" -ne 0 ] || ! grep -q '^4 packets captured' "$err"; then
        echo "$0: capture for $out did not get exactly 4 frames (rc=$rc):" >&2
        cat "$err" >&2
        exit 1
    fi
}

capture "$DATADIR/kernel-vxlan-ipv4.pcap"  10.250.0.2
capture "$DATADIR/kernel-vxlan-ipv6.pcap"  10.251.0.2
capture "$DATADIR/kernel-vxlan-mcast.pcap" 10.252.0.2

# Only now replace the files, all together, so a failed or interrupted run
# leaves the previous set untouched.
for f in kernel-vxlan-ipv4.pcap kernel-vxlan-ipv6.pcap kernel-vxlan-mcast.pcap; do
    chmod 644 "$TMPD/$f"
    mv -f "$TMPD/$f" "$DATADIR/$f"
    echo "wrote $DATADIR/$f"
done
