"""Mirror tunnels made by the kernel, captured live: a remote SPAN as a switch sends it.

Two network namespaces of the test's own. In the first, the project's captures are replayed
with tcpreplay onto one end of a veth pair; the other end's ingress is mirrored by tc (matchall or
u32, mirred egress mirror) into a tunnel device (VXLAN, Geneve, GRE bridging, ERSPAN II and III),
whose packets cross an underlay veth pair into the second namespace, where plainsight captures
them with -i. Every session must come out as the offline run of the plain captures gives it,
with the tunnel named in its tunnel field and the layer counted.

Needs root, ip, tc and tcpreplay; a tunnel type the kernel cannot make (a container without
the module, a kernel without ERSPAN) is skipped with a note, never failed."""
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

CAPTURES = os.path.join(ROOT, "captures")
SRC = "plainsight-tun-src-%d" % os.getpid()
DST = "plainsight-tun-dst-%d" % os.getpid()
UNDER_SRC, UNDER_DST = "10.200.0.1", "10.200.0.2"

# name: (ip link add arguments after "type", the layer counter, the tunnel field's start)
TUNNELS = [
    ("vxlan", ["vxlan", "id", "42", "dstport", "4789", "local", UNDER_SRC, "remote", UNDER_DST,
               "dev", "ua"], "encap_vxlan", "vxlan vni=42 %s>%s" % (UNDER_SRC, UNDER_DST)),
    ("geneve", ["geneve", "id", "43", "remote", UNDER_DST], "encap_geneve",
     "geneve vni=43 %s>%s" % (UNDER_SRC, UNDER_DST)),
    ("gretap", ["gretap", "local", UNDER_SRC, "remote", UNDER_DST, "key", "5"], "encap_gre",
     "gre key=5 %s>%s" % (UNDER_SRC, UNDER_DST)),
    ("erspan2", ["erspan", "local", UNDER_SRC, "remote", UNDER_DST, "seq", "key", "100",
                 "erspan_ver", "1", "erspan", "123"], "encap_erspan2",
     "gre key=100 %s>%s, erspan2 session=123" % (UNDER_SRC, UNDER_DST)),
    ("erspan3", ["erspan", "local", UNDER_SRC, "remote", UNDER_DST, "seq", "key", "101",
                 "erspan_ver", "2", "erspan_dir", "ingress", "erspan_hwid", "7"],
     "encap_erspan3", "gre key=101 %s>%s, erspan3 session=101" % (UNDER_SRC, UNDER_DST)),
]

# Small frames only: the tunnels' MTU is far under the 64 KiB a loopback capture may hold.
CAPS = ["pop3-dovecot-user-pass.pcap", "imap-dovecot-login-quoted.pcap",
        "smtp-postfix-auth-plain.pcap"]


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, check=check, timeout=60)


def src(*args, check=True):
    return sh("ip", "netns", "exec", SRC, *args, check=check)


def dst(*args, check=True):
    return sh("ip", "netns", "exec", DST, *args, check=check)


def setup():
    sh("ip", "netns", "add", SRC)
    sh("ip", "netns", "add", DST)
    src("ip", "link", "add", "psa", "type", "veth", "peer", "name", "psb")
    src("ip", "link", "add", "ua", "type", "veth", "peer", "name", "ub")
    src("ip", "link", "set", "ub", "netns", DST)
    for dev in ("lo", "psa", "psb", "ua"):
        src("ip", "link", "set", dev, "up")
    src("ip", "link", "set", "ua", "mtu", "9000")
    dst("ip", "link", "set", "ub", "mtu", "9000")
    src("ip", "addr", "add", UNDER_SRC + "/24", "dev", "ua")
    dst("ip", "addr", "add", UNDER_DST + "/24", "dev", "ub")
    dst("ip", "link", "set", "lo", "up")
    dst("ip", "link", "set", "ub", "up")
    src("tc", "qdisc", "add", "dev", "psa", "ingress")


def teardown():
    sh("ip", "netns", "del", SRC, check=False)
    sh("ip", "netns", "del", DST, check=False)


