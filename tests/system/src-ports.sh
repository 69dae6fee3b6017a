#!/bin/bash
# The VXLAN port's UDP source ports: with gso (the default) the daemon
# binds one set of sockets when the port opens, spread over
# src_port_range, and every flow leaves from one of them.  A port of the
# range that another program holds is skipped; a range with no free port
# leaves the port down with the reason; a new range makes a new set.
# While two TCP streams flow, the daemon's sockets stay the same (none
# opened, closed or bound again per train, as the old cache of 256 slots
# did when two flows' ports shared a slot), and on the wire each inner
# flow keeps one outer source port, one of the set.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

make_hosts 2 172.31.62 10.98.62 02:00:00:98:62 group=239.1.1.62

# daemon_ports: the UDP ports h1's daemon has sockets bound to on its
# underlay address, one a line, ascending.
daemon_ports() {
    in_ns h1 ss -Huanp \
        | awk -v pid="pid=$(cat "$WORK/h1.pid")," \
            'index($0, pid) && $4 ~ /^172\.31\.62\.1(%[^:]*)?:/ {
                 sub(/.*:/, "", $4); print $4 }' \
        | sort -n
}
count_in() {
    daemon_ports | awk -v lo="$1" -v hi="$2" '$1 >= lo && $1 <= hi' | wc -l
}
fds() {
    ls "/proc/$(cat "$WORK/h1.pid")/fd" | wc -l
}
port_field() {
    vsctl h1 --format=json list-ports \
        | json "[p for p in j['ports'] if p['name'] == 'vtep0'][0]$1"
}
state_is() {
    [ "$(port_field "['state']")" = "$1" ]
}

check_eq "the default range has 256 sockets, opened with the port" 256 \
    "$(count_in 49152 65535)"
check_eq "every 64th port of 49152-65535" \
    "$(seq 49152 64 65535 | paste -sd' ')" "$(daemon_ports | paste -sd' ')"

# Another program holds port 40004 of h1.
in_ns h1 python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 40004))
time.sleep(50)' &
holder=$!
at_exit "kill_child $holder"
wait_for 10 bash -c "ip netns exec $(ns h1) ss -Huan | grep -q ':40004 '" \
    || fail "the holder of port 40004 is not there"

check "set-port src_port_range=40004-40004" \
    vsctl h1 set-port vtep0 src_port_range=40004-40004
wait_for 10 state_is down \
    && pass "with no free port in the range the VTEP is down" \
    || fail "vtep0 is $(port_field "['state']") with every port held"
check_eq "with the reason" \
    "src_port_range 40004-40004: every port is in use" \
    "$(port_field "['error']")"

check "set-port src_port_range=40000-41023" \
    vsctl h1 set-port vtep0 src_port_range=40000-41023
wait_for 10 state_is up \
    && pass "a range with free ports brings the VTEP up" \
    || fail "vtep0 is not up: $(port_field "['error']")"
check_eq "a new range has a new set of 256 sockets" 256 \
    "$(count_in 40000 41023)"
check_eq "and none is left of the old one" 0 "$(count_in 49152 65535)"
check_eq "the held port is skipped for the next one" "40000 40005 40008" \
    "$(daemon_ports | head -n 3 | paste -sd' ')"
daemon_ports >"$WORK/set.txt"

# Two TCP streams and iperf3's control connection, vm1 to vm2.
in_ns vm2 timeout 30 iperf3 -s -1 >/dev/null 2>&1 &
server=$!
at_exit "kill_child $server"
wait_for 10 bash -c "ip netns exec $(ns vm2) ss -Htln | grep -q ':5201 '" \
    || fail "iperf3 server"
start_capture underlay h2 eth0 "$WORK/underlay.pcap" -s 160 -c 20000 \
    udp port 4789 and src host 172.31.62.1
sockets_before=$(count_in 1 65535)
fds_before=$(fds)
in_ns vm1 timeout 30 iperf3 -c 10.98.62.2 -P 2 -t 3 >"$WORK/iperf.txt" 2>&1 &
client=$!
at_exit "kill_child $client"
packets() {
    [ "$(stat -c %s "$WORK/underlay.pcap")" -gt 200000 ]
}
wait_for 10 packets || fail "no traffic on the underlay"
sockets_during=$(count_in 1 65535)
fds_during=$(fds)
wait "$client"
check_eq "iperf3 ran" 0 "$?"
stop_capture underlay
check_eq "the daemon's UDP sockets while traffic flows" \
    "$sockets_before $sockets_before" \
    "$sockets_during $(count_in 1 65535)"
check_eq "the daemon's descriptors while traffic flows" \
    "$fds_before $fds_before" "$fds_during $(fds)"
check_eq "the set did not change" "$(cat "$WORK/set.txt")" "$(daemon_ports)"

# Inner flow (TCP ports both ways) and outer source port of each frame.
tshark -r "$WORK/underlay.pcap" -Y "vxlan && tcp" -T fields \
    -e tcp.srcport -e tcp.dstport -e udp.srcport 2>/dev/null \
    | sort -u >"$WORK/flows.txt"
n_flows=$(cut -f1,2 "$WORK/flows.txt" | sort -u | wc -l)
[ "$n_flows" -ge 3 ] \
    && pass "the capture holds $n_flows inner flows" \
    || fail "the capture holds $n_flows inner flows, wanted 3 or more"
check_eq "each inner flow keeps one outer source port" 0 \
    "$(cut -f1,2 "$WORK/flows.txt" | uniq -d | wc -l)"
check_eq "every outer source port is one of the set" "" \
    "$(cut -f3 "$WORK/flows.txt" | sort -u | grep -vxFf "$WORK/set.txt")"

check "set-port back to the default range" \
    vsctl h1 set-port vtep0 src_port_range=49152-65535
wait_for 10 state_is up || fail "vtep0 is not up again"
check_eq "the default set again" "256 0" \
    "$(count_in 49152 65535) $(count_in 40000 41023)"
check "vm1 pings vm2" in_ns vm1 ping -c 2 -W 2 10.98.62.2

stop_vswitchd h1
stop_vswitchd h2
finish
