#!/bin/bash
# "make install" puts each file where configure said (DESTDIR honoured),
# the programs' built-in paths are configure's, "make uninstall" leaves
# no file behind, and "make distcheck" passes.

. "$(dirname "$0")/lib.sh"
take_turn

dest=$WORK/dest

# conf VARIABLE: the build's value of an installation directory, expanded
# as make expands it.
conf() {
    printf 'vsw-print:\n\t@echo $(%s)\n' "$1" \
        | make -s --no-print-directory -C "$top_builddir" -f Makefile -f - \
            vsw-print
}
sbindir=$(conf sbindir)
bindir=$(conf bindir)
man8dir=$(conf man8dir)
sysconfdir=$(conf sysconfdir)
localstatedir=$(conf localstatedir)
runstatedir=$(conf runstatedir)
unitdir=$(conf systemdsystemunitdir)
evpnpydir=$(conf evpnpydir)

check "make install DESTDIR=..." \
    make -s -C "$top_builddir" install DESTDIR="$dest"
for f in "$sbindir/vswitchd" "$bindir/vswitch-ctl" "$sbindir/vswitch-evpn"; do
    check "$f is an executable" test -x "$dest$f" -a -f "$dest$f"
done
for f in "$man8dir/vswitchd.8" "$man8dir/vswitch-ctl.8" \
         "$man8dir/vswitch-evpn.8" \
         "$sysconfdir/default/vswitchd" "$unitdir/vswitchd.service"; do
    check "$f is installed" test -f "$dest$f"
done
# The agent's gRPC message modules, made by protoc, and the agent looks
# for them there.
for f in gobgp_pb2.py attribute_pb2.py capability_pb2.py; do
    check "$evpnpydir/$f is installed" test -f "$dest$evpnpydir/$f"
done
check "vswitch-evpn finds them in $evpnpydir" \
    grep -q "\"$evpnpydir\"" "$dest$sbindir/vswitch-evpn"
check "vswitch-evpn runs under the Python that has grpc" \
    grep -qx '#!/usr/bin/python3' "$dest$sbindir/vswitch-evpn"
for d in "$localstatedir/lib/vswitch" "$localstatedir/log/vswitch"; do
    check "the directory $d is made" test -d "$dest$d"
done
check "the options file sets VSWITCHD_OPTS" \
    grep -qx 'VSWITCHD_OPTS=""' "$dest$sysconfdir/default/vswitchd"

unit=$dest$unitdir/vswitchd.service
check "the unit starts the installed daemon" \
    grep -qx "ExecStart=$sbindir/vswitchd \$VSWITCHD_OPTS" "$unit"
check "the unit reads the installed options file" \
    grep -qx "EnvironmentFile=-$sysconfdir/default/vswitchd" "$unit"
check "no @variable@ is left in the unit" bash -c "! grep -q '@[a-z]*@' '$unit'"
if command -v systemd-analyze >/dev/null; then
    # verify wants the programs the unit names: show it the installed one
    # (and the manual pages installed on this machine: not checked).
    mkdir "$WORK/unit"
    sed "s|=$sbindir/|=$dest$sbindir/|" "$unit" \
        >"$WORK/unit/vswitchd.service"
    check "systemd-analyze verify finds nothing wrong with the unit" \
        bash -c "systemd-analyze verify --man=no '$WORK/unit/vswitchd.service' 2>&1 \
                 | tee /dev/stderr | { ! grep -q .; }"
fi

# The built-in defaults come from --runstatedir and --localstatedir.
"$dest$sbindir/vswitchd" --help >"$WORK/d.help"
"$dest$bindir/vswitch-ctl" --help >"$WORK/c.help"
check "vswitchd's default socket is in the run directory" \
    grep -q "(default $runstatedir/vswitch/vswitchd.sock)" "$WORK/d.help"
check "vswitchd's default database is in the state directory" \
    grep -q "(default $localstatedir/lib/vswitch/conf.db)" "$WORK/d.help"
check "vswitchd's default pid file is in the run directory" \
    grep -q "(default $runstatedir/vswitch/vswitchd.pid)" "$WORK/d.help"
check "vswitchd's default log is in the log directory" \
    grep -q "(default $localstatedir/log/vswitch/vswitchd.log)" \
    "$WORK/d.help"
check "vswitch-ctl's default socket is vswitchd's" \
    grep -q "$runstatedir/vswitch/vswitchd.sock" "$WORK/c.help"

# A second install keeps the operator's options.
echo 'VSWITCHD_OPTS="--nice 0"' >"$dest$sysconfdir/default/vswitchd"
make -s -C "$top_builddir" install DESTDIR="$dest" >/dev/null 2>&1
check "a second install keeps the options file as the operator left it" \
    grep -qx 'VSWITCHD_OPTS="--nice 0"' "$dest$sysconfdir/default/vswitchd"

check "make uninstall DESTDIR=..." \
    make -s -C "$top_builddir" uninstall DESTDIR="$dest"
left=$(find "$dest" ! -type d)
check_eq "make uninstall leaves no file behind" "" "$left"
check "the empty state directories go too" \
    test ! -e "$dest$localstatedir/lib/vswitch" -a \
         ! -e "$dest$localstatedir/log/vswitch"

# distcheck on a clean copy of the tree: the build directory is busy with
# the other tests.  It runs the unit tests of the tarball's build (the
# system tests run here already).
# The outer make's jobserver and flags are not the inner build's.
copy_source_tree "$WORK/dc"
(cd "$WORK/dc" && unset MAKEFLAGS MFLAGS MAKELEVEL && autoreconf -fi \
     && ./configure --localstatedir=/var \
     --runstatedir=/run && timeout 900 make -j2 distcheck) \
    >"$WORK/distcheck.log" 2>&1
check_eq "make distcheck passes" 0 "$?"
grep -q "vswitch-.* archives ready for distribution" "$WORK/distcheck.log" \
    && pass "and makes the tarball" \
    || fail "distcheck: $(tail -n 5 "$WORK/distcheck.log")"

finish
