#!/bin/bash
# Builds the fuzz targets with clang and libFuzzer in build-fuzz/ and runs
# each for the given number of seconds (default 60) from the seed corpus.
# Fails on any crash, leak or sanitizer report.
set -eu

seconds=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
bash "$top/tests/build.sh" fuzz CC=clang --enable-fuzzing
build="$top/build-fuzz"
cd "$build"

passed=0
failed=0
for target in fuzz-decap; do
    corpus=$(mktemp -d)
    trap 'rm -rf "$corpus"' EXIT
    cp "$top"/tests/fuzz/corpus/* "$corpus"/
    if "./tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 \
           -rss_limit_mb=2048 -artifact_prefix="$build/tests/fuzz/" \
           -print_final_stats=1 "$corpus"; then
        echo "PASS: $target ran ${seconds}s without a crash"
        passed=$((passed + 1))
    else
        echo "FAIL: $target (artifacts in $build/tests/fuzz/)"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
