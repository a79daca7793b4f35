#!/usr/bin/env bash
# Regenerate the POP3 captures in this directory (captures/pop3-*.pcap) and their truth files
# (captures/pop3-*.truth.json) with a real server (a private dovecot instance) and real clients
# (curl, and a small line-by-line client built on socat), all on loopback.
#
#   sudo captures/make-captures.sh            # writes next to this script
#   OUT_DIR=/some/dir captures/make-captures.sh
#   KEEP_TMP=1: keep the temporary directory (configs, logs, captures so far) for debugging
#
# At the end it stops its dovecot and runs make-mail-captures.sh (same directory), which makes
# the SMTP and IMAP captures (captures/smtp-*, captures/imap-*) with a private postfix and
# dovecot, then make-socks-captures.sh, which makes the SOCKS5 captures (captures/socks5-*)
# through microsocks, then make-managesieve-captures.sh, which makes the ManageSieve captures
# (captures/managesieve-*) with dovecot's managesieve, then make-ftp-captures.sh, which makes the
# FTP captures (captures/ftp-*) with vsftpd in a network namespace, then make-ldap-captures.sh
# (captures/ldap-*, slapd in a network namespace), then make-http-captures.sh, which makes the
# HTTP captures (captures/http-*) with nginx, curl and python3 in a network namespace;
# POP3_ONLY=1 skips them. Run any alone to
# remake only its captures.
# The server set-up, capture control, line-by-line client and truth files are in lib-mail.sh.
#
# Needs root (ports 110/995, tcpdump). Installs nothing: it says which commands are missing.
# Debian 12 packages: dovecot-core dovecot-pop3d tcpdump socat curl openssl coreutils iproute2.
# Traffic goes only to 127.0.0.1 and ::1; the server ports are the real ones (110, 995), which
# must be free on loopback. Every wait is bounded; dovecot and tcpdump are stopped on exit.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${OUT_DIR:-$HERE}
ME=make-captures
# shellcheck source=lib-mail.sh
. "$HERE/lib-mail.sh"

# ---------------------------------------------------------------- preconditions
[ "$(id -u)" -eq 0 ] || die "must run as root (binds ports 110/995, runs tcpdump)"
missing=()
for c in dovecot doveadm tcpdump socat curl openssl ss timeout base64 md5sum awk grep sed; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
[ -x /usr/lib/dovecot/pop3-login ] || [ -x /usr/libexec/dovecot/pop3-login ] ||
    missing+=("dovecot pop3 (package dovecot-pop3d)")
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"
for u in dovecot dovenull nobody; do
    getent passwd "$u" >/dev/null || die "system user '$u' missing (is dovecot-core installed?)"
done
port_free_or_die 110 995

mail_init

# ---------------------------------------------------------------- server set-up
log "== setting up a private dovecot in a temporary directory"
mkdir -p "$T/mail"
make_cert
write_passwd alice bob

# One message per mailbox. The body holds lines that look like POP3 commands and responses: they
# travel inside RETR's multi-line answer and must never be taken as a login. ".hidden..." is
# dot-stuffed on the wire ("..hidden...").
msg() {
    local user=$1
    printf '%s\r\n' \
        "Return-Path: <carol@example.test>" \
        "From: Carol <carol@example.test>" \
        "To: $user <$user@example.test>" \
        "Subject: trap lines for the POP3 parser" \
        "Date: Thu, 01 Feb 2024 10:00:00 +0000" \
        "Message-ID: <trap-$user@example.test>" \
        "" \
        "Hello $user, these lines are message text, not POP3 commands:" \
        "USER evil" \
        "PASS notasecret" \
        "AUTH PLAIN AGV2aWwAcGFzcw==" \
        "APOP evil c4c9334bac560ecc979e58001b3e22fb" \
        "+OK fake server reply" \
        "-ERR fake server reply" \
        ".hidden line that starts with a dot" \
        "Bye."
}
for user in alice bob; do
    md="$T/mail/$user/Maildir"
    mkdir -p "$md/new" "$md/cur" "$md/tmp"
    msg "$user" >"$md/new/1706781600.M1P1.$HOSTNAME_FAKE"
done
chown -R nobody:nogroup "$T/mail"

dovecot_start pop3 "$V4, $V6" "plain login cram-md5 apop"
wait_listen 110 995
if ! ss -Hltn "sport = :110" | grep -q '\[::1\]'; then die "dovecot is not listening on [::1]:110"; fi

