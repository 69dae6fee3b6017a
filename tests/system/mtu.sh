#!/bin/bash
# MTU (vswitchd(8), MTU): two hosts, underlay MTU 1500.  Inner IP packets
# of 1450 bytes cross (1464-byte frames, 1500-byte outer IP packets);
# 1451-byte ones are dropped by the sending VTEP, which never fragments,
# and each is counted as too_big on the TAP port it came in on, on VNI
# 5000 and nowhere else.  The VM's TAP MTU is 1500 so that the VM itself
# does not refuse them.  Then jumbo frames: underlay MTU 9000 (veths and
# bridge ports) and VM MTU 8950; the vxlan port takes the new MTU from
# its mtu option, or from dev when the port is opened again (re-added),
# and then 8000-byte pings and 8950-byte packets cross.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

vtep() { echo "172.31.253.$1"; }
N=4                             # pings that must be dropped, each time

make_underlay sw
for i in 1 2; do
    make_ns "h$i"
    plug "h$i" sw "$(vtep "$i")/24"
    start_vswitchd "h$i" || fail "vswitchd on h$i"
    vsctl "h$i" add-port vtep0 type=vxlan local_ip="$(vtep "$i")" dev=eth0 \
        || fail "vxlan port on h$i"
    vsctl "h$i" add-vni 5000 group=239.1.1.1 || fail "VNI 5000 on h$i"
    make_vm "v$i" "h$i" t5000 5000 "10.98.50.$i/24" "02:00:00:98:50:0$i" \
        || fail "VM on h$i"
done
in_ns v1 ip link set t5000 mtu 1500

# too_big HOST: "PORT VNI TOTAL", the too_big drops on HOST's t5000, on
# its VNI 5000 and on all its ports together.
too_big() {
    local port vni total
    port=$(vsctl "$1" --format=json stats \
        | json "sum(p['counters']['drops'].get('too_big', 0)
                    for p in j['ports'] if p['name'] == 't5000')")
    total=$(vsctl "$1" --format=json stats \
        | json "sum(p['counters']['drops'].get('too_big', 0) for p in j['ports'])")
    vni=$(vsctl "$1" --format=json list-vnis \
        | json "sum(v['counters']['drops'].get('too_big', 0)
                    for v in j['vnis'] if v['vni'] == 5000)")
    echo "$port $vni $total"
}
# plus A B: "A+B" for each of the three counts.
plus() {
    local a b
    read -r -a a <<<"$1"
    read -r -a b <<<"$2"
    echo "$((a[0] + b[0])) $((a[1] + b[1])) $((a[2] + b[2]))"
}
# ping_size SIZE [COUNT]: v1 pings v2 with SIZE bytes of ICMP data, not
# fragmented (an IP packet of SIZE + 28 bytes).
ping_size() {
    in_ns v1 ping -M do -c "${2:-2}" -i 0.2 -W 1 -s "$1" 10.98.50.2
}
fails() { ! "$@"; }

check "v1 pings v2 (ARP and learning)" in_ns v1 ping -c 2 -i 0.2 -W 2 10.98.50.2
check "1450-byte IP packets cross an underlay of MTU 1500" ping_size 1422 3
before=$(too_big h1)
check "1451-byte IP packets do not" fails ping_size 1423 "$N"
check_eq "each is counted once as too_big on t5000, on VNI 5000 and in all" \
    "$(plus "$before" "$N $N $N")" "$(too_big h1)"
check_eq "the receiving host dropped nothing as too_big" "0 0 0" "$(too_big h2)"
check "1450-byte IP packets still cross" ping_size 1422

# Jumbo frames on the underlay, and VMs to use them.
for i in 1 2; do
    port="p$TAG""h$i"
    in_ns sw ip link set "${port:0:15}" mtu 9000
    in_ns "h$i" ip link set eth0 mtu 9000
    in_ns "v$i" ip link set t5000 mtu 8950
done
check_eq "the underlay bridge runs at MTU 9000" 9000 \
    "$(in_ns sw cat /sys/class/net/br0/mtu)"

# With nothing more, the VTEP follows its device's new MTU: it reads it
# again every second.
check "8000-byte pings cross once the underlay's MTU is raised" \
    wait_for 5 ping_size 8000 1

# An explicit mtu option works too, and wins over dev.
for i in 1 2; do
    check "set-port vtep0 mtu=9000 on h$i" vsctl "h$i" set-port vtep0 mtu=9000
done
check "8000-byte pings cross with mtu=9000" ping_size 8000 3
check "8950-byte IP packets cross with mtu=9000" ping_size 8922
check "8950-byte IP packets cross the other way" \
    in_ns v2 ping -M do -c 2 -i 0.2 -W 1 -s 8922 10.98.50.1

# The option wins over dev: back to 1500 on h1 only.
check "set-port vtep0 mtu=1500 on h1" vsctl h1 set-port vtep0 mtu=1500
before=$(too_big h1)
check "8000-byte pings are dropped with mtu=1500" fails ping_size 8000 "$N"
check_eq "and counted as too_big" "$(plus "$before" "$N $N $N")" "$(too_big h1)"

# Re-added without an mtu option, the port takes dev's MTU, now 9000.
check "del-port vtep0 on h1" vsctl h1 del-port vtep0
check "add-port vtep0 again on h1, without mtu" \
    vsctl h1 add-port vtep0 type=vxlan local_ip="$(vtep 1)" dev=eth0
check "8000-byte pings cross with dev's MTU of 9000" ping_size 8000 3
check "8950-byte IP packets cross with dev's MTU of 9000" ping_size 8922

for i in 1 2; do stop_vswitchd "h$i"; done
finish
