#!/bin/bash
# Three hosts, each with its own vswitchd, on one underlay bridge that
# floods multicast: VNI 5000 floods to group 239.1.1.1 and VNI 6000 to
# 239.1.1.2.  Each host has a VM in each VNI (10.98.50.N, 10.98.60.N).
# Every pair of VMs in a VNI pings; floods of each VNI go to its own
# group; while VNI 5000 carries pings, broadcasts, fresh ARP and an
# unknown-unicast frame, captures on the VNI 6000 VMs' TAPs hold no frame
# of VNI 5000 (none with a VNI 5000 VM's MAC or IP), although the other
# VNI 5000 VMs see it; each host's fdb-show 5000 has the other two VMs
# behind the right VTEPs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

HOSTS="1 2 3"
vtep() { echo "172.31.253.$1"; }
mac5() { echo "02:00:00:98:50:0$1"; }
mac6() { echo "02:00:00:98:60:0$1"; }

make_underlay sw
for i in $HOSTS; do
    make_ns "h$i"
    # The daemon brings a new TAP up here, before it moves to its VM with
    # the VM's MAC: without IPv6 the host's kernel sends nothing through
    # it from its first, random, MAC for the MAC tables to learn.
    in_ns "h$i" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    plug "h$i" sw "$(vtep "$i")/24"
    start_vswitchd "h$i" || fail "vswitchd on h$i"
    vsctl "h$i" add-port vtep0 type=vxlan local_ip="$(vtep "$i")" dev=eth0 \
        || fail "vxlan port on h$i"
    vsctl "h$i" add-vni 5000 group=239.1.1.1 || fail "VNI 5000 on h$i"
    vsctl "h$i" add-vni 6000 group=239.1.1.2 || fail "VNI 6000 on h$i"
    make_vm "v5$i" "h$i" t5000 5000 "10.98.50.$i/24" "$(mac5 "$i")" \
        || fail "VNI 5000 VM on h$i"
    make_vm "v6$i" "h$i" t6000 6000 "10.98.60.$i/24" "$(mac6 "$i")" \
        || fail "VNI 6000 VM on h$i"
done

# Every ordered pair, in both VNIs, with h1's underlay captured.
start_capture ul h1 eth0 "$WORK/underlay.pcap" udp port 4789 \
    || fail "tcpdump on h1's underlay"
ping_all_pairs "$HOSTS"
stop_capture ul

# The floods on the underlay (h1 sees those of all three VTEPs): each VNI
# to its own group, and only there.  ip.src and ip.dst list the outer
# address first, then the inner one if the frame holds IP.
groups_of() {
    tshark -r "$WORK/underlay.pcap" -T fields -e ip.dst -e vxlan.vni \
        -Y vxlan 2>/dev/null \
        | awk -F'\t' -v vni="$1" '
            { split($1, a, ",") }
            $2 == vni && a[1] ~ /^2(2[4-9]|3[0-9])\./ { print a[1] }' \
        | sort -u | tr '\n' ' '
}
check_eq "VNI 5000 flooded to 239.1.1.1 only" "239.1.1.1 " "$(groups_of 5000)"
check_eq "VNI 6000 flooded to 239.1.1.2 only" "239.1.1.2 " "$(groups_of 6000)"

# Isolation.  Capture the TAP of every VNI 6000 VM, and of the VNI 5000
# VMs that do not send, while VNI 5000 carries all kinds of traffic.
for i in $HOSTS; do
    start_capture "v6$i" "v6$i" t6000 "$WORK/v6$i.pcap" \
        || fail "tcpdump in v6$i"
done
for i in 2 3; do
    start_capture "v5$i" "v5$i" t5000 "$WORK/v5$i.pcap" \
        || fail "tcpdump in v5$i"
done
for i in $HOSTS; do
    in_ns "v5$i" ip neigh flush dev t5000     # fresh ARP requests
done
for a in $HOSTS; do
    for b in $HOSTS; do
        [ "$a" = "$b" ] || in_ns "v5$a" ping -c 1 -W 2 "10.98.50.$b" >/dev/null
    done
