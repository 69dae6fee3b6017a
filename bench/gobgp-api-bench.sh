#!/bin/bash
# ## gobgp-api-bench.sh: how fast gobgpd takes EVPN routes through its API
#
# The baseline beside evpn-bench.sh's 10,000 MACs: a gobgpd of its own
# (in a namespace, no peers) is given N type-2 routes, made as the agent
# makes them (evpn/vswitch-evpn's Routes and Gobgp), in one AddPathStream,
# as the agent sends a burst; prints the time until gobgpd answered the
# stream and until it holds all N routes.
# A fresh gobgpd for each N.
#
#   make && sudo bench/gobgp-api-bench.sh [--build DIR]   # N: 1000 2000 5000 10000
#
# It needs root and gobgpd; everything it makes is removed when it ends.
# What it measured here is in bench/README.md.

. "$(dirname "$0")/setup.sh" "$@"

COUNTS=${GOBGP_BENCH_COUNTS:-1000 2000 5000 10000}
make_ns g || exit 1
printf '[global.config]\n  as = 65000\n  router-id = "192.0.2.1"\n' \
    >"$WORK/g.toml"

for n in $COUNTS; do
    ip netns exec "$(ns g)" gobgpd -f "$WORK/g.toml" \
        --api-hosts 127.0.0.1:50051 >"$WORK/gobgpd.log" 2>&1 &
    pid=$!
    wait_for 10 in_ns g gobgp global || { kill -9 $pid; exit 1; }
    timeout 900 ip netns exec "$(ns g)" /usr/bin/python3 - \
        "$top_builddir/evpn/vswitch-evpn" "$n" <<'EOF'
import importlib.machinery, importlib.util, queue, re, subprocess, sys, time
path, n = sys.argv[1], int(sys.argv[2])
loader = importlib.machinery.SourceFileLoader("agent", path)
agent = importlib.util.module_from_spec(
    importlib.util.spec_from_loader("agent", loader))
loader.exec_module(agent)
bgp = agent.Gobgp("127.0.0.1:50051", queue.Queue())
g = bgp.connect()
routes = agent.Routes(g.router_id, g.asn, "192.0.2.1")
paths = [routes.type2(5000, "02:00:%02x:%02x:%02x:%02x" % (
    i >> 24 & 255, i >> 16 & 255, i >> 8 & 255, i & 255), 0)
    for i in range(n)]
def held():
    out = subprocess.run(["gobgp", "global", "rib", "-a", "evpn", "summary"],
                         capture_output=True, text=True).stdout
    m = re.search(r"Destination: (\d+)", out)
    return int(m.group(1)) if m else 0
start = time.monotonic()
ok = bgp.send(paths)
sent = time.monotonic() - start
while held() < n and time.monotonic() - start < 600:
    time.sleep(0.05)
took = time.monotonic() - start
print("%d routes: stream answered in %.2f s, all held after %.2f s "
      "(%.0f routes/s), %d refused, %d held" % (
          n, sent, took, n / took, ok.count(False), held()))
EOF
    kill $pid
    wait $pid 2>/dev/null
done
