#!/usr/bin/env bash
# Regenerate the POP3 captures in this directory (captures/pop3-*.pcap) and their truth files
# (captures/pop3-*.truth.json) with a real server (a private dovecot instance) and real clients
# (curl, and a small line-by-line client below built on socat), all on loopback.
#
#   sudo captures/make-captures.sh            # writes next to this script
#   OUT_DIR=/some/dir captures/make-captures.sh
#
# At the end it runs make-mail-captures.sh (same directory), which makes the SMTP and IMAP
# captures (captures/smtp-*, captures/imap-*) with a private postfix and dovecot; POP3_ONLY=1
# skips that. Run make-mail-captures.sh alone to remake only the SMTP and IMAP captures.
#
# Needs root (ports 110/995, tcpdump). Installs nothing: it says which commands are missing.
# Debian 12 packages: dovecot-core dovecot-pop3d tcpdump socat curl openssl coreutils iproute2.
# Traffic goes only to 127.0.0.1 and ::1; the server ports are the real ones (110, 995), which
# must be free on loopback. Every wait is bounded; dovecot and tcpdump are stopped on exit.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${OUT_DIR:-$HERE}
HOSTNAME_FAKE=mail.example.test
V4=127.0.0.1
V6=::1

ALICE_PASS='Secr3t-alice'
BOB_PASS='hunter2 with spaces'
WRONG_PASS='wrong-password'

log() { printf '%s\n' "$*" >&2; }
die() { log "make-captures: $*"; exit 1; }

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
for p in 110 995; do
    if [ -n "$(ss -Hltn "sport = :$p")" ]; then die "port $p is already in use"; fi
done

T=$(mktemp -d)
chmod 755 "$T"   # the mail processes run as nobody and must reach the maildirs
STAGE="$T/out"
mkdir -p "$STAGE"
TCPDUMP_PID=
DOVECOT_STARTED=
POP_PID=

