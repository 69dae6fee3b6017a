#!/usr/bin/python3
"""Opens COUNT connections to vswitchd's socket as USER:GROUP and holds
them idle; prints how many the daemon kept open (it closes those it has
no place for at once), then waits SECONDS and exits.

    hold-connections.py SOCKET USER GROUP COUNT SECONDS
"""
import grp
import os
import pwd
import socket
import sys
import time

path, user, group, count, seconds = sys.argv[1:6]
os.setgroups([])
os.setgid(grp.getgrnam(group).gr_gid)
os.setuid(pwd.getpwnam(user).pw_uid)
held = []
for _ in range(int(count)):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        held.append(s)
    except OSError:
        pass
time.sleep(1)
kept = 0
for s in held:
    s.setblocking(False)
    try:
        kept += s.recv(1) != b""
    except BlockingIOError:
        kept += 1
    except OSError:
        pass
print(kept, flush=True)
time.sleep(int(seconds))
