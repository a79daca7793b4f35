#!/usr/bin/env python3
"""make-seeds.py - writes the libFuzzer seed corpora in tests/fuzz/seeds/<target>/.

Run from the repository root (or through "make fuzz-seeds"); python3 standard library only.
Seeds come from the project's captures (captures/*.pcap) where the target reads what a capture
holds, and are built by hand from the RFCs' examples where it does not:

  fuzz_capture   the captures as they are (all POP3, some SMTP and IMAP), one as pcapng, one cut
                 short in its last record, and the POP3 ones interleaved into one file
  fuzz_decode    a few packets of each capture, re-framed for every link type decode knows
                 (raw IP, NULL, LOOP, SLL, SLL2, VLAN and QinQ Ethernet), and a data packet
                 inside every tunnel decode peels (tests/e2e/pcapgen.py's wrappers)
  fuzz_defrag    scripts by hand: IPv4 and IPv6 datagrams in order, reversed, shuffled with
                 duplicates, with options, an overlap, an offset past 65535, a small share
  fuzz_reasm     the POP3 captures' TCP segments as segment scripts, in order, reordered, with
                 a retransmission and with a segment missing, plus synthetic-payload versions;
                 two SMTP and two IMAP captures in order
  fuzz_pop3      each POP3 capture's dialogue as client/server records (implicit TLS on 995),
                 and RFC 1939 examples
  fuzz_smtp      each SMTP capture's dialogue, and dialogues built by hand: EHLO, AUTH of each
                 kind, STARTTLS, pipelining, DATA and BDAT bodies holding command-like lines
  fuzz_socks     the SOCKS5 captures' dialogues, and SOCKS5 handshakes (no auth,
                 username/password, pipelined, refused) in front of the hand-made SMTP
                 dialogues and a POP3 login
  fuzz_httpconnect  HTTP CONNECT requests and answers (Basic login, 407 and a retry, 100,
                 IPv6, pipelined TLS, refused, port 80) in front of the hand-made SMTP
                 dialogues, POP3 and IMAP logins
  fuzz_http      each HTTP capture's dialogue, and requests and answers built by hand: Basic,
                 Bearer, Digest and NTLM logins, pipelining, chunked and counted bodies with
                 request-shaped text, 100 Continue, HEAD, 304, a body to the close, obs-fold,
                 CONNECT to a mail port, an Upgrade
  fuzz_imap      each IMAP capture's dialogue, and dialogues built by hand: LOGIN with atoms,
                 quoted strings and literals, AUTHENTICATE with and without SASL-IR, STARTTLS,
                 APPEND and FETCH literals
  fuzz_managesieve  each ManageSieve capture's dialogue, and dialogues built by hand:
                 AUTHENTICATE with quoted and literal strings, challenges as literals, "*",
                 STARTTLS, PUTSCRIPT and GETSCRIPT literals holding command-like text
  fuzz_ftp       each FTP capture's control connection, and dialogues built by hand: RFC 959's
                 multi-line reply, 332 and ACCT, pipelining, FEAT, AUTH TLS used, refused and
                 with commands pipelined after it, anonymous, HELP and STAT text, ABOR after IAC
  fuzz_ldap      each LDAP capture's session, and BER messages built by hand: simple, anonymous
                 and SASL binds (PLAIN, CRAM-MD5 with saslBindInProgress), StartTLS used and
                 refused, a bind pipelined after StartTLS, a search result skipped by length
  fuzz_nntp      each NNTP capture's dialogue, and dialogues built by hand: AUTHINFO SASL after
                 383, POST and TAKETHIS articles and an ARTICLE block holding command-like lines,
                 STARTTLS, COMPRESS
  fuzz_xmpp      each XMPP capture's dialogue, and dialogues built by hand: SASL PLAIN after an
                 empty challenge, a jabber:iq:auth digest, STARTTLS, an escaped message body
  fuzz_sasl      one exchange per mechanism (RFC examples) and base64 strings for the decoder
  fuzz_tlssniff  the server's TLS bytes from the STLS and POP3S captures, and hand-built
                 ServerHellos (TLS 1.2, TLS 1.3 with supported_versions, SSLv3, HRR)
  fuzz_tlshello  the client's TLS bytes from the ManageSieve STARTTLS and SMTPS captures, the
                 POP3S server's certificate, and hand-built ClientHellos and a Name
  fuzz_line      POP3 streams in several chunkings, and an overlong line

The input formats are described at the top of each tests/fuzz/fuzz_<target>.c. The script
owns every file in the seed directories: it empties them first, and its output depends only on
captures/, so a rerun gives the same files.
"""

import base64
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURES = os.path.join(ROOT, "captures")
SEEDS = os.path.join(ROOT, "tests", "fuzz", "seeds")
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import pcapgen  # noqa: E402  (the tunnel wrappers the end-to-end tests use)

# enum decode_link (include/decode.h)
LINK_ETHERNET, LINK_RAW, LINK_IPV4, LINK_IPV6, LINK_NULL, LINK_LOOP, LINK_SLL, LINK_SLL2 = range(1, 9)
DLT_TO_LINK = {1: LINK_ETHERNET, 101: LINK_RAW, 0: LINK_NULL, 108: LINK_LOOP, 113: LINK_SLL,
               276: LINK_SLL2, 228: LINK_IPV4, 229: LINK_IPV6}
# Server ports of the captures: SMTP, submission, 2525, SMTPS, POP3, POP3S, IMAP, IMAPS,
# ManageSieve, FTP (and the FTP capture on 2121), FTPS, NNTP (and the NNTP capture on 1119), NNTPS,
# XMPP (and the XMPP capture on 15222), XMPP's legacy implicit TLS, HTTP (and the HTTP capture
# on 8000), LDAP (389, the LDAP capture on 3890, LDAPS 636); LDAPS is implicit TLS too.
MAIL_PORTS = (25, 587, 2525, 465, 110, 995, 143, 993, 4190, 21, 2121, 990, 119, 1119, 563, 5222,
              15222, 5223, 80, 8080, 8000, 389, 636, 3890)
IMPLICIT_TLS_PORTS = (465, 995, 993, 990, 636, 563, 5223)


# ---- reading captures ----

