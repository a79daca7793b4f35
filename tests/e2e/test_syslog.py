"""Syslog output into a real rsyslog, relayed to a second one that writes a file.

In a network namespace of the test's own (unshare -n, its loopback brought up), two rsyslogd
run with configurations of their own (own work directories and pid files, no system config):
the first listens on TCP and UDP on the loopback and on a datagram socket of its own
(imuxsock), and relays everything over TCP (octet-counted) to the second, which writes each
message's header fields and text to a file. plainsight reads every bundled capture with -w none,
--json=FILE and --syslog to one of the first one's inputs; every JSON object of the file must
arrive at the second rsyslog's file, parseable and equal, with the header fields plainsight
set (host = --sensor, app-name, procid, msgid = event_type, facility, severity). Also: no
database file is made with -w none, secrets stay out without --reveal-secrets, and a collector
that is not there costs a bounded wait and a count, not a failure. The contrib/ configurations
go through their tools' own checks where the tool is installed (rsyslogd -N1, fluent-bit
--dry-run, vector validate, filebeat test config); the others are skipped with a note.

Needs root, unshare and rsyslogd (scripts/deps.sh installs rsyslog for make check); without
them the test skips with a note."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import tmpdir, ROOT, Tally, run  # noqa: E402

CAPTURES = sorted(glob.glob(os.path.join(ROOT, "captures", "*.pcap")))
TCP_PORT, UDP_PORT, RELAY_PORT = 5514, 5515, 5516
SENSOR = "syslog-test-sensor"

RELAY_CONF = """
global(workDirectory="{work}")
module(load="imtcp")
module(load="imudp")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{sock}" UseSpecialParser="off" ParseHostname="on")
input(type="imtcp" address="127.0.0.1" port="{tcp}")
input(type="imudp" address="127.0.0.1" port="{udp}")
action(type="omfwd" target="127.0.0.1" port="{relay}" protocol="tcp"
       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
       action.resumeRetryCount="-1" queue.type="LinkedList")
"""

SINK_CONF = """
global(workDirectory="{work}")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="{relay}")
template(name="fields" type="string"
         string="%hostname% %app-name% %procid% %msgid% %syslogfacility-text% %syslogseverity-text% %msg%\\n")
action(type="omfile" file="{out}" template="fields")
"""


def start_rsyslog(d, name, conf):
    work = os.path.join(d, name)
    os.makedirs(work)
    path = os.path.join(d, name + ".conf")
    with open(path, "w") as f:
        f.write(conf.format(work=work, sock=os.path.join(d, "log.sock"), tcp=TCP_PORT,
                            udp=UDP_PORT, relay=RELAY_PORT, out=os.path.join(d, "out.log")))
    p = subprocess.Popen(["rsyslogd", "-n", "-f", path, "-i", os.path.join(d, name + ".pid")],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, name + ".err"), "w"))
    return p


def wait_listening(port, proto="tcp", timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        out = subprocess.run(["ss", "-lnt" if proto == "tcp" else "-lnu"], capture_output=True,
                             text=True).stdout
        if (":%d " % port) in out:
            return True
        time.sleep(0.1)
    return False


def read_out(path):
    """The second rsyslog's lines: (host, app, procid, msgid, facility, severity, json)."""
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 6)
            if len(parts) == 7:
                rows.append(parts)
    return rows


def wait_count(path, before, want, timeout=20):
    end = time.time() + timeout
    rows = read_out(path)[before:]
    while len(rows) < want and time.time() < end:
        time.sleep(0.2)
        rows = read_out(path)[before:]
    time.sleep(0.5)  # anything more than expected, too
    return read_out(path)[before:]


def key(o):
    return (o.get("event_type"), o.get("uid"))


