#!/bin/bash
# Whole super frames through the tunnel TAP (tunnel-tap.h): where the
# kernel takes UDP-tunnel GSO on a TAP (Linux 6.17 and later), a VM's TCP
# super frames leave vswitchd whole, encapsulated, through a "vswgsoN"
# device that the VXLAN port makes, and cross the veth underlay as one
# packet each.
#
# Host h1 runs vswitchd with VM vm1; h2 runs vswitchd with vm2; h3 is the
# kernel's vxlan device.  VNI 5000 floods by head-end replication.  16 MiB
# go over TCP from vm1 to vm2 and from vm1 to h3's vx0, checked by
# SHA-256; the tunnel TAP and the underlay count packets longer than any
# MTU, so the frames did go whole; vm2's stack counts no bad checksum.
# Then gso_tap=false takes the path away (the device goes) and the same
# transfer is still intact; and so it is when the device is deleted under
# the port, which stops using it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

case $(uname -r) in
    [1-5].*|6.[0-9].*|6.1[0-6].*)
        echo "SKIP: $(basename "$0"): Linux $(uname -r) takes no UDP-tunnel" \
            "GSO on a TAP (6.17 and later do)"
        exit 77 ;;
esac

make_underlay sw
for i in 1 2 3; do
    make_ns "h$i"
    plug "h$i" sw "172.31.249.$i/24" || fail "underlay link of h$i"
done
for i in 1 2; do
    start_vswitchd "h$i" || fail "vswitchd on h$i"
    vsctl "h$i" add-port vtep0 type=vxlan local_ip="172.31.249.$i" dev=eth0 \
        || fail "vxlan port on h$i"
    vsctl "h$i" add-vni 5000 flood=172.31.249.1,172.31.249.2,172.31.249.3 \
        || fail "VNI on h$i"
    make_vm "vm$i" "h$i" tap0 5000 "10.95.0.$i/24" "02:00:00:95:00:0$i" \
        || fail "VM on h$i"
done
# The kernel's own frames to vm1 carry checksums left to an offload that a
# veth never performs (kernel-interop.sh says more): it finishes them
# itself without transmit offload on its underlay device.
in_ns h3 ethtool -K eth0 tx off >/dev/null || fail "tx offload off on h3"
in_ns h3 ip link add vx0 type vxlan id 5000 dstport 4789 \
    local 172.31.249.3 dev eth0 || fail "kernel vxlan device on h3"
for i in 1 2; do
    in_ns h3 bridge fdb append 00:00:00:00:00:00 dev vx0 \
        dst "172.31.249.$i"
done
in_ns h3 ip link set vx0 address 02:00:00:95:00:03 mtu 1450 up
in_ns h3 ip addr add 10.95.0.3/24 dev vx0

gso_dev() {
    in_ns h1 ip -o link show type tun | awk -F': ' '$2 ~ /^vswgso/ { print $2 }'
}
check_eq "the VXLAN port made a tunnel TAP" vswgso0 "$(gso_dev)"
vxlan_offloads() {
    vsctl h1 --format=json show \
        | json "[p['offloads'] for p in j['ports'] if p['name'] == 'vtep0'][0]"
}
check_eq "show says the VXLAN port sends super frames whole" \
    "['tunnel_gso']" "$(vxlan_offloads)"

# dev_stat NS DEV FIELD: a counter of DEV in NS.
dev_stat() {
    in_ns "$1" cat "/sys/class/net/$2/statistics/$3"
}

# transfer TO IP PORT: 16 MiB from vm1 to TO at IP; prints the byte count
# and SHA-256 that arrived.
head -c $((16 << 20)) /dev/urandom >"$WORK/data.bin"
want="$(wc -c <"$WORK/data.bin") $(sha256sum "$WORK/data.bin" | cut -d' ' -f1)"
transfer() {
    local to=$1 ip=$2 port=$3 rx
    timeout 60 ip netns exec "$(ns "$to")" python3 "$XFER" recv "$port" \
        >"$WORK/rx.$port" 2>"$WORK/rx.$port.err" &
    rx=$!
    wait_for 10 in_ns "$to" sh -c "ss -Hltn 'sport = :$port' | grep -q ." \
        || echo "receiver did not listen"
    in_ns vm1 timeout 60 python3 "$XFER" send "$ip" "$port" \
        "$WORK/data.bin" 2>"$WORK/tx.$port.err" \
        || echo "sender failed: $(tail -n 1 "$WORK/tx.$port.err")"
    wait $rx
    tr -d '\n' <"$WORK/rx.$port"
}

