#!/bin/bash
# ## provision-bench.sh: provisioning many VNIs, one batch against one
# ## command each
#
# N VNIs (4,096 unless --count N), each with a TAP port bound to it and a
# static MAC on that port, added to a fresh vswitchd in two ways:
#
# - batch: one `vswitch-ctl batch FILE` of 3 N lines;
# - single: 3 N `vswitch-ctl` commands, one after the other.
#
# For each: the wall time, the fsync and fdatasync calls of the daemon
# (perf stat on its syscall tracepoints: strace would stop the daemon at
# every system call, which costs more than the work measured), its peak RSS (VmHWM) at the end, and the
# forwarding latency meanwhile: a VM pings another through the switch
# (VNI 1, TAP ports, as control-load.sh does) every 5 ms, in rounds of
# 200; the worst round trip and the losses are those of the whole run.  For the batch, how
# long the loop was busy putting it into effect (opening the N TAP
# devices): from the log, the time between the first and the last "port
# ...: added" line), and the steps it took (vswitchd puts a batch into
# effect a few ports per loop turn, config-steps.h) with the longest, and
# the longest turn of its loop meanwhile, from the batch's log line: the
# daemon's own measure of how long forwarding waited for it, which the
# machine's load disturbs less than the pings' round trips.
#
#   make && sudo bench/provision-bench.sh     # or: --build DIR --count N
#                                             #     --mode batch|single
#
# It needs root and perf; everything it makes is removed when it ends.
# Not a test: the figures depend on the machine and its load.  What it
# measured here is in bench/README.md.

N=4096
MODES="batch single"
while [ $# -gt 0 ]; do
    case $1 in
    --build) top_builddir=$(cd "$2" && pwd) || exit 2; shift 2 ;;
    --count) N=$2; shift 2 ;;
    --mode) MODES=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--count N] [--mode batch|single]" >&2
       exit 2 ;;
    esac
done
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
. "$top_srcdir/tests/system/lib.sh"
. "$top_srcdir/tests/system/netns.sh"

for prog in "$VSWITCHD" "$CTL_BIN"; do
    [ -x "$prog" ] || { echo "$0: $prog is missing: run make" >&2; exit 1; }
done
command -v perf >/dev/null || { echo "$0: needs perf" >&2; exit 1; }

# The 3 N commands, one a line.
for i in $(seq "$N"); do
    printf 'add-vni %d\n' $((1000 + i))
    printf 'add-port p%d type=tap vni=%d\n' "$i" $((1000 + i))
    printf 'fdb-add %d 02:00:00:%02x:%02x:%02x p%d\n' $((1000 + i)) \
        $((i >> 16)) $(((i >> 8) & 255)) $((i & 255)) "$i"
done >"$WORK/vms.batch"

make_ns h1 || exit 1

# run MODE: one fresh daemon, the N VNIs added by MODE; prints one line.
run() {
    local mode=$1 pid start took perf_pid ping_pid fsyncs rss loop_ms
    rm -f "$WORK/h1.db" "$WORK/h1.log"
    start_vswitchd h1 || exit 1
    pid=$(cat "$WORK/h1.pid")
    vsctl h1 add-vni 1 || exit 1
    # TAP names of their own: the last run's may not be gone yet.
    make_vm "vm1$mode" h1 "${mode:0:1}vm1" 1 10.97.0.1/24 \
        02:00:00:97:00:01 || exit 1
    make_vm "vm2$mode" h1 "${mode:0:1}vm2" 1 10.97.0.2/24 \
        02:00:00:97:00:02 || exit 1
    in_ns "vm1$mode" ping -c 3 -W 2 10.97.0.2 >/dev/null || exit 1

    # The daemon's threads: its workers exist since the add-vni above.
    perf stat -x, -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync \
        -p "$pid" -o "$WORK/perf.$mode" &
    perf_pid=$!
    sleep 1
    # Rounds of 200 pings until told to stop: ping itself gives up when
    # the switch stalls long enough for ARP to fail.
    rm -f "$WORK/stop-ping"
    (
        while [ ! -e "$WORK/stop-ping" ]; do
            in_ns "vm1$mode" ping -q -i 0.005 -c 200 -W 2 10.97.0.2
        done
    ) >"$WORK/ping.$mode" 2>&1 &
    ping_pid=$!
    at_exit "kill $ping_pid"
    sleep 1
    start=$(date +%s%N)
    if [ "$mode" = batch ]; then
        timeout 1200 "$CTL_BIN" --socket "$WORK/h1.sock" --timeout 1200 \
            batch "$WORK/vms.batch" \
            || { echo "$0: batch failed ($?)"; tail -3 "$WORK/h1.log"; exit 1; }
    else
        while read -r line; do
            # shellcheck disable=SC2086 # The words of the line.
            "$CTL_BIN" --socket "$WORK/h1.sock" --timeout 600 $line \
                || exit 1
        done <"$WORK/vms.batch"
    fi
    took=$((($(date +%s%N) - start) / 1000000))
    sleep 1
    touch "$WORK/stop-ping"
    wait "$ping_pid"
    kill -INT "$perf_pid"
    wait "$perf_pid"
    fsyncs=$(awk -F, '/sys_enter_f/ { n += $1 } END { print n + 0 }' \
        "$WORK/perf.$mode")
    rss=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
    loop_ms=$(grep 'port p[0-9]*: added' "$WORK/h1.log" | sed -n '1p;$p' \
        | sed 's/^\([^|]*\)|.*/\1/' | python3 -c '
import sys, datetime
t = [datetime.datetime.strptime(l.strip(), "%Y-%m-%dT%H:%M:%S.%fZ")
     for l in sys.stdin]
print(int((t[-1] - t[0]).total_seconds() * 1000) if len(t) == 2 else "-")')
    echo "mode=$mode vnis=$N wall_ms=$took fsyncs=$fsyncs" \
        "rss_peak_kb=$rss ports_opened_over_ms=$loop_ms" \
        "$(awk '/packets transmitted/ { sent += $1; got += $4 }
                /^rtt/ { split($4, r, "/"); if (r[3] > max) max = r[3] }
                END { printf "ping: %d sent, %d received, worst %.1f ms",
                      sent, got, max }' "$WORK/ping.$mode")" \
        "$(grep -o 'in effect in.*' "$WORK/h1.log")"
    stop_vswitchd h1
}

for mode in $MODES; do
    run "$mode"
done
