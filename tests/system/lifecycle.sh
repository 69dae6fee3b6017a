#!/bin/bash
# Ports across the life of what they attach to, on one host: a VM's TAP
# keeps its place, addresses and learned MACs when its options change; a
# deleted TAP comes back with --may-exist add-port and its static MACs;
# a system port follows its interface (a veth, a VM's TAP) out and back in
# by itself, also when the interface appears only after the daemon
# started; and a restarted daemon that found its TAP in a container's
# namespace lets that namespace go when the container is deleted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

MAC1=02:00:00:97:00:01
MAC2=02:00:00:97:00:02
MAC3=02:00:00:97:00:03

make_ns h1
start_vswitchd h1 || fail "vswitchd on h1"
vsctl h1 add-vni 5000 || fail "add-vni"
make_vm vm1 h1 tap0 5000 10.97.0.1/24 "$MAC1" || fail "vm1"
make_vm vm2 h1 tap1 5000 10.97.0.2/24 "$MAC2" || fail "vm2"

port_field() {
    vsctl h1 --format=json list-ports \
        | json "[p for p in j['ports'] if p['name'] == '$1'][0]$2"
}
state_is() {
    [ "$(port_field "$1" "['state']")" = "$2" ]
}
# fdb_port MAC: the port (or remote) that VNI 5000 has MAC behind.
fdb_port() {
    vsctl h1 --format=json fdb-show 5000 \
        | json "([e['port'] or e['remote'] for e in j['entries'] if e['mac'] == '$1'] + ['none'])[0]"
}
# wait_state PORT STATE DESCRIPTION: passes once PORT is in STATE, within
# 10 s.
wait_state() {
    if wait_for 10 state_is "$1" "$2"; then
        pass "$3"
    else
        fail "$3 ($1: $(port_field "$1" "['state']"), $(port_field "$1" "['error']"))"
    fi
}
has_address() {
    in_ns "$1" ip -o addr show dev "$2" | grep -q " $3 "
}
# offloads PORT: what its device took, as show's table prints it.
offloads() {
    vsctl h1 show | awk -v port="$1" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == "OFFLOADS") col = i }
        $1 == port { print $col; exit }'
}
# The offloads a TAP or a veth's socket takes with offload=true (UDP super
# frames too on this kernel, 6.2 or later), and without.
OFFLOADS_true="['csum', 'tso4', 'tso6', 'uso'] csum,tso4,tso6,uso"
OFFLOADS_false="[] -"

check "vm1 pings vm2" in_ns vm1 ping -c 2 -i 0.2 -W 2 10.97.0.2

# Option changes on a TAP: the device stays in the VM, with its address,
# and the port keeps its number (its counters and learned MACs).
for value in false true; do
    rx=$(port_field tap0 "['counters']['rx_packets']")
    check "set-port tap0 offload=$value" vsctl h1 set-port tap0 offload=$value
    check "tap0 is still in vm1 with its address (offload=$value)" \
        has_address vm1 tap0 10.97.0.1/24
    check_eq "tap0 kept its learned MAC (offload=$value)" tap0 \
        "$(fdb_port "$MAC1")"
    check_eq "tap0 kept its counters (offload=$value)" True \
        "$(port_field tap0 "['counters']['rx_packets'] >= $rx")"
    check_eq "tap0 is up (offload=$value)" up "$(port_field tap0 "['state']")"
    want=OFFLOADS_$value
    check_eq "tap0 shows the offloads its device took (offload=$value)" \
        "${!want}" "$(port_field tap0 "['offloads']") $(offloads tap0)"
    check "vm1 pings vm2 after offload=$value" \
        in_ns vm1 ping -c 2 -i 0.2 -W 2 10.97.0.2
done

# A TAP deleted underneath its port, and brought back by --may-exist
# add-port with its static entry.
vsctl h1 fdb-add 5000 02:00:00:97:00:22 tap1 || fail "fdb-add"
in_ns vm2 ip link del tap1
wait_state tap1 down "a deleted TAP takes its port down"
check_eq "in words" "device gone: interface deleted" \
    "$(port_field tap1 "['error']")"
check "--may-exist add-port tap1" \
    vsctl h1 --may-exist add-port tap1 type=tap vni=5000
check_eq "tap1 is up again" up "$(port_field tap1 "['state']")"
check_eq "with its static entry" tap1 "$(fdb_port 02:00:00:97:00:22)"
in_ns h1 ip link set tap1 netns "$(ns vm2)"
in_ns vm2 ip link set tap1 address "$MAC2" mtu 1450 up
in_ns vm2 ip addr add 10.97.0.2/24 dev tap1
check "vm1 pings vm2 through the TAP made again" \
    in_ns vm1 ping -c 2 -i 0.2 -W 2 10.97.0.2

# A system port whose interface (a veth to "VM" vm3) is deleted and made
# again with the same name: down with the reason, then up by itself.
make_ns vm3
plug_vm3() {
    ip link add "$1" netns "$(ns h1)" type veth peer name eth0 \
        netns "$(ns vm3)" || return 1
    in_ns vm3 ip link set eth0 address "$MAC3" mtu 1450 up
    in_ns vm3 ip addr add 10.97.0.3/24 dev eth0
}
# sys0_comes_back WHEN: the veth is made again; the port comes up by
# itself and carries traffic.
sys0_comes_back() {
    plug_vm3 sys0 || fail "veth sys0 $1"
    wait_state sys0 up "the system port comes up by itself $1"
    check "vm1 pings vm3 through sys0 $1" \
        in_ns vm1 ping -c 2 -i 0.2 -W 2 10.97.0.3
}
plug_vm3 sys0 || fail "veth sys0"
check "add-port sys0" vsctl h1 add-port sys0 type=system vni=5000
check "vm1 pings vm3 through sys0" in_ns vm1 ping -c 2 -i 0.2 -W 2 10.97.0.3
check_eq "sys0 shows the offloads its socket took" "$OFFLOADS_true" \
    "$(port_field sys0 "['offloads']") $(offloads sys0)"
