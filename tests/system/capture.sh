#!/bin/bash
# Live capture (vswitch-ctl capture): two hosts, two VMs pinging across
# VXLAN.  The TAP port's frames read by tcpdump from the stream; --filter
# icmp leaves the ARP frames out; --direction in and out each see only
# theirs; --count stops the capture; the VXLAN port's capture holds the
# outer frames as the underlay carries them (tshark: VNI, addresses, UDP
# port 4789, the veths' MAC addresses); a reader that stops reading
# loses captured frames, counted, while the pings go on; the capture ends
# when its client is killed or its port deleted (visible in show); the
# errors: a bad filter, an unknown port (which leaves the -w file as it
# was), bad counts and durations, a client that may only read, a ninth
# capture, a group member's eighth.  Forwarding goes on while long filters
# compile; the VXLAN capture survives its device going down and up; a
# signal while the output blocks and the daemon's stop end a capture
# cleanly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

command -v tshark >/dev/null || { echo "SKIP: no tshark"; exit 77; }
command -v tcpdump >/dev/null || { echo "SKIP: no tcpdump"; exit 77; }

make_hosts 2 172.31.249 10.96.0 02:00:00:96:00 group=239.1.1.7
VM1_MAC=02:00:00:96:00:01

# vcap NAME ARGS...: "vswitch-ctl capture ARGS" against h1 in the
# background, stdout to $WORK/NAME.out, stderr to $WORK/NAME.err;
# returns once the capture runs.  VCAP[NAME] is its pid.
declare -A VCAP=()
vcap() {
    local name=$1
    shift
    in_background 60 "$CTL_BIN" --socket "$WORK/h1.sock" capture "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err"
    VCAP[$name]=$BG_PID
    wait_for 10 grep -q "^capturing" "$WORK/$name.err"
}

# vcap_wait NAME: waits (20 s at most) for the capture to end by itself.
vcap_wait() {
    local pid=${VCAP[$1]}
    wait_for 20 bash -c "! kill -0 $pid || ps -o stat= -p $pid | grep -q Z"
    wait "$pid"
}

# captures: how many captures show says port $1 of h1 has.
captures() {
    vsctl h1 --format=json show \
        | json "[p.get('capturing', 0) for p in j['ports'] if p['name'] == '$1'][0]"
}

no_captures() { test "$(captures tap0)" = 0; }

# said WHAT: the last command that check_exit ran said WHAT on stderr.
said() {
    cp "$WORK/err" "$WORK/said"
    check "$1" grep -q "$2" "$WORK/said"
}

# frames FILE TSHARK-FILTER: how many frames of FILE the filter selects.
frames() {
    tshark -r "$1" -Y "$2" 2>/dev/null | wc -l
}

# The TAP port into tcpdump, while the VMs ping.
in_ns vm1 ip neigh flush dev tap0
timeout 60 bash -c "'$CTL_BIN' --socket '$WORK/h1.sock' capture tap0 \
    --duration 4 -w - 2>'$WORK/td.err' | tcpdump -n -r - >'$WORK/td.out' \
    2>/dev/null" &
td=$!
at_exit "kill_child -9 $td"
wait_for 10 grep -q "^capturing" "$WORK/td.err" || fail "capture started"
vcap icmp tap0 --filter icmp --duration 4 -w "$WORK/icmp.pcap"
vcap in tap0 --direction in --duration 4 -w "$WORK/in.pcap"
vcap out tap0 --direction out --duration 4 -w "$WORK/out.pcap"
vcap lines tap0 --duration 4
vcap vx vtep0 --duration 4 -w "$WORK/vx.pcap"
vcap vxin vtep0 --direction in --duration 4 -w "$WORK/vxin.pcap"
vcap vxout vtep0 --direction out --duration 4 -w "$WORK/vxout.pcap"
check "vm1 pings vm2 during the captures" \
    in_ns vm1 ping -c 3 -i 0.2 -W 2 10.96.0.2
check_eq "show counts the captures of tap0" 5 "$(captures tap0)"
for c in icmp in out lines vx vxin vxout; do
    vcap_wait "$c"
