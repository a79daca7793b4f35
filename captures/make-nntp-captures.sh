#!/usr/bin/env bash
# Regenerate the NNTP captures in this directory (captures/nntp-*.pcap) and their truth files
# (*.truth.json) with a real server and real clients, in a network namespace of their own:
#   a private INN nnrpd (RFC 3977 reader, RFC 4643 AUTHINFO USER/PASS checked by ckpasswd and
#   AUTHINFO SASL through Cyrus SASL's sasldb, RFC 4642 STARTTLS with a throwaway self-signed
#   certificate) on 127.0.0.1:119, 563 (implicit TLS, nnrpd -S) and 1119; clients python3's
#   nntplib (AUTHINFO, STARTTLS, NNTPS, POST) and, for AUTHINFO SASL, which nntplib does not
#   speak, a few lines of python3 over a socket.
#
#   sudo captures/make-nntp-captures.sh                         # writes next to this script
#   sudo OUT_DIR="$(mktemp -d)" captures/make-nntp-captures.sh  # or somewhere else
#   KEEP_TMP=1: keep the temporary directory (configs, logs, captures so far) for debugging
#
# The capture control, checks and truth files are in lib-mail.sh (same directory). Needs root:
# it runs itself again under "unshare --net --mount", so the server, the clients and tcpdump see
# only a loopback of their own. INN runs from a configuration, spool, overview and database of
# its own in the temporary directory (INNCONF), as the news user; nothing on the machine is
# changed. Installs nothing: it says which commands are missing. Debian 12 packages: inn2
# sasl2-bin libsasl2-modules python3 (3.11: nntplib) tcpdump openssl util-linux iproute2.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${OUT_DIR:-$HERE}
ME=make-nntp-captures
# shellcheck source=lib-mail.sh
. "$HERE/lib-mail.sh"
NNRPD=/usr/lib/news/bin/nnrpd
INNBIN=/usr/lib/news/bin

# ---------------------------------------------------------------- preconditions
[ "$(id -u)" -eq 0 ] || die "must run as root (namespaces, port 119, tcpdump)"
missing=()
for c in python3 tcpdump openssl unshare ip ss timeout saslpasswd2 awk grep sed stat; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
[ -x "$NNRPD" ] || missing+=("$NNRPD (inn2)")
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"
python3 -W ignore -c 'import nntplib' 2>/dev/null || die "python3 has no nntplib (3.12 and older)"
getent passwd news >/dev/null || die "system user 'news' missing (is inn2 installed?)"

if [ -z "${PLAINSIGHT_NNTP_NS:-}" ]; then
    OUT_DIR=$(mkdir -p "$OUT_DIR" && cd "$OUT_DIR" && pwd)
    exec env PLAINSIGHT_NNTP_NS=1 OUT_DIR="$OUT_DIR" unshare --net --mount --propagation private \
        bash "$HERE/$ME.sh"
fi
ip link set lo up

mail_init
NNRPD_PID=
cleanup_hook() {
    if [ -n "$NNRPD_PID" ]; then
        kill "$NNRPD_PID" 2>/dev/null || true
        wait "$NNRPD_PID" 2>/dev/null || true
    fi
}

# ---------------------------------------------------------------- a private INN
log "== setting up a private INN in a temporary directory and namespace"
make_cert
N="$T/inn"
mkdir -p "$N/etc" "$N/db" "$N/spool/articles" "$N/spool/overview" "$N/spool/incoming" \
    "$N/spool/outgoing" "$N/spool/archive" "$N/run" "$N/log" "$N/tmp" "$N/sasl"
cp -r /etc/news/. "$N/etc/"
cp "$T/cert.pem" "$T/key.pem" "$N/"
cat >"$N/etc/inn.conf" <<EOF
# Private instance for captures/$ME.sh; nothing here touches the system INN.
mta: "/bin/true %s"
mailcmd: /bin/true
organization: "plainsight test"
ovmethod: tradindexed
hismethod: hisv6
pathhost: $HOSTNAME_FAKE
pathnews: /usr/lib/news
domain: example.test
fromhost: example.test
server: $V4
port: 119
enableoverview: true
wireformat: true
storeonxref: true
nnrpdloadlimit: 0
spoolfirst: true
pathbin: $INNBIN
pathfilter: /etc/news/filter
pathdb: $N/db
pathetc: $N/etc
pathrun: $N/run
pathlog: $N/log
pathhttp: $N/log
pathspool: $N/spool
patharticles: $N/spool/articles
pathoverview: $N/spool/overview
pathoutgoing: $N/spool/outgoing
pathincoming: $N/spool/incoming
patharchive: $N/spool/archive
pathtmp: $N/tmp
tlscertfile: $N/cert.pem
tlskeyfile: $N/key.pem
EOF
printf 'method timehash {\n    newsgroups: *\n    class: 0\n}\n' >"$N/etc/storage.conf"
printf 'local.test 0000000000 0000000001 y\ncontrol 0000000000 0000000001 n\njunk 0000000000 0000000001 n\n' \
    >"$N/db/active"
