#!/usr/bin/env bash
# Regenerate the LDAP captures in this directory (captures/ldap-*.pcap) and their truth files
# (*.truth.json) with a real server and real clients, in a network namespace of their own:
#   a private OpenLDAP slapd (mdb database dc=example,dc=org, StartTLS and LDAPS with a
#   throwaway self-signed certificate, Cyrus SASL with a sasldb of its own) on 127.0.0.1:389 and
#   :636, and a second one without TLS on 127.0.0.1:3890; clients ldapwhoami and ldapsearch
#   (ldap-utils) with simple binds (-x: good, wrong and empty passwords, anonymous), StartTLS
#   (-ZZ, and -Z refused), LDAPS and SASL binds (-Y PLAIN, CRAM-MD5, DIGEST-MD5).
#
#   sudo captures/make-ldap-captures.sh                         # writes next to this script
#   sudo OUT_DIR="$(mktemp -d)" captures/make-ldap-captures.sh  # or somewhere else
#   KEEP_TMP=1: keep the temporary directory (configs, logs, captures so far) for debugging
#
# The capture control, checks and truth files are in lib-mail.sh (same directory). Needs root:
# it runs itself again under "unshare --net --mount", so the servers, the clients and tcpdump
# see only a loopback of their own (no port of this machine is used, nothing else is captured).
# slapd runs from a configuration file in the temporary directory (never the system's
# cn=config); its SASL users live in a sasldb that is bind-mounted over /etc/sasldb2 in the
# private mount namespace only. Nothing on the machine is changed. Installs nothing: it says
# which commands are missing. Debian 12 packages: slapd ldap-utils sasl2-bin
# libsasl2-modules tcpdump openssl python3 util-linux (unshare) iproute2 coreutils. Every wait
# is bounded; slapd and tcpdump are stopped on exit.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${OUT_DIR:-$HERE}
ME=make-ldap-captures
# shellcheck source=lib-mail.sh
. "$HERE/lib-mail.sh"
LDAP_PORT=389
LDAPS_PORT=636
ALT_PORT=3890
SUFFIX=dc=example,dc=org
BOB_DN=uid=bob,ou=people,$SUFFIX
REALM=example.org
ADMIN_PASS=admin-$ALICE_PASS  # the rootdn's, for loading the directory (not captured)

# ---------------------------------------------------------------- preconditions
[ "$(id -u)" -eq 0 ] || die "must run as root (namespaces, port 389, tcpdump)"
missing=()
for c in slapd ldapwhoami ldapsearch ldapadd saslpasswd2 python3 tcpdump openssl unshare ip ss \
    timeout awk grep sed stat; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"
[ -f /etc/ldap/schema/inetorgperson.schema ] || die "the OpenLDAP schemas are missing (slapd)"
[ -e /usr/lib/ldap/back_mdb.so ] || die "slapd's back_mdb module is missing"
[ -e /etc/sasldb2 ] || die "/etc/sasldb2 missing (sasl2-bin): needed as a mount point"

if [ -z "${PLAINSIGHT_LDAP_NS:-}" ]; then
    # Into a network and mount namespace of our own; OUT_DIR is an ordinary directory there.
    OUT_DIR=$(mkdir -p "$OUT_DIR" && cd "$OUT_DIR" && pwd)
    exec env PLAINSIGHT_LDAP_NS=1 OUT_DIR="$OUT_DIR" unshare --net --mount --propagation private \
        bash "$HERE/$ME.sh"
fi
ip link set lo up

mail_init
SLAPD_PIDS=()
cleanup_hook() {
    local p
    for p in "${SLAPD_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    SLAPD_PIDS=()
}

# ---------------------------------------------------------------- slapd, accounts, entries
log "== setting up a private slapd in a temporary directory and namespace"
make_cert
# SASL users (CRAM-MD5 and DIGEST-MD5 need the password in the clear on the server) in a sasldb
# of this mount namespace only.
: >"$T/sasldb2"
chmod 600 "$T/sasldb2"
mount --bind "$T/sasldb2" /etc/sasldb2
printf '%s' "$ALICE_PASS" | saslpasswd2 -p -c -u "$REALM" alice ||
    die "saslpasswd2 could not add alice"