done
wait "$td"
cat "$WORK/td.out"
check_eq "tcpdump reads the echo requests from the stream" 3 \
    "$(grep -c 'ICMP echo request' "$WORK/td.out")"
check_eq "tcpdump reads the echo replies from the stream" 3 \
    "$(grep -c 'ICMP echo reply' "$WORK/td.out")"
check "the unfiltered capture holds the ARP exchange" \
    grep -q "ARP, Request who-has 10.96.0.2" "$WORK/td.out"
check "the capture says why it ended" \
    grep -q "^capture ended: duration over" "$WORK/td.err"
check "the capture counts what it captured" \
    grep -Eq "^[1-9][0-9]* frames captured, 0 lost" "$WORK/td.err"
check_eq "--filter icmp keeps the 6 ICMP frames" 6 \
    "$(frames "$WORK/icmp.pcap" icmp)"
check_eq "--filter icmp leaves the ARP frames out" 0 \
    "$(frames "$WORK/icmp.pcap" arp)"
check_eq "--direction in holds the 3 requests" 3 \
    "$(frames "$WORK/in.pcap" "icmp.type == 8")"
check_eq "--direction in holds only vm1's frames" 0 \
    "$(frames "$WORK/in.pcap" "eth.src != $VM1_MAC")"
check_eq "--direction out holds the 3 replies" 3 \
    "$(frames "$WORK/out.pcap" "icmp.type == 0")"
check_eq "--direction out holds none of vm1's frames" 0 \
    "$(frames "$WORK/out.pcap" "eth.src == $VM1_MAC")"
check "without -w, one line per frame with its direction" \
    grep -Eq "^[0-9:.]+ in +98 $VM1_MAC > 02:00:00:96:00:02, ethertype IPv4" \
    "$WORK/lines.out"

# The VXLAN port: the outer frames as the underlay carries them.
mac_of() { in_ns "$1" cat /sys/class/net/eth0/address; }
H1_MAC=$(mac_of h1)
H2_MAC=$(mac_of h2)
tshark -r "$WORK/vx.pcap" -Y "icmp" -T fields -e eth.src -e eth.dst \
    -e ip.src -e ip.dst -e udp.dstport -e vxlan.vni 2>/dev/null \
    | awk -F'\t' '{ split($1, s, ","); split($2, d, ","); split($3, a, ",");
                    split($4, b, ","); print s[1], d[1], a[1], b[1], $5, $6 }' \
    | sort -u >"$WORK/vx.txt"
cat "$WORK/vx.txt"
check_eq "the VXLAN capture holds the requests and replies, outer headers" \
    "$(printf '%s\n' "$H1_MAC $H2_MAC 172.31.249.1 172.31.249.2 4789 5000" \
           "$H2_MAC $H1_MAC 172.31.249.2 172.31.249.1 4789 5000" | sort)" \
    "$(cat "$WORK/vx.txt")"
check_eq "the VXLAN capture holds 6 ICMP frames" 6 \
    "$(frames "$WORK/vx.pcap" icmp)"
check_eq "--direction in on the VXLAN port: the 3 replies" 3 \
    "$(frames "$WORK/vxin.pcap" "icmp.type == 0")"
check_eq "--direction in on the VXLAN port: nothing from h1" 0 \
    "$(frames "$WORK/vxin.pcap" "ip.src == 172.31.249.1 && !icmp")"
check_eq "--direction out on the VXLAN port: the 3 requests" 3 \
    "$(frames "$WORK/vxout.pcap" "icmp.type == 8")"
check_eq "--direction out on the VXLAN port: only from h1" 0 \
    "$(frames "$WORK/vxout.pcap" "!(ip.src == 172.31.249.1)")"

# Super frames: a TCP transfer from a VM with TSO; the TAP port takes
# 64 KB segments, which the VXLAN port sends whole (tunnel TAP) or in UDP
# GSO trains.  Both are captured whole, as tcpdump shows them on a device
# with offloads.
head -c 4000000 /dev/urandom >"$WORK/data"
vcap tsf tap0 --filter "tcp" --duration 5 -w "$WORK/tsf.pcap"
vcap vsf vtep0 --duration 5 -w "$WORK/vsf.pcap"
timeout 30 ip netns exec "$(ns vm2)" python3 "$XFER" recv 5001 \
    >"$WORK/recv.txt" &
