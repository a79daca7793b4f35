"""End to end: plainsight merge and plainsight prune over databases made from the bundled captures.

merge folds two sensors' databases (one key file) into a fresh one, keeps each row's sensor, and
adds nothing the second time. It refuses, with one line, exit 2 and the target unchanged (byte for
byte): a database of another fingerprint key (unless --allow-mixed-keys, which marks those
fingerprints), a file that is no plainsight database, a newer schema, and a disk that fills in the
middle of the merge: a tmpfs too small for it, mounted in a private mount namespace (skipped when
the namespace cannot be made). prune --older-than 0 empties the database and shrinks the file; a
cutoff between the captures' two days keeps exactly the later sessions. A database made by the
previous release's binary (tests/e2e/data) is migrated to schema version 3 by a run, by merge
and by prune."""
import glob
import hashlib
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, Tally, run, tmpdir  # noqa: E402

CAPTURES = sorted(glob.glob(os.path.join(ROOT, "captures", "*.pcap")))
DATA = os.path.join(ROOT, "tests", "e2e", "data")
OLD_DB = os.path.join(DATA, "release-17a308f.db")
OLD_KEY = os.path.join(DATA, "release-17a308f.key")
SCHEMA_VERSION = 3

t = Tally()
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "san", "plainsight")
tmp = tmpdir("plainsight-admin-")


def q(db, sql, args=()):
    con = sqlite3.connect(db)
    rows = con.execute(sql, args).fetchall()
    con.close()
    return rows


def one(db, sql, args=()):
    return q(db, sql, args)[0][0]


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def dump(db):
    con = sqlite3.connect(db)
    lines = list(con.iterdump())
    con.close()
    return lines


def analyse(files, db, *extra):
    args = []
    for f in files:
        args += ["-r", f]
    return run(binary, args + ["-q", "-w", db] + list(extra))


def one_line_error(err):
    lines = [x for x in err.splitlines() if x.strip()]
    return len(lines) == 1 and lines[0].startswith("plainsight: error: ")


def refused(what, args, target, want_in_err):
    """merge args: exit 2, one line naming the reason, the target's bytes unchanged."""
    before = sha(target)
    rc, out, err = run(binary, ["merge"] + args)
    t.check(rc == 2, "%s: exit %d, want 2 (%s)" % (what, rc, err.strip()))
    t.check(one_line_error(err), "%s: one error line: %r" % (what, err))
    t.check(want_in_err in err, "%s: %r not in %r" % (what, want_in_err, err))
    t.check(out == "", "%s: no summary line: %r" % (what, out))
    t.check(sha(target) == before, "%s: the target changed" % what)


def merge_counts(out):
    m = re.match(r"merged \d+ databases? into .*: (\d+) sessions added \((\d+) already there\), "
                 r"(\d+) credentials, (\d+) runs added \((\d+) already there\)", out)
    return tuple(int(x) for x in m.groups()) if m else None


# ---- two sensors, one key file ----
key = os.path.join(tmp, "shared.key")
half = len(CAPTURES) // 2
s1 = os.path.join(tmp, "s1.db")
s2 = os.path.join(tmp, "s2.db")
rc1 = analyse(CAPTURES[:half + 3], s1, "--sensor", "sensor-one", "--key-file", key)[0]
rc2 = analyse(CAPTURES[half:], s2, "--sensor", "sensor-two", "--key-file", key)[0]
t.check(rc1 == 0 and rc2 == 0, "sensor databases: exit %d, %d" % (rc1, rc2))
n1 = one(s1, "SELECT count(*) FROM sessions")
n2 = one(s2, "SELECT count(*) FROM sessions")
c1 = one(s1, "SELECT count(*) FROM credentials")
c2 = one(s2, "SELECT count(*) FROM credentials")
t.check(n1 > 0 and n2 > 0, "sensor databases hold sessions: %d, %d" % (n1, n2))

