# Hosts in network namespaces for the traffic tests.  Source it after
# lib.sh.  Every namespace, link and daemon made here is removed at exit.
# Names carry the test's process id so that runs never collide, and all
# addresses are private ones that live only inside these namespaces.

TAG=$$
NETNS_CREATED=()

# ns NAME: the full name of namespace NAME for this run.
ns() { echo "vsw$TAG-$1"; }

# in_ns NAME COMMAND...: runs a command in namespace NAME, bounded.
in_ns() {
    local name=$1
    shift
    timeout 60 ip netns exec "$(ns "$name")" "$@"
}

make_ns() {
    ip netns add "$(ns "$1")" || return 1
    NETNS_CREATED+=("$1")
    at_exit "ip netns del $(ns "$1")"
    in_ns "$1" ip link set lo up
}

# make_underlay SWITCH: a namespace holding a Linux bridge that plays the
# underlay segment (multicast flooded: no IGMP snooping to wait for).
make_underlay() {
    make_ns "$1"
    in_ns "$1" ip link add br0 type bridge mcast_snooping 0
    in_ns "$1" ip link set br0 up
}

# plug HOST SWITCH IP/LEN [MTU]: a veth from HOST's "eth0" to the bridge.
plug() {
    local host=$1 sw=$2 addr=$3 mtu=${4:-1500}
    local peer="p$TAG$host"
    ip link add eth0 netns "$(ns "$host")" type veth peer name "${peer:0:15}" \
        netns "$(ns "$sw")" || return 1
    in_ns "$sw" ip link set "${peer:0:15}" master br0 mtu "$mtu" up
    in_ns "$host" ip link set eth0 mtu "$mtu" up
    in_ns "$host" ip addr add "$addr" dev eth0
}

# Daemons: one per host, on a socket and database under $WORK.
start_vswitchd() {
    local host=$1
    in_ns "$host" "$VSWITCHD" --socket "$WORK/$host.sock" \
        --db "$WORK/$host.db" --pidfile="$WORK/$host.pid" \
        --log-file="$WORK/$host.log" --detach || return 1
    at_exit "kill_vswitchd '$WORK/$host.pid'"
}

stop_vswitchd() { stop_daemon_of "$WORK/$1.pid"; }

# vsctl HOST ARGS...: vswitch-ctl against HOST's daemon.
vsctl() {
    local host=$1
    shift
    timeout 20 "$CTL_BIN" --socket "$WORK/$host.sock" --timeout 10 "$@"
}

# make_hosts N UNDERLAY VMNET MAC [ADD-VNI-ARGS...]: hosts h1..hN on one
# underlay segment, hI at UNDERLAY.I/24, each with its vswitchd, a VTEP
# vtep0 and VNI 5000 (given ADD-VNI-ARGS), and a VM vmI on the TAP port
# tap0 at VMNET.I/24 with the MAC address MAC:0I.  Hosts and VMs have no
# IPv6, so that nothing crosses the switch but what the test sends.
make_hosts() {
    local n=$1 underlay=$2 vmnet=$3 mac=$4 i
    shift 4
    make_underlay sw
    for i in $(seq "$n"); do
        make_ns "h$i"
        in_ns "h$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1
        plug "h$i" sw "$underlay.$i/24"
        start_vswitchd "h$i" || fail "vswitchd on h$i"
        vsctl "h$i" add-port vtep0 type=vxlan local_ip="$underlay.$i" \
            dev=eth0
        vsctl "h$i" add-vni 5000 "$@"
        make_ns "vm$i"
        in_ns "vm$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1
        make_vm_tap "vm$i" "h$i" tap0 5000 "$vmnet.$i/24" "$mac:0$i" \
            || fail "VM on h$i"
    done
}

# flow_stat HOST MATCH KEY: the KEY (n_packets, n_bytes, duration...) of
# HOST's rule whose match dump-flows prints as MATCH; nothing if there is
# no such rule.
flow_stat() {
    vsctl "$1" --format=json dump-flows \
        | json "''.join(str(r['$3']) for r in j['flows'] if r['match'] == '$2')"
}

