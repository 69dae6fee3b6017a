#!/bin/bash
# vswitch-ctl batch (vswitch-ctl(8), Batches): many VNIs, ports and static
# MACs in one request that survives a restart; a batch with a bad line,
# from the tool or from the daemon, or from a user who may not change
# anything, changes nothing at all (show, list-vnis, fdb-show and the
# bytes of the configuration file) and names the line; a file too large
# for a request is refused; standard input; an idempotent replay with
# --may-exist; a stop (SIGTERM) while a batch is saved is clean and
# keeps all of it; one save (the fsyncs of a single change) for the
# batch.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

N=200
make_ns h1
check "vswitchd starts" start_vswitchd h1 || finish

# gen_batch BASE PREFIX: N VNIs from BASE + 1, each with a TAP port
# PREFIXi bound to it and a static MAC on the port.
gen_batch() {
    local base=$1 prefix=$2 i
    echo "# $N VMs"
    for i in $(seq $N); do
        printf 'add-vni %d group=239.1.%d.%d\n' $((base + i)) $((i / 250)) \
            $((i % 250 + 1))
        printf 'add-port %s%d type=tap vni=%d   # VM %d\n' "$prefix" "$i" \
            $((base + i)) "$i"
        printf 'fdb-add %d 02:00:00:00:%02x:%02x %s%d\n\n' $((base + i)) \
            $((i / 256)) $((i % 256)) "$prefix" "$i"
    done
}
gen_batch 5000 vm >"$WORK/vms.batch"

check "a batch of $N VNIs, ports and static MACs applies" \
    vsctl h1 batch "$WORK/vms.batch"
state() {
    vsctl h1 --format=json list-vnis | json "' '.join(
        '%d:%s:%d' % (v['vni'], ','.join(v['ports']), v['static_macs'])
        for v in j['vnis'])" | md5sum
}
check_eq "list-vnis has the $N VNIs" $N \
    "$(vsctl h1 --format=json list-vnis | json "len(j['vnis'])")"
check_eq "every VNI has its port and static MAC" $N \
    "$(vsctl h1 --format=json list-vnis | json "len([v for v in j['vnis']
        if v['ports'] == ['vm%d' % (v['vni'] - 5000)]
        and v['static_macs'] == 1])")"
check_eq "every port is up" $N \
    "$(vsctl h1 --format=json list-ports | json "len([p for p in j['ports']
        if p['state'] == 'up'])")"
grep -q "batch of $((3 * N)) commands: $N add-port, $N add-vni, $N fdb-add" \
    "$WORK/h1.log" && pass "one log line sums the batch up" \
    || fail "no summary in the log: $(grep batch "$WORK/h1.log" | tail -1)"

before_state=$(state)
kill -9 "$(cat "$WORK/h1.pid")"
wait_for 10 bash -c "! kill -0 $(cat "$WORK/h1.pid") 2>/dev/null"
check "vswitchd restarts" start_vswitchd h1
check_eq "the batch survives a restart" "$before_state" "$(state)"

# What a refused batch must leave exactly as it was (counters and learned
# MACs aside: the kernel's IPv6 chatter on the TAP devices moves them).
snapshot() {
    {
        vsctl h1 --format=json show | json "[(p['name'], p['config'],
            p['state']) for p in j['ports']], [v['config'] for v in j['vnis']]"
        vsctl h1 --format=json list-vnis | json "[(v['config'], v['ports'],
            v['static_macs']) for v in j['vnis']]"
        vsctl h1 --format=json fdb-show | json "[e for e in j['entries']
            if e['type'] == 'static']"
        md5sum <"$WORK/h1.db"
        in_ns h1 ip -o link show | awk '{ print $2 }' | sort
    } | md5sum
}
before=$(snapshot)

# A line the daemon refuses, in the middle: the lines before it add a VNI,
# a port, a static MAC, and remove others.
cat >"$WORK/bad.batch" <<'BATCH'
add-vni 9001
add-port new1 type=tap vni=9001
fdb-add 9001 02:00:00:00:90:01 new1
del-port vm1
del-vni 5002
set-vni 5003 ageing=60
add-port vm7 type=tap vni=5007
add-vni 9002
BATCH
check_exit "a batch with a line the daemon refuses fails" 1 \
    vsctl h1 batch "$WORK/bad.batch"
