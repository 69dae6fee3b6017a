#!/bin/bash
# A virtual machine's life on the switch, with a real guest: QEMU makes
# the guest's TAP, the host attaches it as a system port (as a hypervisor
# hands its VMs to Open vSwitch), and the guest is stopped and started
# again, which deletes its TAP and makes a new one of the same name.  The
# port must follow by itself: down while the TAP is gone, up again and
# forwarding when it is back, also when vswitchd starts before the guest.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/guest.sh"
take_turn

GUEST_MAC=52:54:00:77:00:01
VMB_MAC=02:00:00:77:00:02

if ! guest_prepare >"$WORK/prepare.log" 2>&1; then
    fail "the guest's kernel and initramfs could not be prepared: $(tail -n 3 "$WORK/prepare.log")"
    finish
fi

make_ns hv
start_vswitchd hv
vsctl hv add-vni 5000 >/dev/null
make_vm vmB hv tapb 5000 10.77.0.2/24 "$VMB_MAC"

# port_state PORT: "up", or "down: REASON".
port_state() {
    vsctl hv --format=json list-ports \
        | json "[p['state'] + (': ' + p['error'] if p.get('error') else '') for p in j['ports'] if p['name'] == '$1'][0]"
}

# port_is PORT STATE: whether PORT is up, or down (for any reason).
port_is() {
    local state
    state=$(port_state "$1" 2>/dev/null)
    [ "${state%%:*}" = "$2" ]
}

# boot: starts the guest, then does what a hypervisor does with a new TAP.
boot() {
    guest_start g1 hv vmtap0 "$GUEST_MAC" 10.77.0.1/24 \
        && in_ns hv ip link set vmtap0 up
}

check "the guest boots with its TAP made by QEMU" boot
check "the hypervisor attaches the TAP as a system port" \
    vsctl hv add-port vmtap0 type=system vni=5000
check_eq "the port is up" up "$(port_state vmtap0)"
check "vmB pings the guest across the switch" \
    in_ns vmB ping -c 3 -i 0.2 -W 5 10.77.0.1

check "the guest stops" guest_stop g1
check "its TAP is gone" bash -c "! ip netns exec $(ns hv) ip link show vmtap0"
wait_for 20 port_is vmtap0 down
check_eq "the port goes down, saying why in words" \
    "down: device gone: interface deleted" "$(port_state vmtap0)"

check "the guest starts again, with a new TAP of the same name" boot
wait_for 20 port_is vmtap0 up
check_eq "the port comes back up by itself" up "$(port_state vmtap0)"
check "vmB pings the restarted guest" \
    in_ns vmB ping -c 3 -i 0.2 -W 5 10.77.0.1

# vswitchd starting before the guest, as at a host's boot.
check "the guest stops again" guest_stop g1
check "vswitchd stops" stop_vswitchd hv
check "vswitchd starts while the guest's TAP does not exist" start_vswitchd hv
wait_for 10 vsctl hv ping
check_eq "the port is down: no such interface" \
    "down: interface vmtap0 does not exist" "$(port_state vmtap0)"
check "the guest boots" boot
wait_for 20 port_is vmtap0 up
check_eq "the port comes up when the TAP appears" up "$(port_state vmtap0)"
check "vmB pings the guest" in_ns vmB ping -c 3 -i 0.2 -W 5 10.77.0.1
guest_stop g1
finish
