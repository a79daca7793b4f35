"""End to end: the fingerprint key lives in its own file, never in the database.

A database handed to an auditor must not let anyone test password guesses: no value stored in
it, raw, hex- or base64-decoded, nor any 32 bytes of its files, works as the HMAC key of a known
password's fingerprint. One key file gives one password one fingerprint across runs and
databases; a database whose key file is missing still opens and audits with sqlite3, and
plainsight refuses to write to it with another key. A database of an earlier release (the key
in its meta table) has its key moved out, and no byte of it is left behind."""
import base64
import binascii
import hashlib
import hmac
import os
import sqlite3
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, Tally, run, tmpdir  # noqa: E402

CAPTURE = os.path.join(ROOT, "captures", "pop3-dovecot-user-pass.pcap")
PASSWORD = b"Secr3t-alice"  # its truth file's password
AUDIT = os.path.join(ROOT, "sql", "audit", "exposed-accounts.sql")


def fp(key, secret):
    return hmac.new(key, secret, hashlib.sha256).hexdigest()[:32]


def fingerprints(db):
    con = sqlite3.connect(db)
    rows = [r[0] for r in con.execute(
        "SELECT secret_fingerprint FROM credentials WHERE secret_fingerprint IS NOT NULL "
        "ORDER BY session_id, seq")]
    con.close()
    return rows


def meta(db):
    con = sqlite3.connect(db)
    rows = dict(con.execute("SELECT key, value FROM meta"))
    con.close()
    return rows


def read_key(path):
    with open(path) as f:
        return bytes.fromhex(f.read().strip())


def decodings(value):
    """The byte strings a stored value could be read as: itself, hex- and base64-decoded."""
    raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")
    out = [raw]
    text = raw.strip()
    for dec in (lambda x: binascii.unhexlify(x), lambda x: base64.b64decode(x, validate=True),
                lambda x: base64.urlsafe_b64decode(x)):
        try:
            d = dec(text)
            if d:
                out.append(d)
        except (binascii.Error, ValueError):
            pass
    return out


def keys_that_work(db, target):
    """Every candidate from the database's cells and files that gives the target fingerprint."""
    found = []
    con = sqlite3.connect(db)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for row in con.execute('SELECT * FROM "%s"' % table):
            for cell in row:
                if cell is None:
                    continue
                for cand in decodings(cell):
                    if fp(cand, PASSWORD) == target:
                        found.append((table, cell))
    con.close()
    for suffix in ("", "-wal"):
        if not os.path.exists(db + suffix):
            continue
        with open(db + suffix, "rb") as f:
            blob = f.read()
        for i in range(0, max(0, len(blob) - 31)):
            if fp(blob[i:i + 32], PASSWORD) == target:
                found.append((suffix or "file", i))
    return found


def plainsight(t, b, db, extra=()):
    rc, out, err = run(b, ["-q", "-r", CAPTURE, "-w", db] + list(extra))
    return rc, err


def old_release_db(path, key):
    """A database as an earlier release left it: schema 1, the key in meta, one credential."""
    with open(os.path.join(ROOT, "sql", "schema.sql")) as f:
        schema = f.read()
    con = sqlite3.connect(path)
    con.executescript(schema)
    con.execute("INSERT INTO meta VALUES ('fingerprint_key', ?)", (key,))
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()


