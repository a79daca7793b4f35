"""Shared helpers for the end-to-end tests: run the binary, read its database, tally results.

Each test script prints one line per failure and ends with "N passed, N failed, N skipped",
which tests/run.sh adds up."""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PUBLIC = os.path.join(os.path.dirname(ROOT), "shared", "captures", "public")


_TMPDIRS = []


def tmpdir(prefix="plainsight-test-"):
    """A temporary directory removed when the test's Tally is done."""
    d = tempfile.mkdtemp(prefix=prefix)
    _TMPDIRS.append(d)
    return d


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL " + what)
        return cond

    def skip(self, what):
        self.skipped += 1
        print("SKIP " + what)

    def done(self):
        import shutil
        for d in _TMPDIRS:
            shutil.rmtree(d, ignore_errors=True)
        print("%d passed, %d failed, %d skipped" % (self.passed, self.failed, self.skipped))
        sys.exit(1 if self.failed else 0)


def run(binary, args, stdin=None, timeout=120):
    """Runs plainsight; returns (exit code, stdout, stderr) as text."""
    p = subprocess.run([binary] + args, input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def analyse(binary, files, extra=(), tmp=None):
    """Runs plainsight on files into a fresh database; returns (rc, stdout, stderr, db path)."""
    tmp = tmp or tmpdir("plainsight-e2e-")
    os.makedirs(tmp, exist_ok=True)
    db = os.path.join(tmp, "out.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    args = []
    for f in files:
        args += ["-r", f]
    args += ["-w", db] + list(extra)
    rc, out, err = run(binary, args)
    return rc, out, err, db


def sessions(db):
    """The sessions of a database with their credentials, in a fixed order, as dicts."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = []
    for s in con.execute("SELECT * FROM sessions ORDER BY ts_start, client_ip, client_port"):
        d = dict(s)
        d["credentials"] = [dict(c) for c in con.execute(
            "SELECT * FROM credentials WHERE session_id = ? ORDER BY seq", (s["id"],))]
        rows.append(d)
    con.close()
    return rows


def endpoint(ip, port):
    return ("[%s]:%d" % (ip, port)) if ":" in ip else ("%s:%d" % (ip, port))


def manifest_mechanism(m, protocol=None):
    """MANIFEST.json writes SASL mechanisms as "AUTH PLAIN" or "AUTHENTICATE PLAIN" and IMAP's
    login as "LOGIN"; plainsight writes the IANA name and "IMAP LOGIN"."""
    if protocol == "imap" and m == "LOGIN":
        return "IMAP LOGIN"
    for prefix in ("AUTHENTICATE ", "AUTH "):
        if m.startswith(prefix):
            return m[len(prefix):]
    return m


def manifest_starttls(s):
    if s.get("tls") == "implicit":
        return "n/a"
    if s.get("starttls_used"):
        return "used"
    off = s.get("starttls_offered")
    if off is True:
        return "offered-not-used"
    if off is False:
        return "not-offered"
    return None


def load_json(path):
    with open(path) as f:
        return json.load(f)


def rewrite_port(src, dst, old, new):
    """Copies a classic pcap file (Ethernet or Linux SLL2 link) with TCP port old changed to
    new in both directions. Checksums are left as they are: plainsight does not check them."""
    import struct
    with open(src, "rb") as f:
        data = bytearray(f.read())
    magic = bytes(data[:4])
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    link_len = {1: 14, 276: 20}[linktype]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack_from(endian + "I", data, off + 8)[0]
        pkt = off + 16
        ip = pkt + link_len
        if ip < len(data):
            ver = data[ip] >> 4
            if ver == 4 and data[ip + 9] == 6:
                tcp = ip + (data[ip] & 0x0F) * 4
            elif ver == 6 and data[ip + 6] == 6:
                tcp = ip + 40
            else:
                tcp = None
            if tcp is not None and tcp + 4 <= pkt + incl:
                for p in (tcp, tcp + 2):
                    if struct.unpack_from(">H", data, p)[0] == old:
                        struct.pack_into(">H", data, p, new)
        off = pkt + incl
    with open(dst, "wb") as f:
        f.write(bytes(data))
