#!/bin/bash
# Interoperation with the Linux kernel vxlan driver as the peer VTEP.
#
# Host A runs vswitchd (a vxlan port and a TAP "VM" in VNI 5000); host B
# has no vswitchd, only a kernel vxlan device vx0 (VNI 5000, port 4789) on
# the same underlay segment.  The overlay address of host B sits on vx0
# itself rather than on a veth behind a Linux bridge that enslaves vx0: the
# inner source MAC that our switch learns is then vx0's own, which the test
# sets, and there are fewer moving parts whose failure would look like an
# interoperation bug.  The kernel driver learns and encapsulates the same
# way in both set-ups (learning happens in the vxlan device, not in the
# bridge).
#
# First flood-and-learn over the multicast group 239.1.1.1 on both sides:
# ping both ways, a 16 MiB TCP transfer each way checked by SHA-256, each
# side's MAC table learns the other side against the other VTEP, and tshark
# decodes the underlay frames as VXLAN with VNI 5000 and the inner ICMP
# intact.  Then unicast with static peers: the kernel's vx0 with
# "remote A" and our VNI with head-end replication to B: ping both ways.
# Last, a frame over the VM's MTU in a fragmented outer datagram is dropped
# at the TAP port, counted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

A_IP=172.31.254.1
B_IP=172.31.254.2
VM_IP=10.97.0.1
VX_IP=10.97.0.2
VM_MAC=02:00:00:97:00:01
VX_MAC=02:00:00:97:00:02
GROUP=239.1.1.1

make_underlay sw
make_ns hA
make_ns hB
plug hA sw "$A_IP/24" || fail "underlay link of hA"
plug hB sw "$B_IP/24" || fail "underlay link of hB"
# Host B's kernel leaves inner checksums to an offload that a veth never
# performs; a NIC would finish them before the wire, and the switch only
# finishes what comes from its own host (vswitchd(8)).  Without transmit
# offload on the veth the kernel finishes them itself, as across a wire.
in_ns hB ethtool -K eth0 tx off >/dev/null || fail "tx offload off on hB"

# Host A: vswitchd with a TAP VM (MTU 1450, as make_vm sets: the kernel's
# vxlan MTU on a 1500-byte underlay).
start_vswitchd hA || fail "vswitchd on hA"
vsctl hA add-port vtep0 type=vxlan local_ip=$A_IP dev=eth0 \
    || fail "vxlan port on hA"
vsctl hA add-vni 5000 group=$GROUP || fail "VNI 5000 on hA"
make_vm vmA hA tap0 5000 "$VM_IP/24" $VM_MAC || fail "VM on hA"

# Host B: the kernel's vxlan device, flood-and-learn over the group.
make_kernel_vtep() {
    in_ns hB ip link del vx0 2>/dev/null
    in_ns hB ip link add vx0 type vxlan id 5000 dstport 4789 local $B_IP \
        "$@" dev eth0 || return 1
    in_ns hB ip link set vx0 address $VX_MAC up || return 1
    in_ns hB ip addr add "$VX_IP/24" dev vx0
}
check "kernel vxlan device with group $GROUP on hB" \
    make_kernel_vtep group $GROUP
check_eq "the kernel's vx0 has MTU 1450" 1450 \
    "$(in_ns hB cat /sys/class/net/vx0/mtu)"

# Capture the underlay on hA while the pings cross it.
start_capture underlay hA eth0 "$WORK/underlay.pcap" udp port 4789
check "vmA pings the kernel's vx0 (multicast)" in_ns vmA ping -c 3 -W 2 $VX_IP
check "the kernel's vx0 pings vmA (multicast)" in_ns hB ping -c 3 -W 2 $VM_IP
# The last reply reached hB as it left hA, maybe before tcpdump wrote it:
# let the file hold all 12 echoes (bounded) before stopping the capture.
wait_for 10 bash -c "[ \$(tshark -r '$WORK/underlay.pcap' \
    -Y 'vxlan.vni == 5000 && icmp' 2>/dev/null | wc -l) -ge 12 ]"
stop_capture underlay

# Each side learned the other behind the other's VTEP.  bridge -j prints
# a JSON array of entries for vx0.
kernel_dst() {
    in_ns hB bridge -j fdb show dev vx0 \
        | json "[e.get('dst') for e in j if e['mac'] == '$1'][0]"
}
ours() {
    vsctl hA --format=json fdb-show 5000 \
        | json "[e['remote'] or e['port'] for e in j['entries']
                 if e['mac'] == '$1'][0]"
}
check_eq "the kernel learned vmA behind our VTEP" $A_IP "$(kernel_dst $VM_MAC)"
check_eq "we learned vx0 behind the kernel's VTEP" $B_IP "$(ours $VX_MAC)"
check_eq "we learned vmA on its TAP port" tap0 "$(ours $VM_MAC)"

