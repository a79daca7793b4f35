#!/usr/bin/env bash
# Regenerate the ManageSieve captures in this directory (captures/managesieve-*.pcap) and their
# truth files (*.truth.json) with a real server and real clients, all on loopback:
#   a private dovecot instance with Pigeonhole's managesieve on 4190 (RFC 5804), clients
#   sieve-connect (which sends the initial response as a {n+} literal) and the socat line-by-line
#   client of lib-mail.sh (for a quoted initial response and AUTHENTICATE LOGIN in steps, which
#   sieve-connect does not send).
#
#   sudo captures/make-managesieve-captures.sh                         # writes next to this script
#   sudo OUT_DIR="$(mktemp -d)" captures/make-managesieve-captures.sh  # or somewhere else
#   KEEP_TMP=1: keep the temporary directory (configs, logs, captures so far) for debugging
#
# captures/make-captures.sh runs this script at its end. The server set-up, capture control,
# line-by-line client and truth files are in lib-mail.sh (same directory). Needs root (port 4190;
# tcpdump). Installs nothing: it says which commands are missing. Debian 12 packages:
# dovecot-core dovecot-managesieved dovecot-sieve sieve-connect tcpdump socat openssl coreutils
# iproute2. sieve-connect always takes STARTTLS when the server offers it, so the cleartext
# captures are made against a dovecot without TLS (DOVECOT_SSL=no) and the STARTTLS one against
# one with TLS; the server is restarted in between. Traffic goes only to 127.0.0.1; the port must
# be free on loopback. Every wait is bounded; dovecot, the client and tcpdump are stopped on exit.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C # byte counts for literals

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${OUT_DIR:-$HERE}
ME=make-managesieve-captures
# shellcheck source=lib-mail.sh
. "$HERE/lib-mail.sh"
SIEVE_PORT=4190

# ---------------------------------------------------------------- preconditions
[ "$(id -u)" -eq 0 ] || die "must run as root (binds port 4190, runs tcpdump)"
missing=()
for c in dovecot doveadm sieve-connect tcpdump socat openssl ss timeout base64 awk grep sed \
    tr wc stat; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
[ -x /usr/lib/dovecot/managesieve-login ] || [ -x /usr/libexec/dovecot/managesieve-login ] ||
    missing+=("dovecot managesieve (package dovecot-managesieved)")
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"
for u in dovecot dovenull nobody; do
    getent passwd "$u" >/dev/null || die "system user '$u' missing (is dovecot-core installed?)"
done
port_free_or_die "$SIEVE_PORT"

mail_init

# ---------------------------------------------------------------- certificate, users, scripts
log "== setting up a private dovecot with managesieve in a temporary directory"
make_cert
write_passwd alice bob
mkdir -p "$T/mail/alice" "$T/mail/bob"
chown -R nobody:nogroup "$T/mail"

# A Sieve script whose text looks like commands and answers of every protocol here: it travels
# inside PUTSCRIPT's literal and must never be taken as a login.
printf '%s\r\n' \
    '# trap lines: script text, not commands' \
    'require ["fileinto"];' \
    '# AUTHENTICATE "PLAIN" "AGV2aWwAcGFzcw=="' \
    '# OK "fake answer"' \
    '# "STARTTLS"' \
    '# a1 LOGIN evil pass' \
    'if header :contains "subject" "AUTHENTICATE" {' \
    '  fileinto "INBOX";' \
    '}' >"$T/trap.siv"
TRAP_BYTES=$(stat -c %s "$T/trap.siv")

CAP_FILTER="tcp port $SIEVE_PORT"

# sc ARGS...: sieve-connect to 127.0.0.1:4190, the password on file descriptor 5 from $SC_PASS;
# its trace goes to $T/sc.err.
sc() {
    timeout 30 sieve-connect --server "$V4" --port "$SIEVE_PORT" --passwordfd 5 "$@" \
        5<<<"$SC_PASS" </dev/null >"$T/sc.out" 2>"$T/sc.err"
}

# The line-by-line client's ManageSieve dialogue: an answer is data lines (and their literals)
# ended by OK, NO or BYE.
ms_until() { # EXPECT(OK|NO|BYE)
    local n=0
    while :; do
        lc_line
        while [[ $REPLY_LINE =~ \{([0-9]+)\}$ ]]; do # a literal follows this line
            lc_bytes "${BASH_REMATCH[1]}"
            lc_line
        done
        case $REPLY_LINE in OK* | NO* | BYE*) break ;; esac
        n=$((n + 1))
        [ "$n" -lt 1000 ] || die "answer too long"
    done
    case $REPLY_LINE in "$1"*) ;; *) die "expected '$1', got '$REPLY_LINE'" ;; esac
}
ms_cmd() { lc_send "$1"; ms_until "$2"; } # CMD EXPECT

# ================================================================ without TLS
DOVECOT_SSL=no dovecot_start sieve "$V4" "plain login"
wait_listen "$SIEVE_PORT"

cap_start managesieve-dovecot-authenticate-plain
SC_PASS=$ALICE_PASS sc --user alice --authmech PLAIN --clearchan --localsieve "$T/trap.siv" \
    --remotesieve trap --upload ||
    { cat "$T/sc.err" >&2; die "sieve-connect failed"; }