# ---- merge into a fresh database, then again ----
all_db = os.path.join(tmp, "all.db")
rc, out, err = run(binary, ["merge", all_db, s1, s2])
t.check(rc == 0, "merge: exit %d (%s)" % (rc, err.strip()))
t.check(len(out.splitlines()) == 1, "merge: one summary line: %r" % out)
t.check(merge_counts(out) == (n1 + n2, 0, c1 + c2, 2, 0), "merge: counts in %r" % out)
t.check(one(all_db, "SELECT count(*) FROM sessions") == n1 + n2, "merge: sessions")
t.check(one(all_db, "SELECT count(*) FROM credentials") == c1 + c2, "merge: credentials")
t.check(dict(q(all_db, "SELECT sensor, count(*) FROM sessions GROUP BY sensor")) ==
        {"sensor-one": n1, "sensor-two": n2}, "merge: each session keeps its sensor")
t.check(q(all_db, "SELECT DISTINCT r.sensor = s.sensor FROM sessions s JOIN runs r"
                  " ON r.id = s.run_id") == [(1,)], "merge: sessions under their own run")
t.check(sorted(r[0] for r in q(all_db, "SELECT merged_from FROM runs")) ==
        sorted([os.path.realpath(s1), os.path.realpath(s2)]), "merge: runs name their file")
t.check(one(all_db, "SELECT count(*) FROM run_counters") ==
        one(s1, "SELECT count(*) FROM run_counters") +
        one(s2, "SELECT count(*) FROM run_counters"), "merge: run counters copied")
t.check(one(all_db, "SELECT value FROM meta WHERE key = 'fingerprint_key_id'") ==
        one(s1, "SELECT value FROM meta WHERE key = 'fingerprint_key_id'"),
        "merge: the new database records the sources' key id")
t.check(one(all_db, "SELECT count(*) FROM credentials WHERE fingerprint_key_id IS NOT NULL") == 0,
        "merge: one key, no fingerprint marked")
t.check(os.stat(all_db).st_mode & 0o077 == 0, "merge: the new database is private (0600)")
# The same fingerprints, credential for credential (uid and seq).
fp_src = sorted(q(s1, "SELECT s.uid, c.seq, c.secret_fingerprint FROM credentials c JOIN sessions"
                      " s ON s.id = c.session_id") +
                q(s2, "SELECT s.uid, c.seq, c.secret_fingerprint FROM credentials c JOIN sessions"
                      " s ON s.id = c.session_id"), key=repr)
fp_all = sorted(q(all_db, "SELECT s.uid, c.seq, c.secret_fingerprint FROM credentials c JOIN"
                          " sessions s ON s.id = c.session_id"), key=repr)
t.check(fp_src == fp_all, "merge: credentials follow their sessions")
before = dump(all_db)
rc, out, err = run(binary, ["merge", all_db, s1, s2])
t.check(rc == 0, "merge again: exit %d (%s)" % (rc, err.strip()))
t.check(merge_counts(out) == (0, n1 + n2, 0, 0, 2), "merge again: counts in %r" % out)
t.check(dump(all_db) == before, "merge again: nothing added")
# The target keeps being written by plainsight with the shared key.
rc, _, err = analyse(CAPTURES[:1], all_db, "--sensor", "sensor-three", "--key-file", key)
t.check(rc == 0, "a run writes into the merged database with the shared key (%s)" % err.strip())

# ---- refusals: the target unchanged, byte for byte ----
other = os.path.join(tmp, "other.db")
analyse(CAPTURES[:2], other, "--sensor", "sensor-x", "--key-file", os.path.join(tmp, "o.key"))
refused("another key", [all_db, other], all_db, "fingerprint key")
refused("another key after a good one", [all_db, s1, other], all_db, "--allow-mixed-keys")
junk = os.path.join(tmp, "junk.db")
with open(junk, "wb") as f:
    f.write(b"this is no database\n" * 200)
refused("not a database", [all_db, s1, junk], all_db, "not a plainsight database")
foreign = os.path.join(tmp, "foreign.db")
con = sqlite3.connect(foreign)
con.execute("CREATE TABLE t (x)")
con.commit()
con.close()
refused("another program's database", [all_db, foreign], all_db, "not a plainsight database")
newer = os.path.join(tmp, "newer.db")
shutil.copy(s1, newer)
con = sqlite3.connect(newer)
con.execute("PRAGMA user_version = %d" % (SCHEMA_VERSION + 1))
con.close()
refused("newer schema", [all_db, newer], all_db, "newer")
refused("missing source", [all_db, os.path.join(tmp, "nope.db")], all_db, "No such file")
rc, out, err = run(binary, ["merge", all_db, all_db])
t.check(rc == 1 and one_line_error(err) and "target" in err, "merge into itself: %d %r" % (rc, err))
fresh = os.path.join(tmp, "fresh.db")
rc, _, err = run(binary, ["merge", fresh, s1, junk])
t.check(rc == 2 and not os.path.exists(fresh), "a refused merge leaves no new file behind")
rc, out, err = run(binary, ["merge", all_db])
t.check(rc == 1 and "FROM" in err, "merge without a source: usage error (%d)" % rc)

