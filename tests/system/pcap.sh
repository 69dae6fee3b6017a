#!/bin/bash
# pcap ports (vswitch-ctl(8), PORT TYPES): one host whose VNI 5000 has a
# pcap port cap0 (rx=in.pcap tx=cap0.pcap), a pcap port cap1
# (tx=cap1.pcap) and, through the vxlan port, a head-end replication peer
# that is a plain address on the underlay, whose traffic tcpdump records.
# in.pcap, written here, holds 5 frames that all flood: a broadcast ARP
# request, unicast UDP to an unknown MAC, a VLAN-tagged frame, IPv4
# multicast and a large IPv6 frame.  Adding cap0 replays them: cap1's file
# gets the 5 frames byte for byte, readable while the daemon runs, and the
# underlay the same 5 frames in VXLAN with VNI 5000; port-replay sends
# them all again; nothing goes back out of cap0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

vtep() { echo "172.31.253.$1"; }

# digests FILE [vxlan]: one word per frame of the capture FILE, its
# length and the start of its SHA-256, in order; "partial" at the end if
# the file ends inside a record.  With vxlan, the frames must be
# VXLAN over IPv4 without options (else "bad") and the words are those of
# the inner frames, after the 50 bytes of outer headers.
digests() {
    python3 - "$@" <<'EOF'
import hashlib, struct, sys
try:
    data = open(sys.argv[1], "rb").read()
except FileNotFoundError:
    sys.exit(0)
vxlan = sys.argv[2:] == ["vxlan"]
if len(data) < 24:
    sys.exit(0)
end = "<" if struct.unpack("<I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off, words = 24, []
while off + 16 <= len(data):
    caplen, length = struct.unpack(end + "II", data[off + 8:off + 16])
    if off + 16 + caplen > len(data):
        break
    frame = data[off + 16:off + 16 + caplen]
    off += 16 + caplen
    if caplen != length:
        words.append("cut")
        continue
    if vxlan:
        if (frame[12:14] != b"\x08\x00" or frame[14] != 0x45 or frame[23] != 17
                or frame[36:38] != struct.pack("!H", 4789)):
            words.append("bad")
            continue
        frame = frame[50:]
    words.append("%d:%s" % (len(frame), hashlib.sha256(frame).hexdigest()[:12]))
if off != len(data):
    words.append("partial")
print(" ".join(words))
EOF
}
n_frames() { digests "$@" | tr ' ' '\n' | grep -c -v -e '^partial$' -e '^$'; }
has_frames() { [ "$(n_frames "$1" ${3:+"$3"})" -ge "$2" ]; }
words() { digests "$1" ${4:+"$4"} | tr ' ' '\n' | sed -n "$2,$3p" | tr '\n' ' '; }

# The input capture: 5 Ethernet frames, all for flooding.
python3 - "$WORK/in.pcap" <<'EOF'
import socket, struct, sys

def mac(s):
    return bytes.fromhex(s.replace(":", ""))

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ipv4(src, dst, proto, payload, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x1234, 0,
                    ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

vm1, vm2, vm3, vm4 = (mac("02:00:00:98:50:0%d" % i) for i in range(1, 5))
frames = []
# 1. ARP request, broadcast, 42 bytes as a host sends it (no padding).
frames.append(mac("ff:ff:ff:ff:ff:ff") + vm1 + b"\x08\x06"
              + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
              + vm1 + socket.inet_aton("10.98.50.1")
              + b"\0" * 6 + socket.inet_aton("10.98.50.2"))
# 2. UDP to a MAC nobody has: flooded as unknown unicast.
udp = struct.pack("!HHHH", 40000, 7, 8 + 18, 0) + b"unknown unicast..."
frames.append(mac("02:00:00:98:50:99") + vm1 + b"\x08\x00"
              + ipv4("10.98.50.1", "10.98.50.99", 17, udp))
# 3. 802.1Q, VID 100 priority 3, carrying an ICMP echo request.
icmp = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + bytes(range(48))
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
frames.append(mac("02:00:00:98:50:98") + vm2 + b"\x81\x00"
              + struct.pack("!H", (3 << 13) | 100) + b"\x08\x00"
              + ipv4("10.98.50.2", "10.98.50.98", 1, icmp))
# 4. IPv4 multicast UDP to 239.5.5.5.
udp = struct.pack("!HHHH", 5353, 5353, 8 + 6, 0) + b"mcast!"
frames.append(mac("01:00:5e:05:05:05") + vm3 + b"\x08\x00"
              + ipv4("10.98.50.3", "239.5.5.5", 17, udp, ttl=1))
# 5. A large IPv6 UDP frame to all nodes: 1462 bytes, near the largest
#    inner frame (1464) an underlay MTU of 1500 lets through.
src6 = socket.inet_pton(socket.AF_INET6, "fd00:98:50::4")
dst6 = socket.inet_pton(socket.AF_INET6, "ff02::1")
payload = bytes(i % 251 for i in range(1400))
udp = struct.pack("!HHHH", 4000, 4001, 8 + len(payload), 0) + payload
pseudo = src6 + dst6 + struct.pack("!IxxxB", len(udp), 17)
udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xffff) + udp[8:]
frames.append(mac("33:33:00:00:00:01") + vm4 + b"\x86\xdd"
              + struct.pack("!IHBB", 6 << 28, len(udp), 17, 1)
              + src6 + dst6 + udp)

with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, fr in enumerate(frames):
        f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)) + fr)