recv=$!
at_exit "kill_child -9 $recv"
listening() { in_ns vm2 ss -ltn "sport = :5001" | grep -q LISTEN; }
wait_for 10 listening
in_ns vm1 timeout 30 python3 "$XFER" send 10.96.0.2 5001 "$WORK/data"
wait "$recv"
vcap_wait tsf
vcap_wait vsf
check_eq "the transfer arrives whole during the captures" \
    "4000000 $(sha256sum <"$WORK/data" | cut -d' ' -f1)" "$(cat "$WORK/recv.txt")"
tshark -r "$WORK/tsf.pcap" -T fields -e frame.len -e ip.len 2>/dev/null \
    | awk '$1 > 1514 && $1 == $2 + 14' | wc -l >"$WORK/tsf.n"
check "the TAP capture holds whole super frames (IP length past 1500)" \
    test "$(cat "$WORK/tsf.n")" -gt 0
check "the VXLAN capture holds whole super frames or trains" \
    test "$(frames "$WORK/vsf.pcap" "frame.len > 1514 && vxlan")" -gt 0

# --count: the capture ends by itself.
vcap count tap0 --count 2 -w "$WORK/count.pcap"
in_ns vm1 ping -c 3 -i 0.2 -W 2 10.96.0.2 >/dev/null
vcap_wait count
check_eq "--count 2 stops with 2 frames" 2 "$(frames "$WORK/count.pcap" "")"
check "--count says so" grep -q "^capture ended: count reached" \
    "$WORK/count.err"
vcap vcount vtep0 --count 1 --filter "udp" -w "$WORK/vcount.pcap"
in_ns vm1 ping -c 2 -i 0.2 -W 2 10.96.0.2 >/dev/null
vcap_wait vcount
check_eq "--count 1 on the VXLAN port stops with 1 frame" 1 \
    "$(frames "$WORK/vcount.pcap" "vxlan")"

# The underlay device going down and up (an error on the packet socket)
# does not end the VXLAN capture silently: it takes the frames after.
vcap flap vtep0 --filter udp --duration 6 -w "$WORK/flap.pcap"
in_ns h1 ip link set eth0 down
in_ns h1 ip link set eth0 up
wait_for 10 in_ns vm1 ping -c 1 -W 1 10.96.0.2
in_ns vm1 ping -c 3 -i 0.2 -W 2 10.96.0.2 >/dev/null
vcap_wait flap
check "a VXLAN capture goes on after its device went down and up" \
    test "$(frames "$WORK/flap.pcap" "icmp.type == 8")" -ge 3

# A reader that goes away (head) ends the capture as Ctrl-C does.
timeout 30 bash -c "'$CTL_BIN' --socket '$WORK/h1.sock' capture tap0 \
    2>'$WORK/head.err' | head -1 >'$WORK/head.out'" &
hd=$!
at_exit "kill_child -9 $hd"
wait_for 10 grep -q "^capturing" "$WORK/head.err"
in_ns vm1 ping -c 3 -i 0.2 -W 2 10.96.0.2 >/dev/null
check "a capture whose reader went away ends" \
    wait_for 10 bash -c "! kill -0 $hd || ps -o stat= -p $hd | grep -q Z"
wait "$hd"
check "and reports its counts" grep -q "frames captured, 0 lost" \
    "$WORK/head.err"
check_eq "the reader got its line" 1 "$(wc -l <"$WORK/head.out")"

# A signal that comes while the output blocks (a reader that takes
# nothing) ends the capture as any signal does.
mkfifo "$WORK/fifo"
sleep 60 <>"$WORK/fifo" &
holder=$!
at_exit "kill_child -9 $holder"
vcap blocked tap0 -w "$WORK/fifo"
in_ns vm1 ping -q -c 300 -i 0.002 -s 1400 -W 2 10.96.0.2 >/dev/null
blocked=$(pgrep -P "${VCAP[blocked]}")
wait_for 10 grep -q pipe_write "/proc/$blocked/wchan"
kill -TERM "$blocked"
vcap_wait blocked
check_eq "a signal while the output blocks: exit 0" 0 "$?"
check "without a write error" test "$(grep -c "cannot write" \
    "$WORK/blocked.err")" = 0
