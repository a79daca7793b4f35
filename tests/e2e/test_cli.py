"""The command line as a user meets it: exit codes, error messages, file modes, secrets kept
out of every output, JSON validity, the fingerprint key, and damaged or hostile inputs.

Uses the project's own captures (captures/); the public ones are used where present."""
import base64
import fcntl
import hashlib
import ipaddress
import json
import os
import pty
import socket
import sqlite3
import stat
import struct
import subprocess
import sys
import tempfile
import termios

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import tmpdir, PUBLIC, ROOT, Tally, analyse, load_json, run, sessions  # noqa: E402

CAPTURES = os.path.join(ROOT, "captures")


def truth_passwords():
    """Every password of the project's captures, from their truth files."""
    pw = set()
    for f in sorted(os.listdir(CAPTURES)):
        if f.endswith(".truth.json"):
            for s in load_json(os.path.join(CAPTURES, f))["sessions"]:
                for c in s["credentials"]:
                    if c.get("password"):
                        pw.add(c["password"])
    return pw


def community_id(ip_a, port_a, ip_b, port_b, seed=0):
    """Community ID v1 of a TCP tuple, written from the spec for this test."""
    a = (ipaddress.ip_address(ip_a).packed, port_a)
    b = (ipaddress.ip_address(ip_b).packed, port_b)
    if b < a:
        a, b = b, a
    data = (struct.pack(">H", seed) + a[0] + b[0] + bytes([6, 0])
            + struct.pack(">HH", a[1], b[1]))
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def capture_files():
    return [os.path.join(CAPTURES, f) for f in sorted(os.listdir(CAPTURES)) if f.endswith(".pcap")]


