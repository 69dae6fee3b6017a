#!/bin/bash
# ## evpn-bench.sh: EVPN convergence across 8 hosts
#
# The hosts of tests/system/evpn.sh (tests/system/evpn-hosts.sh): each
# with vswitchd, gobgpd and vswitch-evpn, in iBGP with a GoBGP route
# reflector, one VM each in the EVPN VNI 5000.  Measures, with the clock
# of this script:
#
# - One MAC: from the gratuitous ARP of h1's VM until every other host
#   holds its EVPN entry (fdb-stats' evpn_macs, polled), median of 5
#   (a new source MAC each time).
# - 10,000 MACs at once: from h1's VM sending 10,000 frames from as many
#   source MACs (learned on h1 in a few milliseconds) until every other
#   host holds all of them; and when the first host had them all.
#
#   make && sudo bench/evpn-bench.sh     # or: --build DIR; EVPN_HOSTS=N;
#                                        # EVPN_BENCH=one or many: one part
#
# It needs root and gobgpd; everything it makes is removed when it ends.
# Not a test: the figures depend on the machine and its load.  What it
# measured here is in bench/README.md.

. "$(dirname "$0")/setup.sh" "$@"

N=${EVPN_HOSTS:-8}
VNIS=5
. "$top_srcdir/tests/system/evpn-hosts.sh"

ms() { echo $(( $(date +%s%N) / 1000000 )); }
T0=$(ms)

# wait_all WANT [SECS]: waits (SECS, 300 s by default) until every host
# but h1 holds WANT EVPN entries; prints when the first and the last got
# there, in ms since $T0, or "timeout" and how many each host holds.
wait_all() {
    local want=$1 i first= left deadline=$((SECONDS + ${2:-300}))
    declare -A done_at=()
    while [ ${#done_at[@]} -lt $((N - 1)) ]; do
        for i in $(seq 2 "$N"); do
            [ -n "${done_at[$i]:-}" ] && continue
            if [ "$(evpn_macs "h$i")" -ge "$want" ]; then
                done_at[$i]=$(( $(ms) - T0 ))
                first=${first:-${done_at[$i]}}
            fi
        done
        if [ $SECONDS -ge $deadline ]; then
            echo "timeout: $(for i in $(seq 2 "$N"); do evpn_macs "h$i"; done \
                             | paste -sd' ')"
            return 1
        fi
        sleep 0.05
    done
    left=0
    for i in "${!done_at[@]}"; do
        [ "${done_at[$i]}" -gt "$left" ] && left=${done_at[$i]}
    done
    echo "$first $left"
}

make_evpn_hosts
for i in $(seq "$N"); do
    announce "v5$i" t5 "$(mac 5 "$i")" "$(ip_of 5 "$i")"
done
wait_all $((N - 1)) >/dev/null || exit 1

times=()
for k in $([ "${EVPN_BENCH:-both}" != many ] && echo 1 2 3 4 5); do
    have=$(evpn_macs h2)
    T0=$(ms)
    announce v51 t5 "02:00:00:95:00:0$k" "$(ip_of 5 1)"
    read -r first last < <(wait_all $((have + 1)))
    echo "one MAC, round $k: first host $first ms, all $((N - 1)) hosts $last ms"
    times+=("$last")
done
[ ${#times[@]} = 5 ] && echo "one MAC across $N hosts: median $(printf \
    '%s\n' "${times[@]}" | sort -n | sed -n 3p) ms"
[ "${EVPN_BENCH:-both}" = one ] && exit 0

have=$(evpn_macs h2)
T0=$(ms)
announce v51 t5 "02:00:00:94:00:00" "$(ip_of 5 1)" 10000
# Frames the TAP device dropped all the same are sent again.
for k in 1 2 3; do
    [ "$(vsctl h1 --format=json fdb-stats | json "j['dynamic_macs']")" \
        -gt 10000 ] && break
    announce v51 t5 "02:00:00:94:00:00" "$(ip_of 5 1)" 10000
done
echo "h1 learned the 10000 MACs in $(( $(ms) - T0 )) ms"
echo "10000 MACs across $N hosts: $(wait_all $((have + 10000)) 600)" \
    "(first host, all $((N - 1)) hosts, ms)"
echo "h1's gobgpd holds $(in_ns h1 gobgp global rib -a evpn | grep -c macadv)" \
    "type-2 routes; vswitchd RSS on h2:" \
    "$(ps -o rss= -p "$(cat "$WORK/h2.pid")") KiB"
