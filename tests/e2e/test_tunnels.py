"""Tunnels end to end: mail inside every encapsulation decode peels, the public tunnel captures
against their MANIFEST.json, and the warning of a run that could not see into its packets.

1. A real POP3 capture (captures/pop3-dovecot-user-pass.pcap; the IPv6 one for Teredo) is
   wrapped, at test time, in VXLAN, Geneve, GRE (plain, bridged, with key and sequence, over
   UDP), ERSPAN I/II/III, MPLS (IP and Ethernet pseudowires), PPPoE, PPTP, IP in IP, Teredo and
   a nested stack (tests/e2e/pcapgen.py). Each must give the same session as the plain
   capture: the same inner endpoints, user, result and secret length, and the layer counted;
   the session's tunnel column names every layer with its id and outer addresses.
2. ../shared/captures/public-tunnels (skipped with a note when absent): every capture's layer
   is counted by name, nothing in it is counted malformed, the TCP connections tshark sees
   inside (with fragments reassembled) reach the flow table, each fragment capture's
   reassembly outcome is the one the overlap policy gives, and the mail session behind Zeek's
   HTTP CONNECT proxy is found on the proxy connection.
3. Fragments: the POP3 captures with their IP packets cut into 8-byte (IPv6: 32-byte) fragments
   sent in random order with duplicates, and inside VXLAN with the inner packets fragmented and
   the outer ones fragmented again, give the plain capture's session; a flood of first
   fragments never completed stays under --memcap, is evicted and counted, and the session
   beside it is still found.
   The same captures cut by tcprewrite --fragroute (8-byte IP fragments, 1-byte TCP segments,
   both; random order) give the plain capture's session.
4. One flow, whatever the copy: the POP3 capture as a mirror of both directions of a port
   delivers it, every packet twice (once tagged VLAN 10, once in ERSPAN II with VLAN 20),
   gives one session and one credential, the second copies counted in flow.duplicates; with
   --flow-key vlan,tunnel the two copies are two sessions, as the option promises.
5. Never silently blind: a capture of fragments that never complete, all in a tunnel
   plainsight does not peel, or in VXLAN or Geneve on a port of its own (named in the warning,
   with the option that peels it), ends with one warning line naming the reason and its share; a
   plain one, one all in fragments that complete, or one with exactly half its packets blind,
   does not."""
import random
import os
import struct
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapgen  # noqa: E402
from common import ROOT, Tally, analyse, load_json, sessions, tmpdir  # noqa: E402

CAPTURES = os.path.join(ROOT, "captures")
TUNNELS = os.path.join(os.path.dirname(ROOT), "shared", "captures", "public-tunnels")

