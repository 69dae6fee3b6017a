#!/bin/bash
# ## e2e-bench.sh: across the overlay, end to end
#
# `e2e-bench.sh` builds two hosts in network namespaces on a veth
# underlay (a Linux bridge in a namespace of its own, as the system tests
# do), sends traffic across VNI 5000 from one side to the other, and
# compares five set-ups:
#
# | set-up | sender side | receiver side |
# |---|---|---|
# | `kernel` (a) | Linux vxlan device | Linux vxlan device |
# | `vswitchd` (b) | vswitchd, TAP "VM" | vswitchd, TAP "VM" |
# | `mixed` (c) | vswitchd, TAP "VM" | Linux vxlan device |
# | `ovs` (d) | Open vSwitch (userspace), TAP "VM" | Linux vxlan device |
# | `system` (e) | vswitchd, veth "VM" on a system port | the same |
#
# The kernel's side has its overlay address on its vxlan device itself,
# the leanest path the kernel has and so the reference; a switch side has
# it in a "VM" namespace.  Peers are static (`remote` on a vxlan device,
# head-end replication `flood=` on a VNI, `options:remote_ip` in Open
# vSwitch).  Overlay MTUs are 1450 everywhere, offloads are the defaults.
#
# Open vSwitch (Debian's openvswitch-switch; the set-up is skipped with a
# line saying so if it is not installed) is set up as its guide to
# userspace tunneling has a new user do it: bridges with
# datapath_type=netdev, br-int holding a vxlan port (remote_ip, key=5000)
# and a `type=tap` port that Open vSwitch makes and that is moved into
# the VM's namespace, br-phy holding eth0 and its address.  Its
# ovsdb-server and ovs-vswitchd run at nice -10 as ovs-ctl runs them,
# with their database, sockets, pid files and logs in the run's own
# directory, never the host's.  Set-up (e) attaches the VM as libvirt
# attaches a QEMU TAP: a veth pair, one end in the VM, the other a
# vswitchd `system` port.
#
# Per set-up:
#
# - TCP throughput: one iperf3 stream for 10 s, as the receiver counts it.
# - 64-byte packet rate: a UDP sender (bench/udpblast, `sendmmsg()` of 64
#   datagrams of 18 bytes: 64-byte frames on the overlay, counting the
#   FCS) as fast as it can for 7 s, measured on the receiver side as the
#   datagrams bench/udpsink (UDP_GRO) receives over the middle 5 s: the
#   frames the receiving side delivered, whatever the sender offered (the
#   `64B tx` column).  Not the receiving interface's `rx_packets`, which
#   counts a frame that vswitchd joined from many datagrams (GRO for a
#   TAP or system port with USO) once.  Not `iperf3 -u`: its TCP control
#   connection would tie a one-way rate to the return path.  `tx/c` and
#   `rx/c` divide those frames by the CPU time (user and
#   system, /proc/PID/stat, all threads) the sending and the receiving
#   daemon used over the same 5 s; kernel work of the peer that runs in
#   the daemon's context on veth is charged to it, so they are for
#   orientation only.
# - Request/response: bench/tcp-rr sends 1 byte over TCP (TCP_NODELAY),
#   the other end echoes it, for 4 s: transactions per second, the round
#   trip at no load.
#
# Then the 64-byte forwarding ceiling of one daemon (vswitchd in (c), Open
# vSwitch in (d), each with the kernel peer), the daemon and all its
# threads pinned to CPU 1 (taskset -a), the generator to CPU 0, 6 s each
# way, counted over the middle 4 s:
#
# - TAP -> VXLAN: udpblast -i in the VM sends whole frames into the TAP
#   through AF_PACKET, past the queueing discipline (a TAP whose queue is
#   full then refuses them, so what it offered can fall to what the
#   daemon takes); the peer's vxlan device is removed and bench/udpsink,
#   bound to port 4789 with UDP_GRO, counts the datagrams that arrive (a
#   UDP GSO train counted as the datagrams it holds, without the kernel
#   cutting it).
# - VXLAN -> TAP: udpblast -x -i in the peer sends prebuilt VXLAN packets
#   (VNI 5000, to the VM's MAC and address, UDP port 9000) in whole frames
#   to the daemon's port 4789; bench/udpsink in the VM, on CPU 0 with
#   UDP_GRO, counts the datagrams that reach it.  Not the TAP's
#   `rx_packets`: vswitchd joins datagrams of one flow for a TAP with USO
#   (GRO), and the TAP counts each joined frame once.
# - trains -> TAP (vswitchd only): the same frames in UDP GSO trains of
#   32 (udpblast -g 32 through a UDP socket), as a vswitchd peer sends a
#   flow's frames, which the daemon takes one train per buffer.
#
# The ceiling table gives what the generator offered, the frames
# delivered, the daemon's share of CPU 1 (user and system time, all
# threads), how busy CPU 1 was in all (softirq part apart), and the
# frames per second at 100% of the daemon's CPU.
#
# ```
# make                           # the tree must be built
# sudo bench/e2e-bench.sh        # or: bench/e2e-bench.sh --build DIR
# bench/e2e-bench.sh --only tcp,rr,kernel,ovs   # a subset
# ```
#
# The whole run takes under 3 minutes.  It needs root, iperf3, python3,
# taskset and, for (d), openvswitch-switch (tests/deps.sh installs them);
# every namespace, daemon and file it makes is removed when it ends.  It
# is not a test: the figures depend on the machine and its load.  On a
# 2-core machine the sender, the receiver and the daemons (and the
# kernel's softirq work) compete for both cores.  After the tables it
# prints where frames were lost in the 64-byte runs: in the sending VM's
# interface (the switch did not read them in time) and in the receiving
# vswitchd's UDP socket buffer.
#
# What it measured here, and why, is in bench/README.md.

