#!/bin/sh
# test_install.sh BINARY - "make install" into a staging DESTDIR puts every file in place with
# the right modes, the unit names the installed binary, and the man page renders.
set -u
pass=0 fail=0
check() { # check DESCRIPTION COMMAND...
    d=$1
    shift
    if "$@" >/dev/null 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $d"
    fi
}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
if ! make --no-print-directory -s install DESTDIR="$stage" PREFIX=/opt/ps >"$stage.log" 2>&1; then
    cat "$stage.log"
    echo "FAIL make install"
    echo "0 passed, 1 failed"
    exit 1
fi
rm -f "$stage.log"
check "binary installed and runs" "$stage/opt/ps/bin/plainsight" --version
check "binary mode 755" test "$(stat -c %a "$stage/opt/ps/bin/plainsight")" = 755
check "man page installed" test -s "$stage/opt/ps/share/man/man8/plainsight.8"
check "man page names the prefix" grep -q "/opt/ps/share/plainsight/sql" \
    "$stage/opt/ps/share/man/man8/plainsight.8"
if command -v man >/dev/null 2>&1; then
    check "man page renders" sh -c "man -l '$stage/opt/ps/share/man/man8/plainsight.8' | grep -q SIGHUP"
fi
check "schema installed" test -s "$stage/opt/ps/share/plainsight/sql/schema.sql"
check "audit queries installed" test -s "$stage/opt/ps/share/plainsight/sql/audit/exposed-accounts.sql"
check "unit installed" test -s "$stage/opt/ps/lib/systemd/system/plainsight@.service"
check "unit runs the installed binary" grep -q "^ExecStart=/opt/ps/bin/plainsight -i %i" \
    "$stage/opt/ps/lib/systemd/system/plainsight@.service"
check "no placeholder left in the unit" sh -c "! grep -q @BINDIR@ '$stage/opt/ps/lib/systemd/system/plainsight@.service'"
if command -v systemd-analyze >/dev/null 2>&1; then
    # A staged unit cannot find its binary or man page: only other complaints count.
    unit="$stage/opt/ps/lib/systemd/system/plainsight@.service"
    check "unit passes systemd-analyze verify" sh -c \
        "! systemd-analyze verify '$unit' 2>&1 | grep -v -e 'is not executable' -e 'man plainsight' | grep -q ."
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
