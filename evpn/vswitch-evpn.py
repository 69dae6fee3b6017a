#!/usr/bin/python3
"""vswitch-evpn: BGP EVPN for vswitchd through GoBGP.

Runs beside vswitchd and gobgpd.  Announces each MAC that vswitchd has on
a local port of an EVPN VNI (control=evpn) as a type-2 route, and each
EVPN VNI as a type-3 route; follows GoBGP's EVPN routes and installs the
remote MACs (evpn-mac-add) and flood lists (evpn-vtep-add) into vswitchd.

Python, not C: GoBGP's only API is gRPC, which has no C client in Debian,
while its command-line client `gobgp` prints stable JSON (-j) and streams
route changes (`gobgp monitor global rib -a evpn -j --current`).

The agent keeps no state of its own that a restart could make stale: each
turn it compares what vswitchd holds (list-vnis, fdb-show) and what it has
announced with what the routes say, and mends the difference, so a
restarted vswitchd is filled again and a restarted gobgpd gets every route
again.  Until `vswitch-ctl monitor` exists it polls vswitchd (--interval).
"""

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import time

# Extended communities as GoBGP's JSON shows them.
EC_TWO_OCTET_AS = 0
EC_FOUR_OCTET_AS = 2
EC_SUBTYPE_RT = 2
EC_EVPN = 6
EC_SUBTYPE_MAC_MOBILITY = 0


def log(msg):
    print("vswitch-evpn: %s" % msg, file=sys.stderr, flush=True)


def now_ms():
    return time.monotonic() * 1000.0


# Commands run at once: a change of many routes costs the time of one
# process each, so they overlap.
PARALLEL = 8


def run_many(cmds):
    """Runs the commands (argument lists), PARALLEL at a time; returns
    whether each succeeded, in order.  Their errors go to the log."""
    results = []
    for i in range(0, len(cmds), PARALLEL):
        procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
                 for c in cmds[i:i + PARALLEL]]
        for c, p in zip(cmds[i:i + PARALLEL], procs):
            _, err = p.communicate()
            if p.returncode:
                log("%s: %s" % (" ".join(c[1:]), err.strip()))
            results.append(p.returncode == 0)
    return results