def read_pcap(path):
    """Returns (linktype, [(ts_sec, ts_usec, data, wirelen), ...]) of a classic pcap file."""
    with open(path, "rb") as f:
        raw = f.read()
    magic = raw[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError(path + ": not a pcap file")
    linktype = struct.unpack(e + "I", raw[20:24])[0] & 0x0FFFFFFF
    pkts = []
    off = 24
    while off + 16 <= len(raw):
        sec, usec, incl, orig = struct.unpack(e + "IIII", raw[off:off + 16])
        off += 16
        pkts.append((sec, usec, raw[off:off + incl], orig))
        off += incl
    return linktype, pkts


def l3_of(linktype, data):
    """The IP packet inside a frame, or None."""
    if linktype == 1:
        off, etype = 14, struct.unpack(">H", data[12:14])[0]
        while etype in (0x8100, 0x88A8):
            etype = struct.unpack(">H", data[off + 2:off + 4])[0]
            off += 4
        return data[off:] if etype in (0x0800, 0x86DD) else None
    if linktype == 276:
        etype = struct.unpack(">H", data[0:2])[0]
        return data[20:] if etype in (0x0800, 0x86DD) else None
    if linktype == 113:
        etype = struct.unpack(">H", data[14:16])[0]
        return data[16:] if etype in (0x0800, 0x86DD) else None
    if linktype in (101, 228, 229):
        return data
    if linktype in (0, 108):
        return data[4:]
    return None


def tcp_of(l3):
    """(src, sport, dst, dport, seq, ack, flags, payload) of a TCP/IP packet, or None."""
    if not l3:
        return None
    v = l3[0] >> 4
    if v == 4:
        ihl = (l3[0] & 15) * 4
        total = struct.unpack(">H", l3[2:4])[0]
        if l3[9] != 6:
            return None
        src, dst, seg = l3[12:16], l3[16:20], l3[ihl:total]
    elif v == 6:
        plen = struct.unpack(">H", l3[4:6])[0]
        if l3[6] != 6:
            return None
        src, dst, seg = l3[8:24], l3[24:40], l3[40:40 + plen]
    else:
        return None
    sport, dport, seq, ack = struct.unpack(">HHII", seg[0:12])
    doff = (seg[12] >> 4) * 4
    return src, sport, dst, dport, seq, ack, seg[13], seg[doff:]


def segments(path):
    """The TCP segments of a capture: [(is_server, seq, ack, flags, payload)], with the
    server being the side on a mail port. Only the first flow of the capture is taken."""
    linktype, pkts = read_pcap(path)
    out = []
    flow = None
    for _, _, data, _ in pkts:
        t = tcp_of(l3_of(linktype, data))
        if t is None:
            continue
        src, sport, dst, dport, seq, ack, flags, payload = t
        key = frozenset(((src, sport), (dst, dport)))
        if flow is None:
            flow = key
        if key != flow:
            continue
        out.append((sport in MAIL_PORTS, seq, ack, flags, payload))
    return out


def captures(prefix=""):
    return sorted(f for f in os.listdir(CAPTURES) if f.endswith(".pcap") and f.startswith(prefix))


def short(name):
    """pop3-dovecot-user-pass.pcap -> pop3-user-pass"""
    parts = name[:-len(".pcap")].split("-")
    return "-".join([parts[0]] + parts[2:]) if len(parts) > 2 else "-".join(parts)


def is_implicit_tls(path):
    linktype, pkts = read_pcap(path)
    for _, _, data, _ in pkts:
        t = tcp_of(l3_of(linktype, data))
        if t is not None:
            return t[1] in IMPLICIT_TLS_PORTS or t[3] in IMPLICIT_TLS_PORTS
    return False


# ---- writing seeds ----

class Seeds:
    def __init__(self, target):
        self.dir = os.path.join(SEEDS, target)
        os.makedirs(self.dir, exist_ok=True)
        for f in os.listdir(self.dir):
            os.remove(os.path.join(self.dir, f))
        self.total = 0

    def put(self, name, data):
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(data)
        self.total += len(data)


def pcapng_of(path):
    """The same packets as a pcapng file: SHB, one IDB, one EPB per packet."""
    linktype, pkts = read_pcap(path)

    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", linktype, 0, 262144))
    for sec, usec, data, orig in pkts:
        ts = sec * 1000000 + usec
        out += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data), orig) + data)
    return out


def pcap_of(linktype, pkts):
    """A classic little-endian pcap file of [(ts_sec, ts_usec, data, wirelen)]."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)
    for sec, usec, data, orig in pkts:
        out += struct.pack("<IIII", sec, usec, len(data), orig) + data
    return out


def seeds_capture():
    s = Seeds("fuzz_capture")
    # Every POP3 capture, and up to 8 of the SMTP and of the IMAP ones (the corpus stays small).
    for name in captures("pop3-") + captures("smtp-")[:8] + captures("imap-")[:8]:
        with open(os.path.join(CAPTURES, name), "rb") as f:
            raw = f.read()
        s.put(short(name) + ".pcap", raw)
    # The Ethernet POP3 captures interleaved packet by packet: ten sessions at once, more than
    # fuzz_capture's flow limit, so eviction is in the corpus from the start.
    flows = []
    for name in captures("pop3-"):
        linktype, pkts = read_pcap(os.path.join(CAPTURES, name))
        if linktype == 1:
            flows.append(pkts)
    merged = []
    for i in range(max(len(f) for f in flows)):
        for f in flows:
            if i < len(f):
                n = len(merged)
                merged.append((1700000000 + n // 1000, n % 1000 * 1000, f[i][2], f[i][3]))
    s.put("pop3-interleaved.pcap", pcap_of(1, merged))
    s.put("user-pass.pcapng", pcapng_of(os.path.join(CAPTURES, "pop3-dovecot-user-pass.pcap")))
    with open(os.path.join(CAPTURES, "pop3-dovecot-auth-plain.pcap"), "rb") as f:
        raw = f.read()
    s.put("auth-plain-cut.pcap", raw[:-7])
    return s


def reframe(l3):
    """The IP packet l3 under every link type decode knows: [(name, link, frame)]."""
    v6 = l3[0] >> 4 == 6
    etype = struct.pack(">H", 0x86DD if v6 else 0x0800)
    mac = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02"
    af_host = struct.pack("<I", 28 if v6 else 2)  # FreeBSD AF_INET6 / AF_INET, little-endian
    af_net = struct.pack(">I", 30 if v6 else 2)   # BSD (macOS) AF_INET6 / AF_INET
    sll = struct.pack(">HHH", 0, 772, 6) + b"\0" * 8 + etype
    sll2 = etype + b"\0\0" + struct.pack(">IHBB", 1, 772, 0, 6) + b"\0" * 8
    return [
        ("eth", LINK_ETHERNET, mac + etype + l3),
        ("vlan", LINK_ETHERNET, mac + b"\x81\x00\x00\x2a" + etype + l3),
        ("qinq", LINK_ETHERNET, mac + b"\x88\xa8\x00\x64\x81\x00\x00\x2a" + etype + l3),
        ("raw", LINK_RAW, l3),
        ("ip", LINK_IPV6 if v6 else LINK_IPV4, l3),
        ("null", LINK_NULL, af_host + l3),
        ("loop", LINK_LOOP, af_net + l3),
        ("sll", LINK_SLL, sll + l3),
        ("sll2", LINK_SLL2, sll2 + l3),
    ]


def seeds_decode():
    s = Seeds("fuzz_decode")
    for name in ("pop3-dovecot-user-pass.pcap", "pop3-dovecot-ipv6.pcap"):
        linktype, pkts = read_pcap(os.path.join(CAPTURES, name))
        # The SYN and the first data packet of each direction.
        picked, seen = [], set()
        for _, _, data, _ in pkts:
            l3 = l3_of(linktype, data)
            t = tcp_of(l3)
            if t is None:
                continue
            kind = ("syn" if t[6] & 2 else "data" if t[7] else None, t[1] in MAIL_PORTS)
            if kind[0] and kind not in seen:
                seen.add(kind)
                picked.append(("%s-%s" % (kind[0], "server" if kind[1] else "client"), l3))
        for what, l3 in picked:
            for link_name, link, frame in reframe(l3):
                if what.startswith("data") or link_name in ("eth", "sll2"):
                    s.put("%s-%s-%s" % (short(name), what, link_name), bytes([link]) + frame)
    linktype, pkts = read_pcap(os.path.join(CAPTURES, "pop3-dovecot-any-sll2.pcap"))
    s.put("any-sll2-first", bytes([DLT_TO_LINK[linktype]]) + pkts[0][2])
    # An IPv6 packet with a hop-by-hop and a destination options header before TCP.
    linktype, pkts = read_pcap(os.path.join(CAPTURES, "pop3-dovecot-ipv6.pcap"))
    for _, _, data, _ in pkts:
        l3 = l3_of(linktype, data)
        if tcp_of(l3) and tcp_of(l3)[7]:
            ext = bytes([60, 0]) + b"\x01\x04\0\0\0\0" + bytes([6, 0]) + b"\x01\x04\0\0\0\0"
            plen = struct.unpack(">H", l3[4:6])[0] + len(ext)
            v6 = l3[:4] + struct.pack(">H", plen) + bytes([0]) + l3[7:40] + ext + l3[40:]
            s.put("ipv6-ext-headers", bytes([LINK_RAW]) + v6)
            break
    # The first client data packet of each POP3 capture inside every tunnel decode peels
    # (tests/e2e/pcapgen.py builds them, as the end-to-end test does).
    for name, suffix in (("pop3-dovecot-user-pass.pcap", "v4"), ("pop3-dovecot-ipv6.pcap", "v6")):
        linktype, pkts = read_pcap(os.path.join(CAPTURES, name))
        for _, _, data, _ in pkts:
            l3 = l3_of(linktype, data)
            t = tcp_of(l3)
            if t and t[7] and t[3] in MAIL_PORTS:
                l3 = pcapgen.ip_trim(l3)
                for kind, (_, wrap) in pcapgen.TUNNELS.items():
                    if kind != "teredo" or suffix == "v6":
                        s.put("tunnel-%s-%s" % (kind, suffix), bytes([LINK_ETHERNET]) + wrap(l3))
                break
    return s


def reasm_script(segs, mode, synthetic=False):
    """A fuzz_reasm script: ISNs are taken from the SYNs (else the first segment)."""
    isn = {}
    for is_server, seq, _, flags, _ in segs:
        if flags & 2:
            isn.setdefault(is_server, seq)
    for is_server, seq, _, _, _ in segs:
        isn.setdefault(is_server, seq)
    out = bytearray([mode | (1 if synthetic else 0)])
    for is_server, seq, ack, flags, payload in segs:
        f = (1 if is_server else 0) | (2 if flags & 2 else 0) | (4 if flags & 1 else 0)
        has_ack = flags & 0x10 and (not is_server) in isn
        f |= 8 if has_ack else 0
        out.append(f)
        out += struct.pack(">I", (seq - isn[is_server]) & 0xFFFFFFFF)
        if has_ack:
            out += struct.pack(">I", (ack - isn[not is_server]) & 0xFFFFFFFF)
        out += struct.pack(">H", len(payload))
        if not synthetic:
            out += payload
    return bytes(out)


def seeds_reasm():
    s = Seeds("fuzz_reasm")
    # Every variant of the POP3 captures; two of each of the others, to keep the corpus small.
    for name in captures("pop3-") + captures("smtp-")[:2] + captures("imap-")[:2]:
        segs = segments(os.path.join(CAPTURES, name))
        if len(segs) > 40 or sum(len(p) for *_, p in segs) > 6000:
            continue
        n = short(name)
        s.put(n + "-inorder", reasm_script(segs, 0xFE))
        s.put(n + "-synthetic", reasm_script(segs, 0x20, synthetic=True))
        data = [i for i, seg in enumerate(segs) if seg[4]]
        if len(data) >= 3 and name.startswith("pop3-"):
            a, b = data[1], data[2]
            swapped = list(segs)
            swapped[a], swapped[b] = swapped[b], swapped[a]
            s.put(n + "-reordered", reasm_script(swapped, 0xFE))
            s.put(n + "-retransmit", reasm_script(segs[:b + 1] + [segs[a]] + segs[b + 1:], 0xFE))
            s.put(n + "-missing", reasm_script(segs[:a] + segs[a + 1:], 0x10))
    return s


def proto_records(segs, implicit_tls=False, gap_at=None):
    """A fuzz_pop3/smtp/imap input: each payload as records of at most 255 bytes."""
    out = bytearray()
    first = True
    k = 0
    for is_server, _, _, _, payload in segs:
        if not payload:
            continue
        for i in range(0, len(payload), 255):
            chunk = payload[i:i + 255]
            f = 1 if is_server else 0
            if first and implicit_tls:
                f |= 4
            if gap_at is not None and k == gap_at:
                f |= 2
            first = False
            k += 1
            out += bytes([f, len(chunk)]) + chunk
    return bytes(out)


def captured(s, prefix):
    """Seeds from the captures named prefix*: each session's bytes as records."""
    for name in captures(prefix):
        path = os.path.join(CAPTURES, name)
        rec = proto_records(segments(path), implicit_tls=is_implicit_tls(path))
        # Keep TLS sessions small: the cleartext part and the first TLS records are enough.
        s.put(short(name), rec[:3000])