# ---------------------------------------------------------------- capture control
# cap_start NAME [IFACE] writes $STAGE/pop3-NAME.pcap.
CAP_PREFIX=pop3-
CAP_QUIET=1
CAP_FILTER='tcp port 110 or tcp port 995'

# ---------------------------------------------------------------- POP3 dialogue
# The line-by-line client (lib-mail.sh) on port 110.
pop_open() { lc_open 110 "$1"; }  # HOST (127.0.0.1 or ::1)
pop_multi() {  # read a multi-line body up to the terminating "."
    local n=0
    while :; do
        lc_line
        [ "$REPLY_LINE" = "." ] && return 0
        n=$((n + 1))
        [ "$n" -lt 1000 ] || die "multi-line answer too long"
    done
}
pop_cmd() {  # CMD EXPECT(+OK|-ERR|+) [multi]
    lc_send "$1"
    lc_line
    case $REPLY_LINE in
        "$2"*) ;;
        *) die "after '$1' expected '$2', got '$REPLY_LINE'" ;;
    esac
    if [ "${3:-}" = multi ]; then pop_multi; fi
}
pop_close() { lc_close; }
pop_greeting() {
    lc_line
    case $REPLY_LINE in "+OK"*) ;; *) die "bad greeting '$REPLY_LINE'" ;; esac
}

# ---------------------------------------------------------------- scenarios
log "== 1. dovecot-user-pass"
cap_start dovecot-user-pass
pop_open $V4; pop_greeting
pop_cmd "USER alice" "+OK"
pop_cmd "PASS $ALICE_PASS" "+OK"
pop_cmd "LIST" "+OK" multi
pop_cmd "RETR 1" "+OK" multi
pop_cmd "QUIT" "+OK"
pop_close
cap_stop
expect "USER alice" "PASS $ALICE_PASS" "USER evil" "PASS notasecret" "..hidden line"
truth pop3 "USER/PASS login that succeeds, then LIST, RETR 1 (body with command-like trap lines, not credentials), QUIT" \
    none @null @null "$(cred USER/PASS alice "$ALICE_PASS" success)"

log "== 2. dovecot-user-pass-fail"
cap_start dovecot-user-pass-fail
pop_open $V4; pop_greeting
pop_cmd "USER alice" "+OK"
pop_cmd "PASS $WRONG_PASS" "-ERR"
pop_cmd "USER alice" "+OK"
pop_cmd "PASS $ALICE_PASS" "+OK"
pop_cmd "QUIT" "+OK"
pop_close
cap_stop
expect "PASS $WRONG_PASS" "-ERR [AUTH]" "PASS $ALICE_PASS"
truth pop3 "USER/PASS with a wrong password (-ERR), then USER/PASS again with the right one (+OK), QUIT" \
    none @null @null \
    "$(cred USER/PASS alice "$WRONG_PASS" failure)" \
    "$(cred USER/PASS alice "$ALICE_PASS" success)"

log "== 3. dovecot-auth-plain (curl, SASL-IR)"
cap_start dovecot-auth-plain
timeout 30 curl -sS -v --max-time 20 --sasl-ir --login-options 'AUTH=PLAIN' \
    -u "bob:$BOB_PASS" "pop3://$V4/" >/dev/null 2>"$T/curl.err" ||
    { cat "$T/curl.err" >&2; die "curl failed"; }
cap_stop
expect "CAPA" "STLS" "AUTH PLAIN $(b64plain bob "$BOB_PASS")" "+OK Logged in"
truth pop3 "curl: CAPA (lists STLS, not used), AUTH PLAIN with the initial response on the same line (bob, password with spaces), LIST, QUIT" \
    none offered-not-used @null "$(cred PLAIN bob "$BOB_PASS" success)"

log "== 4. dovecot-auth-plain-continuation (curl, no SASL-IR)"
cap_start dovecot-auth-plain-continuation
timeout 30 curl -sS -v --max-time 20 --login-options 'AUTH=PLAIN' \
    -u "alice:$ALICE_PASS" "pop3://$V4/" >/dev/null 2>"$T/curl.err" ||
    { cat "$T/curl.err" >&2; die "curl failed"; }
