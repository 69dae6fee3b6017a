#!@EVPN_PYTHON@
"""vswitch-evpn: BGP EVPN for vswitchd through GoBGP.

Runs beside vswitchd and gobgpd.  Announces each MAC that vswitchd has on
a local port of an EVPN VNI (control=evpn) as a type-2 route, and each
EVPN VNI as a type-3 route; follows GoBGP's EVPN routes and installs the
remote MACs (evpn-mac-add) and flood lists (evpn-vtep-add) into vswitchd.

Python, not C: GoBGP's only API is gRPC, which has no C client in Debian,
while Debian has Python's (python3-grpcio) and GoBGP's .proto files
(golang-github-osrg-gobgp-dev), from which protoc makes the message
modules at build time.  The methods are called by their paths
(/apipb.GobgpApi/AddPathStream...), so no gRPC code generator is needed.

It follows both sides as streams: gobgpd's best paths (WatchEvent, the
present ones first) and vswitchd's changes (`vswitch-ctl monitor
--initial`).  Each turn compares what vswitchd holds and what has been
announced with what the routes say, and mends the difference in one
`vswitch-ctl batch` and one AddPathStream.  It keeps no state that a
restart could make stale: a restarted vswitchd (the monitor ends) or
gobgpd (the stream ends), or a missed event, makes it read that side
again from the start; a restarted agent finds its routes in gobgpd and
the EVPN entries in vswitchd, and keeps or removes them.
"""

import argparse
import ipaddress
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

# The message modules that protoc made: beside this program in the build
# tree, in the directory 'make install' put them in otherwise.
for _d in (os.path.dirname(os.path.abspath(__file__)), "@evpnpydir@"):
    if os.path.exists(os.path.join(_d, "gobgp_pb2.py")):
        sys.path.insert(0, _d)
        break

import grpc                                        # noqa: E402
from google.protobuf import any_pb2, empty_pb2     # noqa: E402
import attribute_pb2 as attr                       # noqa: E402
import gobgp_pb2 as api                            # noqa: E402

FAMILY = api.Family(afi=api.Family.AFI_L2VPN, safi=api.Family.SAFI_EVPN)
PMSI_INGRESS_REPLICATION = 6
TUNNEL_VXLAN = 8                # RFC 9012's tunnel type for VXLAN.
RT_SUBTYPE = 2
STREAM_CHUNK = 1000             # Paths per AddPathStream message.
BATCH_LINES = 20000             # Lines per vswitch-ctl batch.
SETTLE = 0.02                   # Seconds a turn waits for more changes.


def log(msg):
    print("vswitch-evpn: %s" % msg, file=sys.stderr, flush=True)


def now_ms():
    return time.monotonic() * 1000.0


def pack(msg):
    a = any_pb2.Any()
    a.Pack(msg)
    return a


def unpack(a, cls):
    """The message of type 'cls' in Any 'a', or None if it holds another."""
    if not a.Is(cls.DESCRIPTOR):
        return None
    m = cls()
    a.Unpack(m)
    return m


