#!/bin/bash
# ## e2e-bench.sh: across the overlay, end to end
#
# `e2e-bench.sh` builds two hosts in network namespaces on a veth
# underlay (a Linux bridge in a namespace of its own, as the system tests
# do), sends traffic across VNI 5000 from one side to the other, and
# compares three set-ups:
#
# | set-up | sender side | receiver side |
# |---|---|---|
# | `kernel` (a) | Linux vxlan device | Linux vxlan device |
# | `vswitchd` (b) | vswitchd, TAP "VM" | vswitchd, TAP "VM" |
# | `mixed` (c) | vswitchd, TAP "VM" | Linux vxlan device |
#
# The kernel's side has its overlay address on its vxlan device itself,
# the leanest path the kernel has and so the reference; a vswitchd side
# has it on a TAP port inside a "VM" namespace.  Peers are static
# (`remote` on a vxlan device, head-end replication `flood=` on a VNI).
# Overlay MTUs are 1450 everywhere, offloads are the defaults.
#
# Two figures per set-up:
#
# - TCP throughput: one iperf3 stream for 10 s (`iperf3 -c -t 10`), as the
#   receiver counts it.
# - 64-byte packet rate: a UDP sender with an 18-byte payload (a 64-byte
#   frame on the overlay, counting the FCS), as fast as it can for 7 s,
#   measured on the receiver side as the growth of the receiving overlay
#   interface's `rx_packets` (`/sys/class/net/IF/statistics`) over the
#   middle 5 s: the frames the receiving VTEP delivered, whatever the
#   sender offered.  The sender is a small C program, compiled at run
#   time, that calls `sendmmsg()` with 64 datagrams a time, so that it
#   offers more than any set-up delivers (the `64B tx` column says how
#   much).  Not `iperf3 -u -l 18 -b 0`: it needs its TCP control
#   connection to work both ways, which a one-way rate should not depend
#   on, and it sends one datagram per system call.  The receiver binds a
#   socket that never reads, so that no ICMP errors flow back.
# - 64-byte frames per core: the same frames divided by the CPU time
#   (user and system, from /proc/PID/stat) that the sending and the
#   receiving vswitchd used over the same 5 s.  With both daemons, the
#   traffic's two ends and the kernel sharing two cores, this is the
#   figure to set beside a per-core rate measured elsewhere.  Softirq
#   work that the kernel runs outside a daemon's system calls is not
#   counted in it.
#
# It prints one table, with the ratio of each figure to the kernel's:
#
# ```
# make                           # the tree must be built
# sudo bench/e2e-bench.sh        # or: bench/e2e-bench.sh --build DIR
# ```
#
# The whole run takes about 50 s.  It needs root, iperf3, python3 and a C
# compiler (tests/deps.sh installs them); every namespace, daemon and
# file it makes is removed when it ends.  It is not a test: the figures
# depend on the machine and its load.  On a 2-core machine the sender,
# the receiver and the daemons (and the kernel's softirq work) compete
# for both cores: the kernel's whole path runs in the sender's system
# calls, on one core, while two vswitchd and the two ends of the traffic
# share both.  After the table it prints where frames were lost: in the
# sending VM's TAP queue (vswitchd did not read them in time) and in the
# receiving vswitchd's UDP socket buffer.
#
# What it measured here, and why, is in bench/README.md.

usage() {
    echo "usage: $0 [--build DIR]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
        --build)
            [ $# -ge 2 ] || usage
            top_builddir=$(cd "$2" && pwd) || exit 2
            shift 2 ;;
        --build=*)
            top_builddir=$(cd "${1#--build=}" && pwd) || exit 2
            shift ;;
        -h|--help) usage ;;
        *) usage ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
. "$top_srcdir/tests/system/lib.sh"
. "$top_srcdir/tests/system/netns.sh"

for prog in "$VSWITCHD" "$CTL_BIN"; do
    if [ ! -x "$prog" ]; then
        echo "$0: $prog is missing: build the tree first (make)" >&2
        exit 1
    fi
done
for cmd in iperf3 python3 cc; do
    command -v $cmd >/dev/null || { echo "$0: needs $cmd" >&2; exit 1; }
done

TCP_SECS=10
UDP_SECS=7              # the sender's run
UDP_WINDOW=5            # the part of it that is measured
UDP_PORT=9000
IPERF_PORT=5201

