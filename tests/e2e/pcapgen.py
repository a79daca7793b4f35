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
