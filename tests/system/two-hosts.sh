#!/bin/bash
# Two hosts, each with its own vswitchd, a TAP "VM" each in VNI 5000, a
# veth underlay and multicast flood-and-learn (DESIGN.md's packet story):
# ping both ways; the first ARP goes to the group and later traffic is
# unicast VTEP to VTEP; each side's fdb-show learns the other VM against
# the other VTEP's address.  Then SIGKILL and restart of one daemon: its
# ports come back from the configuration and traffic flows again.  Last,
# one host's underlay device is deleted and made again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

make_underlay sw
for i in 1 2; do
    make_ns "h$i"
    plug "h$i" sw "172.31.252.$i/24"
    start_vswitchd "h$i" || fail "vswitchd on h$i"
    vsctl "h$i" add-port vtep0 type=vxlan local_ip="172.31.252.$i" dev=eth0
    vsctl "h$i" add-vni 5000 group=239.1.1.1
    make_vm "vm$i" "h$i" tap0 5000 "10.99.0.$i/24" "02:00:00:99:00:0$i" \
        || fail "VM on h$i"
done

# Capture the underlay on h1 while the first exchange happens.
start_capture underlay h1 eth0 "$WORK/underlay.pcap" udp port 4789

check "vm1 pings vm2 across VXLAN" in_ns vm1 ping -c 3 -W 2 10.99.0.2
check "vm2 pings vm1 across VXLAN" in_ns vm2 ping -c 3 -W 2 10.99.0.1
stop_capture underlay

tshark -r "$WORK/underlay.pcap" -T fields -e ip.dst -e vxlan.vni -e arp.opcode \
    -e icmp.type -Y vxlan 2>/dev/null >"$WORK/underlay.txt"
# Fields are tab-separated and may be empty; ip.dst lists the outer
# address first, then the inner one.
first_arp=$(awk -F'\t' '$3 == 1 { split($1, a, ","); print a[1]; exit }' \
                "$WORK/underlay.txt")
check_eq "the first ARP request went to the group" 239.1.1.1 "$first_arp"
icmp_dsts=$(awk -F'\t' '$4 != "" { split($1, a, ","); print a[1] }' \
                "$WORK/underlay.txt" | sort -u | tr '\n' ' ')
check_eq "ICMP went unicast VTEP to VTEP" "172.31.252.1 172.31.252.2 " \
    "$icmp_dsts"
check_eq "tshark decodes VNI 5000" 5000 "$(cut -f2 "$WORK/underlay.txt" | sort -u)"

mac_at() {
    vsctl "$1" --format=json fdb-show 5000 \
        | json "[e['remote'] or e['port'] for e in j['entries'] if e['mac'] == '$2'][0]"
}
check_eq "h1 learned vm2 behind h2's VTEP" 172.31.252.2 "$(mac_at h1 02:00:00:99:00:02)"
check_eq "h2 learned vm1 behind h1's VTEP" 172.31.252.1 "$(mac_at h2 02:00:00:99:00:01)"
check_eq "h1 learned vm1 on its TAP port" tap0 "$(mac_at h1 02:00:00:99:00:01)"

# Restart without reconfiguration.
kill -9 "$(cat "$WORK/h1.pid")"
wait_for 10 bash -c "! kill -0 $(cat "$WORK/h1.pid") 2>/dev/null"
check "vswitchd on h1 restarts after SIGKILL" start_vswitchd h1
check_eq "the TAP port is up again" up \
    "$(vsctl h1 --format=json list-ports | json "[p['state'] for p in j['ports'] if p['name'] == 'tap0'][0]")"
check "vm1 pings vm2 after the restart" in_ns vm1 ping -c 3 -W 2 10.99.0.2
# The device deleted underneath the port: the port goes down, frames for it
# are counted, nothing crashes; adding the port again brings it back.
port_field() {
    vsctl "$1" --format=json list-ports \
        | json "[p for p in j['ports'] if p['name'] == '$2'][0]$3"
}
state_is() {
    [ "$(port_field "$1" "$2" "['state']")" = "$3" ]
}
in_ns vm2 ip link del tap0
wait_for 10 state_is h2 tap0 down \
    && pass "a deleted TAP device takes its port down" \
    || fail "tap0 on h2 still up after its device was deleted"
check "h2 still answers" vsctl h2 ping
in_ns vm1 ping -c 2 -W 1 10.99.0.2 >/dev/null 2>&1
check_eq "frames for the missing device are counted" True \
    "$(port_field h2 tap0 "['counters']['drops'].get('port_down', 0) > 0")"
check "del-port of the dead port" vsctl h2 del-port tap0
in_ns h2 ip link del tap0 2>/dev/null
check "add the port again" make_vm_tap vm2 h2 tap0 5000 10.99.0.2/24 02:00:00:99:00:02
check "vm1 pings vm2 once the port is back" in_ns vm1 ping -c 3 -W 2 10.99.0.2

# A system port whose interface goes down and is deleted later: the socket
# has no error left to report, so the daemon's own check must notice.
in_ns h2 ip link add sys0 type veth peer name sys0p
in_ns h2 ip link set sys0p up
check "add a system port" vsctl h2 add-port sys0 type=system vni=5000
wait_for 10 state_is h2 sys0 up \
    && pass "the system port is up" || fail "sys0 on h2 is not up"

# rx_frames: the frames sys0 has taken.  send_frame: one broadcast frame
# from the other end of the veth.
rx_frames() {
    port_field h2 sys0 "['counters']['rx_packets']"
}
send_frame() {
    in_ns h2 python3 -c 'import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("sys0p", 0))
s.send(b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x77\x08\x06" + bytes(46))'
}
frames_over() {
    [ "$(rx_frames)" -gt "$1" ]
}
# An interface that bounces (its socket reports ENETDOWN) keeps its port.
in_ns h2 ip link set sys0 down
in_ns h2 ip link set sys0 up
before=$(rx_frames)
send_frame
wait_for 10 frames_over "$before" \
    && pass "a system port takes frames after its interface bounced" \
    || fail "sys0 took no frame after a bounce: $(port_field h2 sys0 "['state']")"
in_ns h2 ip link set sys0 down
in_ns h2 ip link del sys0
wait_for 10 state_is h2 sys0 down \
    && pass "an interface deleted while down takes its system port down" \
    || fail "sys0 on h2 still up after its interface was deleted"
check_eq "with the reason" True \
    "$(port_field h2 sys0 "['error'].startswith('device gone')")"

# The VTEP's underlay device deleted and made again: the port is down with
# the reason meanwhile, then opens again by itself and joins its group on
# the new device, so that a flood (an ARP request, with every cache and
# table flushed) crosses again without del-port and add-port.
in_ns h2 ip link del eth0
wait_for 10 state_is h2 vtep0 down \
    && pass "a deleted underlay device takes the VTEP down" \
    || fail "vtep0 on h2 still up after eth0 was deleted"
check_eq "with the reason" "device gone: underlay interface eth0 deleted" \
    "$(port_field h2 vtep0 "['error']")"
plug h2 sw 172.31.252.2/24 || fail "the underlay of h2 again"
wait_for 10 state_is h2 vtep0 up \
    && pass "the VTEP comes back with its underlay device" \
    || fail "vtep0 on h2 not up again: $(port_field h2 vtep0 "['error']")"
for i in 1 2; do
    in_ns "vm$i" ip neigh flush all
    vsctl "h$i" fdb-flush 5000 >/dev/null
done
check "vm1 pings vm2 through the group on the new underlay" \
    in_ns vm1 ping -c 3 -W 2 10.99.0.2

stop_vswitchd h1
stop_vswitchd h2
finish
