# Sourced by the benchmark scripts, with their arguments: "--build DIR"
# names the build directory (default: the source tree); then the system
# tests' helpers (tests/system/lib.sh, netns.sh) are loaded.

if [ $# = 2 ] && [ "$1" = --build ]; then
    top_builddir=$(cd "$2" && pwd) || exit 2
elif [ $# != 0 ]; then
    echo "usage: $0 [--build DIR]" >&2
    exit 2
fi
top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
. "$top_srcdir/tests/system/lib.sh"
. "$top_srcdir/tests/system/netns.sh"
