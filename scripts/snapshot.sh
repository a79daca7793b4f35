#!/bin/sh
# snapshot.sh BINARY OUTDIR - what a build of plainsight makes of every capture we can reach,
# in a form two builds can be diffed by: "diff -r OLD NEW" says whether a change of code
# changed behaviour.
#
# Each capture is read in a run of its own with --reveal-secrets (so the secret itself is
# compared, not the per-database fingerprint, which is keyed at random). For each it keeps the
# JSON lines with the fingerprint blanked, the run's counters, and the exit status. Captures:
# captures/*.pcap, ../shared/captures/public and public-tunnels when present, and generated
# ones (bench/gen: the mixed traffic, a flood, all mail with many sessions at once, the last
# also under a small --memcap so that eviction is compared too).
set -eu
bin=$1
out=$2
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gen=build/bench/gen
[ -x "$gen" ] || make --no-print-directory -s "$gen" >/dev/null

snap() { # snap NAME [plainsight options...]
    name=$1
    shift
    rm -f "$tmp/db" "$tmp/db-wal" "$tmp/db-shm" "$tmp/json"
    rc=0
    "$bin" -q --reveal-secrets -w "$tmp/db" --json="$tmp/json" "$@" 2>"$tmp/err" || rc=$?
    {
        echo "exit $rc"
        sed -e 's/"secret_fingerprint":"[0-9a-f]*"/"secret_fingerprint":"-"/g' "$tmp/json"
        sqlite3 "$tmp/db" "SELECT name || ' ' || value FROM run_counters ORDER BY name;"
    } >"$out/$name.txt"
}

for f in captures/*.pcap; do
    snap "$(basename "$f" .pcap)" -r "$f"
done
for d in ../shared/captures/public ../shared/captures/public-tunnels; do
    [ -d "$d" ] || continue
    for f in "$d"/*.pcap "$d"/*.pcapng; do
        [ -f "$f" ] || continue
        snap "$(basename "$d")-$(basename "$f")" -r "$f"
        snap "$(basename "$d")-$(basename "$f")-ports-only" --ports-only -r "$f"
    done
done

g=$tmp/gen
"$gen" --size 32M --seed 7 -o "$g-mix.pcap" -t "$g-mix.json" >/dev/null
"$gen" --flood 50000 --seed 7 -o "$g-flood.pcap" -t "$g-flood.json" >/dev/null
"$gen" --size 48M --seed 7 --mail-share 1.0 --concurrency 20000 -o "$g-mail.pcap" \
    -t "$g-mail.json" >/dev/null
snap gen-mix -r "$g-mix.pcap"
snap gen-mix-ports-only --ports-only -r "$g-mix.pcap"
snap gen-flood --memcap 16M -r "$g-flood.pcap"
snap gen-mail -r "$g-mail.pcap"
snap gen-mail-memcap --memcap 24M -r "$g-mail.pcap"
echo "snapshot: $(ls "$out" | wc -l) runs in $out"
