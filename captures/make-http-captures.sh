#!/usr/bin/env bash
# Regenerate the HTTP captures in this directory (captures/http-*.pcap) and their truth files
# (*.truth.json) with real servers and real clients, in a network namespace of their own:
#   a private nginx with auth_basic on 127.0.0.1:80 and :8000 (a port plainsight finds by the
#   request line alone); a small server on python3's http.server on 127.0.0.1:8080 for the
#   schemes nginx does not do (Digest, RFC 7616, checked against the password; Bearer, RFC 6750;
#   NTLM, answering the client's NEGOTIATE with a CHALLENGE and its AUTHENTICATE with 200 for
#   alice: a real server for the purpose of the capture, which never checks the NT response);
#   clients curl (-u, --digest, --ntlm, --oauth2-bearer, --next for a second try on the same
#   connection) and python3's socket module for pipelining, which curl no longer does.
#
#   sudo captures/make-http-captures.sh                         # writes next to this script
#   sudo OUT_DIR="$(mktemp -d)" captures/make-http-captures.sh  # or somewhere else
#   KEEP_TMP=1: keep the temporary directory (configs, logs, captures so far) for debugging
#
# captures/make-captures.sh runs this script at its end. The capture control, checks and truth
# files are in lib-mail.sh (same directory). Needs root: it runs itself again under
# "unshare --net --mount", so the servers, the clients and tcpdump see only a loopback of their
# own. Installs nothing: it says which commands are missing. Debian 12 packages: nginx-light (or
# nginx) curl python3 tcpdump openssl util-linux (unshare) iproute2 coreutils. Every wait is
# bounded; the servers and tcpdump are stopped on exit.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${OUT_DIR:-$HERE}
ME=make-http-captures
# shellcheck source=lib-mail.sh
. "$HERE/lib-mail.sh"
TOKEN='mF_9.B5f-4.1JqM'

[ "$(id -u)" -eq 0 ] || die "must run as root (namespaces, port 80, tcpdump)"
missing=()
for c in nginx curl python3 tcpdump openssl unshare ip ss timeout awk grep sed stat; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"

if [ -z "${PLAINSIGHT_HTTP_NS:-}" ]; then
    OUT_DIR=$(mkdir -p "$OUT_DIR" && cd "$OUT_DIR" && pwd)
    exec env PLAINSIGHT_HTTP_NS=1 OUT_DIR="$OUT_DIR" unshare --net --mount --propagation private \
        bash "$HERE/$ME.sh"
fi
ip link set lo up

mail_init
NGINX_STARTED=
PY_PID=
cleanup_hook() {
    if [ -n "$NGINX_STARTED" ]; then
        nginx -c "$T/nginx.conf" -s stop 2>/dev/null || true
        stop_pidfile "$T/nginx.pid" 2>/dev/null || true
    fi
    if [ -n "$PY_PID" ]; then
        kill "$PY_PID" 2>/dev/null || true
        wait "$PY_PID" 2>/dev/null || true
    fi
}

# ---------------------------------------------------------------- the servers
log "== setting up a private nginx and a python3 server in a temporary directory and namespace"
# A body of request- and answer-shaped lines: bodies are never read.
trap_text() {
    printf '%s\r\n' "GET /trap HTTP/1.1" "Authorization: Basic ZXZpbDpub3Rhc2VjcmV0" "" \
        "HTTP/1.1 200 OK" "Proxy-Authorization: Bearer not-a-token" ""
}
mkdir -p "$T/www/private" "$T/www/public" "$T/nginx-tmp"
trap_text >"$T/www/private/index.html"
trap_text >"$T/www/public/index.html"
chmod -R a+rX "$T/www"
{
    printf 'alice:%s\n' "$(openssl passwd -apr1 "$ALICE_PASS")"
    printf 'bob:%s\n' "$(openssl passwd -apr1 "$BOB_PASS")"
} >"$T/htpasswd"
chmod 644 "$T/htpasswd"
cat >"$T/nginx.conf" <<EOF
# Private instance for captures/$ME.sh; nothing here touches the system nginx.
daemon on;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log $T/nginx-access.log;
    client_body_temp_path $T/nginx-tmp;
    proxy_temp_path $T/nginx-tmp;
    fastcgi_temp_path $T/nginx-tmp;
    uwsgi_temp_path $T/nginx-tmp;
    scgi_temp_path $T/nginx-tmp;
    keepalive_requests 100;
    server {
        listen $V4:80;
        listen $V4:8000;
        root $T/www;
        location /private/ { auth_basic "private"; auth_basic_user_file $T/htpasswd; }
    }
}
EOF
nginx -c "$T/nginx.conf" || die "nginx did not start"
NGINX_STARTED=1