# The layer counters each public capture must show (> 0).
PUBLIC_LAYERS = {
    "erspanI.pcap": ("encap_gre", "encap_erspan1"),
    "erspanII.pcap": ("encap_gre", "encap_erspan2"),
    "erspanIII.pcap": ("encap_gre", "encap_erspan3"),
    "gre-erspan3-dot1q.pcap": ("encap_erspan3", "encap_vlan"),
    "mpls-in-vlan.pcap": ("encap_mpls", "encap_vlan"),
    "mixed-vlan-mpls.pcap": ("encap_mpls", "encap_vlan"),
    "pppoe.pcap": ("encap_pppoe",),
    "pppoe-over-qinq.pcap": ("encap_pppoe", "encap_vlan"),
    "gre-sample.pcap": ("encap_gre",),
    "gre-within-gre.pcap": ("encap_gre",),
    "gre-over-udp-4754.pcap": ("encap_gre_udp", "encap_gre"),
    "gre-pptp.pcap": ("encap_pptp", "encap_ipip", "encap_vlan"),
    "vxlan.pcap": ("encap_vxlan",),
    "geneve.pcap": ("encap_geneve",),
    "4in4.pcap": ("encap_ipip",),
    "4in6.pcap": ("encap_ipip",),
    "6in4.pcap": ("encap_ipip",),
    "6in6.pcap": ("encap_ipip",),
    "6in6in6.pcap": ("encap_ipip",),
    "Teredo.pcap": ("encap_teredo",),
    "ipv6-fragmented-dns.pcap": ("ip_fragments",),
    "ipv4-fragmented-1.pcap": ("ip_fragments",),
    "ipv4-fragmented-2.pcap": ("ip_fragments",),
    "ipv4-fragmented-3.pcap": ("ip_fragments",),
    "ipv4-fragmented-4.pcap": ("ip_fragments",),
    "ipv4-fragmented-syn.pcap": ("ip_fragments",),
    "http-connect-with-smtp.pcap": (),
}
# Captures whose connections plainsight cannot see yet, with the reason (skipped, not passed).
NOT_YET = {}
# The mail sessions inside public captures (each on a connection of its MANIFEST entry's
# tshark_tcp_syns), field: value. Zeek's connect-with-smtp trace is an SMTP session behind an
# HTTP CONNECT proxy (port 8240): a HELO client (so no STARTTLS verdict), no login, and its
# message in the clear.
PUBLIC_SESSIONS = {
    "http-connect-with-smtp.pcap": [{"protocol": "smtp", "tls": "none", "starttls": None,
                                     "exposure": "cleartext", "credentials": []}],
}
# What defrag makes of each public fragment capture (Zeek's crafted tests), counter: value. The
# overlap policy (defrag.h: drop a datagram whose fragments overlap other than exactly) drops
# fragmented-1's and -4's datagrams, which Zeek reassembles first-wins; -1 and -2 also send an
# 18-byte fragment with MF set (not a multiple of 8); -3 is cut before its last fragment.
PUBLIC_DEFRAG = {
    "ipv4-fragmented-1.pcap": {"overlaps": 1, "bad_fragments": 1, "reassembled": 0},
    "ipv4-fragmented-2.pcap": {"bad_fragments": 2, "reassembled": 0},
    "ipv4-fragmented-3.pcap": {"incomplete_at_end": 1, "reassembled": 0},
    "ipv4-fragmented-4.pcap": {"overlaps": 1, "reassembled": 0},
    "ipv4-fragmented-syn.pcap": {"reassembled": 1, "fragments_used": 2},
    "ipv6-fragmented-dns.pcap": {"reassembled": 1, "fragments_used": 3, "incomplete_at_end": 1},
}
# Counters that must stay 0 on real captures: nothing there is malformed or too deep.
MALFORMED = ("bad_link", "bad_ipv4", "bad_ipv6", "bad_tcp", "bad_mpls", "bad_pppoe", "bad_gre",
             "bad_erspan", "bad_udp", "bad_vxlan", "bad_geneve", "bad_teredo", "encap_too_deep",
             "mpls_too_deep", "vlan_too_deep")


# The session's tunnel column for each of pcapgen.TUNNELS (outer addresses pcapgen.OUTER4/6).
TUNNEL_TEXT = {
    "vxlan": "vxlan vni=4242 192.0.2.100>192.0.2.200",
    "vxlan-8472-ipv6-vlan": "vxlan vni=4242 2001:db8:ffff::1>2001:db8:ffff::2, vlan id=42",
    "geneve": "geneve vni=4242 192.0.2.100>192.0.2.200",
    "gre": "gre 192.0.2.100>192.0.2.200",
    "gre-key-seq-ipv6": "gre key=99 2001:db8:ffff::1>2001:db8:ffff::2",
    "gre-bridged": "gre 192.0.2.100>192.0.2.200",
    "gre-udp": "gre-udp 192.0.2.100>192.0.2.200, gre",
    "erspan1": "gre 192.0.2.100>192.0.2.200, erspan1",
    "erspan2": "gre 192.0.2.100>192.0.2.200, erspan2 session=7",
    "erspan2-ipv6": "gre 2001:db8:ffff::1>2001:db8:ffff::2, erspan2 session=7",
    "erspan3": "gre 192.0.2.100>192.0.2.200, erspan3 session=7, vlan id=10",
    "mpls": "mpls label=2000",
    "mpls-pw-cw": "mpls label=3000, mpls-pw",
    "mpls-pw": "mpls label=3000, mpls-pw",
    "pppoe": "pppoe session=66",
    "pppoe-qinq": "vlan id=100, vlan id=200, pppoe session=66",
    "pptp": "pptp call=66 192.0.2.100>192.0.2.200",
    "ipip": "ipip 192.0.2.100>192.0.2.200",
    "ip-in-ipv6": "ipip 2001:db8:ffff::1>2001:db8:ffff::2",
    "nested": "mpls label=77, mpls-pw, gre 192.0.2.100>192.0.2.200, erspan2 session=7, "
              "vxlan vni=4242 192.0.2.100>192.0.2.200",
    "teredo": "teredo 192.0.2.100>192.0.2.200",
}


