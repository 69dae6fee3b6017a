#!/bin/bash
# A large batch (vswitch-ctl(8), Batches) does not stall forwarding: N
# VNIs, each with a TAP port bound to it and a static MAC on the port, in
# one batch while one VM pings another through the switch every 10 ms.
# The batch applies completely; the pings never pause for more than 1 s;
# vswitchd's own measure of the batch (its log line: the longest step,
# and the loop's longest turn meanwhile) stays under 100 ms and 1 s; and
# the same batch with a bad last line changes nothing and opens no port.
# The same holds for a batch that deletes those N ports (each TAP device
# closed off the loop), and for a batch of 220,000 EVPN commands
# (evpn-batch.h).  A batch in steps that moves the VMs to a new VNI and
# deletes their old one keeps their devices.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
take_turn

N=1536
make_ns h1
check "vswitchd starts" start_vswitchd h1 || finish
check "VNI 1" vsctl h1 add-vni 1
make_vm vm1 h1 sv1 1 10.98.0.1/24 02:00:00:98:00:01 \
    && make_vm vm2 h1 sv2 1 10.98.0.2/24 02:00:00:98:00:02 \
    || { fail "the VMs"; finish; }
check "vm1 pings vm2" in_ns vm1 ping -c 3 -i 0.2 -W 2 10.98.0.2

# gen_batch BASE PREFIX: N VNIs from BASE + 1, each with a TAP port
# PREFIXi bound to it and a static MAC on the port.
gen_batch() {
    local base=$1 prefix=$2 i
    for i in $(seq $N); do
        printf 'add-vni %d\n' $((base + i))
        printf 'add-port %s%d type=tap vni=%d\n' "$prefix" "$i" $((base + i))
        printf 'fdb-add %d 02:00:00:%02x:%02x:%02x %s%d\n' $((base + i)) \
            $((i >> 16)) $(((i >> 8) & 255)) $((i & 255)) "$prefix" "$i"
    done
}

# A bad last line: the daemon refuses the whole batch, having opened
# nothing.
links() { in_ns h1 ip -o link show | wc -l; }
gen_batch 20000 bp >"$WORK/bad.batch"
echo "add-port sv1 type=tap vni=1" >>"$WORK/bad.batch"
db_before=$(md5sum <"$WORK/h1.db")
links_before=$(links)
check_exit "a batch of $N VNIs with a bad last line fails" 1 \
    timeout 120 "$CTL_BIN" --socket "$WORK/h1.sock" --timeout 100 \
    batch "$WORK/bad.batch"
check_eq "naming the line" "vswitch-ctl: line $((3 * N + 1)): port sv1 exists" \
    "$(cat "$WORK/err")"
check_eq "the configuration file is as it was" "$db_before" \
    "$(md5sum <"$WORK/h1.db")"
check_eq "no VNI was added" 1 \
    "$(vsctl h1 --format=json list-vnis | json "len(j['vnis'])")"
check_eq "no device was made" "$links_before" "$(links)"

# during WHAT TIMEOUT CMD...: the check WHAT of CMD (given TIMEOUT
# seconds) while vm1 pings vm2 every 10 ms (-D stamps each reply with its
# time): the pings go on through it, never pausing for over 1 s.
during() {
    local what=$1 limit=$2 after replies gap
    shift 2
    ip netns exec "$(ns vm1)" ping -D -i 0.01 -W 1 -w 170 10.98.0.2 \
        >"$WORK/ping.out" 2>&1 &
    ping_pid=$!
    at_exit "kill_child $ping_pid 2>/dev/null"
    # Replies before and after, so that a pause at either end shows.
    wait_for 10 replies_at_least 50 || fail "no ping replies before: $what"
    start=$(date +%s%N)
    check "$what" timeout "$limit" "$@"
    echo "# it took $((($(date +%s%N) - start) / 1000000)) ms"
    after=$(grep -c 'bytes from' "$WORK/ping.out")
    wait_for 10 replies_at_least $((after + 50)) \
        || fail "no ping replies after: $what"
    kill -INT $ping_pid
    wait $ping_pid 2>/dev/null
    read -r replies gap <<<"$(awk -F'[][]' '/bytes from/ {
            if (n++ && $2 - last > gap) gap = $2 - last; last = $2 }
        END { printf "%d %d\n", n, gap * 1000 }' "$WORK/ping.out")"
    echo "# $replies ping replies, the longest pause between two ${gap} ms"
    [ "$replies" -ge 100 ] && pass "pings were answered meanwhile" \
        || fail "only $replies pings were answered"
    [ "$gap" -le 1000 ] && pass "no pause in forwarding over 1 s" \
        || fail "forwarding paused for $gap ms"
}
# replies_at_least N: the ping has N replies or more.
replies_at_least() { [ "$(grep -c 'bytes from' "$WORK/ping.out")" -ge "$1" ]; }

