#!/bin/sh
# bench.sh - the benchmark's runs and tables; bench/bench.mk calls it (see bench/README.md).
#
#   sh bench/bench.sh mix   DIR BIN FILE SMALL_FILE
#       On FILE: the floor (bare pcap_next_ex loop), plainsight with its defaults, plainsight
#       --ports-only, and ndpiReader when installed; tshark -z credentials on SMALL_FILE (the same
#       mix, smaller: tshark is slow), with the floor on SMALL_FILE beside it. Best of BENCH_RUNS
#       runs taken round-robin after one read to warm the page cache; peak RSS is the largest of
#       the runs. plainsight runs with --reveal-secrets so that recall compares the secrets
#       themselves: client, server, mechanism, user name, secret and result must all match.
#   sh bench/bench.sh tunnels DIR BIN FILE...
#       The plain mix, then the mix with every frame in a mirror tunnel (gen --wrap: VXLAN, ERSPAN
#       II):
#       the floor and plainsight with its defaults, best of BENCH_RUNS, with the recall against
#       its truth file. Target: 0.6 of the floor, 100 % recall, nothing extra.
#   sh bench/bench.sh mail DIR BIN FILE...
#       All-mail captures (gen --mail-share 1.0: one at the usual concurrency, one with 100,000
#       sessions open at once): the floor and plainsight with its defaults, best of BENCH_RUNS;
#       recall and extra against each file's truth, sessions written against the truth's
#       sessions (none invented), flow.evicted, peak RSS. Correctness targets: 100 % recall,
#       nothing extra, no more sessions than the truth has; throughput (0.2 of the floor) is
#       reported.
#   sh bench/bench.sh flood DIR BIN FLOOD_FILE TINY_FILE MEMCAP
#       plainsight with --memcap MEMCAP on a million half-open connections, in both modes: peak
#       RSS against the cap plus the fixed overhead (the peak RSS on TINY_FILE), evictions, and
#       the recall of the mail sessions among the flood.
#
# Exit status 1 when a correctness target fails (recall below 100 %, an extra credential, RSS
# over the cap plus overhead, a run that failed); throughput targets are reported, not enforced,
# because other work on the machine moves them.
set -u

mode=$1
dir=$2
bin=$3
runs=${BENCH_RUNS:-3}
tshark_timeout=${BENCH_TSHARK_TIMEOUT:-600}
floor_bin=$dir/floor
status=0

fail() {
    echo "bench: FAIL: $*"
    status=1
}

have() {
    command -v "$1" >/dev/null 2>&1
}

