#!/usr/bin/env bash
# Regenerate the SOCKS5 captures in this directory (captures/socks5-*.pcap) and their truth
# files (*.truth.json): mail through a real SOCKS5 proxy (microsocks), with real servers (a
# private dovecot for POP3 and IMAP, a private postfix for SMTP, SASL through dovecot) and real
# clients (curl; the line-by-line client through OpenBSD netcat's SOCKS5 client), all on
# loopback. Each capture holds the client's connection to the proxy only (tcpdump -i lo
# 'tcp port 1080'): the SOCKS5 handshake, then the mail dialogue inside the tunnel. The proxy's
# own connection to the mail server is not recorded.
#
#   sudo captures/make-socks-captures.sh                         # writes next to this script
#   sudo OUT_DIR="$(mktemp -d)" captures/make-socks-captures.sh  # or somewhere else
#   KEEP_TMP=1: keep the temporary directory (configs, logs, captures so far) for debugging
#
# captures/make-captures.sh runs this script at its end. The server set-up, capture control,
# line-by-line client and truth files are in lib-mail.sh (same directory). Needs root (ports
# 110, 143, 587, 1080, and 995, 993 which dovecot opens too; tcpdump). Installs nothing: it says
# which commands are missing. Debian 12 packages: microsocks netcat-openbsd postfix dovecot-core
# dovecot-pop3d dovecot-imapd tcpdump curl openssl coreutils util-linux (setpriv) iproute2.
# Only this script needs microsocks and netcat-openbsd; the captures are committed, so the build
# and the tests do not. The proxy listens on 127.0.0.1:1080 and runs as nobody; the servers
# listen on loopback (dovecot on 127.0.0.1 and ::1, because the proxy resolves "localhost" for
# the IMAP capture; postfix on 127.0.0.1). Every wait is bounded; the proxy, postfix, dovecot,
# the client and tcpdump are stopped on exit.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${OUT_DIR:-$HERE}
ME=make-socks-captures
# shellcheck source=lib-mail.sh
. "$HERE/lib-mail.sh"
CLIENT_NAME=client.example.test
PROXY_PORT=1080           # not a mail port
PROXY_USER=proxyuser      # RFC 1929 username/password, for the proxy that asks for them
PROXY_PASS=proxypass
SERVER_PORTS=(110 995 143 993 587)

# ---------------------------------------------------------------- preconditions
[ "$(id -u)" -eq 0 ] || die "must run as root (binds ports 110/143/587/993/995, runs tcpdump)"
missing=()
for c in microsocks nc setpriv dovecot doveadm postfix postconf tcpdump curl openssl ss timeout \
    base64 od awk grep sed tr wc stat; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
if command -v nc >/dev/null 2>&1 && ! nc -h 2>&1 | grep -q -- '-X proto'; then
    missing+=("nc with SOCKS5 (package netcat-openbsd)")
fi
[ -x /usr/lib/dovecot/pop3-login ] || [ -x /usr/libexec/dovecot/pop3-login ] ||
    missing+=("dovecot pop3 (package dovecot-pop3d)")
[ -x /usr/lib/dovecot/imap-login ] || [ -x /usr/libexec/dovecot/imap-login ] ||
    missing+=("dovecot imap (package dovecot-imapd)")
PF_DAEMONS=$(postconf -h -d daemon_directory 2>/dev/null || true)
[ -n "$PF_DAEMONS" ] && [ -x "$PF_DAEMONS/smtpd" ] || missing+=("postfix daemons (package postfix)")
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"
for u in dovecot dovenull nobody postfix; do
    getent passwd "$u" >/dev/null || die "system user '$u' missing (are dovecot-core and postfix installed?)"
done
getent group postdrop >/dev/null || die "group 'postdrop' missing (is postfix installed?)"
port_free_or_die "${SERVER_PORTS[@]}" "$PROXY_PORT"