# A system port takes an option change by opening its socket again; the
# port keeps what it learned.
check "set-port sys0 offload=false" vsctl h1 set-port sys0 offload=false
check_eq "sys0 is up after the change" up "$(port_field sys0 "['state']")"
check_eq "sys0 shows no offloads after offload=false" "$OFFLOADS_false" \
    "$(port_field sys0 "['offloads']") $(offloads sys0)"
check_eq "sys0 kept its learned MAC" sys0 "$(fdb_port "$MAC3")"
check "vm1 pings vm3 after the change" \
    in_ns vm1 ping -c 2 -i 0.2 -W 2 10.97.0.3
# With its receive ring (rx_ring=true) the port carries traffic as
# before, the TCP super frames of vm3's veth whole with their virtio-net
# header; below, the ring still on, it follows its interface out and
# back in.
check "set-port sys0 offload=true rx_ring=true" \
    vsctl h1 set-port sys0 offload=true rx_ring=true
check_eq "sys0 is up with its receive ring" up \
    "$(port_field sys0 "['state']")"
check "vm1 pings vm3 through sys0's receive ring" \
    in_ns vm1 ping -c 2 -i 0.2 -W 2 10.97.0.3
head -c $((4 << 20)) /dev/urandom >"$WORK/data.bin"
timeout 60 ip netns exec "$(ns vm1)" python3 "$XFER" recv 5001 \
    >"$WORK/rx.txt" 2>"$WORK/rx.err" &
rx=$!
wait_for 10 in_ns vm1 sh -c "ss -Hltn 'sport = :5001' | grep -q ." \
    || fail "the receiver in vm1 does not listen"
in_ns vm3 timeout 60 python3 "$XFER" send 10.97.0.1 5001 "$WORK/data.bin" \
    2>"$WORK/tx.err" || fail "vm3's sender: $(tail -n 1 "$WORK/tx.err")"
wait $rx
check_eq "vm3 sends 4 MiB of TCP to vm1 through sys0's receive ring" \
    "$(stat -c %s "$WORK/data.bin") $(sha256sum "$WORK/data.bin" | cut -d' ' -f1)" \
    "$(cat "$WORK/rx.txt")"
check_eq "sys0 counted no receive error" 0 \
    "$(port_field sys0 "['counters']['drops'].get('rx_error', 0)")"
in_ns h1 ip link del sys0
wait_state sys0 down "a deleted interface takes its system port down"
check_eq "in words" "device gone: interface deleted" \
    "$(port_field sys0 "['error']")"
sys0_comes_back "with its interface made again"
# Renamed away, it is another interface; the port follows the name.
in_ns h1 ip link set sys0 name sys0old
wait_state sys0 down "an interface renamed away takes its system port down"
check_eq "saying so" "device gone: interface renamed to sys0old" \
    "$(port_field sys0 "['error']")"
in_ns h1 ip link del sys0old
sys0_comes_back "on the new interface of its name"

# A VM's TAP as the hypervisor makes it, attached as a system port: gone
# when the VM stops, back (the same name) when it starts again.
in_ns h1 ip tuntap add vmtap0 mode tap
check "add-port vmtap0 type=system" vsctl h1 add-port vmtap0 type=system
wait_state vmtap0 up "the system port on a VM's TAP is up"
in_ns h1 ip tuntap del vmtap0 mode tap
wait_state vmtap0 down "the VM's TAP deleted takes the port down"
in_ns h1 ip tuntap add vmtap0 mode tap
wait_state vmtap0 up "the VM's TAP made again brings the port up by itself"
check "del-port vmtap0" vsctl h1 del-port vmtap0

# A daemon that starts before its interface exists.
stop_vswitchd h1 || fail "stop vswitchd"
in_ns h1 ip link del sys0
check "vswitchd restarts" start_vswitchd h1
check_eq "sys0 is down" down "$(port_field sys0 "['state']")"
check_eq "because its interface does not exist" \
    "interface sys0 does not exist" "$(port_field sys0 "['error']")"
sys0_comes_back "with an interface made after the start"

# The restarted daemon found tap1 in vm2's namespace, through its name in
# /run/netns.  Deleting that namespace must delete it: no ghost of vm2
# answers afterwards, and the port says why it is down.
check_eq "tap1 is up in vm2 after the restart" up \
    "$(port_field tap1 "['state']")"
check "vm1 pings vm2 after the restart" \
    in_ns vm1 ping -c 2 -i 0.2 -W 2 10.97.0.2
ip netns del "$(ns vm2)"
wait_state tap1 down "a deleted namespace takes its TAP port down"
check_eq "in words" "device gone: namespace $(ns vm2) deleted" \
    "$(port_field tap1 "['error']")"
in_ns vm1 ip neigh flush all
if in_ns vm1 ping -c 2 -i 0.2 -W 1 10.97.0.2 >/dev/null 2>&1; then
    fail "the deleted vm2 still answers"
else
    pass "the deleted vm2 no longer answers"
fi

stop_vswitchd h1
finish