# slapd_conf NAME TLS(yes|no): $T/NAME/slapd.conf and its database directory.
slapd_conf() {
    local d="$T/$1" tls=""
    mkdir -p "$d/db"
    if [ "$2" = yes ]; then
        tls="TLSCertificateFile $T/cert.pem
TLSCertificateKeyFile $T/key.pem"
    fi
    cat >"$d/slapd.conf" <<EOF
# Private instance for captures/$ME.sh; nothing here touches the system slapd.
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $d/slapd.pid
sasl-auxprops sasldb
sasl-realm $REALM
sasl-host $HOSTNAME_FAKE
sasl-secprops none
$tls
authz-regexp uid=([^,]*),cn=[^,]*,cn=[^,]*,cn=auth uid=\$1,ou=people,$SUFFIX
authz-regexp uid=([^,]*),cn=[^,]*,cn=auth uid=\$1,ou=people,$SUFFIX
database mdb
suffix $SUFFIX
rootdn cn=admin,$SUFFIX
rootpw $ADMIN_PASS
directory $d/db
access to attrs=userPassword by anonymous auth by self read by * none
access to * by * read
EOF
}
# slapd_start NAME URLS PORT...: slapd in the foreground of a background job, listening on URLS.
slapd_start() {
    slapd -T test -u -f "$T/$1/slapd.conf" >>"$T/slapd-$1.log" 2>&1 || die "slapd.conf: $(tail -n 2 "$T/slapd-$1.log")"
    slapd -f "$T/$1/slapd.conf" -h "$2" -d 0 >>"$T/slapd-$1.log" 2>&1 &
    SLAPD_PIDS+=($!)
    shift 2
    wait_listen "$@"
}

