#!/bin/bash
# Installs what is needed, builds vswitch from scratch in a build directory
# of its own, and runs the whole test suite (unit and system tests).  Ends
# with the line "N passed, N failed", with ", N skipped" if a test could
# not run here.
#
#   tests/run-all.sh [--sanitizers]
#
# --sanitizers builds with AddressSanitizer and UndefinedBehaviorSanitizer.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in
    "") variant=plain; configure_args=() ;;
    --sanitizers) variant=sanitizers; configure_args=(--enable-sanitizers) ;;
    *) echo "usage: $0 [--sanitizers]" >&2; exit 2 ;;
esac

bash "$top/tests/build.sh" "$variant" "${configure_args[@]}"
cd "$top/build-$variant"
# A failing test must not stop the summary from being printed.
make -j"$(nproc)" -s check || true
bash "$top/tests/summary.sh" "$top/build-$variant"
