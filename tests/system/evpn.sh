#!/bin/bash
# BGP EVPN through GoBGP: hosts on an underlay that carries no multicast,
# each with vswitchd, gobgpd and the agent vswitch-evpn, in iBGP with a
# route reflector (gobgpd too, in a namespace of its own).  VMs in two
# EVPN VNIs: every host lists the remote MACs against the right VTEPs,
# all pairs ping with no unicast flooded (only ARP requests are
# broadcast), a moved VM is reachable again within 2 s, a removed port is
# withdrawn everywhere, and restarts of gobgpd, of the agent and of
# vswitchd (kill -9) converge back with nothing stale.
# EVPN_HOSTS sets how many hosts (default 8).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

N=${EVPN_HOSTS:-8}
VNIS="5 6"
HOSTS=$(seq "$N")
. "$(dirname "$0")/evpn-hosts.sh"

make_evpn_hosts
announce_all() {
    local i v
    for i in $HOSTS; do
        for v in $VNIS; do
            announce "v$v$i" "t$v" "$(mac "$v" "$i")" "$(ip_of "$v" "$i")"
        done
    done
}

# expected_view HOST [SKIP-MAC]: what remote_view should print.
expected_view() {
    local i v
    for i in $HOSTS; do
        [ "$i" = "$1" ] && continue
        for v in 5 6; do
            [ "$(mac "$v" "$i")" = "${2:-}" ] && continue
            echo "${v}000 $(mac "$v" "$i") $(vtep "$i")"
        done
    done | sort
}
views_converged() {
    local i
    for i in $HOSTS; do
        [ "$(remote_view "h$i")" = "$(expected_view "$i" "${1:-}")" ] \
            || return 1
    done
}
flood_lists_converged() {
    local i want
    for i in $HOSTS; do
        want=$(for j in $HOSTS; do [ "$j" = "$i" ] || vtep "$j"; done \
                   | sort | paste -sd,)
        [ "$(vsctl "h$i" --format=json list-vnis \
             | json "','.join(sorted(set(','.join(sorted(v['evpn_vteps']))
                                          for v in j['vnis'])))")" \
            = "$want" ] || return 1
    done
}

check "every host's flood lists name the other VTEPs (type-3 routes)" \
    wait_for 30 flood_lists_converged
announce_all
check "every host lists every remote MAC against its VTEP (type-2 routes)" \
    wait_for 30 views_converged
for i in $HOSTS; do
    check_eq "h$i's remote MACs" "$(expected_view "$i")" "$(remote_view "h$i")"
done

# All pairs ping.  On h1's underlay, every inner unicast frame goes to one
# VTEP only: nothing is flooded but broadcasts (ARP requests).
start_capture ul h1 eth0 "$WORK/underlay.pcap" udp port 4789 \
    || fail "tcpdump on h1's underlay"
ping_all_pairs "$HOSTS"
stop_capture ul
tshark -r "$WORK/underlay.pcap" -Y vxlan -T fields -e frame.number \
    -e ip.src -e ip.dst -e eth.dst -e ip.id 2>/dev/null >"$WORK/ul.txt"
check_eq "no unicast frame was flooded by h1 (one copy each)" "" \
    "$(awk -F'\t' -v me="$(vtep 1)" '
        { split($2, s, ","); split($3, d, ","); split($4, e, ",");
          inner = e[2]; if (s[1] != me) next
          if (inner ~ /^ff:ff:ff:ff:ff:ff$/) next
          key = inner "/" $5; n[key]++ }
        END { for (k in n) if (n[k] > 1) print k }' "$WORK/ul.txt")"
check "h1 sent broadcasts only as ARP requests" test "$(tshark \
    -r "$WORK/underlay.pcap" -Y "vxlan && eth.dst == ff:ff:ff:ff:ff:ff \
                                 && !arp" 2>/dev/null | wc -l)" = 0
for i in $HOSTS; do
    check_eq "h$i learned nothing from the underlay" 0 \
        "$(vsctl "h$i" --format=json fdb-show \
            | json "sum(1 for e in j['entries']
                         if e['type'] == 'dynamic' and e['remote'])")"
done

