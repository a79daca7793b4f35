#!/usr/bin/env bash
# Regenerate the FTP captures in this directory (captures/ftp-*.pcap) and their truth files
# (*.truth.json) with a real server and real clients, in a network namespace of their own:
#   a private vsftpd (RFC 959, RFC 4217 AUTH TLS with a throwaway self-signed certificate) on
#   127.0.0.1:21 and, for one capture, 127.0.0.1:2121; clients curl (ftp:// and --ssl-reqd) and
#   python3's ftplib (FEAT, a failed then a good login on one connection).
#
#   sudo captures/make-ftp-captures.sh                         # writes next to this script
#   sudo OUT_DIR="$(mktemp -d)" captures/make-ftp-captures.sh  # or somewhere else
#   KEEP_TMP=1: keep the temporary directory (configs, logs, captures so far) for debugging
#
# captures/make-captures.sh runs this script at its end. The capture control, checks and truth
# files are in lib-mail.sh (same directory). Needs root: it runs itself again under
# "unshare --net --mount", so the server, the clients and tcpdump see only a loopback of their
# own (no port of this machine is used, nothing else is captured) and the test accounts exist
# only there: /etc/passwd and /etc/shadow are copies with alice and bob added, bind-mounted in
# the private mount namespace, which vsftpd's PAM (pam_unix) reads. Nothing on the machine is
# changed. Installs nothing: it says which commands are missing. Debian 12 packages: vsftpd
# curl python3 tcpdump openssl util-linux (unshare) iproute2 coreutils. Every wait is bounded;
# vsftpd and tcpdump are stopped on exit.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${OUT_DIR:-$HERE}
ME=make-ftp-captures
# shellcheck source=lib-mail.sh
. "$HERE/lib-mail.sh"
FTP_PORT=21
ALT_PORT=2121
PASV_PORTS=40000-40009

# ---------------------------------------------------------------- preconditions
[ "$(id -u)" -eq 0 ] || die "must run as root (namespaces, port 21, tcpdump)"
missing=()
for c in vsftpd curl python3 tcpdump openssl unshare ip ss timeout awk grep sed stat; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"
getent passwd ftp >/dev/null || die "system user 'ftp' missing (is vsftpd installed?)"
[ -f /etc/pam.d/vsftpd ] || die "/etc/pam.d/vsftpd missing (is vsftpd installed?)"

if [ -z "${PLAINSIGHT_FTP_NS:-}" ]; then
    # Into a network and mount namespace of our own; OUT_DIR is an ordinary directory there.
    OUT_DIR=$(mkdir -p "$OUT_DIR" && cd "$OUT_DIR" && pwd)
    exec env PLAINSIGHT_FTP_NS=1 OUT_DIR="$OUT_DIR" unshare --net --mount --propagation private \
        bash "$HERE/$ME.sh"
fi
ip link set lo up

mail_init
VSFTPD_PID=
cleanup_hook() {
    if [ -n "$VSFTPD_PID" ]; then
        kill "$VSFTPD_PID" 2>/dev/null || true
        wait "$VSFTPD_PID" 2>/dev/null || true
    fi
}

# ---------------------------------------------------------------- accounts, files, certificate
log "== setting up a private vsftpd in a temporary directory and namespace"
make_cert
# alice and bob as system accounts of this mount namespace only.
for u in alice bob; do mkdir -p "$T/home/$u"; done
cp /etc/passwd "$T/passwd.ns"
cp /etc/shadow "$T/shadow.ns"
uid=64001
for u in alice bob; do
    case $u in alice) p=$ALICE_PASS ;; bob) p=$BOB_PASS ;; esac
    printf '%s:x:%d:65534::%s:/bin/sh\n' "$u" "$uid" "$T/home/$u" >>"$T/passwd.ns"
    printf '%s:%s:19000:0:99999:7:::\n' "$u" "$(openssl passwd -6 "$p")" >>"$T/shadow.ns"
    chown "$uid:65534" "$T/home/$u"
    uid=$((uid + 1))
done
chmod 644 "$T/passwd.ns"
chmod 640 "$T/shadow.ns"
chown root:shadow "$T/shadow.ns" 2>/dev/null || true
mount --bind "$T/passwd.ns" /etc/passwd
mount --bind "$T/shadow.ns" /etc/shadow
getent passwd alice >/dev/null || die "alice is not visible in the namespace"