# trace_result HOST TRACE-ARGS...: where "vswitch-ctl trace" says the frame
# goes, as "remote IP vni N" or "port NAME" sorted and joined by ';', then
# " drop REASON" if it is dropped.
trace_result() {
    local host=$1
    shift
    vsctl "$host" --format=json trace "$@" \
        | json "(';'.join(sorted('remote %s vni %s' % (o['remote'], o['vni'])
                           if 'remote' in o else 'port ' + o['port']
                           for o in j['outputs']))
                 + (' drop ' + j['drop'] if j['drop'] else ''))"
}

# vxlan_result FILE FILTER: where the frames of the underlay capture FILE
# that the tshark display FILTER selects went, as trace_result says it
# ("remote IP vni N": the outer destination and the VNI).
vxlan_result() {
    tshark -r "$1" -Y "vxlan && ($2)" -T fields -e ip.dst -e vxlan.vni \
        2>/dev/null \
        | awk -F'\t' '{ split($1, a, ","); print "remote " a[1] " vni " $2 }' \
        | sort -u | paste -sd';'
}

# make_vm VM HOST TAP VNI IP/LEN MAC: a "VM" namespace whose interface is
# the TAP port TAP of HOST's switch, bound to VNI.
make_vm() {
    make_ns "$1" && make_vm_tap "$@"
}

# make_vm_tap VM HOST TAP VNI IP/LEN MAC: the same in an existing VM.
make_vm_tap() {
    local vm=$1 host=$2 tap=$3 vni=$4 addr=$5 mac=$6
    vsctl "$host" add-port "$tap" type=tap vni="$vni" || return 1
    in_ns "$host" ip link set "$tap" netns "$(ns "$vm")" || return 1
    in_ns "$vm" ip link set "$tap" address "$mac" mtu 1450 up
    in_ns "$vm" ip addr add "$addr" dev "$tap"
}

# Packet captures, bounded: each tcpdump lives at most 60 s and is
# stopped at exit.  start_capture NAME HOST DEV FILE [FILTER...] captures
# DEV in namespace HOST to FILE (writing each packet as it comes) and
# returns once tcpdump listens; stop_capture NAME ends it and returns
# once FILE is complete.  Immediate mode: without it, packets wait in the
# capture ring for up to a second and those still there when tcpdump is
# stopped are lost.
declare -A CAPTURE_PIDS=()

start_capture() {
    local name=$1 host=$2 dev=$3 file=$4
    shift 4
    timeout 60 ip netns exec "$(ns "$host")" tcpdump -i "$dev" -n -U \
        --immediate-mode -w "$file" "$@" \
        >/dev/null 2>"$WORK/capture-$name.err" &
    CAPTURE_PIDS[$name]=$!
    at_exit "kill_child ${CAPTURE_PIDS[$name]}"
    wait_for 10 grep -q "listening on" "$WORK/capture-$name.err"
}

stop_capture() {
    local pid=${CAPTURE_PIDS[$1]:-}
    [ -n "$pid" ] || return 0
    stop_child "$pid" 10
    unset "CAPTURE_PIDS[$1]"
    return 0
}

# ping_all_pairs HOSTS: in VNIs 5000 and 6000, every VM v<vni><a> pings
# every other v<vni><b> at 10.98.<vni>0.<b>, one check each.
ping_all_pairs() {
    local vni a b
    for vni in 5 6; do
        for a in $1; do
            for b in $1; do
                [ "$a" = "$b" ] && continue
                check "v$vni$a pings v$vni$b (VNI ${vni}000)" \
                    in_ns "v$vni$a" ping -c 2 -i 0.2 -W 2 "10.98.${vni}0.$b"
            done
        done
    done
}

# check_ping WHEN FILE: the output of "ping -q" in FILE shows no loss and
# no round trip of 100 ms or more.  Give ping a deadline (-w) well past
# what its count (-c) takes, slow builds included: a ping that stops at
# its deadline counts the reply still on its way as lost.
check_ping() {
    local when=$1 file=$2 sent received worst
    cat "$file"
    sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$file")
    received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$file")
    worst=$(sed -n 's|^rtt .* = [^/]*/[^/]*/\([0-9.]*\)/.*|\1|p' "$file")
    check_eq "no ping lost $when" "$sent" "$received"
    if [ -n "$worst" ] && awk -v w="$worst" 'BEGIN { exit !(w < 100) }'; then
        pass "worst round trip $when is $worst ms (< 100 ms)"
    else
        fail "worst round trip $when is '$worst' ms (>= 100 ms)"
    fi
}
