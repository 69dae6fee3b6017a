#!/bin/bash
# Head-end replication: the three hosts of three-hosts.sh, but the
# underlay bridge does not flood multicast to its ports (mcast_flood off),
# so multicast cannot carry anything, and each VNI floods by unicast
# copies to the other two VTEPs (flood=IP,IP).  Every pair of VMs in a
# VNI pings; on h1's underlay the first ARP request leaves as two
# unicast copies, one to each peer, and nothing goes to a multicast
# address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

HOSTS="1 2 3"
vtep() { echo "172.31.253.$1"; }
peers() {
    local i out=
    for i in $HOSTS; do
        [ "$i" = "$1" ] || out+="${out:+,}$(vtep "$i")"
    done
    echo "$out"
}

make_underlay sw
for i in $HOSTS; do
    make_ns "h$i"
    plug "h$i" sw "$(vtep "$i")/24"
    port="p$TAG""h$i"
    in_ns sw bridge link set dev "${port:0:15}" mcast_flood off \
        || fail "mcast_flood off on ${port:0:15}"
done
check_eq "no underlay bridge port floods multicast" 3 \
    "$(in_ns sw bridge -d link show | grep -c 'mcast_flood off')"

# Multicast really is cut: a datagram h1 sends to a group never reaches h2.
start_capture mc h2 eth0 "$WORK/mcast.pcap" dst host 239.1.1.1 \
    || fail "tcpdump on h2's underlay"
in_ns h1 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
             socket.inet_aton(sys.argv[1]))
for _ in range(3):
    s.sendto(b"multicast probe", ("239.1.1.1", 9))
' "$(vtep 1)" || fail "sending the multicast probe"
sleep 0.5
stop_capture mc
check_eq "multicast does not cross the underlay" 0 \
    "$(tcpdump -r "$WORK/mcast.pcap" -n 2>/dev/null | wc -l)"

for i in $HOSTS; do
    start_vswitchd "h$i" || fail "vswitchd on h$i"
    vsctl "h$i" add-port vtep0 type=vxlan local_ip="$(vtep "$i")" dev=eth0 \
        || fail "vxlan port on h$i"
    vsctl "h$i" add-vni 5000 flood="$(peers "$i")" || fail "VNI 5000 on h$i"
    vsctl "h$i" add-vni 6000 flood="$(peers "$i")" || fail "VNI 6000 on h$i"
    make_vm "v5$i" "h$i" t5000 5000 "10.98.50.$i/24" "02:00:00:98:50:0$i" \
        || fail "VNI 5000 VM on h$i"
    make_vm "v6$i" "h$i" t6000 6000 "10.98.60.$i/24" "02:00:00:98:60:0$i" \
        || fail "VNI 6000 VM on h$i"
done
check_eq "h1's VNI 5000 has no group and floods to the other two VTEPs" \
    "None $(peers 1)" \
    "$(vsctl h1 --format=json list-vnis \
        | json "[str(v['group']) + ' ' + ','.join(v['flood'])
                 for v in j['vnis'] if v['vni'] == 5000][0]")"

start_capture ul h1 eth0 "$WORK/underlay.pcap" udp port 4789 \
    || fail "tcpdump on h1's underlay"
ping_all_pairs "$HOSTS"
stop_capture ul

# Outer source, outer destination, VNI, ARP opcode and target; ip.src and
# ip.dst list the outer address first, then the inner one.
tshark -r "$WORK/underlay.pcap" -T fields -e ip.src -e ip.dst -e vxlan.vni \
    -e arp.opcode -e arp.dst.proto_ipv4 -Y vxlan 2>/dev/null \
    | awk -F'\t' '{ split($1, s, ","); split($2, d, ",");
                    print s[1], d[1], $3, ($4 == "" ? "-" : $4),
                          ($5 == "" ? "-" : $5) }' >"$WORK/underlay.txt"
# The first ARP request from h1: v51 asking for v52.
first=$(awk -v me="$(vtep 1)" '$1 == me && $3 == 5000 && $4 == 1' \
            "$WORK/underlay.txt" | head -2)
check_eq "the first ARP request left as one unicast copy per peer" \
    "$(vtep 2) 10.98.50.2,$(vtep 3) 10.98.50.2," \
    "$(echo "$first" | awk '{ print $2, $5 }' | sort | tr '\n' ',')"
check_eq "no VXLAN frame went to a multicast address" "" \
    "$(awk '$2 ~ /^2(2[4-9]|3[0-9])\./' "$WORK/underlay.txt" | head -3)"
check "h1 sent VXLAN frames to both peers" \
    test "$(awk -v me="$(vtep 1)" '$1 == me { print $2 }' "$WORK/underlay.txt" \
            | sort -u | tr '\n' ' ')" = "$(vtep 2) $(vtep 3) "

for i in $HOSTS; do stop_vswitchd "h$i"; done
finish
