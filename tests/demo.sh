#!/bin/bash
# The README's demo.  Installs what is needed and builds vswitch.  The
# daemon (vswitchd) and its tool (vswitch-ctl) do not exist yet, so the
# demo cannot build hosts and send traffic between them; what it shows is
# the datapath library pushing frames through local switching, VXLAN
# encapsulation, decapsulation and flooding, in memory.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/tests/build.sh" demo
cd "$top/build-demo"
echo
echo "vswitchd and vswitch-ctl are not written yet: this demo shows the"
echo "datapath alone, frames pushed through it in memory (no sockets)."
echo
./bench/dp-bench --packets 1000000