# The 64-byte sender: DST PORT SECONDS PAYLOAD_LEN; prints how many
# datagrams the kernel took.
cat >"$WORK/udpblast.c" <<'EOF'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

int
main(int argc, char *argv[])
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    struct mmsghdr msgs[BATCH];
    static char payload[1472];
    struct timespec now, end;
    unsigned long long sent = 0;
    struct iovec iov;
    int fd;

    if (argc != 5 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
        fprintf(stderr, "usage: udpblast IP PORT SECONDS LEN\n");
        return 2;
    }
    sin.sin_port = htons(atoi(argv[2]));
    iov.iov_base = payload;
    iov.iov_len = (size_t) atoi(argv[4]);
    if (iov.iov_len > sizeof payload) {
        return 2;
    }
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sin, sizeof sin)) {
        perror("udpblast");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += atoi(argv[3]);
    do {
        int n = sendmmsg(fd, msgs, BATCH, 0);

        if (n > 0) {
            sent += (unsigned long long) n;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec < end.tv_sec
             || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
    printf("%llu\n", sent);
    return 0;
}
EOF
cc -O2 -o "$WORK/udpblast" "$WORK/udpblast.c" || exit 1

A_IP=172.31.254.1
B_IP=172.31.254.2
SRC_IP=10.97.1.1
DST_IP=10.97.1.2

# kernel_vtep HOST LOCAL REMOTE OVERLAY_IP: a vxlan device vx0 on HOST
# with the overlay address; prints the interface that receives.
kernel_vtep() {
    local host=$1 local=$2 remote=$3 addr=$4
    in_ns "$host" ip link add vx0 type vxlan id 5000 dstport 4789 \
        local "$local" remote "$remote" dev eth0 || return 1
    in_ns "$host" ip link set vx0 up
    in_ns "$host" ip addr add "$addr/24" dev vx0
}

# switch_vtep HOST LOCAL REMOTE VM OVERLAY_IP MAC: vswitchd on HOST with
# a TAP VM in VNI 5000 that floods to REMOTE.
switch_vtep() {
    local host=$1 local=$2 remote=$3 vm=$4 addr=$5 mac=$6
    start_vswitchd "$host" || return 1
    vsctl "$host" add-port vtep0 type=vxlan local_ip="$local" dev=eth0 \
        || return 1
    vsctl "$host" add-vni 5000 flood="$remote" || return 1
    make_vm "$vm" "$host" tap0 5000 "$addr/24" "$mac"
}

# Set-up X: namespaces X1 and X2 (the hosts), Xs (the underlay) and, for
# vswitchd sides, Xv1 and Xv2 (the VMs).  Sets SRC_NS and SRC_IF, where
# the sender is and its overlay interface, and DST_NS and DST_IF for the
# receiver; SRC_SWITCH and DST_SWITCH name the hosts that run vswitchd
# (empty for a kernel side).
setup() {
    local x=$1
    make_underlay "${x}s" || return 1
    make_ns "${x}1" && make_ns "${x}2" || return 1
    plug "${x}1" "${x}s" "$A_IP/24" && plug "${x}2" "${x}s" "$B_IP/24" \
        || return 1
    case $x in
        a)
            kernel_vtep a1 $A_IP $B_IP $SRC_IP || return 1
            kernel_vtep a2 $B_IP $A_IP $DST_IP || return 1
            SRC_NS=a1 SRC_IF=vx0 DST_NS=a2 DST_IF=vx0
            SRC_SWITCH= DST_SWITCH= ;;
        b)
            switch_vtep b1 $A_IP $B_IP bv1 $SRC_IP 02:00:00:97:01:01 \
                || return 1
            switch_vtep b2 $B_IP $A_IP bv2 $DST_IP 02:00:00:97:01:02 \
                || return 1
            SRC_NS=bv1 SRC_IF=tap0 DST_NS=bv2 DST_IF=tap0
            SRC_SWITCH=b1 DST_SWITCH=b2 ;;
        c)
            switch_vtep c1 $A_IP $B_IP cv1 $SRC_IP 02:00:00:97:01:01 \
                || return 1
            kernel_vtep c2 $B_IP $A_IP $DST_IP || return 1
            # A NIC finishes the inner checksums that the kernel's vxlan
            # leaves to offload, a veth does not, and vswitchd finishes
            # them only for its own host's frames (vswitchd(8)).
            in_ns c2 ethtool -K eth0 tx off >/dev/null || return 1
            SRC_NS=cv1 SRC_IF=tap0 DST_NS=c2 DST_IF=vx0
            SRC_SWITCH=c1 DST_SWITCH= ;;
    esac
}