# The wire: every VXLAN frame with inner ICMP, both ways, decodes with
# VNI 5000, the I flag alone, an inner echo of 84 bytes inside an outer
# packet 50 bytes longer less the outer Ethernet header, and a good inner
# ICMP checksum.  Fields are tab-separated; ip.src and ip.len list the
# outer value first, then the inner one.
tshark -r "$WORK/underlay.pcap" \
    -Y "vxlan.vni == 5000 && icmp" -T fields -E separator=/t \
    -e ip.src -e vxlan.flags -e ip.len -e icmp.type -e icmp.checksum.status \
    2>"$WORK/tshark.err" >"$WORK/wire.txt"
wire_summary() {
    # Prints, per outer source and ICMP type, the distinct decodings.
    awk -F'\t' '{ split($1, s, ","); print s[1], $2, $3, $4, $5 }' \
        "$WORK/wire.txt" | sort | uniq -c \
        | awk '{ $1 = ""; print substr($0, 2) }'
}
check_eq "tshark decodes both sides' frames: VXLAN 5000, inner ICMP intact" \
    "$A_IP 0x0800 134,84 0 1
$A_IP 0x0800 134,84 8 1
$B_IP 0x0800 134,84 0 1
$B_IP 0x0800 134,84 8 1" "$(wire_summary)"
n_ours=$(awk -F'\t' -v a=$A_IP '{ split($1, s, ",") } s[1] == a' \
             "$WORK/wire.txt" | wc -l)
check "tshark sees all 6 of our ICMP frames ($n_ours)" test "$n_ours" -ge 6

# TCP both ways, 16 MiB of random data, compared by SHA-256 (xfer.py).
head -c $((16 << 20)) /dev/urandom >"$WORK/data.bin"
want="$(stat -c %s "$WORK/data.bin")"
want+=" $(sha256sum "$WORK/data.bin" | cut -d' ' -f1)"

# transfer FROM TO TO_IP PORT: sends data.bin from namespace FROM to a
# receiver in namespace TO, which leaves what it got in rx.PORT.
# Meanwhile the first 300 TCP segments that the kernel's side sends are
# captured where they reach vmA, for checked_csums below.
transfer() {
    local from=$1 to=$2 ip=$3 port=$4 rx start
    start_capture "tap$port" vmA tap0 "$WORK/tap.$port.pcap" -c 300 \
        tcp and src host $VX_IP
    timeout 60 ip netns exec "$(ns "$to")" python3 "$XFER" recv \
        "$port" >"$WORK/rx.$port" 2>"$WORK/rx.$port.err" &
    rx=$!
    wait_for 10 in_ns "$to" sh -c "ss -Hltn 'sport = :$port' | grep -q ." \
        || echo "receiver did not listen"
    start=$(date +%s.%N)
    in_ns "$from" timeout 60 python3 "$XFER" send "$ip" "$port" \
        "$WORK/data.bin" 2>"$WORK/tx.$port.err" \
        || echo "sender failed: $(tail -n 1 "$WORK/tx.$port.err")"
    wait $rx
    echo "($from -> $to took $(awk -v s="$start" -v e="$(date +%s.%N)" \
        'BEGIN { printf "%.1f s", e - s }'))"
    stop_capture "tap$port"
}

# checked_csums PORT: how many of the kernel's TCP segments captured at
# vmA during the transfer on PORT had a bad checksum, and how many there
# were ("BAD TOTAL").  The kernel's vxlan device leaves the inner checksum
# to offload; whoever decapsulates must see it completed before a VM does.
# Only wire-sized frames (1450 bytes of IP) count: a larger one is a TCP
# super frame that the kernel's vx0 passed whole over the veth and that
# vswitchd hands on whole with its offload metadata, to be finished and
# cut by the VM's stack, not on any wire.
WIRE_SIZED='frame.len <= 1464'
checked_csums() {
    tshark -r "$WORK/tap.$1.pcap" -o tcp.check_checksum:TRUE \
        -Y "$WIRE_SIZED" -T fields -e tcp.checksum.status 2>/dev/null \
        | awk '$1 == 0 { bad++ } { n++ } END { print bad + 0, n + 0 }'
}