EOF
IN=$(digests "$WORK/in.pcap")
check_eq "the input capture holds 5 frames" 5 "$(wc -w <<<"$IN")"

make_underlay sw
for i in 1 2; do
    make_ns "h$i"
    plug "h$i" sw "$(vtep "$i")/24"
done
start_vswitchd h1 || fail "vswitchd on h1"
vsctl h1 add-port vtep0 type=vxlan local_ip="$(vtep 1)" dev=eth0 \
    || fail "vxlan port"
vsctl h1 add-vni 5000 flood="$(vtep 2)" || fail "VNI 5000"
check "add cap1 with tx only" \
    vsctl h1 add-port cap1 type=pcap tx="$WORK/cap1.pcap" vni=5000

start_capture ul h1 eth0 "$WORK/underlay.pcap" udp port 4789 \
    || fail "tcpdump on the underlay"
check "add cap0 with rx and tx (replays in.pcap)" \
    vsctl h1 add-port cap0 type=pcap rx="$WORK/in.pcap" tx="$WORK/cap0.pcap" \
    vni=5000
check "cap1's file gets 5 frames" wait_for 10 has_frames "$WORK/cap1.pcap" 5
check_eq "a capture file takes no offloads" \
    "[[], []]" "$(vsctl h1 --format=json show \
        | json "[p['offloads'] for p in j['ports'] if p['type'] == 'pcap']")"
check "the underlay carries 5 VXLAN frames" \
    wait_for 10 has_frames "$WORK/underlay.pcap" 5 vxlan

# While the daemon runs: the file is complete, and others can read it.
check "vswitchd still runs" kill -0 "$(cat "$WORK/h1.pid")"
check_eq "cap1's file is byte for byte the input, no partial record" \
    "$IN" "$(digests "$WORK/cap1.pcap")"
check_eq "tshark reads cap1's file while vswitchd runs" 5 \
    "$(tshark -r "$WORK/cap1.pcap" 2>/dev/null | wc -l)"
check_eq "the VLAN tag survived (tshark)" "100" \
    "$(tshark -r "$WORK/cap1.pcap" -T fields -e vlan.id -Y vlan 2>/dev/null)"

# The underlay copy: VXLAN with VNI 5000 to the peer, inner frames intact.
check_eq "the inner frames on the underlay are the input, byte for byte" \
    "$IN" "$(words "$WORK/underlay.pcap" 1 5 vxlan | sed 's/ $//')"
check_eq "tshark sees VNI 5000 on all 5" "5000 5000 5000 5000 5000 " \
    "$(tshark -r "$WORK/underlay.pcap" -T fields -e vxlan.vni -Y vxlan \
        2>/dev/null | head -5 | tr '\n' ' ')"
check_eq "all 5 went to the head-end replication peer" "$(vtep 2) " \
    "$(tshark -r "$WORK/underlay.pcap" -T fields -e ip.dst -Y vxlan \
        2>/dev/null | cut -d, -f1 | sort -u | tr '\n' ' ')"

# Again, on request.
check "port-replay cap0" vsctl h1 port-replay cap0
check "cap1's file gets 5 frames more" wait_for 10 has_frames "$WORK/cap1.pcap" 10
check "the underlay carries 5 VXLAN frames more" \
    wait_for 10 has_frames "$WORK/underlay.pcap" 10 vxlan
sleep 0.5                       # anything beyond the 10 frames
check_eq "cap1's file is the input twice" "$IN $IN" "$(digests "$WORK/cap1.pcap")"
check_eq "the underlay carried the input twice" "$IN $IN" \
    "$(digests "$WORK/underlay.pcap" vxlan)"
check_eq "nothing went back out of cap0" "" "$(digests "$WORK/cap0.pcap")"
check_eq "port-replay on a port of a type that cannot replay says so" \
    "vswitch-ctl: a vxlan port has nothing to replay" \
    "$(vsctl h1 port-replay vtep0 2>&1)"
# A tx file with no frame yet must be readable too: the pcap header
# written, not left in a stdio buffer until the first frame.
check "cap0's tx file, with no frame, is readable while vswitchd runs" \
    tcpdump -r "$WORK/cap0.pcap"
stop_capture ul

counter() {
    vsctl h1 --format=json stats \
        | json "[p['counters']['$2'] for p in j['ports'] if p['name'] == '$1'][0]"
}
check_eq "cap0 received 10 frames" 10 "$(counter cap0 rx_packets)"
check_eq "cap1 sent 10 frames" 10 "$(counter cap1 tx_packets)"
check_eq "vtep0 sent 10 frames" 10 "$(counter vtep0 tx_packets)"
check_eq "no port dropped anything" "{}" \
    "$(vsctl h1 --format=json stats \
        | json "{p['name']: p['counters']['drops']
                  for p in j['ports'] if p['counters']['drops']}")"

stop_vswitchd h1
check_eq "once vswitchd stopped, cap0's tx file is the pcap header alone" 24 \
    "$(stat -c %s "$WORK/cap0.pcap")"
check_eq "and cap1's file is still the input twice" "$IN $IN" \
    "$(digests "$WORK/cap1.pcap")"
finish
