#!/usr/bin/env python3
"""Types lines into an interactive bash on a pseudo-terminal, each ended
by one TAB, and checks what readline made of the line: the test of what
completion inserts (which part of the word it replaces, the space after a
candidate or not, quoting), which calling the completion function
directly cannot show.

    readline.py SCRIPT TYPED WANT [TYPED WANT...]

SCRIPT is the completion file to source.  Prints a PASS: or FAIL: line
per pair; every wait is bounded.  Exits 1 if any failed, 77 without a
pseudo-terminal."""

import os
import pty
import select
import sys
import time

MARK = b"LINE<"


def read_until(fd, marker, timeout):
    """Reads from 'fd' until 'marker' has come and a newline after it;
    returns what came, or None after 'timeout' seconds."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        at = data.find(marker)
        if at >= 0 and data.find(b"\n", at) >= 0:
            return data
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk


def main():
    script, pairs = sys.argv[1], sys.argv[2:]
    try:
        pid, fd = pty.fork()
    except OSError as e:
        print("no pseudo-terminal (%s): readline is not tried" % e)
        return 77
    if pid == 0:
        os.environ["PS1"] = "$ "
        os.environ["INPUTRC"] = "/dev/null"
        os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])

    # Ctrl-X prints the line as readline holds it, between LINE< and >.
    setup = ("source '%s'; bind -x '\"\\C-x\": printf \"\\nLINE<%%s>\\n\" "
             "\"$READLINE_LINE\"'; echo READY\\<\\>\n" % script)
    os.write(fd, setup.encode())
    failed = 0
    if read_until(fd, b"READY<>", 10) is None:
        print("FAIL: an interactive bash starts and loads %s" % script)
        failed = 1
        pairs = []
    for typed, want in zip(pairs[0::2], pairs[1::2]):
        # Ctrl-U empties the line first; Ctrl-X after the TAB shows it.
        os.write(fd, b"\x15" + typed.encode() + b"\t\x18")
        out = read_until(fd, MARK, 10)
        got = None
        if out is not None:
            tail = out[out.rfind(MARK) + len(MARK):]
            got = tail[:tail.find(b"\n")].rstrip(b"\r")
            got = got[:-1].decode(errors="replace") if got.endswith(b">") \
                else None
        if got == want:
            print("PASS: readline makes '%s<TAB>' into '%s'" % (typed, want))
        else:
            print("FAIL: readline makes '%s<TAB>' into '%s', not '%s'"
                  % (typed, got, want))
            failed += 1
    os.write(fd, b"\x15exit\n")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
        read_until(fd, b"\x00", 0.1)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