# bad_csums PORT: what the segments with a bad checksum were, for the
# failure message.
bad_csums() {
    tshark -r "$WORK/tap.$1.pcap" -o tcp.check_checksum:TRUE \
        -Y "$WIRE_SIZED && tcp.checksum.status == 0" -T fields \
        -e frame.len -e ip.len -e tcp.len -e tcp.flags.str -e tcp.checksum \
        2>/dev/null | head -3 | tr '\t\n' ' ;'
}
transfer vmA hB $VX_IP 5001
check_eq "16 MiB over TCP from vmA to the kernel's vx0, SHA-256 intact" \
    "$want" "$(tr -d '\n' <"$WORK/rx.5001")"
read -r bad n < <(checked_csums 5001)
check "the kernel's TCP segments reach vmA with good checksums ($bad/$n bad)" \
    test "$n" -gt 0 -a "$bad" -eq 0
[ "$bad" -eq 0 ] || echo "bad segments (frame, IP and TCP length, flags, checksum): $(bad_csums 5001)"
transfer hB vmA $VM_IP 5002
check_eq "16 MiB over TCP from the kernel's vx0 to vmA, SHA-256 intact" \
    "$want" "$(tr -d '\n' <"$WORK/rx.5002")"
read -r bad n < <(checked_csums 5002)
check "the kernel's TCP segments reach vmA with good checksums ($bad/$n bad)" \
    test "$n" -gt 0 -a "$bad" -eq 0
[ "$bad" -eq 0 ] || echo "bad segments (frame, IP and TCP length, flags, checksum): $(bad_csums 5002)"

# Unicast with static peers: the kernel's vx0 floods to A alone, and our
# VNI replicates to B alone.  Both sides start with empty tables and ARP
# caches, so the first ARP request crosses by the flood targets.
check "kernel vxlan device with remote $A_IP on hB" \
    make_kernel_vtep remote $A_IP
check "VNI 5000 on hA floods to $B_IP by head-end replication" \
    vsctl hA set-vni 5000 flood=$B_IP
vsctl hA fdb-flush 5000 >/dev/null
in_ns vmA ip neigh flush dev tap0
check "vmA pings the kernel's vx0 (unicast)" in_ns vmA ping -c 3 -W 2 $VX_IP
in_ns vmA ip neigh flush dev tap0
in_ns hB ip neigh flush dev vx0
vsctl hA fdb-flush 5000 >/dev/null
in_ns hB bridge fdb del $VM_MAC dev vx0 2>/dev/null
check "the kernel's vx0 pings vmA (unicast)" in_ns hB ping -c 3 -W 2 $VM_IP
check_eq "the kernel learned vmA behind our VTEP (unicast)" $A_IP \
    "$(kernel_dst $VM_MAC)"
check_eq "we learned vx0 behind the kernel's VTEP (unicast)" $B_IP \
    "$(ours $VX_MAC)"

# A frame over the VM's MTU that arrives whole but not as a super frame:
# the kernel's vx0, given a large MTU (without an underlay device, which
# would bound it), sends an 8000-byte ICMP echo whose outer datagram hB
# fragments, and our UDP socket takes it reassembled.  As a Linux bridge does, the TAP port drops it, counted as
# tx_error, rather than hand the VM a frame its MTU does not allow.
tap_tx_errors() {
    vsctl hA --format=json list-ports \
        | json "[p for p in j['ports'] if p['name'] == 'tap0'][0]['counters']['drops'].get('tx_error', 0)"
}
in_ns hB ip link del vx0
in_ns hB ip link add vx0 type vxlan id 5000 dstport 4789 local $B_IP \
    remote $A_IP
in_ns hB ip link set vx0 address $VX_MAC mtu 9000 up
in_ns hB ip addr add "$VX_IP/24" dev vx0
before=$(tap_tx_errors)
if in_ns hB ping -c 1 -W 2 -s 8000 $VM_IP >/dev/null 2>&1; then
    fail "an 8000-byte echo reached vmA, whose MTU is 1450"
else
    pass "an 8000-byte echo does not reach vmA, whose MTU is 1450"
fi
after=$(tap_tx_errors)
check "it is counted as the TAP's tx_error ($before, then $after)" \
    test "$after" -gt "$before"
check "an echo that fits still does" in_ns hB ping -c 1 -W 2 -s 1400 $VM_IP

stop_vswitchd hA
finish
