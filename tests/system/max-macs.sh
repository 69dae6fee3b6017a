#!/bin/bash
# The MAC table's bound (vswitchd(8), --max-macs): a bound out of range is
# refused at start, saying why; a daemon with --max-macs 1048576 shows that
# bound in fdb-stats and learns 300000 sources replayed from a capture,
# more than the default bound of 262144, evicting none; one with
# --max-macs 1000 holds 1000 of them and evicts the rest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

N_MACS=300000

# start NAME [OPTION...]: a daemon on $WORK/NAME.sock and NAME.db in
# namespace h1.
start() {
    local name=$1
    shift
    in_ns h1 "$VSWITCHD" --socket "$WORK/$name.sock" --db "$WORK/$name.db" \
        --pidfile="$WORK/$name.pid" --log-file="$WORK/$name.log" --detach \
        "$@" || return 1
    at_exit "kill_vswitchd '$WORK/$name.pid'"
}
stat_of() { vsctl "$1" --format=json fdb-stats | json "j['$2']"; }

make_ns h1
for bad in 0 1048577 -1 12x 99999999999999999999 ""; do
    check_exit "--max-macs '$bad' is refused" 1 start e --max-macs "$bad"
    check_eq "saying why ('$bad')" \
        "vswitchd: --max-macs: '$bad' is not a number from 1 to 1048576" \
        "$(cat "$WORK/err")"
done
[ ! -e "$WORK/e.sock" ] && pass "no daemon started with a bad bound" \
    || fail "a daemon started with a bad bound"

check "a daemon with the default bound starts" start d
check_eq "fdb-stats shows the default bound" 262144 "$(stat_of d max_macs)"
vsctl d fdb-stats >"$WORK/stats.txt"
grep -q "262144" "$WORK/stats.txt" && pass "so does its text" \
    || fail "fdb-stats text: $(cat "$WORK/stats.txt")"

check "a daemon with --max-macs 1048576 starts" start h1 --max-macs 1048576
check_eq "fdb-stats shows the bound" 1048576 "$(stat_of h1 max_macs)"
check "a daemon with --max-macs 1000 starts" start s --max-macs=1000

make_fill_pcap "$WORK/fill.pcap" "$N_MACS"
for host in h1 s; do
    vsctl "$host" add-vni 6000
    check "add a pcap port replaying $N_MACS sources to $host" \
        vsctl "$host" add-port cap0 type=pcap rx="$WORK/fill.pcap" vni=6000
done
all_learned() { [ "$(stat_of h1 learned)" = "$N_MACS" ]; }
wait_for 60 all_learned || fail "learned only $(stat_of h1 learned)"
check_eq "the table holds all $N_MACS entries" "$N_MACS" \
    "$(stat_of h1 dynamic_macs)"
check_eq "none was evicted" 0 "$(stat_of h1 evicted)"

s_learned() { [ "$(stat_of s learned)" = "$N_MACS" ]; }
wait_for 60 s_learned || fail "learned only $(stat_of s learned)"
check_eq "--max-macs 1000 holds 1000 entries" 1000 "$(stat_of s dynamic_macs)"
check_eq "and evicted the rest" $((N_MACS - 1000)) "$(stat_of s evicted)"
check_eq "the 1000 most recent sources are the ones kept" \
    "06:00:04:8f:f8:00 06:00:04:93:df:00" \
    "$(vsctl s --format=json fdb-show \
        | json "' '.join(sorted(e['mac'] for e in j['entries'])[::999])")"

finish