# run_one CMD...: runs CMD once, output to $dir/run.out and $dir/run.err; sets rc, secs, rss_kb.
run_one() {
    t0=$(date +%s%N)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M' -o "$dir/time.out" "$@" >"$dir/run.out" 2>"$dir/run.err"
        rc=$?
        rss_kb=$(tail -n 1 "$dir/time.out")
    else
        "$@" >"$dir/run.out" 2>"$dir/run.err"
        rc=$?
        rss_kb=0
    fi
    t1=$(date +%s%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
}

# keep KEY: folds the last run into best_KEY (fewest seconds) and rss_KEY (largest RSS).
keep() {
    eval "b=\${best_$1:-}; r=\${rss_$1:-0}"
    if [ -z "$b" ] || awk -v s="$secs" -v b="$b" 'BEGIN { exit !(s < b) }'; then
        eval "best_$1=$secs"
    fi
    if [ "$rss_kb" -gt "$r" ]; then
        eval "rss_$1=$rss_kb"
    fi
}

fresh_db() {
    rm -f "$1" "$1-wal" "$1-shm" "$1-journal"
}

# recall DB TRUTH STD_ONLY: prints "found total extra found_std total_std" for the credentials
# of TRUTH (only those on the protocols' standard ports when STD_ONLY is 1) against DB.
recall() {
    sqlite3 -batch -noheader -separator ' ' -cmd ".parameter set @truth '$2'" \
        -cmd ".parameter set @std $3" "$1" <<'EOF'
CREATE TEMP TABLE truth AS
SELECT json_extract(s.value, '$.client') AS client, json_extract(s.value, '$.server') AS server,
       json_extract(s.value, '$.port_is_standard') AS std,
       json_extract(c.value, '$.mechanism') AS mechanism,
       json_extract(c.value, '$.username') AS username,
       json_extract(c.value, '$.password') AS secret, json_extract(c.value, '$.result') AS result
FROM json_each(readfile(@truth), '$.sessions') AS s, json_each(s.value, '$.credentials') AS c;
CREATE TEMP TABLE got AS
SELECT CASE WHEN instr(s.client_ip, ':') THEN '[' || s.client_ip || ']:'
            ELSE s.client_ip || ':' END || s.client_port AS client,
       CASE WHEN instr(s.server_ip, ':') THEN '[' || s.server_ip || ']:'
            ELSE s.server_ip || ':' END || s.server_port AS server,
       c.mechanism, c.username, c.secret, c.result
FROM credentials c JOIN sessions s ON s.id = c.session_id;
CREATE INDEX temp.truth_ends ON truth(client, server);
CREATE INDEX temp.got_ends ON got(client, server);
CREATE TEMP TABLE hit AS
SELECT t.*, EXISTS (SELECT 1 FROM got g WHERE g.client = t.client AND g.server = t.server
                    AND g.mechanism = t.mechanism AND g.username IS t.username
                    AND g.secret IS t.secret AND g.result = t.result) AS found
FROM truth t WHERE @std = 0 OR t.std;
SELECT (SELECT count(*) FROM hit WHERE found), (SELECT count(*) FROM hit),
       (SELECT count(*) FROM got g WHERE NOT EXISTS (
            SELECT 1 FROM truth t WHERE g.client = t.client AND g.server = t.server
            AND g.mechanism = t.mechanism AND g.username IS t.username
            AND g.secret IS t.secret AND g.result = t.result)),
       (SELECT count(*) FROM hit WHERE found AND std), (SELECT count(*) FROM hit WHERE std);
EOF
}

# counter DB NAME: a run counter of the last run in DB.
counter() {
    sqlite3 -batch -noheader "$1" \
        "SELECT coalesce((SELECT value FROM run_counters WHERE name = '$2'
                          AND run_id = (SELECT max(id) FROM runs)), 0)"
}

# The credentials' user names of TRUTH, one a line.
truth_users() {
    sqlite3 -batch -noheader -cmd ".parameter set @truth '$1'" :memory: \
        "SELECT json_extract(c.value, '$.username')
         FROM json_each(readfile(@truth), '$.sessions') AS s,
              json_each(s.value, '$.credentials') AS c"
}

size_of() {
    wc -c <"$1" | tr -d ' '
}

packets_of() {
    "$floor_bin" "$1" | awk '{ print $1 }'
}

mb() {
    awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'
}

machine() {
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
    echo "machine: $(nproc 2>/dev/null || echo '?') cores, ${cpu:-unknown CPU}; $(date -u '+%Y-%m-%d %H:%M UTC')"
}

# row TOOL FILE SECS PACKETS BYTES FLOOR_SECS RSS_KB NOTE
row() {
    awk -v tool="$1" -v file="$2" -v s="$3" -v p="$4" -v b="$5" -v f="$6" -v rss="$7" \
        -v note="$8" 'BEGIN {
        printf "| %-28s | %-9s | %8.2f | %10.0f | %7.1f | %7.2f | %6.0f | %s |\n",
            tool, file, s, p / s, b / 1e6 / s, f / s, rss / 1024, note
    }'
}

header() {
    echo "| tool                         | file      |  seconds |  packets/s |    MB/s | x floor | RSS MB | recall, notes |"
    echo "|------------------------------|-----------|---------:|-----------:|--------:|--------:|-------:|---------------|"
}

