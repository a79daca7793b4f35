#!/bin/sh
# run-fuzz.sh NAME SECONDS RUNS TARGET:MAXLEN... - runs libFuzzer targets one after another.
#
# From the repository root (fuzz.mk calls it, with FUZZ_B, the build directory, in the
# environment; build/fuzz when unset). Each target runs for SECONDS (and at most RUNS
# executions when RUNS > 0) on its own corpus directory, seeded from tests/fuzz/seeds/<target>
# so the seeds in the repository are never written: "fuzz" keeps build/fuzz/corpus/<target>
# between runs and its logs in build/fuzz/logs/; any other NAME ("fuzz-smoke") starts afresh in
# a directory of its own, build/fuzz/smoke/run.<pid>/, so that two "make check" at once do not
# trip over each other, and removes it unless a target failed. Then every
# tests/fuzz/crashers/<target>-* input is replayed. Targets run one at a time: each libFuzzer
# process uses one core. Output, one line per target, then a total:
#   NAME: fuzz_x: ok (N runs in S s, C corpus files, K crashers replayed)
#   NAME: fuzz_x: FAILED (reason) log <log> input <crashing input>
#   NAME: T targets, F failed
# Exit 1 when a target failed.
set -u
if [ $# -lt 3 ]; then
    echo "usage: run-fuzz.sh NAME SECONDS RUNS TARGET:MAXLEN..." >&2
    exit 2
fi
name=$1 secs=$2 runs=$3
shift 3
B=${FUZZ_B:-build/fuzz}
D=tests/fuzz
if [ "$name" = fuzz ]; then
    run=$B
else
    run=$B/smoke/run.$$
    rm -rf "$run"
fi
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
mkdir -p "$run/logs" "$run/artifacts"

# reason LOG RC: one phrase for why a libFuzzer run failed.
reason() {
    if grep -q 'fuzz: check failed' "$1"; then
        grep -m1 'fuzz: check failed' "$1" | sed 's/^fuzz: //'
    elif grep -q 'ERROR: LeakSanitizer' "$1"; then
        echo "LeakSanitizer: memory leak"
    elif grep -q 'ERROR: AddressSanitizer' "$1"; then
        grep -m1 -o 'AddressSanitizer: [A-Za-z-]*' "$1"
    elif grep -q 'runtime error:' "$1"; then
        echo "UBSan: $(grep -m1 'runtime error:' "$1" | sed 's/.*runtime error: //')"
    elif grep -q 'libFuzzer: timeout' "$1"; then
        echo "timeout (hang)"
    elif grep -q 'libFuzzer: out-of-memory' "$1"; then
        echo "out of memory"
    elif grep -q 'libFuzzer: deadly signal' "$1"; then
        echo "crash (deadly signal)"
    elif grep -q 'Assertion .* failed' "$1"; then
        grep -m1 -o 'Assertion .* failed' "$1"
    else
        echo "exit status $2"
    fi
}

total=0 failed=0
for spec in "$@"; do
    t=${spec%%:*}
    maxlen=${spec#*:}
    total=$((total + 1))
    bin=$B/$t
    log=$run/logs/$t.log
    if [ ! -x "$bin" ]; then
        echo "$name: $t: FAILED (not built: $bin)"
        failed=$((failed + 1))
        continue
    fi
    corpus=$run/corpus/$t
    mkdir -p "$corpus"
    if [ -d "$D/seeds/$t" ]; then
        find "$D/seeds/$t" -type f -exec cp {} "$corpus/" \;
    fi
    # Relative paths without spaces: the options can live in one word-split string.
    opts="-max_len=$maxlen -max_total_time=$secs -timeout=10 -rss_limit_mb=2048"
    opts="$opts -print_final_stats=1 -artifact_prefix=$run/artifacts/$t-"
    if [ "$runs" -gt 0 ]; then
        opts="$opts -runs=$runs"
    fi
    if [ -f "$D/$t.dict" ]; then
        opts="$opts -dict=$D/$t.dict"
    fi
    # shellcheck disable=SC2086
    "$bin" $opts "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    if [ "$rc" != 0 ]; then
        input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | head -n 1)
        echo "$name: $t: FAILED ($(reason "$log" "$rc")) log $log${input:+ input $input}"
        failed=$((failed + 1))
        continue
    fi

    # Inputs that once crashed: each must now run clean.
    replayed=0 bad=""
    for f in "$D"/crashers/"$t"-*; do
        [ -f "$f" ] || continue
        replayed=$((replayed + 1))
        flog=$run/logs/$(basename "$f").log
        "$bin" -timeout=10 -rss_limit_mb=2048 "$f" >"$flog" 2>&1
        frc=$?
        if [ "$frc" != 0 ]; then
            bad="$bad $(basename "$f") ($(reason "$flog" "$frc"); log $flog)"
        fi
    done
    if [ -n "$bad" ]; then
        echo "$name: $t: FAILED (crasher still crashes:$bad)"
        failed=$((failed + 1))
        continue
    fi
    files=$(find "$corpus" -type f | wc -l | tr -d ' ')
    echo "$name: $t: ok (${execs:-?} runs in ${took:-$secs} s, $files corpus files," \
        "$replayed crashers replayed)"
done
echo "$name: $total targets, $failed failed"
if [ "$run" != "$B" ] && [ "$failed" = 0 ]; then
    rm -rf "$run"
fi
[ "$failed" = 0 ]