class Vswitch:
    """vswitchd, through vswitch-ctl."""

    def __init__(self, ctl, socket):
        self.base = [ctl] + (["--socket", socket] if socket else [])

    def run(self, *args, json_out=False):
        """Runs one command; returns its JSON output, True, or None if it
        failed (its one-line error goes to the log)."""
        cmd = self.base + (["--format=json"] if json_out else []) \
            + [str(a) for a in args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if p.returncode:
            log("%s: %s" % (" ".join(cmd[len(self.base):]),
                            p.stderr.strip()))
            return None
        return json.loads(p.stdout) if json_out else True

    def run_all(self, cmds):
        """Runs many commands, each a list of arguments."""
        return run_many([self.base + [str(a) for a in c] for c in cmds])

    def snapshot(self):
        """Returns (evpn VNIs: {vni: set of EVPN VTEPs}, local MACs:
        {(vni, mac): age in s or None}, EVPN MACs: {(vni, mac):
        (remote, seq)}), or None if vswitchd does not answer."""
        vnis = self.run("list-vnis", json_out=True)
        if vnis is None:
            return None
        evpn = {v["vni"]: set(v.get("evpn_vteps") or [])
                for v in vnis["vnis"] if v.get("control") == "evpn"}
        local, remote = {}, {}
        if evpn:
            fdb = self.run("fdb-show", json_out=True)
            if fdb is None:
                return None
            for e in fdb["entries"]:
                key = (e["vni"], e["mac"])
                if e["vni"] not in evpn:
                    continue
                if e["type"] == "evpn":
                    remote[key] = (e["remote"], e.get("seq", 0))
                elif e["port"]:
                    local[key] = e["age"]
        return evpn, local, remote

    def local_ip(self):
        """The local_ip of the vxlan port, or None."""
        ports = self.run("list-ports", json_out=True)
        for p in (ports or {}).get("ports", []):
            if p.get("type") == "vxlan" and p["options"].get("local_ip"):
                return p["options"]["local_ip"]
        return None


class Gobgp:
    """gobgpd, through the gobgp client."""

    def __init__(self, gobgp, target):
        self.base = [gobgp] + (target.split() if target else [])
        self.monitor = None
        self.buf = b""

    def run(self, *args):
        cmd = self.base + [str(a) for a in args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if p.returncode:
            log("%s: %s" % (" ".join(args), (p.stderr or p.stdout).strip()))
            return None
        return p.stdout

    def rib_all(self, op, paths):
        """Adds or deletes ('op') many EVPN routes, each a list of
        arguments; returns whether each succeeded."""
        return run_many([self.base + ["global", "rib", "-a", "evpn", op]
                         + p for p in paths])

    def global_config(self):
        out = self.run("global", "-j")
        return json.loads(out) if out else None

    def start_monitor(self):
        """Starts following the EVPN routes, current ones first."""
        self.stop_monitor()
        self.monitor = subprocess.Popen(
            self.base + ["monitor", "global", "rib", "-a", "evpn", "-j",
                         "--current"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        os.set_blocking(self.monitor.stdout.fileno(), False)
        self.buf = b""

    def stop_monitor(self):
        if self.monitor:
            self.monitor.kill()
            self.monitor.wait()
            self.monitor = None

    def read_paths(self, timeout):
        """Waits up to 'timeout' s for route changes; returns the paths
        that came, or None if the stream ended (gobgpd went away)."""
        fd = self.monitor.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        paths = []
        if not ready:
            return paths
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return None
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            paths.extend(doc if isinstance(doc, list) else [doc])
        return paths


def ext_communities(path):
    for attr in path.get("attrs", []):
        if attr.get("type") == 16:
            return attr.get("value") or []
    return []


def next_hop(path):
    for attr in path.get("attrs", []):
        if attr.get("type") == 14:
            return attr.get("nexthop")
    return None


def pmsi_tunnel(path):
    for attr in path.get("attrs", []):
        if attr.get("type") == 22:
            return attr.get("tunnel-id")
    return None


def mac_mobility_seq(path):
    for ec in ext_communities(path):
        if ec.get("type") == EC_EVPN \
                and ec.get("subtype") == EC_SUBTYPE_MAC_MOBILITY:
            for key in ("sequence_num", "sequence_number", "sequence"):
                if key in ec:
                    return int(ec[key])
    return 0


def path_vni(path, nlri, vnis):
    """The EVPN VNI a route belongs to: its label, as the VNI of a VXLAN
    route (RFC 8365), or else the VNI of its route target ASN:VNI."""
    for label in nlri.get("labels") or []:
        if label in vnis:
            return label
    for ec in ext_communities(path):
        if ec.get("subtype") == EC_SUBTYPE_RT \
                and ec.get("type") in (EC_TWO_OCTET_AS, EC_FOUR_OCTET_AS):
            try:
                vni = int(str(ec.get("value")).rsplit(":", 1)[1])
            except (IndexError, ValueError):
                continue
            if vni in vnis:
                return vni
    return None


def path_key(nlri):
    rd = nlri.get("rd", {})
    return (nlri.get("type"), "%s:%s" % (rd.get("admin"), rd.get("assigned")),
            nlri.get("mac"), nlri.get("ip"), nlri.get("etag"))


class Agent:
    def __init__(self, args):
        self.args = args
        self.vs = Vswitch(args.ctl, args.socket)
        self.bgp = Gobgp(args.gobgp, args.gobgp_target)
        self.router_id = args.router_id
        self.asn = args.asn
        self.vtep = args.vtep
        self.routes = {}        # path_key -> route, from other VTEPs.
        self.pending = []       # Paths not yet placed in a VNI.
        self.announced = {}     # (vni, mac) or vni -> gobgp arguments.
        self.flushed = set()    # EVPN VNIs flushed since vswitchd began.

    def rd(self, vni):
        # FRR's RD is router-id:N with N its own index; the VNI serves as
        # a stable one (modulo the 16 bits that an RD of type 1 holds).
        return "%s:%d" % (self.router_id, vni & 0xffff)

    def rt(self, vni):
        return "%d:%d" % (self.asn & 0xffff if self.asn > 0xffff
                          else self.asn, vni)

    def type2_args(self, vni, mac):
        return ["macadv", mac, "0.0.0.0", "etag", "0", "label", str(vni),
                "rd", self.rd(vni), "rt", self.rt(vni), "encap", "vxlan",
                "nexthop", self.vtep]

    def type3_args(self, vni):
        return ["multicast", self.vtep, "etag", "0", "rd", self.rd(vni),
                "rt", self.rt(vni), "encap", "vxlan", "pmsi", "ingress-repl",
                str(vni), self.vtep, "nexthop", self.vtep]

    def connect_bgp(self):
        """Waits for gobgpd, learns the router id and ASN, and starts
        following the routes; everything is announced again."""
        while True:
            conf = self.bgp.global_config()
            if conf and conf.get("router_id") not in (None, "", "0.0.0.0"):
                break
            time.sleep(1)
        self.router_id = self.router_id or conf["router_id"]
        self.asn = self.asn or conf["asn"]
        self.routes = {}
        self.pending = []
        self.announced = {}
        self.bgp.start_monitor()
        log("following gobgpd (router id %s, AS %d)"
            % (self.router_id, self.asn))

    def take_paths(self, paths, vnis):
        """Files route changes under their VNI."""
        for path in self.pending + paths:
            nlri = (path.get("nlri") or {}).get("value") or {}
            kind = (path.get("nlri") or {}).get("type")
            if kind not in (2, 3):
                continue
            if "neighbor-ip" not in path:
                self.adopt(path, kind, nlri)
                continue
            key = path_key(nlri)
            if path.get("withdrawal"):
                self.routes.pop(key, None)
                continue
            vni = path_vni(path, nlri, vnis)
            if vni is None:
                self.pending.append(path)
                continue
            vtep = (pmsi_tunnel(path) or nlri.get("ip")) if kind == 3 \
                else next_hop(path)
            if not vtep or vtep in ("0.0.0.0", "::", self.vtep):
                continue
            old = self.routes.get(key)
            self.routes[key] = {
                "kind": kind, "vni": vni, "mac": nlri.get("mac"),
                "vtep": vtep, "seq": mac_mobility_seq(path),
                "since": old["since"] if old and old["vtep"] == vtep
                and old["vni"] == vni else now_ms()}
        self.pending = [p for p in self.pending
                        if path_vni(p, (p.get("nlri") or {}).get("value")
                                    or {}, vnis) is None]

    def adopt(self, path, kind, nlri):
        """Takes a route of ours that gobgpd holds (an earlier run of the
        agent announced it) as announced, so that it is withdrawn if it
        is not wanted, and not announced again if it is."""
        if path.get("withdrawal"):
            return
        if kind == 2 and nlri.get("labels"):
            key = (nlri["labels"][0], nlri["mac"].lower())
            self.announced.setdefault(key, self.type2_args(*key))
        elif kind == 3:
            for attr in path.get("attrs", []):
                if attr.get("type") == 22 and "label" in attr:
                    self.announced.setdefault(attr["label"],
                                              self.type3_args(attr["label"]))

    def desired(self, evpn, local, t):
        """What the routes say vswitchd should hold: EVPN MACs {(vni,
        mac): (vtep, seq)} and VTEPs {vni: set}; and the local MACs to
        announce, those no newer route took away."""
        vteps = {vni: set() for vni in evpn}
        best = {}
        for r in self.routes.values():
            if r["vni"] not in evpn:
                continue
            if r["kind"] == 3:
                vteps[r["vni"]].add(r["vtep"])
                continue
            key = (r["vni"], r["mac"].lower())
            cur = best.get(key)
            if not cur or (r["seq"], r["since"]) > (cur["seq"],
                                                     cur["since"]):
                best[key] = r
        macs, announce = {}, set()
        for key, age in local.items():
            r = best.get(key)
            # A MAC still seen here after the route came stays ours: the
            # route is older news (GoBGP's client cannot send a MAC
            # mobility sequence number, so arrival time stands in for it).
            # Seen last before it came, the host has moved there.
            last_seen = t - age * 1000.0 if age is not None else t
            if r and r["seq"] == 0 and last_seen >= r["since"]:
                best.pop(key)
            if key not in best:
                announce.add(key)
        for key, r in best.items():
            macs[key] = (r["vtep"], r["seq"])
        return macs, vteps, announce

    def mend(self, evpn, local, remote, t):
        macs, vteps, announce = self.desired(evpn, local, t)
        for vni in evpn:
            if vni not in self.flushed:
                # A vswitchd (or an agent) that started anew may hold what
                # an earlier run left: start from nothing.
                self.vs.run("evpn-flush", vni)
                self.flushed.add(vni)
                remote = {k: v for k, v in remote.items() if k[0] != vni}
                evpn[vni] = set()
        self.flushed &= set(evpn)
        dels, adds = [], []
        for vni, want in vteps.items():
            adds += [["--may-exist", "evpn-vtep-add", vni, ip]
                     for ip in want - evpn[vni]]
            dels += [["--if-exists", "evpn-vtep-del", vni, ip]
                     for ip in evpn[vni] - want]
        for key, (vtep, seq) in remote.items():
            if macs.get(key, (None,))[0] != vtep:
                dels.append(["--if-exists", "evpn-mac-del", key[0], key[1],
                             "remote=%s" % vtep])
        for key, (vtep, seq) in macs.items():
            if remote.get(key) != (vtep, seq):
                adds.append(["evpn-mac-add", key[0], key[1],
                             "remote=%s" % vtep, "seq=%d" % seq])
        # A MAC that moves is taken off its old VTEP first.
        self.vs.run_all(dels)
        self.vs.run_all(adds)
        self.announce(evpn, announce)

    def announce(self, evpn, macs):
        want = {vni: self.type3_args(vni) for vni in evpn}
        want.update({key: self.type2_args(*key) for key in macs})
        gone = [k for k in self.announced if k not in want]
        self.bgp.rib_all("del", [self.announced.pop(k) for k in gone])
        new = [k for k, args in want.items()
               if self.announced.get(k) != args]
        for key, ok in zip(new, self.bgp.rib_all("add",
                                                 [want[k] for k in new])):
            if ok:
                self.announced[key] = want[key]

    def run(self):
        self.connect_bgp()
        if not self.vtep:
            while not self.vtep:
                self.vtep = self.vs.local_ip()
                if not self.vtep:
                    time.sleep(1)
            log("VTEP address %s" % self.vtep)
        deadline = 0
        while True:
            paths = self.bgp.read_paths(max(0, deadline - time.monotonic()))
            if paths is None:
                log("gobgpd went away: following it again")
                self.connect_bgp()
                paths = []
            if time.monotonic() < deadline and not paths:
                continue
            snap = self.vs.snapshot()
            if snap is None:
                # vswitchd is away: what it holds is gone with it.
                self.flushed = set()
                deadline = time.monotonic() + self.args.interval
                continue
            evpn, local, remote = snap
            self.take_paths(paths, set(evpn))
            self.mend(evpn, local, remote, now_ms())
            deadline = time.monotonic() + self.args.interval


def main():
    p = argparse.ArgumentParser(
        description="BGP EVPN for vswitchd through GoBGP.")
    p.add_argument("--socket", help="vswitchd's control socket")
    p.add_argument("--ctl", default="vswitch-ctl",
                   help="the vswitch-ctl program")
    p.add_argument("--gobgp", default="gobgp", help="the gobgp program")
    p.add_argument("--gobgp-target", default="",
                   help="gobgp's options to reach gobgpd, such as "
                   "'-u 127.0.0.1 -p 50051'")
    p.add_argument("--vtep", help="the address announced as next hop "
                   "(default: the vxlan port's local_ip)")
    p.add_argument("--router-id", help="for route distinguishers "
                   "(default: gobgpd's)")
    p.add_argument("--asn", type=int, help="for route targets "
                   "(default: gobgpd's)")
    p.add_argument("--interval", type=float, default=0.2,
                   help="seconds between looks at vswitchd (default 0.2)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    agent = Agent(args)
    try:
        agent.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        agent.bgp.stop_monitor()


if __name__ == "__main__":
    main()
