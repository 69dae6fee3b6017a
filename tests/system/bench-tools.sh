#!/bin/bash
# The traffic programs of bench/e2e-bench.sh, so that none of its figures
# rests on a generator that sends other frames than it says or a counter
# that counts wrong: udpsink counts a UDP GSO train as the datagrams it
# holds and a plain datagram as one; udpblast -x sends the VXLAN packet
# asked for (VNI, inner MACs and addresses, a valid inner IPv4 checksum,
# an 18-byte payload: a 64-byte inner frame with the FCS), and with -i
# and -e whole frames with the outer headers asked; tcp-rr counts
# transactions and its server ends with its client.  All on the loopback
# of a namespace of the test's own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

BENCH=$top_builddir/bench
make_ns t

# 10 trains of 64 datagrams of 68 bytes (UDP_SEGMENT), then 5 plain ones.
send_trains() {
    in_ns t python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_UDP, 103, 68)          # UDP_SEGMENT
for _ in range(10):
    s.sendto(bytes(64 * 68), ("127.0.0.1", 4789))
p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5):
    p.sendto(bytes(68), ("127.0.0.1", 4789))'
}

ip netns exec "$(ns t)" "$BENCH/udpsink" 4789 10 >"$WORK/sink.out" &
sink=$!
at_exit "kill_child $sink"
wait_for 10 in_ns t sh -c "ss -Hlun 'sport = :4789' | grep -q ." \
    || fail "udpsink listens"
check "trains sent with UDP_SEGMENT" send_trains
# counted N: asks the sink for its count and says whether the last it
# printed is N (the answer to this question comes by the next one).
counted() {
    kill -USR1 $sink
    [ "$(tail -n 1 "$WORK/sink.out")" = "$1" ]
}
wait_for 5 counted 645
check_eq "udpsink counts 10 trains of 64 and 5 datagrams as 645" \
    645 "$(tail -n 1 "$WORK/sink.out")"
stop_child $sink 5

start_capture vx t lo "$WORK/vx.pcap" -c 3 udp dst port 4789
in_ns t "$BENCH/udpblast" \
    -x 5000,02:00:00:97:01:01,02:00:00:97:02:02,10.97.1.2,10.97.1.99 \
    127.0.0.1 4789 1 18 >"$WORK/sent"
stop_capture vx
fields=$(tshark -r "$WORK/vx.pcap" -o ip.check_checksum:TRUE \
             -d udp.port==4789,vxlan -c 1 -T fields -E separator=' ' \
             -e vxlan.vni -e eth.dst -e eth.src -e ip.src -e ip.dst \
             -e ip.checksum.status -e udp.length 2>/dev/null)
# Each field twice where tshark sees both layers: outer (loopback: zero
# MACs), then inner.  Checksum status 1 is "good".
zero=00:00:00:00:00:00
want="5000 $zero,02:00:00:97:01:01 $zero,02:00:00:97:02:02"
want+=" 127.0.0.1,10.97.1.2 127.0.0.1,10.97.1.99 1,1 76,26"
check_eq "udpblast -x: VNI, inner MACs, addresses, checksum, length" \
    "$want" "$fields"
if [ "$(cat "$WORK/sent")" -gt 0 ] 2>/dev/null; then
    pass "udpblast counts what it sent"
else
    fail "udpblast counts what it sent (printed '$(cat "$WORK/sent")')"
fi

# -i and -e: whole frames through AF_PACKET, with the outer headers asked.
start_capture eth t lo "$WORK/eth.pcap" -c 3 udp dst port 4790
in_ns t "$BENCH/udpblast" -i lo \
    -e 02:00:00:97:03:03,02:00:00:97:04:04,10.0.0.4 10.0.0.3 4790 1 18 \
    >"$WORK/sent"
stop_capture eth
fields=$(tshark -r "$WORK/eth.pcap" -o ip.check_checksum:TRUE -c 1 \
             -T fields -E separator=' ' -e eth.dst -e eth.src -e ip.src \
             -e ip.dst -e ip.checksum.status -e udp.srcport -e udp.length \
             2>/dev/null)
check_eq "udpblast -i -e: MACs, addresses, checksum, ports, length" \
    "02:00:00:97:03:03 02:00:00:97:04:04 10.0.0.4 10.0.0.3 1 49152 26" \
    "$fields"

ip netns exec "$(ns t)" "$BENCH/tcp-rr" -s 5202 &
srv=$!
at_exit "kill_child $srv"
wait_for 10 in_ns t sh -c "ss -Hltn 'sport = :5202' | grep -q ." \
    || fail "tcp-rr listens"
rate=$(in_ns t "$BENCH/tcp-rr" 127.0.0.1 5202 1)
if [[ $rate =~ ^[1-9][0-9]*$ ]]; then
    pass "tcp-rr prints transactions per second ($rate)"
else
    fail "tcp-rr prints transactions per second (printed '$rate')"
fi
wait_for 5 bash -c "! kill -0 $srv" \
    && pass "tcp-rr's server ends with its client" \
    || fail "tcp-rr's server ends with its client"
finish