def counters(db):
    con = sqlite3.connect(db)
    c = dict(con.execute("SELECT name, value FROM run_counters"))
    con.close()
    return c


def creds(db):
    """(client, server, [(mechanism, user, result, secret_len)]) of each session."""
    out = []
    for s in sessions(db):
        out.append(((s["client_ip"], s["client_port"]), (s["server_ip"], s["server_port"]),
                    [(c["mechanism"], c["username"], c["result"], c["secret_len"])
                     for c in s["credentials"]]))
    return out


def wrapped_mail(t, b, tmp):
    for name, kinds in (("pop3-dovecot-user-pass.pcap", [k for k in pcapgen.TUNNELS
                                                          if k != "teredo"]),
                        ("pop3-dovecot-ipv6.pcap", ["teredo", "vxlan", "gre", "ipip", "mpls",
                                                    "pppoe"])):
        plain = os.path.join(CAPTURES, name)
        rc, out, err, db = analyse(b, [plain], ["-q"], tmp=os.path.join(tmp, "plain-" + name))
        want = creds(db)
        want_tcp = counters(db)["decode.tcp"]
        t.check(rc == 0 and want and want[0][2], "%s: the plain capture has a credential" % name)
        for kind in kinds:
            counter, wrap = pcapgen.TUNNELS[kind]
            path = os.path.join(tmp, "%s-%s.pcap" % (kind, name))
            pcapgen.rewrap(plain, path, wrap)
            rc, out, err, db = analyse(b, [path], tmp=os.path.join(tmp, kind + name))
            label = "%s in %s" % (name, kind)
            c = counters(db)
            t.check(rc == 0, "%s: exit %d %s" % (label, rc, err.strip()))
            t.check(c.get("decode." + counter, 0) > 0, "%s: decode.%s = %r" %
                    (label, counter, c.get("decode." + counter)))
            t.check(c.get("decode.tcp") == want_tcp, "%s: decode.tcp %r, plain %r" %
                    (label, c.get("decode.tcp"), want_tcp))
            got = creds(db)
            t.check(got == want, "%s: sessions %r, plain %r" % (label, got, want))
            t.check("warning" not in err, "%s: warns: %r" % (label, err))
            tunnels = [s["tunnel"] for s in sessions(db)]
            t.check(tunnels == [TUNNEL_TEXT.get(kind)], "%s: tunnel %r, want %r" %
                    (label, tunnels, TUNNEL_TEXT.get(kind)))
    rc, out, err, db = analyse(b, [os.path.join(CAPTURES, "pop3-dovecot-user-pass.pcap")], ["-q"],
                               tmp=os.path.join(tmp, "plain-tunnel"))
    t.check([s["tunnel"] for s in sessions(db)] == [None], "a plain frame has no tunnel")


def span_capture(plain, path, apart_usec):
    """Writes plain with every packet twice: once tagged VLAN 10, then apart_usec later in
    ERSPAN II with VLAN 20 inside. Returns how many copies carry data or SYN/FIN/RST."""
    linktype, pkts = pcapgen.read_pcap(plain)
    records = [pcapgen.pcap_header(snaplen=262144)]
    copies = 0
    for sec, usec, data, _ in pkts:
        l3 = pcapgen.l3_of(linktype, data)
        if l3 is None:
            continue
        l3 = pcapgen.ip_trim(l3)
        first = pcapgen.eth_ip(l3, tags=((0x8100, 10),))
        second = pcapgen.eth_ip(pcapgen.ipv4(47, pcapgen.gre(
            0x88BE, pcapgen.erspan2(pcapgen.eth_ip(l3, tags=((0x8100, 20),))), seq=5)))
        for i, frame in enumerate((first, second)):
            records.append(pcapgen.record(sec + (usec + apart_usec * i) / 1e6, frame))
        ihl = (l3[0] & 15) * 4
        tcp_len = len(l3) - ihl - (l3[ihl + 12] >> 4) * 4
        if tcp_len > 0 or l3[ihl + 13] & 0x07:
            copies += 1
    with open(path, "wb") as f:
        f.write(b"".join(records))
    return copies


