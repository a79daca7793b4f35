#!/bin/sh
# live.sh - live capture under load: the kernel drops of tcpdump and of plainsight (defaults and
# --ports-only) on a veth pair of a network namespace of its own; bench/bench.mk calls it (see
# bench/README.md).
#
#   sh bench/live.sh DIR BIN FILE
#       Replays FILE with tcpreplay into one end of the pair while a capturer reads the other,
#       in a loop for BENCH_LIVE_SECONDS seconds (longer than the capture buffer can hide: at top
#       speed several times the buffer's size), BENCH_LIVE_RUNS times at top speed, then, if any of those dropped, at stepped rates
#       (doubling from BENCH_LIVE_START_PPS until a drop, then BENCH_LIVE_BISECT bisection steps,
#       within BENCH_LIVE_BUDGET seconds per capturer). Prints, per capturer, the drops at top
#       speed and the highest rate held without a drop, and plainsight's drop-free rate as a
#       share of tcpdump's.
#
# Needs root, ip, tcpreplay and sqlite3, and a kernel that lets it make a network namespace and
# a veth pair; otherwise it prints "bench-live: skipped: ..." and exits 0. Nothing outside its
# own namespace is touched, and the namespace (with the pair) is deleted on exit, also after a
# failure or Ctrl-C. Exit status 1 when a capturer would not start or a replay failed.
set -u

dir=$1
bin=$2
file=$3
runs=${BENCH_LIVE_RUNS:-3}
start_pps=${BENCH_LIVE_START_PPS:-10000}
bisect=${BENCH_LIVE_BISECT:-2}
budget=${BENCH_LIVE_BUDGET:-60}
secs=${BENCH_LIVE_SECONDS:-4}
buf_kib=${BENCH_LIVE_BUFFER_KIB:-65536}
ns=plainsight-bench-$$
cap_pid=
status=0

skip() {
    echo "bench-live: skipped: $*"
    exit 0
}

have() {
    command -v "$1" >/dev/null 2>&1
}

cleanup() {
    if [ -n "$cap_pid" ]; then
        kill -KILL "$cap_pid" 2>/dev/null
        wait "$cap_pid" 2>/dev/null
        cap_pid=
    fi
    ip netns del "$ns" 2>/dev/null
}

inns() {
    ip netns exec "$ns" "$@"
}

[ "$(id -u)" = 0 ] || skip "needs root (a network namespace, a veth pair, raw sockets)"
for tool in ip tcpreplay sqlite3; do
    have "$tool" || skip "$tool is not installed"
done
[ -x "$bin" ] && [ -r "$file" ] || {
    echo "bench-live: $bin or $file missing" >&2
    exit 1
}
mkdir -p "$dir"
ip netns add "$ns" 2>"$dir/live.err" || skip "cannot make a network namespace: $(cat "$dir/live.err")"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
inns ip link add pbA type veth peer name pbB 2>"$dir/live.err" ||
    skip "cannot make a veth pair: $(cat "$dir/live.err")"
# No IPv6 on the pair: its router solicitations and address checks would be extra packets.
inns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
for dev in lo pbA pbB; do
    inns ip link set "$dev" up
done

db=$dir/live.db
fresh_db() {
    rm -f "$db" "$db-wal" "$db-shm" "$db-journal" "${db%.db}.key"
}

# A run counter of the last run in the database.
counter() {
    sqlite3 -batch -noheader "$db" \
        "SELECT coalesce((SELECT value FROM run_counters WHERE name = '$1'
                          AND run_id = (SELECT max(id) FROM runs)), 0)" 2>/dev/null
}

