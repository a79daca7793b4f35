"""Writes small classic pcap files of crafted TCP sessions, for tests that need traffic no
real client sends: hostile names, endless lines, huge literals, broken files.

Checksums are left zero: plainsight does not check them (captures taken on the sending host
carry blank ones)."""
import struct

LINKTYPE_ETHERNET = 1


def pcap_header(snaplen=65535, linktype=LINKTYPE_ETHERNET):
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)


def record(ts, frame, caplen=None, origlen=None):
    caplen = len(frame) if caplen is None else caplen
    origlen = len(frame) if origlen is None else origlen
    sec = int(ts)
    usec = int(round((ts - sec) * 1e6))
    return struct.pack("<IIII", sec, usec, caplen, origlen) + frame[:caplen]


def tcp_frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    """An Ethernet + IPv4 + TCP frame. src/dst are dotted quads, flags a string of S A F R P."""
    bits = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}
    fl = 0
    for c in flags:
        fl |= bits[c]
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, fl, 65535, 0, 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                     bytes(int(x) for x in src.split(".")),
                     bytes(int(x) for x in dst.split(".")))
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + tcp


class Session:
    """A TCP session between a client and a server, built turn by turn."""

    def __init__(self, client=("10.0.0.1", 40000), server=("10.0.0.2", 110), ts=1700000000.0,
                 mss=1400):
        self.c, self.s = client, server
        self.cseq, self.sseq = 1000, 5000
        self.ts = ts
        self.mss = mss
        self.frames = []
        self._pkt(True, "S", b"")
        self.cseq += 1
        self._pkt(False, "SA", b"")
        self.sseq += 1
        self._pkt(True, "A", b"")

    def _pkt(self, from_client, flags, payload):
        self.ts += 0.001
        if from_client:
            f = tcp_frame(self.c[0], self.s[0], self.c[1], self.s[1], self.cseq, self.sseq,
                          flags, payload)
        else:
            f = tcp_frame(self.s[0], self.c[0], self.s[1], self.c[1], self.sseq, self.cseq,
                          flags, payload)
        self.frames.append((self.ts, f))

    def send(self, from_client, data):
        """Sends data in segments of at most mss bytes."""
        for i in range(0, len(data), self.mss):
            chunk = data[i:i + self.mss]
            self._pkt(from_client, "PA", chunk)
            if from_client:
                self.cseq += len(chunk)
            else:
                self.sseq += len(chunk)

    def client(self, data):
        self.send(True, data)

    def server(self, data):
        self.send(False, data)

    def close(self):
        self._pkt(True, "FA", b"")
        self.cseq += 1
        self._pkt(False, "FA", b"")
        self.sseq += 1
        self._pkt(True, "A", b"")

    def records(self):
        return [record(ts, f) for ts, f in self.frames]


def write(path, sessions, snaplen=65535):
    recs = []
    for s in sessions:
        recs.extend(s.records())
    with open(path, "wb") as f:
        f.write(pcap_header(snaplen))
        f.write(b"".join(recs))


# ---- tunnels: an IP packet wrapped the way mirror feeds and carriers deliver it ----
#
# Each wrapper takes one IPv4 or IPv6 packet (l3, exactly its own length) and returns an
# Ethernet frame that carries it inside the named encapsulation. Outer addresses are
# documentation addresses distinct from any capture's, so a session keyed by them would show.

OUTER4 = (bytes([192, 0, 2, 100]), bytes([192, 0, 2, 200]))
OUTER6 = (bytes.fromhex("20010db8ffff00000000000000000001"),
          bytes.fromhex("20010db8ffff00000000000000000002"))
MAC_A = b"\x02\x00\x00\x00\x00\x0a"
MAC_B = b"\x02\x00\x00\x00\x00\x0b"
MAC_LOCAL = b"\xa2\x00\x00\x00\x00\x0c"  # first nibble not 0, 4 or 6: a pseudowire without CW


def ip_version(l3):
    return l3[0] >> 4


def ip_trim(l3):
    """l3 cut to the length its header claims (a captured frame may carry padding)."""
    if ip_version(l3) == 4:
        n = struct.unpack(">H", l3[2:4])[0]
    else:
        n = 40 + struct.unpack(">H", l3[4:6])[0]
    return l3[:n] if 0 < n <= len(l3) else l3


def ethertype_of(l3):
    return 0x0800 if ip_version(l3) == 4 else 0x86DD


def eth(etype, payload, dst=MAC_A, src=MAC_B, tags=()):
    """An Ethernet frame; tags are (tpid, tci) pairs, outermost first."""
    out = dst + src
    for tpid, tci in tags:
        out += struct.pack(">HH", tpid, tci)
    return out + struct.pack(">H", etype) + payload