usage() {
    cat >&2 <<USAGE
usage: $0 [--build DIR] [--only LIST]
  LIST: comma-separated measurements (tcp, 64b, rr, ceiling) and set-ups
  (kernel, vswitchd, mixed, ovs, system); without a measurement all are
  run, without a set-up all are.  The kernel pair is the reference of the
  ratios: leave it out and they are "-".
USAGE
    exit 2
}
only=
while [ $# -gt 0 ]; do
    case $1 in
        --build)
            [ $# -ge 2 ] || usage
            top_builddir=$(cd "$2" && pwd) || exit 2
            shift 2 ;;
        --build=*)
            top_builddir=$(cd "${1#--build=}" && pwd) || exit 2
            shift ;;
        --only)
            [ $# -ge 2 ] || usage
            only=$2
            shift 2 ;;
        --only=*)
            only=${1#--only=}
            shift ;;
        *) usage ;;
    esac
done

# The set-ups, in the order they run, and the measurements.
SETUPS=(a b c d e)
declare -A SETUP_OF=([kernel]=a [vswitchd]=b [mixed]=c [ovs]=d [system]=e)
MEASURES=(tcp 64b rr ceiling)
declare -A WANT=()
if [ -n "$only" ]; then
    want_setups=() want_measures=()
    for word in ${only//,/ }; do
        if [ -n "${SETUP_OF[$word]:-}" ]; then
            want_setups+=("${SETUP_OF[$word]}")
        elif [[ " ${MEASURES[*]} " == *" $word "* ]]; then
            want_measures+=("$word")
        else
            echo "$0: --only: unknown '$word'" >&2
            usage
        fi
    done
    if [ ${#want_setups[@]} -gt 0 ]; then
        # In the usual order, whatever the order of the list.
        SETUPS=($(printf '%s\n' "${want_setups[@]}" | sort -u))
    fi
    [ ${#want_measures[@]} -gt 0 ] && MEASURES=("${want_measures[@]}")
fi
for m in "${MEASURES[@]}"; do
    WANT[$m]=1
done
wants() { [ -n "${WANT[$1]:-}" ]; }

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
. "$top_srcdir/tests/system/lib.sh"
. "$top_srcdir/tests/system/netns.sh"

UDPBLAST=$top_builddir/bench/udpblast
UDPSINK=$top_builddir/bench/udpsink
TCP_RR=$top_builddir/bench/tcp-rr
for prog in "$VSWITCHD" "$CTL_BIN" "$UDPBLAST" "$UDPSINK" "$TCP_RR"; do
    if [ ! -x "$prog" ]; then
        echo "$0: $prog is missing: build the tree first (make)" >&2
        exit 1
    fi
done
for cmd in iperf3 python3 taskset; do
    command -v $cmd >/dev/null || { echo "$0: needs $cmd" >&2; exit 1; }
done

TCP_SECS=10
UDP_SECS=7              # the sender's run
UDP_WINDOW=5            # the part of it that is measured
RR_SECS=4
CEIL_SECS=6             # the generator's run for the ceiling
CEIL_WINDOW=4
UDP_PORT=9000
IPERF_PORT=5201
RR_PORT=5202
VXLAN_PORT=4789
HZ=$(getconf CLK_TCK)

A_IP=172.31.254.1
B_IP=172.31.254.2
SRC_IP=10.97.1.1
DST_IP=10.97.1.2
SRC_MAC=02:00:00:97:01:01
DST_MAC=02:00:00:97:01:02
REMOTE_MAC=02:00:00:97:02:02

# Open vSwitch keeps every file of its own under $WORK/ovs: these
# variables move its defaults there, and every command below names its
# files too, so that nothing of the host's (/etc/openvswitch,
# /var/run/openvswitch) is read or written.
OVS_DIR=$WORK/ovs
export OVS_RUNDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR \
    OVS_SYSCONFDIR=$OVS_DIR
OVS_SCHEMA=/usr/share/openvswitch/vswitch.ovsschema

# kernel_vtep HOST LOCAL REMOTE OVERLAY_IP: a vxlan device vx0 on HOST
# with the overlay address.
kernel_vtep() {
    local host=$1 local=$2 remote=$3 addr=$4
    in_ns "$host" ip link add vx0 type vxlan id 5000 dstport $VXLAN_PORT \
        local "$local" remote "$remote" dev eth0 || return 1
    in_ns "$host" ip link set vx0 up
    in_ns "$host" ip addr add "$addr/24" dev vx0
}

# switch_vtep HOST LOCAL REMOTE: vswitchd on HOST with VNI 5000 flooding
# to REMOTE.
switch_vtep() {
    local host=$1 local=$2 remote=$3
    start_vswitchd "$host" || return 1
    vsctl "$host" add-port vtep0 type=vxlan local_ip="$local" dev=eth0 \
        || return 1
    vsctl "$host" add-vni 5000 flood="$remote"
}

# switch_tap_vtep HOST LOCAL REMOTE VM OVERLAY_IP MAC: the same with a
# TAP port tap0 as the VM's interface.
switch_tap_vtep() {
    local host=$1 local=$2 remote=$3 vm=$4 addr=$5 mac=$6
    switch_vtep "$host" "$local" "$remote" || return 1
    make_vm "$vm" "$host" tap0 5000 "$addr/24" "$mac"
}

# switch_system_vtep HOST LOCAL REMOTE VM OVERLAY_IP MAC: the same with a
# veth pair in the place of the TAP that QEMU would make: its end vm0 on
# HOST is a system port, its end eth1 is the VM's interface.
switch_system_vtep() {
    local host=$1 local=$2 remote=$3 vm=$4 addr=$5 mac=$6
    switch_vtep "$host" "$local" "$remote" || return 1
    make_ns "$vm" || return 1
    ip link add vm0 netns "$(ns "$host")" mtu 1450 type veth \
        peer name eth1 netns "$(ns "$vm")" || return 1
    in_ns "$host" ip link set vm0 up || return 1
    vsctl "$host" add-port vm0 type=system vni=5000 || return 1
    in_ns "$vm" ip link set eth1 address "$mac" mtu 1450 up
    in_ns "$vm" ip addr add "$addr/24" dev eth1
}

ovs_vsctl() {
    timeout 20 ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=10 "$@"
}

# ovs_start HOST PROGRAM ARGUMENT...: an Open vSwitch daemon on HOST,
# detached, with its pid file, control socket and log under $OVS_DIR.
# Both run at nice -10, as ovs-ctl starts them (and as vswitchd sets
# itself).
ovs_start() {
    local host=$1 prog=$2
    shift 2
    in_ns "$host" nice -n -10 "$prog" "$@" --pidfile="$OVS_DIR/$prog.pid" \
        --unixctl="$OVS_DIR/$prog.ctl" --log-file="$OVS_DIR/$prog.log" \
        -vconsole:off --detach --no-chdir 2>"$OVS_DIR/$prog.err" \
        || { cat "$OVS_DIR/$prog.err" >&2; return 1; }
    at_exit "kill -9 \$(cat '$OVS_DIR/$prog.pid')"
}

# ovs_vtep HOST LOCAL REMOTE VM OVERLAY_IP MAC: Open vSwitch's userspace
# datapath on HOST, set up as its guide to userspace tunneling
# (Documentation/howto/userspace-tunneling.rst) has a new user do it:
# br-int (datapath_type=netdev) holds the VXLAN port to REMOTE, key 5000,
# and the VM's port; br-phy (netdev too) holds eth0 and takes its address
# LOCAL, since the userspace datapath sends tunnel packets through the
# bridge that its route to REMOTE leaves by.  The VM's port is a TAP that
# Open vSwitch makes (type=tap), moved into the VM's namespace as
# vswitchd's TAP ports are.
ovs_vtep() {
    local host=$1 local=$2 remote=$3 vm=$4 addr=$5 mac=$6 p
    mkdir -p "$OVS_DIR" || return 1
    ovsdb-tool create "$OVS_DIR/conf.db" "$OVS_SCHEMA" || return 1
    ovs_start "$host" ovsdb-server "$OVS_DIR/conf.db" \
        --remote="punix:$OVS_DIR/db.sock" || return 1
    ovs_vsctl --no-wait init || return 1
    ovs_start "$host" ovs-vswitchd "unix:$OVS_DIR/db.sock" || return 1
    p=$(in_ns "$host" cat /sys/class/net/eth0/address)
    ovs_vsctl add-br br-phy -- set bridge br-phy datapath_type=netdev \
        other_config:hwaddr="$p" -- add-port br-phy eth0 || return 1
    in_ns "$host" ip addr flush dev eth0
    in_ns "$host" ip addr add "$local/24" dev br-phy || return 1
    in_ns "$host" ip link set br-phy up
    ovs_vsctl add-br br-int -- set bridge br-int datapath_type=netdev \
        -- add-port br-int vxlan0 -- set interface vxlan0 type=vxlan \
        options:remote_ip="$remote" options:key=5000 \
        -- add-port br-int tap0 -- set interface tap0 type=tap || return 1
    in_ns "$host" ip link set br-int up
    make_ns "$vm" || return 1
    in_ns "$host" ip link set tap0 netns "$(ns "$vm")" || return 1
    in_ns "$vm" ip link set tap0 address "$mac" mtu 1450 up
    in_ns "$vm" ip addr add "$addr/24" dev tap0
}

# Set-up X: namespaces X1 and X2 (the hosts), Xs (the underlay) and, for
# switch sides, Xv1 and Xv2 (the VMs).  Sets SRC_NS and SRC_IF, where
# the sender is and its overlay interface, and DST_NS and DST_IF for the
# receiver; SRC_PID and DST_PID name the pid files of the daemons that
# forward on each side (empty for a kernel side).
setup() {
    local x=$1
    make_underlay "${x}s" || return 1
    make_ns "${x}1" && make_ns "${x}2" || return 1
    plug "${x}1" "${x}s" "$A_IP/24" && plug "${x}2" "${x}s" "$B_IP/24" \
        || return 1
    SRC_PID=$WORK/${x}1.pid DST_PID=$WORK/${x}2.pid
    case $x in
        a)
            kernel_vtep a1 $A_IP $B_IP $SRC_IP || return 1
            kernel_vtep a2 $B_IP $A_IP $DST_IP || return 1
            SRC_NS=a1 SRC_IF=vx0 DST_NS=a2 DST_IF=vx0 SRC_PID= DST_PID= ;;
        b)
            switch_tap_vtep b1 $A_IP $B_IP bv1 $SRC_IP $SRC_MAC || return 1
            switch_tap_vtep b2 $B_IP $A_IP bv2 $DST_IP $DST_MAC || return 1
            SRC_NS=bv1 SRC_IF=tap0 DST_NS=bv2 DST_IF=tap0 ;;
        c|d)
            if [ $x = c ]; then
                switch_tap_vtep c1 $A_IP $B_IP cv1 $SRC_IP $SRC_MAC \
                    || return 1
            else
                ovs_vtep d1 $A_IP $B_IP dv1 $SRC_IP $SRC_MAC || return 1
                SRC_PID=$OVS_DIR/ovs-vswitchd.pid
            fi
            kernel_vtep ${x}2 $B_IP $A_IP $DST_IP || return 1
            # A NIC finishes the inner checksums that the kernel's vxlan
            # leaves to offload, a veth does not, and vswitchd finishes
            # them only for its own host's frames (vswitchd(8)).
            in_ns ${x}2 ethtool -K eth0 tx off >/dev/null || return 1
            SRC_NS=${x}v1 SRC_IF=tap0 DST_NS=${x}2 DST_IF=vx0 DST_PID= ;;
        e)
            switch_system_vtep e1 $A_IP $B_IP ev1 $SRC_IP $SRC_MAC \
                || return 1
            switch_system_vtep e2 $B_IP $A_IP ev2 $DST_IP $DST_MAC \
                || return 1
            SRC_NS=ev1 SRC_IF=eth1 DST_NS=ev2 DST_IF=eth1 ;;
    esac
}

# teardown X: frees the CPU and names of set-up X before the next one
# (the exit handler would do it too, at the end).
teardown() {
    local x=$1 n f
    # The pid files go too, so that the exit handler cannot kill a
    # process that reused the number.
    for f in "$WORK/${x}1.pid" "$WORK/${x}2.pid" \
             "$OVS_DIR/ovs-vswitchd.pid" "$OVS_DIR/ovsdb-server.pid"; do
        if [ -e "$f" ]; then
            kill -9 "$(cat "$f")" 2>/dev/null
            rm -f "$f"
        fi
    done
    for n in s 1 2 v1 v2; do
        ip netns del "$(ns "$x$n")" 2>/dev/null
    done
    rm -rf "$OVS_DIR"
}

# listening NS PROTO PORT: waits until something listens on PORT in NS.
listening() {
    wait_for 10 in_ns "$1" sh -c "ss -Hl$2n 'sport = :$3' | grep -q ."
}

# tcp_gbps: one iperf3 stream from SRC_NS to DST_IP; prints Gbit/s as the
# receiver counted, or "failed".
tcp_gbps() {
    local srv
    timeout $((TCP_SECS + 20)) ip netns exec "$(ns "$DST_NS")" \
        iperf3 -s -1 -p $IPERF_PORT >/dev/null 2>&1 &
    srv=$!
    listening "$DST_NS" t $IPERF_PORT
    timeout $((TCP_SECS + 15)) ip netns exec "$(ns "$SRC_NS")" \
        iperf3 -c $DST_IP -p $IPERF_PORT -t $TCP_SECS --connect-timeout 3000 \
        -J >"$WORK/iperf.json" 2>/dev/null
    kill "$srv" 2>/dev/null
    wait "$srv" 2>/dev/null
    python3 - "$WORK/iperf.json" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    print("%.2f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("failed")
PY
}

# rr_tps: 1-byte TCP ping-pong from SRC_NS to DST_IP; prints transactions
# per second, or "failed".
rr_tps() {
    local srv out
    timeout $((RR_SECS + 20)) ip netns exec "$(ns "$DST_NS")" \
        "$TCP_RR" -s $RR_PORT >/dev/null 2>&1 &
    srv=$!
    listening "$DST_NS" t $RR_PORT
    out=$(timeout $((RR_SECS + 15)) ip netns exec "$(ns "$SRC_NS")" \
              "$TCP_RR" $DST_IP $RR_PORT $RR_SECS 2>/dev/null)
    kill "$srv" 2>/dev/null
    wait "$srv" 2>/dev/null
    echo "${out:-failed}"
}

# stat_of NS IF COUNTER: a counter of interface IF in namespace NS.
stat_of() {
    in_ns "$1" cat "/sys/class/net/$2/statistics/$3"
}

# cpu_ticks PIDFILE: the CPU time the daemon of PIDFILE has used, all its
# threads, in clock ticks (user and system, fields 14 and 15 of
# /proc/PID/stat), or nothing without a PIDFILE.
cpu_ticks() {
    [ -n "$1" ] || return 0
    awk '{ print $14 + $15 }' "/proc/$(cat "$1")/stat"
}

# per_core FRAMES TICKS: frames per second of one core's time, in
# thousands, or "-" without ticks.
per_core() {
    awk -v f="$1" -v t="$2" -v hz="$HZ" 'BEGIN {
        if (t > 0) printf "%d", f / (t / hz) / 1000; else printf "-" }'
}

# cpu1_times: CPU 1's busy, softirq and total time so far, in ticks
# (/proc/stat: user nice system idle iowait irq softirq steal).
cpu1_times() {
    awk '$1 == "cpu1" { t = 0; for (i = 2; i <= 9; i++) t += $i;
                        print t - $5 - $6, $8, t }' /proc/stat
}