def span_duplicates(t, b, tmp):
    """A mirror of both directions of a port: every packet twice, 30 microseconds apart, with
    other outer layers; and a copy 50 ms later, which is a retransmission, not a duplicate."""
    name = "pop3-dovecot-user-pass.pcap"
    plain = os.path.join(CAPTURES, name)
    rc, out, err, db = analyse(b, [plain], ["-q"], tmp=os.path.join(tmp, "span-plain"))
    want = creds(db)
    want_tcp = counters(db)["decode.tcp"]
    path = os.path.join(tmp, "span-" + name)
    copies = span_capture(plain, path, 30)

    rc, out, err, db = analyse(b, [path], ["-q"], tmp=os.path.join(tmp, "span-default"))
    c = counters(db)
    got = sessions(db)
    t.check(rc == 0 and creds(db) == want, "span: one session as plain: %r, want %r" %
            (creds(db), want))
    t.check(c.get("decode.tcp") == 2 * want_tcp, "span: decode.tcp %r, want %r" %
            (c.get("decode.tcp"), 2 * want_tcp))
    # The copy of the second FIN finds the flow closed: a late packet, not a duplicate.
    t.check(c.get("flow.duplicates") == copies - 1, "span: flow.duplicates %r, want %r" %
            (c.get("flow.duplicates"), copies - 1))
    t.check(c.get("flow.late_packets", 0) >= 1, "span: the last copies are late packets")
    t.check([s["tunnel"] for s in got] == ["vlan id=10"], "span: the first copy's layers: %r" %
            [s["tunnel"] for s in got])
    t.check(c.get("reasm.retrans_segs", 0) == 0, "span: no copy reached reassembly: %r" %
            c.get("reasm.retrans_segs"))

    rc, out, err, db = analyse(b, [path], ["-q", "--flow-key", "vlan,tunnel"],
                               tmp=os.path.join(tmp, "span-keyed"))
    got = sessions(db)
    t.check(rc == 0 and creds(db) == want * 2, "span, --flow-key vlan,tunnel: two sessions: %r" %
            creds(db))
    t.check(sorted(s["tunnel"] for s in got) ==
            ["gre 192.0.2.100>192.0.2.200, erspan2 session=7, vlan id=20", "vlan id=10"],
            "span, keyed: each copy's layers: %r" % [s["tunnel"] for s in got])
    t.check(counters(db).get("flow.duplicates") == 0, "span, keyed: no duplicates counted")
    for key in ("vlan", "tunnel"):
        rc, out, err, db = analyse(b, [path], ["-q", "--flow-key", key],
                                   tmp=os.path.join(tmp, "span-" + key))
        t.check(rc == 0 and len(sessions(db)) == 2, "span, --flow-key %s: two sessions" % key)
    late = os.path.join(tmp, "span-late-" + name)
    span_capture(plain, late, 50000)
    rc, out, err, db = analyse(b, [late], ["-q"], tmp=os.path.join(tmp, "span-late"))
    c = counters(db)
    t.check(rc == 0 and creds(db) == want, "span 50 ms apart: one session: %r" % creds(db))
    t.check(c.get("flow.duplicates") == 0 and c.get("reasm.retrans_segs", 0) > 0,
            "span 50 ms apart: retransmissions, not duplicates: %r %r" %
            (c.get("flow.duplicates"), c.get("reasm.retrans_segs")))
    rc, out, err, db = analyse(b, [path], ["-q", "--flow-key", "vlan,bogus"],
                               tmp=os.path.join(tmp, "span-bogus"))
    t.check(rc == 1 and "--flow-key" in err, "span: --flow-key vlan,bogus is a usage error: "
            "%d %r" % (rc, err))