cap_stop
ir=$(b64plain alice "$ALICE_PASS")
expect '"IMPLEMENTATION" "Dovecot' "AUTHENTICATE \"PLAIN\" {${#ir}+}" "$ir" 'OK "Logged in."' \
    "PUTSCRIPT \"trap\" {$TRAP_BYTES+}" "# AUTHENTICATE \"PLAIN\" \"AGV2aWwAcGFzcw==\""
if ascii | tr -d '\r' | grep -qx '"STARTTLS"'; then die "$(basename "$CUR"): STARTTLS offered"; fi
truth managesieve "sieve-connect: greeting (no STARTTLS: this dovecot has no TLS), AUTHENTICATE \"PLAIN\" with the initial response as a {n+} literal (alice), OK, PUTSCRIPT whose literal holds trap lines (AUTHENTICATE \"PLAIN\" ..., OK ..., \"STARTTLS\"), OK, LOGOUT" \
    none not-offered @null "$(cred PLAIN alice "$ALICE_PASS" success)"

cap_start managesieve-dovecot-login-fail
if SC_PASS=$WRONG_PASS sc --user bob --authmech PLAIN --clearchan --list; then
    die "sieve-connect with a wrong password succeeded"
fi
cap_stop
expect "AUTHENTICATE \"PLAIN\" {" "$(b64plain bob "$WRONG_PASS")" 'NO "Authentication failed.'
truth managesieve "sieve-connect: greeting (no STARTTLS), AUTHENTICATE \"PLAIN\" with the initial response as a literal (bob, wrong password), NO; sieve-connect gives up" \
    none not-offered @null "$(cred PLAIN bob "$WRONG_PASS" failure)"

cap_start managesieve-dovecot-quoted-login-steps
# sieve-connect sends the initial response as a literal: the line-by-line client sends it as a
# quoted string, and AUTHENTICATE LOGIN in steps (the server's challenges are quoted strings).
lc_open "$SIEVE_PORT"
ms_until OK
ir=$(b64plain bob "$WRONG_PASS")
ms_cmd "AUTHENTICATE \"PLAIN\" \"$ir\"" NO
lc_send 'AUTHENTICATE "LOGIN"'
lc_line
[ "$REPLY_LINE" = '"VXNlcm5hbWU6"' ] || die "expected the Username: challenge, got '$REPLY_LINE'"
lc_send "\"$(b64 alice)\""
lc_line
[ "$REPLY_LINE" = '"UGFzc3dvcmQ6"' ] || die "expected the Password: challenge, got '$REPLY_LINE'"
lc_send "\"$(b64 "$ALICE_PASS")\""
ms_until OK
ms_cmd "LISTSCRIPTS" OK
ms_cmd "LOGOUT" OK
lc_close
cap_stop
expect "AUTHENTICATE \"PLAIN\" \"$ir\"" 'NO "Authentication failed.' '"VXNlcm5hbWU6"' "\"$(b64 alice)\"" \
    '"UGFzc3dvcmQ6"' "\"$(b64 "$ALICE_PASS")\""
truth managesieve "line-by-line client: greeting (no STARTTLS), AUTHENTICATE \"PLAIN\" with the initial response as a quoted string (bob, wrong password), NO, AUTHENTICATE \"LOGIN\" in steps (quoted challenges and responses, alice), OK, LISTSCRIPTS, LOGOUT" \
    none not-offered @null "$(cred PLAIN bob "$WRONG_PASS" failure)" \
    "$(cred LOGIN alice "$ALICE_PASS" success)"

mail_stop_servers
wait_free "$SIEVE_PORT"

# ================================================================ with TLS
# sieve-connect does not say which TLS version it negotiated: dovecot logs it (%k).
DOVECOT_EXTRA='login_log_format_elements = user=<%u> method=%m rip=%r lip=%l mpid=%e %c %k session=<%{session}>' \
    dovecot_start sieve "$V4" "plain login"
wait_listen "$SIEVE_PORT"

cap_start managesieve-dovecot-starttls
SC_PASS=$ALICE_PASS sc --user alice --authmech PLAIN --notlsverify --debug --list ||
    { cat "$T/sc.err" >&2; die "sieve-connect failed"; }
cap_stop
ver=$(grep 'managesieve-login: Info: Login: user=<alice>' "$T/dovecot.log" |
    grep -o 'TLSv1\.[0-3] with cipher' | tail -n1 | awk '{print $1}')
[ -n "$ver" ] || die "no TLS version in the dovecot log"
expect '"STARTTLS"' "STARTTLS" "OK"
forbid "AUTHENTICATE" "$(b64plain alice "$ALICE_PASS")"
truth managesieve "sieve-connect: greeting offers STARTTLS, STARTTLS, OK, $ver handshake; CAPABILITY, AUTHENTICATE \"PLAIN\" (alice), LISTSCRIPTS and LOGOUT inside TLS (no credential visible)" \
    starttls used "$ver"

# ---------------------------------------------------------------- publish
max_bytes_for() {
    case $1 in
        *-starttls.pcap) echo 40000 ;;
        *) echo 20000 ;;
    esac
}
publish 20000