def main():
    t = Tally()
    b = sys.argv[1]
    tmp = tmpdir(prefix="plainsight-cli-")
    caps = capture_files()
    one = os.path.join(CAPTURES, "pop3-dovecot-user-pass.pcap")

    rc, out, err = run(b, ["--help"])
    t.check(rc == 0 and "Usage: plainsight" in out, "--help: exit %d" % rc)
    rc, out, err = run(b, ["--version"])
    t.check(rc == 0 and out.startswith("plainsight "), "--version: exit %d" % rc)
    rc, out, err = run(b, [])
    t.check(rc == 1 and "no input" in err, "no arguments: exit %d, %r" % (rc, err))
    rc, out, err = run(b, ["--no-such-option"])
    t.check(rc == 1, "unknown option: exit %d" % rc)

    missing = os.path.join(tmp, "missing.pcap")
    rc, out, err = run(b, ["-r", missing, "-w", os.path.join(tmp, "m.db")])
    t.check(rc == 2 and "missing.pcap" in err and err.count("\n") == 1,
            "missing input: exit %d, %r" % (rc, err))

    notcap = os.path.join(tmp, "notacapture.pcap")
    with open(notcap, "w") as f:
        f.write("this is not a capture file\n" * 10)
    rc, out, err = run(b, ["-r", notcap, "-w", os.path.join(tmp, "n.db")])
    t.check(rc == 2 and "notacapture.pcap" in err, "not a capture: exit %d, %r" % (rc, err))

    rc, out, err = run(b, ["-r", one, "-w", os.path.join(tmp, "nodir", "x.db")])
    t.check(rc == 2 and "x.db" in err, "unwritable database: exit %d, %r" % (rc, err))

    rc, out, err = run(b, ["-r", one, "-w", os.path.join(tmp, "bpf.db"), "tcp", "port", "("])
    t.check(rc == 2 and "filter" in err, "invalid BPF: exit %d, %r" % (rc, err))

    # Limits of the options, at the bound and one past it.
    for args, ok in ((["-s", "262144"], True), (["-s", "262145"], False),
                     (["--idle", "604800"], True), (["--idle", "604801"], False),
                     (["--memcap", "1M"], True), (["--memcap", "1023K"], False)):
        rc, out, err = run(b, args + ["-q", "-r", one, "-w", os.path.join(tmp, "lim.db")])
        t.check(rc == (0 if ok else 1), "%s: exit %d, %r" % (" ".join(args), rc, err))

    # Community ID: every JSON line and every row has the flow's, under the seed chosen.
    for seed in (None, "0", "1", "65535"):
        sub = os.path.join(tmp, "cid%s" % seed)
        os.makedirs(sub)
        db, js = os.path.join(sub, "c.db"), os.path.join(sub, "c.json")
        args = ["-q", "-r", one, "-w", db, "--json=" + js]
        if seed is not None:
            args += ["--community-id-seed", seed]
        rc, out, err = run(b, args)
        lines = [json.loads(x) for x in open(js)]
        want = [community_id(x["client_ip"], x["client_port"], x["server_ip"], x["server_port"],
                             int(seed or 0)) for x in lines]
        con = sqlite3.connect(db)
        rows = [r[0] for r in con.execute("SELECT community_id FROM sessions ORDER BY id")]
        con.close()
        t.check(rc == 0 and lines and [x["community_id"] for x in lines] == want
                and rows == want, "--community-id-seed %s: exit %d, %r" % (seed, rc, rows))
    for bad in ("65536", "-1", "x", ""):
        rc, out, err = run(b, ["--community-id-seed", bad, "-r", one, "-w",
                               os.path.join(tmp, "badseed.db")])
        t.check(rc == 1 and "community-id-seed" in err,
                "--community-id-seed %r: exit %d, %r" % (bad, rc, err))

    # The sensor: given, or the host name by default, in every JSON line, session and run.
    # Another sensor reading the same capture into the same database adds its own sessions.
    sub = os.path.join(tmp, "sensor")
    os.makedirs(sub)
    db = os.path.join(sub, "s.db")
    for name in (None, "mx-east.example"):
        js = os.path.join(sub, "%s.json" % name)
        args = ["-q", "-r", one, "-w", db, "--json=" + js]
        if name is not None:
            args += ["--sensor", name]
        rc, out, err = run(b, args)
        want = name or socket.gethostname()
        lines = [json.loads(x) for x in open(js)]
        con = sqlite3.connect(db)
        rows = [r[0] for r in con.execute("SELECT sensor FROM sessions WHERE sensor = ?",
                                          (want,))]
        run_sensor = con.execute("SELECT sensor FROM runs ORDER BY id DESC").fetchone()[0]
        con.close()
        t.check(rc == 0 and lines and all(x["sensor"] == want for x in lines)
                and len(rows) == len(lines) and run_sensor == want,
                "--sensor %s: exit %d, %r, %r" % (name, rc, rows, run_sensor))
    con = sqlite3.connect(db)
    uids = con.execute("SELECT count(DISTINCT uid), count(*), count(DISTINCT sensor),"
                       " count(DISTINCT community_id) FROM sessions").fetchone()
    con.close()
    t.check(uids[0] == uids[1] and uids[2] == 2 and uids[1] == 2 * uids[3],
            "two sensors, one capture: a session each, one Community ID (%r)" % (uids,))
    for bad in ("", "two words", "tab\there", "x" * 65, "esc\x1b[0m", "caf\u00e9"):
        rc, out, err = run(b, ["--sensor", bad, "-r", one, "-w", os.path.join(tmp, "bad.db")])
        t.check(rc == 1 and "--sensor" in err, "--sensor %r: exit %d, %r" % (bad, rc, err))
    rc, out, err = run(b, ["-q", "--sensor", "x" * 64, "-r", one, "-w",
                           os.path.join(tmp, "long.db")])
    t.check(rc == 0, "--sensor of 64 characters: exit %d, %r" % (rc, err))

    # JSON that cannot be written fails the run: exit 2, no summary. One session fits the
    # stream's buffer, so the failure shows at the final flush.
    if os.path.exists("/dev/full"):
        db = os.path.join(tmp, "full.db")
        rc, out, err = run(b, ["-r", one, "-w", db, "--json=/dev/full"])
        t.check(rc == 2 and "cannot write JSON output" in err and "written to" not in err,
                "JSON on a full disk: exit %d, %r" % (rc, err))
    else:
        t.skip("JSON on a full disk: no /dev/full")

    # A BPF filter that excludes everything: no session, exit 0.
    rc, out, err, db = analyse(b, [one], ["udp"], tmp=os.path.join(tmp, "udp"))
    t.check(rc == 0 and len(sessions(db)) == 0, "BPF 'udp' leaves no session: exit %d" % rc)

    # Standard input.
    with open(one, "rb") as f:
        data = f.read()
    db = os.path.join(tmp, "stdin.db")
    rc, out, err = run(b, ["-r", "-", "-w", db], stdin=data)
    t.check(rc == 0 and len(sessions(db)) >= 1, "-r - reads stdin: exit %d %s" % (rc, err))

    # Database mode 0600, WAL, schema version, runs row.
    rc, out, err, db = analyse(b, caps, tmp=os.path.join(tmp, "all"))
    t.check(rc == 0, "all captures: exit %d %s" % (rc, err))
    mode = stat.S_IMODE(os.stat(db).st_mode)
    t.check(mode == 0o600, "database mode %o, want 600" % mode)
    con = sqlite3.connect(db)
    t.check(con.execute("PRAGMA journal_mode").fetchone()[0] == "wal", "WAL mode")
    t.check(con.execute("PRAGMA user_version").fetchone()[0] == 3, "schema version 3")
    t.check(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity")
    run_row = con.execute("SELECT status, packets, sessions FROM runs").fetchone()
    t.check(run_row[0] == "ok" and run_row[1] > 0 and run_row[2] > 0, "runs row %r" % (run_row,))
    n_counters = con.execute("SELECT count(*) FROM run_counters").fetchone()[0]
    t.check(n_counters > 20, "run counters recorded (%d)" % n_counters)
    for q in sorted(os.listdir(os.path.join(ROOT, "sql", "audit"))):
        with open(os.path.join(ROOT, "sql", "audit", q)) as f:
            text = f.read()
        try:
            con.execute(text).fetchall()
            ok = text.startswith("-- ")
        except sqlite3.Error as e:
            ok = False
            print(e)
        t.check(ok, "audit query %s runs and starts with its question" % q)
    con.close()

    # No cleartext secret anywhere without --reveal-secrets: database (all files), JSON, console.
    passwords = truth_passwords()
    t.check(len(passwords) > 0, "truth files list passwords")
    jpath = os.path.join(tmp, "all", "out.json")
    rc, out, err, db = analyse(b, caps, ["--json=" + jpath], tmp=os.path.join(tmp, "all2"))
    blobs = [out, err]
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            with open(db + suffix, "rb") as f:
                blobs.append(f.read().decode("latin-1"))
    with open(jpath) as f:
        jtext = f.read()
    blobs.append(jtext)
    leaked = [p for p in passwords for blob in blobs if p in blob]
    t.check(not leaked, "no secret leaks without --reveal-secrets: %r" % leaked)
    # No other file is left behind (no temporary file could carry a secret) but the fingerprint
    # key's, which is the database's own and readable by its owner only.
    left = set(os.listdir(os.path.dirname(db)))
    t.check(left <= {"out.db", "out.db-wal", "out.db-shm", "out.key"},
            "no file beside the database but its own: %r" % sorted(left))
    kpath = os.path.join(os.path.dirname(db), "out.key")
    t.check(os.path.exists(kpath) and (os.stat(kpath).st_mode & 0o777) == 0o600,
            "the key file is mode 0600")
    jmode = stat.S_IMODE(os.stat(jpath).st_mode)
    t.check(jmode == 0o600, "JSON file mode %o, want 600" % jmode)
    lines = jtext.splitlines()
    try:
        objs = [json.loads(line) for line in lines]
        ok = len(objs) == len(sessions(db))
    except ValueError:
        ok = False
    t.check(ok, "JSON: one valid object per session")
    fields = {"ts_start", "ts_end", "client_ip", "client_port", "server_ip", "server_port",
              "protocol", "tls", "tls_version", "starttls", "credentials"}
    t.check(ok and all(fields <= set(o) for o in objs), "JSON: the documented fields")
    cfields = {"mechanism", "username", "secret", "secret_len", "secret_fingerprint", "result"}
    t.check(ok and all(cfields <= set(c) for o in objs for c in o["credentials"]),
            "JSON: the documented credential fields")
    t.check(ok and all(c["secret"] is None for o in objs for c in o["credentials"]),
            "JSON: secret null without --reveal-secrets")

    # With --reveal-secrets they are there.
    rc, out, err, db = analyse(b, caps, ["--reveal-secrets"], tmp=os.path.join(tmp, "rev"))
    plain = [p for p in passwords if all(0x20 <= ord(ch) < 0x7f and ch not in '"\\' for ch in p)]
    t.check(plain and all(p in out for p in plain),
            "--reveal-secrets: every password whole on the console")
    found = {c["secret"] for s in sessions(db) for c in s["credentials"] if c["secret"]}
    t.check(passwords <= found, "--reveal-secrets keeps every password: missing %r" %
            (passwords - found))

    # Fingerprints: equal secrets give equal fingerprints in one database; another database has
    # another key.
    rows = [c for s in sessions(db) for c in s["credentials"] if c["secret"]]
    by_secret = {}
    for c in rows:
        by_secret.setdefault(c["secret"], set()).add(c["secret_fingerprint"])
    t.check(rows and all(len(v) == 1 for v in by_secret.values()),
            "one fingerprint per secret within a database")
    rc, out, err, db2 = analyse(b, caps, ["--reveal-secrets"], tmp=os.path.join(tmp, "rev2"))
    rows2 = {c["secret"]: c["secret_fingerprint"] for s in sessions(db2) for c in s["credentials"]
             if c["secret"]}
    t.check(all(rows2[c["secret"]] != c["secret_fingerprint"] for c in rows),
            "fingerprints differ between databases (keyed per database)")

    # Writing to an existing database adds a run and keeps its key; the same capture read
    # again adds no session twice (each session's uid is the same).
    con = sqlite3.connect(db)
    n_sessions = con.execute("SELECT count(*) FROM sessions").fetchone()[0]
    con.close()
    rc, out, err = run(b, ["-r", one, "-w", db, "-q"])
    con = sqlite3.connect(db)
    t.check(rc == 0 and con.execute("SELECT count(*) FROM runs").fetchone()[0] == 2,
            "second run appends to an existing database")
    t.check(con.execute("SELECT count(*) FROM sessions").fetchone()[0] == n_sessions,
            "the same capture read twice: no session twice")
    # A newer schema is refused.
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    rc, out, err = run(b, ["-r", one, "-w", db])
    t.check(rc == 2 and "newer" in err, "newer schema refused: exit %d %r" % (rc, err))

    # A capture cut in the middle of its last record: what came before is analysed, exit 3.
    cut = os.path.join(tmp, "cut.pcap")
    with open(cut, "wb") as f:
        f.write(data[:len(data) - 7])
    rc, out, err, db = analyse(b, [cut], tmp=os.path.join(tmp, "cut"))
    t.check(rc == 3 and "cut.pcap" in err and "damaged" in err,
            "truncated capture: exit %d %r" % (rc, err))
    t.check(len(sessions(db)) == 1, "truncated capture: the session before the damage is kept")

    forgiving_usage(t, b, tmp, one, caps)
    progress(t, b, tmp, caps)

    # Captures cut at many snap lengths: no crash, no invented credential, drops counted.
    full = sessions(analyse(b, caps, ["--reveal-secrets"], tmp=os.path.join(tmp, "full"))[3])
    full_creds = {(s["client_port"], c["username"], c["secret"]) for s in full
                  for c in s["credentials"]}
    for snap in (54, 60, 64, 80, 100, 200, 1500):
        cutfiles = []
        for c in caps:
            out_path = os.path.join(tmp, "snap%d-%s" % (snap, os.path.basename(c)))
            snap_cut(c, out_path, snap)
            cutfiles.append(out_path)
        rc, out, err, db = analyse(b, cutfiles, ["--reveal-secrets"],
                                   tmp=os.path.join(tmp, "snap%d" % snap))
        got = {(s["client_port"], c["username"], c["secret"]) for s in sessions(db)
               for c in s["credentials"]}
        t.check(rc == 0 and got <= full_creds,
                "snaplen %d: exit %d, invented %r" % (snap, rc, got - full_creds))
        con = sqlite3.connect(db)
        # A cut TCP header is a bad segment; a cut payload a truncated one: either is counted.
        trunc = con.execute("SELECT sum(value) FROM run_counters WHERE name IN"
                            " ('decode.truncated', 'decode.bad_tcp')").fetchone()[0]
        con.close()
        t.check(snap >= 1500 or trunc > 0, "snaplen %d: truncation counted (%d)" % (snap, trunc))
    t.done()


def forgiving_usage(t, b, tmp, one, caps):
    """Usage errors say "plainsight:" and how to do it right; live-only options with -r warn."""
    for args, want in ((["--no-such-option"], "unknown option --no-such-option"),
                       (["-x"], "unknown option -x"),
                       (["-r"], "-r needs an argument"),
                       (["--read"], "--read needs an argument"),
                       (["--quiet=yes"], "--quiet takes no argument"),
                       (["--re", "x"], "--re is ambiguous")):
        rc, out, err = run(b, args)
        t.check(rc == 1 and err.startswith("plainsight: error: " + want) and
                all(line.startswith("plainsight:") or line.startswith("Try ")
                    for line in err.splitlines()),
                "%s: exit %d, %r" % (" ".join(args), rc, err))

    # --json with a space before a file name: refused, saying how to write it; nothing made.
    d = os.path.join(tmp, "jsonspace")
    os.makedirs(d)
    jpath = os.path.join(d, "out.json")
    for word in ("out.json", jpath, "out.jsonl"):
        rc, out, err = run(b, ["-r", one, "-w", os.path.join(d, "x.db"), "--json", word])
        t.check(rc == 1 and "--json=%s" % word in err and err.count("\n") == 2 and
                not os.path.exists(os.path.join(d, "x.db")),
                "--json %s: exit %d, %r" % (word, rc, err))
    # ... but a bare --json before a filter is JSON on stdout and the filter, even with a file
    # named like the filter's first word in the current directory.
    with open(os.path.join(d, "tcp"), "w") as f:
        f.write("not a JSON file\n")
    p = subprocess.run([os.path.abspath(b), "-r", os.path.abspath(one), "-w", "f.db", "--json",
                        "tcp", "port", "110"], cwd=d, capture_output=True, timeout=120)
    objs = [json.loads(line) for line in p.stdout.decode().splitlines() if line.startswith("{")]
    t.check(p.returncode == 0 and len(objs) == 1 and objs[0]["server_port"] == 110,
            "--json tcp port 110: exit %d, %d objects, %r" % (p.returncode, len(objs),
                                                               p.stderr[-300:]))
    p = subprocess.run([os.path.abspath(b), "-r", os.path.abspath(one), "-w", "g.db", "--json",
                        "tcp", "port", "25"], cwd=d, capture_output=True, timeout=120)
    t.check(p.returncode == 0 and b"{" not in p.stdout,
            "--json tcp port 25: the filter applies: exit %d" % p.returncode)

    # Live-only options with -r: one warning line each, and the run goes on.
    db = os.path.join(tmp, "liveonly.db")
    rc, out, err = run(b, ["-r", one, "-w", db, "-q", "-s", "100", "-B", "1024", "-p", "-s", "200"])
    warns = [line for line in err.splitlines() if "warning:" in line]
    t.check(rc == 0 and len(warns) == 3 and "-s (--snaplen)" in warns[0] and
            "-B (--buffer-size)" in warns[1] and "-p (--no-promiscuous)" in warns[2] and
            len(sessions(db)) == 1, "live-only options with -r: exit %d, %r" % (rc, err))

    # -c on files: stops after N packets, counted across all the files.
    for n in (5, 150):
        db = os.path.join(tmp, "count%d.db" % n)
        args = []
        for c in caps:
            args += ["-r", c]
        rc, out, err = run(b, args + ["-w", db, "-q", "-c", str(n)])
        con = sqlite3.connect(db)
        got = con.execute("SELECT packets, status FROM runs").fetchone()
        con.close()
        t.check(rc == 0 and got == (n, "ok"), "-c %d on files: exit %d, %r" % (n, rc, got))

    # A live capture's errors say what to do, once, starting with "plainsight:".
    rc, out, err = run(b, ["-i", "nosuch0", "-w", os.path.join(tmp, "live.db")])
    if os.geteuid() == 0:
        t.check(rc == 2 and err == "plainsight: error: nosuch0: no such interface "
                "(plainsight -D lists them)\n", "-i nosuch0 as root: exit %d, %r" % (rc, err))
        t.skip("the capture permission message: running as root")
    else:
        t.check(rc == 2 and err.startswith("plainsight: error: nosuch0: permission denied") and
                "CAP_NET_RAW" in err and "setcap cap_net_raw,cap_net_admin=eip " in err and
                err.count("\n") == 1, "-i nosuch0 as a user: exit %d, %r" % (rc, err))


def open_pty(cols):
    """A pseudo-terminal cols wide: (master, slave)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    return master, slave


def run_pty(b, args, env, cols=200):
    """Runs plainsight with stderr on a pseudo-terminal; returns (exit code, stderr bytes)."""
    master, slave = open_pty(cols)
    p = subprocess.Popen([b] + args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=slave, env=env)
    os.close(slave)
    data = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        data += chunk
    os.close(master)
    return p.wait(timeout=120), data


def progress(t, b, tmp, caps):
    """The progress line: on a terminal only, rewritten in place, cleared at the end; never
    with -q or when stderr is not a terminal. PLAINSIGHT_PROGRESS_MSEC=0 draws it after every
    batch, so the small captures are enough."""
    args = []
    for c in caps:
        args += ["-r", c]
    env = dict(os.environ, PLAINSIGHT_PROGRESS_MSEC="0")
    rc, err = run_pty(b, args + ["-w", os.path.join(tmp, "prog.db")], env)
    last = err.rfind(b"\rplainsight: ")
    line = err[last:].split(b"\x1b[K")[0].decode("ascii", "replace")
    t.check(rc == 0 and last >= 0 and " MiB of " in line and "packets/s" in line and
            "sessions" in line and "exposed" in line and "ETA" in line,
            "progress on a terminal: exit %d, %r" % (rc, line))
    tail = err[err.rfind(b"\r\x1b[K") + 4:]
    t.check(err.find(b"\r\x1b[K", last) > last and tail.startswith(b"plainsight: ") and
            b"packets, " in tail and b"\r" not in tail.rstrip(b"\r\n"),
            "progress: cleared before the summary, %r" % err[-300:])
    # Standard input: bytes only, no share and no ETA.
    with open(caps[0], "rb") as f:
        data = f.read()
    rdfd, wrfd = os.pipe()
    os.write(wrfd, data)  # small: fits the pipe
    os.close(wrfd)
    master, slave = open_pty(200)
    p = subprocess.Popen([b, "-r", "-", "-w", os.path.join(tmp, "prog-stdin.db")], stdin=rdfd,
                         stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    os.close(rdfd)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    rc = p.wait(timeout=120)
    errs = b"".join(chunks)
    lines = [x for x in errs.split(b"\r") if x.startswith(b"plainsight: ") and b"MiB" in x]
    t.check(rc == 0 and lines and all(b" of " not in x and b"ETA" not in x for x in lines),
            "progress on a pipe: bytes only: exit %d, %r" % (rc, lines[:2]))
    # A narrow terminal: the line is cut short of its last column, so that it never wraps.
    rc, err = run_pty(b, args + ["-w", os.path.join(tmp, "prog-narrow.db")], env, cols=40)
    lines = [x.split(b"\x1b[K")[0] for x in err.split(b"\r") if x.startswith(b"plainsight: ")
             and b"\x1b[K" in x]
    t.check(rc == 0 and lines and all(len(x) == 39 for x in lines),
            "progress on 40 columns: %r" % lines[:2])
    rc, err = run_pty(b, args + ["-q", "-w", os.path.join(tmp, "prog-q.db")], env)
    t.check(rc == 0 and b"\r" not in err.replace(b"\r\n", b"\n"),
            "no progress with -q: exit %d, %r" % (rc, err[:200]))
    p = subprocess.run([b] + args + ["-w", os.path.join(tmp, "prog-pipe.db")], env=env,
                       capture_output=True, timeout=120)
    t.check(p.returncode == 0 and b"\r" not in p.stderr and b"\x1b" not in p.stderr,
            "no progress when stderr is not a terminal: exit %d" % p.returncode)


def snap_cut(src, dst, snap):
    """Rewrites a classic pcap file with every record cut to snap bytes (as tcpdump -s does)."""
    with open(src, "rb") as f:
        data = f.read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    hdr = bytearray(data[:24])
    struct.pack_into(endian + "I", hdr, 16, snap)
    out = [bytes(hdr)]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack_from(endian + "IIII", data, off)
        body = data[off + 16:off + 16 + incl]
        keep = body[:snap]
        out.append(struct.pack(endian + "IIII", sec, frac, len(keep), orig) + keep)
        off += 16 + incl
    with open(dst, "wb") as f:
        f.write(b"".join(out))


main()