# ---- --allow-mixed-keys: merged, the other key's fingerprints marked ----
mixed = os.path.join(tmp, "mixed.db")
shutil.copy(all_db, mixed)
other_id = one(other, "SELECT value FROM meta WHERE key = 'fingerprint_key_id'")
other_fps = one(other, "SELECT count(*) FROM credentials WHERE secret_fingerprint IS NOT NULL")
rc, out, err = run(binary, ["merge", "--allow-mixed-keys", mixed, other])
t.check(rc == 0 and "marked" in out and "warning" in err, "mixed keys: %d %r %r" % (rc, out, err))
t.check(q(mixed, "SELECT fingerprint_key_id, count(*) FROM credentials WHERE fingerprint_key_id"
                 " IS NOT NULL GROUP BY 1") == [(other_id, other_fps)],
        "mixed keys: the other key's fingerprints name it")
t.check(one(mixed, "SELECT count(*) FROM sessions WHERE sensor = 'sensor-x'") ==
        one(other, "SELECT count(*) FROM sessions"), "mixed keys: its sessions merged")

# ---- a full disk in the middle of a merge: a small tmpfs in a private mount namespace ----
big = os.path.join(tmp, "big.db")
shutil.copy(s1, big)
con = sqlite3.connect(big)
cols = [r[1] for r in con.execute("PRAGMA table_info(sessions)") if r[1] not in ("id", "uid")]
ccols = [r[1] for r in con.execute("PRAGMA table_info(credentials)")
         if r[1] not in ("id", "session_id")]
for i in range(6000):
    cur = con.execute("INSERT INTO sessions (uid, %s) SELECT 'Cbig%%06d' || id, %s FROM sessions"
                      " WHERE id = (SELECT min(id) FROM sessions)" % (", ".join(cols),
                                                                       ", ".join(cols)) % i)
    con.execute("INSERT INTO credentials (session_id, %s) SELECT ?, %s FROM credentials WHERE"
                " session_id = (SELECT min(session_id) FROM credentials)" %
                (", ".join(ccols), ", ".join(ccols)), (cur.lastrowid,))
con.commit()
con.close()
big_bytes = os.path.getsize(big)
mnt = os.path.join(tmp, "mnt")
out_dir = os.path.join(tmp, "after")
os.makedirs(mnt)
os.makedirs(out_dir)
size_k = os.path.getsize(all_db) // 1024 + 256
script = ('mount -t tmpfs -o size=%dk tmpfs "$1" || exit 99\n'
          'cp "$2" "$1/into.db" && "$3" merge "$1/into.db" "$4"; echo "rc=$?"\n'
          'cp "$1/into.db" "$5/into.db"\n') % size_k
p = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", mnt, all_db, binary, big,
                    out_dir], capture_output=True, timeout=300)
text = p.stdout.decode() + p.stderr.decode()
if p.returncode != 0 or "rc=" not in text:
    t.skip("full disk: no private mount namespace with a tmpfs here (not root?): %s" %
           text.strip()[:200])
else:
    t.check(big_bytes > size_k * 1024, "full disk: the source (%d bytes) outgrows the tmpfs"
            % big_bytes)
    t.check("rc=2" in text, "full disk: exit 2: %r" % text)
    errs = [x for x in text.splitlines() if x.startswith("plainsight:")]
    t.check(len(errs) == 1 and "full" in errs[0] and "nothing was merged" in errs[0],
            "full disk: one clear line: %r" % errs)
    after = os.path.join(out_dir, "into.db")
    t.check(sha(after) == sha(all_db), "full disk: the target's file unchanged, byte for byte")
    t.check(one(after, "PRAGMA integrity_check") == "ok", "full disk: the target is sound")