# Files whose text looks like FTP (and SMTP) commands and replies: they travel over data
# connections, which are not sessions, and must never be taken as a login. The anonymous one
# even starts with a 220 greeting.
mkdir -p "$T/anon/pub" "$T/empty"
trap_text() {
    printf '%s\r\n' \
        "220 (vsFTPd 3.0.3) fake greeting inside a file" \
        "USER evil" \
        "PASS notasecret" \
        "230 Login successful." \
        "AUTH TLS" \
        "234 Proceed with negotiation." \
        "EHLO evil.example.test" \
        "AUTH PLAIN AGV2aWwAcGFzcw=="
}
trap_text >"$T/anon/pub/trap.txt"
trap_text >"$T/home/alice/trap.txt"
chmod 755 "$T/anon" "$T/anon/pub" "$T/empty"
chmod 644 "$T/anon/pub/trap.txt" "$T/home/alice/trap.txt"
chown "64001:65534" "$T/home/alice/trap.txt"

# vsftpd_start PORT: a standalone vsftpd on 127.0.0.1:PORT, in the foreground of a background
# job, TLS offered (AUTH TLS and AUTH SSL in FEAT) but not required, anonymous logins allowed.
vsftpd_start() {
    cat >"$T/vsftpd.conf" <<EOF
# Private instance for captures/$ME.sh; nothing here touches the system vsftpd.
listen=YES
listen_ipv6=NO
listen_address=$V4
listen_port=$1
background=NO
anonymous_enable=YES
anon_root=$T/anon
no_anon_password=NO
local_enable=YES
write_enable=NO
pam_service_name=vsftpd
secure_chroot_dir=$T/empty
ftp_username=ftp
pasv_enable=YES
pasv_address=$V4
pasv_min_port=${PASV_PORTS%-*}
pasv_max_port=${PASV_PORTS#*-}
connect_from_port_20=NO
xferlog_enable=YES
vsftpd_log_file=$T/vsftpd.log
log_ftp_protocol=YES
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
ssl_enable=YES
allow_anon_ssl=YES
force_local_logins_ssl=NO
force_local_data_ssl=NO
require_ssl_reuse=NO
rsa_cert_file=$T/cert.pem
rsa_private_key_file=$T/key.pem
EOF
    vsftpd "$T/vsftpd.conf" >>"$T/vsftpd.out" 2>&1 &
    VSFTPD_PID=$!
    wait_listen "$1"
}
vsftpd_stop() {
    cleanup_hook
    VSFTPD_PID=
    wait_free "$1"
}

CAP_PREFIX=ftp-vsftpd-
CAP_FILTER="tcp port $FTP_PORT"

# The session is the control connection: the truth names it by the SYN to the control port
# (the anonymous capture holds a data connection too, which is no session).
CTRL_PORT=$FTP_PORT
endpoints_from_capture() {
    local syns src dst
    syns=$(tcpdump -r "$CUR" -nn "tcp dst port $CTRL_PORT" 2>/dev/null | grep 'Flags \[S\],' || true)
    [ "$(printf '%s\n' "$syns" | grep -c .)" -eq 1 ] ||
        die "$(basename "$CUR"): expected exactly one control connection, got: $syns"
    read -r src dst < <(printf '%s\n' "$syns" | awk '{
        for (i = 1; i <= NF; i++) if ($i == ">") { s = $(i - 1); d = $(i + 1); break }
        sub(/:$/, "", d); print s, d }')
    CLIENT="${src%.*}:${src##*.}"
    SERVER="${dst%.*}:${dst##*.}"
}
# cred_anon USER PASS RESULT: an anonymous credential for truth.
cred_anon() {
    printf '{"mechanism": "USER/PASS", "username": %s, "password": %s, "result": %s, "anonymous": true}' \
        "$(jstr "$1")" "$(jstr "$2")" "$(jstr "$3")"
}
# with_exposure EXPOSURE: adds the session's exposure to the truth file just written.
with_exposure() {
    python3 - "${CUR%.pcap}.truth.json" "$1" <<'EOF'
import json, sys
path, exposure = sys.argv[1], sys.argv[2]
with open(path) as f:
    t = json.load(f)
for s in t["sessions"]:
    s["exposure"] = exposure
with open(path, "w") as f:
    json.dump(t, f, indent=2)
    f.write("\n")
EOF
}

# ftplib PORT SCRIPT: python3's ftplib against 127.0.0.1:PORT; SCRIPT runs with f connected.
ftplib() {
    timeout 30 python3 - "$1" "$ALICE_PASS" "$BOB_PASS" "$WRONG_PASS" >"$T/ftplib.out" 2>&1 <<EOF ||
import ftplib, sys
port, alice, bob, wrong = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
f = ftplib.FTP()
f.set_debuglevel(1)
f.connect("$V4", port, timeout=20)
$2
f.quit()
EOF
        { cat "$T/ftplib.out" >&2; die "python3 ftplib failed"; }
}

# ================================================================ on port 21
vsftpd_start "$FTP_PORT"

cap_start login
timeout 30 curl -sS -v --max-time 20 -u "alice:$ALICE_PASS" "ftp://$V4/" >/dev/null \
    2>"$T/curl.err" || { cat "$T/curl.err" >&2; die "curl failed"; }
cap_stop
expect "220 (vsFTPd 3.0.3)" "USER alice" "331 Please specify the password." "PASS $ALICE_PASS" \
    "230 Login successful." "EPSV" "LIST"
truth ftp "curl: greeting, USER alice, 331, PASS, 230, PWD, EPSV, TYPE A, LIST (the listing over a data connection not captured), QUIT; no FEAT, so the STARTTLS posture cannot be told" \
    none @null @null "$(cred USER/PASS alice "$ALICE_PASS" success)"

cap_start login-fail
ftplib "$FTP_PORT" '
print(f.sendcmd("FEAT"))
try:
    f.login("bob", wrong)
    sys.exit("the wrong password was accepted")
except ftplib.error_perm as e:
    print("refused:", e)
f.login("bob", bob)
print(f.pwd())'
cap_stop
expect "FEAT" " AUTH TLS" "211 End" "PASS $WRONG_PASS" "530 Login incorrect." "PASS $BOB_PASS" \
    "230 Login successful."
truth ftp "python3 ftplib: FEAT (lists AUTH SSL and AUTH TLS, not used), USER bob, PASS with the wrong password, 530, then USER bob and the right password (with spaces) on the same connection, 230, PWD, QUIT" \
    none offered-not-used @null "$(cred USER/PASS bob "$WRONG_PASS" failure)" \
    "$(cred USER/PASS bob "$BOB_PASS" success)"

CAP_FILTER="tcp port $FTP_PORT or tcp portrange $PASV_PORTS"
cap_start anonymous
timeout 30 curl -sS -v --max-time 20 "ftp://$V4/pub/trap.txt" >"$T/trap.got" 2>"$T/curl.err" ||
    { cat "$T/curl.err" >&2; die "curl failed"; }
cap_stop
cmp -s "$T/trap.got" "$T/anon/pub/trap.txt" || die "the anonymous download differs"
expect "USER anonymous" "PASS ftp@example.com" "230 Login successful." "RETR trap.txt" \
    "USER evil" "PASS notasecret"
truth ftp "curl, anonymous: USER anonymous, 331, PASS ftp@example.com (curl's default), 230, PWD, CWD pub, EPSV, TYPE I, SIZE, RETR of a file whose text starts with a 220 greeting and holds USER/PASS, AUTH TLS and SMTP trap lines; the passive data connection is captured too and is no session" \
    none @null @null "$(cred_anon anonymous ftp@example.com success)"
with_exposure cleartext
CAP_FILTER="tcp port $FTP_PORT"

cap_start auth-tls
timeout 30 curl -sS -v --max-time 20 -k --ssl-reqd -u "alice:$ALICE_PASS" "ftp://$V4/" \
    >/dev/null 2>"$T/curl.err" || { cat "$T/curl.err" >&2; die "curl failed"; }
cap_stop
ver=$(curl_tls_version "$T/curl.err")
[ -n "$ver" ] || die "curl did not say which TLS version it negotiated"
expect "AUTH SSL" "234 Proceed with negotiation."
forbid "USER alice" "$ALICE_PASS" "Login successful"
truth ftp "curl --ssl-reqd: greeting, AUTH SSL, 234, $ver handshake; USER, PASS, PBSZ, PROT, PWD, EPSV, LIST and QUIT inside TLS (no credential visible)" \
    starttls used "$ver"

vsftpd_stop "$FTP_PORT"

# ================================================================ on port 2121
vsftpd_start "$ALT_PORT"
CTRL_PORT=$ALT_PORT
CAP_FILTER="tcp port $ALT_PORT"

cap_start port-2121
ftplib "$ALT_PORT" '
f.login("alice", alice)
print(f.pwd())'
cap_stop
expect "220 (vsFTPd 3.0.3)" "USER alice" "PASS $ALICE_PASS" "230 Login successful."
truth ftp "python3 ftplib on port 2121 (no registry port: found by its 220 greeting and the client's USER): USER alice, 331, PASS, 230, PWD, QUIT" \
    none @null @null "$(cred USER/PASS alice "$ALICE_PASS" success)"

vsftpd_stop "$ALT_PORT"

# ---------------------------------------------------------------- publish
publish 40000