# The directory: bob's entry (a simple-bind account), alice's (the SASL user's authz target), and
# a jpegPhoto whose value is a BER BindRequest with a password: search results are never read.
TRAP_B64=$(python3 -c '
import base64
dn, pw = b"cn=trap,dc=example,dc=org", b"notasecret"
op = b"\x02\x01\x03" + bytes([4, len(dn)]) + dn + bytes([0x80, len(pw)]) + pw
m = b"\x02\x01\x07" + bytes([0x60, len(op)]) + op
print(base64.b64encode(bytes([0x30, len(m)]) + m).decode())')
directory_ldif() {
    cat <<EOF
dn: $SUFFIX
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,$SUFFIX
objectClass: organizationalUnit
ou: people

dn: $BOB_DN
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: Bob
userPassword: $BOB_PASS
jpegPhoto:: $TRAP_B64

dn: uid=alice,ou=people,$SUFFIX
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: Alice
EOF
}
# load PORT: the directory, added by the rootdn (not captured).
load() {
    directory_ldif >"$T/directory.ldif"
    timeout 30 ldapadd -x -H "ldap://$V4:$1" -D "cn=admin,$SUFFIX" -w "$ADMIN_PASS" \
        -f "$T/directory.ldif" >"$T/ldapadd.out" 2>&1 ||
        { cat "$T/ldapadd.out" >&2; die "ldapadd failed"; }
}

# tls_version_of_capture: the version the server's ServerHello chose in $CUR (supported_versions
# when present, else legacy_version), as "TLSv1.3"; the clients do not say it.
tls_version_of_capture() {
    python3 - "$CUR" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
off, names = 24, {0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}
while off + 16 <= len(data):
    incl = struct.unpack_from("<I", data, off + 8)[0]
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    ip = pkt[14:]                      # Ethernet (tcpdump -i lo), IPv4
    if len(ip) < 20 or ip[0] >> 4 != 4:
        continue
    tcp = ip[(ip[0] & 15) * 4:]
    pay = tcp[(tcp[12] >> 4) * 4:]
    if len(pay) < 11 or pay[0] != 0x16 or pay[5] != 2:
        continue
    ver = struct.unpack_from(">H", pay, 9)[0]
    p = 9 + 2 + 32
    p += 1 + pay[p]                    # session id
    p += 3                             # cipher suite, compression
    end = p + 2 + struct.unpack_from(">H", pay, p)[0] if p + 2 <= len(pay) else p
    p += 2
    while p + 4 <= min(end, len(pay)):
        t, n = struct.unpack_from(">HH", pay, p)
        if t == 43 and n == 2:
            ver = struct.unpack_from(">H", pay, p + 4)[0]
        p += 4 + n
    print(names.get(ver, ""))
    break
EOF
}

# lw ARGS...: ldapwhoami against the server, its output kept; LDAPTLS_REQCERT=never accepts the
# self-signed certificate. A failure is expected when EXPECT_FAIL is set.
lw() {
    local rc=0
    LDAPTLS_REQCERT=never timeout 30 ldapwhoami "$@" >"$T/lw.out" 2>&1 || rc=$?
    if [ -n "${EXPECT_FAIL:-}" ]; then
        [ "$rc" -ne 0 ] || { cat "$T/lw.out" >&2; die "ldapwhoami succeeded, a failure was wanted"; }
        grep -qF -- "$EXPECT_FAIL" "$T/lw.out" || { cat "$T/lw.out" >&2; die "not '$EXPECT_FAIL'"; }
    else
        [ "$rc" -eq 0 ] || { cat "$T/lw.out" >&2; die "ldapwhoami failed"; }
    fi
}
# cred_anon USER RESULT: an anonymous or unauthenticated bind for truth (no password).
cred_anon() {
    printf '{"mechanism": "SIMPLE", "username": %s, "password": null, "result": %s, "anonymous": true}' \
        "$(jstr "$1")" "$(jstr "$2")"
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

CAP_PREFIX=ldap-slapd-
URL="ldap://$V4:$LDAP_PORT"

# ================================================================ on ports 389 and 636
slapd_conf main yes
slapd_start main "ldap://$V4:$LDAP_PORT/ ldaps://$V4:$LDAPS_PORT/" "$LDAP_PORT" "$LDAPS_PORT"
load "$LDAP_PORT"
CAP_FILTER="tcp port $LDAP_PORT"

cap_start simple-bind
lw -x -H "$URL" -D "$BOB_DN" -w "$BOB_PASS"
cap_stop
grep -qF "dn:$BOB_DN" "$T/lw.out" || die "ldapwhoami did not say bob"
expect "$BOB_DN" "$BOB_PASS" "1.3.6.1.4.1.4203.1.11.3"
truth ldap "ldapwhoami -x: simple bind as $BOB_DN with its password (spaces inside), success (0), the Who am I? extended operation and its answer, unbind" \
    none @null @null "$(cred SIMPLE "$BOB_DN" "$BOB_PASS" success)"

cap_start simple-bind-fail
EXPECT_FAIL="Invalid credentials (49)" lw -x -H "$URL" -D "$BOB_DN" -w "$WRONG_PASS"
cap_stop
expect "$BOB_DN" "$WRONG_PASS"
truth ldap "ldapwhoami -x with a wrong password: simple bind, invalidCredentials (49), the client gives up" \
    none @null @null "$(cred SIMPLE "$BOB_DN" "$WRONG_PASS" failure)"

cap_start anonymous-search
LDAPTLS_REQCERT=never timeout 30 ldapsearch -x -o ldif-wrap=no -H "$URL" -b "$SUFFIX" "(uid=bob)" \
    >"$T/ls.out" 2>&1 || { cat "$T/ls.out" >&2; die "ldapsearch failed"; }
cap_stop
grep -qF "jpegPhoto:: $TRAP_B64" "$T/ls.out" || { cat "$T/ls.out" >&2; die "no trap entry"; }
expect "notasecret" "cn=trap"
truth ldap "ldapsearch -x without -D: anonymous simple bind (empty name and password), success, then a search whose result entry holds a jpegPhoto that is a BER BindRequest with a password (never read), search done, unbind" \
    none @null @null "$(cred_anon @null success)"
with_exposure cleartext

cap_start unauthenticated-bind
EXPECT_FAIL="unwilling to perform (53)" lw -x -H "$URL" -D "$BOB_DN" -w ""
cap_stop
expect "unauthenticated bind"
truth ldap "ldapwhoami -x with a DN and an empty password: an unauthenticated bind (RFC 4513 5.1.2), refused with unwillingToPerform (53)" \
    none @null @null "$(cred_anon "$BOB_DN" failure)"
with_exposure cleartext

cap_start starttls
lw -ZZ -x -H "$URL" -D "$BOB_DN" -w "$BOB_PASS"
cap_stop
ver=$(tls_version_of_capture)
[ -n "$ver" ] || die "no ServerHello in the StartTLS capture"
expect "1.3.6.1.4.1.1466.20037"
forbid "$BOB_PASS" "$BOB_DN"
truth ldap "ldapwhoami -ZZ -x: StartTLS extended request, success, $ver handshake; the simple bind and Who am I? inside TLS (no credential visible)" \
    starttls used "$ver"

CAP_FILTER="tcp port $LDAPS_PORT"
cap_start ldaps
lw -x -H "ldaps://$V4:$LDAPS_PORT" -D "$BOB_DN" -w "$BOB_PASS"
cap_stop
ver=$(tls_version_of_capture)
[ -n "$ver" ] || die "no ServerHello in the LDAPS capture"
forbid "$BOB_PASS" "$BOB_DN"
truth ldap "ldapwhoami -x on ldaps:// (port 636, implicit TLS): $ver handshake, then the simple bind inside TLS" \
    implicit n/a "$ver"
CAP_FILTER="tcp port $LDAP_PORT"

# SASL binds (RFC 4513 5.2): the SASL user alice in realm $REALM. PLAIN needs -O none (and the
# server sasl-secprops none): by default both sides refuse a plaintext mechanism without a
# security layer.
cap_start sasl-plain
lw -H "$URL" -Y PLAIN -O none -U alice -w "$ALICE_PASS"
cap_stop
expect "PLAIN" "$ALICE_PASS"
truth ldap "ldapwhoami -Y PLAIN -O none: a SASL bind whose credentials are authzid NUL authcid NUL password (RFC 4616), success, Who am I?" \
    none @null @null "$(cred PLAIN alice "$ALICE_PASS" success)"

cap_start sasl-cram-md5
lw -H "$URL" -Y CRAM-MD5 -U alice -w "$ALICE_PASS"
cap_stop
expect "CRAM-MD5"
forbid "$ALICE_PASS"
truth ldap "ldapwhoami -Y CRAM-MD5: a SASL bind without credentials, saslBindInProgress (14) with the challenge, a second bind with \"alice <hmac>\" (password not on the wire), success, Who am I?" \
    none @null @null "$(cred CRAM-MD5 alice @null success)"

cap_start sasl-digest-md5
lw -H "$URL" -Y DIGEST-MD5 -U alice -R "$REALM" -w "$ALICE_PASS"
cap_stop
expect "DIGEST-MD5" "username=\"alice\""
forbid "$ALICE_PASS"
truth ldap "ldapwhoami -Y DIGEST-MD5: SASL bind, saslBindInProgress (14) with the digest challenge, the digest-response (password not on the wire), success with rspauth; the Who am I? after it runs inside the negotiated SASL security layer (not LDAP BER any more)" \
    none @null @null "$(cred DIGEST-MD5 alice @null success)"

cleanup_hook
wait_free "$LDAP_PORT" "$LDAPS_PORT"

# ================================================================ on port 3890, without TLS
slapd_conf alt no
slapd_start alt "ldap://$V4:$ALT_PORT/" "$ALT_PORT"
load "$ALT_PORT"
CAP_FILTER="tcp port $ALT_PORT"

cap_start starttls-refused-port-3890
lw -Z -x -H "ldap://$V4:$ALT_PORT" -D "$BOB_DN" -w "$BOB_PASS"
cap_stop
grep -qF "ldap_start_tls" "$T/lw.out" || { cat "$T/lw.out" >&2; die "StartTLS was not refused"; }
expect "1.3.6.1.4.1.1466.20037" "$BOB_PASS"
truth ldap "ldapwhoami -Z -x on port 3890 (no registry port: found by its first BER message) against a slapd without TLS: StartTLS refused (protocolError, 2), then the simple bind in the clear, success, Who am I?" \
    none refused @null "$(cred SIMPLE "$BOB_DN" "$BOB_PASS" success)"

cleanup_hook
wait_free "$ALT_PORT"

# ---------------------------------------------------------------- publish
publish 40000
