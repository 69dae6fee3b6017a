#!/bin/bash
# Installs what is needed and builds vswitch from scratch in build-NAME/,
# configured with the given arguments.  Used by run-all.sh, the fuzz
# runner and the demo, so that every variant is built the same way.
#
#   tests/build.sh NAME [CONFIGURE-ARGUMENT...]
set -eu

name=${1:?usage: build.sh NAME [CONFIGURE-ARGUMENT...]}
shift
top=$(cd "$(dirname "$0")/.." && pwd)

if [ -e "$top/config.status" ]; then
    echo "$0: the source tree is configured in place; run 'make distclean'" \
         "there first (builds go to build-*/)" >&2
    exit 2
fi
bash "$top/tests/deps.sh"
cd "$top"
[ -x configure ] || autoreconf -fi
rm -rf "build-$name"
mkdir "build-$name"
cd "build-$name"
# The paths a distribution uses (also the daemon's defaults: /run/vswitch,
# /var/lib/vswitch), not /usr/local/var, so that a build tree and an
# installed package agree; later arguments may override them.
"$top/configure" -q --localstatedir=/var --runstatedir=/run "$@"
make -j"$(nproc)" -s
