#!/bin/bash
# ## fdb-scale.sh: a MAC table of a million entries
#
# `fdb-scale.sh` runs one vswitchd with `--max-macs N` (default 1048576)
# in a network namespace, with two VMs on TAP ports of VNI 5000, and fills
# its MAC table by learning: a pcap port replays a capture of N frames
# from N distinct sources into VNI 6000 (as tests/system/control-load.sh
# does), so their floods reach nobody.  While one VM pings the other every
# 10 ms, it measures:
#
# - the daemon's resident memory (VmRSS) with the VMs' two entries and
#   with N more, and the difference divided by N: memory per entry;
# - the time to learn N sources (from adding the port until fdb-stats
#   counts N learned), and the pings meanwhile;
# - `fdb-show` of the full table, as a table and as JSON: the time the
#   client takes, the daemon's peak resident memory during it (VmRSS
#   sampled every 20 ms, and VmHWM), and the pings meanwhile;
# - `fdb-flush` of the whole table: its time, the pings meanwhile, and
#   the daemon's own measure from its log (since issue 12 it flushes in
#   slices: how many, the longest, and the loop's longest turn meanwhile).
#
# Pings are reported as sent/received and min/avg/max round trip.
#
# usage: bench/fdb-scale.sh [--build DIR] [--no-show] [N]   (as root)
# --no-show leaves out fdb-show.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
if [ "${1:-}" = --build ]; then
    top_builddir=$(cd "$2" && pwd) || exit 2
    shift 2
fi
SHOW="table json"
if [ "${1:-}" = --no-show ]; then
    SHOW=
    shift
fi
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
. "$top_srcdir/tests/system/lib.sh"
. "$top_srcdir/tests/system/netns.sh"

N=${1:-1048576}
SOCK=$WORK/h1.sock
PID_FILE=$WORK/h1.pid

ctl() {
    timeout 300 "$CTL_BIN" --socket "$SOCK" --timeout 240 "$@"
}
stat_of() { ctl --format=json fdb-stats | json "j['$1']"; }
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$(cat "$PID_FILE")/status"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ping_start NAME: vm1 pings vm2 every 10 ms until ping_stop NAME, which
# sets PINGS to "sent/received, min/avg/max ms".
ping_start() {
    # Not through in_ns, whose timeout would stand between the signal and
    # ping: "ip netns exec" becomes ping itself.
    ip netns exec "$(ns vm1)" ping -q -i 0.01 -W 2 -w 290 10.99.0.2 \
        >"$WORK/ping.$1" 2>&1 &
    echo $! >"$WORK/ping.$1.pid"
}
ping_stop() {
    kill -INT "$(cat "$WORK/ping.$1.pid")"
    wait "$(cat "$WORK/ping.$1.pid")" 2>/dev/null
    local sent received rtt
    sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$WORK/ping.$1")
    received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$WORK/ping.$1")
    rtt=$(sed -n 's|^rtt [^=]*= \([^/]*\)/\([^/]*\)/\([^/]*\)/.*|\1/\2/\3|p' \
          "$WORK/ping.$1")
    PINGS="$sent/$received pings, rtt min/avg/max $rtt ms"
}

# peak_start: samples the daemon's VmRSS every 20 ms until peak_stop,
# which sets PEAK to the highest in KiB.
peak_start() {
    (
        peak=0
        while [ ! -e "$WORK/peak.stop" ]; do
            kb=$(status_kb VmRSS)
            [ "${kb:-0}" -gt "$peak" ] && peak=$kb
            sleep 0.02
        done
        echo "$peak" >"$WORK/peak"
    ) &
    PEAK_PID=$!
}
peak_stop() {
    touch "$WORK/peak.stop"
    wait "$PEAK_PID"
    rm -f "$WORK/peak.stop"
    PEAK=$(cat "$WORK/peak")
}

make_ns h1
in_ns h1 "$VSWITCHD" --socket "$SOCK" --db "$WORK/h1.db" \
    --pidfile="$PID_FILE" --log-file="$WORK/h1.log" --detach \
    --max-macs "$N" || { echo "vswitchd did not start"; exit 1; }
at_exit "kill -9 \$(cat '$PID_FILE')"
ctl add-vni 5000
make_vm vm1 h1 tap0 5000 10.99.0.1/24 02:00:00:99:00:01 || exit 1
make_vm vm2 h1 tap1 5000 10.99.0.2/24 02:00:00:99:00:02 || exit 1
in_ns vm1 ping -c 3 -i 0.2 -W 2 10.99.0.2 >/dev/null || exit 1
make_fill_pcap "$WORK/fill.pcap" "$N"
ctl add-vni 6000

rss_empty=$(status_kb VmRSS)
echo "entries: $N; vswitchd VmRSS with 2 entries: $rss_empty KiB"

ping_start learn
start=$(now_ms)
ctl add-port cap0 type=pcap rx="$WORK/fill.pcap" vni=6000
all_learned() { [ "$(stat_of learned)" -ge "$N" ]; }
wait_for 280 all_learned || echo "learned only $(stat_of learned)"
learn_ms=$(($(now_ms) - start))
ping_stop learn
echo "learn $N: $learn_ms ms; $PINGS"
sleep 1
rss_full=$(status_kb VmRSS)
echo "VmRSS with $(stat_of dynamic_macs) entries: $rss_full KiB;" \
     "per entry: $(((rss_full - rss_empty) * 1024 / N)) bytes"

for format in $SHOW; do
    hwm_before=$(status_kb VmHWM)
    ping_start "$format"
    peak_start
    start=$(now_ms)
    /usr/bin/time -o "$WORK/cpu" -f "%U+%S" \
        "$CTL_BIN" --socket "$SOCK" --timeout 240 --format="$format" \
        fdb-show >"$WORK/show.$format"
    took=$(($(now_ms) - start))
    peak_stop
    ping_stop "$format"
    echo "fdb-show ($format, $(wc -c <"$WORK/show.$format") bytes):" \
         "$took ms (client CPU $(cat "$WORK/cpu") s); peak VmRSS $PEAK KiB (+$((PEAK - rss_full)));" \
         "VmHWM $hwm_before -> $(status_kb VmHWM) KiB; $PINGS"
done

ping_start flush
start=$(now_ms)
ctl fdb-flush 6000 >/dev/null
took=$(($(now_ms) - start))
ping_stop flush
echo "fdb-flush of $N: $took ms; $PINGS"
echo "vswitchd: $(grep -o 'fdb-flush: .*' "$WORK/h1.log" | tail -1)"
echo "VmRSS after the flush: $(status_kb VmRSS) KiB" \
     "(the table keeps its entries' slots for reuse)"
