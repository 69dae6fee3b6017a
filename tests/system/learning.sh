#!/bin/bash
# Learning from a hostile underlay.  h1 runs vswitchd with a VM in each of
# two VNIs: 5000 floods by head-end replication to h2 (so it learns from
# h2 only), 6000 floods to a group and learns only within the underlay's
# /24, with a MAC limit of 20.  h2 is an honest VTEP; hx, on the same
# underlay, sends VXLAN frames from forged outer sources through a raw
# socket.  The forged frames are delivered to the VMs but teach nothing
# where the VNI's policy refuses them (counted as learn_refused), cannot
# move h2's MAC away from h2, and a flood of them within the prefix never
# pushes out the VM's own entry.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

H1=172.31.252.1
H2=172.31.252.2
HX=172.31.252.9
GROUP=239.1.1.1
VM5_MAC=02:00:00:52:50:01
VM6_MAC=02:00:00:52:60:01
H2_MAC=02:00:00:52:00:02

# send_vxlan NS DST VNI SRC_MAC COUNT [OUTER_SRC...]: COUNT broadcast
# frames in VNI from SRC_MAC (a MAC of four bytes and "seq" ends in the
# frame's number, 0 up), each from the next of the outer sources given
# (cycled; none: the host's own address through a plain UDP socket).  An
# outer source "rand10" is a random address in 10.0.0.0/8.
send_vxlan() {
    in_ns "$1" python3 - "${@:2}" <<'EOF'
import random, socket, struct, sys

dst, vni, mac, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    int(sys.argv[4])
sources = sys.argv[5:]
rng = random.Random(4789)

def mac_bytes(m, i):
    if m.endswith(":seq"):
        return bytes.fromhex(m[:-4].replace(":", "")) + struct.pack("!H", i)
    return bytes.fromhex(m.replace(":", ""))

def vxlan(src_mac):
    inner = b"\xff" * 6 + src_mac + b"\x88\xb5" + bytes(46)
    return struct.pack("!II", 0x08000000, vni << 8) + inner

if not sources:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(count):
        s.sendto(vxlan(mac_bytes(mac, i)), (dst, 4789))
    sys.exit(0)

raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(count):
    src = sources[i % len(sources)]
    if src == "rand10":
        src = "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256),
                               rng.randrange(1, 255))
    payload = vxlan(mac_bytes(mac, i))
    udp = struct.pack("!HHHH", 40000 + i % 1000, 4789, 8 + len(payload), 0)
    # The kernel fills in the IP checksum, total length and identification.
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    raw.sendto(ip + udp + payload, (dst, 0))
EOF
}

# fdb_where VNI MAC: where h1 has MAC in VNI: the remote VTEP's address or
# the port, or "-".
fdb_where() {
    vsctl h1 --format=json fdb-show "$1" \
        | json "[e['remote'] or e['port'] for e in j['entries']
                 if e['mac'] == '$2'] or ['-']" | tr -d "[]'"
}

# fdb_count VNI PYTHON_CONDITION: h1's entries in VNI for which the
# condition on entry 'e' holds.
fdb_count() {
    vsctl h1 --format=json fdb-show "$1" \
        | json "len([e for e in j['entries'] if $2])"
}

fdb_stat() {
    vsctl h1 --format=json fdb-stats | json "j['$1']"
}

# stat_at_least NAME N: fdb-stats' NAME is N or more.
stat_at_least() {
    [ "$(fdb_stat "$1")" -ge "$2" ]
}

# learned_at VNI MAC WHERE
learned_at() {
    [ "$(fdb_where "$1" "$2")" = "$3" ]
}

# vni_learning: each VNI of h1 with its learn mode and prefix.
vni_learning() {
    vsctl h1 --format=json list-vnis \
        | json "','.join('%d %s %s' % (v['vni'], v['learn'], v['learn_prefix'])
                         for v in j['vnis'])"
}

# tap_tx TAP: frames h1's switch sent out of TAP.
tap_tx() {
    vsctl h1 --format=json list-ports \
        | json "[p['counters']['tx_packets'] for p in j['ports']
                 if p['name'] == '$1'][0]"
}

make_underlay sw
for h in h1 h2 hx; do
    make_ns "$h" || fail "namespace $h"
done
plug h1 sw "$H1/24" || fail "underlay link of h1"
plug h2 sw "$H2/24" || fail "underlay link of h2"
plug hx sw "$HX/24" || fail "underlay link of hx"
# h1 takes datagrams from sources it has no route back to, as a host on a
# routed underlay would.
in_ns h1 sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0

start_vswitchd h1 || fail "vswitchd on h1"
vsctl h1 add-port vtep0 type=vxlan local_ip=$H1 dev=eth0 \
    || fail "vxlan port on h1"
vsctl h1 add-vni 5000 flood=$H2 || fail "VNI 5000 on h1"
vsctl h1 add-vni 6000 group=$GROUP learn-prefix=172.31.252.0/24 mac-limit=20 \
    || fail "VNI 6000 on h1"
