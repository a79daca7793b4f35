#!/usr/bin/env bash
# Regenerate the XMPP captures in this directory (captures/xmpp-*.pcap) and their truth files
# (*.truth.json) with a real server and a real client, in a network namespace of their own:
#   a private prosody (RFC 6120 client-to-server streams: STARTTLS with a throwaway self-signed
#   certificate, SASL PLAIN and SCRAM-SHA-1 against its internal_plain store, XEP-0078
#   jabber:iq:auth through mod_legacyauth) on 127.0.0.1:5222, 5223 (legacy implicit TLS) and
#   15222; the client is a short python3 script speaking the client side over a socket (no
#   packaged client is practical to script here), with python's ssl for TLS.
#
#   sudo captures/make-xmpp-captures.sh                         # writes next to this script
#   sudo OUT_DIR="$(mktemp -d)" captures/make-xmpp-captures.sh  # or somewhere else
#   KEEP_TMP=1: keep the temporary directory (configs, logs, captures so far) for debugging
#
# The capture control, checks and truth files are in lib-mail.sh (same directory). Needs root:
# it runs itself again under "unshare --net --mount", so the server, the client and tcpdump see
# only a loopback of their own. prosody runs with a configuration and data directory of its own
# in the temporary directory; nothing on the machine is changed. Installs nothing: it says which
# commands are missing. Debian 12 packages: prosody python3 tcpdump openssl util-linux iproute2.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${OUT_DIR:-$HERE}
ME=make-xmpp-captures
# shellcheck source=lib-mail.sh
. "$HERE/lib-mail.sh"

[ "$(id -u)" -eq 0 ] || die "must run as root (namespaces, tcpdump)"
missing=()
for c in prosody prosodyctl python3 tcpdump openssl unshare ip ss timeout awk grep sed stat; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"

if [ -z "${PLAINSIGHT_XMPP_NS:-}" ]; then
    OUT_DIR=$(mkdir -p "$OUT_DIR" && cd "$OUT_DIR" && pwd)
    exec env PLAINSIGHT_XMPP_NS=1 OUT_DIR="$OUT_DIR" unshare --net --mount --propagation private \
        bash "$HERE/$ME.sh"
fi
ip link set lo up

mail_init
PROSODY_PID=
cleanup_hook() {
    if [ -n "$PROSODY_PID" ]; then
        kill "$PROSODY_PID" 2>/dev/null || true
        wait "$PROSODY_PID" 2>/dev/null || true
    fi
}

# ---------------------------------------------------------------- a private prosody
log "== setting up a private prosody in a temporary directory and namespace"
make_cert
P="$T/prosody"
mkdir -p "$P/data" "$P/certs"
cp "$T/cert.pem" "$T/key.pem" "$P/"
chmod 644 "$P/key.pem"
cat >"$P/prosody.cfg.lua" <<EOF
-- Private instance for captures/$ME.sh; nothing here touches the system prosody.
daemonize = false
run_as_root = true
pidfile = "$P/prosody.pid"
data_path = "$P/data"
certificates = "$P/certs"
plugin_paths = { }
modules_enabled = { "saslauth"; "tls"; "legacyauth"; "disco"; "roster"; "ping"; "posix" }
modules_disabled = { "s2s" }
authentication = "internal_plain"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
c2s_ports = { 5222, 15222 }
legacy_ssl_ports = { 5223 }
interfaces = { "$V4" }
local_interfaces = { "$V4" }
log = { debug = "$T/prosody.log" }
ssl = { certificate = "$P/cert.pem"; key = "$P/key.pem" }
legacy_ssl_ssl = { certificate = "$P/cert.pem"; key = "$P/key.pem" }
VirtualHost "localhost"
EOF
prosodyctl --config "$P/prosody.cfg.lua" register alice localhost "$ALICE_PASS" >>"$T/prosody.log" 2>&1 ||
    die "prosodyctl could not register alice"
prosodyctl --config "$P/prosody.cfg.lua" register bob localhost "$BOB_PASS" >>"$T/prosody.log" 2>&1 ||
    die "prosodyctl could not register bob"
prosody --config "$P/prosody.cfg.lua" -F >>"$T/prosody.out" 2>&1 &
PROSODY_PID=$!
wait_listen 5222 5223 15222

CAP_PREFIX=xmpp-prosody-

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

