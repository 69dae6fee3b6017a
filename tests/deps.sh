#!/bin/bash
# Installs, from Debian 12's archive, everything needed to build vswitch and
# run its tests, demo and benchmarks.  Needs root; safe to run again.
set -eu

packages=(
    build-essential autoconf automake libtool pkg-config
    libuv1-dev libprotobuf-c-dev protobuf-c-compiler libpcap-dev check libmnl-dev
    liburing-dev libsystemd-dev bash-completion
    clang iproute2 iputils-ping tcpdump tshark ethtool python3 valgrind iperf3
    groff-base procps qemu-system-x86 busybox-static
    openvswitch-switch gobgpd frr strace
    golang-github-osrg-gobgp-dev protobuf-compiler libprotobuf-dev
    python3-grpcio python3-protobuf
    debhelper dpkg-dev fakeroot lintian debootstrap systemd-container
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null \
        | grep -q '^install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    # openvswitch-switch (for bench/e2e-bench.sh) and frr (for
    # tests/system/evpn-frr.sh), whose tests start daemons of their own,
    # would start the host's services as they install: a policy that
    # refuses service starts stops that, for this run only.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e $policy ]; then
        printf '#!/bin/sh\nexit 101\n' >$policy
        chmod 755 $policy
        trap 'rm -f $policy' EXIT
    fi
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
