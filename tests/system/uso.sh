#!/bin/bash
# UDP segmentation offload (USO): an application that sends with
# UDP_SEGMENT (QUIC, WireGuard) hands its VM's interface one datagram of
# up to 64 KB to be cut into wire-sized ones.  A TAP port (TUN_F_USO4/6)
# and a system port (the virtio-net header of AF_PACKET) take such super
# frames whole, pass them whole to a port that takes them and cut them
# into datagrams for every other output, the underlay among them; a TAP
# with USO gets datagrams of one flow joined again (GRO).
#
# Host h1 runs vswitchd with TAP VMs vm1 and vm3 and vm5 behind a system
# port (a veth, one end in vm5); h2 runs vswitchd with TAP VM vm2; VNI 5000
# floods by head-end replication.  Each transfer is 40 bursts of 40,000
# bytes in 1400-byte datagrams (1160 datagrams), IPv4 and IPv6, counted
# and compared byte for byte by the receiver (tests/system/uso.py), whose
# UDP_GRO socket takes a super frame that arrived whole in one read: so
# few reads say the frames crossed the switch whole.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

case $(uname -r) in
    [1-5].*|6.[01].*)
        echo "SKIP: $(basename "$0"): Linux $(uname -r) has no USO on a" \
            "TAP or in AF_PACKET's virtio-net header (6.2 and later have)"
        exit 77 ;;
esac

USO=$top_srcdir/tests/system/uso.py
BURSTS=40
SIZE=40000
SEG=1400
DATAGRAMS=$((BURSTS * ((SIZE + SEG - 1) / SEG)))

make_underlay sw
for i in 1 2; do
    make_ns "h$i"
    plug "h$i" sw "172.31.246.$i/24" || fail "underlay link of h$i"
    start_vswitchd "h$i" || fail "vswitchd on h$i"
    vsctl "h$i" add-port vtep0 type=vxlan local_ip="172.31.246.$i" dev=eth0 \
        || fail "vxlan port on h$i"
    vsctl "h$i" add-vni 5000 flood=172.31.246.1,172.31.246.2 \
        || fail "VNI on h$i"
done
# vm_addr VM IF N: IPv6 address number N on interface IF of VM.
vm_addr() {
    in_ns "$1" ip -6 addr add "fd94::$3/64" dev "$2" nodad
}
make_vm vm1 h1 tap0 5000 10.94.0.1/24 02:00:00:94:00:01 || fail "vm1"
make_vm vm3 h1 tap1 5000 10.94.0.3/24 02:00:00:94:00:03 || fail "vm3"
make_vm vm2 h2 tap0 5000 10.94.0.2/24 02:00:00:94:00:02 || fail "vm2"
make_ns vm5
ip link add sys0 netns "$(ns h1)" type veth peer name eth0 \
    netns "$(ns vm5)" || fail "veth of vm5"
in_ns vm5 ip link set eth0 address 02:00:00:94:00:05 mtu 1450 up
in_ns vm5 ip addr add 10.94.0.5/24 dev eth0
in_ns h1 ip link set sys0 mtu 1450 up
vsctl h1 add-port sys0 type=system vni=5000 || fail "system port sys0"
vm_addr vm1 tap0 1
vm_addr vm2 tap0 2
vm_addr vm3 tap1 3
vm_addr vm5 eth0 5

port_field() {
    vsctl "$1" --format=json list-ports \
        | json "[p for p in j['ports'] if p['name'] == '$2'][0]$3"
}
for port in tap0 sys0; do
    check_eq "h1's $port shows uso among its offloads" True \
        "$(port_field h1 $port "['offloads'].count('uso') == 1")"
done

# Neighbours resolved first, so that no datagram waits for them.
for ip in 10.94.0.2 10.94.0.3 10.94.0.5 fd94::2 fd94::3 fd94::5; do
    check "vm1 pings $ip" in_ns vm1 ping -c 1 -W 2 "$ip"
done
for ip in 10.94.0.1 10.94.0.2 fd94::1 fd94::2; do
    check "vm5 pings $ip" in_ns vm5 ping -c 1 -W 2 "$ip"
done

