#!/bin/bash
# The VTEP's frames leave by its underlay device (dev=) and nowhere else,
# as the kernel's vxlan driver routes them out of its device: when the
# VTEP's address is taken off that device, floods still leave by it only,
# never by the host's default route out of another interface.  (With no
# route left on the device, the kernel takes the peer as on-link there,
# as it does for its own vxlan driver.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

# h1's eth0 is the underlay to the peer; its eth1 leads to "other", where
# h1's default route points.  All of it lives in namespaces made here.
make_ns h1
make_ns peer
make_ns other
ip link add eth0 netns "$(ns h1)" type veth peer name eth0 netns "$(ns peer)"
ip link add eth1 netns "$(ns h1)" type veth peer name eth0 netns "$(ns other)"
in_ns h1 ip link set eth0 up
in_ns h1 ip link set eth1 up
in_ns h1 ip addr add 172.31.60.1/24 dev eth0
in_ns h1 ip addr add 172.31.61.1/24 dev eth1
in_ns h1 ip route add default via 172.31.61.2
in_ns peer ip link set eth0 up
in_ns peer ip addr add 172.31.60.2/24 dev eth0
in_ns other ip link set eth0 up
in_ns other ip addr add 172.31.61.2/24 dev eth0

start_vswitchd h1 || fail "vswitchd on h1"
vsctl h1 add-port vtep0 type=vxlan local_ip=172.31.60.1 dev=eth0
vsctl h1 add-vni 5000 flood=172.31.60.2
make_vm vm1 h1 tap0 5000 10.98.60.1/24 02:00:00:98:60:01 || fail "VM"

# A ping to nobody: its ARP request is flooded to the peer.
flood() { in_ns vm1 timeout 5 ping -c 1 -W 1 10.98.60.99 >/dev/null 2>&1; }

start_capture peer peer eth0 "$WORK/peer.pcap" udp port 4789
flood
stop_capture peer
check_eq "the flood reaches the peer by eth0" 1 \
    "$(tshark -r "$WORK/peer.pcap" -Y vxlan 2>/dev/null | head -n 1 | wc -l)"

in_ns h1 ip addr del 172.31.60.1/24 dev eth0
start_capture other other eth0 "$WORK/other.pcap" udp port 4789
flood
flood
stop_capture other
check_eq "with the VTEP's address gone, nothing leaves by the default route" \
    0 "$(tshark -r "$WORK/other.pcap" -Y vxlan 2>/dev/null | wc -l)"
finish
