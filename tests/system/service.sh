#!/bin/bash
# The Debian package as a systemd service: the package built from a clean
# copy of the tree (lintian finds no error), installed in a Debian 12 root
# that boots systemd in a container (systemd-nspawn, its own network
# namespace); enabled but not started without a configuration; start,
# reload (same process, log reopened), restart (configuration replayed),
# a killed daemon restarted, only the unit's capabilities, an upgrade
# restarting a running service, a first install over a kept configuration
# starting it, remove stopping it, purge leaving nothing.
#
# The root (debootstrap, a few minutes) is kept as a tarball in
# $VSWITCH_TEST_CACHE (default /var/cache/vswitch-tests); remove it to
# make it again.  Skipped where debootstrap, a Debian mirror or
# systemd-nspawn is missing.

. "$(dirname "$0")/lib.sh"
take_turn

skip() {
    echo "SKIP: $(basename "$0"): $*"
    exit 77
}

for tool in dpkg-buildpackage debootstrap systemd-nspawn nsenter lintian; do
    command -v "$tool" >/dev/null \
        || skip "$tool is not installed (tests/deps.sh installs it)"
done

suite=bookworm
mirror=${VSWITCH_TEST_MIRROR:-http://deb.debian.org/debian}
cache=${VSWITCH_TEST_CACHE:-/var/cache/vswitch-tests}
tarball=$cache/$suite-minbase-systemd.tar
src=$WORK/src/vswitch
root=$WORK/root
started=$SECONDS

copy_source_tree "$src"
check "the copy of the tree holds no build output" \
    test ! -e "$src/config.status" -a ! -e "$src/switchd/vswitchd"

# Not the make flags of the "make check" that runs this test (TESTS=...).
if (cd "$src" && unset MAKEFLAGS MFLAGS MAKELEVEL \
        && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
           timeout 900 dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1
then
    pass "dpkg-buildpackage -us -uc -b builds the package"
else
    fail "dpkg-buildpackage: $(tail -20 "$WORK/build.log")"
    finish
fi
deb=$(ls "$WORK"/src/vswitch_*.deb)
echo "package built after $((SECONDS - started)) s"
timeout 300 lintian --fail-on error "$WORK"/src/vswitch_*.changes \
    >"$WORK/lintian.log" 2>&1
status=$?
check_eq "lintian reports no error" "0 " \
    "$status $(grep '^E: ' "$WORK/lintian.log")"

# The root: debootstrap's, kept as a tarball between runs.  The package's
# dependencies are not installed in it: apt installs them with the
# package, from the archives downloaded here (the container has no
# network; chroot has the host's), so a missing one shows.
if [ ! -s "$tarball" ]; then
    mkdir -p "$cache"
    timeout 900 debootstrap --variant=minbase \
        --include=systemd,systemd-sysv,dbus "$suite" "$WORK/boot" \
        "$mirror" >"$WORK/debootstrap.log" 2>&1 \
        || skip "debootstrap cannot make a $suite root from $mirror:" \
                "$(tail -3 "$WORK/debootstrap.log")"
    timeout 300 chroot "$WORK/boot" apt-get satisfy -y -q --download-only \
        --no-install-recommends "$(dpkg-deb -f "$deb" Depends)" \
        >"$WORK/apt.log" 2>&1 \
        || skip "the package's dependencies cannot be downloaded from" \
                "$mirror: $(tail -3 "$WORK/apt.log")"
    tar -C "$WORK/boot" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$WORK/boot"
    echo "root made and cached after $((SECONDS - started)) s"
fi
mkdir "$root"
tar -C "$root" -xf "$tarball"
check "the package's dependencies are at hand (downloaded)" \
    timeout 300 chroot "$root" apt-get satisfy -y -q --download-only \
        --no-install-recommends "$(dpkg-deb -f "$deb" Depends)"
cp "$deb" "$root/root/vswitch.deb"

# systemd-nspawn keeps its state there, which needs no systemd on the host
# once it is a tmpfs.
if ! mountpoint -q /run/systemd/nspawn; then
    mkdir -p /run/systemd/nspawn
    mount -t tmpfs tmpfs /run/systemd/nspawn || skip "cannot mount a tmpfs"
    at_exit 'umount /run/systemd/nspawn'
fi
systemd-nspawn -q -D "$root" -M "vswitch-test-$$" --boot \
    --register=no --keep-unit --private-network >"$WORK/nspawn.log" 2>&1 &
nspawn=$!
at_exit "kill_child -TERM $nspawn; wait_for 20 bash -c '! kill -0 $nspawn' \
    || kill -KILL $nspawn; wait $nspawn"

# The container's systemd is nspawn's child.
ct_pid() {
    local pid
    pid=$(ps --ppid "$nspawn" -o pid= | head -1)
    [ -n "$pid" ] && [ "$(cat "/proc/${pid// /}/comm")" = systemd ] \
        && echo "${pid// /}"
}
wait_for 20 ct_pid || skip "systemd-nspawn does not boot here:" \
                           "$(tail -5 "$WORK/nspawn.log")"
CT=$(ct_pid)
in_ct() { timeout 60 nsenter -t "$CT" -a "$@"; }
# systemctl fails until the container's bus is up, then waits for the
# boot to end.
booted() {
    case $(in_ct systemctl is-system-running --wait 2>/dev/null) in
        running|degraded) return 0 ;;
        *) return 1 ;;
    esac
}
wait_for 90 booted || skip "the container's systemd did not come up:" \
                           "$(tail -5 "$WORK/nspawn.log")"
echo "container up after $((SECONDS - started)) s"

main_pid() { in_ct systemctl show -p MainPID --value vswitchd; }
active() { in_ct systemctl is-active vswitchd; }
# What the daemon has: its ports with their VNIs, and its VNIs.
config() {
    in_ct vswitch-ctl --format=json show \
        | json "' '.join(sorted('%s:%s' % (p['name'], p['vni']) for p in j['ports']) + ['vni%d' % v['vni'] for v in j['vnis']])"
}

check "the package installs with its dependencies (apt-get)" \
    in_ct apt-get install -y -q --no-install-recommends /root/vswitch.deb
check_eq "the service is enabled" enabled \
    "$(in_ct systemctl is-enabled vswitchd)"
check_eq "but not started, with no configuration" inactive "$(active)"

check "systemctl start vswitchd" in_ct systemctl start vswitchd
check_eq "the service is active" active "$(active)"
check "vswitch-ctl add-vni 5000" in_ct vswitch-ctl add-vni 5000
check "vswitch-ctl add-port tap0 type=tap vni=5000" \
    in_ct vswitch-ctl add-port tap0 type=tap vni=5000
check_eq "show has the port and the VNI" "tap0:5000 vni5000" "$(config)"

# What the unit's sandbox could break without a word: the TAP writes
# falling back from io_uring (SystemCallFilter=), the VXLAN port's raw
# socket (CapabilityBoundingSet=, RestrictAddressFamilies=) and its
# tunnel TAP's sysctls (ProtectKernelTunables=).
pid=$(main_pid)
if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ]
then
    check "the daemon writes to TAPs through io_uring" \
        bash -c "nsenter -t $CT -a ls -l /proc/$pid/fd | grep -q io_uring"
fi
nsenter -t "$CT" -n ip link add u0 type veth peer name u1 \
    && nsenter -t "$CT" -n ip addr add 10.99.0.1/24 dev u0 \
    && nsenter -t "$CT" -n ip link set u0 up \
    && nsenter -t "$CT" -n ip link set u1 up
check "vswitch-ctl add-port vtep0 type=vxlan" \
    in_ct vswitch-ctl add-port vtep0 type=vxlan local_ip=10.99.0.1 dev=u0
vtep() {
    in_ct vswitch-ctl --format=json show \
        | json "[p for p in j['ports'] if p['name'] == 'vtep0'][0]$1"
}
check_eq "the VXLAN port is up" up "$(vtep "['state']")"
IFS=. read -r major minor _ <<<"$(uname -r)"
if [ "$major" -gt 6 ] || { [ "$major" = 6 ] && [ "$minor" -ge 17 ]; }; then
    check_eq "with its tunnel TAP (Linux 6.17 and later)" True \
        "$(vtep "['offloads'].count('tunnel_gso') == 1")"
fi
# A live capture of the VXLAN port opens a packet socket with a kernel
# filter: the sandbox must let both through.
check "a capture of the VXLAN port runs under the sandbox" \
    in_ct timeout 10 vswitch-ctl capture vtep0 --filter udp --duration 1 \
    -w /root/vtep0.pcap
grep -q "duration over" "$WORK/err" \
    && pass "and ends when its time is over" \
    || fail "capture said: $(head -c 300 "$WORK/err")"
check "vswitch-ctl del-port vtep0" in_ct vswitch-ctl del-port vtep0

# CAP_CHOWN 0, CAP_FSETID 4, CAP_NET_ADMIN 12, CAP_NET_RAW 13,
# CAP_SYS_ADMIN 21, CAP_SYS_NICE 23: the unit's set, and nothing else.
pid=$(main_pid)
caps=$(in_ct grep -E '^Cap(Eff|Bnd):' "/proc/$pid/status" | awk '{print $2}')
check_eq "the daemon runs with the unit's capabilities only" \
    "$(printf '%016x\n%016x' 0xa03011 0xa03011)" "$caps"

check "systemctl reload vswitchd" in_ct systemctl reload vswitchd
check_eq "a reload keeps the process" "$pid" "$(main_pid)"
check_eq "the daemon says it reopened its log" 1 \
    "$(in_ct journalctl -u vswitchd -o cat --no-pager \
       | grep -c 'log file reopened')"

# journald keeps each line's priority and module (vswitchd(8), LOGGING).
journal_count() {
    in_ct journalctl -u vswitchd -o json --no-pager | python3 -c '
import json, sys
want = dict(a.split("=", 1) for a in sys.argv[2:])
n = 0
for line in sys.stdin:
    e = json.loads(line)
    if sys.argv[1] in str(e.get("MESSAGE", "")) \
       and all(e.get(k) == v for k, v in want.items()):
        n += 1
print(n)' "$@"
}
check_eq "the journal has the start with INFO's priority and the module" 1 \
    "$(journal_count "listening on" PRIORITY=6 VSWITCH_MODULE=vswitchd \
       SYSLOG_IDENTIFIER=vswitchd)"
in_ct vswitch-ctl set-log-level debug >/dev/null
in_ct vswitch-ctl ping >/dev/null
debug_in_journal() {
    [ "$(journal_count ": connected" PRIORITY=7 VSWITCH_MODULE=control)" \
      -ge 1 ]
}
check "set-log-level debug: client connections in the journal at DBG's (7)" \
    wait_for 5 debug_in_journal
in_ct vswitch-ctl set-log-level info >/dev/null

check "systemctl restart vswitchd" in_ct systemctl restart vswitchd
new=$(main_pid)
check "a restart gives a new process" test "$new" != "$pid" -a "$new" != 0
check_eq "which replays the port and the VNI" "tap0:5000 vni5000" \
    "$(config)"

pid=$new
# The shell's kill: the container may have no /bin/kill.
in_ct sh -c "kill -KILL $pid"
restarted() {
    local now
    now=$(main_pid)
    [ "$now" != "$pid" ] && [ "$now" != 0 ] && [ "$(active)" = active ]
}
check "a killed daemon is restarted (Restart=on-failure)" wait_for 15 restarted
check_eq "with its configuration" "tap0:5000 vni5000" "$(config)"

pid=$(main_pid)
check "an upgrade installs over the running service" \
    in_ct dpkg -i /root/vswitch.deb
new=$(main_pid)
check "and restarts it" test "$new" != "$pid" -a "$new" != 0 \
    -a "$(active)" = active

check "systemctl stop vswitchd" in_ct systemctl stop vswitchd
check_eq "the service is inactive" inactive "$(active)"
check "an upgrade installs over the stopped service" \
    in_ct dpkg -i /root/vswitch.deb
check_eq "and leaves it stopped" inactive "$(active)"

# A first install over a configuration kept from before starts it.
in_ct cp /var/lib/vswitch/conf.db /root/conf.db
check "apt-get purge vswitch" in_ct apt-get purge -y -q vswitch
check "the service is gone" \
    in_ct test ! -e /lib/systemd/system/vswitchd.service \
    -a ! -e /etc/systemd/system/multi-user.target.wants/vswitchd.service
check "the programs are gone" \
    in_ct test ! -e /usr/sbin/vswitchd -a ! -e /usr/bin/vswitch-ctl
check "the options file, the state and the logs are gone" \
    in_ct test ! -e /etc/default/vswitchd -a ! -e /var/lib/vswitch \
    -a ! -e /var/log/vswitch
in_ct mkdir /var/lib/vswitch
in_ct cp /root/conf.db /var/lib/vswitch/conf.db
check "the package installs over a kept configuration" \
    in_ct apt-get install -y -q --no-install-recommends /root/vswitch.deb
check_eq "and starts the service" active "$(active)"
check_eq "with that configuration" "tap0:5000 vni5000" "$(config)"

in_ct apt-get remove -y -q vswitch >"$WORK/remove.log" 2>&1
check_eq "apt-get remove vswitch succeeds" 0 $?
check_eq "and stops the daemon" "" "$(in_ct pidof vswitchd)"
check "but keeps the configuration" in_ct test -e /var/lib/vswitch/conf.db
in_ct apt-get purge -y -q vswitch >"$WORK/purge.log" 2>&1
check_eq "then apt-get purge vswitch succeeds" 0 $?
check_eq "and says nothing is wrong" "" \
    "$(grep -iE 'warning|error' "$WORK/purge.log" "$WORK/remove.log")"
check "and leaves no state" in_ct test ! -e /var/lib/vswitch

echo "done after $((SECONDS - started)) s"
finish
