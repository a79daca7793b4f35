"""The session's context end to end: banner, client_name, sni, cert_subject, cert_issuer and
proxy_target from the bundled captures (made by real servers and clients: Postfix, Dovecot,
vsftpd, sieve-connect, curl through a SOCKS5 proxy), in the database and in JSON alike; a
generated session whose banner and EHLO name carry control bytes and an overlong name; and the
audit queries that use them (sql/audit/exposed-by-sensor.sql, sessions-by-server-name.sql).

Which captures carry an SNI was read off the bytes with tshark: only sieve-connect sends one
("127.0.0.1"); Postfix's smtp client, Dovecot's doveadm and curl send none. The certificate is
in the clear only where TLS 1.2 was negotiated (SMTPS, POP3S, the IMAP STARTTLS capture)."""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapgen  # noqa: E402
from common import ROOT, Tally, analyse, run, sessions, tmpdir  # noqa: E402

CAPTURES = os.path.join(ROOT, "captures")
FIELDS = ("banner", "client_name", "sni", "cert_subject", "cert_issuer", "proxy_target")
IMAP_BANNER = ("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+"
               " STARTTLS AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5 AUTH=DIGEST-MD5] Dovecot ready.")
CERT = "CN=mail.example.test"

# capture -> the one session's fields (None: null)
WANT = {
    "smtp-postfix-starttls": ("220 mail.example.test ESMTP", "client.example.test", None, None,
                              None, None),
    "smtp-postfix-smtps": (None, None, None, CERT, CERT, None),
    "pop3-dovecot-pop3s": (None, None, None, CERT, CERT, None),
    "imap-dovecot-starttls": (IMAP_BANNER, None, None, CERT, CERT, None),
    "imap-dovecot-imaps": (None, None, None, None, None, None),  # TLS 1.3: nothing in the clear
    "ftp-vsftpd-login": ("220 (vsFTPd 3.0.3)", None, None, None, None, None),
    "managesieve-dovecot-starttls": ('"IMPLEMENTATION" "Dovecot (Debian) Pigeonhole"', None,
                                     "127.0.0.1", None, None, None),
    "ldap-slapd-simple-bind": (None, None, None, None, None, None),
    "nntp-inn-authinfo": ("200 mail.example.test InterNetNews NNRP server INN 2.7.1 ready"
                          " (no posting)", None, None, None, None, None),
    "nntp-inn-starttls": ("200 mail.example.test InterNetNews NNRP server INN 2.7.1 ready"
                          " (no posting)", None, None, None, None, None),  # TLS 1.3, no SNI
    "xmpp-prosody-starttls": (None, None, None, None, None, None),  # no greeting line
    "http-nginx-basic": (None, None, None, None, None, None),
    "socks5-smtp-noauth": ("220 mail.example.test ESMTP", "client.example.test", None, None,
                           None, "127.0.0.1:587"),
    "socks5-imap-noauth": (None, None, None, None, None, "localhost:143"),
}


def check_captures(t, binary):
    for name, want in sorted(WANT.items()):
        path = os.path.join(CAPTURES, name + ".pcap")
        rc, _, err, db = analyse(binary, [path], ["-q"])
        if not t.check(rc == 0, "%s: exit %d: %s" % (name, rc, err.strip())):
            continue
        rows = sessions(db)
        if not t.check(len(rows) == 1, "%s: %d sessions" % (name, len(rows))):
            continue
        rc, out, err = run(binary, ["-r", path, "--json", "-q"])
        lines = [json.loads(x) for x in out.splitlines() if x.strip()]
        t.check(rc == 0 and len(lines) == 1, "%s: json: exit %d, %d lines" % (name, rc, len(lines)))
        for field, w in zip(FIELDS, want):
            if name == "socks5-imap-noauth" and field == "banner":
                w = rows[0]["banner"]  # Dovecot's list differs from the other captures'
                t.check(w is not None and w.startswith("* OK [CAPABILITY"), "%s: banner" % name)
            t.check(rows[0][field] == w, "%s: %s %r, want %r" % (name, field, rows[0][field], w))
            if lines:
                t.check(lines[0].get(field, "absent") == w,
                        "%s: json %s %r, want %r" % (name, field, lines[0].get(field), w))