# client PORT STEPS...: the client side of RFC 6120 over a socket. STEPS, in order:
#   tls-first       TLS from the first byte (5223)
#   starttls        <starttls/>, <proceed/>, TLS, a new stream
#   plain:U:P       SASL PLAIN with an initial response
#   scram:U:P       SASL SCRAM-SHA-1 (RFC 5802), the proof computed here
#   iqauth:U:P      XEP-0078 jabber:iq:auth with a plaintext password (a stream without version)
#   bind            bind a resource and open a session
#   trap            a chat message whose text holds <auth> and jabber:iq:auth markup, escaped
# Each outcome is printed ("result: success" or "result: failure"); TLS versions as "version:".
client() {
    timeout 30 python3 - "$@" >"$T/client.out" 2>&1 <<EOF ||
import base64, hashlib, hmac, os, re, socket, ssl, sys
port, steps = int(sys.argv[1]), sys.argv[2:]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
sock = socket.create_connection(("$V4", port), timeout=20)
if "tls-first" in steps:
    sock = ctx.wrap_socket(sock)
    print("version:", sock.version())
buf = b""
def send(x):
    print("C:", x)
    sock.sendall(x.encode())
def until(pat):
    global buf
    while True:
        m = re.search(pat.encode(), buf, re.S)
        if m:
            buf = buf[m.end():]
            print("S:", m.group(0).decode(errors="replace")[:300])
            return m
        d = sock.recv(4096)
        if not d:
            sys.exit("connection closed waiting for " + pat)
        buf += d
def open_stream(version=True):
    v = " version='1.0'" if version else ""
    send("<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
         "xmlns:stream='http://etherx.jabber.org/streams'" + v + ">")
    until(r"<stream:stream[^>]*>")
    if version:
        return until(r"<stream:features.*?</stream:features>|<stream:features/>").group(0).decode()
    return ""
b64 = lambda b: base64.b64encode(b).decode()
feats = open_stream(version=not any(s.startswith("iqauth") for s in steps))
for step in steps:
    kind, _, rest = step.partition(":")
    user, _, pw = rest.partition(":")
    if kind == "starttls":
        send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        until(r"<proceed[^>]*>")
        sock = ctx.wrap_socket(sock)
        print("version:", sock.version())
        buf = b""
        feats = open_stream()
    elif kind == "plain":
        send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>"
             % b64(b"\0" + user.encode() + b"\0" + pw.encode()))
        m = until(r"<success[^>]*/>|<success.*?</success>|<failure.*?</failure>")
        ok = m.group(0).startswith(b"<success")
        print("result:", "success" if ok else "failure")
        if ok:
            feats = open_stream()
    elif kind == "scram":
        cnonce = b64(os.urandom(18))
        first = "n=%s,r=%s" % (user, cnonce)
        send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>%s</auth>"
             % b64(("n,," + first).encode()))
        ch = base64.b64decode(until(r"<challenge[^>]*>(.*?)</challenge>").group(1)).decode()
        f = dict(kv.split("=", 1) for kv in ch.split(","))
        salted = hashlib.pbkdf2_hmac("sha1", pw.encode(), base64.b64decode(f["s"]), int(f["i"]))
        ckey = hmac.new(salted, b"Client Key", "sha1").digest()
        final = "c=biws,r=" + f["r"]
        auth_msg = (first + "," + ch + "," + final).encode()
        sig = hmac.new(hashlib.sha1(ckey).digest(), auth_msg, "sha1").digest()
        proof = bytes(a ^ b for a, b in zip(ckey, sig))
        send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s</response>"
             % b64((final + ",p=" + b64(proof)).encode()))
        m = until(r"<success.*?</success>|<success[^>]*/>|<failure.*?</failure>")
        ok = m.group(0).startswith(b"<success")
        print("result:", "success" if ok else "failure")
        if ok:
            feats = open_stream()
    elif kind == "iqauth":
        send("<iq type='set' id='auth1'><query xmlns='jabber:iq:auth'><username>%s</username>"
             "<password>%s</password><resource>cap</resource></query></iq>" % (user, pw))
        m = until(r"<iq[^>]*id=.auth1.[^>]*(/>|>.*?</iq>)")
        ok = b"type='result'" in m.group(0) or b'type="result"' in m.group(0)
        print("result:", "success" if ok else "failure")
    elif kind == "bind":
        send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
             "<resource>cap</resource></bind></iq>")
        until(r"<iq[^>]*id=.b1.[^>]*(/>|>.*?</iq>)")
    elif kind == "trap":
        send("<message to='bob@localhost' type='chat' id='m1'><body>"
             "&lt;auth mechanism='PLAIN'&gt;AGV2aWwAbm90YXNlY3JldA==&lt;/auth&gt; "
             "&lt;query xmlns='jabber:iq:auth'&gt;&lt;password&gt;notasecret&lt;/password&gt;"
             "</body></message>")
        send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
        until(r"<iq[^>]*id=.p1.[^>]*(/>|>.*?</iq>)")