def public_tunnels(t, b, tmp):
    mpath = os.path.join(TUNNELS, "MANIFEST.json")
    if not os.path.exists(mpath):
        t.skip("public tunnel captures: ../shared/captures/public-tunnels is absent")
        return
    for entry in load_json(mpath):
        name = entry["file"]
        if not t.check(name in PUBLIC_LAYERS, "%s: not in PUBLIC_LAYERS of this test" % name):
            continue
        rc, out, err, db = analyse(b, [os.path.join(TUNNELS, name)], ["-q"],
                                   tmp=os.path.join(tmp, "pub-" + name))
        if not t.check(rc == 0, "%s: exit %d %s" % (name, rc, err.strip())):
            continue
        c = counters(db)
        for layer in PUBLIC_LAYERS[name]:
            t.check(c.get("decode." + layer, 0) > 0, "%s: decode.%s = %r" %
                    (name, layer, c.get("decode." + layer)))
        for bad in MALFORMED:
            t.check(c.get("decode." + bad, 0) == 0, "%s: decode.%s = %r" %
                    (name, bad, c.get("decode." + bad)))
        for field, want in PUBLIC_DEFRAG.get(name, {}).items():
            t.check(c.get("defrag." + field) == want, "%s: defrag.%s = %r, want %r" %
                    (name, field, c.get("defrag." + field), want))
        syns = entry.get("tshark_tcp_syns", [])
        want_sessions = PUBLIC_SESSIONS.get(name)
        if want_sessions is not None:
            ends = [("%s:%d" % (s["client_ip"], s["client_port"]),
                     "%s:%d" % (s["server_ip"], s["server_port"])) for s in sessions(db)]
            got = [{k: s[k] for k in want_sessions[0]} for s in sessions(db)]
            t.check(got == want_sessions, "%s: sessions %r, want %r" % (name, got, want_sessions))
            t.check(ends == [(x["client"], x["server"]) for x in syns[:len(ends)]],
                    "%s: sessions on %r, MANIFEST's connections %r" % (name, ends, syns))
        why = NOT_YET.get(name)
        if why is not None:
            t.skip("%s: %s" % (name, why))
        elif syns:
            t.check(c.get("decode.tcp", 0) > 0 and c.get("flow.created", 0) >= len(syns),
                    "%s: %d TCP connections inside, flow.created %r" %
                    (name, len(syns), c.get("flow.created")))