def eth_ip(l3, **kw):
    return eth(ethertype_of(l3), l3, **kw)


def ipv4(proto, payload, addrs=OUTER4, ident=0x4242):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                       addrs[0], addrs[1]) + payload


def ipv6(nxt, payload, addrs=OUTER6):
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), nxt, 64, addrs[0],
                       addrs[1]) + payload


def outer_ip(proto, payload, v6=False):
    return ipv6(proto, payload) if v6 else ipv4(proto, payload)


def udp(sport, dport, payload):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def gre(ptype, payload, flags=0, key=None, seq=None, csum=False):
    opt = b""
    if csum:
        flags |= 0x8000
        opt += b"\0\0\0\0"
    if key is not None:
        flags |= 0x2000
        opt += struct.pack(">I", key)
    if seq is not None:
        flags |= 0x1000
        opt += struct.pack(">I", seq)
    return struct.pack(">HH", flags, ptype) + opt + payload


def mpls(labels, payload):
    out = b""
    for i, label in enumerate(labels):
        bottom = 0x100 if i == len(labels) - 1 else 0
        out += struct.pack(">I", label << 12 | bottom | 64)
    return out + payload


def ppp_proto(l3):
    return 0x0021 if ip_version(l3) == 4 else 0x0057


def pppoe(l3, session=0x0042):
    ppp = struct.pack(">H", ppp_proto(l3)) + l3
    return struct.pack(">BBHH", 0x11, 0, session, len(ppp)) + ppp


def vxlan(frame, vni=4242):
    return struct.pack(">BBHI", 0x08, 0, 0, vni << 8) + frame


