#!/bin/sh
# test_fuzz.sh [PLAINSIGHT] - the libFuzzer targets, briefly: "make fuzz-smoke".
#
# Run by tests/run.sh from the repository root (the binary argument is not needed: the targets
# link the library). One test per fuzz target: it passes when the target ran its few seconds
# without a crash, hang, leak or sanitizer report and every saved crasher of that target in
# tests/fuzz/crashers/ replays clean. The last line is "N passed, N failed[, N skipped]". Without
# clang or libFuzzer (libclang-rt-*-dev) it skips, with a line starting with SKIP saying why.
set -u
cc=${FUZZ_CC:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "SKIP: $cc not found (make deps-test installs clang and libclang-rt-14-dev)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
# libFuzzer ships in the compiler-rt package: the surest test is to link a trivial target.
probe=$(mktemp)
if ! printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' |
    "$cc" -fsanitize=fuzzer -x c - -o "$probe" >/dev/null 2>&1; then
    rm -f "$probe"
    echo "SKIP: $cc cannot link a libFuzzer target (install libclang-rt-14-dev)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
rm -f "$probe"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
make --no-print-directory fuzz-smoke >"$log" 2>&1
rc=$?

pass=$(grep -cE '^fuzz-smoke: fuzz_[a-z0-9_]+: ok' "$log")
fail=$(grep -cE '^fuzz-smoke: fuzz_[a-z0-9_]+: FAILED' "$log")
grep -E '^fuzz-smoke: fuzz_[a-z0-9_]+: ' "$log"
if [ "$pass" = 0 ] && [ "$fail" = 0 ]; then
    # Nothing ran: the build failed.
    tail -n 30 "$log"
    echo "fuzz-smoke: the fuzz targets did not build (exit $rc)"
    fail=1
elif [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
    tail -n 30 "$log"
    fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