mix() {
    file=$1
    small=$2
    truth=${file%.pcap}.truth.json
    small_truth=${small%.pcap}.truth.json
    db=$dir/bench.db
    bytes=$(size_of "$file")
    packets=$(packets_of "$file")
    small_bytes=$(size_of "$small")
    small_packets=$(packets_of "$small")
    has_ndpi=0
    if have ndpiReader; then
        has_ndpi=1
    fi
    echo "bench: $file: $packets packets, $bytes bytes; best of $runs runs"
    cat "$file" "$small" >/dev/null # warm the page cache
    worst_def=
    worst_po=
    i=0
    while [ "$i" -lt "$runs" ]; do
        i=$((i + 1))
        run_one "$floor_bin" "$file"
        [ "$rc" -eq 0 ] || fail "floor exited $rc: $(cat "$dir/run.err")"
        keep floor
        this="floor $secs s"

        run_one "$floor_bin" --loop "$file"
        [ "$rc" -eq 0 ] || fail "floor --loop exited $rc: $(cat "$dir/run.err")"
        keep floorloop
        this="$this, floor --loop $secs s"

        fresh_db "$db"
        run_one "$bin" -r "$file" -w "$db" -q --reveal-secrets
        [ "$rc" -eq 0 ] || fail "plainsight exited $rc: $(cat "$dir/run.err")"
        keep def
        this="$this, defaults $secs s"
        worst_def=$(recall "$db" "$truth" 0)

        fresh_db "$db"
        run_one "$bin" -r "$file" -w "$db" -q --reveal-secrets --ports-only
        [ "$rc" -eq 0 ] || fail "plainsight --ports-only exited $rc: $(cat "$dir/run.err")"
        keep po
        this="$this, ports-only $secs s"
        worst_po=$(recall "$db" "$truth" 1)

        if [ "$has_ndpi" -eq 1 ]; then
            run_one ndpiReader -q -i "$file"
            [ "$rc" -eq 0 ] || fail "ndpiReader exited $rc: $(tail -n 3 "$dir/run.err")"
            keep ndpi
            this="$this, ndpiReader $secs s"
        fi

        run_one "$floor_bin" "$small"
        keep floor_small
        echo "bench: run $i of $runs: $this"
    done

    tshark_note=
    if have tshark; then
        run_one timeout "$tshark_timeout" tshark -q -z credentials -r "$small"
        if [ "$rc" -eq 124 ]; then
            tshark_note="stopped after ${tshark_timeout} s"
        elif [ "$rc" -ne 0 ]; then
            tshark_note="exited $rc"
        else
            keep tshark
            truth_users "$small_truth" | sort >"$dir/users.truth"
            awk 'p && NF >= 3 { print $3 } /^------/ { p = 1 }' "$dir/run.out" | sort -u \
                >"$dir/users.tshark"
            n_users=$(wc -l <"$dir/users.truth" | tr -d ' ')
            n_hit=$(comm -12 "$dir/users.truth" "$dir/users.tshark" | wc -l | tr -d ' ')
            tshark_note="1 run; user names shown whole: $n_hit of $n_users"
        fi
    fi

    set -- $worst_def
    def_note="$1 of $2 ($(awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b ? 100 * a / b : 100 }') %); standard port $4 of $5, other port $(($1 - $4)) of $(($2 - $5)); extra $3"
    [ "$1" -eq "$2" ] || fail "plainsight (defaults) found $1 of $2 credentials"
    [ "$3" -eq 0 ] || fail "plainsight (defaults) reported $3 credentials not in the truth"
    set -- $worst_po
    po_note="$1 of $2 on the standard ports ($(awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b ? 100 * a / b : 100 }') %); extra $3"
    [ "$1" -eq "$2" ] || fail "plainsight --ports-only found $1 of $2 standard-port credentials"
    [ "$3" -eq 0 ] || fail "plainsight --ports-only reported $3 credentials not in the truth"

    echo
    machine
    echo "file: $(basename "$file") ($bytes bytes, $packets packets); small: $(basename "$small") ($small_bytes bytes, $small_packets packets)"
    echo
    header
    row "floor (pcap_next_ex loop)" "file" "$best_floor" "$packets" "$bytes" "$best_floor" "$rss_floor" "-"
    row "floor --loop (pcap_loop)" "file" "$best_floorloop" "$packets" "$bytes" "$best_floor" "$rss_floorloop" "the fastest libpcap reader"
    row "plainsight (defaults)" "file" "$best_def" "$packets" "$bytes" "$best_floor" "$rss_def" "$def_note"
    row "plainsight --ports-only" "file" "$best_po" "$packets" "$bytes" "$best_floor" "$rss_po" "$po_note"
    if [ "$has_ndpi" -eq 1 ]; then
        row "ndpiReader -i" "file" "$best_ndpi" "$packets" "$bytes" "$best_floor" "$rss_ndpi" "classification only"
    else
        echo "| ndpiReader -i                | file      | skipped: not installed (Debian libndpi-bin) |"
    fi
    row "floor (pcap_next_ex loop)" "small" "$best_floor_small" "$small_packets" "$small_bytes" "$best_floor_small" "$rss_floor_small" "-"
    if [ -n "${best_tshark:-}" ]; then
        row "tshark -q -z credentials" "small" "$best_tshark" "$small_packets" "$small_bytes" "$best_floor_small" "$rss_tshark" "$tshark_note"
    elif have tshark; then
        echo "| tshark -q -z credentials     | small     | $tshark_note |"
    else
        echo "| tshark -q -z credentials     | small     | skipped: not installed (Debian tshark) |"
    fi
    echo
    awk -v f="$best_floor" -v l="$best_floorloop" -v d="$best_def" -v p="$best_po" 'BEGIN {
        printf "targets: defaults %.2f of the floor (target 0.50: %s); --ports-only %.2f (target 0.80: %s)\n",
            f / d, (f / d >= 0.5) ? "met" : "MISSED", f / p, (f / p >= 0.8) ? "met" : "MISSED"
        printf "against floor --loop: defaults %.2f, --ports-only %.2f\n", l / d, l / p
    }'
}

