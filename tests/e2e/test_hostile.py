"""Hostile input end to end: broken capture files, endless lines, a billion-byte literal,
endless SASL, credential floods, names full of quotes, NULs, invalid UTF-8 and terminal
escapes, a full disk and a read-only database. Each must give a clear message and a defined
exit status, or an analysis with the damage counted: never a crash, never a hang."""
import json
import os
import sqlite3
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapgen  # noqa: E402
from common import tmpdir, ROOT, Tally, analyse, run, sessions  # noqa: E402

CAPTURES = os.path.join(ROOT, "captures")


def counters(db):
    con = sqlite3.connect(db)
    d = dict(con.execute("SELECT name, value FROM run_counters"))
    con.close()
    return d


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def pop3_session(user=b"alice", password=b"secret", **kw):
    s = pcapgen.Session(**kw)
    s.server(b"+OK ready\r\n")
    s.client(b"USER " + user + b"\r\n")
    s.server(b"+OK\r\n")
    s.client(b"PASS " + password + b"\r\n")
    s.server(b"+OK logged in\r\n")
    s.close()
    return s


def broken_files(t, b, tmp):
    good = os.path.join(tmp, "good.pcap")
    pcapgen.write(good, [pop3_session()])
    data = open(good, "rb").read()
    hdr = pcapgen.pcap_header()

    def expect(name, content, codes, must_say=None):
        path = write(os.path.join(tmp, name), content)
        try:
            rc, out, err, db = analyse(b, [path], ["-q"], tmp=os.path.join(tmp, "d-" + name))
        except subprocess.TimeoutExpired:
            t.check(False, "%s: hung" % name)
            return None
        ok = rc in codes and "AddressSanitizer" not in err and "runtime error" not in err
        if must_say is not None:
            ok = ok and must_say in err
        t.check(ok, "%s: exit %d, %r" % (name, rc, err.strip()[-300:]))
        return db if rc != 2 else None

    expect("empty.pcap", b"", {2}, "empty.pcap")
    expect("short-header.pcap", hdr[:10], {2}, "short-header.pcap")
    expect("not-a-capture.pcap", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 20, {2},
           "not-a-capture.pcap")
    expect("random.pcap", bytes((i * 131 + 7) % 256 for i in range(4096)), {2}, "random.pcap")
    # Cut inside a record header, and inside a record's data: the session before is kept.
    cut_at = len(data) - 30
    db = expect("cut-record.pcap", data + data[24:24 + 9], {3}, "damaged")
    if db:
        t.check(len(sessions(db)) == 1, "cut-record.pcap: the session before the damage")
    expect("cut-data.pcap", data[:cut_at], {3}, "damaged")
    # caplen larger than the snap length, and an absurd caplen.
    bad = bytearray(data)
    struct.pack_into("<I", bad, 24 + 8, 70000)
    expect("caplen-over-snaplen.pcap", bytes(bad), {2, 3})
    bad = bytearray(data)
    struct.pack_into("<I", bad, 24 + 8, 0xFFFFFFF0)
    expect("caplen-huge.pcap", bytes(bad), {2, 3})
    # Zero-length packets and an unknown link type: analysed, counted.
    zero = hdr + pcapgen.record(1.0, b"") * 3 + data[24:]
    db = expect("zero-length.pcap", zero, {0})
    if db:
        c = counters(db)
        t.check(c.get("decode.bad_link", 0) == 3 and len(sessions(db)) == 1,
                "zero-length packets counted as bad_link: %r" % c.get("decode.bad_link"))
    unk = bytearray(data)
    struct.pack_into("<I", unk, 20, 147)  # LINKTYPE_USER0
    db = expect("unknown-link.pcap", bytes(unk), {0})
    if db:
        t.check(counters(db).get("decode.unknown_link", 0) > 0, "unknown link type counted")
    # pcapng: a block of an unknown type between packets is skipped; a broken block length is
    # damage.
    ng = pcapng_of([f for _, f in pop3_session().frames])
    good_ng = write(os.path.join(tmp, "good.pcapng"), ng)
    rc, out, err, db = analyse(b, [good_ng], ["-q"], tmp=os.path.join(tmp, "ng"))
    t.check(rc == 0 and len(sessions(db)) == 1, "pcapng: the session is found (%d %s)" %
            (rc, err))
    shb_idb = ng[:28 + 20]
    unknown_block = struct.pack("<II", 0x0BAD0BAD, 16) + b"\0" * 4 + struct.pack("<I", 16)
    db = expect("unknown-block.pcapng", shb_idb + unknown_block + ng[48:], {0})
    if db:
        t.check(len(sessions(db)) == 1, "pcapng with an unknown block: the session is found")
    broken = bytearray(ng)
    struct.pack_into("<I", broken, 48 + 4, 7)  # a block length that is not a multiple of 4
    expect("broken-block.pcapng", bytes(broken), {2, 3})