class Routes:
    """EVPN routes as gobgpd's API holds them: what the agent announces
    (RFC 7432, RFC 8365 and what FRR expects), and what it reads."""

    def __init__(self, router_id, asn, vtep):
        self.router_id = router_id
        self.asn = asn
        self.vtep = vtep

    def rd(self, vni):
        # FRR's RD is router-id:N with N its own index; the VNI serves as
        # a stable one (modulo the 16 bits that an RD of type 1 holds).
        return pack(attr.RouteDistinguisherIPAddress(
            admin=self.router_id, assigned=vni & 0xffff))

    def communities(self, vni, seq=None):
        # The route target ASN:VNI in the 2-octet AS form, as FRR derives
        # it (the low 16 bits of a 4-octet AS), and the encapsulation
        # VXLAN (RFC 9012).
        ecs = [pack(attr.TwoOctetAsSpecificExtended(
                   is_transitive=True, sub_type=RT_SUBTYPE,
                   asn=self.asn & 0xffff, local_admin=vni)),
               pack(attr.EncapExtended(tunnel_type=TUNNEL_VXLAN))]
        # Sequence number 0 goes without the community, as FRR sends it
        # (RFC 7432 section 15 reads a route without one as 0).
        if seq:
            ecs.append(pack(attr.MacMobilityExtended(sequence_num=seq)))
        return pack(attr.ExtendedCommunitiesAttribute(communities=ecs))

    def path(self, nlri, attrs, withdraw):
        return api.Path(
            nlri=nlri, family=FAMILY, is_withdraw=withdraw,
            pattrs=[pack(attr.OriginAttribute(origin=0)),
                    pack(attr.MpReachNLRIAttribute(
                        family=FAMILY, next_hops=[self.vtep],
                        nlris=[nlri]))] + attrs)

    def type2(self, vni, mac, seq, withdraw=False):
        # A MAC-only route: no IP address; ESI 0 and Ethernet tag 0; the
        # label is the VNI, all 24 bits of it (RFC 8365 section 5.1.3).
        # A withdrawal carries no sequence number: gobgpd would refuse
        # one lower than a newer route's.
        nlri = pack(attr.EVPNMACIPAdvertisementRoute(
            rd=self.rd(vni), esi=attr.EthernetSegmentIdentifier(
                type=0, value=bytes(9)),
            ethernet_tag=0, mac_address=mac, labels=[vni]))
        return self.path(nlri, [self.communities(
            vni, None if withdraw else seq)], withdraw)

    def type3(self, vni, withdraw=False):
        # Ingress replication to our VTEP, the VNI as the PMSI label.
        nlri = pack(attr.EVPNInclusiveMulticastEthernetTagRoute(
            rd=self.rd(vni), ethernet_tag=0, ip_address=self.vtep))
        pmsi = pack(attr.PmsiTunnelAttribute(
            flags=0, type=PMSI_INGRESS_REPLICATION, label=vni,
            id=ipaddress.ip_address(self.vtep).packed))
        return self.path(nlri, [self.communities(vni), pmsi], withdraw)


def read_path(p):
    """Returns what the agent needs of path 'p' from gobgpd: a dict with
    'kind' (2 or 3), 'key' (the route's identity), 'vni', 'mac', 'vtep',
    'seq', 'own' and 'withdraw'; or None for another kind of route."""
    n2 = unpack(p.nlri, attr.EVPNMACIPAdvertisementRoute)
    n3 = None if n2 else unpack(p.nlri, attr.EVPNInclusiveMulticastEthernetTagRoute)
    if not n2 and not n3:
        return None
    n = n2 or n3
    rd = unpack(n.rd, attr.RouteDistinguisherIPAddress)
    r = {"kind": 2 if n2 else 3, "vni": None, "mac": None, "vtep": None,
         "seq": 0, "withdraw": p.is_withdraw,
         "own": p.neighbor_ip in ("", "<nil>")}
    rt_vni = None
    for a in p.pattrs:
        mp = unpack(a, attr.MpReachNLRIAttribute)
        if mp and mp.next_hops:
            r["vtep"] = mp.next_hops[0]
        pmsi = unpack(a, attr.PmsiTunnelAttribute)
        if pmsi and n3:
            r["vni"] = pmsi.label
            if len(pmsi.id) in (4, 16):
                r["vtep"] = str(ipaddress.ip_address(pmsi.id))
        ecs = unpack(a, attr.ExtendedCommunitiesAttribute)
        for ec in ecs.communities if ecs else []:
            mm = unpack(ec, attr.MacMobilityExtended)
            if mm:
                r["seq"] = mm.sequence_num
            rt = unpack(ec, attr.TwoOctetAsSpecificExtended) \
                or unpack(ec, attr.FourOctetAsSpecificExtended)
            if rt and rt.sub_type == RT_SUBTYPE:
                rt_vni = rt.local_admin
    if n2:
        r["mac"] = n.mac_address.lower()
        if n.labels:
            r["vni"] = n.labels[0]
    if n3 and not r["vtep"]:
        r["vtep"] = n.ip_address
    # RFC 8365: the label is the VNI; a route without one falls back on
    # its route target ASN:VNI.
    if r["vni"] is None:
        r["vni"] = rt_vni
    r["key"] = (r["kind"], "%s:%s" % (rd.admin, rd.assigned) if rd
                else n.rd.SerializeToString(), r["mac"],
                n.ip_address, n.ethernet_tag)
    return r