cat >"$T/authserver.py" <<'EOF'
"""A small HTTP/1.1 server for the captures: Digest (RFC 7616, MD5, qop=auth, checked against
the password), Bearer (RFC 6750) and NTLM (MS-NLMP: CHALLENGE for a NEGOTIATE, 200 for an
AUTHENTICATE from alice, whose NT response it does not check). Python standard library only."""
import base64
import hashlib
import http.server
import os
import struct
import sys

USERS = {"alice": os.environ["ALICE_PASS"], "bob": os.environ["BOB_PASS"]}
TOKEN = os.environ["TOKEN"]
REALM = "plainsight"
NONCE = "dcd98b7102dd2f0e8b11d0f600bfb0c093"
TRAP = os.environ["TRAP"].encode()


def digest_ok(value):
    params = {}
    for part in value.split(","):
        if "=" in part:
            k, v = part.strip().split("=", 1)
            params[k.strip()] = v.strip().strip('"')
    user = params.get("username")
    if user not in USERS:
        return False
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    ha1 = md5("%s:%s:%s" % (user, REALM, USERS[user]))
    ha2 = md5("GET:%s" % params.get("uri", ""))
    want = md5(":".join([ha1, params.get("nonce", ""), params.get("nc", ""),
                         params.get("cnonce", ""), params.get("qop", ""), ha2]))
    return params.get("response") == want


def ntlm_user(msg):
    """The user of an AUTHENTICATE message (UTF-16LE when its flags say so)."""
    ulen, _, uoff = struct.unpack_from("<HHI", msg, 36)
    flags = struct.unpack_from("<I", msg, 60)[0]
    raw = msg[uoff:uoff + ulen]
    return raw.decode("utf-16-le") if flags & 1 else raw.decode("latin-1")


def ntlm_challenge(flags):
    return (b"NTLMSSP\0" + struct.pack("<I", 2) + struct.pack("<HHI", 0, 0, 48) +
            struct.pack("<I", (flags & 0x00000001) | 0x00028200) + os.urandom(8) + b"\0" * 8 +
            struct.pack("<HHI", 0, 0, 48))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(TRAP)))
        self.end_headers()
        self.wfile.write(TRAP)

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if self.path.startswith("/digest"):
            if scheme == "Digest" and digest_ok(value):
                return self.answer(200)
            return self.answer(401, [("WWW-Authenticate", 'Digest realm="%s", nonce="%s", '
                                      'qop="auth", algorithm=MD5' % (REALM, NONCE))])
        if self.path.startswith("/bearer"):
            if scheme == "Bearer" and value == TOKEN:
                return self.answer(200)
            return self.answer(401, [("WWW-Authenticate", 'Bearer realm="%s"' % REALM)])
        if self.path.startswith("/ntlm"):
            msg = base64.b64decode(value) if scheme == "NTLM" else b""
            if msg[8:12] == struct.pack("<I", 1):
                flags = struct.unpack_from("<I", msg, 12)[0]
                chal = base64.b64encode(ntlm_challenge(flags)).decode()
                return self.answer(401, [("WWW-Authenticate", "NTLM " + chal)])
            if msg[8:12] == struct.pack("<I", 3) and ntlm_user(msg) == "alice":
                return self.answer(200)
            return self.answer(401, [("WWW-Authenticate", "NTLM")])
        return self.answer(404)


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
EOF
ALICE_PASS=$ALICE_PASS BOB_PASS=$BOB_PASS TOKEN=$TOKEN TRAP=$(trap_text) \
    python3 "$T/authserver.py" 8080 >"$T/authserver.log" 2>&1 &
PY_PID=$!
wait_listen 80 8000 8080

# ---------------------------------------------------------------- the captures
CAP_PREFIX=http-
CAP_FILTER='tcp port 80 or tcp port 8000 or tcp port 8080'
URL=http://$V4
# curl: HTTP/1.1, no proxy from the environment, a verbose log for the checks.
ccurl() { curl -sS --http1.1 --noproxy '*' -v "$@" >/dev/null 2>>"$T/curl.log"; }

