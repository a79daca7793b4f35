#!/bin/sh
# deps.sh MODE [SET] - the Debian/Ubuntu packages plainsight needs, checked or installed.
#
#   deps.sh check [build|run|test]     check only: when something is missing, print the one
#                                      apt-get command that installs it and exit 1
#   deps.sh install [build|run|test]   install what is missing: as root through apt-get
#                                      (apt-get update first when the package lists are empty
#                                      or the install fails without it), otherwise print the
#                                      command and exit 1
#
# Sets, each including the one before: build (compiler, pkg-config and the libraries: what
# "make" and "make install" need), run (the sqlite3 shell for "make run"'s audit query), test
# (what "make check" runs: python3, clang and libFuzzer, clang-format, tcpreplay, valgrind,
# iproute2, rsyslog for the syslog test: its daemon is run by the test with a configuration of
# its own; chromium, optional: the report test renders its HTML in it, and is skipped with a
# note where it cannot be installed). "make" and "make install" only check; "make run" and
# "make check" install. CC
# names the compiler to look for (default cc, from the gcc package).
set -eu

mode=${1:-}
set_=${2:-build}
case "$mode" in
check | install) ;;
*)
    echo "usage: deps.sh check|install [build|run|test]" >&2
    exit 2
    ;;
esac
case "$set_" in
build | run | test) ;;
*)
    echo "deps.sh: unknown set '$set_' (build, run or test)" >&2
    exit 2
    ;;
esac

pkgs=""
need() { # need PACKAGE CHECK-COMMAND...
    pkg=$1
    shift
    if ! "$@" >/dev/null 2>&1; then
        case " $pkgs " in
        *" $pkg "*) ;;
        *) pkgs="$pkgs $pkg" ;;
        esac
    fi
}

# The first word of CC is the compiler; clang comes from its own package, anything else
# (cc, gcc, gcc-12) from gcc.
cc=${CC:-cc}
cc=${cc%% *}
case "${cc##*/}" in
clang*) cc_pkg=clang ;;
*) cc_pkg=gcc ;;
esac

need make command -v make
need "$cc_pkg" command -v "$cc"
need pkg-config command -v pkg-config
need libpcap-dev pkg-config --exists libpcap
need libndpi-dev pkg-config --exists libndpi
need libsqlite3-dev pkg-config --exists sqlite3
need nettle-dev pkg-config --exists nettle
if [ "$set_" != build ]; then
    need sqlite3 command -v sqlite3
fi
if [ "$set_" = test ]; then
    need python3 command -v python3
    need clang command -v clang
    need clang-format command -v clang-format
    need tcpreplay command -v tcpreplay
    need valgrind command -v valgrind
    need iproute2 command -v ip
    need procps command -v pgrep
    need rsyslog sh -c 'command -v rsyslogd || test -x /usr/sbin/rsyslogd'
    need libclang-rt-14-dev sh -c 'ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a'
fi

# Optional test packages: installed when possible, and a note otherwise; the tests that use one
# skip without it. chromium (a real browser for the report's HTML) is no snap stub on Debian.
optional() {
    [ "$set_" = test ] || return 0
    command -v chromium >/dev/null 2>&1 && return 0
    if [ "$mode" = install ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
            >&2; then
        return 0
    fi
    echo "deps: note: chromium is not installed; the report's browser checks will be skipped" >&2
}

if [ -z "$pkgs" ]; then
    optional
    exit 0
fi

is_root=0
[ "$(id -u)" = 0 ] && is_root=1
sudo=sudo
[ "$is_root" = 1 ] && sudo=""
cmd="${sudo:+$sudo }apt-get install -y --no-install-recommends$pkgs"

if [ "$mode" = check ]; then
    echo "deps: missing:$pkgs; install with:" >&2
    echo "  $cmd" >&2
    exit 1
fi

if [ "$is_root" = 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: missing:$pkgs; install with:" >&2
    echo "  $cmd" >&2
    exit 1
fi

echo "deps: installing:$pkgs" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh container has no package lists: fetch them first. Otherwise try with the lists we
# have, and fetch them only when that fails (stale lists name versions the mirror dropped).
# APT_LISTS is for scripts/test-deps.sh.
lists=${APT_LISTS:-/var/lib/apt/lists}
if ! ls "$lists"/*_Packages* >/dev/null 2>&1; then
    apt-get update -qq >&2
fi
# shellcheck disable=SC2086
if ! apt-get install -y -qq --no-install-recommends $pkgs >&2; then
    echo "deps: install failed; updating the package lists and retrying" >&2
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $pkgs >&2
fi
optional
