"""The audit queries answer what their first line asks, and never mislead: every bundled capture
(real servers and clients, captures/*.pcap) is read into one database, and each
sql/audit/*.sql must give exactly the rows the captures' truth files imply, computed here from
the truth alone. Unknown is never shown as "no": a server whose sessions never showed whether
STARTTLS was offered says "unknown", and a server that carried sessions in the clear is listed
even when no login was seen in them. A query this test does not know fails it, so a new query
comes with its expected answer."""
import collections
import glob
import json
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, Tally, analyse, sessions, tmpdir  # noqa: E402

CAPTURES = os.path.join(ROOT, "captures")
AUDIT = os.path.join(ROOT, "sql", "audit")
WEAK = {"SSLv3", "TLSv1.0", "TLSv1.1"}
SENSOR = "audit-sensor"
# Columns that are group_concat(DISTINCT ...) lists, whose order SQLite does not promise.
LISTS = {"protocols", "addresses"}


def order(rows):
    """rows sorted, None first in any column (a login with no user name)."""
    return sorted(rows, key=lambda r: tuple((x is not None, str(x)) for x in r))


def split(endpoint):
    host, port = endpoint.rsplit(":", 1)
    return host.strip("[]"), int(port)


def truth_sessions():
    out = []
    for f in sorted(glob.glob(os.path.join(CAPTURES, "*.truth.json"))):
        with open(f) as fh:
            out += json.load(fh)["sessions"]
    return out


def is_exposed_secret(c):
    return c.get("password") is not None and not c.get("anonymous", False)


def want_exposed_accounts(ts):
    rows = collections.Counter()
    ok = collections.Counter()
    for s in ts:
        sip, sport = split(s["server"])
        for c in s["credentials"]:
            if is_exposed_secret(c):
                k = (c["username"], s["protocol"], sip, sport)
                rows[k] += 1
                ok[k] += c["result"] == "success"
    return order((k + (rows[k], ok[k])) for k in rows)


def want_cleartext_servers(ts):
    per = {}
    for s in ts:
        if s["tls"] != "none":
            continue
        sip, sport = split(s["server"])
        e = per.setdefault((sip, sport, s["protocol"]),
                           {"sessions": 0, "accounts": set(), "ok": 0, "verdicts": []})
        e["sessions"] += 1
        e["verdicts"].append(s["starttls"])
        for c in s["credentials"]:
            if is_exposed_secret(c):
                e["accounts"].add(c["username"] or c["password"])
                e["ok"] += c["result"] == "success"
    out = []
    for k, e in per.items():
        v = e["verdicts"]
        if "offered-not-used" in v:
            offered = "yes"
        elif all(x == "n/a" for x in v):
            offered = "n/a"
        elif None not in v:
            offered = "no"
        else:
            offered = "unknown"
        out.append(k + (e["sessions"], len(e["accounts"]), e["ok"], offered))
    return order(out)


def want_without_starttls(ts):
    n = collections.Counter()
    for s in ts:
        if s["tls"] == "none":
            sip, sport = split(s["server"])
            n[(sip, sport, s["protocol"], s["starttls"] or "unknown")] += 1
    return order(k + (v,) for k, v in n.items())


def want_weak_tls(ts):
    n = collections.Counter()
    for s in ts:
        if s.get("tls_version") in WEAK:
            sip, sport = split(s["server"])
            n[(sip, sport, s["protocol"], s["tls"], s["tls_version"])] += 1
    return order(k + (v,) for k, v in n.items())


def want_challenge_response(ts):
    n = collections.Counter()
    ok = collections.Counter()
    for s in ts:
        sip, sport = split(s["server"])
        for c in s["credentials"]:
            if c.get("password") is None and not c.get("anonymous", False):
                k = (c["username"], c["mechanism"], s["protocol"], sip, sport)
                n[k] += 1
                ok[k] += c["result"] == "success"
    return order(k + (n[k], ok[k]) for k in n)


def want_exposed_by_sensor(ts, db_sessions):
    """One sensor read every capture. Its first and last sighting are times the truth files do
    not hold: they are taken from the database's sessions that carry an exposed secret."""
    accounts, sess, servers, protocols = set(), 0, set(), set()
    ok = 0
    for s in ts:
        exposed = [c for c in s["credentials"] if is_exposed_secret(c)]
        if not exposed:
            continue
        sess += 1
        servers.add(split(s["server"]))
        protocols.add(s["protocol"])
        for c in exposed:
            accounts.add(c["username"] or c["password"])
            ok += c["result"] == "success"
    times = [d["ts_start"] for d in db_sessions
             if any(c["secret_len"] is not None and not c["anonymous"] for c in d["credentials"])]
    return [(SENSOR, len(accounts), sess, len(servers), ok, ",".join(sorted(protocols)),
             min(times), max(times))]


def server_name(d):
    """The name sessions-by-server-name.sql gives a session, by its rules, read here anew."""
    if d["sni"] is not None:
        return d["sni"]
    subj = d["cert_subject"]
    if subj is not None and subj.startswith("CN="):
        return subj[3:].split(",", 1)[0]
    b = d["banner"]
    if d["protocol"] == "smtp" and b is not None and re.match(r"220[ -].", b, re.S):
        return b[4:].split(" ", 1)[0]
    if d["protocol"] == "pop3" and b is not None and re.match(r"\+OK .*<.*@.*>", b, re.S):
        rest = b[b.index("@") + 1:]
        return rest[:rest.index(">")]
    if d["proxy_target"] is not None:
        return d["proxy_target"].rstrip("0123456789")[:-1]
    return None