tunnels() {
    echo
    echo "bench: mirror tunnels: the mix plain, then every frame inside VXLAN or ERSPAN II; best of $runs runs"
    echo
    header
    for file in "$@"; do
        base=$(basename "$file")
        truth=${file%.pcap}.truth.json
        db=$dir/tunnel.db
        bytes=$(size_of "$file")
        packets=$(packets_of "$file")
        cat "$file" >/dev/null
        unset best_tfloor best_tdef rss_tfloor rss_tdef
        i=0
        while [ "$i" -lt "$runs" ]; do
            i=$((i + 1))
            run_one "$floor_bin" "$file"
            [ "$rc" -eq 0 ] || fail "floor exited $rc on $base: $(cat "$dir/run.err")"
            keep tfloor
            fresh_db "$db"
            run_one "$bin" -r "$file" -w "$db" -q --reveal-secrets
            [ "$rc" -eq 0 ] || fail "plainsight exited $rc on $base: $(cat "$dir/run.err")"
            keep tdef
        done
        set -- $(recall "$db" "$truth" 0)
        [ "$1" -eq "$2" ] || fail "$base: plainsight found $1 of $2 credentials"
        [ "$3" -eq 0 ] || fail "$base: plainsight reported $3 credentials not in the truth"
        note="$1 of $2, extra $3; $(awk -v f="$best_tfloor" -v d="$best_tdef" 'BEGIN {
            printf "%.2f of the floor (target 0.60: %s)", f / d, (f / d >= 0.6) ? "met" : "MISSED" }')"
        row "floor (pcap_next_ex loop)" "${base%%-s*}" "$best_tfloor" "$packets" "$bytes" "$best_tfloor" "$rss_tfloor" "-"
        row "plainsight (defaults)" "${base%%-s*}" "$best_tdef" "$packets" "$bytes" "$best_tfloor" "$rss_tdef" "$note"
    done
}

mail() {
    echo
    echo "bench: all mail: best of $runs runs"
    echo
    echo "| file | seconds | packets/s | x floor | peak RSS MB | recall | extra | sessions written / truth | flow.evicted | flow.active_max |"
    echo "|------|--------:|----------:|--------:|------------:|--------|------:|--------------------------|-------------:|----------------:|"
    for file in "$@"; do
        base=$(basename "$file" .pcap)
        truth=${file%.pcap}.truth.json
        db=$dir/mail.db
        packets=$(packets_of "$file")
        cat "$file" >/dev/null
        unset best_mfloor best_mdef rss_mfloor rss_mdef
        i=0
        while [ "$i" -lt "$runs" ]; do
            i=$((i + 1))
            run_one "$floor_bin" "$file"
            keep mfloor
            fresh_db "$db"
            run_one "$bin" -r "$file" -w "$db" -q --reveal-secrets
            [ "$rc" -eq 0 ] || fail "plainsight exited $rc on $base: $(cat "$dir/run.err")"
            keep mdef
        done
        set -- $(recall "$db" "$truth" 0)
        [ "$1" -eq "$2" ] || fail "$base: plainsight found $1 of $2 credentials"
        [ "$3" -eq 0 ] || fail "$base: plainsight reported $3 credentials not in the truth"
        n_truth=$(sqlite3 -batch -noheader :memory: \
            "SELECT json_array_length(readfile('$truth'), '\$.sessions')")
        n_got=$(sqlite3 -batch -noheader "$db" "SELECT count(*) FROM sessions")
        [ "$n_got" -le "$n_truth" ] || fail "$base: $n_got sessions written, the truth has $n_truth"
        awk -v f="$best_mfloor" -v d="$best_mdef" -v p="$packets" -v rss="$rss_mdef" \
            -v name="$base" -v rec="$1 of $2" -v extra="$3" -v ses="$n_got / $n_truth" \
            -v ev="$(counter "$db" flow.evicted)" -v am="$(counter "$db" flow.active_max)" 'BEGIN {
            printf "| %s | %.2f | %.0f | %.2f (target 0.20: %s) | %.0f | %s | %s | %s | %s | %s |\n",
                name, d, p / d, f / d, (f / d >= 0.2) ? "met" : "MISSED", rss / 1024, rec, extra,
                ses, ev, am }'
    done
}