def check_mode(t, b, d, target, label, extra=()):
    """One run into target; its JSON file against what reached the second rsyslog."""
    out = os.path.join(d, "out.log")
    before = len(read_out(out))  # the file stays: rsyslog keeps it open
    js = os.path.join(d, label + ".json")
    args = []
    for c in CAPTURES:
        args += ["-r", c]
    args += ["-q", "-w", "none", "--key-file", os.path.join(d, "fp.key"), "--json=" + js,
             "--syslog=" + target, "--sensor", SENSOR] + list(extra)
    cwd_before = set(os.listdir(d))
    rc, _, err = run(b, args)
    t.check(rc == 0, "%s: exit %d: %s" % (label, rc, err[-500:]))
    made = set(os.listdir(d)) - cwd_before - {label + ".json", "out.log"}
    t.check(not any(n.endswith(".db") for n in made), "%s: -w none made %s" % (label, made))
    with open(js) as f:
        want = [json.loads(line) for line in f]
    t.check(len(want) > 20, "%s: only %d JSON lines" % (label, len(want)))
    rows = wait_count(out, before, len(want))
    got = {}
    bad = 0
    for host, app, procid, msgid, fac, sev, msg in rows:
        try:
            o = json.loads(msg)
        except ValueError:
            bad += 1
            continue
        got[key(o)] = (o, host, app, procid, msgid, fac, sev)
    t.check(bad == 0, "%s: %d messages are not JSON" % (label, bad))
    t.check(len(rows) == len(want), "%s: %d messages for %d JSON lines" % (label, len(rows), len(want)))
    missing = [key(o) for o in want if key(o) not in got]
    t.check(not missing, "%s: %d sessions missing, e.g. %s" % (label, len(missing), missing[:3]))
    differ = [key(o) for o in want if key(o) in got and got[key(o)][0] != o]
    t.check(not differ, "%s: %d JSON objects differ, e.g. %s" % (label, len(differ), differ[:3]))
    hdr_bad = []
    for o in want:
        g = got.get(key(o))
        if g is None:
            continue
        _, host, app, procid, msgid, fac, sev = g
        sev_want = {"credentials": "warning", "none": "info"}.get(o.get("exposure"), "notice")
        if (host, app, msgid, fac, sev) != (SENSOR, "plainsight", o["event_type"], "local3",
                                            sev_want) or not procid.isdigit():
            hdr_bad.append((host, app, procid, msgid, fac, sev, o["exposure"]))
    t.check(not hdr_bad, "%s: header fields wrong, e.g. %s" % (label, hdr_bad[:3]))
    leaked = [o["uid"] for o in want for c in o.get("credentials", []) if c.get("secret")]
    t.check(not leaked, "%s: secrets in messages without --reveal-secrets" % label)
    return want


def check_collector_away(t, b, d):
    """A TCP collector that is not there: the run ends in bounded time with exit 0 and says
    what it dropped."""
    args = ["-q", "-r", CAPTURES[0], "-w", "none", "--key-file", os.path.join(d, "fp.key"),
            "--syslog=tcp://127.0.0.1:9"]
    start = time.time()
    rc, _, err = run(b, args)
    took = time.time() - start
    t.check(rc == 0, "collector away: exit %d: %s" % (rc, err))
    t.check(took < 10, "collector away: the run took %.1f s" % took)
    t.check("dropped" in err, "collector away: no word of dropped messages: %s" % err)


def inner(b):
    t = Tally()
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    d = tmpdir("plainsight-syslog-")
    procs = [start_rsyslog(d, "sink", SINK_CONF)]
    try:
        if not wait_listening(RELAY_PORT):
            t.check(False, "the second rsyslog did not listen: %s" %
                    open(os.path.join(d, "sink.err")).read())
            return t
        procs.append(start_rsyslog(d, "relay", RELAY_CONF))
        if not wait_listening(TCP_PORT) or not wait_listening(UDP_PORT, "udp"):
            t.check(False, "the relay rsyslog did not listen: %s" %
                    open(os.path.join(d, "relay.err")).read())
            return t
        fac = ["--syslog-facility", "local3"]
        check_mode(t, b, d, "tcp://127.0.0.1:%d" % TCP_PORT, "tcp", fac)
        check_mode(t, b, d, "udp://127.0.0.1:%d" % UDP_PORT, "udp", fac)
        check_mode(t, b, d, "unix://" + os.path.join(d, "log.sock"), "unix", fac)
        check_collector_away(t, b, d)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    return t