# lost X: after the UDP run of set-up X, where frames were lost on the
# way: the sender's overlay interface (for a TAP, the frames the switch
# did not read in time) and, with vswitchd receiving, its UDP socket.
lost() {
    local x=$1 line
    line="${NAME[$x]}: the sender's $SRC_IF dropped"
    line+=" $(stat_of "$SRC_NS" "$SRC_IF" tx_dropped)"
    if [ -n "$DST_PID" ]; then
        line+="; the receiving vswitchd's UDP socket overflowed"
        line+=" $(in_ns "${x}2" nstat -az UdpRcvbufErrors \
                  | awk '$1 == "UdpRcvbufErrors" { print $2 }')"
    fi
    echo "$line"
}

# udp_kpps: prints "RECEIVED_KPPS SENT_KPPS SRC_PER_CORE DST_PER_CORE"
# for 64-byte frames from SRC_NS to DST_IP, or "failed failed - -".  The
# per-core figures divide the frames received by the CPU time the sending
# and the receiving daemon used over the same window ("-" for a kernel
# side).
udp_kpps() {
    local blast rx0 rx1 sent s0 s1 d0 d1
    : >"$WORK/sink.out"
    ip netns exec "$(ns "$DST_NS")" "$UDPSINK" $UDP_PORT \
        $((UDP_SECS + 5)) >"$WORK/sink.out" &
    SINK_PID=$!
    at_exit "kill $SINK_PID"
    listening "$DST_NS" u $UDP_PORT
    timeout $((UDP_SECS + 10)) ip netns exec "$(ns "$SRC_NS")" \
        "$UDPBLAST" $DST_IP $UDP_PORT $UDP_SECS 18 >"$WORK/sent" &
    blast=$!
    sleep 1
    rx0=$(sink_count)
    s0=$(cpu_ticks "$SRC_PID") d0=$(cpu_ticks "$DST_PID")
    sleep $UDP_WINDOW
    rx1=$(sink_count)
    s1=$(cpu_ticks "$SRC_PID") d1=$(cpu_ticks "$DST_PID")
    wait "$blast"
    stop_child "$SINK_PID" 2 || true
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

# ceiling_window COUNT-COMMAND: the window of a ceiling run, with the
# generator running: prints "FRAMES DAEMON-TICKS CPU1-BUSY CPU1-SOFTIRQ
# CPU1-TOTAL" over CEIL_WINDOW seconds, FRAMES as the command counts them.
ceiling_window() {
    local f0 f1 t0 t1 b0 b1 s0 s1 c0 c1
    f0=$("$@") t0=$(cpu_ticks "$SRC_PID")
    read -r b0 s0 c0 < <(cpu1_times)
    sleep $CEIL_WINDOW
    f1=$("$@") t1=$(cpu_ticks "$SRC_PID")
    read -r b1 s1 c1 < <(cpu1_times)
    if [ -n "$f0" ] && [ -n "$f1" ]; then
        echo "$((f1 - f0)) $((t1 - t0)) $((b1 - b0)) $((s1 - s0))" \
            "$((c1 - c0))"
    fi
}

# sink_lines_past N: whether the sink has printed more than N lines.
sink_lines_past() {
    [ "$(wc -l <"$WORK/sink.out")" -gt "$1" ]
}

# sink_count: asks the sink for its count and prints it.
sink_count() {
    local n
    n=$(wc -l <"$WORK/sink.out")
    kill -USR1 "$SINK_PID" 2>/dev/null || return 1
    wait_for 5 sink_lines_past "$n" || return 1
    tail -n 1 "$WORK/sink.out"
}


# ceiling_report X DIRECTION WINDOW SENT: records a row of the ceiling
# table from a ceiling_window line and the generator's count.
ceiling_report() {
    local row="$1 $2" frames ticks busy soft total
    read -r frames ticks busy soft total <<<"$3"
    if [ -z "$frames" ] || [ -z "$4" ]; then
        CEIL[$row]="failed"
        return
    fi
    CEIL[$row]=$(awk -v f="$frames" -v t="$ticks" -v b="$busy" \
        -v q="$soft" -v c="$total" -v s="$4" -v w=$CEIL_WINDOW \
        -v secs=$CEIL_SECS -v hz="$HZ" 'BEGIN {
            if (c <= 0) c = 1
            printf "%d %d %d %d %d", s / secs / 1000, f / w / 1000,
                t / hz / w * 100, b / c * 100, q / c * 100 }')
}

# ceiling X: the 64-byte forwarding ceiling of the sending host's daemon
# of set-up X (c or d: a kernel peer), pinned to CPU 1 with all its
# threads, the generator on CPU 0, both directions.
ceiling() {
    local x=$1 pid peer_mac host_mac window blast
    local eth0_mac=/sys/class/net/eth0/address
    if [ "$x" = d ]; then
        # No PMD thread polls these ports (they are no DPDK ports), but
        # one that came would be on CPU 1 too.
        ovs_vsctl set open_vswitch . other_config:pmd-cpu-mask=0x2
    fi
    # Every thread now; threads made later inherit it.
    pid=$(cat "$SRC_PID")
    taskset -a -p -c 1 "$pid" >/dev/null || return 1
    # The generator sends whole Ethernet frames (udpblast -i): to the
    # peer's vxlan device from the VM, to the daemon's host (Open
    # vSwitch's br-phy has eth0's address) from the peer.
    peer_mac=$(in_ns "${x}2" cat /sys/class/net/vx0/address)
    host_mac=$(in_ns "${x}1" cat "$eth0_mac")
    # TAP -> VXLAN.  The peer's vxlan device gives its port to a sink
    # that counts datagrams.
    in_ns "${x}2" ip link del vx0
    : >"$WORK/sink.out"
    # No timeout(1) in front: the signals must reach the sink itself,
    # which ends by itself.
    taskset -c 0 ip netns exec "$(ns "${x}2")" "$UDPSINK" $VXLAN_PORT \
        $((CEIL_SECS + 5)) >"$WORK/sink.out" &
    SINK_PID=$!
    at_exit "kill $SINK_PID"
    listening "${x}2" u $VXLAN_PORT
    timeout $((CEIL_SECS + 10)) taskset -c 0 \
        ip netns exec "$(ns "$SRC_NS")" "$UDPBLAST" \
        -i "$SRC_IF" -e "$peer_mac,$SRC_MAC,$SRC_IP" \
        $DST_IP $UDP_PORT $CEIL_SECS 18 >"$WORK/sent" &
    blast=$!
    sleep 1
    window=$(ceiling_window sink_count)
    wait "$blast"
    ceiling_report "$x" tx "$window" "$(cat "$WORK/sent")"
    stop_child "$SINK_PID" 2
    # VXLAN -> TAP: prebuilt VXLAN packets from the peer's address, in
    # whole frames past the qdisc; and (vswitchd only) the same frames in
    # trains of 32 (UDP GSO), as a vswitchd peer sends a flow's frames:
    # the daemon takes each train in one buffer (UDP GRO).  Open
    # vSwitch's userspace datapath, which receives through an AF_PACKET
    # socket without GRO, is not asked that.
    ceiling_into_vm "$x" rx -i eth0 \
        -e "$host_mac,$(in_ns "${x}2" cat "$eth0_mac"),$B_IP"
    [ "$x" = c ] && ceiling_into_vm "$x" rxg -g 32
    return 0
}

# ceiling_into_vm X ROW UDPBLAST-OPTION...: the VXLAN -> TAP part of set-up
# X's ceiling, recorded as ROW: the generator in the peer sends prebuilt
# VXLAN packets with the options given to the VM's address, where a sink
# counts the datagrams that reach it.
ceiling_into_vm() {
    local x=$1 row=$2 window blast
    shift 2
    : >"$WORK/sink.out"
    taskset -c 0 ip netns exec "$(ns "$SRC_NS")" "$UDPSINK" $UDP_PORT \
        $((CEIL_SECS + 5)) >"$WORK/sink.out" &
    SINK_PID=$!
    at_exit "kill $SINK_PID"
    listening "$SRC_NS" u $UDP_PORT
    timeout $((CEIL_SECS + 10)) taskset -c 0 \
        ip netns exec "$(ns "${x}2")" "$UDPBLAST" "$@" \
        -x 5000,$SRC_MAC,$REMOTE_MAC,$DST_IP,$SRC_IP \
        $A_IP $VXLAN_PORT $CEIL_SECS 18 >"$WORK/sent" &
    blast=$!
    sleep 1
    window=$(ceiling_window sink_count)
    wait "$blast"
    ceiling_report "$x" "$row" "$window" "$(cat "$WORK/sent")"
    stop_child "$SINK_PID" 2 || true
}

declare -A TCP RX SENT RR PING NAME SRC_CORE DST_CORE CEIL
NAME[a]="(a) kernel - kernel"
NAME[b]="(b) vswitchd - vswitchd"
NAME[c]="(c) vswitchd - kernel"
NAME[d]="(d) OVS - kernel"
NAME[e]="(e) vswitchd - vswitchd, system ports"
started=$SECONDS
: >"$WORK/lost"
for x in a b c d e; do
    TCP[$x]=- RX[$x]=- SENT[$x]=- RR[$x]=- PING[$x]=- SRC_CORE[$x]=-
    DST_CORE[$x]=-
done
for x in "${SETUPS[@]}"; do
    if [ $x = d ] && ! command -v ovs-vswitchd >/dev/null; then
        echo "${NAME[$x]}: skipped, Open vSwitch is not installed" \
             "(apt-get install openvswitch-switch)" >&2
        TCP[$x]=skipped RX[$x]=skipped RR[$x]=skipped
        CEIL["d tx"]=skipped CEIL["d rx"]=skipped
        continue
    fi
    echo "${NAME[$x]}: setting up" >&2
    if ! setup $x; then
        echo "${NAME[$x]}: set-up failed" >&2
        TCP[$x]=failed RX[$x]=failed SENT[$x]=failed RR[$x]=failed
        PING[$x]=no
        teardown $x
        continue
    fi
    # Resolve ARP and let both sides learn before anything is timed (the
    # userspace datapath of OVS learns its underlay neighbour by then).
    if in_ns "$SRC_NS" ping -c 3 -i 0.2 -W 2 $DST_IP >/dev/null \
        || in_ns "$SRC_NS" ping -c 3 -i 0.2 -W 2 $DST_IP >/dev/null; then
        PING[$x]=yes
    else
        PING[$x]=no
    fi
    if wants tcp; then
        echo "${NAME[$x]}: TCP, ${TCP_SECS} s" >&2
        TCP[$x]=$(tcp_gbps)
    fi
    if wants 64b; then
        echo "${NAME[$x]}: 64-byte UDP, ${UDP_SECS} s" >&2
        read -r RX[$x] SENT[$x] SRC_CORE[$x] DST_CORE[$x] < <(udp_kpps)
        lost $x >>"$WORK/lost"
    fi
    if wants rr; then
        echo "${NAME[$x]}: TCP request/response, ${RR_SECS} s" >&2
        RR[$x]=$(rr_tps)
    fi
    if wants ceiling && [[ $x == [cd] ]]; then
        echo "${NAME[$x]}: 64-byte ceiling, 2 x ${CEIL_SECS} s" >&2
        ceiling $x || CEIL["$x tx"]=failed
    fi
    teardown $x
done

# ceiling_row X DIRECTION: prints the ceiling table's row of set-up X's
# daemon in DIRECTION (tx: TAP -> VXLAN, rx: VXLAN -> TAP), its
# DELIVERED column beside Open vSwitch's (set-up d).
ceiling_row() {
    local x=$1 dir=$2 daemon=vswitchd label="TAP -> VXLAN" vs=- ovs
    local offered delivered cpu busy soft
    [ $x = d ] && daemon="Open vSwitch"
    [ $dir = rx ] && label="VXLAN -> TAP"
    [ $dir = rxg ] && label="trains -> TAP"
    read -r offered delivered cpu busy soft <<<"${CEIL["$x $dir"]:-failed}"
    if [ $x = c ]; then
        read -r _ ovs _ <<<"${CEIL["d $dir"]:-}"
        vs=$(ratio "$delivered" "$ovs")
    fi
    printf "$ceil_format" "$daemon" "$label" "$offered" "${delivered:--}" \
        "$vs" "${cpu:--}" "${busy:--}" "${soft:--}" \
        "$(awk -v d="${delivered:-0}" -v c="${cpu:-0}" 'BEGIN {
            if (c > 0) printf "%d", d / c * 100; else printf "-" }')"
}