flood() {
    file=$1
    tiny=$2
    memcap=$3
    truth=${file%.pcap}.truth.json
    db=$dir/flood.db
    cap_bytes=$(echo "$memcap" | awk '{
        n = $0 + 0; u = substr($0, length($0));
        if (u == "K" || u == "k") n *= 1024; else if (u == "M" || u == "m") n *= 1048576;
        else if (u == "G" || u == "g") n *= 1073741824; printf "%.0f", n }')
    packets=$(packets_of "$file")
    echo
    echo "bench: flood: $(basename "$file"), $packets packets; --memcap $memcap"
    cat "$file" >/dev/null
    echo
    echo "| mode         | seconds | peak RSS MB | overhead MB | cap + overhead MB | verdict | flow.evicted | flow.created | flow.active_max | flow.mem_used_max MB | defrag.evicted | mail recall |"
    echo "|--------------|--------:|------------:|------------:|------------------:|---------|-------------:|-------------:|----------------:|---------------------:|---------------:|-------------|"
    for m in defaults ports-only; do
        extra=
        [ "$m" = ports-only ] && extra=--ports-only
        # The fixed overhead: binary, libraries, SQLite cache, nDPI module, on a tiny capture.
        fresh_db "$db"
        run_one "$bin" -r "$tiny" -w "$db" -q $extra
        [ "$rc" -eq 0 ] || fail "plainsight $m on the tiny capture exited $rc: $(cat "$dir/run.err")"
        base_kb=$rss_kb
        fresh_db "$db"
        run_one "$bin" -r "$file" -w "$db" -q --reveal-secrets --memcap "$memcap" $extra
        [ "$rc" -eq 0 ] || fail "plainsight $m on the flood exited $rc: $(cat "$dir/run.err")"
        if [ "$m" = ports-only ]; then
            set -- $(recall "$db" "$truth" 1)
        else
            set -- $(recall "$db" "$truth" 0)
        fi
        note="$1 of $2, extra $3"
        [ "$1" -eq "$2" ] || fail "flood, $m: mail recall $1 of $2"
        [ "$3" -eq 0 ] || fail "flood, $m: $3 credentials not in the truth"
        limit_kb=$((cap_bytes / 1024 + base_kb))
        verdict=ok
        if [ "$rss_kb" -gt "$limit_kb" ]; then
            verdict=OVER
            fail "flood, $m: peak RSS $(mb "$rss_kb") MB over the cap plus overhead $(mb "$limit_kb") MB"
        fi
        printf "| %-12s | %7.2f | %11s | %11s | %17s | %-7s | %12s | %12s | %15s | %20s | %14s | %s |\n" \
            "$m" "$secs" "$(mb "$rss_kb")" "$(mb "$base_kb")" "$(mb "$limit_kb")" "$verdict" \
            "$(counter "$db" flow.evicted)" "$(counter "$db" flow.created)" \
            "$(counter "$db" flow.active_max)" \
            "$(awk -v b="$(counter "$db" flow.mem_used_max)" 'BEGIN { printf "%.1f", b / 1048576 }')" \
            "$(counter "$db" defrag.evicted)" "$note"
    done
}

case "$mode" in
mix)
    mix "$4" "$5"
    ;;
flood)
    flood "$4" "$5" "$6"
    ;;
tunnels)
    shift 3
    tunnels "$@"
    ;;
mail)
    shift 3
    mail "$@"
    ;;
*)
    echo "Usage: bench.sh mix DIR BIN FILE SMALL_FILE | tunnels DIR BIN FILE... | flood DIR BIN FLOOD_FILE TINY_FILE MEMCAP" >&2
    exit 1
    ;;
esac
exit $status
