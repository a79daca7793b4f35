#!/bin/sh
# test_valgrind.sh BINARY - the release build under valgrind on the project's captures (one
# offline run with JSON and one with --ports-only): no invalid access, no leak. The binary
# given is the sanitizer build, which valgrind cannot run; the release build is made here.
set -u
if ! command -v valgrind >/dev/null 2>&1; then
    echo "SKIP valgrind is not installed"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
make --no-print-directory -s build/rel/plainsight >/dev/null || {
    echo "FAIL cannot build build/rel/plainsight"
    echo "0 passed, 1 failed"
    exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
files=""
for f in captures/*.pcap; do files="$files -r $f"; done
n=0
for extra in "--json=$tmp/out.json" "--ports-only"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    if valgrind -q --error-exitcode=9 --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect build/rel/plainsight -q $files \
        -w "$tmp/v$n.db" $extra >"$tmp/log" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        tail -n 40 "$tmp/log"
        echo "FAIL valgrind run $n ($extra)"
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
