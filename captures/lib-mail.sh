# shellcheck shell=bash disable=SC2034 # its variables are for the scripts that source it
# lib-mail.sh - shared by the capture scripts in this directory (make-captures.sh,
# make-mail-captures.sh, make-socks-captures.sh). Sourced, not run: it only defines variables
# and functions. The script sets ME (its name, for messages and the dovecot instance name)
# before sourcing it, then calls mail_init, which makes the temporary directory T (configs,
# logs, maildirs; STAGE for the captures before they are published) and installs the cleanup
# trap that stops every server, client and tcpdump started through these functions.
#
#   dovecot_start PROTOCOLS LISTEN MECHANISMS [postfix]   a private dovecot (pop3 and/or imap)
#   postfix_start PORT...                          a private postfix that discards all mail
#   cap_start NAME [IFACE] / cap_stop              tcpdump -i lo (CAP_FILTER) into $STAGE/NAME.pcap
#   lc_open PORT [HOST] / lc_line / lc_send / lc_close   the line-by-line client (socat)
#   smtp_cmd / imap_greeting / imap_cmd / ...     SMTP and IMAP dialogue on it
#   truth PROTOCOL DESCRIPTION TLS STARTTLS TLS_VERSION CRED...   the truth file of $CUR
#   expect / forbid / expect_re                    checks on the capture's payload
#
# Every wait is bounded. Servers listen on loopback only (127.0.0.1, and ::1 if asked).

HOSTNAME_FAKE=mail.example.test
V4=127.0.0.1
V6=::1

# Test accounts (the same in every capture).
ALICE_PASS='Secr3t-alice'
BOB_PASS='hunter2 with spaces'
CAROL_PASS='Quo"te\Back slash'   # for IMAP quoted strings: a quote, a backslash and a space
WRONG_PASS='wrong-password'

log() { printf '%s\n' "$*" >&2; }
die() { log "$ME: $*"; exit 1; }

port_free_or_die() {  # PORT...: each must be free on this machine
    local p
    for p in "$@"; do
        if [ -n "$(ss -Hltn "sport = :$p")" ]; then die "port $p is already in use"; fi
    done
}

# ---------------------------------------------------------------- temporary directory, cleanup
mail_init() {
    T=$(mktemp -d)
    chmod 755 "$T"   # dovecot's mail processes (nobody) and postfix's smtpd (postfix) must get in
    STAGE="$T/out"
    mkdir -p "$STAGE"
    TCPDUMP_PID=
    DOVECOT_STARTED=
    POSTFIX_STARTED=
    LC_PID=
    trap mail_cleanup EXIT
    trap 'exit 130' INT TERM
}
stop_pidfile() {  # FILE: wait up to 5 s for the process in FILE to go, then kill it
    local pid
    [ -f "$1" ] || return 0
    pid=$(tr -dc 0-9 <"$1" 2>/dev/null || true)
    [ -n "$pid" ] || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}
