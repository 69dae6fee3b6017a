#!/bin/bash
# Bash completion of vswitch-ctl through bash's own machinery: a bash that
# loads the completion file as it is installed, then, for each line, sets
# COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT as readline would and
# calls the function that "complete -p vswitch-ctl" names; COMPREPLY is
# checked exactly (sorted: bash sorts it for display).  The live names
# come from a vswitchd started here with ports of every type and two VNIs,
# and from a second one named by --socket; without a daemon, or with one
# that never answers, completion offers nothing, quickly and silently.

# Ports create real devices (a TAP), so the whole test runs in a network
# namespace of its own, which takes them along when it ends.
if [ -z "${VSW_PRIVATE_NETNS:-}" ]; then
    exec unshare --net env VSW_PRIVATE_NETNS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
ip link set lo up

SCRIPT=$top_builddir/ctl/completion/vswitch-ctl
SOCK=$WORK/vswitchd.sock
OTHER_DIR="$WORK/other dir"
OTHER=$OTHER_DIR/vswitchd.sock
HUNG=$WORK/hung.sock
# The tool as an operator runs it: by its name, from $PATH.
export PATH=$top_builddir/ctl:$PATH
export VSWITCH_SOCKET=$SOCK

ctl() { timeout 15 "$CTL_BIN" --socket "$SOCK" --timeout 5 "$@"; }

start_daemon() { # SOCKET NAME
    timeout 15 "$VSWITCHD" --socket "$1" --db "$WORK/$2.db" \
        --pidfile="$WORK/$2.pid" --log-file="$WORK/$2.log" --detach
}
at_exit 'kill_vswitchd "$WORK/main.pid" "$WORK/other.pid"'

