#!/bin/sh
# run.sh BUILD_DIR - runs every test program and end-to-end suite, then prints the total as
# its last line: "total: N passed, N failed, N skipped". Exit 1 on any failure, or if nothing
# ran at all.
set -u
B=${1:-build/san}
pass=0 fail=0 skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

tally() { # tally NAME COMMAND...: runs it, adds its last "N passed, N failed[, N skipped]"
    name=$1
    shift
    "$@" >"$log" 2>&1
    rc=$?
    line=$(grep -E '^([a-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        cat "$log"
        echo "$name: no summary (exit $rc)"
        fail=$((fail + 1))
        return
    fi
    p=$(echo "$line" | sed -E 's/^([a-z-]+: )?([0-9]+) passed.*/\2/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
    s=${s:-0}
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1 # died after printing a clean summary (sanitizer at exit)
    fi
    if [ "$f" != 0 ]; then
        cat "$log"
    else
        grep -E '^(SKIP|skip)' "$log" || true
    fi
    echo "$name: $p passed, $f failed, $s skipped"
    pass=$((pass + p))
    fail=$((fail + f))
    skip=$((skip + s))
}

# A make target as one test: it passes when it exits 0. Its "NAME: warning: ..." and
# "NAME: note: ..." lines are shown even then (the include checker's allowed violations).
static() { # static NAME TARGET
    if make --no-print-directory -s "$2" >"$log" 2>&1; then
        grep -E '^[a-z-]+: (warning|note): ' "$log" || true
        echo "$1: 1 passed, 0 failed, 0 skipped"
        pass=$((pass + 1))
    else
        tail -n 30 "$log"
        echo "$1: 0 passed, 1 failed, 0 skipped"
        fail=$((fail + 1))
    fi
}

static check-headers check-headers
static format-check format-check
# The module include graph (scripts/check-includes.py), and the checker's own test.
static check-includes check-includes
static check-includes-selftest check-includes-selftest
static check-functions check-functions
# Plain make and make install check the dependencies and never install them.
static deps-selftest deps-selftest
# The release flavour under gcc and under clang, warnings as errors, and the benchmark tools
# (built, not run).
static release-gcc release-gcc
static release-clang release-clang
static bench-build bench-tools

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.d) continue ;; esac
    tally "$(basename "$t")" "$t"
done

for t in tests/e2e/test_*.py; do
    [ -f "$t" ] || continue
    tally "$(basename "$t" .py)" python3 "$t" "$B/plainsight"
done

for t in tests/e2e/test_*.sh; do
    [ -f "$t" ] || continue
    tally "$(basename "$t" .sh)" sh "$t" "$B/plainsight"
done

echo "total: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