cap_stop
expect "CAPA" "STLS" "$(b64plain alice "$ALICE_PASS")" "+OK Logged in"
forbid "AUTH PLAIN A"
truth pop3 "curl: CAPA (lists STLS, not used), \"AUTH PLAIN\", server \"+ \", base64 response on its own line, success, LIST, QUIT" \
    none offered-not-used @null "$(cred PLAIN alice "$ALICE_PASS" success)"

log "== 5. dovecot-auth-login (curl, wrong password)"
cap_start dovecot-auth-login
if timeout 30 curl -sS -v --max-time 20 --login-options 'AUTH=LOGIN' \
    -u "alice:$WRONG_PASS" "pop3://$V4/" >/dev/null 2>"$T/curl.err"; then
    die "curl AUTH LOGIN with a wrong password succeeded"
fi
cap_stop
expect "AUTH LOGIN" "+ VXNlcm5hbWU6" "$(b64 alice)" "+ UGFzc3dvcmQ6" "$(b64 "$WRONG_PASS")" "-ERR [AUTH]"
truth pop3 "curl: CAPA (lists STLS, not used), AUTH LOGIN in steps (Username:/Password: prompts), wrong password, -ERR" \
    none offered-not-used @null "$(cred LOGIN alice "$WRONG_PASS" failure)"

log "== 6. dovecot-apop (curl AUTH=+APOP)"
cap_start dovecot-apop
timeout 30 curl -sS -v --max-time 20 --login-options 'AUTH=+APOP' \
    -u "alice:$ALICE_PASS" "pop3://$V4/" >/dev/null 2>"$T/curl.err" ||
    { cat "$T/curl.err" >&2; die "curl failed"; }
cap_stop
# The digest on the wire must be MD5(timestamp from the greeting + password).
a=$(ascii)
ts=$(grep -o '+OK Dovecot ready\. <[^>]*>' <<<"$a" | head -n1 | grep -o '<[^>]*>') ||
    die "no APOP timestamp in the greeting"
digest=$(printf '%s%s' "$ts" "$ALICE_PASS" | md5sum | awk '{print $1}')
expect "APOP alice $digest" "+OK Logged in"
truth pop3 "curl: greeting with an APOP timestamp, CAPA (lists STLS, not used), APOP alice <MD5 digest> (password not on the wire), success, LIST, QUIT" \
    none offered-not-used @null "$(cred APOP alice @null success)"

log "== 7. dovecot-capa-stls (curl --ssl-reqd, TLS 1.3)"
cap_start dovecot-capa-stls
timeout 30 curl -sS -v --max-time 20 -k --ssl-reqd --tlsv1.3 --login-options 'AUTH=PLAIN' \
    -u "alice:$ALICE_PASS" "pop3://$V4/" >/dev/null 2>"$T/curl.err" ||
    { cat "$T/curl.err" >&2; die "curl failed"; }
cap_stop
ver=$(curl_tls_version "$T/curl.err")
[ "$ver" = TLSv1.3 ] || die "expected TLSv1.3, curl says '$ver'"
expect "CAPA" "STLS" "+OK Begin TLS negotiation now."
forbid "$ALICE_PASS" "$(b64plain alice "$ALICE_PASS")" "Logged in"
truth pop3 "curl: CAPA (lists STLS), STLS, TLS 1.3 handshake, then AUTH PLAIN, LIST, QUIT inside TLS (no credential visible)" \
    starttls used "$ver"

log "== 8. dovecot-capa-no-stls-used"
cap_start dovecot-capa-no-stls-used
pop_open $V4; pop_greeting
pop_cmd "CAPA" "+OK" multi
pop_cmd "USER bob" "+OK"
pop_cmd "PASS $BOB_PASS" "+OK"
pop_cmd "STAT" "+OK"
pop_cmd "QUIT" "+OK"
pop_close
cap_stop
expect "STLS" "USER bob" "PASS $BOB_PASS"
truth pop3 "CAPA lists STLS, the client ignores it and logs in with USER/PASS in the clear (password with spaces), STAT, QUIT" \
    none offered-not-used @null "$(cred USER/PASS bob "$BOB_PASS" success)"

log "== 9. dovecot-pop3s (curl pop3s://, TLS 1.2)"
cap_start dovecot-pop3s
timeout 30 curl -sS -v --max-time 20 -k --tlsv1.2 --tls-max 1.2 --login-options 'AUTH=PLAIN' \
    -u "bob:$BOB_PASS" "pop3s://$V4/1" >/dev/null 2>"$T/curl.err" ||
    { cat "$T/curl.err" >&2; die "curl failed"; }