: >"$N/db/active.times"
: >"$N/db/newsgroups"
printf 'alice:%s\nbob:%s\n' "$(openssl passwd -6 "$ALICE_PASS")" "$(openssl passwd -6 "$BOB_PASS")" \
    >"$N/etc/passwd.nntp"
cat >"$N/etc/readers.conf" <<EOF
auth "local" {
    auth: "ckpasswd -f $N/etc/passwd.nntp"
}
access "users" {
    users: "*"
    newsgroups: "*"
    access: RPA
}
EOF
# AUTHINFO SASL: Cyrus SASL's sasldb of this directory (SASL_CONF_PATH names nntp.conf).
cat >"$N/sasl/nntp.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $N/sasl/sasldb2
mech_list: PLAIN CRAM-MD5
EOF
cp "$N/sasl/nntp.conf" "$N/sasl/INN.conf"
printf '%s' "$ALICE_PASS" | saslpasswd2 -p -f "$N/sasl/sasldb2" -c alice
chown -R news:news "$N"
chmod 755 "$N"
su news -s /bin/sh -c "INNCONF=$N/etc/inn.conf $INNBIN/makehistory -O -x" >"$T/makehistory.log" 2>&1 ||
    die "makehistory could not make the overview"

# nnrpd_start PORT [-S]: a standalone nnrpd on 127.0.0.1:PORT (-S: TLS from the first byte).
nnrpd_start() {
    env INNCONF="$N/etc/inn.conf" SASL_CONF_PATH="$N/sasl" "$NNRPD" -D -f -b "$V4" -p "$1" -n \
        ${2:+"$2"} >>"$T/nnrpd.log" 2>&1 &
    NNRPD_PID=$!
    wait_listen "$1"
}
nnrpd_stop() {
    cleanup_hook
    NNRPD_PID=
    wait_free "$1"
}

CAP_PREFIX=nntp-inn-

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

# nntplib PORT SCRIPT [CLASS]: python3's nntplib against 127.0.0.1:PORT; SCRIPT runs with n
# connected (CLASS NNTP, or NNTP_SSL for implicit TLS).
nntplib() {
    timeout 30 python3 -W ignore - "$1" "$ALICE_PASS" "$BOB_PASS" "$WRONG_PASS" >"$T/nntplib.out" 2>&1 <<EOF ||
import io, nntplib, ssl, sys
port, alice, bob, wrong = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if "${3:-NNTP}" == "NNTP_SSL":
    n = nntplib.NNTP_SSL("$V4", port, ssl_context=ctx, readermode=True, timeout=20)
else:
    n = nntplib.NNTP("$V4", port, readermode=True, timeout=20)
n.set_debuglevel(1)
$2
n.quit()
EOF
        { cat "$T/nntplib.out" >&2; die "python3 nntplib failed"; }
}
# tls_version_of: the TLS version python's ssl module printed ("TLSv1.3", as truth names it).
tls_version_of() {
    sed -n 's/^version: \(TLSv1\.[0-9]\)$/\1/p' "$T/nntplib.out" | head -n 1
}

# ================================================================ on port 119
nnrpd_start 119
CAP_FILTER="tcp port 119"

# sasl_client PORT MECH USER PASS: AUTHINFO SASL (RFC 4643 section 2.4) over a plain socket, as
# nntplib has no SASL: PLAIN with an initial response, or CRAM-MD5 answering the 383 challenge.
sasl_client() {
    timeout 30 python3 - "$@" >"$T/sasl.out" 2>&1 <<EOF ||
import base64, hmac, socket, sys
port, mech, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(("$V4", port), timeout=20)
f = s.makefile("rb")
def line():
    l = f.readline().decode().rstrip("\r\n")
    print("S:", l)
    return l
def send(l):
    print("C:", l)
    s.sendall(l.encode() + b"\r\n")
line()
send("MODE READER"); line()
if mech == "PLAIN":
    send("AUTHINFO SASL PLAIN " + base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode())
else:
    send("AUTHINFO SASL CRAM-MD5")
    ch = base64.b64decode(line().split(" ", 1)[1])
    d = hmac.new(pw.encode(), ch, "md5").hexdigest()
    send(base64.b64encode((user + " " + d).encode()).decode())
r = line()
send("GROUP local.test"); line()
send("QUIT"); line()
print("result:", r)
EOF
        { cat "$T/sasl.out" >&2; die "the SASL client failed"; }
}

cap_start authinfo
nntplib 119 '
print(n.getcapabilities())
n.login("alice", alice, usenetrc=False)
print(n.group("local.test"))'
cap_stop
expect "200 " "CAPABILITIES" "STARTTLS" "authinfo user alice" "381 " "authinfo pass $ALICE_PASS" \
    "281 "
truth nntp "python3 nntplib: MODE READER, CAPABILITIES (offers STARTTLS, not used), AUTHINFO USER alice, 381, AUTHINFO PASS, 281, CAPABILITIES again, GROUP, QUIT" \
    none offered-not-used @null "$(cred AUTHINFO alice "$ALICE_PASS" success)"

cap_start authinfo-fail
nntplib 119 '
try:
    n.login("bob", wrong, usenetrc=False)
    sys.exit("the wrong password was accepted")