class Gobgp:
    """gobgpd, through its gRPC API."""

    def __init__(self, target, events):
        self.target = target
        self.events = events
        self.channel = None
        self.watch = None

    def method(self, name, kind, req, resp):
        return getattr(self.channel, kind)(
            "/apipb.GobgpApi/" + name,
            request_serializer=req.SerializeToString,
            response_deserializer=resp.FromString)

    def connect(self):
        """Waits for gobgpd to answer; returns its global configuration
        (asn, router_id)."""
        self.close()
        self.channel = grpc.insecure_channel(self.target)
        get_bgp = self.method("GetBgp", "unary_unary", api.GetBgpRequest,
                              api.GetBgpResponse)
        self.add_paths = self.method("AddPathStream", "stream_unary",
                                     api.AddPathStreamRequest,
                                     empty_pb2.Empty)
        delay = 0.1
        while True:
            try:
                g = getattr(get_bgp(api.GetBgpRequest(), timeout=5),
                            "global")
                if g.router_id not in ("", "0.0.0.0"):
                    return g
            except grpc.RpcError:
                pass
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def start_watch(self):
        """Follows the best EVPN paths, the present ones first: each
        batch comes on the queue as ("bgp", paths), the end as
        ("bgp-end", None)."""
        watch = self.method("WatchEvent", "unary_stream",
                            api.WatchEventRequest, api.WatchEventResponse)
        req = api.WatchEventRequest(table=api.WatchEventRequest.Table(
            filters=[api.WatchEventRequest.Table.Filter(
                type=api.WatchEventRequest.Table.Filter.BEST, init=True)]))
        self.watch = watch(req)
        stream = self.watch

        def follow():
            try:
                for rsp in stream:
                    if rsp.HasField("table"):
                        self.events.put(("bgp", list(rsp.table.paths)))
            except grpc.RpcError:
                pass
            self.events.put(("bgp-end", stream))
        threading.Thread(target=follow, daemon=True).start()

    def send(self, paths):
        """Adds and withdraws 'paths' in one stream; returns whether
        gobgpd took each.  gobgpd stops a stream at the first path it
        refuses, so then each is sent alone, and those refused are
        logged."""
        if not paths:
            return []

        def requests():
            for i in range(0, len(paths), STREAM_CHUNK):
                yield api.AddPathStreamRequest(
                    table_type=api.GLOBAL, paths=paths[i:i + STREAM_CHUNK])
        try:
            self.add_paths(requests(), timeout=60)
            return [True] * len(paths)
        except grpc.RpcError as e:
            log("AddPathStream: %s: sending the paths one by one"
                % e.details())
        add_path = self.method("AddPath", "unary_unary", api.AddPathRequest,
                               api.AddPathResponse)
        delete_path = self.method("DeletePath", "unary_unary",
                                  api.DeletePathRequest, empty_pb2.Empty)
        done = []
        for p in paths:
            try:
                if p.is_withdraw:
                    delete_path(api.DeletePathRequest(
                        table_type=api.GLOBAL, family=FAMILY, path=p),
                        timeout=10)
                else:
                    add_path(api.AddPathRequest(table_type=api.GLOBAL,
                                                path=p), timeout=10)
                done.append(True)
            except grpc.RpcError as e:
                log("%s: %s" % ("DeletePath" if p.is_withdraw else "AddPath",
                                e.details()))
                done.append(False)
        return done

    def close(self):
        if self.watch:
            self.watch.cancel()
            self.watch = None
        if self.channel:
            self.channel.close()
            self.channel = None