send("</stream:stream>")
try:
    until(r"</stream:stream>")
except Exception:
    pass
sock.close()
EOF
        { cat "$T/client.out" >&2; die "the XMPP client failed"; }
}
tls_version_of() {
    sed -n 's/^version: \(TLSv1\.[0-9]\)$/\1/p' "$T/client.out" | head -n 1
}
results() { grep '^result: ' "$T/client.out" | sed 's/^result: //' | tr '\n' ' '; }

CAP_FILTER="tcp port 5222"

cap_start sasl-plain
client 5222 plain:alice:"$ALICE_PASS" bind trap
cap_stop
[ "$(results)" = "success " ] || die "PLAIN: $(results)"
expect "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'" "mechanism='PLAIN'" "<success" \
    "&lt;auth mechanism"
truth xmpp "python3 client: stream header, features (STARTTLS offered, not used; SCRAM-SHA-256, SCRAM-SHA-1, PLAIN), SASL PLAIN with an initial response, success, a new stream, resource bind, a chat message whose text holds escaped <auth> and jabber:iq:auth markup, a ping, the stream's end" \
    none offered-not-used @null "$(cred PLAIN alice "$ALICE_PASS" success)"

cap_start sasl-plain-fail
client 5222 plain:bob:"$WRONG_PASS" plain:bob:"$BOB_PASS"
cap_stop
[ "$(results)" = "failure success " ] || die "PLAIN fail: $(results)"
expect "<failure" "<not-authorized/>" "<success"
truth xmpp "python3 client: SASL PLAIN for bob with the wrong password, failure (not-authorized), then the right one (with spaces) on the same stream, success, a new stream, the stream's end" \
    none offered-not-used @null "$(cred PLAIN bob "$WRONG_PASS" failure)" \
    "$(cred PLAIN bob "$BOB_PASS" success)"

cap_start sasl-scram-sha-1
client 5222 scram:alice:"$ALICE_PASS" bind
cap_stop
[ "$(results)" = "success " ] || die "SCRAM: $(results)"
expect "mechanism='SCRAM-SHA-1'" "<challenge" "<response" "<success"
truth xmpp "python3 client: SASL SCRAM-SHA-1 (RFC 5802: client-first, challenge, client-final with the proof; the password is not on the wire), success, a new stream, resource bind, the stream's end" \
    none offered-not-used @null "$(cred SCRAM-SHA-1 alice @null success)"
with_exposure challenge-response

cap_start iq-auth
client 5222 iqauth:alice:"$ALICE_PASS"
cap_stop
[ "$(results)" = "success " ] || die "iq-auth: $(results)"
expect "jabber:iq:auth" "<password>$ALICE_PASS</password>" "type='result'"
truth xmpp "python3 client: a stream without version (as pre-RFC 3920 clients open it; prosody sends its features anyway, STARTTLS offered, not used), XEP-0078 jabber:iq:auth set with username and plaintext password, result, the stream's end" \
    none offered-not-used @null "$(cred IQ-AUTH alice "$ALICE_PASS" success)"

cap_start starttls
client 5222 starttls plain:alice:"$ALICE_PASS" bind
cap_stop
ver=$(tls_version_of)
[ -n "$ver" ] || die "the client did not say which TLS version it negotiated"
expect "<starttls" "<proceed"
forbid "mechanism='PLAIN'"
truth xmpp "python3 client: features offer STARTTLS, <starttls/>, <proceed/>, $ver handshake; the new stream, SASL PLAIN and bind inside TLS" \
    starttls used "$ver"

CAP_FILTER="tcp port 5223"
cap_start legacy-tls-5223
client 5223 tls-first plain:alice:"$ALICE_PASS"
cap_stop
ver=$(tls_version_of)
[ -n "$ver" ] || die "the client did not say which TLS version it negotiated"
forbid "mechanism='PLAIN'"
truth xmpp "python3 client on port 5223 (legacy implicit TLS): $ver from the first byte; the stream and SASL PLAIN inside TLS" \
    implicit n/a "$ver"

CAP_FILTER="tcp port 15222"
cap_start port-15222
client 15222 plain:alice:"$ALICE_PASS"
cap_stop
[ "$(results)" = "success " ] || die "PLAIN on 15222: $(results)"
truth xmpp "python3 client on port 15222 (no registry port: found by the client's <?xml stream header): features (STARTTLS offered, not used), SASL PLAIN, success, a new stream, the stream's end" \
    none offered-not-used @null "$(cred PLAIN alice "$ALICE_PASS" success)"

# ---------------------------------------------------------------- publish
publish 40000