# ratio VALUE REFERENCE
ratio() {
    awk -v v="$1" -v r="$2" 'BEGIN {
        if (v + 0 > 0 && r + 0 > 0) printf "%.2f", v / r; else printf "-" }'
}
row_format='%-38s %-4s %6s %5s %7s %5s %7s %6s %6s %7s %5s\n'
echo
printf "$row_format" SET-UP PING "TCP" RATIO "64B rx" RATIO "64B tx" \
    "tx/c" "rx/c" "RR" RATIO
printf "$row_format" "" "" "Gbit/s" "" "kpps" "" "kpps" "kpps" "kpps" \
    "tps" ""
for x in "${SETUPS[@]}"; do
    printf "$row_format" "${NAME[$x]}" \
        "${PING[$x]}" "${TCP[$x]}" "$(ratio "${TCP[$x]}" "${TCP[a]}")" \
        "${RX[$x]}" "$(ratio "${RX[$x]}" "${RX[a]}")" "${SENT[$x]}" \
        "${SRC_CORE[$x]}" "${DST_CORE[$x]}" \
        "${RR[$x]}" "$(ratio "${RR[$x]}" "${RR[a]}")"
done
echo
echo "TCP: one iperf3 stream, ${TCP_SECS} s, as received.  64B rx:"
echo "datagrams a receiving application took per second (over"
echo "${UDP_WINDOW} s); 64B tx: datagrams the sender"
echo "handed to its kernel per second over ${UDP_SECS} s.  tx/c, rx/c: the"
echo "64B rx frames per second of CPU time of the sending and receiving"
echo "daemon over the same ${UDP_WINDOW} s, user and system time, kernel"
echo "work of the peer that runs in the daemon's context included.  RR: 1-byte"
echo "TCP request/response transactions per second over ${RR_SECS} s."
if wants ceiling; then
    ceil_format='%-13s %-13s %8s %10s %6s %7s %7s %8s %9s\n'
    echo
    echo "64-byte forwarding ceiling: the daemon on CPU 1 (all threads), the"
    echo "generator on CPU 0, a kernel vxlan peer (set-ups c and d):"
    printf "$ceil_format" DAEMON DIRECTION "OFFERED" "DELIVERED" "RATIO" \
        "DAEMON" "CPU 1" "CPU 1" "PER CORE"
    printf "$ceil_format" "" "" "kpps" "kpps" "to OVS" "CPU %" "busy %" \
        "sirq %" "kpps"
    for x in c d; do
        [[ " ${SETUPS[*]} " == *" $x "* ]] || continue
        for dir in tx rx rxg; do
            [ $x = d ] && [ $dir = rxg ] && continue
            ceiling_row $x $dir
        done
    done
    echo
    echo "OFFERED: frames/s the generator handed to its kernel; DELIVERED:"
    echo "frames/s that left the daemon, over ${CEIL_WINDOW} s: datagrams"
    echo "counted by the underlay sink (TAP -> VXLAN) or by the sink in the"
    echo "VM (VXLAN -> TAP; trains -> TAP: the same frames in UDP GSO trains"
    echo "of 32, as a vswitchd peer sends them).  DAEMON CPU %: its user and"
    echo "system time over"
    echo "the window; CPU 1 busy %: everything CPU 1 ran (other processes"
    echo "of the machine too), sirq % the softirq part of it; PER CORE:"
    echo "DELIVERED at 100% of the daemon's CPU."
fi
echo "$(nproc) CPUs; the run took $((SECONDS - started)) s."
if wants 64b; then
    echo
    echo "Frames lost in the whole run (TCP and UDP):"
    cat "$WORK/lost"
fi
exit 0