cap_start nginx-basic
ccurl -u "alice:$ALICE_PASS" "$URL/private/" "$URL/private/index.html"
cap_stop
expect "Authorization: Basic $(b64 "alice:$ALICE_PASS")" "HTTP/1.1 200 OK" "GET /trap HTTP/1.1"
truth http "curl -u alice against nginx auth_basic on 80: two GETs on one keep-alive connection, each with the same Basic header (one credential), 200 with a body of request-shaped trap lines" \
    none n/a @null "$(cred BASIC alice "$ALICE_PASS" success)"

cap_start nginx-basic-retry
ccurl -u "bob:$WRONG_PASS" "$URL/private/" --next -u "bob:$BOB_PASS" "$URL/private/"
cap_stop
expect "401 Unauthorized" "Authorization: Basic $(b64 "bob:$BOB_PASS")"
truth http "curl --next on one connection: Basic bob with a wrong password (401, with a body), then the right one (password with spaces, 200)" \
    none n/a @null "$(cred BASIC bob "$WRONG_PASS" failure)" "$(cred BASIC bob "$BOB_PASS" success)"

cap_start nginx-no-auth
ccurl "$URL/public/"
cap_stop
expect "GET /public/ HTTP/1.1" "Authorization: Basic ZXZpbDpub3Rhc2VjcmV0"
NAME=$(basename "$CUR")
cat >"${CUR%.pcap}.truth.json" <<EOF
{
  "file": "$NAME",
  "description": "curl GET of a public page on 80 without Authorization; its body holds request-shaped trap lines with an Authorization header: no login, so no session is recorded",
  "sessions": []
}
EOF

cap_start nginx-pipelined
python3 - "$V4" "$(b64 "alice:$ALICE_PASS")" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
auth = "Authorization: Basic %s\r\n" % sys.argv[2]
req = ("GET /private/ HTTP/1.1\r\nHost: x\r\n%s\r\n"
       "HEAD /private/ HTTP/1.1\r\nHost: x\r\n%s\r\n"
       "GET /public/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") % (auth, auth)
s.sendall(req.encode())
while s.recv(65536):
    pass
s.close()
EOF
cap_stop
expect "HEAD /private/ HTTP/1.1"
truth http "python3 socket client pipelining GET and HEAD with Basic alice and a GET of a public page in one write; nginx answers in order (HEAD with a Content-Length and no body)" \
    none n/a @null "$(cred BASIC alice "$ALICE_PASS" success)"

cap_start nginx-port-8000
ccurl -u "bob:$BOB_PASS" "http://$V4:8000/private/"
cap_stop
truth http "curl -u bob against nginx on 8000, no port of plainsight's: found by the request line" \
    none n/a @null "$(cred BASIC bob "$BOB_PASS" success)"

cap_start python-digest
ccurl --digest -u "alice:$ALICE_PASS" "http://$V4:8080/digest/"
cap_stop
expect 'WWW-Authenticate: Digest' 'Authorization: Digest username="alice"' "HTTP/1.1 200 OK"
forbid "$ALICE_PASS"
truth http "curl --digest against the python3 server on 8080: GET, 401 with the Digest challenge, GET with the response (checked by the server), 200; no password on the wire" \
    none n/a @null "$(cred DIGEST alice @null success)"

cap_start python-bearer
ccurl --oauth2-bearer "not-the-token" "http://$V4:8080/bearer/" \
    --next --oauth2-bearer "$TOKEN" "http://$V4:8080/bearer/"
cap_stop
expect "Authorization: Bearer $TOKEN" "401 Unauthorized"
truth http "curl --oauth2-bearer on 8080, one connection: a wrong token (401), then the right one (200); a token has no user" \
    none n/a @null "$(cred BEARER @null not-the-token failure)" "$(cred BEARER @null "$TOKEN" success)"

cap_start python-ntlm
ccurl --ntlm -u "CORP\\alice:$ALICE_PASS" "http://$V4:8080/ntlm/"
cap_stop
expect "Authorization: NTLM TlRMTVNTUAAB" "WWW-Authenticate: NTLM TlRMTVNTUAAC" \
    "Authorization: NTLM TlRMTVNTUAAD" "HTTP/1.1 200 OK"
forbid "$ALICE_PASS"
truth http "curl --ntlm as CORP\\alice on 8080: NEGOTIATE, 401 with the CHALLENGE, AUTHENTICATE (user and domain in UTF-16LE, a 24-byte NT response), 200 on the same connection" \
    none n/a @null "$(cred NTLM 'CORP\alice' @null success)"

publish 65536