except nntplib.NNTPError as e:
    print("refused:", e)
n.login("bob", bob, usenetrc=False)'
cap_stop
expect "authinfo pass $WRONG_PASS" "481 " "authinfo pass $BOB_PASS" "281 "
truth nntp "python3 nntplib: MODE READER, CAPABILITIES (offers STARTTLS, not used), AUTHINFO USER bob, 381, AUTHINFO PASS with the wrong password, 481, then AUTHINFO USER bob and the right password (with spaces) on the same connection, 281, CAPABILITIES, QUIT" \
    none offered-not-used @null "$(cred AUTHINFO bob "$WRONG_PASS" failure)" \
    "$(cred AUTHINFO bob "$BOB_PASS" success)"

cap_start authinfo-sasl-plain
sasl_client 119 PLAIN alice "$ALICE_PASS"
cap_stop
grep -q '^result: 281' "$T/sasl.out" || { cat "$T/sasl.out" >&2; die "SASL PLAIN was refused"; }
expect "AUTHINFO SASL PLAIN " "281 "
truth nntp "python3 over a socket (nntplib has no SASL): MODE READER, AUTHINFO SASL PLAIN with an initial response, 281, GROUP, QUIT; no CAPABILITIES, so the STARTTLS posture cannot be told" \
    none @null @null "$(cred PLAIN alice "$ALICE_PASS" success)"

cap_start authinfo-sasl-cram-md5
sasl_client 119 CRAM-MD5 alice "$ALICE_PASS"
cap_stop
grep -q '^result: 281' "$T/sasl.out" || { cat "$T/sasl.out" >&2; die "SASL CRAM-MD5 was refused"; }
expect "AUTHINFO SASL CRAM-MD5" "383 " "281 "
truth nntp "python3 over a socket: MODE READER, AUTHINFO SASL CRAM-MD5, 383 challenge, \"alice <hmac>\" (password not on the wire), 281, GROUP, QUIT" \
    none @null @null "$(cred CRAM-MD5 alice @null success)"
with_exposure challenge-response

cap_start post-trap
nntplib 119 '
n.login("alice", alice, usenetrc=False)
art = ("From: alice@example.test\r\nNewsgroups: local.test\r\nSubject: trap\r\n\r\n"
       "AUTHINFO USER evil\r\nAUTHINFO PASS notasecret\r\n281 Authentication succeeded\r\n"
       "STARTTLS\r\n.hidden dot line\r\n")
print(n.post(io.BytesIO(art.encode())))'
cap_stop
expect "POST" "340 " "AUTHINFO PASS notasecret" "240 "
truth nntp "python3 nntplib: AUTHINFO USER alice, 381, AUTHINFO PASS, 281, POST, 340, an article whose text holds AUTHINFO USER/PASS, a 281 and STARTTLS lines and a dot-stuffed line, 240, QUIT: only the real login counts" \
    none offered-not-used @null "$(cred AUTHINFO alice "$ALICE_PASS" success)"

cap_start starttls
nntplib 119 '
n.starttls(ctx)
print("version:", n.sock.version())
n.login("alice", alice, usenetrc=False)'
cap_stop
ver=$(tls_version_of)
[ -n "$ver" ] || die "nntplib did not say which TLS version it negotiated"
expect "STARTTLS" "382 "
forbid "authinfo user alice" "$ALICE_PASS"
truth nntp "python3 nntplib: MODE READER, CAPABILITIES (offers STARTTLS), STARTTLS, 382, $ver handshake; CAPABILITIES, AUTHINFO and QUIT inside TLS (no credential visible)" \
    starttls used "$ver"

nnrpd_stop 119

# ================================================================ NNTPS on port 563
nnrpd_start 563 -S
CAP_FILTER="tcp port 563"
cap_start nntps
nntplib 563 '
print("version:", n.sock.version())
n.login("alice", alice, usenetrc=False)' NNTP_SSL
cap_stop
ver=$(tls_version_of)
[ -n "$ver" ] || die "nntplib did not say which TLS version it negotiated"
forbid "authinfo user alice" "$ALICE_PASS"
truth nntp "python3 nntplib NNTP_SSL on port 563: $ver from the first byte; greeting, CAPABILITIES, AUTHINFO and QUIT inside TLS" \
    implicit n/a "$ver"
nnrpd_stop 563

# ================================================================ on port 1119
nnrpd_start 1119
CAP_FILTER="tcp port 1119"
cap_start port-1119
nntplib 1119 '
n.login("alice", alice, usenetrc=False)'
cap_stop
expect "200 " "authinfo pass $ALICE_PASS" "281 "
truth nntp "python3 nntplib on port 1119 (no registry port: found by its 200 greeting): MODE READER, CAPABILITIES (offers STARTTLS, not used), AUTHINFO USER alice, 381, AUTHINFO PASS, 281, QUIT" \
    none offered-not-used @null "$(cred AUTHINFO alice "$ALICE_PASS" success)"
nnrpd_stop 1119

# ---------------------------------------------------------------- publish
publish 40000