# start KIND: the capturer on pbA, in the background; returns once it reads. Started by "ip
# netns exec" itself (no shell function in between), which becomes the capturer, so that $! is
# the capturer's own process.
start() {
    : >"$dir/cap.err"
    case "$1" in
    tcpdump)
        ip netns exec "$ns" tcpdump -i pbA -n -B "$buf_kib" -w /dev/null 2>"$dir/cap.err" &
        cap_pid=$!
        ;;
    defaults | ports-only)
        fresh_db
        extra=
        [ "$1" = ports-only ] && extra=--ports-only
        # shellcheck disable=SC2086
        ip netns exec "$ns" "$bin" -i pbA -B "$buf_kib" -w "$db" -q -Z root $extra \
            2>"$dir/cap.err" &
        cap_pid=$!
        ;;
    esac
    w=0
    while [ "$w" -lt 100 ]; do
        if ! kill -0 "$cap_pid" 2>/dev/null; then
            break
        fi
        case "$1" in
        tcpdump)
            grep -q 'listening on' "$dir/cap.err" && break
            ;;
        *)
            [ "$(sqlite3 -batch -noheader "$db" 'SELECT count(*) FROM runs' 2>/dev/null)" = 1 ] &&
                break
            ;;
        esac
        sleep 0.1
        w=$((w + 1))
    done
    if ! kill -0 "$cap_pid" 2>/dev/null || [ "$w" -ge 100 ]; then
        echo "bench-live: $1 did not start: $(cat "$dir/cap.err")"
        status=1
        return 1
    fi
    sleep 1 # its set-up done (plainsight starts nDPI after writing its run)
}

# stop KIND: SIGTERM, wait; the kernel's drops into t_drops, the packets the capturer got into
# t_got ("?" when unknown), and its CPU seconds into t_cpu.
stop() {
    # Its CPU time (user and system) while it is still there to ask.
    t_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' \
        "/proc/$cap_pid/stat" 2>/dev/null)
    [ -n "$t_cpu" ] || t_cpu=0
    kill -TERM "$cap_pid" 2>/dev/null
    wait "$cap_pid" 2>/dev/null
    cap_pid=
    case "$1" in
    tcpdump)
        t_drops=$(awk '/packets dropped by kernel/ { print $1 }' "$dir/cap.err")
        t_got=$(awk '/packets captured/ { print $1 }' "$dir/cap.err")
        ;;
    *)
        t_drops=$(counter capture.kernel_dropped)
        t_got=$(sqlite3 -batch -noheader "$db" 'SELECT max(packets) FROM runs' 2>/dev/null)
        ;;
    esac
    [ -n "$t_drops" ] || t_drops="?"
    [ -n "$t_got" ] || t_got="?"
}

# trial KIND RATE: one replay at RATE packets/s ("top": --topspeed) with KIND capturing. Sets
# t_drops, and t_pps and t_mbps to the rate tcpreplay says it reached. Returns 1 on failure.
trial() {
    start "$1" || return 1
    if [ "$2" = top ]; then
        speed=--topspeed
    else
        speed=--pps=$2
    fi
    if ! inns tcpreplay -i pbB -K --loop=0 --duration="$secs" "$speed" "$file" \
        >"$dir/replay.out" 2>&1; then
        echo "bench-live: tcpreplay failed: $(tail -n 3 "$dir/replay.out")"
        status=1
        stop "$1"
        return 1
    fi
    sleep 1 # the capturer drains its buffer
    stop "$1"
    t_pps=$(awk '/Rated:/ { for (i = 2; i <= NF; i++) if ($i == "pps") print $(i - 1) }' \
        "$dir/replay.out")
    t_mbps=$(awk '/Rated:/ { for (i = 2; i <= NF; i++) if ($i == "Mbps,") print $(i - 1) }' \
        "$dir/replay.out")
    t_sent=$(awk '/Actual:/ { print $2 }' "$dir/replay.out")
    t_load=$(awk -v c="$t_cpu" -v s="$secs" 'BEGIN { printf "%.0f", 100 * c / s }')
    echo "bench-live: $1 at $2: $(printf '%.0f' "$t_pps") packets/s, $t_mbps Mbit/s; sent ${t_sent:-?}, captured $t_got, kernel drops $t_drops; capturer CPU $t_cpu s ($t_load % of a core)"
}

# keep_best: the last trial's rate into best_pps and best_mbps when it is higher.
keep_best() {
    if awk -v p="$t_pps" -v b="$best_pps" 'BEGIN { exit !(p > b) }'; then
        best_pps=$t_pps
        best_mbps=$t_mbps
    fi
}