# teardown X: frees the CPU and names of set-up X before the next one
# (the exit handler would do it too, at the end).
teardown() {
    local x=$1 n
    for n in 1 2; do
        # The pid file goes too, so that the exit handler cannot kill a
        # process that reused the number.
        if [ -e "$WORK/$x$n.pid" ]; then
            kill -9 "$(cat "$WORK/$x$n.pid")" 2>/dev/null
            rm -f "$WORK/$x$n.pid"
        fi
    done
    for n in s 1 2 v1 v2; do
        ip netns del "$(ns "$x$n")" 2>/dev/null
    done
}

# tcp_gbps: one iperf3 stream from SRC_NS to DST_IP; prints Gbit/s as the
# receiver counted, or "failed".
tcp_gbps() {
    local srv
    timeout $((TCP_SECS + 20)) ip netns exec "$(ns "$DST_NS")" \
        iperf3 -s -1 -p $IPERF_PORT >/dev/null 2>&1 &
    srv=$!
    wait_for 10 in_ns "$DST_NS" \
        sh -c "ss -Hltn 'sport = :$IPERF_PORT' | grep -q ."
    timeout $((TCP_SECS + 15)) ip netns exec "$(ns "$SRC_NS")" \
        iperf3 -c $DST_IP -p $IPERF_PORT -t $TCP_SECS --connect-timeout 3000 \
        -J >"$WORK/iperf.json" 2>/dev/null
    kill "$srv" 2>/dev/null
    wait "$srv" 2>/dev/null
    python3 - "$WORK/iperf.json" <<'EOF'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    print("%.2f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("failed")
EOF
}

rx_packets() {
    in_ns "$DST_NS" cat "/sys/class/net/$DST_IF/statistics/rx_packets"
}

# cpu_ticks HOST: the CPU time HOST's vswitchd has used, in clock ticks
# (user and system, fields 14 and 15 of /proc/PID/stat), or nothing if
# HOST is empty.
cpu_ticks() {
    [ -n "$1" ] || return 0
    awk '{ print $14 + $15 }' "/proc/$(cat "$WORK/$1.pid")/stat"
}

# per_core FRAMES TICKS: frames per second of one core's time, in
# thousands, or "-" without ticks.
per_core() {
    awk -v f="$1" -v t="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {
        if (t > 0) printf "%d", f / (t / hz) / 1000; else printf "-" }'
}

# lost X: after the UDP run of set-up X, where frames were lost on the
# way: the sender's overlay interface (for a TAP, the frames vswitchd did
# not read in time) and, with vswitchd receiving, its UDP socket.
lost() {
    local x=$1 line
    line="${NAME[$x]}: the sender's $SRC_IF dropped"
    line+=" $(in_ns "$SRC_NS" \
                  cat "/sys/class/net/$SRC_IF/statistics/tx_dropped")"
    if [ "$DST_IF" = tap0 ]; then
        line+="; the receiving vswitchd's UDP socket overflowed"
        line+=" $(in_ns "${x}2" nstat -az UdpRcvbufErrors \
                  | awk '$1 == "UdpRcvbufErrors" { print $2 }')"
    fi
    echo "$line"
}