kill -9 "$holder"

# A reader that stops reading: its frames are lost, counted; the pings
# go on at their rate.
vcap slow tap0 -w "$WORK/slow.pcap"
slow=$(pgrep -P "${VCAP[slow]}")
kill -STOP "$slow"
in_ns vm1 ping -q -c 600 -i 0.005 -s 1400 -W 2 10.96.0.2 >"$WORK/ping.txt"
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$WORK/ping.txt")
check "a stopped reader does not stop the pings ($received of 600)" \
    test "${received:-0}" -ge 594
kill -CONT "$slow"
# The next chunk carries the count of what was lost.
in_ns vm1 ping -c 2 -i 0.2 -W 2 10.96.0.2 >/dev/null
sleep 1
kill -INT "$slow"
vcap_wait slow
cat "$WORK/slow.err"
lost=$(sed -n 's/.* captured, \([0-9]*\) lost.*/\1/p' "$WORK/slow.err")
check "the slow reader's lost frames are reported ($lost)" \
    test "${lost:-0}" -gt 0

# A reader that takes nothing for 10 s is dropped, as any control client,
# and its capture released.
vcap stall tap0 -w "$WORK/stall.pcap"
stall=$(pgrep -P "${VCAP[stall]}")
kill -STOP "$stall"
in_ns vm1 ping -q -c 300 -i 0.005 -s 1400 -W 2 10.96.0.2 >/dev/null
check_eq "the stopped reader's capture runs meanwhile" 1 "$(captures tap0)"
check "a reader stopped for 10 s is dropped, its capture released" \
    wait_for 25 no_captures
kill -CONT "$stall"
vcap_wait stall
check "the dropped reader says the daemon closed the connection" \
    grep -q "closed the connection" "$WORK/stall.err"

# The capture ends when its client goes, and when its port goes.
vcap killed tap0 -w /dev/null
check_eq "show: capturing 1" 1 "$(captures tap0)"
vsctl h1 show >"$WORK/show.txt"
check "show's table says so too" grep -qx "tap0: capturing: 1" \
    "$WORK/show.txt"
kill -9 "$(pgrep -P "${VCAP[killed]}")"
check "the capture ends with its client" wait_for 10 no_captures
vsctl h1 add-port tap9 type=tap vni=5000
vcap gone tap9 -w /dev/null
vsctl h1 del-port tap9
vcap_wait gone
check "deleting the port ends its capture" \
    grep -q "^capture ended: port deleted" "$WORK/gone.err"