mail_stop_servers() {  # stop the private postfix and dovecot, if started (frees their ports)
    if [ -n "$POSTFIX_STARTED" ]; then
        timeout 20 postfix -c "$T/postfix" stop >/dev/null 2>&1 || true
        stop_pidfile "$T/pf-queue/pid/master.pid"
        POSTFIX_STARTED=
    fi
    if [ -n "$DOVECOT_STARTED" ]; then
        timeout 10 dovecot -c "$T/dovecot.conf" stop 2>/dev/null || true
        stop_pidfile "$T/run/master.pid"
        DOVECOT_STARTED=
    fi
}
# The script may define cleanup_hook (run first) to stop what it started itself.
mail_cleanup() {
    local rc=$?
    if declare -F cleanup_hook >/dev/null; then cleanup_hook || true; fi
    if [ -n "$LC_PID" ]; then kill "$LC_PID" 2>/dev/null || true; fi
    if [ -n "$TCPDUMP_PID" ]; then kill -INT "$TCPDUMP_PID" 2>/dev/null || true; fi
    mail_stop_servers
    if [ "$rc" -ne 0 ]; then
        local f
        for f in "$T"/*.log; do
            [ -f "$f" ] || continue
            log "--- $(basename "$f") (last 30 lines) ---"
            tail -n 30 "$f" >&2 || true
        done
    fi
    if [ -n "${KEEP_TMP:-}" ]; then log "kept $T (KEEP_TMP)"; else rm -rf "$T"; fi
    exit "$rc"
}

# ---------------------------------------------------------------- certificate, accounts
make_cert() {  # a self-signed certificate for $HOSTNAME_FAKE: $T/cert.pem, $T/key.pem
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj "/CN=$HOSTNAME_FAKE" -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null ||
        die "openssl could not make a certificate"
    chmod 600 "$T/key.pem"
}
# write_passwd USER...: $T/passwd for dovecot (user:password:uid:gid:gecos:home:shell:extra).
# PLAIN scheme so APOP, CRAM-MD5 and DIGEST-MD5 work. No field may hold a colon.
write_passwd() {
    local u p
    : >"$T/passwd"
    for u in "$@"; do
        case $u in
            alice) p=$ALICE_PASS ;;
            bob) p=$BOB_PASS ;;
            carol) p=$CAROL_PASS ;;
            *) die "write_passwd: no password for '$u'" ;;
        esac
        printf '%s:{PLAIN}%s::::::\n' "$u" "$p" >>"$T/passwd"
    done
}

# ---------------------------------------------------------------- dovecot
# dovecot_start PROTOCOLS LISTEN MECHANISMS [postfix]: writes $T/dovecot.conf and starts a
# private dovecot. PROTOCOLS: "pop3", "imap", "sieve" or several (POP3 on 110 and 995, IMAP on
# 143 and 993, ManageSieve on 4190 with scripts in $T/mail/USER/sieve). LISTEN: dovecot's listen
# list. With "postfix", an auth socket $T/run/auth-postfix for postfix's smtpd
# (smtpd_sasl_type = dovecot). Maildirs are $T/mail/USER/Maildir. DOVECOT_SSL=no: no TLS at all
# (no STARTTLS offered), for clients that always take it when offered. DOVECOT_EXTRA: lines
# appended to the configuration.
dovecot_start() {
    local protocols=$1 listen=$2 mechs=$3 for_postfix=${4:-} p
    mkdir -p "$T/run" "$T/state"
    {
        cat <<EOF
# Private instance for captures/$ME.sh; nothing here touches the system dovecot.
instance_name = plainsight-${ME#make-}
base_dir = $T/run
state_dir = $T/state
log_path = $T/dovecot.log
info_log_path = $T/dovecot.log
debug_log_path = $T/dovecot.log
import_environment = TZ DOVECOT_HOSTNAME
protocols = $protocols
listen = $listen
login_greeting = Dovecot ready.
disable_plaintext_auth = no
auth_mechanisms = $mechs
auth_verbose = yes
auth_failure_delay = 1 secs
ssl = ${DOVECOT_SSL:-yes}
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
EOF
        for p in $protocols; do
            case $p in
                pop3) cat <<EOF
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
EOF
                    ;;
                imap) cat <<EOF
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
EOF
                    ;;
                sieve) cat <<EOF
service managesieve-login {
  inet_listener sieve {
    port = 4190
  }
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}
EOF
                    ;;
                *) die "dovecot_start: unknown protocol '$p'" ;;
            esac
        done
        if [ -n "$for_postfix" ]; then
            cat <<EOF
service auth {
  # postfix's smtpd asks this socket (smtpd_sasl_type = dovecot)
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
        fi
        cat <<EOF
service anvil {
  chroot =
}
EOF
        printf '%s\n' "${DOVECOT_EXTRA:-}"
    } >"$T/dovecot.conf"
    DOVECOT_HOSTNAME=$HOSTNAME_FAKE TZ=UTC dovecot -c "$T/dovecot.conf" || die "dovecot did not start"
    DOVECOT_STARTED=1
}

# ---------------------------------------------------------------- postfix
# postfix_start PORT...: a private postfix on 127.0.0.1 with smtpd on each PORT (465 with
# implicit TLS, the others offering STARTTLS), SASL through dovecot's $T/run/auth-postfix
# (start dovecot with "postfix" first). A private config directory; queue and data
# directories in $T. Nothing is delivered: every message goes to the discard transport. No
# service is chrooted.
postfix_start() {
    local p opts
    PF_DAEMONS=${PF_DAEMONS:-$(postconf -h -d daemon_directory)}
    mkdir -p "$T/postfix" "$T/pf-queue" "$T/pf-data"
    chown postfix:postfix "$T/pf-data"
    cat >"$T/postfix/main.cf" <<EOF
# Private instance for captures/$ME.sh; nothing here touches the system postfix.
compatibility_level = 3.6
queue_directory = $T/pf-queue
data_directory = $T/pf-data
command_directory = $(postconf -h -d command_directory)
daemon_directory = $PF_DAEMONS
meta_directory = $(postconf -h -d meta_directory)
shlib_directory = $(postconf -h -d shlib_directory)
mail_owner = postfix
setgid_group = postdrop
maillog_file = $T/postfix.log
maillog_file_prefixes = $T
myhostname = $HOSTNAME_FAKE
mydomain = example.test
myorigin = example.test
mydestination = example.test, $HOSTNAME_FAKE
inet_interfaces = $V4
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
disable_dns_lookups = yes
local_recipient_maps =
alias_maps =
alias_database =
local_transport = discard:
default_transport = discard:
relay_transport = discard:
biff = no
smtpd_banner = \$myhostname ESMTP
smtpd_relay_restrictions = permit_sasl_authenticated, permit_mynetworks, reject_unauth_destination
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $T/run/auth-postfix
smtpd_tls_security_level = may
smtpd_tls_cert_file = $T/cert.pem
smtpd_tls_key_file = $T/key.pem
smtpd_tls_loglevel = 1
EOF
    {
        printf '# service        type  private unpriv chroot wakeup maxproc command\n'
        for p in "$@"; do
            case $p in
                25) opts= ;;
                587) opts=" -o syslog_name=postfix/submission" ;;
                465) opts=" -o syslog_name=postfix/smtps -o smtpd_tls_wrappermode=yes" ;;
                *) opts=" -o syslog_name=postfix/$p" ;;
            esac
            printf '%-16s inet  n       -      n      -      -       smtpd%s\n' "$V4:$p" "$opts"
        done
        cat <<EOF
pickup           unix  n       -      n      60     1       pickup
cleanup          unix  n       -      n      -      0       cleanup
qmgr             unix  n       -      n      300    1       qmgr
rewrite          unix  -       -      n      -      -       trivial-rewrite
bounce           unix  -       -      n      -      0       bounce
defer            unix  -       -      n      -      0       bounce
trace            unix  -       -      n      -      0       bounce
verify           unix  -       -      n      -      1       verify
proxymap         unix  -       -      n      -      -       proxymap
error            unix  -       -      n      -      -       error
retry            unix  -       -      n      -      -       error
discard          unix  -       -      n      -      -       discard
anvil            unix  -       -      n      -      1       anvil
scache           unix  -       -      n      -      1       scache
tlsmgr           unix  -       -      n      1000?  1       tlsmgr
postlog          unix-dgram n  -      n      -      1       postlogd
EOF
    } >"$T/postfix/master.cf"
    postfix -c "$T/postfix" check >/dev/null 2>"$T/postfix-check.err" ||
        { cat "$T/postfix-check.err" >&2; die "postfix check failed"; }
    POSTFIX_STARTED=1
    timeout 30 postfix -c "$T/postfix" start >/dev/null 2>&1 || die "postfix did not start"
}

# wait_listen PORT...: up to 10 s until something listens on every PORT.
wait_listen() {
    local p ok
    for _ in $(seq 100); do
        ok=1
        for p in "$@"; do
            [ -n "$(ss -Hltn "sport = :$p")" ] || { ok=; break; }
        done
        [ -n "$ok" ] && return 0
        sleep 0.1
    done
    die "the servers are not listening on $*"
}
wait_free() {  # PORT...: up to 10 s until nothing listens on any PORT
    local p busy
    for _ in $(seq 100); do
        busy=
        for p in "$@"; do
            if [ -n "$(ss -Hltn "sport = :$p")" ]; then busy=$p; break; fi
        done
        [ -z "$busy" ] && return 0
        sleep 0.1
    done
    die "port $busy is still in use"
}
wait_socket() {  # FILE: up to 10 s until the unix socket FILE exists
    for _ in $(seq 100); do
        [ -S "$1" ] && return 0
        sleep 0.1
    done
    die "no socket $1"
}

# ---------------------------------------------------------------- capture control
# cap_start NAME [IFACE]: start tcpdump writing $STAGE/${CAP_PREFIX}NAME.pcap (IFACE lo unless
# given, filter CAP_FILTER), wait until it listens. It says "== NAME" unless CAP_QUIET is set.
CUR=
CAP_PREFIX=
CAP_QUIET=
CAP_FILTER=
cap_start() {
    CUR="$STAGE/$CAP_PREFIX$1.pcap"
    [ -n "$CAP_QUIET" ] || log "== $1"
    local ifc=${2:-lo}
    [ -n "$CAP_FILTER" ] || die "cap_start: CAP_FILTER is empty"
    : >"$T/tcpdump.err"
    tcpdump -i "$ifc" -w "$CUR" -U -Z root "$CAP_FILTER" 2>"$T/tcpdump.err" &
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
lc_open() {  # PORT [HOST]: HOST 127.0.0.1 unless given (::1 for IPv6)
    local addr=${2:-$V4}
    case $addr in *:*) addr="TCP6:[$addr]:$1" ;; *) addr="TCP4:$addr:$1" ;; esac
    lc_open_cmd socat -T 20 - "$addr"
}
lc_open_cmd() {  # COMMAND...: a relay between its stdin/stdout and the server (socat, nc)
    coproc LCP { exec "$@" 2>/dev/null; }
    LC_IN=${LCP[0]}
    LC_OUT=${LCP[1]}
    # shellcheck disable=SC2153 # LCP_PID is set by coproc
    LC_PID=$LCP_PID
}
lc_line() {  # read one line into REPLY_LINE (without CR)
    local l
    IFS= read -r -t 15 l <&"$LC_IN" || die "no answer from the server (timeout or closed)"
    REPLY_LINE=${l%$'\r'}
    log "   S: $REPLY_LINE"
}
lc_bytes() {  # N: read exactly N bytes (an IMAP literal) and show them
    local data
    IFS= read -r -N "$1" -t 15 data <&"$LC_IN" || die "literal of $1 bytes cut short"
    [ "${#data}" -eq "$1" ] || die "literal: got ${#data} bytes, want $1"
    log "   S: <literal, $1 bytes>"
    printf '%s' "$data" | sed 's/\r$//; s/^/   S|  /' >&2
    log ""
}
lc_send() {  # LINE, sent with CRLF
    log "   C: $1"
    printf '%s\r\n' "$1" >&"$LC_OUT"
}
lc_send_raw() {  # BYTES, sent as they are
    log "   C: <$(printf '%s' "$1" | wc -c) bytes>"
    printf '%s' "$1" >&"$LC_OUT"
}
lc_close() {
    exec {LC_OUT}>&-
    local l
    while IFS= read -r -t 10 l <&"$LC_IN"; do :; done || true
    for _ in $(seq 50); do kill -0 "$LC_PID" 2>/dev/null || break; sleep 0.1; done
    kill "$LC_PID" 2>/dev/null || true
    wait "$LC_PID" 2>/dev/null || true
    LC_PID=
}

# ---------------------------------------------------------------- SMTP and IMAP dialogue
# On the line-by-line client.
# SMTP: a reply is lines "NNN-text" ended by "NNN text".
smtp_reply() {  # EXPECT (a code or its prefix)
    while :; do
        lc_line
        case $REPLY_LINE in
            [0-9][0-9][0-9]-*) continue ;;
            [0-9][0-9][0-9]" "* | [0-9][0-9][0-9]) break ;;
            *) die "not an SMTP reply: '$REPLY_LINE'" ;;
        esac
    done
    case $REPLY_LINE in "$1"*) ;; *) die "expected SMTP $1, got '$REPLY_LINE'" ;; esac
}
smtp_cmd() { lc_send "$1"; smtp_reply "$2"; }  # CMD EXPECT

# IMAP: read untagged lines (and their literals) up to the line tagged TAG.
imap_until() {  # TAG EXPECT(OK|NO|BAD)
    local n=0
    while :; do
        lc_line
        while [[ $REPLY_LINE =~ \{([0-9]+)\}$ ]]; do  # a literal follows this line
            lc_bytes "${BASH_REMATCH[1]}"
            lc_line
        done
        case $REPLY_LINE in "$1 "*) break ;; esac
        n=$((n + 1))
        [ "$n" -lt 1000 ] || die "answer too long"
    done
    case $REPLY_LINE in "$1 $2"*) ;; *) die "expected '$1 $2', got '$REPLY_LINE'" ;; esac
}
imap_cmd() { lc_send "$1 $2"; imap_until "$1" "$3"; }  # TAG CMD EXPECT
imap_cont() {  # wait for the server's "+" continuation
    lc_line
    case $REPLY_LINE in "+"*) ;; *) die "expected a '+' continuation, got '$REPLY_LINE'" ;; esac
}
imap_greeting() {
    lc_line
    case $REPLY_LINE in "* OK"*) ;; *) die "bad greeting '$REPLY_LINE'" ;; esac
}
imap_quote() {  # a quoted string: backslash and double quote escaped
    local s=${1//\\/\\\\}
    printf '"%s"' "${s//\"/\\\"}"
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
# truth PROTOCOL DESCRIPTION TLS STARTTLS TLS_VERSION CRED...: writes ${CUR%.pcap}.truth.json
truth() {
    local proto=$1 desc=$2 tls=$3 stls=$4 ver=$5
    shift 5
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
        printf '      "protocol": %s,\n' "$(jstr "$proto")"
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

# ---------------------------------------------------------------- checks on a capture
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
expect_re() {  # REGEX (grep -E) that a line of the payload must match
    local a
    a=$(ascii | tr -d '\r')
    grep -qE -- "$1" <<<"$a" || die "$(basename "$CUR"): no line matches '$1'"
}
b64() { printf '%s' "$1" | base64 -w0; }
b64plain() { printf '\0%s\0%s' "$1" "$2" | base64 -w0; }  # SASL PLAIN: NUL user NUL password
curl_tls_version() {  # from curl -v output
    grep -o 'SSL connection using TLSv1\.[0-3]' "$1" | head -n1 | awk '{print $4}'
}

# publish MAX_BYTES: copy every staged file to $OUT_DIR (mode 644); a capture bigger than
# MAX_BYTES (or than what max_bytes_for FILE says, if the script defines it) is an error.
publish() {
    local f sz max
    mkdir -p "$OUT_DIR"
    for f in "$STAGE"/*; do
        sz=$(stat -c %s "$f")
        max=$1
        if declare -F max_bytes_for >/dev/null; then max=$(max_bytes_for "$f"); fi
        [ "$sz" -lt "$max" ] || die "$(basename "$f") is $sz bytes, too large"
        cp "$f" "$OUT_DIR/"
        chmod 644 "$OUT_DIR/$(basename "$f")"
    done
    log "== done: $(find "$STAGE" -name '*.pcap' | wc -l) captures written to $OUT_DIR"
}