make_vm vm5 h1 tap5 5000 10.52.50.1/24 $VM5_MAC || fail "VM in VNI 5000"
make_vm vm6 h1 tap6 6000 10.52.60.1/24 $VM6_MAC || fail "VM in VNI 6000"

# The options as saved and shown.
check_eq "list-vnis shows the learning of each VNI" \
    "5000 list None,6000 any 172.31.252.0/24" \
    "$(vni_learning)"
check "show prints a LEARN column" \
    bash -c "timeout 20 '$CTL_BIN' --socket '$WORK/h1.sock' show \
             | grep -Eq '^6000 .* any 172\.31\.252\.0/24 '"
check_exit "a prefix with host bits is refused (exit 2)" 2 \
    vsctl h1 set-vni 6000 learn-prefix=172.31.252.1/24
check_exit "learn=list without a list is refused" 1 \
    vsctl h1 set-vni 6000 learn=list
check_exit "an unknown learn= is refused (exit 2)" 2 \
    vsctl h1 set-vni 5000 learn=some

# The VMs speak first, so that their MACs are learned on their ports.
in_ns vm5 ping -c 1 -W 1 10.52.50.2 >/dev/null 2>&1
in_ns vm6 ping -c 1 -W 1 10.52.60.2 >/dev/null 2>&1
check_eq "vm5 learned on tap5" tap5 "$(fdb_where 5000 $VM5_MAC)"
check_eq "vm6 learned on tap6" tap6 "$(fdb_where 6000 $VM6_MAC)"

# h2, on the list and in the prefix, is learned in both VNIs.
send_vxlan h2 $H1 5000 $H2_MAC 1
send_vxlan h2 $H1 6000 $H2_MAC 1
check "h2's MAC is learned behind h2 in VNI 5000" \
    wait_for 5 learned_at 5000 $H2_MAC "$H2"
check_eq "h2's MAC is learned behind h2 in VNI 6000" "$H2" \
    "$(fdb_where 6000 $H2_MAC)"

# VNI 5000: 300 frames from forged sources off the list (in the underlay's
# /24 and outside it), with random MACs, then 20 claiming h2's MAC.
tx_before=$(tap_tx tap5)
send_vxlan hx $H1 5000 02:00:00:77:seq 300 172.31.252.3 172.31.252.77 \
    rand10 || fail "sending forged frames in VNI 5000"
send_vxlan hx $H1 5000 $H2_MAC 20 172.31.252.3 rand10 \
    || fail "sending forged frames for h2's MAC"
check "320 refusals are counted" \
    wait_for 10 stat_at_least learn_refused 320
check_eq "learn_refused counts exactly the forged frames" 320 \
    "$(fdb_stat learn_refused)"
check_eq "nothing was learned from the forged sources in VNI 5000" 0 \
    "$(fdb_count 5000 "e['remote'] not in (None, '$H2')")"
check_eq "h2's MAC stays behind h2" "$H2" "$(fdb_where 5000 $H2_MAC)"
check "the forged frames were still delivered to vm5" \
    test "$(tap_tx tap5)" -ge $((tx_before + 320))

# VNI 6000: forged sources outside the prefix are refused; 2000 from 200
# forged sources inside it, each with a new MAC, fill the limit of 20 (18
# places were free) and then push out only remote entries: vm6's entry
# stays.
send_vxlan hx $H1 6000 02:00:00:66:seq 50 rand10 \
    || fail "sending forged frames from outside the prefix"
check "50 more refusals are counted" \
    wait_for 10 stat_at_least learn_refused 370
sources=$(seq -f "172.31.252.%g" 20 219)
evicted_before=$(fdb_stat evicted)
# shellcheck disable=SC2086
send_vxlan hx $H1 6000 02:00:00:66:seq 2000 $sources \
    || fail "sending forged frames from inside the prefix"
check "the forged flood reached VNI 6000's limit and evicted" \
    wait_for 10 stat_at_least evicted $((evicted_before + 1980))
check_eq "VNI 6000 holds its limit of 20 entries" 20 \
    "$(fdb_count 6000 "True")"
check_eq "vm6 stays on tap6 through the flood" tap6 \
    "$(fdb_where 6000 $VM6_MAC)"
check_eq "no source outside the prefix was learned" 0 \
    "$(fdb_count 6000 "(e['remote'] or '').startswith('10.')")"
check "fdb-stats prints the 370 refusals" \
    bash -c "timeout 20 '$CTL_BIN' --socket '$WORK/h1.sock' fdb-stats \
             | grep -Eq '^learn_refused: +370$'"

# The settings survive a restart.
stop_vswitchd h1
start_vswitchd h1 || fail "vswitchd on h1 again"
check_eq "the learning options survive a restart" \
    "5000 list None,6000 any 172.31.252.0/24" \
    "$(vni_learning)"

stop_vswitchd h1
finish