def geneve(ptype, payload, vni=4242, options=b""):
    assert len(options) % 4 == 0
    return struct.pack(">BBHI", len(options) // 4, 0, ptype, vni << 8) + options + payload


def erspan2(frame, session=7, index=0x1234):
    return struct.pack(">HHI", 1 << 12 | 100, session & 0x3FF, index) + frame


def erspan3(frame, session=7, platform=True):
    hdr = struct.pack(">HHII", 2 << 12 | 100, session & 0x3FF, 0x12345678, 1 if platform else 0)
    if platform:
        hdr += struct.pack(">II", 0x0C000003, 0x15F742E8)
    return hdr + frame


def pptp(l3, call_id=0x0042, seq=1):
    ppp = b"\xff\x03" + struct.pack(">H", ppp_proto(l3)) + l3
    return struct.pack(">HHHHI", 0x3001, 0x880B, len(ppp), call_id, seq) + ppp


def teredo(l3, sport=3544, dport=40000):
    origin = b"\x00\x00" + struct.pack(">H", 0xFFFF ^ 40000) + bytes(b ^ 0xFF for b in OUTER4[0])
    return udp(sport, dport, origin + l3)


def _vxlan(l3):
    return eth_ip(ipv4(17, udp(49152, 4789, vxlan(eth_ip(l3)))))


def _vxlan_8472_ipv6_vlan(l3):
    return eth_ip(ipv6(17, udp(49152, 8472, vxlan(eth_ip(l3, tags=((0x8100, 42),))))))


def _geneve(l3):
    opts = b"\x01\x02\x03\x01" + b"\0" * 4  # one option of 4 bytes of data
    return eth_ip(ipv4(17, udp(49152, 6081, geneve(0x6558, eth_ip(l3), options=opts))))


def _gre(l3):
    return eth_ip(ipv4(47, gre(ethertype_of(l3), l3)))


def _gre_key_seq_ipv6(l3):
    return eth_ip(ipv6(47, gre(ethertype_of(l3), l3, key=99, seq=1, csum=True)))


def _gre_bridged(l3):
    return eth_ip(ipv4(47, gre(0x6558, eth_ip(l3))))


def _gre_udp(l3):
    return eth_ip(ipv4(17, udp(49152, 4754, gre(ethertype_of(l3), l3))))


def _erspan1(l3):
    return eth_ip(ipv4(47, gre(0x88BE, eth_ip(l3))))


def _erspan2(l3):
    return eth_ip(ipv4(47, gre(0x88BE, erspan2(eth_ip(l3)), seq=5)))


def _erspan2_ipv6(l3):
    return eth_ip(ipv6(47, gre(0x88BE, erspan2(eth_ip(l3)), seq=5)))


def _erspan3(l3):
    return eth_ip(ipv4(47, gre(0x22EB, erspan3(eth_ip(l3, tags=((0x8100, 10),))), seq=5)))


def _mpls(l3):
    return eth(0x8847, mpls((1000, 2000), l3))


def _mpls_pw_cw(l3):
    return eth(0x8847, mpls((3000,), b"\0\0\0\x01" + eth_ip(l3)))


def _mpls_pw(l3):
    return eth(0x8847, mpls((3000,), eth_ip(l3, dst=MAC_LOCAL)))


def _pppoe(l3):
    return eth(0x8864, pppoe(l3))


def _pppoe_qinq(l3):
    return eth(0x8864, pppoe(l3), tags=((0x88A8, 100), (0x8100, 200)))


def _pptp(l3):
    return eth_ip(ipv4(47, pptp(l3)))


def _ipip(l3):
    return eth_ip(ipv4(4 if ip_version(l3) == 4 else 41, l3))


def _ip_in_ipv6(l3):
    return eth_ip(ipv6(4 if ip_version(l3) == 4 else 41, l3))


def _nested(l3):
    """VXLAN in ERSPAN II in GRE in an MPLS pseudowire with a control word: 5 layers."""
    inner = eth_ip(ipv4(17, udp(49152, 4789, vxlan(eth_ip(l3)))))
    return eth(0x8847, mpls((77,), b"\0\0\0\0" + eth_ip(ipv4(47, gre(0x88BE, erspan2(inner),
                                                                       seq=9)))))


def _teredo(l3):
    return eth_ip(ipv4(17, teredo(l3)))


# name -> (the decode.* counter that must count the layer, wrapper from l3 to a frame). Teredo
# carries IPv6 only.
TUNNELS = {
    "vxlan": ("encap_vxlan", _vxlan),
    "vxlan-8472-ipv6-vlan": ("encap_vxlan", _vxlan_8472_ipv6_vlan),
    "geneve": ("encap_geneve", _geneve),
    "gre": ("encap_gre", _gre),
    "gre-key-seq-ipv6": ("encap_gre", _gre_key_seq_ipv6),
    "gre-bridged": ("encap_gre", _gre_bridged),
    "gre-udp": ("encap_gre_udp", _gre_udp),
    "erspan1": ("encap_erspan1", _erspan1),
    "erspan2": ("encap_erspan2", _erspan2),
    "erspan2-ipv6": ("encap_erspan2", _erspan2_ipv6),
    "erspan3": ("encap_erspan3", _erspan3),
    "mpls": ("encap_mpls", _mpls),
    "mpls-pw-cw": ("encap_mpls_pw", _mpls_pw_cw),
    "mpls-pw": ("encap_mpls_pw", _mpls_pw),
    "pppoe": ("encap_pppoe", _pppoe),
    "pppoe-qinq": ("encap_pppoe", _pppoe_qinq),
    "pptp": ("encap_pptp", _pptp),
    "ipip": ("encap_ipip", _ipip),
    "ip-in-ipv6": ("encap_ipip", _ip_in_ipv6),
    "nested": ("encap_vxlan", _nested),
    "teredo": ("encap_teredo", _teredo),
}


def read_pcap(path):
    """(linktype, [(ts_sec, ts_usec, data, wirelen)]) of a classic pcap file."""
    with open(path, "rb") as f:
        raw = f.read()
    e = "<" if raw[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(e + "I", raw[20:24])[0] & 0x0FFFFFFF
    pkts = []
    off = 24
    while off + 16 <= len(raw):
        sec, usec, incl, orig = struct.unpack(e + "IIII", raw[off:off + 16])
        pkts.append((sec, usec, raw[off + 16:off + 16 + incl], orig))
        off += 16 + incl
    return linktype, pkts


def l3_of(linktype, data):
    """The IP packet of an Ethernet (VLAN-tagged too), SLL, SLL2 or raw frame, or None."""
    if linktype == 1:
        off, etype = 14, struct.unpack(">H", data[12:14])[0]
        while etype in (0x8100, 0x88A8):
            etype = struct.unpack(">H", data[off + 2:off + 4])[0]
            off += 4
        return data[off:] if etype in (0x0800, 0x86DD) else None
    if linktype == 276:
        return data[20:] if data[0:2] in (b"\x08\x00", b"\x86\xdd") else None
    if linktype == 113:
        return data[16:] if data[14:16] in (b"\x08\x00", b"\x86\xdd") else None
    if linktype in (101, 228, 229):
        return data
    return None


def rewrap(src, dst, wrap):
    """Copies the classic pcap src to dst (Ethernet) with each IP packet's frame replaced by
    wrap(l3); packets that are not IP are left out."""
    linktype, pkts = read_pcap(src)
    out = [pcap_header(snaplen=262144)]
    for sec, usec, data, _ in pkts:
        l3 = l3_of(linktype, data)
        if l3 is None:
            continue
        frame = wrap(ip_trim(l3))
        out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    with open(dst, "wb") as f:
        f.write(b"".join(out))
