"""Live capture on a real interface: a veth pair inside a network namespace of the test's own,
plainsight on one end, the project's captures replayed with tcpreplay on the other. The
findings must match the offline run of the same captures; SIGTERM, SIGINT, SIGHUP, kill -9,
-c, the privilege drop, the statistics line on kernel drops and a bad filter are checked as a
user would meet them. A TAP's two ports (-i psa -i psc, each direction on its own) give the
same findings into one flow table. Needs root, ip and tcpreplay; skipped with a note otherwise."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import tmpdir, ROOT, Tally, analyse, endpoint, sessions  # noqa: E402
import pcapgen  # noqa: E402

CAPTURES = os.path.join(ROOT, "captures")
NS = "plainsight-test-%d" % os.getpid()


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, check=check, timeout=60)


def ns(*args, check=True):
    return sh("ip", "netns", "exec", NS, *args, check=check)


def setup():
    sh("ip", "netns", "add", NS)
    ns("ip", "link", "add", "psa", "type", "veth", "peer", "name", "psb")
    # The captures were taken on loopback, whose frames run to 64 KiB.
    for dev in ("psa", "psb"):
        ns("ip", "link", "set", dev, "mtu", "65535")
    for dev in ("lo", "psa", "psb"):
        ns("ip", "link", "set", dev, "up")


def teardown():
    sh("ip", "netns", "del", NS, check=False)


class Live:
    """plainsight -i psa inside the namespace, in the background."""

    def __init__(self, binary, db, extra=()):
        self.db = db
        args = ["ip", "netns", "exec", NS, binary, "-i", "psa", "-w", db] + list(extra)
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.err)
        # Ready once the run's row is written: the interface is open by then.
        deadline = time.time() + 10
        while time.time() < deadline and self.p.poll() is None:
            if os.path.exists(db):
                try:
                    con = sqlite3.connect(db, timeout=1)
                    n = con.execute("SELECT count(*) FROM runs").fetchone()[0]
                    con.close()
                    if n > 0:
                        break
                except sqlite3.Error:
                    pass
            time.sleep(0.05)
        time.sleep(0.2)

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return -1


def replay(files, loops=1):
    for f in files:
        ns("tcpreplay", "-q", "-i", "psb", "--topspeed", "--loop=%d" % loops, f)


def session_keys(db):
    out = set()
    for s in sessions(db):
        creds = tuple((c["mechanism"], c["username"], c["secret_len"], c["result"])
                      for c in s["credentials"])
        out.add((endpoint(s["client_ip"], s["client_port"]),
                 endpoint(s["server_ip"], s["server_port"]), s["protocol"], s["tls"],
                 s["starttls"], creds))
    return out


def count_rows(db):
    try:
        con = sqlite3.connect(db, timeout=1)
        got = con.execute("SELECT count(*) FROM sessions").fetchone()[0]
        con.close()
        return got
    except sqlite3.Error:
        return -1


def wait_for_rows(db, n, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            con = sqlite3.connect(db, timeout=1)
            got = con.execute("SELECT count(*) FROM sessions").fetchone()[0]
            con.close()
            if got >= n:
                return True
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    return False


def main():
    t = Tally()
    b = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        t.skip("live capture: needs root (ip netns, raw sockets); run make check as root")
        t.done()
    for tool in ("ip", "tcpreplay"):
        if shutil.which(tool) is None:
            t.skip("live capture: %s is not installed" % tool)
            t.done()
    tmp = tmpdir(prefix="plainsight-live-")
    os.chmod(tmp, 0o755)
    caps = [os.path.join(CAPTURES, f) for f in sorted(os.listdir(CAPTURES))
            if f.endswith(".pcap") and "sll2" not in f]  # tcpreplay sends Ethernet frames
    try:
        setup()
        run_tests(t, b, tmp, caps)
    finally:
        teardown()
    t.done()


def run_tests(t, b, tmp, caps):
    offline_db = analyse(b, caps, ["-q"], tmp=os.path.join(tmp, "off"))[3]
    offline = session_keys(offline_db)
    # Sessions that end with FIN or RST are written while plainsight runs; the others (a
    # client that never closed) when it stops.
    n_closed = sum(1 for s in sessions(offline_db) if s["end_reason"] in ("fin", "rst"))

    # The same traffic live: the same findings. Run as root (-Z root) here; the drop is
    # tested below.
    db = os.path.join(tmp, "live.db")
    live = Live(b, db, ["-Z", "root", "-q"])
    replay(caps)
    t.check(n_closed > 0 and wait_for_rows(db, n_closed, 10),
            "live: the %d closed sessions arrive while running (%d did)" %
            (n_closed, count_rows(db)))
    rc = live.stop()
    t.check(rc == 0, "live: SIGTERM exits 0 (%d): %s" % (rc, live.stderr()))
    got = session_keys(db)
    t.check(got == offline, "live findings match offline: missing %r, extra %r" %
            (offline - got, got - offline))
    con = sqlite3.connect(db)
    row = con.execute("SELECT mode, source, status FROM runs").fetchone()
    t.check(row == ("live", "psa", "interrupted"), "live: runs row %r" % (row,))
    names = {r[0] for r in con.execute("SELECT name FROM run_counters")}
    t.check({"capture.kernel_dropped", "capture.interface_dropped"} <= names,
            "live: drop counters recorded")
    con.close()

    # A session is in the database within seconds of its end, plainsight still running.
    db = os.path.join(tmp, "soon.db")
    live = Live(b, db, ["-Z", "root", "-q"])
    replay([os.path.join(CAPTURES, "pop3-dovecot-user-pass.pcap")])
    t.check(wait_for_rows(db, 1, 3), "live: a finished session is committed within 3 s")
    # kill -9 after that commit: the database is intact and keeps the row.
    live.stop(signal.SIGKILL)
    con = sqlite3.connect(db)
    t.check(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok",
            "kill -9: integrity_check ok")
    t.check(con.execute("SELECT count(*) FROM credentials").fetchone()[0] == 1,
            "kill -9: the committed credential is there")
    con.close()

    # A login on a session that stays open (an IMAP client idling for hours): in the database
    # and the JSON within a second or two while plainsight runs, with its outcome; kill -9
    # keeps it; the next run on the database marks the killed run interrupted.
    openpcap = os.path.join(tmp, "open-login.pcap")
    op = pcapgen.Session(client=("10.9.0.1", 41000), server=("10.9.0.2", 143))
    op.server(b"* OK IMAP ready\r\n")
    op.client(b"a1 LOGIN alice s3cret-open\r\n")
    op.server(b"a1 OK Logged in\r\n")
    op.client(b"a2 IDLE\r\n")
    op.server(b"+ idling\r\n")
    pcapgen.write(openpcap, [op])
    db = os.path.join(tmp, "open.db")
    jpath = os.path.join(tmp, "open.json")
    live = Live(b, db, ["-Z", "root", "-q", "--json=" + jpath])
    replay([openpcap])
    t0 = time.time()
    row = None
    while time.time() - t0 < 3 and row is None:
        try:
            con = sqlite3.connect(db, timeout=1)
            row = con.execute("SELECT c.username, c.result, s.end_reason, s.uid FROM credentials c"
                              " JOIN sessions s ON s.id = c.session_id").fetchone()
            con.close()
        except sqlite3.Error:
            pass
        if row is None:
            time.sleep(0.05)
    took = time.time() - t0
    t.check(row is not None and row[0] == "alice" and row[1] == "success" and row[2] == "open",
            "open session: its login is in the database with its outcome (%r)" % (row,))
    t.check(row is not None and took < 2.0,
            "open session: the login is written within a second or so (%.2f s)" % took)
    events = []
    if os.path.exists(jpath):
        with open(jpath) as f:
            events = [json.loads(x) for x in f if x.strip()]
    creds = [e for e in events if e.get("event_type") == "credential"]
    t.check(creds and creds[-1]["credential"]["result"] == "success" and
            row is not None and creds[-1]["uid"] == row[3],
            "open session: a JSON credential event with the session's uid (%r)" % events)
    t.check(not [e for e in events if e.get("event_type") == "session"],
            "open session: no session line before its end")
    live.stop(signal.SIGKILL)
    con = sqlite3.connect(db)
    t.check(con.execute("SELECT count(*) FROM credentials WHERE username = 'alice'"
                        " AND result = 'success'").fetchone()[0] == 1,
            "kill -9: the open session's login survives")
    t.check(con.execute("SELECT status FROM runs").fetchone()[0] == "running",
            "kill -9: the run is left running")
    con.close()
    p = subprocess.run([b, "-q", "-r", os.path.join(CAPTURES, "pop3-dovecot-user-pass.pcap"),
                        "-w", db], capture_output=True, timeout=60)
    rc, err = p.returncode, p.stderr.decode("utf-8", "replace")
    con = sqlite3.connect(db)
    statuses = [r[0] for r in con.execute("SELECT status FROM runs ORDER BY id")]
    con.close()
    t.check(rc == 0 and statuses == ["interrupted", "ok"],
            "the next run marks the killed one interrupted (%d, %r, %r)" % (rc, statuses, err))

    # SIGHUP reopens the JSON file: lines before the rotation in the old file, after in the new.
    db = os.path.join(tmp, "hup.db")
    jpath = os.path.join(tmp, "sessions.json")
    live = Live(b, db, ["-Z", "root", "-q", "--json=" + jpath])
    replay([os.path.join(CAPTURES, "pop3-dovecot-user-pass.pcap")])
    wait_for_rows(db, 1, 5)
    time.sleep(0.5)
    os.rename(jpath, jpath + ".1")
    live.p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    replay([os.path.join(CAPTURES, "pop3-dovecot-auth-plain.pcap")])
    wait_for_rows(db, 2, 5)
    rc = live.stop(signal.SIGINT)  # SIGINT ends a run as SIGTERM does, everything written
    def session_lines(path):
        # Live, each login is also told by credential events; the sessions are the records.
        if not os.path.exists(path):
            return []
        with open(path) as f:
            lines = [json.loads(x) for x in f if x.strip()]
        return [x for x in lines if x.get("event_type") == "session"]
    old = session_lines(jpath + ".1")
    new = session_lines(jpath)
    t.check(rc == 0 and len(old) == 1 and len(new) == 1 and
            new[0]["credentials"][0]["mechanism"] == "PLAIN",
            "SIGHUP: the new JSON file takes the later session (old %d, new %d lines)" %
            (len(old), len(new)))

    # Privilege drop: started as root, it runs as the -Z user, and still writes.
    db = os.path.join(tmp, "drop.db")
    live = Live(b, db, ["-Z", "nobody", "-q"])
    pid = None
    kids = sh("pgrep", "-P", str(live.p.pid), check=False).stdout.split()
    pid = int(kids[0]) if kids else live.p.pid
    uid = None
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    uid = [int(x) for x in line.split()[1:]]
    except OSError:
        pass
    t.check(uid is not None and all(u == 65534 for u in uid),
            "-Z nobody: runs as uid 65534, not root (%r)" % (uid,))
    replay([os.path.join(CAPTURES, "pop3-dovecot-user-pass.pcap")])
    t.check(wait_for_rows(db, 1, 5), "-Z nobody: the session is still written")
    rc = live.stop()
    t.check(rc == 0, "-Z nobody: exit 0 (%d) %s" % (rc, live.stderr()))
    kpath = os.path.join(tmp, "drop.key")
    kst = os.stat(kpath) if os.path.exists(kpath) else None
    t.check(kst is not None and kst.st_uid == 65534 and (kst.st_mode & 0o777) == 0o600,
            "-Z nobody: the key file is the user's, mode 0600 (%r)" % (kst,))

    # -c stops after N packets by itself.
    db = os.path.join(tmp, "count.db")
    live = Live(b, db, ["-Z", "root", "-q", "-c", "5"])
    replay([os.path.join(CAPTURES, "pop3-dovecot-user-pass.pcap")])
    try:
        rc = live.p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        rc = live.stop()
        rc = -1
    con = sqlite3.connect(db)
    n = con.execute("SELECT packets FROM runs").fetchone()[0]
    con.close()
    t.check(rc == 0 and n == 5, "-c 5: exit %d after %d packets" % (rc, n))

    # Kernel drops are told at once, also with -q (the journal's case): plainsight stopped with
    # a 1 MiB buffer cannot read while the captures are replayed ten times (some 4 MiB); once
    # it runs again, its next tick reads the kernel's counters and prints a "drops" line, long
    # before the health line (RUN_HEALTH_SEC). The periodic line itself is timed in
    # tests/unit/test_run.c.
    db = os.path.join(tmp, "drops.db")
    live = Live(b, db, ["-Z", "root", "-q", "-B", "1024"])
    live.p.send_signal(signal.SIGSTOP)
    try:
        replay(caps, loops=10)
    finally:
        live.p.send_signal(signal.SIGCONT)
    deadline = time.time() + 5
    while time.time() < deadline and "plainsight: drops: " not in live.stderr():
        time.sleep(0.1)
    running = live.stderr()
    rc = live.stop()
    con = sqlite3.connect(db)
    dropped = con.execute("SELECT value FROM run_counters WHERE name = "
                          "'capture.kernel_dropped'").fetchone()
    con.close()
    dropped = dropped[0] if dropped else 0
    t.check(rc == 0 and dropped > 0, "drops: the replay overflowed the stopped capture's "
            "buffer (exit %d, %d dropped)" % (rc, dropped))
    lines = [ln for ln in running.splitlines() if ln.startswith("plainsight: ")]
    t.check(len(lines) >= 1 and lines[0].startswith("plainsight: drops: ") and
            " kernel drops " in lines[0] and " sessions " in lines[0] and " memory " in lines[0],
            "drops: with -q a drops line comes within seconds, and only it: %r" % (lines,))
    final = [ln for ln in live.stderr().splitlines() if ln.startswith("plainsight: final: ")]
    t.check(len(final) == 1 and (" kernel drops %d," % dropped) in final[0],
            "drops: the final line gives the run's drops (%d): %r" % (dropped, final))

    # A bad filter: a clear message, a non-zero exit, no database.
    r = ns(b, "-i", "psa", "-w", os.path.join(tmp, "bpf.db"), "tcp", "port", "(", check=False)
    err = r.stderr.decode()
    t.check(r.returncode != 0 and "filter" in err and
            not os.path.exists(os.path.join(tmp, "bpf.db")),
            "bad filter: exit %d, %r" % (r.returncode, err))
    r = ns(b, "-i", "no-such-if0", "-w", os.path.join(tmp, "nif.db"), check=False)
    t.check(r.returncode == 2 and "no-such-if0" in r.stderr.decode(),
            "missing interface: exit %d, %r" % (r.returncode, r.stderr.decode()))
    r = ns(b, "-D", check=False)
    t.check(r.returncode == 0 and b"psa" in r.stdout, "-D lists the interfaces")

    two_interfaces(t, b, tmp, caps)


def two_interfaces(t, b, tmp, caps):
    """A passive TAP: each direction on a port of its own (tcpprep splits each capture by
    port, tcpreplay sends the client's packets out psb and the server's out psd, in their
    order). plainsight -i psa -i psc puts both into one flow table: the same findings as
    offline, each session naming both interfaces."""
    if shutil.which("tcpprep") is None:
        t.skip("two interfaces: tcpprep (package tcpreplay) is not installed")
        return
    ns("ip", "link", "add", "psc", "type", "veth", "peer", "name", "psd")
    for dev in ("psc", "psd"):
        ns("ip", "link", "set", dev, "mtu", "65535")
        ns("ip", "link", "set", dev, "up")
    picked = [c for c in caps if os.path.basename(c).startswith(("pop3-dovecot-user-pass",
                                                                  "imap-dovecot-login",
                                                                  "smtp-postfix-auth"))]
    offline = session_keys(analyse(b, picked, ["-q"], tmp=os.path.join(tmp, "off2"))[3])
    db = os.path.join(tmp, "two.db")
    args = ["ip", "netns", "exec", NS, b, "-i", "psa", "-i", "psc", "-w", db, "-Z", "root", "-q"]
    err = tempfile.TemporaryFile()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + 10
    while time.time() < deadline and not os.path.exists(db):
        time.sleep(0.05)
    time.sleep(0.5)
    for c in picked:
        cache = os.path.join(tmp, "split.cache")
        sh("tcpprep", "--port", "--pcap=" + c, "--cachefile=" + cache)
        ns("tcpreplay", "-q", "--cachefile=" + cache, "-i", "psb", "-I", "psd", "--pps=2000", c)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=20)
    err.seek(0)
    msg = err.read().decode("utf-8", "replace")
    t.check(rc == 0, "two interfaces: exit %d: %s" % (rc, msg))
    got = session_keys(db)
    t.check(got == offline and len(got) == len(picked),
            "two interfaces: findings as offline: missing %r, extra %r" %
            (offline - got, got - offline))
    con = sqlite3.connect(db)
    ifs = {r[0] for r in con.execute("SELECT interface FROM sessions")}
    src = con.execute("SELECT source FROM runs").fetchone()
    con.close()
    t.check(ifs == {"psa,psc"}, "two interfaces: each session came from both: %r" % ifs)
    t.check(src == ("psa psc",), "two interfaces: the run's source names both: %r" % (src,))
    r = ns(b, "-i", "psa", "-i", "psa", "-w", os.path.join(tmp, "twice.db"), check=False)
    t.check(r.returncode == 1 and "given twice" in r.stderr.decode(),
            "-i psa -i psa: a usage error: %r" % r.stderr.decode())
    r = ns(b, "-i", "psa", "-i", "no-such-if1", "-w", os.path.join(tmp, "nif2.db"), check=False)
    t.check(r.returncode == 2 and "no-such-if1" in r.stderr.decode() and
            not os.path.exists(os.path.join(tmp, "nif2.db")),
            "-i psa -i missing: exit %d, %r" % (r.returncode, r.stderr.decode()))


main()