check "vm1 pings vm2" in_ns vm1 ping -c 2 -W 2 10.95.0.2
check "vm1 pings the kernel's vx0" in_ns vm1 ping -c 2 -W 2 10.95.0.3

tap_rx0=$(dev_stat h1 vswgso0 rx_packets)
tap_bytes0=$(dev_stat h1 vswgso0 rx_bytes)
ul_rx0=$(dev_stat h2 eth0 rx_packets)
ul_bytes0=$(dev_stat h2 eth0 rx_bytes)
bad0=$(in_ns vm2 nstat -az TcpInCsumErrors | awk '/TcpInCsumErrors/ { print $2 }')
check_eq "16 MiB from vm1 to vm2, SHA-256 intact" "$want" \
    "$(transfer vm2 10.95.0.2 5001)"
tap_rx=$(( $(dev_stat h1 vswgso0 rx_packets) - tap_rx0 ))
tap_bytes=$(( $(dev_stat h1 vswgso0 rx_bytes) - tap_bytes0 ))
check "super frames went into the tunnel TAP ($tap_rx, $tap_bytes bytes)" \
    test "$tap_rx" -gt 0 -a "$tap_bytes" -gt $((tap_rx * 4000))
ul_rx=$(( $(dev_stat h2 eth0 rx_packets) - ul_rx0 ))
ul_bytes=$(( $(dev_stat h2 eth0 rx_bytes) - ul_bytes0 ))
check "and crossed the underlay whole ($ul_rx packets, $ul_bytes bytes)" \
    test "$ul_rx" -gt 0 -a "$ul_bytes" -gt $((ul_rx * 4000))
bad=$(in_ns vm2 nstat -az TcpInCsumErrors | awk '/TcpInCsumErrors/ { print $2 }')
check_eq "vm2's stack found no bad TCP checksum" 0 $((bad - bad0))

check_eq "16 MiB from vm1 to the kernel's vx0, SHA-256 intact" "$want" \
    "$(transfer h3 10.95.0.3 5002)"

check "gso_tap=false" vsctl h1 set-port vtep0 gso_tap=false
check_eq "the tunnel TAP is gone" "" "$(gso_dev)"
check_eq "and show says so" "[]" "$(vxlan_offloads)"
check_eq "and says why" gso_tap=false \
    "$(vsctl h1 --format=json show \
       | json "[p['offload_note'] for p in j['ports'] if p['name'] == 'vtep0'][0]")"
check_eq "16 MiB from vm1 to vm2 without it, SHA-256 intact" "$want" \
    "$(transfer vm2 10.95.0.2 5003)"

# Someone sets the device down: the port brings it up again, and cuts
# the frame in hand meanwhile.  Someone deletes it: the super frames on
# their way are cut in software, and the port stops using it.
check "gso_tap=true" vsctl h1 set-port vtep0 gso_tap=true
check_eq "the tunnel TAP is back" vswgso0 "$(gso_dev)"
check "set the tunnel TAP down by hand" in_ns h1 ip link set vswgso0 down
check_eq "16 MiB from vm1 to vm2 meanwhile, SHA-256 intact" "$want" \
    "$(transfer vm2 10.95.0.2 5005)"
check "the port brought it up again" \
    sh -c "ip netns exec $(ns h1) ip -o link show vswgso0 | grep -q ',UP'"
check_eq "and still sends super frames whole" "['tunnel_gso']" \
    "$(vxlan_offloads)"
check "delete the tunnel TAP by hand" in_ns h1 ip link del vswgso0
check_eq "16 MiB from vm1 to vm2 after that, SHA-256 intact" "$want" \
    "$(transfer vm2 10.95.0.2 5004)"
check_eq "show no longer lists tunnel_gso" "[]" "$(vxlan_offloads)"
check_eq "no frame was lost on the way" 0 \
    "$(vsctl h1 --format=json show \
       | json "[p for p in j['ports'] if p['name'] == 'vtep0'][0]['counters']['drops'].get('tx_error', 0)")"
finish