# A VM moves: v51 leaves h1 for h2 (a new TAP port there, same MAC and
# address) and says so; v5N reaches it again within 2 s.
LAST=$N
vsctl h1 del-port t5 || fail "removing v51's port on h1"
vsctl h2 add-port t5m type=tap vni=5000 || fail "v51's new port on h2"
in_ns h2 ip link set t5m netns "$(ns v51)"
in_ns v51 ip link set t5m address "$(mac 5 1)" mtu 1450 up
in_ns v51 ip addr add "$(ip_of 5 1)/24" dev t5m
start=$(date +%s%N)
announce v51 t5m "$(mac 5 1)" "$(ip_of 5 1)"
until in_ns "v5$LAST" ping -c 1 -W 0.2 "$(ip_of 5 1)" >/dev/null 2>&1; do
    [ $(( ($(date +%s%N) - start) / 1000000 )) -gt 10000 ] && break
done
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
echo "moved VM reachable after $elapsed ms"
check "the moved VM is reachable from h$LAST within 2 s ($elapsed ms)" \
    test "$elapsed" -le 2000
moved_view_ok() {
    local i want
    for i in $HOSTS; do
        [ "$i" = 2 ] && continue
        want="5000 $(mac 5 1) $(vtep 2)"
        remote_view "h$i" | grep -qx "$want" || return 1
    done
}
check "every other host lists v51 at h2" wait_for 10 moved_view_ok

# A port removed is withdrawn everywhere.
vsctl "h$LAST" del-port t6 || fail "removing v6$LAST's port"
gone_everywhere() {
    local i
    for i in $HOSTS; do
        remote_view "h$i" | grep -q "$(mac 6 "$LAST")" && return 1
    done
    return 0
}
check "v6$LAST's MAC is withdrawn from every host" wait_for 10 gone_everywhere

# The state now: v51 on h2, v6N gone.
now_view() {
    local i v want
    for i in $HOSTS; do
        want=$(for j in $HOSTS; do
                   [ "$j" = "$i" ] && continue
                   [ "$j" != 1 ] && echo "5000 $(mac 5 "$j") $(vtep "$j")"
                   [ "$j" != "$LAST" ] && echo "6000 $(mac 6 "$j") $(vtep "$j")"
               done
               [ "$i" != 2 ] && echo "5000 $(mac 5 1) $(vtep 2)"
               true)
        [ "$(remote_view "h$i")" = "$(echo "$want" | grep . | sort)" ] \
            || { echo "h$i: $(remote_view "h$i")" >"$WORK/why"; return 1; }
    done
}
check "the tables agree with the routes" wait_for 10 now_view

# Restarts.  gobgpd of h2 (kill -9): the others lose h2's routes, then get
# them again; h2 gets everything again.
kill_wait "${GOBGPD[h2]}"
start_gobgpd h2 || fail "restarting gobgpd on h2"
check "after gobgpd's restart on h2, the tables converge back" \
    wait_for 30 now_view

# The agent of h3 (killed): a port removed meanwhile is withdrawn when it
# comes back, and nothing else changes.
kill_wait "${AGENTS[h3]}"
vsctl h3 del-port t5 || fail "removing v53's port while the agent is down"
start_agent h3
gone53() {
    local i
    for i in $HOSTS; do
        remote_view "h$i" | grep -q "$(mac 5 3)" && return 1
    done
    return 0
}
check "after the agent's restart on h3, what went meanwhile is withdrawn" \
    wait_for 30 gone53

# vswitchd of h2 (kill -9) and started again: its EVPN state comes back
# from the routes.  Its VMs' TAP devices went with it, so their MACs are
# withdrawn from every other host, and nothing stale stays.
before=$(remote_view h2)
kill_wait "$(cat "$WORK/h2.pid")"
start_vswitchd h2 || fail "restarting vswitchd on h2"
h2_back() { [ "$(remote_view h2)" = "$before" ]; }
check "after vswitchd's restart on h2, its EVPN MACs come back" \
    wait_for 30 h2_back
h2_gone() {
    local i
    for i in $HOSTS; do
        [ "$i" = 2 ] && continue
        remote_view "h$i" | grep -q " $(vtep 2)$" && return 1
    done
    return 0
}
check "and h2's VMs, gone with it, are withdrawn everywhere" \
    wait_for 30 h2_gone

for i in $HOSTS; do cat "$WORK/h$i-agent.log"; done | sort | uniq -c \
    | sort -rn | head -20
for i in $HOSTS; do kill "${AGENTS[h$i]}" 2>/dev/null; stop_vswitchd "h$i"; done
finish