# udp_kpps: prints "RECEIVED_KPPS SENT_KPPS SRC_PER_CORE DST_PER_CORE"
# for 64-byte frames from SRC_NS to DST_IP, or "failed failed - -".  The
# per-core figures divide the frames received by the CPU time the sending
# and the receiving vswitchd used over the same window ("-" for a kernel
# side).
udp_kpps() {
    local sink blast rx0 rx1 sent s0 s1 d0 d1
    timeout $((UDP_SECS + 10)) ip netns exec "$(ns "$DST_NS")" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
time.sleep(float(sys.argv[2]))' $UDP_PORT $((UDP_SECS + 3)) &
    sink=$!
    wait_for 10 in_ns "$DST_NS" \
        sh -c "ss -Hlun 'sport = :$UDP_PORT' | grep -q ."
    timeout $((UDP_SECS + 10)) ip netns exec "$(ns "$SRC_NS")" \
        "$WORK/udpblast" $DST_IP $UDP_PORT $UDP_SECS 18 >"$WORK/sent" &
    blast=$!
    sleep 1
    rx0=$(rx_packets)
    s0=$(cpu_ticks "$SRC_SWITCH") d0=$(cpu_ticks "$DST_SWITCH")
    sleep $UDP_WINDOW
    rx1=$(rx_packets)
    s1=$(cpu_ticks "$SRC_SWITCH") d1=$(cpu_ticks "$DST_SWITCH")
    wait "$blast"
    kill "$sink" 2>/dev/null
    wait "$sink" 2>/dev/null
    sent=$(cat "$WORK/sent")
    if [ -n "$rx0" ] && [ -n "$rx1" ] && [ -n "$sent" ]; then
        echo "$(( (rx1 - rx0) / UDP_WINDOW / 1000 ))" \
            "$(( sent / UDP_SECS / 1000 ))" \
            "$(per_core $((rx1 - rx0)) $((${s1:-0} - ${s0:-0})))" \
            "$(per_core $((rx1 - rx0)) $((${d1:-0} - ${d0:-0})))"
    else
        echo "failed failed - -"
    fi
}

declare -A TCP RX SENT PING NAME SRC_CORE DST_CORE
NAME[a]="(a) kernel - kernel"
NAME[b]="(b) vswitchd - vswitchd"
NAME[c]="(c) vswitchd - kernel"
started=$SECONDS
for x in a b c; do
    echo "${NAME[$x]}: setting up" >&2
    if ! setup $x; then
        echo "${NAME[$x]}: set-up failed" >&2
        TCP[$x]=failed RX[$x]=failed SENT[$x]=failed PING[$x]=no
        SRC_CORE[$x]=- DST_CORE[$x]=-
        teardown $x
        continue
    fi
    # Resolve ARP and let both sides learn before anything is timed.
    if in_ns "$SRC_NS" ping -c 3 -i 0.2 -W 2 $DST_IP >/dev/null; then
        PING[$x]=yes
    else
        PING[$x]=no
    fi
    echo "${NAME[$x]}: TCP, ${TCP_SECS} s" >&2
    TCP[$x]=$(tcp_gbps)
    echo "${NAME[$x]}: 64-byte UDP, ${UDP_SECS} s" >&2
    read -r RX[$x] SENT[$x] SRC_CORE[$x] DST_CORE[$x] < <(udp_kpps)
    lost $x >>"$WORK/lost"
    teardown $x
done

# ratio VALUE REFERENCE
ratio() {
    awk -v v="$1" -v r="$2" 'BEGIN {
        if (v + 0 > 0 && r + 0 > 0) printf "%.2f", v / r; else printf "-" }'
}
echo
printf '%-24s %-4s %10s %5s %11s %5s %11s %9s %9s\n' SET-UP PING \
    "TCP Gbit/s" RATIO "64B rx kpps" RATIO "64B tx kpps" "tx kpps/c" \
    "rx kpps/c"
for x in a b c; do
    printf '%-24s %-4s %10s %5s %11s %5s %11s %9s %9s\n' "${NAME[$x]}" \
        "${PING[$x]}" "${TCP[$x]}" "$(ratio "${TCP[$x]}" "${TCP[a]}")" \
        "${RX[$x]}" "$(ratio "${RX[$x]}" "${RX[a]}")" "${SENT[$x]}" \
        "${SRC_CORE[$x]}" "${DST_CORE[$x]}"
done
echo
echo "TCP: one iperf3 stream, ${TCP_SECS} s, as received.  64B rx: frames"
echo "the receiving VTEP delivered per second (rx_packets of the receiver's"
echo "overlay interface over ${UDP_WINDOW} s); 64B tx: datagrams the sender"
echo "handed to its kernel per second over ${UDP_SECS} s.  kpps/c: the 64B"
echo "rx frames per second of CPU time of the sending (tx) and receiving"
echo "(rx) vswitchd over the same ${UDP_WINDOW} s, user and system time."
echo "$(nproc) CPUs; the run took $((SECONDS - started)) s."
echo
echo "Frames lost in the whole run (TCP and UDP):"
cat "$WORK/lost"
exit 0