mail_init
PROXY_PID=
cleanup_hook() {  # on exit: stop the proxy (no waiting that could fail here)
    if [ -n "$PROXY_PID" ]; then kill "$PROXY_PID" 2>/dev/null || true; fi
}

# ---------------------------------------------------------------- servers
log "== setting up a private dovecot, a private postfix and microsocks in a temporary directory"
make_cert
write_passwd alice bob carol

# One message per mailbox (POP3 RETR and the SMTP message too), with lines that look like
# commands: they travel inside the tunnel as message text and are not credentials.
msg() {  # USER SUBJECT: a message with CRLF line ends
    printf '%s\r\n' \
        "From: Carol <carol@example.test>" \
        "To: $1 <$1@example.test>" \
        "Subject: $2" \
        "Date: Thu, 01 Feb 2024 10:00:00 +0000" \
        "Message-ID: <trap-$1-${2// /-}@example.test>" \
        "" \
        "Hello $1, these lines are message text, not commands:" \
        "AUTH PLAIN AGV2aWwAcGFzcw==" \
        "USER evil" \
        "PASS notasecret" \
        "a1 LOGIN evil pass" \
        ".hidden line that starts with a dot" \
        "Bye."
}
mkdir -p "$T/mail"
for user in alice bob carol; do
    md="$T/mail/$user/Maildir"
    mkdir -p "$md/new" "$md/cur" "$md/tmp"
    msg "$user" "trap lines inside a SOCKS5 tunnel" >"$md/new/1706781600.M1P1.$HOSTNAME_FAKE"
done
chown -R nobody:nogroup "$T/mail"
msg alice "trap lines inside a SOCKS5 tunnel" >"$T/smtp-msg.eml"

dovecot_start "pop3 imap" "$V4, $V6" "plain login cram-md5" postfix
postfix_start 587
wait_listen "${SERVER_PORTS[@]}"
wait_socket "$T/run/auth-postfix"