# transfer FROM TO IP PORT: BURSTS UDP_SEGMENT bursts from FROM to TO at
# IP; prints "VALID INVALID READS" as TO's receiver counted them.
transfer() {
    local from=$1 to=$2 ip=$3 port=$4 rx
    timeout 60 ip netns exec "$(ns "$to")" python3 "$USO" recv "$port" \
        $BURSTS $SIZE $SEG >"$WORK/rx.$port" 2>"$WORK/rx.$port.err" &
    rx=$!
    wait_for 10 grep -q ready "$WORK/rx.$port" \
        || echo "receiver did not start"
    in_ns "$from" python3 "$USO" send "$ip" "$port" $BURSTS $SIZE $SEG \
        2>"$WORK/tx.$port.err" || echo "sender failed" >&2
    wait "$rx"
    tail -n 1 "$WORK/rx.$port"
}
# check_transfer WHAT FROM TO IP PORT WHOLE: every datagram arrived with
# its bytes; if WHOLE is "whole", in super frames that crossed whole (a
# read per burst), else cut into datagrams on the underlay (h1's VTEP
# counts each) and joined again for the receiving VM's TAP (GRO, so fewer
# reads than datagrams).
check_transfer() {
    local what=$1 whole=$6 got reads sent
    sent=$(port_field h1 vtep0 "['counters']['tx_packets']")
    got=$(transfer "$2" "$3" "$4" "$5")
    check_eq "$what: every datagram with its bytes" "$DATAGRAMS 0" \
        "${got% *}"
    reads=${got##* }
    if [ "$whole" = whole ]; then
        check_eq "$what: passed whole (reads)" $BURSTS "$reads"
    else
        sent=$(( $(port_field h1 vtep0 "['counters']['tx_packets']") - sent ))
        check "$what: cut into $sent datagrams on the underlay" \
            test "$sent" -ge $DATAGRAMS
        check "$what: joined again for the VM ($reads reads)" \
            test "$reads" -lt $DATAGRAMS
    fi
}
rx_packets() {
    port_field "$1" "$2" "['counters']['rx_packets']"
}
# tx_errors HOST PORT: what PORT could not write.  A TAP counts frames
# flooded to it before its VM brought it up, so only the change counts.
tx_errors() {
    port_field "$1" "$2" "['counters']['drops'].get('tx_error', 0)"
}
tx_errors_before=$(tx_errors h2 tap0)

# From a TAP VM: across VXLAN (cut before encapsulation), and to a TAP
# and a system port on the same host (passed whole).
check_transfer "vm1 to vm2 across VXLAN" vm1 vm2 10.94.0.2 5001 cut
check_transfer "vm1 to vm2 across VXLAN, IPv6" vm1 vm2 fd94::2 5002 cut
before=$(rx_packets h1 tap0)
check_transfer "vm1 to vm3 on its host" vm1 vm3 10.94.0.3 5003 whole
check_eq "h1's tap0 took super frames, not datagrams" True \
    "$(port_field h1 tap0 "['counters']['rx_packets'] - $before < $DATAGRAMS")"
check_transfer "vm1 to vm3 on its host, IPv6" vm1 vm3 fd94::3 5004 whole
check_transfer "vm1 to vm5 behind a system port" vm1 vm5 10.94.0.5 5005 whole

# From a VM behind a system port, which once counted each as rx_error.
before=$(rx_packets h1 sys0)
check_transfer "vm5 to vm2 across VXLAN" vm5 vm2 10.94.0.2 5006 cut
check_transfer "vm5 to vm2 across VXLAN, IPv6" vm5 vm2 fd94::2 5007 cut
check_transfer "vm5 to vm1 on its host" vm5 vm1 10.94.0.1 5008 whole
check_eq "h1's sys0 took super frames, not datagrams" True \
    "$(port_field h1 sys0 "['counters']['rx_packets'] - $before < $DATAGRAMS")"
for port in tap0 sys0; do
    check_eq "h1's $port counted no rx_error" 0 \
        "$(port_field h1 $port "['counters']['drops'].get('rx_error', 0)")"
done
check_eq "h2's tap0 counted no tx_error" "$tx_errors_before" \
    "$(tx_errors h2 tap0)"

finish