def check_hostile(t, binary):
    """Control bytes escaped, the name cut at 256 wire bytes, nothing raw in either output."""
    d = tmpdir()
    path = os.path.join(d, "hostile.pcap")
    s = pcapgen.Session(server=("10.0.0.2", 25))
    s.server(b"220 mx\x1b[31m\x00evil\\ ESMTP\r\n")
    s.client(b"EHLO " + b"a" * 300 + b"\r\n")
    s.server(b"250 ok\r\n")
    s.client(b"QUIT\r\n")
    s.server(b"221 bye\r\n")
    s.close()
    pcapgen.write(path, [s])
    rc, _, err, db = analyse(binary, [path], ["-q"])
    rows = sessions(db) if rc == 0 else []
    if not t.check(len(rows) == 1, "hostile: %d sessions, exit %d: %s" % (len(rows), rc, err)):
        return
    t.check(rows[0]["banner"] == "220 mx\\x1b[31m\\x00evil\\\\ ESMTP",
            "hostile: banner %r" % rows[0]["banner"])
    t.check(rows[0]["client_name"] == "a" * 256, "hostile: client_name cut at 256")
    rc, out, _ = run(binary, ["-r", path, "--json", "-q"])
    t.check(rc == 0 and "\x1b" not in out and "\\u001b" not in out,
            "hostile: no raw or JSON-escaped ESC in JSON")
    line = json.loads(out.splitlines()[0]) if out.strip() else {}
    t.check(line.get("banner") == rows[0]["banner"], "hostile: JSON banner as in SQLite")


def audit(db, name):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    with open(os.path.join(ROOT, "sql", "audit", name)) as f:
        rows = [dict(r) for r in con.execute(f.read())]
    con.close()
    return rows


def check_audit(t, binary):
    d = tmpdir()
    files = [os.path.join(CAPTURES, n + ".pcap") for n in
             ("smtp-postfix-auth-plain", "smtp-postfix-smtps", "pop3-dovecot-apop",
              "pop3-dovecot-user-pass", "managesieve-dovecot-starttls", "socks5-imap-noauth")]
    rc, _, err, db = analyse(binary, files[:3], ["-q", "--sensor", "north"], tmp=d)
    t.check(rc == 0, "audit: first run: %s" % err.strip())
    rc, out, err = run(binary, sum((["-r", f] for f in files[3:]), []) +
                       ["-w", db, "-q", "--sensor", "south"])
    t.check(rc == 0, "audit: second run: %s" % err.strip())

    by_sensor = {r["sensor"]: r for r in audit(db, "exposed-by-sensor.sql")}
    t.check(sorted(by_sensor) == ["north", "south"], "by sensor: %r" % sorted(by_sensor))
    if "north" in by_sensor:
        # SMTP AUTH PLAIN (secret); APOP shows no secret and is not counted.
        t.check(by_sensor["north"]["sessions"] == 1, "north: %r" % by_sensor["north"])
    if "south" in by_sensor:
        # POP3 USER/PASS and the IMAP LOGIN through the SOCKS5 proxy.
        t.check(by_sensor["south"]["sessions"] == 2, "south: %r" % by_sensor["south"])

    names = {r["server_name"]: r for r in audit(db, "sessions-by-server-name.sql")}
    mail = names.get("mail.example.test")
    # The SMTP banner, the SMTPS certificate and the POP3 APOP greetings all name it.
    t.check(mail is not None and mail["sessions"] == 4 and mail["credentials"] == 2 and
            mail["challenge_response"] == 1 and mail["protected"] == 1,
            "server name mail.example.test: %r" % mail)
    sni = names.get("127.0.0.1")  # sieve-connect's SNI
    t.check(sni is not None and sni["protocols"] == "managesieve", "server name 127.0.0.1: %r" % sni)
    proxied = names.get("localhost")  # the SOCKS5 client's target
    t.check(proxied is not None and proxied["credentials"] == 1, "server name localhost: %r" %
            proxied)


def main():
    t = Tally()
    binary = sys.argv[1]
    check_captures(t, binary)
    check_hostile(t, binary)
    check_audit(t, binary)
    t.done()


if __name__ == "__main__":
    main()
