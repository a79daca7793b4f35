#!/usr/bin/env python3
"""test_report.py - "plainsight report": the database as HTML, text and Markdown.

A database is made from the bundled captures (captures/*.pcap) and from a crafted POP3 login
whose user name is markup; the report must name every exposed server and account the database
has (in text, and in the HTML as a real browser renders it: headless chromium, skipped with a
note when it is not installed), show no secret without --reveal-secrets and every one with it,
escape the markup, make its file 0600, leave the database unchanged, say so when nothing was
found, refuse a file that is no database with one line and exit 2, and finish in seconds over
100,000 sessions with its tables cut ("and N more").

  test_report.py BINARY
"""
import glob
import hashlib
import html
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import pcapgen  # noqa: E402

HOSTILE_USER = "<script>alert(1)</script>&x"
HOSTILE_PASS = "hunter2-hostile"


def hostile_capture(path):
    s = pcapgen.Session(client=("10.9.0.1", 40100), server=("10.9.0.2", 110))
    s.server(b"+OK POP3 ready\r\n")
    s.client(b"USER " + HOSTILE_USER.encode() + b"\r\n")
    s.server(b"+OK\r\n")
    s.client(b"PASS " + HOSTILE_PASS.encode() + b"\r\n")
    s.server(b"+OK logged in\r\n")
    s.client(b"QUIT\r\n")
    s.server(b"+OK bye\r\n")
    s.close()
    pcapgen.write(path, [s])


def exposed(db):
    """(servers as ip:port, accounts, secrets) the database says were exposed."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT username, server_ip, server_port FROM exposed_accounts").fetchall()
    secrets = [r[0] for r in con.execute(
        "SELECT secret FROM credentials WHERE secret IS NOT NULL AND NOT anonymous")]
    con.close()
    servers = {common.endpoint(ip, port) for _, ip, port in rows}
    users = {u for u, _, _ in rows if u is not None}
    return servers, users, set(secrets)


def report(binary, db, args):
    return common.run(binary, ["report", db] + list(args))


def chromium():
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return None


def render(browser, path):
    """The DOM headless chromium renders from path, and its console errors."""
    p = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--enable-logging=stderr", "--v=0", "--dump-dom", path],
                       capture_output=True, timeout=120)
    err = p.stderr.decode("utf-8", "replace")
    console = [ln for ln in err.splitlines() if "CONSOLE" in ln or "Refused to" in ln]
    return p.returncode, p.stdout.decode("utf-8", "replace"), console


def html_text(dom):
    """The DOM's text with entities decoded, as a reader sees it."""
    import re
    return html.unescape(re.sub(r"<[^>]*>", " ", dom))


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_names(t, what, text, servers, users):
    for s in sorted(servers):
        t.check(s in text, "%s names the server %s" % (what, s))
    for u in sorted(users):
        t.check(u in text, "%s names the account %r" % (what, u))


def test_captures(t, binary):
    tmp = common.tmpdir()
    hostile = os.path.join(tmp, "hostile.pcap")
    hostile_capture(hostile)
    files = sorted(glob.glob(os.path.join(common.ROOT, "captures", "*.pcap"))) + [hostile]
    for reveal, sub in ((False, "plain"), (True, "reveal")):
        extra = ["-q"] + (["--reveal-secrets"] if reveal else [])
        rc, _, err, db = common.analyse(binary, files, extra, os.path.join(tmp, sub))
        t.check(rc == 0, "analysing the captures (%s): rc %d %s" % (sub, rc, err))
        servers, users, secrets = exposed(db)
        t.check(len(servers) > 5 and len(users) > 3, "the captures expose servers and accounts")
        t.check(HOSTILE_USER in users, "the crafted login is in the database")
        before = digest(db)
        rc, text, err = report(binary, db, ["--format", "text"])
        t.check(rc == 0, "report --format text: rc %d %s" % (rc, err))
        check_names(t, "text report (%s)" % sub, text, servers, users)
        for s in sorted(secrets):
            t.check(s not in text, "no secret %r without --reveal-secrets" % s)
        if reveal:
            t.check(HOSTILE_PASS in secrets, "the database holds the secrets")
            hidden = os.path.join(tmp, "hidden.html")
            rc, _, _ = report(binary, db, ["-o", hidden])
            with open(hidden, encoding="utf-8") as f:
                page = f.read()
            for s in sorted(secrets):
                t.check(s not in page and html.escape(s) not in page,
                        "no secret %r in the HTML without --reveal-secrets" % s)
            rc, text, _ = report(binary, db, ["--format", "text", "--reveal-secrets"])
            t.check(rc == 0, "report --reveal-secrets: rc %d" % rc)
            for s in sorted(secrets):
                t.check(s in text, "secret %r shown with --reveal-secrets" % s)
        else:
            t.check(not secrets, "without --reveal-secrets the database holds no secret")
        rc, md, _ = report(binary, db, ["--format", "markdown"])
        t.check(rc == 0 and md.startswith("# ") and "|---|" in md, "Markdown report")
        check_names(t, "Markdown report (%s)" % sub, md, servers, users)
        out = os.path.join(tmp, sub + ".html")
        rc, _, err = report(binary, db, ["-o", out] + (["--reveal-secrets"] if reveal else []))
        t.check(rc == 0, "report -o: rc %d %s" % (rc, err))
        mode = stat.S_IMODE(os.stat(out).st_mode)
        t.check(mode == 0o600, "the report file is mode 0600, not %o" % mode)
        with open(out, encoding="utf-8") as f:
            page = f.read()
        t.check("<script" not in page.lower(), "the HTML holds no script element")
        t.check("&lt;script&gt;alert(1)&lt;/script&gt;&amp;x" in page,
                "the markup user name is escaped in the HTML")
        for word in ("http://", "https://", "<link", "@import", "url("):
            t.check(word not in page.replace('xmlns="http://www.w3.org/2000/svg"', ""),
                    "the HTML loads nothing (%s)" % word)
        t.check("<svg" in page, "the HTML has inline SVG charts")
        t.check(digest(db) == before, "the report left the database unchanged")
        check_browser(t, out, servers, users, secrets if reveal else set(), reveal)
    return tmp