check_eq "the error names the line" \
    "vswitch-ctl: line 7: port vm7 exists" "$(cat "$WORK/err")"
check_eq "and nothing changed (show, list-vnis, fdb-show, conf.db, links)" \
    "$before" "$(snapshot)"
in_ns h1 ip link show new1 >/dev/null 2>&1 \
    && fail "the port of the refused batch was opened" \
    || pass "the port of the refused batch was never opened"

# A learned MAC that is not there, as fdb-del alone would say.
printf 'add-vni 9001\nfdb-del 5001 02:00:00:00:ff:ff\n' >"$WORK/del.batch"
check_exit "fdb-del of a MAC that is neither static nor learned fails" 1 \
    vsctl h1 batch "$WORK/del.batch"
check_eq "naming its line" "vswitch-ctl: line 2: no entry for \
02:00:00:00:ff:ff in VNI 5001, static or learned" "$(cat "$WORK/err")"

# A line the tool refuses: nothing is sent.
printf 'add-vni 9001\n\n# comment\nadd-vni 0\n' >"$WORK/typo.batch"
check_exit "a batch with a bad argument is refused before it is sent" 2 \
    vsctl h1 batch "$WORK/typo.batch"
check_eq "naming its line" \
    "vswitch-ctl: batch: line 4: add-vni: '0' is not a VNI (1-16777215)" \
    "$(cat "$WORK/err")"
printf 'add-vni 9001\nlist-vnis\n' >"$WORK/read.batch"
check_exit "a read-only command in a batch is refused" 2 \
    vsctl h1 batch "$WORK/read.batch"
check_eq "clearly" "vswitch-ctl: batch: line 2: list-vnis cannot be in a batch: \
it only reads" "$(cat "$WORK/err")"
check_eq "nothing changed after the refused batches" "$before" "$(snapshot)"

# A user who may only read.
chmod 666 "$WORK/h1.sock"
PUBLIC_CTL=$(public_ctl)
cp "$WORK/bad.batch" "$WORK/nobody.batch" && chmod 644 "$WORK/nobody.batch"
sed -i '/vm7/d' "$WORK/nobody.batch"
check_exit "nobody may not apply a batch" 1 \
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
    timeout 15 "$PUBLIC_CTL" --socket "$WORK/h1.sock" batch \
    "$WORK/nobody.batch"
grep -q "permission\|not allowed\|denied" "$WORK/err" \
    && pass "nobody is told why" || fail "nobody: $(cat "$WORK/err")"
check_eq "nothing changed after nobody's batch" "$before" "$(snapshot)"