# ---- prune ----
p0 = os.path.join(tmp, "p0.db")
shutil.copy(all_db, p0)
size0 = os.path.getsize(p0)
n = one(p0, "SELECT count(*) FROM sessions")
c = one(p0, "SELECT count(*) FROM credentials")
rc, out, err = run(binary, ["prune", "--older-than", "0", p0])
t.check(rc == 0 and len(out.splitlines()) == 1, "prune 0: exit %d %r %r" % (rc, out, err))
t.check(("%d sessions, %d credentials" % (n, c)) in out, "prune 0: says what went: %r" % out)
t.check(one(p0, "SELECT count(*) FROM sessions") == 0, "prune 0: no session left")
t.check(one(p0, "SELECT count(*) FROM credentials") == 0, "prune 0: no credential left")
t.check(one(p0, "SELECT count(*) FROM runs") == 0, "prune 0: no finished run left")
t.check(one(p0, "SELECT count(*) FROM run_counters") == 0, "prune 0: no counter left")
t.check(os.path.getsize(p0) < size0, "prune 0: the file shrinks (%d -> %d bytes)"
        % (size0, os.path.getsize(p0)))
pb = os.path.join(tmp, "pb.db")
shutil.copy(big, pb)
rc, out, err = run(binary, ["prune", "--older-than", "0", pb])
t.check(rc == 0 and os.path.getsize(pb) * 4 < big_bytes,
        "prune 0: a big file shrinks to the bare schema (%d -> %d bytes)"
        % (big_bytes, os.path.getsize(pb)))
t.check(not os.path.exists(p0 + "-wal") or os.path.getsize(p0 + "-wal") == 0,
        "prune 0: the WAL is emptied")

# A cutoff between the captures' two days: the later sessions stay, with their credentials.
pc = os.path.join(tmp, "pc.db")
shutil.copy(all_db, pc)
days = sorted(r[0] for r in q(pc, "SELECT DISTINCT substr(ts_end, 1, 10) FROM sessions"))