def fragment(l3, ident, size=None):
    """An IPv4 or IPv6 packet (no extension headers) as fragments of size data bytes (a
    multiple of 8), in order; by default two: the first 8-byte aligned half, then the rest. A
    packet that fits in one piece is left whole."""
    hlen = (l3[0] & 15) * 4 if l3[0] >> 4 == 4 else 40
    body = l3[hlen:]
    if size is None:
        size = max(8, (len(body) // 2) & ~7)
    out = []
    if len(body) <= size:
        return [l3]
    for off in range(0, len(body), size):
        part = body[off:off + size]
        more = off + size < len(body)
        hdr = bytearray(l3[:hlen])
        if l3[0] >> 4 == 4:
            struct.pack_into(">HHH", hdr, 2, hlen + len(part), ident & 0xffff,
                             (0x2000 if more else 0) | off // 8)
            out.append(bytes(hdr) + part)
        else:
            nxt = hdr[6]
            hdr[6] = 44
            struct.pack_into(">H", hdr, 4, 8 + len(part))
            out.append(bytes(hdr) + struct.pack(">BBHI", nxt, 0, off | (1 if more else 0),
                                                ident) + part)
    return out


def shuffled(frags, rng, dups):
    """frags in a random order with dups of them sent twice."""
    out = list(frags) + [rng.choice(frags) for _ in range(dups)]
    rng.shuffle(out)
    return out


def write_frames(path, frames):
    with open(path, "wb") as f:
        f.write(pcapgen.pcap_header(snaplen=262144))
        for i, fr in enumerate(frames):
            f.write(pcapgen.record(1700000000 + i * 0.001, fr))


def l3s_of(name):
    linktype, pkts = pcapgen.read_pcap(os.path.join(CAPTURES, name))
    return [pcapgen.ip_trim(pcapgen.l3_of(linktype, d)) for _, _, d, _ in pkts]


def fragmented_mail(t, b, tmp):
    rng = random.Random(11)
    for name, size in (("pop3-dovecot-user-pass.pcap", 8), ("pop3-dovecot-ipv6.pcap", 32)):
        plain = os.path.join(CAPTURES, name)
        rc, out, err, db = analyse(b, [plain], ["-q"], tmp=os.path.join(tmp, "fplain-" + name))
        want = creds(db)
        want_tcp = counters(db)["decode.tcp"]
        l3s = l3s_of(name)
        dups = 0
        n_cut = 0
        frames = []
        for i, l3 in enumerate(l3s):
            frags = fragment(l3, 1000 + i, size)
            n = rng.randrange(3) if len(frags) > 1 else 0
            dups += n
            n_cut += len(frags) > 1
            frames += [pcapgen.eth_ip(f) for f in shuffled(frags, rng, n)]
        path = os.path.join(tmp, "frag-" + name)
        write_frames(path, frames)
        rc, out, err, db = analyse(b, [path], tmp=os.path.join(tmp, "fragrun-" + name))
        c = counters(db)
        label = "%s in %d-byte fragments, shuffled, %d duplicates" % (name, size, dups)
        t.check(rc == 0 and creds(db) == want and want and want[0][2],
                "%s: sessions %r, plain %r" % (label, creds(db), want))
        t.check(n_cut > len(l3s) // 2 and c.get("defrag.reassembled") == n_cut and
                c.get("decode.tcp") == want_tcp and c.get("defrag.duplicates") == dups and
                c.get("defrag.fragments_used") == c.get("decode.ip_fragments") and
                c.get("defrag.tiny_first", 0) == (n_cut if size < 20 else 0),
                "%s: counters %r" % (label, {k: v for k, v in c.items() if v and "frag" in k}))
        t.check("warning" not in err, "%s: warns: %r" % (label, err))

    # Inside VXLAN: the inner packets cut into 16-byte fragments, each wrapped, and the outer
    # packets (IPv4, UDP 4789) cut again into 24-byte fragments, all shuffled per packet.
    name = "pop3-dovecot-user-pass.pcap"
    rc, out, err, db = analyse(b, [os.path.join(CAPTURES, name)], ["-q"],
                               tmp=os.path.join(tmp, "vx-plain"))
    want = creds(db)
    frames = []
    ident = 5000
    for i, l3 in enumerate(l3s_of(name)):
        outer = []
        for inner in fragment(l3, 2000 + i, 16):
            ident += 1
            outer += fragment(pcapgen.ipv4(17, pcapgen.udp(49152, 4789, pcapgen.vxlan(
                pcapgen.eth_ip(inner)))), ident, 24)
        frames += [pcapgen.eth_ip(f) for f in shuffled(outer, rng, 1)]
    path = os.path.join(tmp, "frag-vxlan.pcap")
    write_frames(path, frames)
    rc, out, err, db = analyse(b, [path], tmp=os.path.join(tmp, "frag-vxlan"))
    c = counters(db)
    t.check(rc == 0 and creds(db) == want, "VXLAN, both layers fragmented: sessions %r, plain %r"
            % (creds(db), want))
    t.check(c.get("decode.encap_vxlan", 0) > 0 and
            c.get("defrag.fragments_used") == c.get("decode.ip_fragments") and
            c.get("decode.tcp") == len(l3s_of(name)),
            "VXLAN, both layers fragmented: %r" % {k: v for k, v in c.items() if v and
                                                    ("frag" in k or "vxlan" in k)})
    t.check("warning" not in err, "VXLAN, both layers fragmented: warns: %r" % err)

    # A flood of first fragments never completed, from many sources, between the session's
    # packets (each cut into fragments, which come together as a host sends them): the smallest
    # --memcap holds, the oldest are evicted and counted, and the session is found.
    frames = []
    n_flood = 0
    for i, l3 in enumerate(l3s_of(name)):
        frames += [pcapgen.eth_ip(f) for f in shuffled(fragment(l3, 3000 + i, 8), rng, 0)]
        for _ in range(400):
            n_flood += 1
            src = struct.pack(">I", 0x0a000000 + n_flood)
            junk = pcapgen.ipv4(6, b"\0" * 1200, addrs=(src, bytes([192, 0, 2, 9])),
                                ident=n_flood & 0xffff)
            frames.append(pcapgen.eth_ip(fragment(junk, n_flood, 1024)[0]))
    path = os.path.join(tmp, "frag-flood.pcap")
    write_frames(path, frames)
    memcap = 1 << 20
    rc, out, err, db = analyse(b, [path], ["-q", "--memcap", str(memcap)],
                               tmp=os.path.join(tmp, "frag-flood"))
    c = counters(db)
    t.check(rc == 0 and creds(db) == want, "fragment flood: sessions %r, plain %r" %
            (creds(db), want))
    t.check(c.get("defrag.evicted", 0) > n_flood // 2 and
            0 < c.get("defrag.mem_used_max", 0) <= memcap // 8 and
            c.get("flow.mem_used_max", 0) <= memcap,
            "fragment flood of %d: %r" % (n_flood, {k: v for k, v in c.items() if v and
                                                   ("frag" in k or "mem" in k)}))


# tcprewrite --fragroute rules (tcpreplay's fragroute engine), as the issue names them.
FRAGROUTE = {
    "ip_frag 8, random order": "ip_frag 8\norder random\n",
    "tcp_seg 1, random order": "tcp_seg 1\norder random\n",
    "tcp_seg 4, ip_frag 8, random order": "tcp_seg 4\nip_frag 8\norder random\n",
}


def fragroute(t, b, tmp):
    """Real captures cut by another tool: tcprewrite's fragroute into 8-byte IP fragments,
    1-byte TCP segments, or both, each in random order; the session must be the plain one."""
    import shutil
    import subprocess
    if shutil.which("tcprewrite") is None:
        t.skip("fragroute: tcprewrite (package tcpreplay) is not installed")
        return
    for name in ("pop3-dovecot-user-pass.pcap", "imap-dovecot-login-literal.pcap",
                 "smtp-postfix-auth-plain.pcap"):
        plain = os.path.join(CAPTURES, name)
        rc, out, err, db = analyse(b, [plain], ["-q"], tmp=os.path.join(tmp, "fr-plain"))
        want = creds(db)
        for label, rules in FRAGROUTE.items():
            conf = os.path.join(tmp, "fragroute.conf")
            with open(conf, "w") as f:
                f.write(rules)
            path = os.path.join(tmp, "fragroute-" + name)
            # tcp_seg makes new IP packets with random identifications: two of them may share
            # one and, in random order, interleave their fragments, which no receiver can
            # untangle (the overlap drops both). Each draw is a new capture; a rule passes when
            # one of three gives the session, and fails when all three do not.
            tries = 3 if ("tcp_seg" in rules and "ip_frag" in rules) else 1
            results = []
            for _ in range(tries):
                r = subprocess.run(["tcprewrite", "--fragroute=" + conf, "-i", plain, "-o",
                                    path], capture_output=True, timeout=60)
                if r.returncode != 0:
                    results.append(("tcprewrite failed", r.stderr))
                    continue
                rc, out, err, db = analyse(b, [path], ["-q"], tmp=os.path.join(tmp, "fr"))
                c = counters(db)
                results.append(creds(db))
                if rc == 0 and creds(db) == want:
                    break
            t.check(results[-1] == want, "%s, %s: %r, want %r" % (name, label, results, want))
            if "ip_frag" in rules:
                t.check(c.get("decode.ip_fragments", 0) > 0 and
                        c.get("defrag.reassembled", 0) > 0 and "warning" not in err,
                        "%s, %s: fragments reassembled: %r %r" %
                        (name, label, c.get("defrag.reassembled"), err))


def blind(t, b, tmp):
    l3s = l3s_of("pop3-dovecot-user-pass.pcap")

    # All in fragments that complete: seen into, no warning.
    whole = []
    for i, l3 in enumerate(l3s):
        whole += [pcapgen.eth_ip(f) for f in fragment(l3, 100 + i)]
    path = os.path.join(tmp, "fragments.pcap")
    write_frames(path, whole)
    rc, out, err, db = analyse(b, [path], ["-q"], tmp=os.path.join(tmp, "fragok"))
    t.check(rc == 0 and "warning" not in err, "all fragments, completed: %r" % err)

    # First fragments only: never completed, blind.
    frags = [pcapgen.eth_ip(fragment(l3, 100 + i)[0]) for i, l3 in enumerate(l3s)]
    path = os.path.join(tmp, "fragments-first.pcap")
    write_frames(path, frags)
    for extra in ([], ["-q"]):
        rc, out, err, db = analyse(b, [path], extra, tmp=os.path.join(tmp, "frag"))
        lines = [x for x in err.splitlines() if "warning:" in x]
        t.check(rc == 0 and lines == ["plainsight: warning: 100% of packets were IP fragments "
                                      "never reassembled (incomplete, dropped or evicted; see "
                                      "defrag.* in run_counters)"],
                "first fragments only %s: exit %d, %r" % (" ".join(extra), rc, err))

    # UDP to VXLAN-GPE's port (4790): a tunnel plainsight recognises and does not peel.
    gpe = [pcapgen.eth_ip(pcapgen.ipv4(17, pcapgen.udp(49152, 4790, b"\x0c\0\0\x01" +
                                                        b"\0\0\x2a\0" + l3))) for l3 in l3s]
    path = os.path.join(tmp, "gpe.pcap")
    write_frames(path, gpe)
    rc, out, err, db = analyse(b, [path], ["-q"], tmp=os.path.join(tmp, "gpe"))
    t.check("warning: 100% of packets were in tunnels plainsight does not peel" in err,
            "VXLAN-GPE: %r" % err)

    # Exactly half blind (RUN_BLIND_WARN_PERCENT is "more than half"): no warning; one more
    # fragment: the warning, with the share of the top reason and of all of them.
    half = [pcapgen.eth_ip(l3) for l3 in l3s] + gpe[:len(l3s) // 2] + frags[:len(l3s) -
                                                                            len(l3s) // 2]
    more = [pcapgen.eth_ip(fragment(l3, 900 + i)[0]) for i, l3 in enumerate(l3s[:2])]
    path = os.path.join(tmp, "half.pcap")
    write_frames(path, half)
    rc, out, err, db = analyse(b, [path], ["-q"], tmp=os.path.join(tmp, "half"))
    t.check(rc == 0 and "warning" not in err, "half blind: no warning: %r" % err)
    write_frames(path, half + more)
    rc, out, err, db = analyse(b, [path], ["-q"], tmp=os.path.join(tmp, "half"))
    t.check("were IP fragments never reassembled" in err and "in all" not in err and
            "see decode.* in run_counters" in err, "just over half blind: %r" % err)

    plain = os.path.join(CAPTURES, "pop3-dovecot-user-pass.pcap")
    rc, out, err, db = analyse(b, [plain], tmp=os.path.join(tmp, "plainrun"))
    t.check(rc == 0 and "warning" not in err, "plain capture: no warning: %r" % err)
    rc, out, err, db = analyse(b, [plain], ["-q"], tmp=os.path.join(tmp, "plain-tunnel-port"))
    want = creds(db)

    # A tunnel on a port of its own: the warning names the port and the option; the option
    # peels it (and ports not given still warn).
    for kind, port, wrap in (
            ("VXLAN", 4792, lambda l3: pcapgen.udp(49152, 4792, pcapgen.vxlan(pcapgen.eth_ip(l3)))),
            ("Geneve", 6090, lambda l3: pcapgen.udp(49152, 6090, pcapgen.geneve(
                0x6558, pcapgen.eth_ip(l3), options=b"\x01\x02\x03\x01" + b"\0" * 4)))):
        path = os.path.join(tmp, "%s-%d.pcap" % (kind, port))
        pcapgen.rewrap(plain, path, lambda l3: pcapgen.eth_ip(pcapgen.ipv4(17, wrap(l3))))
        opt = "--%s-port" % kind.lower()
        rc, out, err, db = analyse(b, [path], ["-q"], tmp=os.path.join(tmp, "port-" + kind))
        t.check(("warning: 100%% of packets were UDP to port %d that looks like %s (is it %s on "
                 "another port? see %s)" % (port, kind, kind, opt)) in err and creds(db) == [],
                "%s on %d: the warning names it: %r" % (kind, port, err))
        t.check(counters(db).get("decode.udp_tunnel_like", 0) > 0, "%s on %d: counted" %
                (kind, port))
        rc, out, err, db = analyse(b, [path], ["-q", opt, "1", opt, str(port)],
                                   tmp=os.path.join(tmp, "port-" + kind))
        t.check(rc == 0 and "warning" not in err and creds(db) == want,
                "%s on %d with %s: the session: %r %r" % (kind, port, opt, creds(db), err))
        rc, out, err, db = analyse(b, [path], ["-q", opt, "70000"],
                                   tmp=os.path.join(tmp, "port-" + kind))
        t.check(rc == 1 and opt in err, "%s 70000: a usage error: %r" % (opt, err))


def main():
    t = Tally()
    b = sys.argv[1]
    tmp = tmpdir("plainsight-tunnels-")
    wrapped_mail(t, b, tmp)
    public_tunnels(t, b, tmp)
    span_duplicates(t, b, tmp)
    fragmented_mail(t, b, tmp)
    fragroute(t, b, tmp)
    blind(t, b, tmp)
    t.done()


main()
