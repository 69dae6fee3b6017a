#!/bin/bash
# Prints "N passed, N failed" for a build directory's last "make check",
# with ", N skipped" when a test could not run here (exit status 77 after
# a "SKIP: why" line; a skip never counts as a pass),
# counting every test: each Check test case of the unit suites, and each
# check of the shell tests (lines "PASS: ..." and "FAIL: ..." in their
# logs).  A test program that ended without reporting its checks counts as
# one failure, so a run that executed nothing cannot look green.  Exits
# non-zero if anything failed or nothing ran.
set -eu

build=${1:?usage: summary.sh BUILD_DIR}
passed=0
failed=0
skipped=0

while IFS= read -r trs; do
    [ -e "$trs" ] || continue
    log=${trs%.trs}.log
    result=$(sed -n 's/^:test-result: //p' "$trs")
    checks=$(sed -n 's/^[0-9]*%: Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\)$/\1 \2 \3/p' "$log")
    if [ -n "$checks" ]; then
        read -r n f e <<<"$checks"
        p=$((n - f - e))
        f=$((f + e))
    else
        p=$(grep -c '^PASS: ' "$log" || true)
        f=$(grep -c '^FAIL: ' "$log" || true)
    fi
    # A program that failed without saying which check failed (a crash, a
    # timeout, nothing run) counts as one failure more.
    if [ "$result" = SKIP ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        echo "skipped: $(sed -n 's/^SKIP: //p' "$log" | head -n 1)"
        skipped=$((skipped + 1))
        continue
    elif [ "$result" != PASS ] && [ "$result" != SKIP ]; then
        echo "failed: $(basename "${trs%.trs}") ($result)"
        # Which checks: a CI log is often all there is to go on.
        grep -E '^(FAIL: |[^ ]+:[0-9]+:[EF]:)' "$log" | head -n 20 \
            | sed 's/^/    /'
        [ "$f" -eq 0 ] && f=1
    elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done < <(find "$build/tests" -name "*.trs" | sort)

if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