# check_steps WHAT: vswitchd's own measure of the batch whose log line
# says WHAT: its longest step under 100 ms, the loop's longest turn
# meanwhile under 1 s.
check_steps() {
    local line step turn
    line=$(grep -o "$1.*" "$WORK/h1.log" | tail -n 1)
    echo "# vswitchd: $line"
    step=$(sed -n 's/.* steps, the longest \([0-9.]*\) ms.*/\1/p' <<<"$line")
    turn=$(sed -n 's/.*longest turn meanwhile \([0-9.]*\) ms.*/\1/p' <<<"$line")
    [ -n "$step" ] && awk -v s="$step" 'BEGIN { exit !(s < 100) }' \
        && pass "vswitchd's longest step is under 100 ms" \
        || fail "vswitchd's longest step: ${step:-not logged} ms"
    [ -n "$turn" ] && awk -v t="$turn" 'BEGIN { exit !(t < 1000) }' \
        && pass "vswitchd's longest loop turn is under 1 s" \
        || fail "vswitchd's longest loop turn: ${turn:-not logged} ms"
}

gen_batch 10000 p >"$WORK/vms.batch"
during "the batch of $N VNIs, ports and static MACs applies" 150 \
    "$CTL_BIN" --socket "$WORK/h1.sock" --timeout 140 batch "$WORK/vms.batch"
check_steps "batch of $((3 * N)) commands"

check_eq "list-vnis has the $N VNIs and VNI 1" $((N + 1)) \
    "$(vsctl h1 --format=json list-vnis | json "len(j['vnis'])")"
check_eq "every VNI has its port and static MAC" $N \
    "$(vsctl h1 --format=json list-vnis | json "len([v for v in j['vnis']
        if v['ports'] == ['p%d' % (v['vni'] - 10000)]
        and v['static_macs'] == 1])")"
check_eq "every port is up" $((N + 2)) \
    "$(vsctl h1 --format=json list-ports | json "len([p for p in j['ports']
        if p['state'] == 'up'])")"
check_eq "the MAC table has every static MAC, on its port" $N \
    "$(vsctl h1 --format=json fdb-show | json "len([e for e in j['entries']
        if e['type'] == 'static' and e['port'] == 'p%d' % (e['vni'] - 10000)
        and e['mac'] == '02:00:00:%02x:%02x:%02x' % ((e['vni'] - 10000) >> 16,
            ((e['vni'] - 10000) >> 8) & 255, (e['vni'] - 10000) & 255)])")"
check "and the VMs still ping" in_ns vm1 ping -c 3 -i 0.2 -W 2 10.98.0.2

# All those ports deleted in one batch.  The kernel takes 10-25 ms to
# close each TAP device, which vswitchd does on other threads (the loop
# held 30 s otherwise), answering once the devices are gone.
# Meanwhile an fdb-show, whose answer a worker thread builds, is not
# queued behind the closes: it comes while the batch is still going.
for i in $(seq $N); do echo "del-port p$i"; done >"$WORK/del.batch"
p_devices() { in_ns h1 ip -o link show | grep -c ': p[0-9]*[:@]'; }
fewer_p_devices() { [ "$(p_devices)" -lt "$1" ]; }
(
    # Once the closes have begun: 100 devices gone.
    wait_for 60 fewer_p_devices $((N - 100))
    start=$(date +%s%N)
    "$CTL_BIN" --socket "$WORK/h1.sock" --timeout 10 fdb-show >/dev/null
    echo "$? $((($(date +%s%N) - start) / 1000000))" \
        "$(grep -c "batch of $N commands" "$WORK/h1.log")" >"$WORK/dump.result"
) &
dump_pid=$!
during "a batch deleting the $N TAP ports applies" 150 \
    "$CTL_BIN" --socket "$WORK/h1.sock" --timeout 140 batch "$WORK/del.batch"
echo "# vswitchd: $(grep -o "batch of $N commands.*" "$WORK/h1.log" | tail -n 1)"
wait $dump_pid
read -r dump_rc dump_ms batch_done <"$WORK/dump.result"
echo "# an fdb-show meanwhile took $dump_ms ms"
check_eq "an fdb-show meanwhile answers, before the batch" "0 0" \
    "$dump_rc $batch_done"
[ "$dump_ms" -lt 2000 ] && pass "and within 2 s" \
    || fail "the fdb-show took $dump_ms ms"
check_eq "none of their devices is left once it is answered" 0 "$(p_devices)"
check_eq "nor are their static MACs" 0 \
    "$(vsctl h1 --format=json fdb-stats | json "j['static_macs']")"