def check_browser(t, out, servers, users, secrets, reveal):
    browser = chromium()
    if browser is None:
        t.skip("chromium not installed: the HTML is not rendered in a browser")
        return
    rc, dom, console = render(browser, out)
    t.check(rc == 0 and "</html>" in dom, "chromium renders the report (rc %d)" % rc)
    t.check(not console, "no console error or blocked load in chromium: %s" % console[:3])
    text = html_text(dom)
    check_names(t, "rendered HTML", text, servers, users)
    t.check("<script>alert(1)</script>" not in dom, "the markup name is no element in the DOM")
    if reveal:
        for s in sorted(secrets):
            t.check(s in text, "rendered HTML shows secret %r with --reveal-secrets" % s)


def test_empty_and_bad(t, binary):
    tmp = common.tmpdir()
    empty = os.path.join(tmp, "empty.pcap")
    pcapgen.write(empty, [])
    rc, _, err, db = common.analyse(binary, [empty], ["-q"], os.path.join(tmp, "e"))
    t.check(rc == 0, "an empty capture: rc %d %s" % (rc, err))
    for fmt in ("text", "html"):
        rc, out, err = report(binary, db, ["--format", fmt])
        t.check(rc == 0 and "Nothing was found" in out,
                "an empty database's %s report says nothing was found" % fmt)
    bogus = os.path.join(tmp, "bogus.db")
    with open(bogus, "wb") as f:
        f.write(b"this is no database at all\n" * 200)
    rc, out, err = report(binary, bogus, ["--format", "text"])
    lines = err.strip().splitlines()
    t.check(rc == 2 and len(lines) == 1 and out == "",
            "a non-database file: one line and exit 2 (rc %d, %r)" % (rc, err))
    rc, out, err = report(binary, os.path.join(tmp, "missing.db"), [])
    t.check(rc == 2 and len(err.strip().splitlines()) == 1, "a missing database: exit 2")
    t.check(not os.path.exists(os.path.join(tmp, "missing.db")), "a missing database is not made")
    rc, _, err = report(binary, db, ["--format", "pdf"])
    t.check(rc == 1, "an unknown --format is a usage error (rc %d)" % rc)
    rc, _, err = common.run(binary, ["report"])
    t.check(rc == 1, "report without a database is a usage error (rc %d)" % rc)
    rc, out, _ = common.run(binary, ["--help"])
    t.check(rc == 0 and "plainsight report DB" in out, "--help lists report")


def test_large(t, binary, base):
    """100,000 sessions (copies of the capture database's rows): seconds, tables cut."""
    src = os.path.join(base, "plain", "out.db")
    db = os.path.join(base, "large.db")
    shutil.copy(src, db)
    con = sqlite3.connect(db)
    n = con.execute("SELECT count(*) FROM sessions").fetchone()[0]
    cols = [r[1] for r in con.execute("PRAGMA table_info(sessions)") if r[1] not in ("id", "uid")]
    ccols = [r[1] for r in con.execute("PRAGMA table_info(credentials)")
             if r[1] not in ("id", "session_id")]
    orig = con.execute("SELECT max(id) FROM sessions").fetchone()[0]
    i = 0
    while n < 100000:
        # Each copy on its own server addresses, so that there are many servers.
        i += 1
        sel = ", ".join("'10.%d.%d.' || (id %% 250)" % (i // 250, i % 250) if c == "server_ip"
                        else c for c in cols)
        con.execute("INSERT INTO sessions (%s) SELECT %s FROM sessions WHERE id <= ?"
                    % (", ".join(cols), sel), (orig,))
        n += orig
    # A credential (the first exposed one, user names made unique) in every 10th new session.
    con.execute("INSERT INTO credentials (session_id, %s) SELECT s.id, %s FROM sessions s, "
                "(SELECT * FROM credentials WHERE secret_len IS NOT NULL AND NOT anonymous LIMIT 1) c "
                "WHERE s.id > ? AND s.id %% 10 = 0"
                % (", ".join(ccols), ", ".join("'user' || s.id" if c == "username" else "c." + c
                                               for c in ccols)), (orig,))
    n = con.execute("SELECT count(*) FROM sessions").fetchone()[0]
    con.commit()
    con.close()
    out = os.path.join(base, "large.html")
    t0 = time.monotonic()
    rc, _, err = report(binary, db, ["-o", out])
    secs = time.monotonic() - t0
    print("report over %d sessions: %.2f s" % (n, secs))
    t.check(rc == 0, "report over %d sessions: rc %d %s" % (n, rc, err))
    t.check(secs < 20, "report over %d sessions takes seconds, not %.1f" % (n, secs))
    with open(out, encoding="utf-8") as f:
        page = f.read()
    t.check("more servers" in page and "more accounts" in page, "long tables end in 'and N more'")
    t.check(len(page) < 2000000, "the page stays bounded (%d bytes)" % len(page))


def main():
    binary = sys.argv[1]
    t = common.Tally()
    base = test_captures(t, binary)
    test_empty_and_bad(t, binary)
    test_large(t, binary, base)
    t.done()


if __name__ == "__main__":
    main()