done
# A broadcast ping (nobody answers one by default: only the frames count)
# and a frame to a MAC nobody has, flooded as unknown unicast.
in_ns v51 ping -b -c 2 -i 0.2 -W 1 10.98.50.255 >/dev/null 2>&1
UNKNOWN=02:00:00:98:50:99
in_ns v51 python3 -c '
import socket, struct, sys
dst, src = (bytes.fromhex(m.replace(":", "")) for m in sys.argv[2:4])
payload = b"vswitch unknown unicast"
udp = struct.pack("!HHHH", 40000, 9, 8 + len(payload), 0) + payload
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                 socket.inet_aton("10.98.50.1"), socket.inet_aton("10.98.50.99"))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for _ in range(3):
    s.send(dst + src + b"\x08\x00" + ip + udp)
' t5000 "$UNKNOWN" "$(mac5 1)" || fail "sending the unknown-unicast frames"
# Some VNI 6000 traffic too, so that its captures are known to work.
in_ns v61 ping -c 2 -i 0.2 -W 2 10.98.60.2 >/dev/null
in_ns v61 ping -c 2 -i 0.2 -W 2 10.98.60.3 >/dev/null
sleep 0.5                       # the last floods to reach the far TAPs
for i in $HOSTS; do stop_capture "v6$i"; done
for i in 2 3; do stop_capture "v5$i"; done

# scan FILE NEEDLE...: "FRAMES MATCHING", the frames in the capture and
# how many of them hold any of the needles (MACs or IPv4 addresses, or
# strings given as str:TEXT) anywhere in their bytes.
scan() {
    python3 - "$@" <<'EOF'
import socket, struct, sys
def needle(s):
    if s.startswith("str:"):
        return s[4:].encode()
    if ":" in s:
        return bytes.fromhex(s.replace(":", ""))
    return socket.inet_aton(s)
needles = [needle(s) for s in sys.argv[2:]]
data = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", data[:4])[0]
end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off, frames, matching = 24, 0, 0
while off + 16 <= len(data):
    caplen = struct.unpack(end + "I", data[off + 8:off + 12])[0]
    frame = data[off + 16:off + 16 + caplen]
    off += 16 + caplen
    frames += 1
    matching += any(n in frame for n in needles)
print(frames, matching)
EOF
}
VNI5000="$(mac5 1) $(mac5 2) $(mac5 3) $UNKNOWN 10.98.50.1 10.98.50.2 10.98.50.3"
for i in $HOSTS; do
    read -r frames leaked <<<"$(scan "$WORK/v6$i.pcap" $VNI5000)"
    check "v6$i's capture holds frames (of VNI 6000)" test "${frames:-0}" -gt 0
    check_eq "no VNI 5000 frame reached v6$i's TAP (of $frames frames)" \
        0 "$leaked"
done
for i in 2 3; do
    check_eq "v5$i saw the broadcast pings" 2 \
        "$(scan "$WORK/v5$i.pcap" 10.98.50.255 | cut -d' ' -f2)"
    check_eq "v5$i saw the unknown-unicast frames" 3 \
        "$(scan "$WORK/v5$i.pcap" "str:vswitch unknown unicast" | cut -d' ' -f2)"
done

# Each host learned the other two VMs of VNI 5000 behind their VTEPs.
for i in $HOSTS; do
    vsctl "h$i" --format=json fdb-show 5000 >"$WORK/fdb$i.json"
    check_eq "h$i's fdb-show 5000 has the three VMs of VNI 5000" \
        "$(mac5 1) $(mac5 2) $(mac5 3)" \
        "$(json "' '.join(sorted(e['mac'] for e in j['entries']))" \
              <"$WORK/fdb$i.json")"
    for j in $HOSTS; do
        if [ "$i" = "$j" ]; then
            want=t5000
        else
            want=$(vtep "$j")
        fi
        check_eq "h$i has v5$j's MAC behind $want" "$want" \
            "$(json "' '.join(e['remote'] or e['port']
                               for e in j['entries']
                               if e['mac'] == '$(mac5 "$j")')" \
                  <"$WORK/fdb$i.json")"
    done
done

for i in $HOSTS; do stop_vswitchd "h$i"; done
finish