# proxy_start [USER PASS]: microsocks on 127.0.0.1:$PROXY_PORT as nobody; with USER and PASS it
# accepts only RFC 1929 username/password, without them only "no authentication".
proxy_start() {
    local auth=()
    if [ $# -eq 2 ]; then auth=(-u "$1" -P "$2"); fi
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
        microsocks -i "$V4" -p "$PROXY_PORT" "${auth[@]}" >>"$T/microsocks.log" 2>&1 &
    PROXY_PID=$!
    wait_listen "$PROXY_PORT"
    kill -0 "$PROXY_PID" 2>/dev/null || die "microsocks did not start"
}
proxy_stop() {
    [ -n "$PROXY_PID" ] || return 0
    kill "$PROXY_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$PROXY_PID" 2>/dev/null; then kill -KILL "$PROXY_PID" 2>/dev/null || true; fi
    wait "$PROXY_PID" 2>/dev/null || true
    PROXY_PID=
    wait_free "$PROXY_PORT"
}

# ---------------------------------------------------------------- capture control, checks
CAP_FILTER="tcp port $PROXY_PORT"

# stream_hex C|S: the payload bytes that the client (C) or the proxy (S) sent, in capture order,
# as lower-case hex (IPv4 on lo: IP header, TCP header, payload; tcpdump -x starts at IP).
stream_hex() {
    tcpdump -r "$CUR" -nn -x 2>/dev/null | awk -v want="$1" -v pp=".$PROXY_PORT:" '
        function num(h,   i, n) {
            n = 0
            for (i = 1; i <= length(h); i++) n = n * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
            return n
        }
        function flush(   ihl, tot, doff) {
            if (hex != "" && dir == want) {
                ihl = num(substr(hex, 2, 1)) * 4
                tot = num(substr(hex, 5, 4))
                doff = num(substr(hex, ihl * 2 + 25, 1)) * 4
                if (tot > ihl + doff) printf "%s", substr(hex, (ihl + doff) * 2 + 1, (tot - ihl - doff) * 2)
            }
            hex = ""
        }
        /^[0-9]/ {
            flush()
            dir = ""
            for (i = 1; i <= NF; i++) if ($i == ">") { d = $(i + 1); break }
            dir = (substr(d, length(d) - length(pp) + 1) == pp) ? "C" : "S"
            next
        }
        /^[ \t]+0x[0-9a-f]+:/ { for (i = 2; i <= NF; i++) hex = hex $i }
        END { flush() }'
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
hex8() { printf '%02x' "$1"; }
hex16() { printf '%04x' "$1"; }
# socks_check AUTH ATYP_HEX ADDR_HEX PORT: the capture starts with a SOCKS5 handshake: the
# client's greeting offers "no authentication" (AUTH none) or username/password (AUTH userpass),
# the proxy picks it, for userpass the client sends $PROXY_USER/$PROXY_PASS and the proxy says
# yes, the client asks to CONNECT to ATYP ADDR PORT and the proxy says "succeeded".
socks_check() {
    local c s n methods want_c want_s
    c=$(stream_hex C)
    s=$(stream_hex S)
    [ "${c:0:2}" = 05 ] || die "$(basename "$CUR"): the client did not open with SOCKS5 (${c:0:16})"
    n=$((16#${c:2:2}))
    methods=${c:4:$((2 * n))}
    log "   SOCKS5 client greeting: 05 $(hex8 "$n") $methods"
    c=${c:$((4 + 2 * n))}
    case $1 in
        none)
            [[ $methods =~ ^(..)*00 ]] || die "$(basename "$CUR"): no-auth not offered ($methods)"
            want_s=0500
            want_c=
            ;;
        userpass)
            [[ $methods =~ ^(..)*02 ]] || die "$(basename "$CUR"): username/password not offered ($methods)"
            want_s=05020100
            want_c=01$(hex8 ${#PROXY_USER})$(hex "$PROXY_USER")$(hex8 ${#PROXY_PASS})$(hex "$PROXY_PASS")
            ;;
        *) die "socks_check: AUTH '$1'" ;;
    esac
    want_c+=050100$2$3$(hex16 "$4")
    [ "${c:0:${#want_c}}" = "$want_c" ] ||
        die "$(basename "$CUR"): client handshake ${c:0:${#want_c}}, want $want_c"
    want_s+=050000   # version 5, "succeeded", reserved; then the bound address
    [ "${s:0:${#want_s}}" = "$want_s" ] ||
        die "$(basename "$CUR"): proxy handshake ${s:0:${#want_s}}, want $want_s"
    log "   SOCKS5 client then: ${c:0:${#want_c}}"
    log "   SOCKS5 proxy: ${s:0:$((${#want_s} + 20))}"
}
curl_run() {  # curl ARGS...: must succeed
    timeout 40 curl -sS -v --max-time 30 "$@" >/dev/null 2>"$T/curl.err" ||
        { cat "$T/curl.err" >&2; die "curl failed"; }
}
V4_HEX=7f000001          # 127.0.0.1 in a SOCKS5 request (ATYP 01)
LOCALHOST_HEX=$(hex localhost)

# ---------------------------------------------------------------- scenarios
proxy_start "$PROXY_USER" "$PROXY_PASS"
cap_start socks5-pop3-userpass
curl_run -x "socks5://$V4:$PROXY_PORT" --proxy-user "$PROXY_USER:$PROXY_PASS" \
    --sasl-ir --login-options 'AUTH=PLAIN' -u "alice:$ALICE_PASS" "pop3://$V4/1"
cap_stop
proxy_stop
socks_check userpass 01 "$V4_HEX" 110
expect "+OK Dovecot ready." "CAPA" "STLS" "AUTH PLAIN $(b64plain alice "$ALICE_PASS")" "+OK Logged in" \
    "RETR 1" "USER evil" "PASS notasecret" "..hidden line" "QUIT"
truth pop3 "curl through microsocks on 1080 with RFC 1929 authentication: greeting (methods 00 01 02), method 02, proxyuser/proxypass, accepted, CONNECT 127.0.0.1:110 (IPv4), succeeded; then POP3 in the tunnel: CAPA (lists STLS, not used), AUTH PLAIN with the initial response (alice), success, RETR 1 (trap lines), QUIT" \
    none offered-not-used @null \
    "$(cred SOCKS5 "$PROXY_USER" "$PROXY_PASS" success)" \
    "$(cred PLAIN alice "$ALICE_PASS" success)"

proxy_start
cap_start socks5-smtp-noauth
curl_run -x "socks5://$V4:$PROXY_PORT" --login-options 'AUTH=LOGIN' -u "bob:$BOB_PASS" \
    --mail-from carol@example.test --mail-rcpt alice@example.test -T "$T/smtp-msg.eml" \
    "smtp://$V4:587/$CLIENT_NAME"
cap_stop
proxy_stop
socks_check none 01 "$V4_HEX" 587
expect "220 $HOSTNAME_FAKE ESMTP" "250-STARTTLS" "AUTH LOGIN" "334 VXNlcm5hbWU6" "$(b64 bob)" \
    "334 UGFzc3dvcmQ6" "$(b64 "$BOB_PASS")" "235 2.7.0 Authentication successful" \
    "USER evil" "..hidden line" "250 2.0.0 Ok: queued" "QUIT"
forbid "$PROXY_PASS"
truth smtp "curl through microsocks on 1080 without proxy authentication: greeting (methods 00 01), method 00, CONNECT 127.0.0.1:587 (IPv4), succeeded; then SMTP in the tunnel: EHLO (offers STARTTLS, not used), AUTH LOGIN (bob, password with spaces), 235, MAIL, RCPT, DATA (trap lines), QUIT" \
    none offered-not-used @null "$(cred LOGIN bob "$BOB_PASS" success)"

proxy_start
cap_start socks5-imap-noauth
# curl 7.88 cannot be told to use the IMAP LOGIN command while the server offers SASL, so the
# line-by-line client talks through OpenBSD netcat's SOCKS5 client. nc sends the name
# "localhost" in the request (ATYP 03): the proxy resolves it.
lc_open_cmd nc -N -w 20 -X 5 -x "$V4:$PROXY_PORT" localhost 143
imap_greeting
imap_cmd a1 "LOGIN $(imap_quote carol) $(imap_quote "$CAROL_PASS")" OK
imap_cmd a2 "SELECT INBOX" OK
imap_cmd a3 "FETCH 1 BODY[]" OK
imap_cmd a4 "LOGOUT" OK
lc_close
cap_stop
proxy_stop
socks_check none 03 "$(hex8 9)$LOCALHOST_HEX" 143   # 9 bytes: "localhost"
expect "* OK [CAPABILITY " "STARTTLS" 'a1 LOGIN "carol" "Quo\"te\\Back slash"' "a1 OK" \
    "* 1 FETCH (" "a1 LOGIN evil pass" "AUTH PLAIN AGV2aWwAcGFzcw==" "a3 OK" "a4 OK"
truth imap "OpenBSD netcat (nc -X 5) through microsocks on 1080 without proxy authentication: greeting (method 00 only), method 00, CONNECT localhost:143 (domain name), succeeded; then IMAP in the tunnel: greeting with [CAPABILITY] offering STARTTLS (not used), a1 LOGIN carol with quoted strings (on the wire \"Quo\\\"te\\\\Back slash\"), OK, SELECT, FETCH 1 BODY[] (the literal holds trap lines such as a1 LOGIN evil pass), LOGOUT" \
    none offered-not-used @null "$(cred "IMAP LOGIN" carol "$CAROL_PASS" success)"

# ---------------------------------------------------------------- publish
publish 20000