def check_usage(t, b):
    """-w none needs another output and a key file; a bad target is a usage error."""
    d = tmpdir("plainsight-syslog-usage-")
    one = ["-r", CAPTURES[0], "-q"]
    k = ["--key-file", os.path.join(d, "k")]
    cases = [
        (["-w", "none"] + k, "nothing to write to"),
        (["-w", "none", "--json=" + os.path.join(d, "o.json")], "--key-file"),
        (["--syslog=udp://127.0.0.1"], "not a syslog target"),
        (["--syslog=unix://relative"], "absolute path"),
        (["--syslog-facility", "local9"], "not a facility"),
        (["--syslog", "tcp://127.0.0.1:514"], "--syslog=tcp://127.0.0.1:514"),
    ]
    for args, want in cases:
        rc, _, err = run(b, one + args)
        t.check(rc == 1 and want in err, "usage %s: exit %d: %s" % (args, rc, err))
    t.check(os.listdir(d) == [], "usage errors made files: %s" % os.listdir(d))
    rc, out, err = run(b, one + ["-w", "none", "--json"] + k)
    t.check(rc == 0 and out.count("\n") > 0, "-w none --json: exit %d: %s" % (rc, err))
    t.check(sorted(os.listdir(d)) == ["k"], "-w none made %s" % os.listdir(d))


def check_contrib(t):
    """Each contrib/ configuration through its tool's own check, where the tool is here."""
    contrib = os.path.join(ROOT, "contrib")
    checks = [
        ("rsyslogd", ["rsyslogd", "-N1", "-f", os.path.join(contrib, "rsyslog-plainsight.conf")]),
        ("fluent-bit", ["fluent-bit", "-c", os.path.join(contrib, "fluent-bit.conf"),
                        "--dry-run"]),
        ("vector", ["vector", "validate", "--no-environment", os.path.join(contrib, "vector.yaml")]),
        ("filebeat", ["filebeat", "test", "config", "-c", os.path.join(contrib, "filebeat.yml")]),
    ]
    for tool, cmd in checks:
        if shutil.which(tool) is None:
            t.skip("contrib: %s is not installed: its configuration is unchecked" % tool)
            continue
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=contrib, timeout=60)
        t.check(r.returncode == 0, "contrib: %s: exit %d: %s" % (" ".join(cmd), r.returncode,
                                                                 (r.stdout + r.stderr)[-1000:]))


def main():
    b = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "--inner":
        inner(b).done()
    t = Tally()
    check_usage(t, b)
    os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    check_contrib(t)
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        t.skip("syslog into rsyslog: needs root, unshare and ip")
        t.done()
    if shutil.which("rsyslogd") is None:
        t.skip("syslog into rsyslog: rsyslogd is not installed (apt-get install rsyslog)")
        t.done()
    r = subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__),
                        os.path.abspath(b), "--inner"], capture_output=True, text=True,
                       timeout=300)
    lines = r.stdout.splitlines()
    m = re.match(r"(\d+) passed, (\d+) failed, (\d+) skipped$", lines[-1] if lines else "")
    if m is None:
        t.check(False, "the namespace's run said nothing: %s %s" % (r.stdout, r.stderr[-2000:]))
        t.done()
    for line in lines[:-1]:
        print(line)
    t.passed += int(m.group(1))
    t.failed += int(m.group(2))
    t.skipped += int(m.group(3))
    t.done()


if __name__ == "__main__":
    main()