def main():
    t = Tally()
    b = sys.argv[1]
    tmp = tmpdir("plainsight-keyfile-")

    # A first run makes the key file beside the database, 0600, one line of hex.
    db = os.path.join(tmp, "audit.db")
    rc, err = plainsight(t, b, db)
    kpath = os.path.join(tmp, "audit.key")
    t.check(rc == 0 and err == "", "first run: exit %d, %r" % (rc, err))
    t.check(os.path.exists(kpath), "the key file is made beside the database")
    if not os.path.exists(kpath):
        t.done()
    st = os.stat(kpath)
    t.check(stat.S_IMODE(st.st_mode) == 0o600, "key file mode %o" % stat.S_IMODE(st.st_mode))
    t.check(st.st_uid == os.getuid(), "key file owned by the user plainsight ran as")
    with open(kpath) as f:
        text = f.read()
    t.check(len(text) == 65 and text.endswith("\n") and all(c in "0123456789abcdef"
                                                            for c in text[:64]),
            "key file: 64 hex digits and a newline (%d bytes)" % len(text))
    key = read_key(kpath)
    fps = fingerprints(db)
    t.check(len(fps) == 1 and fps[0] == fp(key, PASSWORD),
            "the fingerprint is HMAC-SHA-256 under the key file's key (positive control)")
    target = fps[0] if fps else ""

    # Nothing in the database works as the key.
    m = meta(db)
    t.check("fingerprint_key" not in m, "meta holds no key: %r" % sorted(m))
    want_id = hashlib.sha256(b"plainsight fingerprint key id" + key).hexdigest()[:32]
    t.check(m.get("fingerprint_key_id") == want_id, "meta names the key by its id")
    t.check(keys_that_work(db, target) == [], "no stored value works as the fingerprint key")

    # The same key file: the same fingerprint, run after run and database after database.
    rc, out, err = run(b, ["-q", "-r", os.path.join(ROOT, "captures", "imap-dovecot-login-atoms.pcap"),
                           "-w", db])
    fps = fingerprints(db)
    t.check(rc == 0 and len(fps) >= 2 and fps.count(target) >= 2,
            "a second run (another capture, the same password): the same fingerprint")
    db2 = os.path.join(tmp, "sensor2.db")
    rc, err = plainsight(t, b, db2, ["--key-file", kpath])
    t.check(rc == 0 and fingerprints(db2) == [target], "two databases, one --key-file: one fingerprint")
    t.check(not os.path.exists(os.path.join(tmp, "sensor2.key")), "--key-file: no other key made")
    db3 = os.path.join(tmp, "other.db")
    rc, err = plainsight(t, b, db3)
    t.check(rc == 0 and fingerprints(db3) != [target], "another key file: another fingerprint")

    # The key file missing: plainsight refuses to write with a new key; sqlite3 still audits.
    os.rename(kpath, kpath + ".away")
    rc, err = plainsight(t, b, db)
    t.check(rc == 2 and "--key-file" in err and err.count("\n") == 1,
            "key file missing: exit %d, one line naming --key-file (%r)" % (rc, err))
    t.check(not os.path.exists(kpath), "key file missing: no new key is made")
    con = sqlite3.connect(db)
    with open(AUDIT) as f:
        rows = con.execute(f.read()).fetchall()
    con.close()
    t.check(len(rows) == 2, "without its key file the database still audits (%r)" % rows)
    os.rename(kpath + ".away", kpath)

    # Another key for this database: refused, naming the key it was written with.
    rc, err = plainsight(t, b, db, ["--key-file", os.path.join(tmp, "other.key")])
    t.check(rc == 2 and want_id in err, "another key: exit %d, %r" % (rc, err))

    # A malformed or unreadable key file is an error, never a new key.
    for name, content in (("short.key", "abcd\n"), ("junk.key", "z" * 64 + "\n"),
                          ("long.key", "a" * 66 + "\n"), ("empty.key", "")):
        p = os.path.join(tmp, name)
        with open(p, "w") as f:
            f.write(content)
        rc, err = plainsight(t, b, os.path.join(tmp, name + ".db"), ["--key-file", p])
        with open(p) as f:
            kept = f.read()
        t.check(rc == 2 and err.count("\n") == 1 and name in err and kept == content,
                "%s: exit %d, one line, file untouched (%r)" % (name, rc, err))
    d = os.path.join(tmp, "adir.key")
    os.mkdir(d)
    rc, err = plainsight(t, b, os.path.join(tmp, "d.db"), ["--key-file", d])
    t.check(rc == 2 and "adir.key" in err, "a directory as key file: exit %d, %r" % (rc, err))
    # Readable by others: a warning, and the run goes on.
    os.chmod(kpath, 0o644)
    rc, out, err = run(b, ["-q", "-r", CAPTURE, "-w", db])
    t.check(rc == 0 and "chmod 600" in err, "a loose key file is warned about (%r)" % err)
    os.chmod(kpath, 0o600)

    # A database of an earlier release: its key moves into a new key file, and leaves no trace.
    old_key = os.urandom(32)
    odb = os.path.join(tmp, "old.db")
    old_release_db(odb, old_key)
    rc, out, err = run(b, ["-r", CAPTURE, "-w", odb])
    okey = os.path.join(tmp, "old.key")
    t.check(rc == 0 and "moved" in err, "old database: exit %d, says the key moved (%r)" % (rc, err))
    t.check(os.path.exists(okey) and read_key(okey) == old_key, "the old key is in the key file")
    t.check(os.path.exists(okey) and stat.S_IMODE(os.stat(okey).st_mode) == 0o600,
            "the moved key's file is mode 0600")
    t.check(fingerprints(odb) == [fp(old_key, PASSWORD)],
            "old database: fingerprints stay comparable with the old ones")
    m = meta(odb)
    t.check("fingerprint_key" not in m and "fingerprint_key_id" in m, "old key out of meta")
    con = sqlite3.connect(odb)
    t.check(con.execute("PRAGMA user_version").fetchone()[0] == 3, "old database: schema 3")
    con.close()
    leftover = []
    for suffix in ("", "-wal"):
        if os.path.exists(odb + suffix):
            with open(odb + suffix, "rb") as f:
                if old_key in f.read():
                    leftover.append(suffix or "file")
    t.check(leftover == [], "no byte of the old key is left in the files: %r" % leftover)
    t.check(keys_that_work(odb, fp(old_key, PASSWORD)) == [],
            "old database: no stored value works as the key")

    # An old database and a shared key file of another key: refused unless --drop-old-key.
    odb2 = os.path.join(tmp, "old2.db")
    old_release_db(odb2, os.urandom(32))
    rc, err = plainsight(t, b, odb2, ["--key-file", kpath])
    t.check(rc == 2 and "--drop-old-key" in err, "old key vs key file: exit %d, %r" % (rc, err))
    rc, err = plainsight(t, b, odb2, ["--key-file", kpath, "--drop-old-key"])
    t.check(rc == 0 and fingerprints(odb2) == [target] and "fingerprint_key" not in meta(odb2),
            "--drop-old-key: the old key is gone, the shared key used (%d, %r)" % (rc, err))
    # An old database, no key file, --drop-old-key: a new key, and a warning.
    odb3 = os.path.join(tmp, "old3.db")
    old_release_db(odb3, old_key)
    rc, out, err = run(b, ["-r", CAPTURE, "-w", odb3, "--drop-old-key"])
    k3 = os.path.join(tmp, "old3.key")
    t.check(rc == 0 and "dropped" in err and os.path.exists(k3) and read_key(k3) != old_key,
            "--drop-old-key without a key file: a new key (%d, %r)" % (rc, err))
    t.done()


main()