def pcapng_of(frames):
    """A minimal pcapng file: section header, one Ethernet interface, enhanced packets."""
    def block(btype, body):
        pad = (-len(body)) % 4
        n = 12 + len(body) + pad
        return struct.pack("<II", btype, n) + body + b"\0" * pad + struct.pack("<I", n)
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", 1, 0, 65535))
    ts = 1700000000 * 1000000
    for f in frames:
        ts += 1000
        out += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(f), len(f)) + f)
    return out


def exhaustion(t, b, tmp):
    # A 10 MB line without CRLF, then a real login in the same session.
    s = pcapgen.Session()
    s.server(b"+OK ready\r\n")
    s.client(b"X" * (10 * 1024 * 1024))
    s.client(b"\r\nUSER alice\r\n")
    s.server(b"-ERR what\r\n+OK\r\n")
    s.client(b"PASS secret\r\n")
    s.server(b"+OK\r\n")
    s.close()
    path = os.path.join(tmp, "endless-line.pcap")
    pcapgen.write(path, [s])
    rc, out, err, db = analyse(b, [path], ["-q", "--reveal-secrets"],
                               tmp=os.path.join(tmp, "endless"))
    got = [(c["username"], c["secret"]) for x in sessions(db) for c in x["credentials"]]
    t.check(rc == 0 and got == [("alice", "secret")] and
            counters(db).get("parse.overlong_lines", 0) >= 1,
            "10 MB line: counted, and the login after it found (%r)" % got)

    # IMAP: a billion-byte literal announced, then the session goes on with a LOGIN; a second
    # session in the same capture is untouched.
    s1 = pcapgen.Session(server=("10.0.0.2", 143))
    s1.server(b"* OK IMAP ready\r\n")
    s1.client(b"a1 APPEND INBOX {1000000000+}\r\n" + b"Y" * 200000)
    s1.close()
    s2 = pcapgen.Session(client=("10.0.0.1", 40001), server=("10.0.0.2", 143))
    s2.server(b"* OK IMAP ready\r\n")
    s2.client(b"a1 LOGIN bob pw\r\n")
    s2.server(b"a1 OK done\r\n")
    s2.close()
    path = os.path.join(tmp, "huge-literal.pcap")
    pcapgen.write(path, [s1, s2])
    rc, out, err, db = analyse(b, [path], ["-q", "--reveal-secrets"],
                               tmp=os.path.join(tmp, "literal"))
    got = {x["client_port"]: [(c["username"], c["secret"]) for c in x["credentials"]]
           for x in sessions(db)}
    t.check(rc == 0 and got.get(40000) == [] and got.get(40001) == [("bob", "pw")],
            "billion-byte literal: skipped by count, the other session found (%r)" % got)

    # A SASL exchange that never ends: 5000 rounds of challenge and response.
    s = pcapgen.Session(server=("10.0.0.2", 587))
    s.server(b"220 mail ESMTP\r\n")
    s.client(b"EHLO x\r\n")
    s.server(b"250-mail\r\n250 AUTH LOGIN PLAIN\r\n")
    s.client(b"AUTH LOGIN\r\n")
    rounds = b"".join(b"334 VXNlcm5hbWU6\r\n" for _ in range(5000))
    s.server(rounds[:len(rounds) // 2])
    s.client(b"YWxpY2U=\r\n" * 5000)
    s.server(rounds[len(rounds) // 2:])
    s.close()
    path = os.path.join(tmp, "endless-sasl.pcap")
    pcapgen.write(path, [s])
    rc, out, err, db = analyse(b, [path], ["-q"], tmp=os.path.join(tmp, "sasl"))
    creds = [c for x in sessions(db) for c in x["credentials"]]
    t.check(rc == 0 and len(creds) <= 16, "endless SASL: bounded (%d credentials)" % len(creds))

    # A flood of logins in one session: 16 kept, the rest counted.
    s = pcapgen.Session()
    s.server(b"+OK\r\n")
    for i in range(100):
        s.client(b"USER u%d\r\nPASS p%d\r\n" % (i, i))
        s.server(b"+OK\r\n-ERR\r\n")
    s.close()
    path = os.path.join(tmp, "flood.pcap")
    pcapgen.write(path, [s])
    rc, out, err, db = analyse(b, [path], ["-q"], tmp=os.path.join(tmp, "flood"))
    x = sessions(db)
    t.check(rc == 0 and len(x) == 1 and len(x[0]["credentials"]) == 16 and
            x[0]["credentials_dropped"] == 84,
            "100 logins: 16 kept, 84 counted (%r)" % ([len(y["credentials"]) for y in x],))


def hostile_names(t, b, tmp):
    names = [b'quo"te\\back', b"nul\x00byte", b"bad\xff\xfeutf8", b"ctl\x01\x7f",
             b"esc\x1b[31mred\x1b[0m", b"\xe2\x82\xac-euro"]
    sess = [pop3_session(user=n, password=b"pw" + n[:3], client=("10.0.0.1", 41000 + i))
            for i, n in enumerate(names)]
    path = os.path.join(tmp, "names.pcap")
    pcapgen.write(path, sess)
    jpath = os.path.join(tmp, "names.json")
    rc, out, err, db = analyse(b, [path], ["--json=" + jpath], tmp=os.path.join(tmp, "names"))
    con = sqlite3.connect(db)
    con.text_factory = bytes
    stored = [r[0] for r in con.execute(
        "SELECT c.username FROM credentials c JOIN sessions s ON s.id = c.session_id "
        "ORDER BY s.client_port")]
    con.close()
    t.check(rc == 0 and stored == names, "names stored byte for byte: %r" % stored)
    try:
        objs = [json.loads(line) for line in open(jpath, encoding="utf-8")]
        ok = len(objs) == len(names)
    except ValueError as e:
        ok = False
        print(e)
    t.check(ok, "JSON stays valid with hostile names")
    if ok:
        got = sorted((o["client_port"], o["credentials"][0]["username"]) for o in objs)
        t.check(got[0][1] == 'quo"te\\back' and got[1][1] == "nul\x00byte" and
                got[5][1] == "\u20ac-euro", "JSON escapes and keeps valid UTF-8: %r" % got)
    t.check("\x1b" not in out and "\x00" not in out and "\x01" not in out,
            "console: no control byte reaches the terminal")
    t.check("\\x1b[31mred" in out and 'quo\\x22te' in out, "console: shown escaped")


def disk(t, b, tmp):
    if os.geteuid() != 0 or subprocess.run(["unshare", "--help"], capture_output=True).returncode:
        t.skip("full disk / read-only database: needs root and unshare")
        return
    caps = [os.path.join(CAPTURES, f) for f in sorted(os.listdir(CAPTURES))
            if f.endswith(".pcap")]
    mnt = os.path.join(tmp, "mnt")
    os.makedirs(mnt)
    many = os.path.join(tmp, "many.pcap")
    pcapgen.write(many, [pop3_session(user=b"u%d" % i, client=("10.0.%d.%d" % (i // 250, i % 250),
                                                                  40000 + i))
                         for i in range(3000)])
    script = """
set -u
mount -t tmpfs -o size=512k tmpfs {mnt}
{b} -q -r {one} -w {mnt}/a.db; echo first=$?
# fill what is left, then a run with many sessions must fail cleanly
dd if=/dev/zero of={mnt}/fill bs=1k count=100000 2>/dev/null
{b} -q -r {many} -w {mnt}/a.db 2>{mnt}/../full.err; echo full=$?
rm -f {mnt}/fill
sqlite3 {mnt}/a.db 'PRAGMA integrity_check; SELECT count(*) FROM credentials' | tr '\\n' ' '
echo
mount -o remount,ro {mnt}
{b} -q -r {one} -w {mnt}/a.db 2>{mnt}/../ro.err; echo ro=$?
{b} -q -r {one} -w {mnt}/new.db 2>{mnt}/../ronew.err; echo ronew=$?
""".format(mnt=mnt, b=b, one=caps[0], many=many)
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, timeout=120)
    out = r.stdout.decode()
    lines = dict(line.split("=", 1) for line in out.split() if "=" in line)

    def err(name):
        p = os.path.join(tmp, name)
        return open(p).read() if os.path.exists(p) else ""
    t.check(lines.get("first") == "0", "tmpfs: a first run works (%r)" % out)
    t.check(lines.get("full") == "2" and "a.db" in err("full.err"),
            "full disk: exit 2 naming the database (%r, %r)" % (lines.get("full"), err("full.err")))
    t.check("ok 1" in out, "full disk: what was committed before stays intact (%r)" % out)
    t.check(lines.get("ro") == "2" and "a.db" in err("ro.err"),
            "read-only database: exit 2 naming it (%r, %r)" % (lines.get("ro"), err("ro.err")))
    t.check(lines.get("ronew") == "2" and "new.db" in err("ronew.err"),
            "read-only file system: exit 2 naming the file (%r)" % err("ronew.err"))


def main():
    t = Tally()
    b = os.path.abspath(sys.argv[1])
    tmp = tmpdir(prefix="plainsight-hostile-")
    broken_files(t, b, tmp)
    exhaustion(t, b, tmp)
    hostile_names(t, b, tmp)
    disk(t, b, tmp)
    t.done()


main()
