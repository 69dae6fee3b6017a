#!/bin/bash
# Saving a change must not stall forwarding (vswitchd(8), LIMITS): on a
# disk whose every fsync takes 500 ms (an LD_PRELOAD shim), changes are
# answered only once saved, made one at a time even when eight clients
# send them at once, read-only requests are answered meanwhile, a VM pings
# another every 10 ms without loss or a round trip of 100 ms, and a change
# whose save fails changes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
take_turn

# Above what a read-only request takes under ASan on a busy machine
# (369 ms seen).
SYNC_MS=500

# fsync() sleeps first, and fails with EIO while $WORK/fail-sync exists.
cat >"$WORK/slow-fsync.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int
fsync(int fd)
{
    static int (*real)(int);
    const char *fail = getenv("SLOW_FSYNC_FAIL");
    struct timespec ts = { 0, atol(getenv("SLOW_FSYNC_MS")) * 1000000L };

    if (!real) {
        real = (int (*)(int)) dlsym(RTLD_NEXT, "fsync");
    }
    nanosleep(&ts, NULL);
    if (fail && !access(fail, F_OK)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
EOF
check "build the slow fsync shim" \
    "${CC:-cc}" -shared -fPIC -o "$WORK/slow-fsync.so" "$WORK/slow-fsync.c" -ldl

make_ns h1
# The sanitizer runtime tolerates a preloaded library placed before it.
LD_PRELOAD=$WORK/slow-fsync.so SLOW_FSYNC_MS=$SYNC_MS \
    SLOW_FSYNC_FAIL=$WORK/fail-sync ASAN_OPTIONS=verify_asan_link_order=0 \
    start_vswitchd h1 || fail "vswitchd on h1"
vsctl h1 add-vni 5000
make_vm vm1 h1 tap0 5000 10.99.0.1/24 02:00:00:99:00:01 || fail "vm1"
make_vm vm2 h1 tap1 5000 10.99.0.2/24 02:00:00:99:00:02 || fail "vm2"
check "vm1 pings vm2" in_ns vm1 ping -c 3 -W 2 10.99.0.2

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

in_ns vm1 ping -q -i 0.01 -c 600 -w 10 -W 2 10.99.0.2 >"$WORK/ping.txt" 2>&1 &
ping_pid=$!
at_exit "kill_child $ping_pid"

# A file and its directory are synced: the answer comes after both.
start=$(date +%s%N)
check "add-vni on the slow disk" vsctl h1 add-vni 6000
took=$(ms_since "$start")
[ "$took" -ge $((2 * SYNC_MS)) ] \
    && pass "add-vni was answered once saved ($took ms)" \
    || fail "add-vni was answered in $took ms, before its save"

# Eight changes at once: they queue up, each saved in turn, while a
# read-only request is answered at once.
pids=()
for i in $(seq 8); do
    vsctl h1 add-vni $((6100 + i)) >"$WORK/add.$i" 2>&1 &
    pids+=($!)
done
sleep 0.5
start=$(date +%s%N)
check "list-vnis while changes are being saved" vsctl h1 list-vnis
took=$(ms_since "$start")
[ "$took" -lt "$SYNC_MS" ] \
    && pass "list-vnis did not wait for the saves ($took ms)" \
    || fail "list-vnis took $took ms while changes were being saved"
n_ok=0
for pid in "${pids[@]}"; do
    wait "$pid" && n_ok=$((n_ok + 1))
done
check_eq "eight changes at once all succeed" 8 "$n_ok"
check_eq "and all are in effect" "6101 6102 6103 6104 6105 6106 6107 6108" \
    "$(vsctl h1 --format=json list-vnis \
        | json "' '.join(str(v) for v in sorted(v['vni'] for v in j['vnis']) if v > 6100)")"

# A save that fails: an error, and nothing changed.
touch "$WORK/fail-sync"
check_exit "a change whose save fails is refused" 1 vsctl h1 add-vni 7000
grep -q "cannot save" "$WORK/err" && pass "the refusal says why" \
    || fail "refusal: $(cat "$WORK/err")"
rm -f "$WORK/fail-sync"
check_eq "the refused change is not in effect" 0 \
    "$(vsctl h1 --format=json list-vnis \
        | json "len([v for v in j['vnis'] if v['vni'] == 7000])")"
check "the next change succeeds" vsctl h1 add-vni 7001

wait "$ping_pid"
check_ping "while changes were saved" "$WORK/ping.txt"

# What was acknowledged is on disk: a restart has it all.
kill -9 "$(cat "$WORK/h1.pid")"
wait_for 10 bash -c "! kill -0 $(cat "$WORK/h1.pid") 2>/dev/null"
check "vswitchd restarts" start_vswitchd h1
check_eq "with every acknowledged change and not the refused one" \
    "5000 6000 6101 6102 6103 6104 6105 6106 6107 6108 7001" \
    "$(vsctl h1 --format=json list-vnis \
        | json "' '.join(str(v) for v in sorted(v['vni'] for v in j['vnis']))")"

finish
