#!/bin/sh
# deps.sh - installs what plainsight needs to build (and, with "test", to run its tests) on
# Debian/Ubuntu: as root through apt-get, otherwise it prints the exact command and fails.
set -eu

want_test=0
[ "${1:-}" = "test" ] && want_test=1

pkgs=""
need() { # need PACKAGE CHECK-COMMAND...
    pkg=$1
    shift
    if ! "$@" >/dev/null 2>&1; then
        pkgs="$pkgs $pkg"
    fi
}

need make command -v make
need gcc command -v gcc
need pkg-config command -v pkg-config
need libpcap-dev pkg-config --exists libpcap
need libndpi-dev pkg-config --exists libndpi
need libsqlite3-dev pkg-config --exists sqlite3
need nettle-dev pkg-config --exists nettle
need sqlite3 command -v sqlite3
if [ "$want_test" = 1 ]; then
    need python3 command -v python3
    need clang command -v clang
    need clang-format command -v clang-format
    need tcpreplay command -v tcpreplay
    need valgrind command -v valgrind
    need iproute2 command -v ip
    need libclang-rt-14-dev sh -c 'ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a'
fi

[ -z "$pkgs" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing:$pkgs" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $pkgs >&2
else
    echo "deps: missing build dependencies; run:" >&2
    echo "  sudo apt-get install -y$pkgs" >&2
    exit 1
fi