cap_stop
ver=$(curl_tls_version "$T/curl.err")
[ "$ver" = TLSv1.2 ] || die "expected TLSv1.2, curl says '$ver'"
forbid "+OK" "CAPA" "USER" "AUTH" "$BOB_PASS" "evil"
truth pop3 "curl: implicit TLS 1.2 on port 995; CAPA, AUTH PLAIN, RETR 1, QUIT all inside TLS (no credential visible)" \
    implicit n/a "$ver"

log "== 10. dovecot-any-sll2 (tcpdump -i any, over ::1)"
cap_start dovecot-any-sll2 any
pop_open $V6; pop_greeting
pop_cmd "USER alice" "+OK"
pop_cmd "PASS $ALICE_PASS" "+OK"
pop_cmd "LIST" "+OK" multi
pop_cmd "RETR 1" "+OK" multi
pop_cmd "QUIT" "+OK"
pop_close
cap_stop
lt=$(tcpdump -r "$CUR" -c1 -nn -e 2>&1 >/dev/null | grep -o 'link-type [A-Z0-9_]*' | awk '{print $2}')
[ "$lt" = LINUX_SLL2 ] || die "expected link type LINUX_SLL2, got '$lt'"
expect "USER alice" "PASS $ALICE_PASS" "USER evil"
truth pop3 "Scenario 1 again over IPv6 ::1, captured with tcpdump -i any (link type LINUX_SLL2): USER/PASS success, LIST, RETR 1 (trap lines), QUIT" \
    none @null @null "$(cred USER/PASS alice "$ALICE_PASS" success)"

log "== 11. dovecot-ipv6"
cap_start dovecot-ipv6
pop_open $V6; pop_greeting
pop_cmd "USER bob" "+OK"
pop_cmd "PASS $BOB_PASS" "+OK"
pop_cmd "LIST" "+OK" multi
pop_cmd "QUIT" "+OK"
pop_close
cap_stop
expect "USER bob" "PASS $BOB_PASS"
truth pop3 "USER/PASS over IPv6 ::1 (password with spaces), success, LIST, QUIT" \
    none @null @null "$(cred USER/PASS bob "$BOB_PASS" success)"

log "== 12. dovecot-auth-cram-md5 (curl's default choice)"
cap_start dovecot-auth-cram-md5
timeout 30 curl -sS -v --max-time 20 -u "alice:$ALICE_PASS" "pop3://$V4/" >/dev/null 2>"$T/curl.err" ||
    { cat "$T/curl.err" >&2; die "curl failed"; }
cap_stop
expect "AUTH CRAM-MD5" "+OK Logged in"
forbid "$ALICE_PASS"
truth pop3 "curl with no options: CAPA (lists STLS, not used), AUTH CRAM-MD5 challenge/response (password not on the wire), success, LIST, QUIT" \
    none offered-not-used @null "$(cred CRAM-MD5 alice @null success)"

# ---------------------------------------------------------------- publish
publish 40000

# ---------------------------------------------------------------- SMTP, IMAP, SOCKS5, ManageSieve, FTP
if [ -z "${POP3_ONLY:-}" ]; then
    mail_stop_servers   # make-socks-captures.sh needs 110 and 995 too
    wait_free 110 995
    log "== SMTP and IMAP: make-mail-captures.sh"
    OUT_DIR="$OUT_DIR" "$HERE/make-mail-captures.sh"
    log "== SOCKS5: make-socks-captures.sh"
    OUT_DIR="$OUT_DIR" "$HERE/make-socks-captures.sh"
    log "== ManageSieve: make-managesieve-captures.sh"
    OUT_DIR="$OUT_DIR" "$HERE/make-managesieve-captures.sh"
    log "== FTP: make-ftp-captures.sh"
    OUT_DIR="$OUT_DIR" "$HERE/make-ftp-captures.sh"
    log "== LDAP: make-ldap-captures.sh"
    OUT_DIR="$OUT_DIR" "$HERE/make-ldap-captures.sh"
    log "== HTTP: make-http-captures.sh"
    OUT_DIR="$OUT_DIR" "$HERE/make-http-captures.sh"
fi
