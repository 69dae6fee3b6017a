#!/bin/bash
# The rules of STYLE.md that a machine can check, over every C file:
# 80 columns, no tabs, no // comments, no "#if 0", and header guards named
# after the file (datapath/mac-table.h -> DATAPATH_MAC_TABLE_H).  Prints a
# PASS: or FAIL: line per rule and exits non-zero on any failure.
set -u

top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 1
mapfile -t files < <(find datapath switchd ctl tests bench \
                          -name '*.[ch]' ! -name '*.pb-c.*' 2>/dev/null \
                     | sort)
status=0

check() {
    local rule=$1 found=$2
    if [ -n "$found" ]; then
        echo "FAIL: $rule"
        echo "$found" | head -20
        status=1
    else
        echo "PASS: $rule"
    fi
}

check "lines of at most 80 columns" \
    "$(awk 'length($0) > 80 { print FILENAME ":" FNR }' "${files[@]}")"
check "no tabs" "$(grep -n "$(printf '\t')" "${files[@]}")"
check "no // comments" \
    "$(grep -nE '(^|[^:"])//' "${files[@]}" | grep -v '"[^"]*//[^"]*"')"
check "no #if 0" "$(grep -nE '^#\s*if\s+0' "${files[@]}")"

guards=""
for f in "${files[@]}"; do
    case $f in *.h) ;; *) continue ;; esac
    want=$(echo "$f" | tr 'a-z/.-' 'A-Z___')
    grep -q "^#ifndef $want\$" "$f" && grep -q "^#define $want 1\$" "$f" \
        || guards+="$f: guard should be $want"$'\n'
done
check "header guards match file names" "$guards"

check "files listed" "$([ ${#files[@]} -gt 0 ] || echo 'no C files found')"
exit $status
