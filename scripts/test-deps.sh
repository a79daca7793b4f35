#!/bin/sh
# test-deps.sh - scripts/deps.sh and the Makefile's use of it, against stand-ins: a pkg-config
# that says libndpi is missing, an apt-get that only logs its arguments, an id that says root
# or not. Plain make and make install must print the apt-get command and fail without calling
# apt-get; the install mode must call it (apt-get update first when there are no package lists,
# or when the install fails). Run from the repository root ("make deps-selftest", inside
# "make check"). Prints each failure and "deps-selftest: N checks, N failed"; exit 1 on any.
set -u
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fake=$tmp/bin
mkdir -p "$fake" "$tmp/lists-empty" "$tmp/lists-full"
: >"$tmp/lists-full/mirror_dists_stable_main_binary-amd64_Packages.lz4"
real_pkg_config=$(command -v pkg-config || echo false)

cat >"$fake/pkg-config" <<EOF
#!/bin/sh
for a; do [ "\$a" = libndpi ] && exit 1; done
exec $real_pkg_config "\$@"
EOF
# Logs every call; an install fails while \$tmp/apt-fail-once exists (and removes it).
cat >"$fake/apt-get" <<EOF
#!/bin/sh
echo "apt-get \$*" >>"$tmp/apt.log"
case "\$*" in *install*) [ -e "$tmp/apt-fail-once" ] && rm -f "$tmp/apt-fail-once" && exit 100 ;; esac
exit 0
EOF
cat >"$fake/id" <<EOF
#!/bin/sh
[ "\$1" = -u ] && echo "\${FAKE_UID:-1000}" && exit 0
exec /usr/bin/id "\$@"
EOF
chmod +x "$fake/pkg-config" "$fake/apt-get" "$fake/id"

n=0 failed=0
ok() { # ok DESCRIPTION COMMAND...: counts a check that passes when COMMAND exits 0
    d=$1
    shift
    n=$((n + 1))
    if ! "$@"; then
        failed=$((failed + 1))
        echo "FAIL $d"
        sed 's/^/    /' "$tmp/out" 2>/dev/null
        [ -s "$tmp/apt.log" ] && sed 's/^/    apt.log: /' "$tmp/apt.log"
    fi
}
# fresh UID LISTS COMMAND...: runs COMMAND with the stand-ins first on PATH, output in $tmp/out
fresh() {
    uid=$1 lists=$2
    shift 2
    rm -f "$tmp/apt.log"
    : >"$tmp/apt.log"
    FAKE_UID=$uid APT_LISTS=$tmp/$lists PATH="$fake:$PATH" "$@" >"$tmp/out" 2>&1
    echo $? >"$tmp/rc"
}
rc_is() { [ "$(cat "$tmp/rc")" = "$1" ]; }
rc_not() { [ "$(cat "$tmp/rc")" != "$1" ]; }
no_apt() { [ ! -s "$tmp/apt.log" ]; }
says() { grep -qxF -- "$1" "$tmp/out"; }
apt_log_is() { printf '%s\n' "$@" | cmp -s - "$tmp/apt.log"; }

install_line="apt-get install -y -qq --no-install-recommends libndpi-dev"

for uid in 0 1000; do
    sudo="sudo "
    [ "$uid" = 0 ] && sudo=""
    cmd="  ${sudo}apt-get install -y --no-install-recommends libndpi-dev"
    fresh $uid lists-full sh scripts/deps.sh check build
    ok "uid $uid: deps.sh check fails" rc_is 1
    ok "uid $uid: deps.sh check prints the command" says "$cmd"
    ok "uid $uid: deps.sh check installs nothing" no_apt

    fresh $uid lists-full make --no-print-directory -s -C "$root" all
    ok "uid $uid: make fails" rc_not 0
    ok "uid $uid: make prints the command" says "$cmd"
    ok "uid $uid: make installs nothing" no_apt

    mkdir -p "$tmp/stage$uid"
    fresh $uid lists-full make --no-print-directory -s -C "$root" install DESTDIR="$tmp/stage$uid"
    ok "uid $uid: make install fails" rc_not 0
    ok "uid $uid: make install prints the command" says "$cmd"
    ok "uid $uid: make install installs nothing" no_apt
    ok "uid $uid: make install copies nothing" sh -c "[ -z \"\$(ls -A '$tmp/stage$uid')\" ]"
done

fresh 1000 lists-full sh scripts/deps.sh install run
ok "not root: install mode fails" rc_is 1
ok "not root: install mode prints the sudo command" \
    says "  sudo apt-get install -y --no-install-recommends libndpi-dev"
ok "not root: install mode installs nothing" no_apt

fresh 0 lists-full sh scripts/deps.sh install run
ok "root: install mode succeeds" rc_is 0
ok "root, package lists present: install only" apt_log_is "$install_line"

fresh 0 lists-empty sh scripts/deps.sh install run
ok "root, no package lists: update, then install" apt_log_is "apt-get update -qq" "$install_line"

: >"$tmp/apt-fail-once"
fresh 0 lists-full sh scripts/deps.sh install run
ok "root, install fails: update and retry" rc_is 0
ok "root, install fails: update and retry (calls)" \
    apt_log_is "$install_line" "apt-get update -qq" "$install_line"

# "make run" installs before it builds: apt-get is called, then the build's own check still
# fails here because the stand-in pkg-config never finds libndpi.
fresh 0 lists-full make --no-print-directory -s -C "$root" run
ok "make run installs first" apt_log_is "$install_line"

echo "deps-selftest: $n checks, $failed failed"
[ "$failed" = 0 ]