# held KIND KEY: fills top_KEY (the drops of each top-speed run), best_pps_KEY and best_mbps_KEY
# (the highest rate reached without a drop, 0 if none) and note_KEY.
held() {
    kind=$1
    tops=
    best_pps=0
    best_mbps=0
    top_pps=0
    top_load=0
    has_dropped=0
    note=
    i=0
    while [ "$i" -lt "$runs" ]; do
        i=$((i + 1))
        trial "$kind" top || return
        tops="$tops${tops:+, }$t_drops"
        [ "$t_load" -gt "$top_load" ] && top_load=$t_load
        if awk -v p="$t_pps" -v t="$top_pps" 'BEGIN { exit !(p > t) }'; then
            top_pps=$t_pps
        fi
        if [ "$t_drops" = 0 ]; then
            keep_best
        else
            has_dropped=1
        fi
    done
    if [ "$has_dropped" -eq 0 ]; then
        note="held top speed (the sender is the limit)"
    else
        deadline=$(($(date +%s) + budget))
        lo=0
        hi=$(printf '%.0f' "$top_pps")
        first_drop=
        rate=$start_pps
        while [ "$rate" -lt "$hi" ] && [ "$(date +%s)" -lt "$deadline" ]; do
            trial "$kind" "$rate" || return
            if [ "$t_drops" != 0 ]; then
                hi=$rate
                first_drop=$rate
                break
            fi
            lo=$rate
            keep_best
            rate=$((rate * 2))
        done
        step=0
        while [ "$step" -lt "$bisect" ] && [ "$lo" -gt 0 ] && [ "$(date +%s)" -lt "$deadline" ]; do
            step=$((step + 1))
            rate=$(((lo + hi) / 2))
            trial "$kind" "$rate" || return
            if [ "$t_drops" = 0 ]; then
                lo=$rate
                keep_best
            else
                hi=$rate
                first_drop=$rate
            fi
        done
        if [ "$lo" -eq 0 ] && [ -n "$first_drop" ]; then
            note="dropped at every rate tried (from $start_pps packets/s)"
        elif [ -n "$first_drop" ]; then
            note="held $lo packets/s asked, dropped at $first_drop"
        else
            note="held $lo packets/s asked, dropped only at top speed"
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            note="$note; stopped by the time budget"
        fi
    fi
    eval "top_$2=\$tops; load_$2=\$top_load; best_pps_$2=\$best_pps; best_mbps_$2=\$best_mbps"
    eval "note_$2=\$note"
}

packets=$("$dir/floor" "$file" 2>/dev/null | awk '{ print $1 }')
echo "bench-live: $file: ${packets:-?} packets, $(wc -c <"$file" | tr -d ' ') bytes, replayed in a loop for $secs s a trial; buffer $buf_kib KiB for every capturer; $runs runs at top speed"
echo "bench-live: $(nproc 2>/dev/null || echo '?') cores; load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"

kinds="defaults ports-only"
if have tcpdump; then
    kinds="tcpdump $kinds"
else
    echo "bench-live: tcpdump is not installed: no ratio"
fi
for k in $kinds; do
    key=$(echo "$k" | tr - _)
    held "$k" "$key"
done

echo
echo "| capturer | drops at top speed (each run) | CPU at top speed, % of a core | highest rate without a drop, packets/s | Mbit/s | x tcpdump | notes |"
echo "|---|---|---:|---:|---:|---:|---|"
for k in $kinds; do
    key=$(echo "$k" | tr - _)
    eval "tops=\${top_$key:-}; load=\${load_$key:-0}; bp=\${best_pps_$key:-0}"
    eval "bm=\${best_mbps_$key:-0}; note=\${note_$key:-}"
    case "$k" in
    tcpdump) name="tcpdump -w /dev/null -B $buf_kib" ;;
    defaults) name="plainsight (defaults)" ;;
    *) name="plainsight --ports-only" ;;
    esac
    ratio=-
    tp=${best_pps_tcpdump:-0}
    if [ "$k" != tcpdump ] && awk -v t="$tp" 'BEGIN { exit !(t > 0) }'; then
        ratio=$(awk -v a="$bp" -v t="$tp" 'BEGIN { printf "%.2f", a / t }')
    fi
    printf '| %s | %s | %s | %.0f | %.1f | %s | %s |\n' "$name" "${tops:-failed}" "$load" "$bp" \
        "$bm" "$ratio" "$note"
done
exit $status