def want_sessions_by_server_name(ts, db_sessions):
    """The names come from context the truth files do not hold (greetings, SNI, certificates,
    proxy targets), and so do the exposure verdicts: both are read from the database's own
    sessions, the name by the query's rules applied here; the truth gives the session count."""
    per = {}
    for d in db_sessions:
        name = server_name(d) or "(unknown)"
        e = per.setdefault(name, {"n": 0, "exp": collections.Counter(), "protocols": set(),
                                  "addresses": set()})
        e["n"] += 1
        e["exp"][d["exposure"]] += 1
        e["protocols"].add(d["protocol"])
        e["addresses"].add("%s:%d" % (d["server_ip"], d["server_port"]))
    assert sum(e["n"] for e in per.values()) == len(ts), "database and truth differ in sessions"
    return order((k, e["n"], e["exp"]["credentials"], e["exp"]["challenge-response"],
                  e["exp"]["cleartext"], e["exp"]["none"], ",".join(sorted(e["protocols"])),
                  ",".join(sorted(e["addresses"]))) for k, e in per.items())


# Each query: the columns compared (by name, in this order) and its expected rows.
QUERIES = {
    "exposed-accounts.sql": (("username", "protocol", "server_ip", "server_port", "exposures",
                              "successes"), want_exposed_accounts),
    "cleartext-servers.sql": (("server_ip", "server_port", "protocol", "cleartext_sessions",
                               "accounts", "accepted_logins", "offered_starttls"),
                              want_cleartext_servers),
    "sessions-without-starttls.sql": (("server_ip", "server_port", "protocol", "starttls",
                                       "sessions"), want_without_starttls),
    "weak-tls.sql": (("server_ip", "server_port", "protocol", "tls", "tls_version", "sessions"),
                     want_weak_tls),
    "challenge-response.sql": (("username", "mechanism", "protocol", "server_ip", "server_port",
                                "exchanges", "successes"), want_challenge_response),
    "exposed-by-sensor.sql": (("sensor", "accounts", "sessions", "servers", "accepted_logins",
                               "protocols", "first_seen", "last_seen"), want_exposed_by_sensor),
    "sessions-by-server-name.sql": (("server_name", "sessions", "credentials",
                                     "challenge_response", "cleartext", "protected", "protocols",
                                     "addresses"), want_sessions_by_server_name),
}
# The queries whose expected answer also needs the database's own sessions.
FROM_DB = {"exposed-by-sensor.sql", "sessions-by-server-name.sql"}


def normalise(col, v):
    return ",".join(sorted(set(v.split(",")))) if col in LISTS and v is not None else v


def run_query(db, path, cols):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    with open(path) as f:
        rows = con.execute(f.read()).fetchall()
    con.close()
    return order(tuple(normalise(c, r[c]) for c in cols) for r in rows)


def main():
    t = Tally()
    b = sys.argv[1]
    tmp = tmpdir(prefix="plainsight-audit-")
    caps = sorted(glob.glob(os.path.join(CAPTURES, "*.pcap")))
    rc, out, err, db = analyse(b, caps, ["-q", "--sensor", SENSOR], tmp=os.path.join(tmp, "all"))
    t.check(rc == 0, "all bundled captures read: exit %d %s" % (rc, err.strip()))
    ts = truth_sessions()
    db_sessions = sessions(db)
    for q in sorted(os.listdir(AUDIT)):
        if q not in QUERIES:
            t.check(False, "%s: no expected answer in this test (add one)" % q)
            continue
        cols, want_fn = QUERIES[q]
        want = want_fn(ts, db_sessions) if q in FROM_DB else want_fn(ts)
        got = run_query(db, os.path.join(AUDIT, q), cols)
        t.check(got == want, "%s: got\n  %r\nwant\n  %r" % (q, got, want))
        if q != "weak-tls.sql":  # no bundled server speaks old TLS: checked on public ones
            t.check(len(want) > 0, "%s: the captures give it something to find" % q)
    # Never "no" for unknown: a session whose verdict the capture could not tell.
    verdicts = {r[0] for r in sqlite3.connect(db).execute(
        "SELECT offered_starttls FROM cleartext_servers")}
    t.check("unknown" in verdicts and verdicts <= {"yes", "no", "unknown", "n/a"},
            "cleartext_servers says unknown where the capture could not tell: %r" % verdicts)
    public_weak_tls(t, b, tmp)
    t.done()


def public_weak_tls(t, b, tmp):
    """weak-tls.sql over the public captures, against their MANIFEST.json's TLS versions."""
    pub = os.path.join(os.path.dirname(ROOT), "shared", "captures", "public")
    mpath = os.path.join(pub, "MANIFEST.json")
    if not os.path.exists(mpath):
        t.skip("weak-tls.sql on the public captures: ../shared/captures/public is absent")
        return
    with open(mpath) as f:
        manifest = json.load(f)
    files = [os.path.join(pub, e["file"]) for e in manifest]
    rc, out, err, db = analyse(b, files, ["-q"], tmp=os.path.join(tmp, "public"))
    want = collections.Counter()
    for e in manifest:
        for s in e["sessions"]:
            if s.get("tls_version") in WEAK:
                sip, sport = split(s["server"])
                want[(sip, sport, s["protocol"], s["tls"], s["tls_version"])] += 1
    want = order(k + (v,) for k, v in want.items())
    got = run_query(db, os.path.join(AUDIT, "weak-tls.sql"), QUERIES["weak-tls.sql"][0])
    t.check(rc in (0, 3) and got == want and len(want) > 0,  # 3: a public file is cut short
            "weak-tls.sql on the public captures: got %r, want %r" % (got, want))


main()
