#!/bin/bash
# ## sysport-bench.sh: a VM on a system port, through vswitchd
#
# A VM attached the way libvirt attaches one to Open vSwitch (its TAP a
# `system` port) has a veth pair stand in for that TAP here: one end in
# a "VM" namespace vm1, the other the system port sys0 of one vswitchd,
# VNI 5000, whose other port is the TAP port tap0 of a VM vm2.  vswitchd
# is pinned to the second CPU, the traffic's two ends to the first.  The
# system port receives with `recvmmsg()` (rx_ring=false) or through its
# TPACKET_V3 ring (rx_ring=true), in the order false, true, true, false,
# changed with set-port on the same daemon.  Each run measures:
#
# - 64-byte frames, vm1 to vm2: `capture-bench --send` on vm1's end, a
#   packet socket that sends 60-byte frames to vm2's MAC with
#   `sendmmsg()` as fast as it can, for 7 s; the frames tap0 delivered
#   into vm2 (its `rx_packets` there) over the middle 5 s, per second and
#   per second of vswitchd's CPU time (user and system, /proc/PID/stat).
# - TCP, vm1 to vm2: one iperf3 stream for 5 s (vm1's veth sends TCP
#   super frames whole with their virtio-net header), in Gbit/s as the
#   receiver counts it, and per second of vswitchd's CPU time.
# - Latency at low load: the average round trip of 20 pings from vm1 to
#   vm2, 50 ms apart (a lone frame waits in the ring's block until the
#   kernel's block timer hands it over).
#
# and how many frames sys0 has counted as lost since it was added
# (rx_error, which set-port keeps: with the ring, the frames the kernel
# found no room for; a socket's overflow is not counted).
#
#   make && sudo bench/sysport-bench.sh     # or: --build DIR
#
# It needs root and iperf3; everything it makes is removed when it ends.
# Not a test: the figures depend on the machine and its load.  What it
# measured here is in bench/README.md.

. "$(dirname "$0")/setup.sh" "$@"

SENDER=$top_builddir/bench/capture-bench
for prog in "$VSWITCHD" "$CTL_BIN" "$SENDER"; do
    [ -x "$prog" ] || { echo "$0: $prog is missing: run make" >&2; exit 1; }
done
command -v iperf3 >/dev/null || { echo "$0: needs iperf3" >&2; exit 1; }

MAC1=02:00:00:98:00:01
MAC2=02:00:00:98:00:02
HZ=$(getconf CLK_TCK)

make_ns h1 && make_ns vm1 || exit 1
start_vswitchd h1 || exit 1
taskset -a -p -c 1 "$(cat "$WORK/h1.pid")" >/dev/null
vsctl h1 add-vni 5000 || exit 1
make_vm vm2 h1 tap0 5000 10.98.0.2/24 "$MAC2" || exit 1
ip link add sys0 netns "$(ns h1)" type veth peer name eth0 \
    netns "$(ns vm1)" || exit 1
in_ns vm1 ip link set eth0 address "$MAC1" mtu 1450 up
in_ns vm1 ip addr add 10.98.0.1/24 dev eth0
vsctl h1 add-port sys0 type=system vni=5000 || exit 1
in_ns vm2 iperf3 -s -D -1 --logfile "$WORK/iperf-s.log" >/dev/null

cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$(cat "$WORK/h1.pid")/stat"
}
delivered() {
    in_ns vm2 cat /sys/class/net/tap0/statistics/rx_packets
}

# run RX_RING: one run of both measurements; prints one line.
run() {
    local f0 f1 c0 c1 bps
    vsctl h1 set-port sys0 rx_ring="$1" || exit 1
    # vm2's MAC is learned again (a set-port keeps it, but to be sure).
    in_ns vm1 ping -c 2 -i 0.2 -W 2 10.98.0.2 >/dev/null \
        || echo "vm1 cannot ping vm2 with rx_ring=$1" >&2

    in_ns vm1 taskset -c 0 "$SENDER" --send eth0 --dst "$MAC2" \
        --seconds 7 --size 60 &
    sleep 1
    f0=$(delivered); c0=$(cpu_ticks)
    sleep 5
    f1=$(delivered); c1=$(cpu_ticks)
    wait
    printf 'rx_ring=%-5s 64B: %4d kframes/s, %5s kframes per vswitchd CPU s' \
        "$1" $(((f1 - f0) / 5000)) \
        "$(awk -v f=$((f1 - f0)) -v t=$((c1 - c0)) -v hz="$HZ" \
               'BEGIN { printf "%d", t ? f / (t / hz) / 1000 : 0 }')"

    in_ns vm2 iperf3 -s -D -1 --logfile "$WORK/iperf-s.log" >/dev/null
    sleep 0.5
    c0=$(cpu_ticks)
    bps=$(in_ns vm1 taskset -c 0 iperf3 -c 10.98.0.2 -t 5 -J \
          | json "j['end']['sum_received']['bits_per_second']")
    c1=$(cpu_ticks)
    awk -v b="$bps" -v t=$((c1 - c0)) -v hz="$HZ" 'BEGIN {
        printf "; TCP: %.2f Gbit/s, %.2f Gbit per vswitchd CPU s",
               b / 1e9, t ? b * 5 / 1e9 / (t / hz) : 0 }'
    echo "; ping: $(in_ns vm1 ping -q -c 20 -i 0.05 10.98.0.2 \
                   | awk -F/ '/^rtt/ { print $5 }') ms; sys0 rx_error:" \
         "$(vsctl h1 --format=json list-ports | json "[p for p in \
            j['ports'] if p['name'] == 'sys0'][0]['counters']['drops'] \
            .get('rx_error', 0)")"
}

for mode in false true true false; do
    run $mode
done