cleanup() {
    local rc=$?
    if [ -n "$POP_PID" ]; then kill "$POP_PID" 2>/dev/null || true; fi
    if [ -n "$TCPDUMP_PID" ]; then kill -INT "$TCPDUMP_PID" 2>/dev/null || true; fi
    if [ -n "$DOVECOT_STARTED" ]; then
        timeout 10 dovecot -c "$T/dovecot.conf" stop 2>/dev/null || true
        if [ -f "$T/run/master.pid" ]; then
            local mp
            mp=$(cat "$T/run/master.pid" 2>/dev/null || true)
            for _ in $(seq 50); do
                if [ -z "$mp" ] || ! kill -0 "$mp" 2>/dev/null; then break; fi
                sleep 0.1
            done
            if [ -n "$mp" ] && kill -0 "$mp" 2>/dev/null; then kill -KILL "$mp" 2>/dev/null || true; fi
        fi
    fi
    if [ "$rc" -ne 0 ] && [ -f "$T/dovecot.log" ]; then
        log "--- dovecot log (last 30 lines) ---"
        tail -n 30 "$T/dovecot.log" >&2 || true
    fi
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- server set-up
log "== setting up a private dovecot in a temporary directory"
mkdir -p "$T/run" "$T/state" "$T/mail"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=$HOSTNAME_FAKE" -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null ||
    die "openssl could not make a certificate"
chmod 600 "$T/key.pem"

# passwd-file: user:password:uid:gid:gecos:home:shell:extra. PLAIN scheme so APOP and CRAM-MD5 work.
cat >"$T/passwd" <<EOF
alice:{PLAIN}$ALICE_PASS::::::
bob:{PLAIN}$BOB_PASS::::::
EOF

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

cat >"$T/dovecot.conf" <<EOF
# Private instance for captures/make-captures.sh; nothing here touches the system dovecot.
instance_name = plainsight-captures
base_dir = $T/run
state_dir = $T/state
log_path = $T/dovecot.log
info_log_path = $T/dovecot.log
debug_log_path = $T/dovecot.log
import_environment = TZ DOVECOT_HOSTNAME
protocols = pop3
listen = $V4, $V6
login_greeting = Dovecot ready.
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 apop
auth_verbose = yes
auth_failure_delay = 1 secs
ssl = yes
ssl_cert = <$T/cert.pem
ssl_key = <$T/key.pem
ssl_min_protocol = TLSv1.2
mail_location = maildir:~/Maildir
first_valid_uid = 1
first_valid_gid = 1
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $T/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $T/passwd
  default_fields = uid=nobody gid=nogroup home=$T/mail/%u
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
service anvil {
  chroot =
}
EOF

DOVECOT_HOSTNAME=$HOSTNAME_FAKE TZ=UTC dovecot -c "$T/dovecot.conf" || die "dovecot did not start"
DOVECOT_STARTED=1
ok=
for _ in $(seq 100); do
    if [ -n "$(ss -Hltn "sport = :110")" ] && [ -n "$(ss -Hltn "sport = :995")" ]; then ok=1; break; fi
    sleep 0.1
done
[ -n "$ok" ] || die "dovecot is not listening on 110/995"
if ! ss -Hltn "sport = :110" | grep -q '\[::1\]'; then die "dovecot is not listening on [::1]:110"; fi

# ---------------------------------------------------------------- capture control
# cap_start NAME [IFACE]: start tcpdump writing $STAGE/pop3-NAME.pcap, wait until it listens.
CUR=
cap_start() {
    CUR="$STAGE/pop3-$1.pcap"
    local ifc=${2:-lo}
    : >"$T/tcpdump.err"
    tcpdump -i "$ifc" -w "$CUR" -U -Z root 'tcp port 110 or tcp port 995' 2>"$T/tcpdump.err" &
    TCPDUMP_PID=$!
    for _ in $(seq 100); do
        grep -q 'listening on' "$T/tcpdump.err" && { sleep 0.2; return 0; }
        kill -0 "$TCPDUMP_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$T/tcpdump.err" >&2
    die "tcpdump did not start"
}
cap_stop() {
    sleep 1  # let the last FIN/ACKs through
    kill -INT "$TCPDUMP_PID" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$TCPDUMP_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$TCPDUMP_PID" 2>/dev/null; then kill -KILL "$TCPDUMP_PID" 2>/dev/null || true; fi
    wait "$TCPDUMP_PID" 2>/dev/null || true
    TCPDUMP_PID=
    grep -q '^0 packets dropped by kernel' "$T/tcpdump.err" ||
        { cat "$T/tcpdump.err" >&2; die "tcpdump dropped packets for $CUR"; }
    log "   $(basename "$CUR"): $(grep 'packets captured' "$T/tcpdump.err")"
}

# ---------------------------------------------------------------- line-by-line client
# A real conversation: every command is sent only after the previous answer has been read.
pop_open() {  # HOST (127.0.0.1 or ::1), port 110
    local addr=$1
    case $addr in *:*) addr="TCP6:[$addr]:110" ;; *) addr="TCP4:$addr:110" ;; esac
    coproc POPC { exec socat -T 20 - "$addr" 2>/dev/null; }
    POP_IN=${POPC[0]}
    POP_OUT=${POPC[1]}
    # shellcheck disable=SC2153 # POPC_PID is set by coproc
    POP_PID=$POPC_PID
}
pop_line() {  # read one line into REPLY_LINE (without CR)
    local l
    IFS= read -r -t 15 l <&"$POP_IN" || die "no answer from the server (timeout or closed)"
    REPLY_LINE=${l%$'\r'}
    log "   S: $REPLY_LINE"
}
pop_multi() {  # read a multi-line body up to the terminating "."
    local n=0
    while :; do
        pop_line
        [ "$REPLY_LINE" = "." ] && return 0
        n=$((n + 1))
        [ "$n" -lt 1000 ] || die "multi-line answer too long"
    done
}
pop_send() {
    log "   C: $1"
    printf '%s\r\n' "$1" >&"$POP_OUT"
}
pop_cmd() {  # CMD EXPECT(+OK|-ERR|+) [multi]
    pop_send "$1"
    pop_line
    case $REPLY_LINE in
        "$2"*) ;;
        *) die "after '$1' expected '$2', got '$REPLY_LINE'" ;;
    esac
    if [ "${3:-}" = multi ]; then pop_multi; fi
}
pop_close() {
    exec {POP_OUT}>&-
    local l
    while IFS= read -r -t 10 l <&"$POP_IN"; do :; done || true
    for _ in $(seq 50); do kill -0 "$POP_PID" 2>/dev/null || break; sleep 0.1; done
    kill "$POP_PID" 2>/dev/null || true
    wait "$POP_PID" 2>/dev/null || true
    POP_PID=
}
pop_greeting() {
    pop_line
    case $REPLY_LINE in "+OK"*) ;; *) die "bad greeting '$REPLY_LINE'" ;; esac
}

