#!/bin/bash
# Multicast groups at scale: two hosts, each with 1,000 VNIs flooding to
# 1,000 distinct groups (far past the kernel's 20 IPv4 groups per
# socket).  Every VNI shows its group joined, the VXLAN port counts 1,000
# joined, and the underlay device in each host's namespace is a member of
# all 1,000 (/proc/net/igmp).  VMs in VNIs whose groups come after the
# first 20, and in the last, ping across: their ARP requests are floods to
# the group, which the other host receives only if it joined.  With
# net.ipv4.igmp_max_memberships lowered, a VNI added is shown "not joined"
# with the kernel's reason, and joined once the limit is raised again;
# deleting VNIs leaves their groups, and deleting the VXLAN port all of
# them.  The databases live on tmpfs: 1,000 commands, each saved with an
# fsync, would take long on a disk.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

N=1000
SAMPLE="20 21 500 999"         # Beyond the first 20, and the last.
vni_of() { echo $((10000 + $1)); }
group_of() { echo "239.10.$(($1 / 250)).$(($1 % 250 + 1))"; }

DB_DIR=$(mktemp -d /dev/shm/vswitch-groups.XXXXXX) || exit 1
at_exit "rm -rf '$DB_DIR'"

start_host() {
    in_ns "$1" "$VSWITCHD" --socket "$WORK/$1.sock" --db "$DB_DIR/$1.db" \
        --pidfile="$WORK/$1.pid" --log-file="$WORK/$1.log" --detach \
        || return 1
    at_exit "kill_vswitchd '$WORK/$1.pid'"
}

# igmp_count HOST PREFIX: how many groups starting with PREFIX (dotted)
# /proc/net/igmp in HOST's namespace lists for eth0.
igmp_count() {
    in_ns "$1" python3 - "$2" <<'PY'
import socket, struct, sys
dev, n = None, 0
for line in open("/proc/net/igmp").read().splitlines()[1:]:
    if not line.startswith("\t"):
        dev = line.split()[1].rstrip(":")
        continue
    addr = socket.inet_ntoa(struct.pack("<I", int(line.split()[0], 16)))
    n += dev == "eth0" and addr.startswith(sys.argv[1])
print(n)
PY
}

igmp_is() { [ "$(igmp_count "$1" "$2")" = "$3" ]; }

# vni_field HOST VNI KEY: KEY of VNI in HOST's list-vnis JSON.
vni_field() {
    vsctl "$1" --format=json list-vnis \
        | json "[v['$3'] for v in j['vnis'] if v['vni'] == $2][0]"
}

# joined HOST VNI: whether VNI's group shows joined on HOST.
joined() { [ "$(vni_field "$1" "$2" group_joined)" = True ]; }

port_field() {
    vsctl "$1" --format=json show \
        | json "[p['$2'] for p in j['ports'] if p['name'] == 'vtep0'][0]"
}

# add_vnis HOST: VNIs 0 .. N-1 on HOST, one command each.
add_vnis() {
    local i
    for ((i = 0; i < N; i++)); do
        vsctl "$1" add-vni "$(vni_of $i)" group="$(group_of $i)" || return 1
    done
}

make_underlay sw
for h in 1 2; do
    make_ns "h$h"
    in_ns "h$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
    plug "h$h" sw "172.31.252.$h/24"
    start_host "h$h" || fail "vswitchd on h$h"
    vsctl "h$h" add-port vtep0 type=vxlan local_ip="172.31.252.$h" dev=eth0 \
        || fail "vxlan port on h$h"
done

start=$(date +%s.%N)
add_vnis h1 & pid1=$!
add_vnis h2 & pid2=$!
wait $pid1 || fail "adding $N VNIs on h1"
wait $pid2 || fail "adding $N VNIs on h2"
echo "# $N VNIs added on each of two hosts, one command each, in" \
    "$(echo "$(date +%s.%N) - $start" | bc) s"

