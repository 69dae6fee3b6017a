#!/bin/bash
# ## evpn-bench.sh: EVPN convergence across 8 hosts
#
# The hosts of tests/system/evpn.sh (tests/system/evpn-hosts.sh): each
# with vswitchd, gobgpd and vswitch-evpn, in iBGP with a GoBGP route
# reflector, one VM each in the EVPN VNI 5000.  Measures by the times of
# the events of `vswitch-ctl monitor fdb` on every host (the daemons'
# wall clock, which the namespaces share): from h1 learning a MAC on its
# VM's port until each other host installed the MAC's EVPN entry.
#
# - One MAC: to the first host and to all the others, median of 5 (a new
#   source MAC each time).
# - 10,000 MACs at once: h1's VM sends 10,000 frames from as many source
#   MACs; from h1 learning the first until each host installed the last.
#
#   make && sudo bench/evpn-bench.sh     # or: --build DIR; EVPN_HOSTS=N;
#                                        # EVPN_BENCH=one or many: one part;
#                                        # EVPN_BENCH=rib: many, gobgpd alone
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

# spread MAC-PREFIX: from h1's first "learned" event of a MAC that
# starts with MAC-PREFIX to the last EVPN "added" event of those MACs on
# the first host that had them all and on the last, in ms, from the
# monitors' output; and how many MACs h1 learned.
spread() {
    python3 - "$1" "$WORK" "$N" <<'EOF'
import json, sys
prefix, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def events(host):
    for line in open("%s/mon-%s.out" % (work, host)):
        e = json.loads(line)
        if e.get("kind") == "fdb" and e.get("mac", "").startswith(prefix):
            yield e
learned = {}
for e in events("h1"):
    if e["action"] == "learned" and e.get("type") == "dynamic":
        learned.setdefault(e["mac"], e["time"])
start = min(learned.values())
done = []
for i in range(2, n + 1):
    got = {}
    for e in events("h%d" % i):
        if e["action"] == "added" and e.get("type") == "evpn":
            got.setdefault(e["mac"], e["time"])
    missing = set(learned) - set(got)
    done.append(None if missing else max(got[m] for m in learned))
if None in done:
    print("incomplete %d" % len(learned))
else:
    print("%.0f %.0f %d" % ((min(done) - start) * 1000,
                            (max(done) - start) * 1000, len(learned)))
EOF
}

make_evpn_hosts
for i in $(seq "$N"); do
    in_background 900 "$CTL_BIN" --socket "$WORK/h$i.sock" --format=json \
        monitor fdb >"$WORK/mon-h$i.out" 2>"$WORK/mon-h$i.err"
done
for i in $(seq "$N"); do
    announce "v5$i" t5 "$(mac 5 "$i")" "$(ip_of 5 "$i")"
done
wait_all $((N - 1)) >/dev/null || exit 1

times=()
for k in $(case "${EVPN_BENCH:-both}" in one|both) echo 1 2 3 4 5 ;; esac); do
    have=$(evpn_macs h2)
    T0=$(ms)
    announce v51 t5 "02:00:00:95:00:0$k" "$(ip_of 5 1)"
    wait_all $((have + 1)) >/dev/null || exit 1
    read -r first last _ < <(spread "02:00:00:95:00:0$k")
    echo "one MAC, round $k: first host $first ms, all $((N - 1)) hosts $last ms"
    times+=("$last")
done
[ ${#times[@]} = 5 ] && echo "one MAC across $N hosts: median $(printf \
    '%s\n' "${times[@]}" | sort -n | sed -n 3p) ms"
[ "${EVPN_BENCH:-both}" = one ] && exit 0

# EVPN_BENCH=rib: the agents of h2... stopped first, so that what is
# measured is how long the gobgpds take to carry h1's routes to every
# host's RIB (`gobgp global rib summary`, polled), without installing them.
rib_destinations() {
    in_ns "$1" gobgp global rib -a evpn summary \
        | sed -n 's/^Destination: \([0-9]*\),.*/\1/p'
}
if [ "${EVPN_BENCH:-both}" = rib ]; then
    for i in $(seq 2 "$N"); do
        kill_wait "${AGENTS[h$i]}"
    done
    base=$(rib_destinations h2)
fi

have=$(evpn_macs h2)
T0=$(ms)
announce v51 t5 "02:00:00:94:00:00" "$(ip_of 5 1)" 10000
# Frames the TAP device dropped all the same are sent again.
for k in 1 2 3; do
    [ "$(vsctl h1 --format=json fdb-stats | json "j['dynamic_macs']")" \
        -gt 10000 ] && break
    announce v51 t5 "02:00:00:94:00:00" "$(ip_of 5 1)" 10000
done
learned=$(vsctl h1 fdb-show 5000 | grep -c ' 02:00:00:94:')
echo "h1 learned $learned of the 10000 MACs by $(( $(ms) - T0 )) ms" \
    "(the TAP device drops some under load)"
if [ "${EVPN_BENCH:-both}" = rib ]; then
    declare -A at=()
    while [ ${#at[@]} -lt $((N - 1)) ] && [ $(( $(ms) - T0 )) -lt 900000 ]; do
        for i in $(seq 2 "$N"); do
            [ -z "${at[$i]:-}" ] && [ "$(rib_destinations "h$i")" -ge \
                $((base + learned)) ] && at[$i]=$(( $(ms) - T0 ))
        done
        sleep 0.2
    done
    echo "the gobgpds alone carried $learned routes to the RIBs of" \
        "${#at[@]} of $((N - 1)) hosts: the first by" \
        "$(printf '%s\n' "${at[@]}" | sort -n | head -1) ms, all by" \
        "$(printf '%s\n' "${at[@]}" | sort -n | tail -1) ms since h1's VM" \
        "began sending (load $(cut -d' ' -f1-3 /proc/loadavg))"
    exit 0
fi
wait_all $((have + learned)) 900 >/dev/null || exit 1
read -r first last n < <(spread "02:00:00:94:")
echo "$n MACs across $N hosts: first host $first ms, all $((N - 1)) hosts" \
    "$last ms (load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "h1's gobgpd holds $(in_ns h1 gobgp global rib -a evpn | grep -c macadv)" \
    "type-2 routes; vswitchd RSS on h2:" \
    "$(ps -o rss= -p "$(cat "$WORK/h2.pid")") KiB"