class Vswitch:
    """vswitchd, through vswitch-ctl."""

    def __init__(self, ctl, socket, events):
        self.base = [ctl] + (["--socket", socket] if socket else [])
        self.events = events
        self.monitor = None

    def run(self, *args):
        """Runs one command that reads; returns its JSON output, or None
        if it failed (its one-line error goes to the log)."""
        cmd = self.base + ["--format=json"] + [str(a) for a in args]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            # A vswitchd that stopped answering is one that went away.
            log("%s: %s" % (" ".join(cmd[len(self.base):]), e))
            return None
        if p.returncode:
            log("%s: %s" % (" ".join(cmd[len(self.base):]),
                            p.stderr.strip()))
            return None
        return json.loads(p.stdout)

    def batch(self, lines):
        """Applies 'lines' (EVPN commands) in batches; a line refused is
        logged and left out, the rest sent again.  Returns False if
        vswitchd does not answer."""
        while lines:
            chunk, lines = lines[:BATCH_LINES], lines[BATCH_LINES:]
            while chunk:
                try:
                    p = subprocess.run(self.base + ["batch", "-"],
                                       input="\n".join(chunk) + "\n",
                                       capture_output=True, text=True,
                                       timeout=120)
                except (OSError, subprocess.TimeoutExpired) as e:
                    log("batch: %s" % e)
                    return False
                if not p.returncode:
                    break
                err = p.stderr.strip()
                try:
                    bad = int(err.split("line ", 1)[1].split(":", 1)[0])
                except (IndexError, ValueError):
                    log("batch: %s" % err)
                    return False
                log("batch: %s" % err)
                del chunk[bad - 1]
        return True

    def start_monitor(self):
        """Follows vswitchd's MACs, VNIs and ports, the present ones
        first: each event comes on the queue as ("vs", event), the end
        as ("vs-end", None)."""
        self.stop_monitor()
        try:
            self.monitor = subprocess.Popen(
                self.base + ["monitor", "--initial", "fdb", "vnis", "ports"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                bufsize=1 << 16)
        except OSError as e:
            log("monitor: %s" % e)
            self.events.put(("vs-end", None))
            return
        proc = self.monitor

        def follow():
            for line in proc.stdout:
                try:
                    self.events.put(("vs", json.loads(line)))
                except ValueError:
                    continue
            proc.wait()
            self.events.put(("vs-end", proc))
        threading.Thread(target=follow, daemon=True).start()

    def stop_monitor(self):
        if self.monitor:
            self.monitor.kill()
            self.monitor.wait()
            self.monitor = None


class Agent:
    def __init__(self, args):
        self.args = args
        self.events = queue.Queue()
        self.vs = Vswitch(args.ctl, args.socket, self.events)
        self.bgp = Gobgp(args.gobgpd, self.events)
        self.vtep = args.vtep
        self.routes_of = None
        # gobgpd's side.
        self.routes = {}        # key -> route from another VTEP.
        self.announced = {}     # (vni, mac) -> seq, vni -> None: ours.
        self.bgp_ready = False  # The present paths have come.
        # vswitchd's side.
        self.vnis = {}          # EVPN VNI -> set of its EVPN VTEPs.
        self.local = {}         # (vni, mac) -> ms seen, or 0 if present.
        self.remote = {}        # (vni, mac) -> VTEP of its EVPN entry.
        self.sent_seq = {}      # (vni, mac) -> seq we installed.
        self.my_seq = {}        # (vni, mac) -> seq we announce it with.
        self.vs_ready = False   # The monitor's present events have come.
        self.vs_since = 0.0     # When the last present event came,
        self.vs_events = 0      # and how many came since the monitor
                                # started.
        self.vnis_stale = True  # A VNI changed: list-vnis again.
        self.vs_down = 0.0      # Backoff while vswitchd is away.

    # gobgpd.

    def connect_bgp(self):
        g = self.bgp.connect()
        self.routes_of = Routes(self.args.router_id or g.router_id,
                                self.args.asn or g.asn, self.vtep)
        self.routes, self.announced = {}, {}
        self.bgp_ready = False
        self.bgp_since = time.monotonic()
        self.bgp.start_watch()
        log("following gobgpd at %s (router id %s, AS %d)"
            % (self.args.gobgpd, self.routes_of.router_id,
               self.routes_of.asn))

    def take_paths(self, paths):
        for p in paths:
            r = read_path(p)
            if not r or r["vni"] is None:
                continue
            if r["own"]:
                self.adopt(r)
                continue
            if r["withdraw"]:
                self.routes.pop(r["key"], None)
                continue
            if not r["vtep"] or r["vtep"] in ("0.0.0.0", "::", self.vtep):
                continue
            old = self.routes.get(r["key"])
            r["since"] = old["since"] if old and old["vtep"] == r["vtep"] \
                and old["seq"] == r["seq"] else now_ms()
            self.routes[r["key"]] = r

    def adopt(self, r):
        """Takes a route of ours that gobgpd holds (perhaps from an
        earlier run of the agent) as announced, so that it is withdrawn
        if it is not wanted, and not announced again if it is."""
        key = (r["vni"], r["mac"]) if r["kind"] == 2 else r["vni"]
        if r["withdraw"]:
            self.announced.pop(key, None)
        elif r["kind"] == 2:
            self.announced[key] = r["seq"]
            self.my_seq.setdefault(key, r["seq"])
        else:
            self.announced[key] = None

    # vswitchd.

    def restart_monitor(self):
        self.local, self.remote, self.sent_seq = {}, {}, {}
        self.vs_ready = False
        self.vs_since = time.monotonic()
        self.vs_events = 0
        self.vnis_stale = True
        self.vs.start_monitor()

    def take_event(self, e):
        kind, action = e.get("kind"), e.get("action")
        if kind == "missed":
            log("missed %s events of vswitchd: reading it again"
                % e.get("count"))
            self.restart_monitor()
            return
        self.vs_down = 0.0
        self.vs_events += 1
        if action == "present":
            self.vs_since = time.monotonic()
        elif not self.vs_ready:
            self.vs_ready = True
        if kind in ("vni", "port"):
            self.vnis_stale = True
            return
        if kind != "fdb":
            return
        key = (e.get("vni"), (e.get("mac") or "").lower())
        gone = action in ("aged", "evicted", "flushed", "deleted")
        if e.get("type") == "evpn":
            if gone:
                if self.remote.get(key) == e.get("remote"):
                    self.remote.pop(key)
            else:
                self.remote[key] = e.get("remote")
                self.local.pop(key, None)
        elif gone:
            self.local.pop(key, None)
        elif e.get("port"):
            # Seen now (learned here, or moved here from a remote VTEP):
            # newer news than any route before; present: of unknown age.
            self.local[key] = 0 if action == "present" else now_ms()
            self.remote.pop(key, None)
            self.sent_seq.pop(key, None)

    def read_vnis(self):
        """Reads the EVPN VNIs and their VTEPs; returns False if vswitchd
        does not answer."""
        vnis = self.vs.run("list-vnis")
        if vnis is None:
            return False
        self.vnis = {v["vni"]: set(v.get("evpn_vteps") or [])
                     for v in vnis["vnis"] if v.get("control") == "evpn"}
        if not self.args.vtep:
            ports = self.vs.run("list-ports") or {}
            for p in ports.get("ports", []):
                if p.get("type") == "vxlan" and p["options"].get("local_ip"):
                    self.vtep = p["options"]["local_ip"]
        self.vnis_stale = False
        return True

    # Both.

    def decide(self):
        """What the routes say: the EVPN MACs vswitchd should hold
        {(vni, mac): (vtep, seq)}, the VTEPs of each VNI, and the local
        MACs to announce {(vni, mac): seq}."""
        vteps = {vni: set() for vni in self.vnis}
        best = {}
        for r in self.routes.values():
            if r["vni"] not in self.vnis:
                continue
            if r["kind"] == 3:
                vteps[r["vni"]].add(r["vtep"])
                continue
            key = (r["vni"], r["mac"])
            cur = best.get(key)
            if not cur or (r["seq"], -r["since"]) > (cur["seq"],
                                                      -cur["since"]):
                best[key] = r
        announce = {}
        for key, seen in self.local.items():
            if key[0] not in self.vnis:
                continue
            r = best.get(key)
            mine = self.my_seq.get(key)
            if r and seen > r["since"] and (mine is None
                                             or mine <= r["seq"]):
                # RFC 7432 section 15: a MAC that a route put elsewhere
                # is seen here since: it moved here, with the next
                # sequence number.
                mine = self.my_seq[key] = r["seq"] + 1
            elif mine is None and not r:
                mine = self.my_seq[key] = 0
            if mine is None:
                continue
            if r and r["seq"] >= mine:
                # It moved there since: theirs wins.  (On a tie RFC 7432
                # section 15.1 would have the lower VTEP address win, but
                # gobgpd takes a local route only with a number above
                # every other's.)
                continue
            best.pop(key, None)
            announce[key] = mine
        macs = {key: (r["vtep"], r["seq"]) for key, r in best.items()}
        return macs, vteps, announce

    def mend(self):
        macs, vteps, announce = self.decide()
        if self.vs_ready and self.bgp_ready:
            self.mend_vswitch(macs, vteps)
        if self.vs_ready and self.vtep:
            self.mend_bgp(announce)

    def mend_vswitch(self, macs, vteps):
        dels, adds = [], []
        for vni, want in vteps.items():
            have = self.vnis.get(vni, set())
            adds += ["--may-exist evpn-vtep-add %d %s" % (vni, ip)
                     for ip in sorted(want - have)]
            dels += ["--if-exists evpn-vtep-del %d %s" % (vni, ip)
                     for ip in sorted(have - want)]
            self.vnis[vni] = set(want)
        for key, vtep in list(self.remote.items()):
            if macs.get(key, (None,))[0] != vtep:
                dels.append("--if-exists evpn-mac-del %d %s remote=%s"
                            % (key[0], key[1], vtep))
                self.remote.pop(key)
                self.sent_seq.pop(key, None)
        for key, (vtep, seq) in macs.items():
            if self.remote.get(key) != vtep \
                    or self.sent_seq.get(key, seq) != seq:
                adds.append("evpn-mac-add %d %s remote=%s seq=%d"
                            % (key[0], key[1], vtep, seq))
                self.remote[key] = vtep
                self.sent_seq[key] = seq
        # A MAC that moves is taken off its old VTEP first, in the same
        # batch.
        if (dels or adds) and not self.vs.batch(dels + adds):
            self.restart_monitor()

    def mend_bgp(self, announce):
        ro = self.routes_of
        ro.vtep = self.vtep
        want = {vni: None for vni in self.vnis}
        want.update(announce)
        paths, keys = [], []
        for key in [k for k in self.announced if k not in want]:
            paths.append(ro.type2(key[0], key[1], None, withdraw=True)
                         if isinstance(key, tuple)
                         else ro.type3(key, withdraw=True))
            keys.append((key, False, None))
        for key, seq in want.items():
            if key in self.announced and self.announced[key] == seq:
                continue
            paths.append(ro.type2(key[0], key[1], seq)
                         if isinstance(key, tuple) else ro.type3(key))
            keys.append((key, True, seq))
        for (key, add, seq), ok in zip(keys, self.bgp.send(paths)):
            if ok and add:
                self.announced[key] = seq
            elif ok:
                self.announced.pop(key, None)

    def run(self):
        self.connect_bgp()
        self.restart_monitor()
        while True:
            try:
                what, data = self.events.get(
                    timeout=None if self.vs_ready and self.bgp_ready
                    else 0.1)
            except queue.Empty:
                what, data = None, None
            deadline = time.monotonic() + SETTLE
            while what is not None or time.monotonic() < deadline:
                if what == "bgp":
                    self.take_paths(data)
                    self.bgp_ready = True
                elif what == "bgp-end" and data is self.bgp.watch:
                    log("gobgpd went away: following it again")
                    self.connect_bgp()
                elif what == "vs":
                    self.take_event(data)
                elif what == "vs-end" and data is self.vs.monitor:
                    self.vswitch_gone()
                try:
                    what, data = self.events.get(
                        timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    what, data = None, None
                    break
            self.check_ready()
            if self.vnis_stale and self.vs_ready and not self.read_vnis():
                continue
            self.mend()

    def check_ready(self):
        """Judges when the present state of each side is in: of
        vswitchd, when its present events stop coming (an EVPN VNI gives
        one at least; with nothing at all, after 5 s); of gobgpd, with
        its first answer (or after 2 s)."""
        quiet = time.monotonic() - self.vs_since
        if not self.vs_ready and self.vs.monitor \
                and (quiet > 5.0 or (self.vs_events and quiet > 0.3)):
            self.vs_ready = True
        if not self.bgp_ready and time.monotonic() - self.bgp_since > 2.0:
            self.bgp_ready = True

    def vswitch_gone(self):
        """The monitor ended: vswitchd stopped, or went away.  What it
        held is gone with it; wait for it to come back, longer each
        time."""
        log("vswitchd went away: following it again")
        self.vs.monitor = None
        self.vs_down = min(max(self.vs_down * 2, 0.1), 2.0)
        time.sleep(self.vs_down)
        self.restart_monitor()


def main():
    p = argparse.ArgumentParser(
        description="BGP EVPN for vswitchd through GoBGP.")
    p.add_argument("--socket", help="vswitchd's control socket")
    p.add_argument("--ctl", default="vswitch-ctl",
                   help="the vswitch-ctl program")
    p.add_argument("--gobgpd", default="127.0.0.1:50051",
                   help="gobgpd's gRPC API, host:port "
                   "(default 127.0.0.1:50051)")
    p.add_argument("--vtep", help="the address announced as next hop "
                   "(default: the vxlan port's local_ip)")
    p.add_argument("--router-id", help="for route distinguishers "
                   "(default: gobgpd's)")
    p.add_argument("--asn", type=int, help="for route targets "
                   "(default: gobgpd's)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    agent = Agent(args)
    try:
        agent.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        agent.vs.stop_monitor()
        agent.bgp.close()


if __name__ == "__main__":
    main()