for h in 1 2; do
    check_eq "h$h: every VNI shows its group joined" "$N" \
        "$(vsctl "h$h" --format=json list-vnis \
           | json "sum(v['group_joined'] is True
                       and v['group_error'] is None for v in j['vnis'])")"
    check_eq "h$h: vtep0 counts $N groups joined" "$N 0" \
        "$(port_field "h$h" groups_joined) $(port_field "h$h" groups_not_joined)"
    check_eq "h$h: /proc/net/igmp lists $N groups on eth0" "$N" \
        "$(igmp_count "h$h" 239.10.)"
done
check_eq "text output says nothing of joined groups" \
    "group $(group_of 999)" \
    "$(vsctl h1 list-vnis | awk -v v="$(vni_of 999)" '$1 == v { print $2, $3 }')"

# A restarted daemon joins them all again as it replays its database.
stop_vswitchd h2
start=$(date +%s.%N)
start_host h2 || fail "vswitchd on h2 again"
check "h2 restarted: every group joined again" \
    wait_for 10 igmp_is h2 239.10. "$N"
echo "# h2 restarted and joined $N groups in" \
    "$(echo "$(date +%s.%N) - $start" | bc) s"

# A VM on each host in each sampled VNI; each pair pings.
for i in $SAMPLE; do
    for h in 1 2; do
        make_vm "v$i$h" "h$h" "t$i" "$(vni_of $i)" "10.97.$((i % 250)).$h/24" \
            "02:00:00:97:$(printf %02x $((i % 256))):0$h" \
            || fail "VM in VNI $(vni_of $i) on h$h"
    done
done
for i in $SAMPLE; do
    check "VNI $(vni_of $i) (group $(group_of $i)) carries a ping across" \
        in_ns "v${i}1" ping -c 1 -W 3 "10.97.$((i % 250)).2"
done

# A group the kernel will not let join: the limit at 0 for new sockets.
EXTRA=20000
EXTRA_GROUP=239.11.0.1
in_ns h1 sysctl -qw net.ipv4.igmp_max_memberships=0
vsctl h1 add-vni $EXTRA group=$EXTRA_GROUP || fail "add-vni $EXTRA"
check_eq "a VNI whose group cannot be joined shows it in JSON" \
    "False No buffer space available" \
    "$(vni_field h1 $EXTRA group_joined) $(vni_field h1 $EXTRA group_error)"
check_eq "... and in text" \
    "group $EXTRA_GROUP (not joined: No buffer space available)" \
    "$(vsctl h1 list-vnis | awk -v v=$EXTRA '$1 == v' \
       | grep -o 'group [^)]*)')"
check_eq "vtep0 counts the group not joined" "$N 1" \
    "$(port_field h1 groups_joined) $(port_field h1 groups_not_joined)"
vsctl h1 show >"$WORK/show.txt"
check "show says it under the ports" \
    grep -qx "vtep0: multicast groups: $N joined, 1 not joined" \
    "$WORK/show.txt"
in_ns h1 sysctl -qw net.ipv4.igmp_max_memberships=20
check "joined once the limit is raised again" \
    wait_for 5 joined h1 $EXTRA
check_eq "/proc/net/igmp lists it" "1" "$(igmp_count h1 $EXTRA_GROUP)"

# Deleting VNIs leaves their groups.
for ((i = 0; i < N; i += 2)); do
    vsctl h1 del-vni "$(vni_of $i)" || fail "del-vni $(vni_of $i)"
done
check_eq "after deleting $((N / 2)) VNIs, $((N / 2)) groups remain" \
    "$((N / 2))" "$(igmp_count h1 239.10.)"
check_eq "vtep0 counts them" "$((N / 2 + 1)) 0" \
    "$(port_field h1 groups_joined) $(port_field h1 groups_not_joined)"
check "VNI $(vni_of 999) still carries a ping across" \
    in_ns v9991 ping -c 1 -W 3 10.97.249.2
vsctl h1 del-port vtep0 || fail "del-port vtep0"
check_eq "deleting the VXLAN port leaves every group" "0" \
    "$(igmp_count h1 239.)"
check_eq "a VNI's group is then shown not joined" \
    "False no port joins groups" \
    "$(vni_field h1 $EXTRA group_joined) $(vni_field h1 $EXTRA group_error)"

finish