# ---------------------------------------------------------------- truth files
jstr() {  # JSON string, or null for the sentinel @null
    if [ "$1" = "@null" ]; then printf 'null'; return; fi
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}
cred() {  # MECH USER PASS RESULT -> one JSON object
    printf '{"mechanism": %s, "username": %s, "password": %s, "result": %s}' \
        "$(jstr "$1")" "$(jstr "$2")" "$(jstr "$3")" "$(jstr "$4")"
}
# endpoints_from_capture: sets CLIENT and SERVER from the capture's only SYN.
endpoints_from_capture() {
    local syns
    syns=$(tcpdump -r "$CUR" -nn 2>/dev/null | grep 'Flags \[S\],' || true)
    [ "$(printf '%s\n' "$syns" | grep -c .)" -eq 1 ] ||
        die "$(basename "$CUR"): expected exactly one connection, got: $syns"
    local src dst
    read -r src dst < <(printf '%s\n' "$syns" | awk '{
        for (i = 1; i <= NF; i++) if ($i == ">") { s = $(i - 1); d = $(i + 1); break }
        sub(/:$/, "", d); print s, d }')
    fmt() {
        local ip=${1%.*} port=${1##*.}
        case $ip in *:*) printf '[%s]:%s' "$ip" "$port" ;; *) printf '%s:%s' "$ip" "$port" ;; esac
    }
    CLIENT=$(fmt "$src")
    SERVER=$(fmt "$dst")
}
# truth DESCRIPTION TLS STARTTLS TLS_VERSION CRED...
truth() {
    local desc=$1 tls=$2 stls=$3 ver=$4
    shift 4
    endpoints_from_capture
    local f name creds="" c
    name=$(basename "$CUR")
    f="${CUR%.pcap}.truth.json"
    for c in "$@"; do creds+="${creds:+,$'\n'}        $c"; done
    {
        printf '{\n'
        printf '  "file": %s,\n' "$(jstr "$name")"
        printf '  "description": %s,\n' "$(jstr "$desc")"
        printf '  "sessions": [\n'
        printf '    {\n'
        printf '      "client": %s,\n' "$(jstr "$CLIENT")"
        printf '      "server": %s,\n' "$(jstr "$SERVER")"
        printf '      "protocol": "pop3",\n'
        printf '      "tls": %s,\n' "$(jstr "$tls")"
        printf '      "starttls": %s,\n' "$(jstr "$stls")"
        printf '      "tls_version": %s,\n' "$(jstr "$ver")"
        if [ -n "$creds" ]; then
            printf '      "credentials": [\n%s\n      ]\n' "$creds"
        else
            printf '      "credentials": []\n'
        fi
        printf '    }\n'
        printf '  ]\n'
        printf '}\n'
    } >"$f"
}
# expect TEXT...: every TEXT must appear in the capture's payload; forbid TEXT: must not.
ascii() { tcpdump -r "$CUR" -nn -A 2>/dev/null; }
expect() {
    local s a
    a=$(ascii)
    for s in "$@"; do
        grep -qF -- "$s" <<<"$a" || die "$(basename "$CUR"): '$s' not found in the capture"
    done
}
forbid() {
    local s a
    a=$(ascii)
    for s in "$@"; do
        if grep -qF -- "$s" <<<"$a"; then die "$(basename "$CUR"): '$s' must not be in the capture"; fi
    done
}
b64() { printf '%s' "$1" | base64 -w0; }
b64plain() { printf '\0%s\0%s' "$1" "$2" | base64 -w0; }  # SASL PLAIN: NUL user NUL password
curl_tls_version() {  # from curl -v output
    grep -o 'SSL connection using TLSv1\.[0-3]' "$1" | head -n1 | awk '{print $4}'
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
truth "USER/PASS login that succeeds, then LIST, RETR 1 (body with command-like trap lines, not credentials), QUIT" \
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
truth "USER/PASS with a wrong password (-ERR), then USER/PASS again with the right one (+OK), QUIT" \
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
truth "curl: CAPA (lists STLS, not used), AUTH PLAIN with the initial response on the same line (bob, password with spaces), LIST, QUIT" \
    none offered-not-used @null "$(cred PLAIN bob "$BOB_PASS" success)"

log "== 4. dovecot-auth-plain-continuation (curl, no SASL-IR)"
cap_start dovecot-auth-plain-continuation
timeout 30 curl -sS -v --max-time 20 --login-options 'AUTH=PLAIN' \
    -u "alice:$ALICE_PASS" "pop3://$V4/" >/dev/null 2>"$T/curl.err" ||
    { cat "$T/curl.err" >&2; die "curl failed"; }
cap_stop
expect "CAPA" "STLS" "$(b64plain alice "$ALICE_PASS")" "+OK Logged in"
forbid "AUTH PLAIN A"
truth "curl: CAPA (lists STLS, not used), \"AUTH PLAIN\", server \"+ \", base64 response on its own line, success, LIST, QUIT" \
    none offered-not-used @null "$(cred PLAIN alice "$ALICE_PASS" success)"

log "== 5. dovecot-auth-login (curl, wrong password)"
cap_start dovecot-auth-login
if timeout 30 curl -sS -v --max-time 20 --login-options 'AUTH=LOGIN' \
    -u "alice:$WRONG_PASS" "pop3://$V4/" >/dev/null 2>"$T/curl.err"; then
    die "curl AUTH LOGIN with a wrong password succeeded"
fi
cap_stop
expect "AUTH LOGIN" "+ VXNlcm5hbWU6" "$(b64 alice)" "+ UGFzc3dvcmQ6" "$(b64 "$WRONG_PASS")" "-ERR [AUTH]"
truth "curl: CAPA (lists STLS, not used), AUTH LOGIN in steps (Username:/Password: prompts), wrong password, -ERR" \
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
truth "curl: greeting with an APOP timestamp, CAPA (lists STLS, not used), APOP alice <MD5 digest> (password not on the wire), success, LIST, QUIT" \
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
truth "curl: CAPA (lists STLS), STLS, TLS 1.3 handshake, then AUTH PLAIN, LIST, QUIT inside TLS (no credential visible)" \
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
truth "CAPA lists STLS, the client ignores it and logs in with USER/PASS in the clear (password with spaces), STAT, QUIT" \
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
truth "curl: implicit TLS 1.2 on port 995; CAPA, AUTH PLAIN, RETR 1, QUIT all inside TLS (no credential visible)" \
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
truth "Scenario 1 again over IPv6 ::1, captured with tcpdump -i any (link type LINUX_SLL2): USER/PASS success, LIST, RETR 1 (trap lines), QUIT" \
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
truth "USER/PASS over IPv6 ::1 (password with spaces), success, LIST, QUIT" \
    none @null @null "$(cred USER/PASS bob "$BOB_PASS" success)"

log "== 12. dovecot-auth-cram-md5 (curl's default choice)"
cap_start dovecot-auth-cram-md5
timeout 30 curl -sS -v --max-time 20 -u "alice:$ALICE_PASS" "pop3://$V4/" >/dev/null 2>"$T/curl.err" ||
    { cat "$T/curl.err" >&2; die "curl failed"; }
cap_stop
expect "AUTH CRAM-MD5" "+OK Logged in"
forbid "$ALICE_PASS"
truth "curl with no options: CAPA (lists STLS, not used), AUTH CRAM-MD5 challenge/response (password not on the wire), success, LIST, QUIT" \
    none offered-not-used @null "$(cred CRAM-MD5 alice @null success)"

# ---------------------------------------------------------------- publish
mkdir -p "$OUT_DIR"
for f in "$STAGE"/*; do
    sz=$(stat -c %s "$f")
    [ "$sz" -lt 40000 ] || die "$(basename "$f") is $sz bytes, too large"
    cp "$f" "$OUT_DIR/"
    chmod 644 "$OUT_DIR/$(basename "$f")"
done
log "== done: $(find "$STAGE" -name '*.pcap' | wc -l) captures written to $OUT_DIR"

# ---------------------------------------------------------------- SMTP and IMAP
if [ -z "${POP3_ONLY:-}" ]; then
    log "== SMTP and IMAP: make-mail-captures.sh"
    OUT_DIR="$OUT_DIR" "$HERE/make-mail-captures.sh"
fi