check "a port of a name just deleted is added again" \
    vsctl h1 add-port p1 type=tap vni=10001
check_eq "and is up" up "$(vsctl h1 --format=json list-ports | json "[p['state']
    for p in j['ports'] if p['name'] == 'p1'][0]")"

# A port deleted and added again as another type in one batch: the new
# one waits for the old one's device to close, then opens.  The TAP
# device is made outside the daemon, so it stays for the system port.
in_ns h1 ip tuntap add ut1 mode tap
check "a TAP port on a device made outside" vsctl h1 add-port ut1 type=tap vni=1
check "the port replaced by a system port of its name in one batch" \
    vsctl h1 del-port ut1 -- add-port ut1 type=system vni=1
check_eq "which is up once that is answered" "system up" \
    "$(vsctl h1 --format=json list-ports | json "[p['type'] + ' ' + p['state']
        for p in j['ports'] if p['name'] == 'ut1'][0]")"
check "having waited for the old one to close" grep -q \
    "port ut1: up, the device of the port deleted before it gone" \
    "$WORK/h1.log"

# An EVPN batch as large as the agent's biggest and then some: an EVPN
# VNI with 4,095 VTEPs, then 100,000 lines that add one more and 100,000
# that take it away again, alternately (each would rebuild the flood list
# of 4,096), and 20,000 remote MACs.  vswitchd checks it in the turn it
# comes in and puts it into effect a slice per turn.
check "VNI 9000 is EVPN" vsctl h1 add-vni 9000 control=evpn
evpn_vtep() { echo "10.200.$(($1 >> 8)).$(($1 & 255))"; }
for i in $(seq 4095); do echo "evpn-vtep-add 9000 $(evpn_vtep "$i")"; done \
    >"$WORK/vteps.batch"
check "a batch of 4,095 EVPN VTEPs applies" vsctl h1 batch "$WORK/vteps.batch"
python3 -c '
for i in range(100000):
    print("evpn-vtep-add 9000 10.201.0.1")
    print("evpn-vtep-del 9000 10.201.0.1")
for i in range(20000):
    print("evpn-mac-add 9000 02:00:00:99:%02x:%02x remote=10.200.0.%d"
          % (i >> 8, i & 255, 1 + i % 200))
' >"$WORK/evpn.batch"
during "a batch of 220,000 EVPN commands applies" 150 \
    "$CTL_BIN" --socket "$WORK/h1.sock" --timeout 140 batch "$WORK/evpn.batch"
check_steps "batch of 220000 commands"
check_eq "VNI 9000 has its 4,095 VTEPs and 20,000 EVPN MACs" "4095 20000" \
    "$(vsctl h1 --format=json list-vnis | json "' '.join(
        str(x) for v in j['vnis'] if v['vni'] == 9000
        for x in (len(v['evpn_vteps']), v['evpn_macs']))")"
check_eq "the last VTEP added and removed is not among them" "" \
    "$(vsctl h1 --format=json list-vnis | json "' '.join(
        a for v in j['vnis'] if v['vni'] == 9000 for a in v['evpn_vteps']
        if a == '10.201.0.1')")"

# Two VMs moved to a new VNI while their old one is deleted, in a batch
# that goes into effect in steps: 20 ports added before them move too,
# so the first step (16 ports) does not reach theirs.  Until it is
# reached, a VM's port stays, unbound, its device in the VM's namespace;
# deleted, the device would go, and a new one come in h1's.
check "VNI 3" vsctl h1 add-vni 3
for i in $(seq 20); do
    vsctl h1 add-port "q$i" type=tap vni=3 || fail "port q$i"
done
make_vm vm3 h1 sv3 3 10.98.3.3/24 02:00:00:98:03:03 \
    && make_vm vm4 h1 sv4 3 10.98.3.4/24 02:00:00:98:03:04 \
    || { fail "the VMs in VNI 3"; finish; }
check "vm3 pings vm4" in_ns vm3 ping -c 2 -i 0.2 -W 2 10.98.3.4
{
    echo "add-vni 4"
    for i in $(seq 20); do echo "bind-vni q$i 4"; done
    echo "bind-vni sv3 4"
    echo "bind-vni sv4 4"
    echo "del-vni 3"
} >"$WORK/move.batch"
check "a batch moves the VMs and 20 ports to VNI 4 and deletes VNI 3" \
    vsctl h1 batch "$WORK/move.batch"
check_eq "it went into effect in steps" 1 \
    "$(grep -c "batch of 24 commands.*in effect in" "$WORK/h1.log")"
check "the VMs' devices are the ones in their namespaces still" \
    in_ns vm3 ip link show sv3
check "and the VMs ping each other in VNI 4" \
    in_ns vm3 ping -c 3 -i 0.2 -W 2 10.98.3.4

finish
