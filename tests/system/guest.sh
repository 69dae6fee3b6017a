# A real guest for the system tests: QEMU (TCG: no KVM here) boots
# Debian's cloud kernel with a busybox initramfs, its NIC a virtio-net on a
# TAP that QEMU itself creates, as a hypervisor does.  Source it after
# lib.sh and netns.sh.
#
#   guest_prepare            fetches the kernel and builds the initramfs
#   guest_start NAME HOST TAP MAC IP/LEN
#                            boots guest NAME in namespace HOST
#   guest_stop NAME          powers it off (QEMU exits, its TAP goes)
#
# The kernel comes from Debian's archive as a package file, unpacked, never
# installed; it is kept in $GUEST_CACHE between runs.

GUEST_CACHE=${GUEST_CACHE:-$top_builddir/tests/guest}
declare -A GUEST_PIDS=()

# The modules virtio-net needs, in the order they load; the cloud kernel
# builds them as modules.
GUEST_MODULES=(
    drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko
    drivers/virtio/virtio_pci_modern_dev.ko
    drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci.ko
    net/core/failover.ko drivers/net/net_failover.ko
    drivers/net/virtio_net.ko
)

# Prints the name of the cloud kernel's versioned package.
guest_kernel_package() {
    apt-cache depends linux-image-cloud-amd64 2>/dev/null \
        | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1
}

guest_fetch_kernel() {
    local pkg dir=$GUEST_CACHE/kernel
    [ -e "$dir/vmlinuz" ] && return 0
    pkg=$(guest_kernel_package)
    if [ -z "$pkg" ]; then
        apt-get update -q >/dev/null 2>&1
        pkg=$(guest_kernel_package)
    fi
    [ -n "$pkg" ] || { echo "no cloud kernel package known to apt" >&2; return 1; }
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" || return 1
    (cd "$dir.tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) || return 1
    dpkg-deb -x "$dir.tmp"/*.deb "$dir.tmp/root" || return 1
    mkdir -p "$dir.tmp/modules" || return 1
    local m
    for m in "${GUEST_MODULES[@]}"; do
        cp "$dir.tmp"/root/lib/modules/*/kernel/"$m" "$dir.tmp/modules/" \
            || return 1
    done
    cp "$dir.tmp"/root/boot/vmlinuz-* "$dir.tmp/vmlinuz" || return 1
    rm -rf "$dir.tmp/root" "$dir.tmp"/*.deb "$dir"
    mv "$dir.tmp" "$dir"
}

# The guest's init: load virtio-net, give eth0 the address named on the
# kernel command line (vsw_ip=), and wait; the kernel answers pings and
# ARP.
guest_init_script() {
    cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
         virtio_pci failover net_failover virtio_net; do
    insmod /modules/$m.ko
done
ip=$(sed -n 's/.*vsw_ip=\([^ ]*\).*/\1/p' /proc/cmdline)
ip link set lo up
ip link set eth0 up
ip addr add "$ip" dev eth0
echo "vsw-guest: up with $ip"
while :; do sleep 3600; done
EOF
}

guest_build_initramfs() {
    local dir=$GUEST_CACHE/initramfs
    [ -e "$GUEST_CACHE/initramfs.cpio" ] && return 0
    rm -rf "$dir" && mkdir -p "$dir"/{bin,proc,sys,dev,modules} || return 1
    cp /bin/busybox "$dir/bin/busybox" || return 1
    cp "$GUEST_CACHE"/kernel/modules/*.ko "$dir/modules/" || return 1
    guest_init_script >"$dir/init" && chmod 755 "$dir/init" || return 1
    (cd "$dir" && find . | busybox cpio -o -H newc 2>/dev/null) \
        >"$GUEST_CACHE/initramfs.cpio.tmp" || return 1
    mv "$GUEST_CACHE/initramfs.cpio.tmp" "$GUEST_CACHE/initramfs.cpio"
}

guest_prepare() {
    mkdir -p "$GUEST_CACHE" && guest_fetch_kernel && guest_build_initramfs
}

guest_start() {
    local name=$1 host=$2 tap=$3 mac=$4 addr=$5
    rm -f "$WORK/guest-$name.console"
    # /dev/null on stdin: a backgrounded QEMU must not wait for a terminal.
    ip netns exec "$(ns "$host")" timeout 300 qemu-system-x86_64 \
        -machine pc -accel tcg -m 256 -smp 1 -nodefaults -no-user-config \
        -display none -serial "file:$WORK/guest-$name.console" \
        -kernel "$GUEST_CACHE/kernel/vmlinuz" \
        -initrd "$GUEST_CACHE/initramfs.cpio" \
        -append "console=ttyS0 panic=-1 quiet vsw_ip=$addr" -no-reboot \
        -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
        -device "virtio-net-pci,netdev=n0,mac=$mac" \
        </dev/null >"$WORK/guest-$name.qemu" 2>&1 &
    GUEST_PIDS[$name]=$!
    # TERM: 'timeout' passes it on to QEMU, which powers off.
    at_exit "kill_child ${GUEST_PIDS[$name]}"
    # Booting under TCG on a loaded machine takes seconds, not minutes.
    wait_for 120 grep -q "vsw-guest: up" "$WORK/guest-$name.console"
}

guest_stop() {
    local pid=${GUEST_PIDS[$1]:-}
    [ -n "$pid" ] || return 0
    stop_child "$pid" 20
    unset "GUEST_PIDS[$1]"
    return 0
}
