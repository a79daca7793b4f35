"""End to end over the project's own captures (captures/*.pcap, made by real servers and
clients): each compared with its truth file, through SQL, with and without --reveal-secrets.
A credential's "anonymous" and a session's "exposure" are checked where the truth gives them
(an absent "anonymous" means not anonymous)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, Tally, analyse, endpoint, load_json, sessions  # noqa: E402

CAPTURES = os.path.join(ROOT, "captures")


def main():
    t = Tally()
    binary = sys.argv[1]
    truths = sorted(f for f in os.listdir(CAPTURES) if f.endswith(".truth.json"))
    t.check(len(truths) > 0, "captures/ has truth files")
    for tf in truths:
        truth = load_json(os.path.join(CAPTURES, tf))
        path = os.path.join(CAPTURES, truth["file"])
        name = truth["file"]
        for reveal in (True, False):
            extra = ["-q"] + (["--reveal-secrets"] if reveal else [])
            rc, out, err, db = analyse(binary, [path], extra)
            if not t.check(rc == 0, "%s: exit %d: %s" % (name, rc, err.strip())):
                continue
            got = {(endpoint(s["client_ip"], s["client_port"]),
                    endpoint(s["server_ip"], s["server_port"])): s for s in sessions(db)}
            for want in truth["sessions"]:
                key = (want["client"], want["server"])
                label = "%s %s->%s%s" % (name, key[0], key[1], "" if reveal else " (redacted)")
                s = got.pop(key, None)
                if not t.check(s is not None, "%s: session not found" % label):
                    continue
                for field in ("protocol", "tls", "tls_version", "starttls"):
                    t.check(s[field] == want[field],
                            "%s: %s %r, want %r" % (label, field, s[field], want[field]))
                if "exposure" in want:
                    t.check(s["exposure"] == want["exposure"], "%s: exposure %r, want %r" %
                            (label, s["exposure"], want["exposure"]))
                gc, wc = s["credentials"], want["credentials"]
                if not t.check(len(gc) == len(wc), "%s: %d credentials, want %d" %
                               (label, len(gc), len(wc))):
                    continue
                for i, (g, w) in enumerate(zip(gc, wc)):
                    cl = "%s cred %d" % (label, i)
                    for field in ("mechanism", "username", "result"):
                        t.check(g[field] == w[field],
                                "%s: %s %r, want %r" % (cl, field, g[field], w[field]))
                    # Only a login the truth calls anonymous is flagged (FTP's USER anonymous).
                    wa = 1 if w.get("anonymous") else 0
                    t.check(g["anonymous"] == wa,
                            "%s: anonymous %r, want %r" % (cl, g["anonymous"], wa))
                    pw = w.get("password")
                    if pw is None:
                        t.check(g["secret"] is None and g["secret_len"] is None,
                                "%s: no secret expected" % cl)
                        continue
                    t.check(g["secret_len"] == len(pw.encode()), "%s: secret_len" % cl)
                    t.check(g["secret_fingerprint"] is not None and
                            len(g["secret_fingerprint"]) == 32, "%s: fingerprint" % cl)
                    want_secret = pw if reveal else None
                    t.check(g["secret"] == want_secret,
                            "%s: secret %r, want %r" % (cl, g["secret"], want_secret))
            for key in got:
                t.check(False, "%s: extra session %s->%s" % (name, key[0], key[1]))
    t.done()


main()