def make_tunnel(args):
    """The tunnel device tun0 with psa's ingress mirrored into it; the error text or None."""
    src("ip", "link", "del", "tun0", check=False)
    src("tc", "filter", "del", "dev", "psa", "ingress", check=False)
    r = src("ip", "link", "add", "tun0", "type", *args, check=False)
    if r.returncode != 0:
        return r.stderr.decode("utf-8", "replace").strip() or "ip link add failed"
    src("ip", "link", "set", "tun0", "mtu", "8000")
    src("ip", "link", "set", "tun0", "up")
    # matchall where the kernel has it, else u32 matching every packet (the older classifier).
    for match in (["matchall"], ["u32", "match", "u32", "0", "0"]):
        r = src("tc", "filter", "add", "dev", "psa", "parent", "ffff:", *match, "action",
                "mirred", "egress", "mirror", "dev", "tun0", check=False)
        if r.returncode == 0:
            return None
    return "tc mirred: " + r.stderr.decode("utf-8", "replace").strip()


class Live:
    """plainsight -i ub in the second namespace, in the background."""

    def __init__(self, binary, db):
        self.db = db
        args = ["ip", "netns", "exec", DST, binary, "-i", "ub", "-w", db, "-q"]
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.time() + 10
        while time.time() < deadline and self.p.poll() is None:
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

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = -1
        self.err.seek(0)
        return rc, self.err.read().decode("utf-8", "replace")


def session_keys(db):
    return sorted((endpoint(s["client_ip"], s["client_port"]),
                   endpoint(s["server_ip"], s["server_port"]), s["protocol"],
                   tuple((c["mechanism"], c["username"], c["secret_len"], c["result"])
                         for c in s["credentials"])) for s in sessions(db))


def counter(db, name):
    con = sqlite3.connect(db)
    row = con.execute("SELECT value FROM run_counters WHERE name = ?", (name,)).fetchone()
    con.close()
    return row[0] if row else 0


def run_tests(t, b, tmp):
    caps = [os.path.join(CAPTURES, c) for c in CAPS]
    rc, out, err, db = analyse(b, caps, ["-q"], tmp=os.path.join(tmp, "offline"))
    want = session_keys(db)
    t.check(rc == 0 and len(want) == len(CAPS), "offline: %d sessions %r" % (len(want), err))
    for name, args, layer, tunnel in TUNNELS:
        why = make_tunnel(args)
        if why is not None:
            t.skip("kernel tunnels: %s: the kernel cannot make it here (%s)" % (name, why))
            continue
        db = os.path.join(tmp, name + ".db")
        live = Live(b, db)
        for c in caps:
            src("tcpreplay", "-q", "-i", "psb", "--pps=2000", c)
        time.sleep(0.5)
        rc, err = live.stop()
        t.check(rc == 0, "%s: plainsight exit %d: %s" % (name, rc, err.strip()))
        got = session_keys(db)
        t.check(got == want, "%s: sessions as offline:\n got %r\nwant %r" % (name, got, want))
        t.check(counter(db, "decode." + layer) > 0, "%s: decode.%s counted" % (name, layer))
        tunnels = sorted(set(s["tunnel"] for s in sessions(db)))
        t.check(tunnels == [tunnel], "%s: tunnel %r, want %r" % (name, tunnels, tunnel))


def main():
    t = Tally()
    b = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        t.skip("kernel tunnels: needs root (ip netns, tc, raw sockets); run make check as root")
        t.done()
    for tool in ("ip", "tc", "tcpreplay"):
        if shutil.which(tool) is None:
            t.skip("kernel tunnels: %s is not installed" % tool)
            t.done()
    tmp = tmpdir(prefix="plainsight-ktun-")
    os.chmod(tmp, 0o755)
    try:
        setup()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        teardown()
        t.skip("kernel tunnels: no network namespaces here (%s)" % e)
        t.done()
    try:
        run_tests(t, b, tmp)
    finally:
        teardown()
    t.done()


main()