# A file larger than a request: refused before it is read whole.
python3 -c '
import sys
line = b"add-vni 7777 group=239.1.1.1 ageing=300\n"
sys.stdout.buffer.write(line * (17 * 2**20 // len(line)))' >"$WORK/huge.batch"
check_exit "a batch file beyond the request size is refused" 2 \
    vsctl h1 batch "$WORK/huge.batch"
grep -q "larger than 16 MiB" "$WORK/err" && pass "saying so" \
    || fail "huge: $(cat "$WORK/err")"

# Standard input, and the "--" form.
check "a batch from standard input" bash -c \
    "printf 'add-vni 9101\nadd-port new2 type=tap vni=9101\n' \
    | timeout 20 '$CTL_BIN' --socket '$WORK/h1.sock' batch -"
check_eq "is in effect" "new2" "$(vsctl h1 --format=json list-vnis \
    | json "','.join(v['ports'][0] for v in j['vnis'] if v['vni'] == 9101)")"
check "commands separated by -- are one batch" \
    vsctl h1 add-vni 9102 -- add-port new3 type=tap vni=9102
check_exit "and are refused together" 1 \
    vsctl h1 add-vni 9103 -- add-port new3 type=tap vni=9103
check_eq "naming the command" "vswitch-ctl: command 2: port new3 exists" \
    "$(cat "$WORK/err")"
check_exit "so that the first command did nothing" 1 vsctl h1 del-vni 9103

# Replayed with --may-exist: nothing to do, nothing written.
db_before=$(md5sum <"$WORK/h1.db")
check_exit "the batch again without --may-exist fails" 1 \
    vsctl h1 batch "$WORK/vms.batch"
check "the batch again with --may-exist succeeds" \
    vsctl h1 --may-exist batch "$WORK/vms.batch"
sed 's/^add/--may-exist add/' "$WORK/vms.batch" >"$WORK/vms-again.batch"
check "the batch again with --may-exist on each line succeeds" \
    vsctl h1 batch "$WORK/vms-again.batch"
check_eq "and the configuration file is as it was" "$db_before" \
    "$(md5sum <"$WORK/h1.db")"

# Stopped (SIGTERM) while a worker saves a batch of many ports: the
# daemon stops cleanly (it used a freed loop watch and started its
# slices on a handle being closed) and, restarted, holds all of the
# batch.  strace holds each fsync of the save for a second, so that the
# signal comes while the worker has the batch.
if ! command -v strace >/dev/null; then
    echo "SKIP: strace is not installed: no stop while a batch is saved"
else
    pid=$(cat "$WORK/h1.pid")
    from=$(($(wc -l <"$WORK/h1.log") + 1))
    strace -f -qq -e trace=fsync,fdatasync \
        -e inject=fsync,fdatasync:delay_exit=1000000 \
        -o "$WORK/stop.strace" -p "$pid" &
    strace_pid=$!
    wait_for 10 bash -c "grep -q TracerPid:.*[1-9] /proc/$pid/status"
    sleep 0.5
    gen_batch 12000 st >"$WORK/stop.batch"
    timeout 60 "$CTL_BIN" --socket "$WORK/h1.sock" --timeout 50 \
        batch "$WORK/stop.batch" >/dev/null 2>&1 &
    ctl_pid=$!
    wait_for 20 grep -q sync "$WORK/stop.strace" \
        || fail "the batch was not saved"
    kill -TERM "$pid"
    wait_for 20 bash -c "! kill -0 $pid" || kill -9 "$pid"
    stop_child "$strace_pid" 5
    wait "$ctl_pid"
    tail -n "+$from" "$WORK/h1.log" >"$WORK/stop.log"
    grep -q 'vswitchd|stopped' "$WORK/stop.log" \
        && pass "stopped while a batch was saved: a clean stop" \
        || fail "stopped while a batch was saved: no clean stop" \
                "($(tail -1 "$WORK/stop.log"))"
    check "vswitchd restarts" start_vswitchd h1
    check_eq "the batch saved as the daemon stopped is there whole" "$N" \
        "$(vsctl h1 --format=json list-ports | json "len([p for p in
            j['ports'] if p['name'].startswith('st')])")"
fi

# One save: as many fsyncs as a single change.
if ! command -v strace >/dev/null; then
    echo "SKIP: strace is not installed: the fsyncs of a batch are not counted"
else
    fsyncs() {
        local pid
        pid=$(cat "$WORK/h1.pid")
        strace -f -qq -e trace=fsync,fdatasync -o "$WORK/strace.out" \
            -p "$pid" &
        local strace_pid=$!
        # strace says nothing once attached: wait for its threads.
        wait_for 10 bash -c "grep -q TracerPid:.*[1-9] /proc/$pid/status"
        sleep 0.5
        "$@" >/dev/null 2>&1
        stop_child $strace_pid 5
        grep -c 'fsync' "$WORK/strace.out"
    }
    one=$(fsyncs vsctl h1 add-vni 9201)
    gen_batch 7000 vn >"$WORK/more.batch"
    many=$(fsyncs vsctl h1 batch "$WORK/more.batch")
    [ "$one" -ge 1 ] && pass "a single change syncs ($one fsyncs)" \
        || fail "a single change made $one fsyncs"
    check_eq "a batch of $((3 * N)) changes syncs as one change does" \
        "$one" "$many"
fi

finish