def seeds_pop3():
    s = Seeds("fuzz_pop3")
    captured(s, "pop3-")
    segs = segments(os.path.join(CAPTURES, "pop3-dovecot-user-pass.pcap"))
    s.put("user-pass-gap", proto_records(segs, gap_at=3))

    def script(*lines):
        out = bytearray()
        for who, text in lines:
            out += bytes([1 if who == "S" else 0, len(text)]) + text
        return bytes(out)

    greet = ("S", b"+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n")
    s.put("apop-rfc1939", script(greet, ("C", b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
                                 ("S", b"+OK maildrop has 1 message\r\n")))
    s.put("auth-login", script(greet, ("C", b"AUTH LOGIN\r\n"), ("S", b"+ VXNlcm5hbWU6\r\n"),
                               ("C", b"YWxpY2U=\r\n"), ("S", b"+ UGFzc3dvcmQ6\r\n"),
                               ("C", b"czNjcmV0\r\n"), ("S", b"+OK\r\n")))
    s.put("auth-cram", script(
        greet, ("C", b"AUTH CRAM-MD5\r\n"),
        ("S", b"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
        ("C", b"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"), ("S", b"-ERR\r\n")))
    s.put("stls-pipelined", script(greet, ("C", b"CAPA\r\n"), ("S", b"+OK\r\nSTLS\r\nUSER\r\n.\r\n"),
                                   ("C", b"STLS\r\nUSER evil\r\n"), ("S", b"+OK go\r\n\x16\x03\x03"),
                                   ("C", b"\x16\x03\x01\x00\x05hello")))
    s.put("auth-xoauth2-ir", script(
        greet, ("C", b"AUTH XOAUTH2 dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==\r\n"),
        ("S", b"+OK\r\n")))
    return s


def dialogue(*lines, implicit_tls=False):
    """A fuzz_pop3/smtp/imap input from ("C"|"S", bytes) pairs, each cut into records."""
    out = bytearray()
    for i, (who, text) in enumerate(lines):
        for k in range(0, max(len(text), 1), 255):
            f = (1 if who == "S" else 0) | (4 if implicit_tls and i == 0 and k == 0 else 0)
            chunk = text[k:k + 255]
            out += bytes([f, len(chunk)]) + chunk
    return bytes(out)


def dialogue_of(*lines, implicit_tls=False):
    return list(lines), implicit_tls


def smtp_dialogues():
    """{name: ([("C"|"S", bytes)], implicit_tls)} of hand-made SMTP sessions."""
    s = {}
    b64 = base64.b64encode
    greet = ("S", b"220 mail.example.test ESMTP ready\r\n")
    ehlo = [("C", b"EHLO client.example.test\r\n"),
            ("S", b"250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
                  b"250-STARTTLS\r\n250-AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2\r\n"
                  b"250-CHUNKING\r\n250 8BITMIME\r\n")]
    s["auth-plain-ir"] = dialogue_of(greet, *ehlo, ("C", b"AUTH PLAIN " + b64(b"\0alice\0s3cret") +
                                                   b"\r\n"),
                                    ("S", b"235 2.7.0 Authentication successful\r\n"),
                                    ("C", b"QUIT\r\n"), ("S", b"221 bye\r\n"))
    s["auth-login"] = dialogue_of(greet, *ehlo, ("C", b"AUTH LOGIN\r\n"), ("S", b"334 VXNlcm5hbWU6\r\n"),
                                 ("C", b64(b"alice") + b"\r\n"), ("S", b"334 UGFzc3dvcmQ6\r\n"),
                                 ("C", b64(b"wrong") + b"\r\n"),
                                 ("S", b"535 5.7.8 Authentication failed\r\n"))
    s["auth-cram-md5"] = dialogue_of(
        greet, *ehlo, ("C", b"AUTH CRAM-MD5\r\n"),
        ("S", b"334 " + b64(b"<1896.697170952@postoffice.example.net>") + b"\r\n"),
        ("C", b64(b"tim b913a602c7eda7a495b4e6e7334d3890") + b"\r\n"), ("S", b"235 ok\r\n"))
    s["auth-cancel"] = dialogue_of(greet, *ehlo, ("C", b"AUTH PLAIN\r\n"), ("S", b"334 \r\n"),
                                  ("C", b"*\r\n"), ("S", b"501 5.0.0 cancelled\r\n"))
    s["starttls"] = dialogue_of(greet, *ehlo, ("C", b"STARTTLS\r\n"), ("S", b"220 2.0.0 go ahead\r\n"),
                               ("C", b"\x16\x03\x01\x00\x05hello"),
                               ("S", server_hello(0x0303, sv=0x0304)))
    s["starttls-injection"] = dialogue_of(greet, *ehlo, ("C", b"STARTTLS\r\nAUTH PLAIN " +
                                                        b64(b"\0mallory\0x") + b"\r\n"),
                                         ("S", b"220 go ahead\r\n"))
    s["data-body"] = dialogue_of(greet, *ehlo, ("C", b"MAIL FROM:<a@example.test>\r\n"
                                                    b"RCPT TO:<b@example.test>\r\nDATA\r\n"),
                                ("S", b"250 ok\r\n250 ok\r\n354 go\r\n"),
                                ("C", b"Subject: x\r\n\r\nAUTH PLAIN AGV2aWwAcGFzcw==\r\n"
                                      b"..hidden\r\n.\r\nQUIT\r\n"),
                                ("S", b"250 queued\r\n221 bye\r\n"))
    s["bdat"] = dialogue_of(greet, *ehlo, ("C", b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@x>\r\n"
                                               b"BDAT 28 LAST\r\nAUTH LOGIN\r\nUSER x\r\n.\r\n"),
                           ("S", b"250 ok\r\n250 ok\r\n250 ok\r\n"))
    s["implicit-tls"] = dialogue_of(("S", server_hello(0x0303)), implicit_tls=True)
    s["auth-xoauth2"] = dialogue_of(greet, *ehlo, ("C", b"AUTH XOAUTH2 " + b64(
        b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3\x01\x01") + b"\r\n"),
        ("S", b"235 ok\r\n"))
    return s


def imap_dialogues():
    """{name: ([("C"|"S", bytes)], implicit_tls)} of hand-made IMAP sessions."""
    s = {}
    b64 = base64.b64encode
    greet = ("S", b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN LITERAL+ SASL-IR] ready\r\n")
    s["login-atoms"] = dialogue_of(greet, ("C", b"a1 LOGIN alice s3cret\r\n"),
                                  ("S", b"a1 OK LOGIN completed\r\n"),
                                  ("C", b"a2 LOGOUT\r\n"), ("S", b"* BYE\r\na2 OK\r\n"))
    s["login-quoted"] = dialogue_of(greet, ("C", b'a1 LOGIN "bob" "hunter2 with \\"spaces\\""\r\n'),
                                   ("S", b"a1 NO [AUTHENTICATIONFAILED] bad\r\n"))
    s["login-literal"] = dialogue_of(greet, ("C", b"a1 LOGIN {5}\r\n"), ("S", b"+ go\r\n"),
                                    ("C", b"alice {6+}\r\nsecret\r\n"), ("S", b"a1 OK\r\n"))
    s["capability-starttls"] = dialogue_of(greet, ("C", b"a1 CAPABILITY\r\n"),
                                          ("S", b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n"
                                                b"a1 OK\r\n"),
                                          ("C", b"a2 STARTTLS\r\n"), ("S", b"a2 OK begin TLS\r\n"),
                                          ("C", b"\x16\x03\x01\x00\x05hello"),
                                          ("S", server_hello(0x0303, sv=0x0304)))
    s["authenticate-ir"] = dialogue_of(greet, ("C", b"a1 AUTHENTICATE PLAIN " +
                                              b64(b"\0alice\0s3cret") + b"\r\n"),
                                      ("S", b"a1 OK\r\n"))
    s["authenticate-continuation"] = dialogue_of(greet, ("C", b"a1 AUTHENTICATE LOGIN\r\n"),
                                                ("S", b"+ VXNlcm5hbWU6\r\n"),
                                                ("C", b64(b"alice") + b"\r\n"),
                                                ("S", b"+ UGFzc3dvcmQ6\r\n"),
                                                ("C", b64(b"s3cret") + b"\r\n"),
                                                ("S", b"a1 OK\r\n"))
    mail = b"LOGIN evil pass\r\na3 LOGIN x y\r\n"
    s["append-literal"] = dialogue_of(greet, ("C", b"a1 LOGIN alice x\r\n"), ("S", b"a1 OK\r\n"),
                                     ("C", b"a2 APPEND INBOX {%d+}\r\n" % len(mail) + mail +
                                      b"\r\n"),
                                     ("S", b"a2 OK\r\n"))
    body = b"a9 OK LOGIN x y\r\n* OK\r\n"
    s["fetch-literal"] = dialogue_of(greet, ("C", b"a1 FETCH 1 BODY[]\r\n"),
                                    ("S", b"* 1 FETCH (BODY[] {%d}\r\n" % len(body) + body +
                                     b")\r\na1 OK\r\n"))
    s["implicit-tls"] = dialogue_of(("S", server_hello(0x0303)), implicit_tls=True)
    return s


def managesieve_dialogues():
    """{name: ([("C"|"S", bytes)], implicit_tls)} of hand-made ManageSieve sessions."""
    s = {}
    b64 = base64.b64encode
    greet = ("S", b'"IMPLEMENTATION" "Dovecot Pigeonhole"\r\n"SIEVE" "fileinto"\r\n'
                  b'"SASL" "PLAIN LOGIN CRAM-MD5"\r\n"STARTTLS"\r\n"VERSION" "1.0"\r\n'
                  b'OK "ready"\r\n')
    plain = b64(b"\0alice\0s3cret")
    s["plain-quoted"] = dialogue_of(greet, ("C", b'AUTHENTICATE "PLAIN" "' + plain + b'"\r\n'),
                                   ("S", b'OK "Logged in."\r\n'), ("C", b"LOGOUT\r\n"),
                                   ("S", b"OK\r\n"))
    s["plain-literal"] = dialogue_of(greet, ("C", b'AUTHENTICATE "PLAIN" {%d+}\r\n' % len(plain) +
                                            plain + b"\r\n"),
                                    ("S", b'NO "Authentication failed."\r\n'))
    s["login-steps"] = dialogue_of(greet, ("C", b'AUTHENTICATE "LOGIN"\r\n'),
                                  ("S", b'{12}\r\nVXNlcm5hbWU6\r\n'),
                                  ("C", b'"' + b64(b"alice") + b'"\r\n'),
                                  ("S", b'"UGFzc3dvcmQ6"\r\n'),
                                  ("C", b"{8+}\r\n" + b64(b"s3cret") + b"\r\n"),
                                  ("S", b"OK\r\n"))
    s["cram-cancel"] = dialogue_of(greet, ("C", b'AUTHENTICATE "CRAM-MD5"\r\n'),
                                  ("S", b'"' + b64(b"<1896.697170952@example.net>") + b'"\r\n'),
                                  ("C", b'"*"\r\n'), ("S", b'NO "aborted"\r\n'))
    s["starttls"] = dialogue_of(greet, ("C", b"STARTTLS\r\n"), ("S", b"OK\r\n"),
                               ("C", b"\x16\x03\x01\x00\x05hello"),
                               ("S", server_hello(0x0303, sv=0x0304)))
    script = b'require "fileinto";\r\nAUTHENTICATE "PLAIN" "AGV2aWwAcGFzcw=="\r\nOK\r\n'
    s["putscript-getscript"] = dialogue_of(greet, ("C", b'AUTHENTICATE "PLAIN" "' + plain +
                                                  b'"\r\n'), ("S", b"OK\r\n"),
                                          ("C", b'PUTSCRIPT "t" {%d+}\r\n' % len(script) +
                                           script + b'\r\nGETSCRIPT "t"\r\n'),
                                          ("S", b"OK\r\n{%d}\r\n" % len(script) + script +
                                           b"\r\nOK\r\n"))
    return s


def seeds_managesieve():
    s = Seeds("fuzz_managesieve")
    captured(s, "managesieve-")
    for name, (lines, implicit) in sorted(managesieve_dialogues().items()):
        s.put(name, dialogue(*lines, implicit_tls=implicit))
    return s


def ftp_dialogues():
    """{name: ([("C"|"S", bytes)], implicit_tls)} of hand-made FTP control connections."""
    s = {}
    greet = ("S", b"220 (vsFTPd 3.0.3)\r\n")
    feat = [("C", b"FEAT\r\n"),
            ("S", b"211-Features:\r\n AUTH SSL\r\n AUTH TLS\r\n EPSV\r\n PBSZ\r\n PROT\r\n"
                  b" UTF8\r\n211 End\r\n")]
    s["rfc959-multiline"] = dialogue_of(greet, ("C", b"USER doe\r\n"), ("S", b"331 ok\r\n"),
                                        ("C", b"PASS mumble\r\n"),
                                        ("S", b"230-First line\r\nSecond line\r\n  234 A line "
                                              b"beginning with numbers\r\n230 The last line\r\n"))
    s["acct"] = dialogue_of(greet, ("C", b"USER doe\r\n"), ("S", b"331 ok\r\n"),
                            ("C", b"PASS mumble\r\n"), ("S", b"332 Need account\r\n"),
                            ("C", b"ACCT billing\r\n"), ("S", b"230 ok\r\n"))
    s["pipelined"] = dialogue_of(greet, ("C", b"USER a\r\nPASS x\r\nSYST\r\nPWD\r\n"),
                                 ("S", b"331 ok\r\n530 no\r\n215 UNIX\r\n257 \"/\"\r\n"))
    s["feat-auth-tls"] = dialogue_of(greet, *feat, ("C", b"AUTH TLS\r\n"),
                                     ("S", b"234 Proceed with negotiation.\r\n"),
                                     ("C", b"\x16\x03\x01\x00\x05hello"),
                                     ("S", server_hello(0x0303, sv=0x0304)))
    s["auth-tls-refused"] = dialogue_of(greet, ("C", b"AUTH TLS\r\n"), ("S", b"530 no\r\n"),
                                        ("C", b"USER a\r\n"), ("S", b"331 ok\r\n"),
                                        ("C", b"PASS x\r\n"), ("S", b"230 ok\r\n"))
    s["auth-tls-injection"] = dialogue_of(greet, ("C", b"AUTH TLS\r\nUSER evil\r\nPASS evil\r\n"),
                                          ("S", b"234 go\r\n"))
    s["anonymous"] = dialogue_of(greet, *feat, ("C", b"USER anonymous\r\n"), ("S", b"331 ok\r\n"),
                                 ("C", b"PASS guest@example.org\r\n"), ("S", b"230 ok\r\n"),
                                 ("C", b"EPSV\r\nRETR f\r\n"),
                                 ("S", b"229 (|||40000|)\r\n150 Opening\r\n226 Done\r\n"))
    s["help-stat-text"] = dialogue_of(greet, ("C", b"HELP\r\n"),
                                      ("S", b"214-Commands:\r\n USER PASS\r\n230 x\r\n214 ok\r\n"),
                                      ("C", b"STAT .\r\n"),
                                      ("S", b"213-Status:\r\n530 fake\r\n213 End\r\n"))
    s["abor-telnet"] = dialogue_of(greet, ("C", b"RETR big\r\n"), ("S", b"150 Opening\r\n"),
                                   ("C", b"\xff\xf4\xff\xf2ABOR\r\n"),
                                   ("S", b"426 aborted\r\n226 ok\r\n"))
    s["implicit-tls"] = dialogue_of(("S", server_hello(0x0303)), implicit_tls=True)
    return s


def seeds_ftp():
    s = Seeds("fuzz_ftp")
    captured(s, "ftp-")
    for name, (lines, implicit) in sorted(ftp_dialogues().items()):
        s.put(name, dialogue(*lines, implicit_tls=implicit))
    return s


def ldap_dialogues():
    """{name: ([("C"|"S", bytes)], implicit_tls)} of hand-made LDAP sessions (RFC 4511 BER)."""
    def tlv(tag, v):
        n = len(v)
        ln = bytes([n]) if n < 0x80 else b"\x84" + n.to_bytes(4, "big")
        return bytes([tag]) + ln + v

    def msg(mid, op):
        return tlv(0x30, tlv(0x02, bytes([mid])) + op)

    def result(code, extra=b""):
        return tlv(0x0a, bytes([code])) + tlv(0x04, b"") + tlv(0x04, b"") + extra

    def simple(mid, dn, pw):
        return msg(mid, tlv(0x60, b"\x02\x01\x03" + tlv(0x04, dn) + tlv(0x80, pw)))

    def sasl(mid, mech, cred=None):
        c = tlv(0x04, mech) + (tlv(0x04, cred) if cred is not None else b"")
        return msg(mid, tlv(0x60, b"\x02\x01\x03" + tlv(0x04, b"") + tlv(0xa3, c)))

    def bind_resp(mid, code, creds=None):
        return msg(mid, tlv(0x61, result(code, tlv(0x87, creds) if creds is not None else b"")))

    stls = b"1.3.6.1.4.1.1466.20037"
    starttls = ("C", msg(1, tlv(0x77, tlv(0x80, stls))))
    entry = msg(2, tlv(0x64, tlv(0x04, b"cn=x") + tlv(0x30, tlv(0x30, tlv(0x04, b"jpegPhoto") +
                                                          tlv(0x31, tlv(0x04, b"\x30" * 300))))))
    s = {}
    s["simple"] = dialogue_of(("C", simple(1, b"cn=admin,dc=example,dc=org", b"secret")),
                              ("S", bind_resp(1, 0)))
    s["anonymous-search"] = dialogue_of(("C", simple(1, b"", b"")), ("S", bind_resp(1, 0)),
                                        ("C", msg(2, tlv(0x63, tlv(0x04, b"")))),
                                        ("S", entry + msg(2, tlv(0x65, result(0)))))
    s["sasl-plain"] = dialogue_of(("C", sasl(1, b"PLAIN", b"\0alice\0wonder")),
                                  ("S", bind_resp(1, 49)))
    s["sasl-cram-md5"] = dialogue_of(("C", sasl(1, b"CRAM-MD5")),
                                     ("S", bind_resp(1, 14, b"<1896.697170952@example.net>")),
                                     ("C", sasl(2, b"CRAM-MD5",
                                                b"tim b913a602c7eda7a495b4e6e7334d3890")),
                                     ("S", bind_resp(2, 0)))
    s["starttls"] = dialogue_of(starttls, ("S", msg(1, tlv(0x78, result(0, tlv(0x8a, stls))))),
                                ("C", b"\x16\x03\x01\x00\x05hello"),
                                ("S", server_hello(0x0303, sv=0x0304)))
    s["starttls-refused"] = dialogue_of(starttls, ("S", msg(1, tlv(0x78, result(2)))),
                                        ("C", simple(2, b"uid=bob", b"pw")),
                                        ("S", bind_resp(2, 0)))
    s["starttls-injection"] = dialogue_of(("C", starttls[1] + simple(2, b"uid=evil", b"evil")),
                                          ("S", msg(1, tlv(0x78, result(0)))))
    s["implicit-tls"] = dialogue_of(("S", server_hello(0x0303)), implicit_tls=True)
    return s


def seeds_ldap():
    s = Seeds("fuzz_ldap")
    captured(s, "ldap-")
    for name, (lines, implicit) in sorted(ldap_dialogues().items()):
        s.put(name, dialogue(*lines, implicit_tls=implicit))
    return s


def seeds_nntp():
    s = Seeds("fuzz_nntp")
    captured(s, "nntp-")
    greet = ("S", b"200 news.example.test InterNetNews NNRP server INN 2.7.1 ready\r\n")
    s.put("sasl-plain-383", dialogue(greet, ("C", b"AUTHINFO SASL PLAIN\r\n"), ("S", b"383 =\r\n"),
                                     ("C", b"AHRlc3QAMTIzNA==\r\n"), ("S", b"281 ok\r\n")))
    s.put("post-trap", dialogue(greet, ("C", b"POST\r\n"), ("S", b"340 send\r\n"),
                                ("C", b"Subject: x\r\n\r\nAUTHINFO PASS x\r\n..\r\n.\r\n"),
                                ("S", b"240 ok\r\n")))
    s.put("takethis", dialogue(greet, ("C", b"MODE STREAM\r\nTAKETHIS <a@b>\r\nX: y\r\n\r\n.\r\n"),
                               ("S", b"203 ok\r\n239 <a@b>\r\n")))
    s.put("article-block", dialogue(greet, ("C", b"ARTICLE 1\r\n"),
                                    ("S", b"220 1 <a@b>\r\n281 x\r\n.\r\n")))
    s.put("starttls", dialogue(greet, ("C", b"STARTTLS\r\n"), ("S", b"382 go\r\n"),
                               ("S", server_hello(0x0303))))
    s.put("compress", dialogue(greet, ("C", b"COMPRESS DEFLATE\r\n"), ("S", b"206 ok\r\nxx")))
    return s


def seeds_xmpp():
    s = Seeds("fuzz_xmpp")
    captured(s, "xmpp-")
    c_open = ("C", b"<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
                   b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
    s_open = ("S", b"<stream:stream from='localhost' id='abc' version='1.0'><stream:features>"
                   b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>")
    sasl = b"xmlns='urn:ietf:params:xml:ns:xmpp-sasl'"
    s.put("plain-challenge", dialogue(c_open, s_open, ("C", b"<auth " + sasl + b" mechanism='PLAIN'/>"),
                                      ("S", b"<challenge " + sasl + b"/>"),
                                      ("C", b"<response " + sasl + b">AGFsaWNlAHMzY3JldA==</response>"),
                                      ("S", b"<success " + sasl + b"/>")))
    s.put("iq-auth-digest", dialogue(c_open, s_open, ("C", b"<iq type='set' id='a'><query "
                                                           b"xmlns='jabber:iq:auth'><username>u</username>"
                                                           b"<digest>48fc78be</digest></query></iq>"),
                                     ("S", b"<iq type='result' id='a'/>")))
    s.put("starttls", dialogue(c_open, s_open, ("C", b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                               ("S", b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                               ("S", server_hello(0x0304))))
    s.put("escaped-message", dialogue(c_open, s_open, ("C", b"<message><body>&lt;auth&gt;&amp;&#65;"
                                                            b"</body></message>")))
    return s


def seeds_smtp():
    s = Seeds("fuzz_smtp")
    captured(s, "smtp-")
    for name, (lines, implicit) in sorted(smtp_dialogues().items()):
        s.put(name, dialogue(*lines, implicit_tls=implicit))
    return s


def seeds_socks():
    """fuzz_socks: SOCKS5 handshakes (RFC 1928/1929) in front of hand-made mail dialogues."""
    s = Seeds("fuzz_socks")
    captured(s, "socks5-")
    connect25 = b"\x05\x01\x00\x01\xc0\x00\x02\x0a\x00\x19"
    connect993 = b"\x05\x01\x00\x03\x0email.example.test\x03\xe1"
    connect110 = b"\x05\x01\x00\x04" + bytes(15) + b"\x01\x00\x6e"
    reply = b"\x05\x00\x00\x01\x0a\x00\x00\x01\x04\x38"
    userpass = b"\x01\x05alice\x06s3cret"
    for name, (lines, implicit) in sorted(smtp_dialogues().items()):
        if implicit:
            continue
        head = [("C", b"\x05\x01\x00"), ("S", b"\x05\x00"), ("C", connect25), ("S", reply)]
        s.put("noauth-smtp-" + name, dialogue(*(head + lines)))
    head = [("C", b"\x05\x02\x00\x02"), ("S", b"\x05\x02"), ("C", userpass),
            ("S", b"\x01\x00"), ("C", connect110), ("S", reply)]
    s.put("userpass-pop3", dialogue(*(head + [
        ("S", b"+OK ready\r\n"), ("C", b"USER alice\r\n"), ("S", b"+OK\r\n"),
        ("C", b"PASS s3cret\r\n"), ("S", b"+OK logged in\r\n"), ("C", b"QUIT\r\n")])))
    s.put("pipelined-imaps", dialogue(("C", b"\x05\x01\x00" + connect993),
                                      ("S", b"\x05\x00" + reply + b"\x16\x03\x03\x00\x02hi")))
    s.put("refused", dialogue(("C", b"\x05\x01\x00"), ("S", b"\x05\x00"), ("C", connect25),
                              ("S", b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")))
    s.put("no-method", dialogue(("C", b"\x05\x01\x02"), ("S", b"\x05\xff")))
    return s


def seeds_httpconnect():
    """fuzz_httpconnect: HTTP CONNECT requests (RFC 9110 9.3.6) and proxy answers in front of
    hand-made mail dialogues, with Basic proxy logins, a 407 and a retry, and refusals."""
    s = Seeds("fuzz_httpconnect")
    captured(s, "http-connect-")
    ok = b"HTTP/1.1 200 Connection established\r\n\r\n"
    for name, (lines, implicit) in sorted(smtp_dialogues().items()):
        if implicit:
            continue
        head = [("C", b"CONNECT mail.example.test:25 HTTP/1.1\r\nHost: mail.example.test:25\r\n"
                      b"\r\n"), ("S", ok)]
        s.put("smtp-" + name, dialogue(*(head + lines)))
    s.put("basic-pop3", dialogue(
        ("C", b"CONNECT 192.0.2.10:110 HTTP/1.1\r\nProxy-Authorization: Basic "
              + base64.b64encode(b"bob:pw") + b"\r\n\r\n"),
        ("S", b"HTTP/1.1 200 OK\r\nVia: 1.1 proxy\r\n\r\n+OK ready\r\n"),
        ("C", b"USER alice\r\n"), ("S", b"+OK\r\n"), ("C", b"PASS s3cret\r\n"),
        ("S", b"+OK logged in\r\n")))
    s.put("407-retry-imap", dialogue(
        ("C", b"CONNECT imap.example.test:143 HTTP/1.1\r\n\r\n"),
        ("S", b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic "
              b"realm=\"p\"\r\nContent-Length: 5\r\n\r\nhello"),
        ("C", b"CONNECT imap.example.test:143 HTTP/1.1\r\nProxy-Authorization: Basic "
              + base64.b64encode(b"bob:right") + b"\r\n\r\n"),
        ("S", b"HTTP/1.1 100 Continue\r\n\r\n" + ok + b"* OK ready\r\n"),
        ("C", b"a LOGIN alice s3cret\r\n"), ("S", b"a OK done\r\n")))
    s.put("pipelined-imaps-v6", dialogue(
        ("C", b"CONNECT [2001:db8::1]:993 HTTP/1.0\r\n\r\n\x16\x03\x01\x00\x05hello"),
        ("S", ok + b"\x16\x03\x03\x00\x02hi")))
    s.put("refused", dialogue(("C", b"CONNECT mail.example.test:25 HTTP/1.1\r\n\r\n"),
                              ("S", b"HTTP/1.1 403 Forbidden\r\n\r\n")))
    s.put("port-80", dialogue(("C", b"CONNECT www.example.test:80 HTTP/1.1\r\n\r\n"),
                              ("S", ok), ("C", b"GET / HTTP/1.1\r\n\r\n")))
    return s


def seeds_http():
    """fuzz_http: the HTTP captures' dialogues, and requests and answers built by hand: Basic,
    Bearer, Digest and NTLM logins, keep-alive and pipelining, chunked and counted bodies holding
    request-shaped text, 100 Continue, HEAD, 304, a body to the close, obs-fold, CONNECT."""
    s = Seeds("fuzz_http")
    captured(s, "http-nginx-")
    captured(s, "http-python-")
    b64 = base64.b64encode
    trap = b"GET /x HTTP/1.1\r\nAuthorization: Basic " + b64(b"evil:pw") + b"\r\n\r\n"
    ok0 = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    s.put("basic-keepalive", dialogue(
        ("C", b"GET /a HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + b64(b"bob:wrong")
              + b"\r\n\r\n"),
        ("S", b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"r\"\r\n"
              b"Content-Length: %d\r\n\r\n" % len(trap) + trap),
        ("C", b"GET /a HTTP/1.1\r\nauthorization: basic\r\n " + b64(b"bob:right") + b"\r\n\r\n"),
        ("S", ok0)))
    s.put("pipelined-head-304", dialogue(
        ("C", b"GET / HTTP/1.1\r\nAuthorization: Bearer tok\r\n\r\nHEAD / HTTP/1.1\r\n\r\n"
              b"GET / HTTP/1.1\r\nIf-None-Match: x\r\n\r\n"),
        ("S", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n"
              b"0\r\nT: v\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
              b"HTTP/1.1 304 Not Modified\r\n\r\n")))
    s.put("upload-continue", dialogue(
        ("C", b"POST /u HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n"
              b"Proxy-Authorization: Basic " + b64(b"p:q") + b"\r\n\r\n"),
        ("S", b"HTTP/1.1 100 Continue\r\n\r\n"),
        ("C", b"%x\r\n" % len(trap) + trap + b"\r\n0\r\n\r\n"),
        ("S", b"HTTP/1.0 407 No\r\n\r\nto the close")))
    s.put("digest", dialogue(
        ("C", b"GET /d HTTP/1.1\r\n\r\n"),
        ("S", b"HTTP/1.1 401 No\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"abc\"\r\n"
              b"Content-Length: 0\r\n\r\n"),
        ("C", b"GET /d HTTP/1.1\r\nAuthorization: Digest username=\"a\\\"b\", realm=\"r\", "
              b"nonce=\"abc\", uri=\"/d\", response=\"0123\"\r\n\r\n"),
        ("S", ok0)))
    ntlm1 = b"NTLMSSP\0" + struct.pack("<II", 1, 0x00088207) + bytes(16)
    ntlm2 = (b"NTLMSSP\0" + struct.pack("<I", 2) + struct.pack("<HHI", 0, 0, 48)
             + struct.pack("<I", 0x00028205) + bytes(range(8)) + bytes(8)
             + struct.pack("<HHI", 0, 0, 48))
    fields, payload = [], b""
    for f in (bytes(24), bytes(range(24)), "CORP".encode("utf-16-le"),
              "alice".encode("utf-16-le"), "WS".encode("utf-16-le"), b""):
        fields.append(struct.pack("<HHI", len(f), len(f), 64 + len(payload)))
        payload += f
    ntlm3 = (b"NTLMSSP\0" + struct.pack("<I", 3) + b"".join(fields)
             + struct.pack("<I", 0x00088205) + payload)
    s.put("ntlm", dialogue(
        ("C", b"GET /n HTTP/1.1\r\nAuthorization: NTLM " + b64(ntlm1) + b"\r\n\r\n"),
        ("S", b"HTTP/1.1 401 No\r\nWWW-Authenticate: NTLM " + b64(ntlm2)
              + b"\r\nContent-Length: 0\r\n\r\n"),
        ("C", b"GET /n HTTP/1.1\r\nAuthorization: Negotiate " + b64(ntlm3) + b"\r\n\r\n"),
        ("S", ok0)))
    s.put("connect-pop3", dialogue(
        ("C", b"CONNECT pop.example.test:110 HTTP/1.1\r\nProxy-Authorization: Basic "
              + b64(b"bob:pw") + b"\r\n\r\n"),
        ("S", b"HTTP/1.1 200 OK\r\n\r\n+OK ready\r\n"), ("C", b"USER alice\r\n"),
        ("S", b"+OK\r\n"), ("C", b"PASS s3cret\r\n"), ("S", b"+OK logged in\r\n")))
    s.put("upgrade", dialogue(
        ("C", b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"),
        ("S", b"HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello"), ("C", trap)))
    return s


def seeds_imap():
    s = Seeds("fuzz_imap")
    captured(s, "imap-")
    for name, (lines, implicit) in sorted(imap_dialogues().items()):
        s.put(name, dialogue(*lines, implicit_tls=implicit))
    return s


def seeds_sasl():
    s = Seeds("fuzz_sasl")
    mechs = ["PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "XOAUTH2", "OAUTHBEARER",
             "SCRAM-SHA-256", "SCRAM-SHA-1", "GSSAPI"]
    b64 = base64.b64encode

    def exchange(mech, lines, finish=True, success=True):
        sel = mechs.index(mech) | (0x10 if finish else 0) | (0x20 if success else 0)
        return bytes([sel]) + b"\n".join(lines)

    s.put("plain-ir", exchange("PLAIN", [b64(b"\0tim\0tanstaaftanstaaf")]))
    s.put("plain-authzid", exchange("PLAIN", [b64(b"Ursel\0Kurt\0xipj3plmq")], success=False))
    s.put("plain-continuation", exchange("PLAIN", [b"", b"", b64(b"\0alice\0s3cret")]))
    s.put("login", exchange("LOGIN", [b"=", b64(b"Username:"), b64(b"alice"),
                                      b64(b"Password:"), b64(b"s3cret")]))
    s.put("login-cancel", exchange("LOGIN", [b"", b64(b"Username:"), b"*"]))
    s.put("cram-md5", exchange("CRAM-MD5", [
        b"", b64(b"<1896.697170952@postoffice.reston.mci.net>"),
        b64(b"tim b913a602c7eda7a495b4e6e7334d3890")]))
    s.put("digest-md5", exchange("DIGEST-MD5", [
        b"", b64(b'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",'
                 b'algorithm=md5-sess,charset=utf-8'),
        b64(b'charset=utf-8,username="chris",realm="elwood.innosoft.com",'
            b'nonce="OA6MG9tEQGm2hh",nc=00000001,cnonce="OA6MHXh6VqTrRk",'
            b'digest-uri="imap/elwood.innosoft.com",'
            b'response=d388dad90d4bbd760a152321f2143af7,qop=auth')]))
    s.put("xoauth2", exchange("XOAUTH2", [
        b64(b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01")]))
    s.put("oauthbearer", exchange("OAUTHBEARER", [
        b64(b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
            b"auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01")]))
    s.put("scram-sha-256", exchange("SCRAM-SHA-256", [
        b64(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"),
        b64(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
        b64(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")]))
    s.put("scram-escaped", exchange("SCRAM-SHA-1", [b64(b"n,a=adm=2Cin,n=us=3Der=2C1,r=abc")]))
    s.put("gssapi", exchange("GSSAPI", [b"YIIB", b"", b"YGgGCSqGSIb3EgECAgIAb1kwV6ADAgEFoQMCAQ+"],
                             finish=False))
    s.put("custom-mech", bytes([0x0F]) + b"X-UNKNOWN\n" + b64(b"whatever"))
    for i, text in enumerate([b"AGFsaWNlAHMzY3JldA==", b"YWxpY2U", b"YWxpY2U=", b"=", b"",
                              b"Zm9vYg==", b"Zm9vYmE=", b"Zm9vYmFy", b"Zm9vYmE", b"Z===",
                              b"Zm9v YmFy"]):
        s.put("b64-%02d" % i, bytes([0x80, 16 if i != 2 else 4]) + text)
    return s


def tls_stream(segs):
    """The server's bytes from the first TLS record on (after STLS's +OK, or from the start)."""
    data = b"".join(p for is_server, *_, p in segs if is_server)
    i = data.find(b"\x16\x03")
    return data[i:] if i >= 0 else b""


def server_hello(legacy, sv=None, random=b"\x11" * 32, record_version=0x0303, split=None):
    exts = b""
    if sv is not None:
        exts = struct.pack(">HHH", 43, 2, sv)
    body = struct.pack(">H", legacy) + random + b"\x20" + b"\x22" * 32 + b"\x13\x01\x00"
    if sv is not None or legacy >= 0x0301:
        body += struct.pack(">H", len(exts)) + exts
    hs = b"\x02" + struct.pack(">I", len(body))[1:] + body
    if split is None:
        return b"\x16" + struct.pack(">HH", record_version, len(hs)) + hs
    a, b = hs[:split], hs[split:]
    return (b"\x16" + struct.pack(">HH", record_version, len(a)) + a +
            b"\x16" + struct.pack(">HH", record_version, len(b)) + b)


HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def seeds_tlssniff():
    s = Seeds("fuzz_tlssniff")
    for name in ("pop3-dovecot-capa-stls.pcap", "pop3-dovecot-pop3s.pcap"):
        stream = tls_stream(segments(os.path.join(CAPTURES, name)))[:1500]
        s.put(short(name) + "-whole", b"\x00\xff" + stream)
        s.put(short(name) + "-chunks", b"\x02\x05\x01\x40" + stream)
    s.put("tls12", b"\x00\xff" + server_hello(0x0303))
    s.put("tls13", b"\x00\xff" + server_hello(0x0303, sv=0x0304))
    s.put("tls10", b"\x01\x03\x07" + server_hello(0x0301, record_version=0x0301))
    s.put("sslv3", b"\x00\xff" + server_hello(0x0300, record_version=0x0300))
    s.put("split-records", b"\x00\x07" + server_hello(0x0303, sv=0x0304, split=10))
    s.put("hrr-then-sh", b"\x00\xff" + server_hello(0x0303, sv=0x0304, random=HRR_RANDOM) +
          b"\x14\x03\x03\x00\x01\x01" + server_hello(0x0303, sv=0x0304))
    s.put("alert", b"\x00\xff" + b"\x15\x03\x03\x00\x02\x02\x28")
    s.put("plaintext", b"\x00\xff+OK POP3 ready\r\n")
    return s


def client_tls_stream(segs):
    """The client's bytes from its first TLS record on."""
    data = b"".join(p for is_server, *_, p in segs if not is_server)
    i = data.find(b"\x16\x03")
    return data[i:] if i >= 0 else b""


def first_certificate(stream):
    """The first certificate's DER in a server's TLS stream (TLS 1.2), or b""."""
    hs, off = b"", 0
    while off + 5 <= len(stream):
        n = struct.unpack(">H", stream[off + 3:off + 5])[0]
        if stream[off] == 22:
            hs += stream[off + 5:off + 5 + n]
        off += 5 + n
    off = 0
    while off + 4 <= len(hs):
        n = int.from_bytes(hs[off + 1:off + 4], "big")
        if hs[off] == 11:
            m = hs[off + 4:off + 4 + n]
            return m[6:6 + int.from_bytes(m[3:6], "big")]
        off += 4 + n
    return b""


def client_hello(host):
    sni = b""
    if host is not None:
        name = b"\x00" + struct.pack(">H", len(host)) + host
        sni = struct.pack(">HHH", 0, len(name) + 2, len(name)) + name
    body = (b"\x03\x03" + b"\x61" * 32 + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00" +
            struct.pack(">H", len(sni)) + sni)
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs


def seeds_tlshello():
    s = Seeds("fuzz_tlshello")
    for name in ("managesieve-dovecot-starttls.pcap", "smtp-postfix-smtps.pcap"):
        stream = client_tls_stream(segments(os.path.join(CAPTURES, name)))[:1500]
        s.put(short(name) + "-client-whole", b"\x00\xff" + stream)
        s.put(short(name) + "-client-chunks", b"\x02\x05\x01\x40" + stream)
    cert = first_certificate(tls_stream(segments(os.path.join(CAPTURES,
                                                               "pop3-dovecot-pop3s.pcap"))))
    s.put("pop3s-certificate", b"\x00\xff" + cert)
    s.put("sni", b"\x00\xff" + client_hello(b"mail.example.test"))
    s.put("no-sni", b"\x00\x07" + client_hello(None))
    s.put("name", b"\x00\xff" + bytes.fromhex("3021310b3009060355040613024445"
                                                "3112301006035504030c096d782e6578616d706c65"))
    return s


def seeds_line():
    s = Seeds("fuzz_line")
    segs = segments(os.path.join(CAPTURES, "pop3-dovecot-user-pass.pcap"))
    client = b"".join(p for is_server, *_, p in segs if not is_server)
    server = b"".join(p for is_server, *_, p in segs if is_server)[:2000]
    s.put("client-whole", b"\x00\x00" + client)
    s.put("client-bytes", b"\x00\x01" + client)
    s.put("server-chunks", b"\x02\x07\x0d\x40" + server)
    s.put("bare-lf-and-cr", b"\x01\x03\x05" + b"USER a\nPASS b\r\r\nX\rY\r\n\n\r\n")
    s.put("overlong", b"\x08\x40" + b"A" * 8192 + b"\r\n" + b"B" * 8193 + b"\r\nC\r\n" +
          b"D" * 9000 + b"\nE\n")
    s.put("exact-limit-cr", b"\x09\x80\x7f" + b"x" * 8192 + b"\r\n" + b"y" * 8191 + b"\r")
    return s


def seeds_defrag():
    """Scripts for fuzz_defrag (its header gives the format)."""
    s = Seeds("fuzz_defrag")
    s.put("v4-inorder-8", bytes([0x00, 25] + list(range(12))))
    s.put("v4-reversed-16", bytes([0x08, 40] + list(range(11, -1, -1))))
    s.put("v6-random-dups-24", bytes([0x11, 60, 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]))
    s.put("v4-options-overlap", bytes([0x0c, 30, 0, 1, 0xc1, 0, 3, 1, 2, 3]))
    s.put("v4-too-big", bytes([0x00, 20, 0xff, 0xff, 0x40, 1, 0, 1]))
    s.put("v6-small-share", bytes([0x13, 200] + list(range(30))))
    return s


def main():
    if not os.path.isdir(CAPTURES):
        sys.exit("make-seeds.py: no captures/ directory at " + CAPTURES)
    total = 0
    for make in (seeds_capture, seeds_decode, seeds_defrag, seeds_reasm, seeds_pop3, seeds_smtp,
                 seeds_imap, seeds_managesieve, seeds_ftp, seeds_ldap, seeds_nntp, seeds_xmpp,
                 seeds_socks, seeds_httpconnect, seeds_http,
                 seeds_sasl, seeds_tlssniff, seeds_tlshello,
                 seeds_line):
        s = make()
        n = len(os.listdir(s.dir))
        print("%s: %d seeds, %d bytes" % (os.path.relpath(s.dir, ROOT), n, s.total))
        total += s.total
    print("total: %d bytes" % total)


if __name__ == "__main__":
    main()
