"""Mail on any port: POP3 moved to a non-standard port is found through nDPI, not with
--ports-only; SMTP and FTP moved elsewhere are told apart by the client's first word after
their shared 220 greeting; a mail port that carries another protocol yields no session;
--protocols looks for the protocols it names and no other, by port, content and nDPI."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import tmpdir, PUBLIC, ROOT, Tally, analyse, rewrite_port, sessions  # noqa: E402

CAPTURES = os.path.join(ROOT, "captures")


def main():
    t = Tally()
    b = sys.argv[1]
    tmp = tmpdir(prefix="plainsight-ports-")
    for name, port in (("pop3-dovecot-user-pass.pcap", 8110),
                       ("pop3-dovecot-auth-plain.pcap", 10110),
                       ("pop3-dovecot-any-sll2.pcap", 2110)):
        moved = os.path.join(tmp, "%d-%s" % (port, name))
        rewrite_port(os.path.join(CAPTURES, name), moved, 110, port)
        rc, out, err, db = analyse(b, [moved], ["--reveal-secrets", "-q"],
                                   tmp=os.path.join(tmp, "nd%d" % port))
        got = sessions(db)
        ok = (rc == 0 and len(got) == 1 and got[0]["server_port"] == port and
              got[0]["protocol"] == "pop3" and len(got[0]["credentials"]) == 1 and
              got[0]["credentials"][0]["result"] == "success" and
              got[0]["credentials"][0]["secret"])
        t.check(ok, "%s on port %d found through nDPI: %r" % (name, port, got))
        rc, out, err, db = analyse(b, [moved], ["--ports-only", "-q"],
                                   tmp=os.path.join(tmp, "po%d" % port))
        t.check(rc == 0 and len(sessions(db)) == 0,
                "%s on port %d: nothing with --ports-only" % (name, port))

    # SMTP and FTP both greet with 220: the client's first word (EHLO, USER) tells them apart
    # on any port, from the content alone, and --ports-only sees neither there.
    for name, old, port, proto in (("smtp-postfix-auth-plain.pcap", 587, 10025, "smtp"),
                                   ("smtp-postfix-pipelining.pcap", 25, 2121, "smtp"),
                                   ("ftp-vsftpd-login-fail.pcap", 21, 10021, "ftp")):
        moved = os.path.join(tmp, "%d-%s" % (port, name))
        rewrite_port(os.path.join(CAPTURES, name), moved, old, port)
        rc, out, err, db = analyse(b, [moved], ["--reveal-secrets", "-q"],
                                   tmp=os.path.join(tmp, "g%d" % port))
        got = [s for s in sessions(db) if s["server_port"] == port]
        t.check(rc == 0 and len(got) == 1 and got[0]["protocol"] == proto and
                len(got[0]["credentials"]) >= 1 and got[0]["credentials"][-1]["secret"],
                "%s on port %d found as %s by its greeting and first word: %r" %
                (name, port, proto, got))

    http = os.path.join(PUBLIC, "ndpi-http-basic-auth.pcap")
    if os.path.exists(http):
        moved = os.path.join(tmp, "http-on-110.pcap")
        rewrite_port(http, moved, 80, 110)
        rc, out, err, db = analyse(b, [moved], ["-q"], tmp=os.path.join(tmp, "http"))
        t.check(rc == 0 and len(sessions(db)) == 0,
                "HTTP on port 110 is no POP3 session: %r" % sessions(db))
    else:
        t.skip("HTTP on port 110: ../shared/captures/public is absent")

    # --protocols: only the protocols named are looked for, by port, by content and by nDPI.
    caps = [os.path.join(CAPTURES, n) for n in ("http-nginx-basic.pcap",
                                                "pop3-dovecot-user-pass.pcap",
                                                "smtp-postfix-auth-plain.pcap",
                                                "ftp-vsftpd-login.pcap")]
    moved = os.path.join(tmp, "8110-pop3.pcap")
    rewrite_port(os.path.join(CAPTURES, "pop3-dovecot-user-pass.pcap"), moved, 110, 8110)
    for arg, want in (("all", ["ftp", "http", "pop3", "pop3", "smtp"]),
                      ("smtp,pop3,imap", ["pop3", "pop3", "smtp"]),
                      ("http", ["http"]),
                      ("ftp,smtp", ["ftp", "smtp"])):
        for extra in ([], ["--ports-only"]):
            rc, out, err, db = analyse(b, caps + [moved], ["-q", "--protocols", arg] + extra,
                                       tmp=os.path.join(tmp, "protocols"))
            got = sorted(s["protocol"] for s in sessions(db))
            exp = sorted(want)
            if extra and "pop3" in exp:
                exp.remove("pop3")  # --ports-only: not the POP3 on 8110
            t.check(rc == 0 and got == sorted(exp), "--protocols %s %s: %r, want %r" %
                    (arg, " ".join(extra), got, sorted(exp)))
    rc, out, err, db = analyse(b, caps, ["-q", "--protocols", "smtp,bogus"],
                               tmp=os.path.join(tmp, "protocols-bad"))
    t.check(rc == 1 and "'bogus' is none of: all, smtp" in err,
            "--protocols smtp,bogus: a usage error naming the protocols: %r" % err)
    t.done()


main()