# libpcap takes a good part of a second to compile a long expression (a
# kilobyte of port ranges): eight such captures starting at once never
# hold up forwarding.
long=$(python3 -c "
terms = []
while len(' and '.join(terms)) < 1000:
    terms.append('(portrange %d-%d)' % (len(terms) + 1, len(terms) + 10))
print(' and '.join(terms[:-1]))")
in_ns vm1 ping -q -i 0.01 -c 300 -w 20 -W 2 10.96.0.2 >"$WORK/ping-cc.txt" 2>&1 &
ping_cc=$!
sleep 0.2
for i in 1 2 3 4 5 6 7 8; do
    timeout 30 "$CTL_BIN" --socket "$WORK/h1.sock" capture tap0 \
        --filter "$long" --duration 1 -w /dev/null 2>"$WORK/cc$i.err" &
    VCAP[cc$i]=$!
done
for i in 1 2 3 4 5 6 7 8; do
    vcap_wait "cc$i"
done
wait "$ping_cc"
check_eq "the long filter compiled for all eight" 8 \
    "$(cat "$WORK"/cc*.err | grep -c "^capture ended: duration over")"
check_ping "while eight long filters compile" "$WORK/ping-cc.txt"

# Clients that go away while their captures wait for their turn or
# compile: the captures never start, and hold no place of the eight.
for i in 1 2 3 4; do
    "$CTL_BIN" --socket "$WORK/h1.sock" capture tap0 --filter "$long" \
        -w /dev/null 2>/dev/null &
    VCAP[gone$i]=$!
done
sleep 0.1
for i in 1 2 3 4; do
    kill -9 "${VCAP[gone$i]}"
done
check "captures whose clients went before they started end" \
    wait_for 10 no_captures

# Errors.
ctl1() { timeout 20 "$CTL_BIN" --socket "$WORK/h1.sock" "$@"; }
check_exit "a bad filter is refused" 1 ctl1 capture tap0 --filter "icmp and and"
said "with libpcap's reason" "bad filter: .*syntax error"
echo precious >"$WORK/precious.pcap"
check_exit "an unknown port is refused" 1 ctl1 capture nope0 \
    -w "$WORK/precious.pcap"
said "by name" "no port nope0"
check_eq "a refused capture leaves the file of -w as it was" precious \
    "$(cat "$WORK/precious.pcap")"
check_exit "--count 0 is refused" 2 ctl1 capture tap0 --count 0
check_exit "a negative duration is refused" 2 ctl1 capture tap0 --duration -5
check_exit "a huge duration is refused" 2 ctl1 capture tap0 --duration 99999999999
check_exit "a filter over 1024 bytes is refused" 2 ctl1 capture tap0 \
    --filter "$(printf 'icmp or %.0s' $(seq 200))icmp"
check_exit "a capture with no port is refused" 2 ctl1 capture --count 1
chmod 666 "$WORK/h1.sock"
PUBLIC_CTL=$(public_ctl)
check_exit "a client that may only read may not capture" 1 \
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
    timeout 15 "$PUBLIC_CTL" --socket "$WORK/h1.sock" capture tap0
said "permission denied" "permission denied"
for i in 1 2 3 4 5 6 7 8; do
    vcap "many$i" tap0 -w /dev/null || fail "capture $i starts"
done
check_eq "8 captures run" 8 "$(captures tap0)"
check_exit "a ninth capture is refused" 1 ctl1 capture vtep0
said "saying why" "8 captures are running"
check "forwarding goes on under 8 captures" \
    in_ns vm1 ping -c 2 -i 0.2 -W 2 10.96.0.2
for i in 1 2 3 4 5 6 7 8; do
    kill -INT "$(pgrep -P "${VCAP[many$i]}")"
    vcap_wait "many$i"
done
check "the captures end" wait_for 10 no_captures
check "the daemon still answers" vsctl h1 ping

# A member of the socket's group may run all captures but the last, which
# is root's, as the last places of the control socket are: a member
# cannot lock root out.
in_ns h2 "$VSWITCHD" --socket "$WORK/g.sock" --db "$WORK/g.db" \
    --pidfile="$WORK/g.pid" --log-file="$WORK/g.log" --detach \
    --socket-group nogroup || fail "a daemon for the group"
at_exit "kill_vswitchd '$WORK/g.pid'"
ctlg() { timeout 20 "$CTL_BIN" --socket "$WORK/g.sock" "$@"; }
member() {
    setpriv --reuid=nobody --regid=nogroup --clear-groups timeout 60 \
        "$PUBLIC_CTL" --socket "$WORK/g.sock" "$@"
}
ctlg add-port pc0 type=pcap tx="$WORK/g-tx.pcap"
for i in 1 2 3 4 5 6 7; do
    member capture pc0 -w /dev/null 2>"$WORK/g$i.err" &
    wait_for 10 grep -q "^capturing" "$WORK/g$i.err" \
        || fail "a member's capture $i starts"
done
check_exit "a member's eighth capture is refused" 1 member capture pc0
said "the last place is root's" "the last one is kept for root"
check "root's capture starts" ctlg capture pc0 --duration 1 -w /dev/null
stop_daemon_of "$WORK/g.pid"

# The daemon stopping ends a capture with a last chunk that says so: the
# client's file is whole and it exits as for any other end.
vcap term tap0 -w "$WORK/term.pcap"
in_ns vm1 ping -c 2 -i 0.2 -W 2 10.96.0.2 >/dev/null
stop_vswitchd h1
vcap_wait term
check_eq "a capture ended by the daemon's stop exits 0" 0 "$?"
check "and says why" grep -q "^capture ended: vswitchd is stopping" \
    "$WORK/term.err"
check_eq "its file holds the pings" 4 "$(frames "$WORK/term.pcap" icmp)"
finish
