# A TCP transfer for the system tests: "recv PORT" receives on PORT and
# prints the byte count and SHA-256 of what came; "send IP PORT FILE"
# sends FILE.  Every socket operation has a time-out.
import hashlib
import socket
import sys

if sys.argv[1] == "recv":
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", int(sys.argv[2])))
    srv.listen(1)
    srv.settimeout(20)
    conn, _ = srv.accept()
    conn.settimeout(20)
    digest, n = hashlib.sha256(), 0
    while True:
        data = conn.recv(1 << 16)
        if not data:
            break
        digest.update(data)
        n += len(data)
    print(n, digest.hexdigest())
else:
    conn = socket.create_connection((sys.argv[2], int(sys.argv[3])), 10)
    conn.settimeout(20)
    with open(sys.argv[4], "rb") as f:
        conn.sendall(f.read())
    conn.shutdown(socket.SHUT_WR)
    conn.recv(1)            # the receiver's close
    conn.close()
