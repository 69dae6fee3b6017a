# A UDP segmentation offload (USO) sender and its receiver for the system
# tests, as QUIC or WireGuard send: "send IP PORT BURSTS SIZE SEG" hands
# the kernel BURSTS datagrams of SIZE bytes with UDP_SEGMENT set to SEG, so
# that each leaves as one super frame of SIZE bytes to be cut into SEG-byte
# datagrams (the last shorter); "recv PORT BURSTS SIZE SEG" receives them
# with UDP_GRO, which takes a super frame that arrived whole in one read,
# and prints "VALID INVALID READS": the datagrams that carried the right
# bytes (each once), those that did not, and how many reads it took.
# Every socket operation has a time-out.
import hashlib
import socket
import struct
import sys
import time

UDP_SEGMENT = 103
UDP_GRO = 104


def datagram(burst, k, size):
    """Datagram k of burst 'burst': its numbers, then bytes from them."""
    head = struct.pack("!II", burst, k)
    seed = hashlib.sha256(head).digest()
    body = (seed * (size // len(seed) + 1))[:size - len(head)]
    return head + body


def lengths(size, seg):
    """The lengths of the datagrams one super frame is cut into."""
    return [min(seg, size - ofs) for ofs in range(0, size, seg)]


def family(ip):
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def send(ip, port, bursts, size, seg):
    sock = socket.socket(family(ip), socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_UDP, UDP_SEGMENT, seg)
    sock.settimeout(10)
    sock.connect((ip, port))
    for burst in range(bursts):
        sock.send(b"".join(datagram(burst, k, n)
                           for k, n in enumerate(lengths(size, seg))))
        # A pause between bursts, so that no queue on the way overflows:
        # the test counts every datagram.
        time.sleep(0.01)


def recv(port, bursts, size, seg):
    ip6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    ip6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ip6.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    ip6.setsockopt(socket.SOL_UDP, UDP_GRO, 1)
    ip6.bind(("::", port))
    want = {(b, k): n for b in range(bursts)
            for k, n in enumerate(lengths(size, seg))}
    seen, invalid, reads = set(), 0, 0
    # Ready for the sender once bound; then every datagram within 20 s,
    # and at most 3 s of silence.
    print("ready", flush=True)
    ip6.settimeout(20)
    while len(seen) < len(want):
        try:
            data, anc, _, _ = ip6.recvmsg(1 << 16,
                                          socket.CMSG_SPACE(4))
        except socket.timeout:
            break
        ip6.settimeout(3)
        reads += 1
        cut = len(data)
        for level, kind, value in anc:
            if level == socket.SOL_UDP and kind == UDP_GRO:
                cut = struct.unpack("=i", value[:4])[0]
        for ofs in range(0, len(data), cut):
            piece = data[ofs:ofs + cut]
            if len(piece) < 8:
                invalid += 1
                continue
            key = struct.unpack("!II", piece[:8])
            if (key in want and key not in seen
                    and piece == datagram(key[0], key[1], want[key])):
                seen.add(key)
            else:
                invalid += 1
    print(len(seen), invalid, reads)


if sys.argv[1] == "send":
    send(sys.argv[2], *map(int, sys.argv[3:7]))
else:
    recv(*map(int, sys.argv[2:6]))
