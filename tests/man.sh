#!/bin/bash
# Checks that the manual pages cover what the programs offer: every command
# of "vswitch-ctl --list-commands" has a ".B NAME" entry under COMMANDS of
# vswitch-ctl.8 (and every entry there is a command); every long option of
# "vswitchd --help", "vswitch-ctl --help" and "vswitch-evpn --help"
# appears under OPTIONS of its
# page; every port type and option of "vswitch-ctl --help" under PORT TYPES;
# every drop reason of datapath/dp.c under DROP REASONS of vswitchd.8; and
# the pages format without warnings (groff, and mandoc if installed).
# Prints a PASS: or FAIL: line per check and exits non-zero on any failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
builddir=${top_builddir:-$(cd "$here/.." && pwd)}
ctl_page=$srcdir/man/vswitch-ctl.8
daemon_page=$srcdir/man/vswitchd.8
agent_page=$srcdir/man/vswitch-evpn.8
agent=$builddir/evpn/vswitch-evpn
ctl=$builddir/ctl/vswitch-ctl
daemon=$builddir/switchd/vswitchd
status=0

pass() {
    echo "PASS: $*"
}

fail() {
    echo "FAIL: $*"
    status=1
}

# Prints page $1 with the escapes that may sit inside a name removed: "\-"
# becomes "-", and font changes, "\&" and "\%" go.
plain() {
    sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/\\%//g' "$1"
}

# Prints the lines of section $2 (as named by .SH) of page $1.
section() {
    plain "$1" | awk -v want="$2" '
        /^\.SH[ \t]/ {
            name = $0
            sub(/^\.SH[ \t]+/, "", name)
            gsub(/"/, "", name)
            inside = (name == want)
            next
        }
        inside'
}

# Prints the second word of the tag line of each .TP entry of the lines on
# standard input whose tag starts with ".B": the names an entry documents.
tags() {
    awk 'tp && $1 == ".B" { print $2 } { tp = ($1 == ".TP") }'
}

for page in "$ctl_page" "$daemon_page" "$agent_page"; do
    if [ ! -r "$page" ]; then
        fail "$page exists"
    fi
done

# vswitch-ctl's commands.
if [ -x "$ctl" ] && commands=$("$ctl" --list-commands) \
   && [ -n "$commands" ]; then
    documented=$(section "$ctl_page" COMMANDS | tags)
    for c in $commands; do
        if grep -qxF -e "$c" <<<"$documented"; then
            pass "vswitch-ctl.8 documents the command $c"
        else
            fail "vswitch-ctl.8 has no '.B $c' entry under COMMANDS"
        fi
    done
    for c in $documented; do
        if ! grep -qxF -e "$c" <<<"$commands"; then
            fail "vswitch-ctl.8 documents $c, which is no command"
        fi
    done
else
    fail "$ctl --list-commands prints the commands"
fi

# Long options of each program's --help, under OPTIONS of its page.
check_options() {
    local program=$1 page=$2 name=$3 help options text
    if [ ! -x "$program" ] || ! help=$("$program" --help); then
        fail "$program --help works"
        return
    fi
    options=$(grep -oE -e '--[a-z][a-z0-9-]*' <<<"$help" | sort -u)
    if [ -z "$options" ]; then
        fail "$program --help lists long options"
        return
    fi
    text=$(section "$page" OPTIONS)
    for o in $options; do
        if grep -qE -e "$o([^a-z0-9-]|\$)" <<<"$text"; then
            pass "$name.8 documents $o"
        else
            fail "$name.8 does not document $o under OPTIONS"
        fi
    done
}

check_options "$daemon" "$daemon_page" vswitchd
check_options "$ctl" "$ctl_page" vswitch-ctl
if command -v python3 >/dev/null; then
    check_options "$agent" "$agent_page" vswitch-evpn
fi

# Port types and their options, as "vswitch-ctl --help" lists them:
# "  type=TYPE: ..." then "      KEY=...: ..." for each option.
if [ -x "$ctl" ] && help=$("$ctl" --help); then
    text=$(section "$ctl_page" "PORT TYPES")
    types=$(sed -n 's/^  type=\([a-z0-9_]*\):.*/\1/p' <<<"$help")
    keys=$(sed -n '/^Port types/,$s/^      \([a-z0-9_]*\)=.*/\1/p' <<<"$help")
    if [ -z "$types" ]; then
        fail "vswitch-ctl --help lists the port types"
    fi
    for t in $types; do
        if tags <<<"$text" | grep -qxF -e "$t"; then
            pass "vswitch-ctl.8 documents the port type $t"
        else
            fail "vswitch-ctl.8 has no '.B $t' entry under PORT TYPES"
        fi
    done
    for k in $keys; do
        if grep -qE -e "^\.B[IR]? $k=" <<<"$text"; then
            pass "vswitch-ctl.8 documents the port option $k"
        else
            fail "vswitch-ctl.8 does not document the port option $k"
        fi
    done
fi

# Drop reasons, from the datapath's table of names.
reasons=$(sed -n 's/^ *\[DP_DROP_[A-Z0-9_]*\] *= *"\([a-z0-9_]*\)",.*/\1/p' \
              "$srcdir/datapath/dp.c")
if [ -n "$reasons" ]; then
    documented=$(section "$daemon_page" "DROP REASONS" | tags)
    for r in $reasons; do
        if grep -qxF -e "$r" <<<"$documented"; then
            pass "vswitchd.8 documents the drop reason $r"
        else
            fail "vswitchd.8 has no '.B $r' entry under DROP REASONS"
        fi
    done
else
    fail "the drop reasons of datapath/dp.c can be read"
fi

# Formatting.
for page in "$ctl_page" "$daemon_page" "$agent_page"; do
    name=$(basename "$page")
    if command -v groff >/dev/null; then
        if out=$(groff -man -ww -z "$page" 2>&1) && [ -z "$out" ]; then
            pass "groff formats $name without warnings"
        else
            fail "groff formats $name without warnings"
            echo "$out" | head -20
        fi
    else
        echo "groff is not installed: $name not formatted"
    fi
    if command -v mandoc >/dev/null; then
        if out=$(mandoc -Tlint -Wwarning "$page" 2>&1) && [ -z "$out" ]; then
            pass "mandoc -Tlint finds nothing in $name"
        else
            fail "mandoc -Tlint finds nothing in $name"
            echo "$out" | head -20
        fi
    fi
done

exit $status
