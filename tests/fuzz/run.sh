#!/bin/bash
# Builds the fuzz targets with clang and libFuzzer in build-fuzz/ and runs
# each for the given number of seconds (default 60), one per core at a
# time, from its seed corpus, tests/fuzz/corpus/NAME/ for
# tests/fuzz/fuzz-NAME.c.  A target fails on
# any crash, leak, timeout or sanitizer report.
set -eu

seconds=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
bash "$top/tests/build.sh" fuzz CC=clang --enable-fuzzing
build="$top/build-fuzz"
cd "$build"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fuzz NAME: runs fuzz-NAME; its verdict goes to $work/NAME.ok or .failed.
fuzz() {
    local name=$1
    # The run adds what it finds to a copy, so the seeds stay as they are.
    mkdir "$work/$name"
    cp "$top/tests/fuzz/corpus/$name"/* "$work/$name"/
    if "./tests/fuzz/fuzz-$name" -max_total_time="$seconds" -timeout=10 \
           -rss_limit_mb=2048 -artifact_prefix="$build/tests/fuzz/" \
           -print_final_stats=1 "$work/$name" >"$work/$name.log" 2>&1; then
        touch "$work/$name.ok"
    else
        touch "$work/$name.failed"
    fi
}

# One target per core at a time: each is single-threaded.
targets="decap offload request config flow-store pcap classifier flows
         flow-text"
cores=$(nproc)
for name in $targets; do
    while [ "$(jobs -rp | wc -l)" -ge "$cores" ]; do
        wait -n || true
    done
    fuzz "$name" &
done
wait

passed=0
failed=0
for name in $targets; do
    if [ -e "$work/$name.ok" ]; then
        echo "PASS: fuzz-$name ran ${seconds}s without a crash"
        passed=$((passed + 1))
    else
        tail -n 40 "$work/$name.log"
        echo "FAIL: fuzz-$name (artifacts in $build/tests/fuzz/)"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