def epoch(ts):
    return time.mktime(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone


if len(days) < 2:
    t.skip("prune cutoff: the captures span one day")
else:
    old_max = epoch(one(pc, "SELECT max(ts_end) FROM sessions WHERE ts_end < ?", (days[-1],)))
    new_min = epoch(one(pc, "SELECT min(ts_end) FROM sessions WHERE ts_end >= ?", (days[-1],)))
    now = time.time()
    n_days = max(1, math.ceil((now - new_min + 60) / 86400))
    t.check(now - n_days * 86400 > old_max, "prune cutoff: a whole day falls between the two")
    keep = q(pc, "SELECT uid FROM sessions WHERE ts_end >= ? ORDER BY uid", (days[-1],))
    keep_creds = one(pc, "SELECT count(*) FROM credentials WHERE session_id IN"
                         " (SELECT id FROM sessions WHERE ts_end >= ?)", (days[-1],))
    rc, out, err = run(binary, ["prune", "--older-than", str(n_days), pc])
    t.check(rc == 0, "prune cutoff: exit %d (%s)" % (rc, err.strip()))
    t.check(q(pc, "SELECT uid FROM sessions ORDER BY uid") == keep,
            "prune cutoff: exactly the later sessions stay")
    t.check(one(pc, "SELECT count(*) FROM credentials") == keep_creds,
            "prune cutoff: their credentials stay, the others' are gone")
    t.check(q(pc, "PRAGMA foreign_key_check") == [], "prune cutoff: no orphan")
    t.check(one(pc, "SELECT count(*) FROM runs") > 0,
            "prune cutoff: runs that ended after the cutoff stay")
    rc, out2, _ = run(binary, ["prune", "--older-than", str(n_days), pc])
    t.check(rc == 0 and " 0 sessions, 0 credentials" in out2, "prune again: nothing more: %r"
            % out2)
rc, _, err = run(binary, ["prune", "--older-than", "1", junk])
t.check(rc == 2 and one_line_error(err), "prune a non-database: exit %d %r" % (rc, err))
rc, _, err = run(binary, ["prune", "--older-than", "1", os.path.join(tmp, "none.db")])
t.check(rc == 2 and not os.path.exists(os.path.join(tmp, "none.db")),
        "prune a missing file: exit 2, nothing made")
before = sha(newer)
rc, _, err = run(binary, ["prune", "--older-than", "0", newer])
t.check(rc == 2 and "newer" in err and sha(newer) == before, "prune a newer schema: refused")
rc, _, err = run(binary, ["prune", "--older-than", "-1", p0])
t.check(rc == 1, "prune --older-than -1: usage error")


# ---- a database of the previous release (schema 2, made by that release's binary) ----
def old_copy(name):
    path = os.path.join(tmp, name)
    shutil.copy(OLD_DB, path)
    return path


def cred_rows(db):
    return q(db, "SELECT id, session_id, seq, mechanism, username, secret_len,"
                 " secret_fingerprint, result, truncated, anonymous FROM credentials ORDER BY id")


t.check(one(OLD_DB, "PRAGMA user_version") == 2, "old database: schema version 2")
old_creds = cred_rows(OLD_DB)
old_sessions = one(OLD_DB, "SELECT count(*) FROM sessions")
# A run opens it: migrated, the rows kept.
o1 = old_copy("old-run.db")
okey = os.path.join(tmp, "old.key")
shutil.copy(OLD_KEY, okey)
os.chmod(okey, 0o600)
rc, _, err = analyse(CAPTURES[:1], o1, "--key-file", okey)
t.check(rc == 0, "old database: a run opens it (%s)" % err.strip())
t.check(one(o1, "PRAGMA user_version") == SCHEMA_VERSION, "old database: version bumped")
t.check(q(o1, "SELECT on_delete FROM pragma_foreign_key_list('credentials')") == [("CASCADE",)],
        "old database: credentials cascade")
t.check(cred_rows(o1)[:len(old_creds)] == old_creds, "old database: credentials kept as they were")
t.check(one(o1, "SELECT count(*) FROM credentials WHERE id <= %d AND incomplete = 0" %
            max(r[0] for r in old_creds)) == len(old_creds),
        "old database: credentials.incomplete added, 0 in the old rows")
t.check(one(o1, "PRAGMA integrity_check") == "ok" and q(o1, "PRAGMA foreign_key_check") == [],
        "old database: sound after the migration")
t.check(one(o1, "SELECT count(*) FROM exposed_credentials") ==
        one(o1, "SELECT count(*) FROM credentials"), "old database: views made anew")
t.check(one(o1, "SELECT count(*) FROM sqlite_master WHERE name = 'credentials_v2'") == 0,
        "old database: the old table is gone")
# merge reads it as a source, and writes into it as a target.
o2 = os.path.join(tmp, "from-old.db")
rc, out, err = run(binary, ["merge", o2, OLD_DB])
t.check(rc == 0 and merge_counts(out) == (old_sessions, 0, len(old_creds), 5, 0),
        "old database as a source: %d %r %r" % (rc, out, err))
t.check(one(OLD_DB, "PRAGMA user_version") == 2, "old database as a source: left as it was")
t.check(one(o2, "SELECT count(*) FROM credentials WHERE incomplete = 0") == len(old_creds) and
        one(o2, "SELECT count(*) FROM sessions WHERE tunnel IS NULL AND interface IS NULL") ==
        old_sessions, "old database as a source: the columns it lacks are NULL or 0")
o3 = old_copy("into-old.db")
rc, out, err = run(binary, ["merge", o3, o2])
t.check(rc == 0 and merge_counts(out) == (0, old_sessions, 0, 0, 5),
        "old database as the target: migrated, nothing twice: %d %r %r" % (rc, out, err))
t.check(one(o3, "PRAGMA user_version") == SCHEMA_VERSION, "old target: version bumped")
# prune migrates it first, then the credentials go with their sessions.
o4 = old_copy("prune-old.db")
rc, out, err = run(binary, ["prune", "--older-than", "0", o4])
t.check(rc == 0 and ("%d sessions, %d credentials" % (old_sessions, len(old_creds))) in out,
        "old database pruned: %d %r %r" % (rc, out, err))
t.check(one(o4, "PRAGMA user_version") == SCHEMA_VERSION and
        one(o4, "SELECT count(*) FROM credentials") == 0, "old database pruned: migrated, empty")

t.done()