# The driver: loads the script, finds the function, fills the COMP_*
# variables from the line (readline splits words at the unquoted
# characters of COMP_WORDBREAKS too, so "type=vx" is three words) and
# prints COMPREPLY, sorted, on one line.  What the completion writes on
# standard error goes to $WORK/comp-err.
cat >"$WORK/drive.bash" <<'EOF'
source "$1" || exit 99
spec=$(complete -p vswitch-ctl) || exit 98
func=${spec#*-F }
func=${func%% *}
line=$2
words=() word="" quote=""
breaks=${COMP_WORDBREAKS//[\"\' $'\t\n']/}
for ((i = 0; i < ${#line}; i++)); do
    ch=${line:i:1}
    if [[ -n $quote ]]; then
        word+=$ch
        [[ $ch == "$quote" ]] && quote=""
    elif [[ $ch == [\"\'] ]]; then
        quote=$ch
        word+=$ch
    elif [[ $ch == [[:space:]] ]]; then
        [[ -n $word ]] && words+=("$word")
        word=""
    elif [[ $breaks == *"$ch"* ]]; then
        [[ -n $word && ${word//[$breaks]/} ]] && { words+=("$word"); word=""; }
        word+=$ch
    else
        [[ -n $word && -z ${word//[$breaks]/} ]] && { words+=("$word"); word=""; }
        word+=$ch
    fi
done
words+=("$word")
COMP_WORDS=("${words[@]}")
COMP_CWORD=$((${#words[@]} - 1))
COMP_LINE=$line
COMP_POINT=${#line}
COMP_TYPE=9
COMP_KEY=9
COMPREPLY=()
"$func" vswitch-ctl "${COMP_WORDS[COMP_CWORD]}" \
    "${COMP_WORDS[COMP_CWORD - 1]:-}"
printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | paste -sd ' '
EOF

# complete LINE: prints what completing LINE offers.
complete_line() {
    timeout 10 bash --norc --noprofile "$WORK/drive.bash" "$SCRIPT" "$1" \
        2>"$WORK/comp-err"
}

# check_completion DESCRIPTION LINE WANT: WANT is the sorted candidates,
# space-separated; nothing may appear on standard error.
check_completion() {
    local got
    got=$(complete_line "$2")
    if [ -s "$WORK/comp-err" ]; then
        fail "$1: wrote on stderr: $(head -c 300 "$WORK/comp-err")"
    else
        check_eq "$1" "$3" "$got"
    fi
}

sorted() { printf '%s\n' "$@" | LC_ALL=C sort | paste -sd ' '; }

# What --help says the port types and their keys are, for comparison.
help=$("$CTL_BIN" --help)
types=$(sed -n 's/^  type=\([a-z0-9_]*\):.*/\1/p' <<<"$help")
type_keys() { # TYPE: prints its keys with "=", one a line
    sed -n "/^  type=$1:/,/^  type=/s/^      \([a-z0-9_]*\)=.*/\1=/p" \
        <<<"$help"
}

check "the script loads and names a function" \
    bash --norc --noprofile -c "source '$SCRIPT' && complete -p vswitch-ctl"
grep -q -- '-F _vswitch_ctl vswitch-ctl' "$WORK/out" \
    && pass "complete -p vswitch-ctl names _vswitch_ctl" \
    || fail "complete -p vswitch-ctl: $(cat "$WORK/out")"

# With bash-completion installed, its loader finds the file by the
# command's name in an XDG data directory, as it does once installed.
if [ -r /usr/share/bash-completion/bash_completion ]; then
    mkdir -p "$WORK/share/bash-completion/completions"
    cp "$SCRIPT" "$WORK/share/bash-completion/completions/vswitch-ctl"
    got=$(XDG_DATA_DIRS=$WORK/share BASH_COMPLETION_USER_DIR=$WORK/none \
          bash --norc --noprofile -c '
              source /usr/share/bash-completion/bash_completion
              __load_completion vswitch-ctl && complete -p vswitch-ctl' \
          2>&1)
    check_eq "bash-completion loads the file by the command's name" \
        "complete -F _vswitch_ctl vswitch-ctl" "$got"
else
    echo "bash-completion is not installed: its loader is not tried"
fi

# The table: command names, global options and their values.
check_completion "add-p completes add-port alone" "vswitch-ctl add-p" add-port
check_completion "fdb- completes the five fdb commands" "vswitch-ctl fdb-" \
    "fdb-add fdb-del fdb-flush fdb-show fdb-stats"
check_completion "--format= offers the formats" "vswitch-ctl --format=" \
    "json table"
check_completion "--format then a space offers the formats" \
    "vswitch-ctl --format " "json table"
check_completion "--format=j completes json" "vswitch-ctl --format=j" json
want=$(sorted $(sed -n '/^Options/,/^$/p' <<<"$help" \
                | grep -oE -e '--[a-z][a-z0-9-]*' | sort -u))
check_completion "-- offers every long option of --help" "vswitch-ctl --" \
    "$want"
check_completion "options before the command are skipped" \
    "vswitch-ctl --timeout 3 --format json add-p" add-port
check_completion "a command's own options" "vswitch-ctl trace --" \
    "--frame --pcap"
check_completion "an unknown command offers nothing" "vswitch-ctl bogus " ""

# Port types and their options, from the datapath's registry.
check_completion "add-port x type= offers the port types" \
    "vswitch-ctl add-port x type=" "$(sorted $types)"
check_completion "add-port NAME offers nothing (a new name)" \
    "vswitch-ctl add-port " ""
check_completion "add-port x offers type= and vni=" \
    "vswitch-ctl add-port x " "type= vni="
for t in $types; do
    check_completion "add-port x type=$t offers vni= and ${t}'s keys" \
        "vswitch-ctl add-port x type=$t " "$(sorted vni= $(type_keys "$t"))"
done
check_completion "keys given are not offered again" \
    "vswitch-ctl add-port x type=vxlan local_ip=10.0.0.1 vni=5 ttl=" ""
check_completion "a boolean option's values" \
    "vswitch-ctl add-port x type=vxlan df=" "false true"
check_completion "an interface name (dev=IFNAME) offers the interfaces" \
    "vswitch-ctl add-port x type=vxlan dev=" lo
check_completion "add-vni's keys" "vswitch-ctl add-vni 7 " \
    "ageing= control= flood= group= learn-prefix= learn= mac-limit="
check_completion "an enumerated value (learn=)" "vswitch-ctl add-vni 7 learn=" \
    "any list"

# File names where the usage says FILE.
touch "$WORK/flows-a.txt" "$WORK/flows-b.txt"
check_completion "add-flows FILE completes file names" \
    "vswitch-ctl add-flows $WORK/flows-" \
    "$WORK/flows-a.txt $WORK/flows-b.txt"
check_completion "trace --pcap FILE completes file names" \
    "vswitch-ctl trace --pcap $WORK/flows-a" "$WORK/flows-a.txt"

# check_quiet DESCRIPTION MILLISECONDS LINE: completing LINE offers
# nothing, says nothing, and takes less than MILLISECONDS.
check_quiet() {
    local start elapsed
    start=$(date +%s%N)
    check_completion "$1: nothing" "$3" ""
    elapsed=$((($(date +%s%N) - start) / 1000000))
    [ "$elapsed" -lt "$2" ] \
        && pass "$1: answered in $elapsed ms (< $2)" \
        || fail "$1: took $elapsed ms (not < $2)"
}

# No daemon: nothing, quickly and silently.
check_quiet "del-port without a daemon" 2000 "vswitch-ctl del-port "

# A daemon that takes the connection and never answers costs a second.
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(16)
time.sleep(120)' "$HUNG" &
hung_pid=$!
at_exit "kill_child $hung_pid"
wait_for 5 test -S "$HUNG"
check_quiet "del-vni with a daemon that never answers" 2500 \
    "vswitch-ctl --socket $HUNG del-vni "

# The live names.
check "vswitchd starts" start_daemon "$SOCK" main
check "add-vni 5000" ctl add-vni 5000 group=239.1.1.1
check "add-vni 6000" ctl add-vni 6000 flood=172.31.0.2
check "add-port vxlan" ctl add-port vtep0 type=vxlan local_ip=172.31.0.1
check "add-port tap" ctl add-port tap0 type=tap vni=5000
check "add-port tap" ctl add-port tap1 type=tap
check "add-port system" ctl add-port eth9 type=system
check "add-port pcap" ctl add-port cap0 type=pcap rx="$WORK/in.pcap" \
    tx="$WORK/out.pcap"
ports="cap0 eth9 tap0 tap1 vtep0"

check_completion "del-port offers the daemon's ports" \
    "vswitch-ctl del-port " "$ports"
check_completion "del-port ta offers the TAP ports" \
    "vswitch-ctl del-port ta" "tap0 tap1"
check_completion "del-vni offers the daemon's VNIs" \
    "vswitch-ctl del-vni " "5000 6000"
check_completion "bind-vni PORT VNI: ports, then VNIs" \
    "vswitch-ctl bind-vni tap1 " "5000 6000"
check_completion "stats [PORT]" "vswitch-ctl stats c" cap0
check_completion "add-port vni= offers the VNIs" \
    "vswitch-ctl add-port x type=tap vni=" "5000 6000"
check_completion "fdb-add VNI MAC: ports or remote=" \
    "vswitch-ctl fdb-add 5000 02:00:00:00:00:01 " "$(sorted $ports remote=)"
check_completion "trace in_port= offers the ports" \
    "vswitch-ctl trace in_port=t" "tap0 tap1"
check_completion "set-port of a TAP port: the TAP type's keys" \
    "vswitch-ctl set-port tap1 " "$(sorted $(type_keys tap))"
check_completion "set-port of the VXLAN port: the VXLAN type's keys" \
    "vswitch-ctl set-port vtep0 " "$(sorted $(type_keys vxlan))"
check_completion "set-port of a missing port: nothing" \
    "vswitch-ctl set-port nosuch " ""

# --socket on the line names the daemon to ask, even a path with a space.
mkdir -p "$OTHER_DIR"
check "a second vswitchd starts" start_daemon "$OTHER" other
check "add-port on the second daemon" \
    timeout 15 "$CTL_BIN" --socket "$OTHER" add-port other0 type=tap
check "add-vni on the second daemon" \
    timeout 15 "$CTL_BIN" --socket "$OTHER" add-vni 77
check_completion "--socket OTHER del-port asks that daemon" \
    "vswitch-ctl --socket '$OTHER' del-port " other0
check_completion "--socket=OTHER del-vni asks that daemon" \
    "vswitch-ctl --socket=\"$OTHER\" del-vni " 77
check_completion "--socket with backslashes asks that daemon" \
    "vswitch-ctl --socket ${OTHER// /\\ } del-port " other0
check_completion "--socket to no daemon: nothing" \
    "vswitch-ctl --socket $WORK/none.sock del-port " ""
mkdir "$WORK/socks" && touch "$WORK/socks/a.sock"
check_completion "--socket PATH completes file names" \
    "vswitch-ctl --socket $WORK/socks/a" "$WORK/socks/a.sock"

# What readline itself makes of the line after one TAB, in an interactive
# bash on a pseudo-terminal: the part of the word replaced, the space
# after a candidate or not, the quote closed.
touch "$WORK/flows-a.txt"
python3 "$top_srcdir/tests/system/readline.py" "$SCRIPT" \
    "vswitch-ctl del-port vt" "vswitch-ctl del-port vtep0 " \
    'vswitch-ctl del-port "vt' 'vswitch-ctl del-port "vtep0" ' \
    "vswitch-ctl d'el-p'o" "vswitch-ctl del-port " \
    "vswitch-ctl del-vni 50" "vswitch-ctl del-vni 5000 " \
    "vswitch-ctl add-port x ty" "vswitch-ctl add-port x type=" \
    "vswitch-ctl add-port x type=vx" "vswitch-ctl add-port x type=vxlan " \
    "vswitch-ctl --format=js" "vswitch-ctl --format=json " \
    "vswitch-ctl fdb-add 5000 02:00:00:00:00:01 rem" \
    "vswitch-ctl fdb-add 5000 02:00:00:00:00:01 remote=" \
    "vswitch-ctl add-flows $WORK/flows-a" \
    "vswitch-ctl add-flows $WORK/flows-a.txt " \
    "vswitch-ctl --socket '$OTHER' del-port o" \
    "vswitch-ctl --socket '$OTHER' del-port other0 " >"$WORK/readline.out"
status=$?
cat "$WORK/readline.out"
N_FAILED=$((N_FAILED + $(grep -c '^FAIL' "$WORK/readline.out")))
[ "$status" = 0 ] || [ "$status" = 77 ] || grep -q '^FAIL' "$WORK/readline.out" \
    || fail "tests/system/readline.py ran (exit $status)"

# Odd characters do not break it.
check_completion "an open double quote" 'vswitch-ctl del-port "ta' \
    "tap0 tap1"
check_completion "an open single quote" "vswitch-ctl del-port 'cap" cap0
check_completion "a glob character offers nothing" 'vswitch-ctl del-port t*' ""
check_completion "a dollar sign and a backquote" \
    'vswitch-ctl del-port $HOME`x' ""
check_completion "a quoted flow with spaces before the word" \
    "vswitch-ctl --format 'j s' dump-flows --st" "--strict"
check_completion "UTF-8 and a backslash in an earlier word" \
    'vswitch-ctl add-port pört\\x type=' "$(sorted $types)"
check_completion "a word with a colon" "vswitch-ctl fdb-del 5000 02:00:" ""
check_completion "a word that is only '='" "vswitch-ctl add-port x = " \
    "type= vni="

# Every command of the table completes, and completing its arguments
# writes nothing on stderr: a new command needs no change here or in the
# completion code.
for c in $("$CTL_BIN" --list-commands); do
    got=$(complete_line "vswitch-ctl $c")
    if [ -s "$WORK/comp-err" ] || ! grep -qw -e "$c" <<<"$got"; then
        fail "the command $c completes (got '$got')"
    else
        pass "the command $c completes"
    fi
    complete_line "vswitch-ctl $c " >/dev/null
    [ -s "$WORK/comp-err" ] \
        && fail "completing the arguments of $c writes on stderr" \
        || pass "completing the arguments of $c is silent"
done

finish
