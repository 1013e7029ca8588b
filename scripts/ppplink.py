#!/usr/bin/env python3
"""PPP's data path on a simulated serial line: the benchmark baseline for tun2modem.

The kernels here have no PPP (CONFIG_PPP is not set), so pppd cannot run. This tool joins two
TUN devices, one in each lab namespace, and carries every IP packet across a simulated UART
framed exactly as pppd's data phase puts it on the wire:

  RFC 1662 async HDLC; protocol 0x0021 (IPv4) or 0x0057 (IPv6) with PFC, so 0x21 / 0x57
  one byte; ACFC, so no address/control bytes; FCS-16; byte stuffing of 0x7E and 0x7D with
  ACCM 0 (no control characters escaped); one flag byte between frames; no VJ compression
  unless --vj (RFC 1144, protocols 0x2D/0x2F, 16 slots, as pppd negotiates it).

Each direction is a line of baud/10 bytes per second (8N1). A frame is delivered when its
last byte has crossed the line, plus --latency-ms (a one-way radio delay, the same for both
directions, so a round trip gains twice it; the line itself stays busy only for the bytes'
own time); the receiving side unstuffs it and checks its FCS, dropping (and counting) a bad
one. While a line's untransmitted backlog exceeds one frame the tool stops reading that TUN,
so the kernel queues packets as it would in front of a real tty.

  ppplink.py --baud N --a-netns NS --a-addr CIDR --b-netns NS --b-addr CIDR [--mtu 1500]
             [--latency-ms N] [--vj] [--txqueuelen N]
  ppplink.py --self-test
"""
import argparse, fcntl, os, select, signal, struct, subprocess, sys, time

FLAG, ESC = 0x7E, 0x7D
PROTO_IPV4, PROTO_IPV6 = 0x21, 0x57
GOOD_FCS = 0xF0B8  # RFC 1662 §C.2: the FCS over data plus its own FCS


def _fcs_table():
    table = []
    for b in range(256):
        v = b
        for _ in range(8):
            v = (v >> 1) ^ 0x8408 if v & 1 else v >> 1
        table.append(v)
    return table


FCS_TABLE = _fcs_table()


def fcs16(data: bytes, fcs: int = 0xFFFF) -> int:
    t = FCS_TABLE
    for b in data:
        fcs = (fcs >> 8) ^ t[(fcs ^ b) & 0xFF]
    return fcs


def encode(packet: bytes, proto=None) -> bytes:
    """One packet as the bytes between two flags (the leading flag is added by the line).
    `proto`: the PPP protocol byte (PFC); by default IPv4's or IPv6's by the version."""
    if proto is None:
        version = packet[0] >> 4 if packet else 0
        proto = PROTO_IPV6 if version == 6 else PROTO_IPV4
    body = bytes([proto]) + packet
    fcs = fcs16(body) ^ 0xFFFF
    body += bytes([fcs & 0xFF, fcs >> 8])
    # ACCM 0: only the flag and the escape byte itself are stuffed.
    return body.replace(b"\x7d", b"\x7d\x5d").replace(b"\x7e", b"\x7d\x5e") + b"\x7e"


def decode_frame(frame: bytes):
    """(protocol byte, information field) of a stuffed frame without flags, or None if it
    is malformed or fails its FCS."""
    out, i = bytearray(), 0
    while i < len(frame):
        b = frame[i]
        if b == ESC:
            if i + 1 >= len(frame):
                return None
            out.append(frame[i + 1] ^ 0x20)
            i += 2
        else:
            out.append(b)
            i += 1
    if len(out) < 4 or fcs16(bytes(out)) != GOOD_FCS:
        return None
    return out[0], bytes(out[1:-2])


def decode(frame: bytes):
    """The IP packet in a stuffed frame (without flags), or None if it is malformed."""
    got = decode_frame(frame)
    if got is None or got[0] not in (PROTO_IPV4, PROTO_IPV6):
        return None
    return got[1]


# ---- Van Jacobson TCP/IP header compression (RFC 1144), the optional second baseline ----
#
# pppd negotiates it with IPCP option 2 (RFC 1332); compressed and uncompressed TCP travel
# as PPP protocols 0x002D and 0x002F. The encoder follows RFC 1144 appendix A.2
# (sl_compress_tcp), the decoder A.3 (sl_uncompress_tcp), with 16 connection slots and the
# connection-number compression ("C" bit) on, as pppd's default `vj-max-slots 16`.
# A packet whose TCP options change (Linux's timestamps change on every segment) cannot be
# compressed (A.2: "any of the IP or TCP options changed") and goes as UNCOMPRESSED_TCP:
# VJ saves bytes only when net.ipv4.tcp_timestamps is 0.

PROTO_VJC, PROTO_VJUC = 0x2D, 0x2F
NEW_C, NEW_I, TCP_PUSH, NEW_S, NEW_A, NEW_W, NEW_U = 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01
SPECIAL_I, SPECIAL_D = NEW_S | NEW_W | NEW_U, NEW_S | NEW_A | NEW_W | NEW_U
SPECIALS_MASK = SPECIAL_D
TH_FIN, TH_SYN, TH_RST, TH_PUSH, TH_ACK, TH_URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
VJ_SLOTS = 16


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _with_ip_checksum(header: bytearray) -> bytearray:
    header[10:12] = b"\0\0"
    header[10:12] = struct.pack("!H", _ip_checksum(bytes(header[:20])))
    return header


def _encode_delta(n, zero_is_long=False):
    """A.2 ENCODE / ENCODEZ: 1..255 in one byte, else 0 and two bytes big-endian."""
    n &= 0xFFFF
    if n >= 256 or (zero_is_long and n == 0):
        return bytes([0, n >> 8, n & 0xFF])
    return bytes([n])


class VJCompressor:
    """The sending side of one direction: (PPP protocol byte, information field) per packet."""

    def __init__(self):
        self.slots = {}   # (addresses, ports) -> slot
        self.saved = {}   # slot -> the last header sent (IP + TCP, options included)
        self.order = []   # slots, least recently used first
        self.last = None  # the slot of the last packet sent

    def compress(self, packet: bytes):
        if len(packet) < 40 or packet[0] != 0x45 or packet[9] != 6:
            return PROTO_IPV4 if packet and packet[0] >> 4 == 4 else PROTO_IPV6, packet
        if struct.unpack("!H", packet[6:8])[0] & 0x3FFF:  # a fragment
            return PROTO_IPV4, packet
        hlen = 20 + (packet[32] >> 4) * 4
        flags = packet[33]
        if hlen < 40 or len(packet) < hlen or flags & (TH_SYN | TH_FIN | TH_RST) or not flags & TH_ACK:
            return PROTO_IPV4, packet
        key = packet[12:24]
        slot = self.slots.get(key)
        if slot is None:
            slot = self._assign(key)
            return self._uncompressed(slot, packet, hlen)
        self.order.remove(slot)
        self.order.append(slot)
        old = self.saved[slot]
        old_hlen = 20 + (old[32] >> 4) * 4
        # A.2: anything that should not change between segments sends the header whole.
        if (packet[0:2] != old[0:2] or packet[6:10] != old[6:10] or hlen != old_hlen
                or packet[40:hlen] != old[40:hlen]):
            return self._uncompressed(slot, packet, hlen)
        seq, ack = struct.unpack("!II", packet[24:32])
        oseq, oack = struct.unpack("!II", old[24:32])
        win, urp = struct.unpack("!H", packet[34:36])[0], struct.unpack("!H", packet[38:40])[0]
        owin, ourp = struct.unpack("!H", old[34:36])[0], struct.unpack("!H", old[38:40])[0]
        changes, deltas = 0, b""
        if flags & TH_URG:
            deltas += _encode_delta(urp, zero_is_long=True)
            changes |= NEW_U
        elif urp != ourp:
            return self._uncompressed(slot, packet, hlen)
        if win != owin:
            deltas += _encode_delta(win - owin, zero_is_long=True)
            changes |= NEW_W
        d_ack = (ack - oack) & 0xFFFFFFFF
        if d_ack:
            if d_ack > 0xFFFF:
                return self._uncompressed(slot, packet, hlen)
            deltas += _encode_delta(d_ack)
            changes |= NEW_A
        d_seq = (seq - oseq) & 0xFFFFFFFF
        if d_seq:
            if d_seq > 0xFFFF:
                return self._uncompressed(slot, packet, hlen)
            deltas += _encode_delta(d_seq)
            changes |= NEW_S
        total, old_total = len(packet), struct.unpack("!H", old[2:4])[0]
        old_data = old_total - old_hlen
        if changes == 0:
            # A retransmitted ACK or window probe after a bare ACK: the receiver could not
            # tell it from a duplicate, so it goes whole.
            if total != old_total and old_total == old_hlen:
                return self._uncompressed(slot, packet, hlen)
        elif changes in (SPECIAL_I, SPECIAL_D):
            return self._uncompressed(slot, packet, hlen)
        elif changes == NEW_S | NEW_A and d_seq == d_ack and d_seq == old_data:
            changes, deltas = SPECIAL_I, b""
        elif changes == NEW_S and d_seq == old_data:
            changes, deltas = SPECIAL_D, b""
        d_id = (struct.unpack("!H", packet[4:6])[0] - struct.unpack("!H", old[4:6])[0]) & 0xFFFF
        if d_id != 1:
            # ENCODEZ, as A.2 does for the IP ID: kernels that send DF segments with ID 0
            # make a delta of 0, which needs the long form to be told from it.
            deltas += _encode_delta(d_id, zero_is_long=True)
            changes |= NEW_I
        if flags & TH_PUSH:
            changes |= TCP_PUSH
        self.saved[slot] = bytes(packet[:hlen])
        head = bytes([changes | NEW_C, slot]) if slot != self.last else bytes([changes])
        self.last = slot
        return PROTO_VJC, head + packet[36:38] + deltas + packet[hlen:]

    def _assign(self, key):
        if len(self.order) < VJ_SLOTS:
            slot = len(self.order)
        else:
            slot = self.order.pop(0)
            self.slots = {k: v for k, v in self.slots.items() if v != slot}
        self.slots[key] = slot
        self.order.append(slot)
        return slot

    def _uncompressed(self, slot, packet, hlen):
        self.saved[slot] = bytes(packet[:hlen])
        self.last = slot
        body = bytearray(packet)
        body[9] = slot  # A.2: the protocol field carries the slot
        return PROTO_VJUC, bytes(body)


class VJDecompressor:
    """The receiving side: the IP packet for each VJ frame, or None (counted as an error,
    and, as A.3 says, every compressed packet after it is dropped until an uncompressed one
    resynchronises the slot)."""

    def __init__(self):
        self.saved, self.last, self.toss = {}, None, True
        self.errors = 0

    def uncompress(self, proto, body: bytes):
        if proto == PROTO_VJUC:
            if len(body) < 40 or body[9] >= VJ_SLOTS or body[0] != 0x45:
                return self._error()
            hlen = 20 + (body[32] >> 4) * 4
            if len(body) < hlen:
                return self._error()
            slot, packet = body[9], bytearray(body)
            packet[9] = 6
            self.saved[slot], self.last, self.toss = bytearray(packet[:hlen]), slot, False
            return bytes(packet)
        if proto != PROTO_VJC or not body:
            return self._error()
        try:
            return self._compressed(body)
        except IndexError:
            return self._error()

    def _compressed(self, body):
        changes, i = body[0], 1
        if changes & NEW_C:
            if body[1] >= VJ_SLOTS:
                return self._error()
            self.last, self.toss, i = body[1], False, 2
        if self.toss or self.last not in self.saved:
            return self._error()
        h = self.saved[self.last]
        hlen = 20 + (h[32] >> 4) * 4
        h[36:38] = body[i:i + 2]
        i += 2
        h[33] = (h[33] | TH_PUSH) if changes & TCP_PUSH else (h[33] & ~TH_PUSH)

        def delta():
            nonlocal i
            if body[i] == 0:
                v = (body[i + 1] << 8) | body[i + 2]
                i += 3
            else:
                v = body[i]
                i += 1
            return v

        seq, ack = struct.unpack("!II", h[24:32])
        old_data = struct.unpack("!H", h[2:4])[0] - hlen
        special = changes & SPECIALS_MASK
        if special == SPECIAL_I:
            seq, ack = seq + old_data, ack + old_data
        elif special == SPECIAL_D:
            seq += old_data
        else:
            if changes & NEW_U:
                h[33] |= TH_URG
                h[38:40] = struct.pack("!H", delta())
            else:
                h[33] &= ~TH_URG
            if changes & NEW_W:
                h[34:36] = struct.pack("!H", (struct.unpack("!H", h[34:36])[0] + delta()) & 0xFFFF)
            if changes & NEW_A:
                ack += delta()
            if changes & NEW_S:
                seq += delta()
        h[24:32] = struct.pack("!II", seq & 0xFFFFFFFF, ack & 0xFFFFFFFF)
        ident = struct.unpack("!H", h[4:6])[0] + (delta() if changes & NEW_I else 1)
        h[4:6] = struct.pack("!H", ident & 0xFFFF)
        if i > len(body):
            return self._error()
        data = body[i:]
        h[2:4] = struct.pack("!H", hlen + len(data))
        _with_ip_checksum(h)
        return bytes(h) + data

    def _error(self):
        self.errors += 1
        self.toss = True
        return None


def self_test():
    import random
    rng = random.Random(7)
    for n in [20, 21, 100, 1500]:
        for _ in range(200):
            pkt = bytes([0x45]) + bytes(rng.getrandbits(8) for _ in range(n - 1))
            wire = encode(pkt)
            assert wire.endswith(b"\x7e") and b"\x7e" not in wire[:-1]
            assert decode(wire[:-1]) == pkt
            corrupt = bytearray(wire[:-1]); corrupt[len(corrupt) // 2] ^= 0x01
            assert decode(bytes(corrupt)) != pkt
    assert fcs16(b"123456789") ^ 0xFFFF == 0x906E  # the CRC-16/X-25 check value
    # The line's clock: 1000 B/s, 50 ms one-way delay; a packet with no 0x7E/0x7D in it.
    r, w = os.pipe()
    try:
        line, pkt = Line(1000.0, w, delay=0.05), bytes([0x45]) + bytes(96)
        line.send(pkt, now=10.0)
        wire = len(encode(pkt)) + 1  # the opening flag after idle time
        assert line.line_bytes == wire and abs(line.backlog(10.0) - wire) < 1e-6
        line.send(pkt, now=10.0)  # back to back: no second opening flag
        assert line.line_bytes == 2 * wire - 1
        first = 10.0 + wire / 1000.0 + 0.05
        assert abs(line.next_event(10.0, 10_000) - first) < 1e-9
        line.deliver(first - 0.001)
        assert line.frames == 0  # the last byte has left, but the radio delay has not passed
        line.deliver(first)
        assert line.frames == 1 and os.read(r, 4096) == pkt
        # Only untransmitted bytes count as backlog, so reading resumes before delivery.
        assert line.backlog(10.0 + (2 * wire - 1) / 1000.0) < 1e-6
    finally:
        os.close(r); os.close(w)
    vj_self_test(rng)


def tcp_packet(src, dst, sport, dport, seq, ack, ident, flags=TH_ACK, win=502, urp=0, data=b"", options=b""):
    """An IPv4/TCP packet with a valid IP checksum (the TCP checksum is left arbitrary:
    VJ carries it through untouched)."""
    hlen = 40 + len(options)
    ip_header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, hlen + len(data), ident, 0x4000, 64, 6, 0,
                                      bytes(src), bytes(dst)))
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (hlen - 20) // 4 << 4, flags, win,
                      (seq * 7 + ack) & 0xFFFF, urp) + options
    return bytes(_with_ip_checksum(ip_header)) + tcp + data


def vj_self_test(rng):
    a, b = [10, 0, 0, 1], [192, 0, 2, 10]
    tx, rx = VJCompressor(), VJDecompressor()
    sent = []  # (packet, protocol, information field)

    def through(pkt):
        proto, body = tx.compress(pkt)
        sent.append((pkt, proto, body))
        got = rx.uncompress(proto, body) if proto in (PROTO_VJC, PROTO_VJUC) else body
        assert got == pkt, (proto, body[:12].hex(), pkt[:40].hex(), got and got[:40].hex())
        return proto, body

    seq, ack, ident = 1000, 5000, 100
    # A bulk stream: the first segment whole, then SPECIAL_D (1 byte + checksum).
    for n in range(40):
        data = bytes(rng.getrandbits(8) for _ in range(1448))
        proto, body = through(tcp_packet(a, b, 40000, 80, seq, ack, ident, TH_ACK | (TH_PUSH if n % 5 == 4 else 0), data=data))
        assert (proto, len(body) - 1448) == ((PROTO_VJUC, 40) if n == 0 else (PROTO_VJC, 3)), (n, proto, len(body))
        seq, ident = seq + 1448, ident + 1
    # The other direction's ACKs: NEW_A, then window changes, an IP id jump, urgent data.
    back_seq, back_ack = 5000, 1000
    for n in range(10):
        back_ack += 2896
        proto, body = through(tcp_packet(b, a, 80, 40000, back_seq, back_ack, 7 + n, win=502 + (n % 3) * 300))
        assert proto == PROTO_VJC and len(body) <= 2 + 2 + 3 + 3 or n == 0
    through(tcp_packet(b, a, 80, 40000, back_seq, back_ack, 900, win=1))
    through(tcp_packet(b, a, 80, 40000, back_seq, back_ack, 901, flags=TH_ACK | TH_URG, urp=3, data=b"urg"))
    through(tcp_packet(b, a, 80, 40000, back_seq + 3, back_ack, 902, data=b"x" * 3))  # SPECIAL_D after urgent
    # An IP ID that does not change (DF segments with ID 0): the delta 0 needs the long form.
    for n in range(3):
        through(tcp_packet(b, a, 80, 40000, back_seq + 3 + 10 * n, back_ack, 0, data=b"z" * 10))
    # A retransmission (sequence going back) and a 70 KiB jump cannot be deltas: sent whole.
    assert through(tcp_packet(a, b, 40000, 80, seq - 3 * 1448, ack, ident, data=b"r" * 1448))[0] == PROTO_VJUC
    assert through(tcp_packet(a, b, 40000, 80, seq + 70000, ack, ident + 1, data=b"j" * 10))[0] == PROTO_VJUC
    # Changing TCP options (timestamps) defeat compression, as in A.2.
    for n in range(3):
        proto, _ = through(tcp_packet(a, b, 40001, 80, 1, 1, n, options=b"\x01\x01\x08\x0a" + struct.pack("!II", n, 9),
                                      data=b"t" * 100))
        assert proto == PROTO_VJUC
    # SYN, FIN and UDP are plain IP.
    assert through(tcp_packet(a, b, 40002, 80, 1, 0, 1, flags=TH_SYN))[0] == PROTO_IPV4
    assert through(tcp_packet(a, b, 40000, 80, seq, ack, ident, flags=TH_ACK | TH_FIN))[0] == PROTO_IPV4
    udp = bytes(_with_ip_checksum(bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 64, 17, 0, bytes(a), bytes(b))))) + bytes(8)
    assert through(udp)[0] == PROTO_IPV4
    # 20 interleaved connections over 16 slots: evictions, NEW_C, and every packet intact.
    state = {p: (p * 1000, 0) for p in range(20)}
    for n in range(400):
        port = rng.randrange(20)
        s0, i0 = state[port]
        size = rng.choice([0, 1, 100, 1448])
        through(tcp_packet(a, b, 50000 + port, 80, s0, 77, i0, data=bytes(size)))
        state[port] = (s0 + size, i0 + 1)
    assert rx.errors == 0
    # A lost frame: the decompressor tosses compressed packets until an uncompressed one.
    lost_rx = VJDecompressor()
    assert lost_rx.uncompress(PROTO_VJC, sent[5][2]) is None and lost_rx.errors == 1
    assert lost_rx.uncompress(sent[0][1], sent[0][2]) == sent[0][0]
    assert lost_rx.uncompress(PROTO_VJC, b"\x40\x99\x00\x00") is None  # slot out of range
    assert lost_rx.uncompress(PROTO_VJC, b"\x0f") is None  # truncated
    print("ppplink: self-test passed")


TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def ip(*args):
    subprocess.run(["ip", *args], check=True)


class Line:
    """One direction of the UART: frames leave at baud/10 bytes per second and arrive
    `delay` seconds after their last byte has left."""

    def __init__(self, rate, out_fd, delay=0.0, vj=False):
        self.rate, self.out_fd, self.delay = rate, out_fd, delay
        self.free_at = 0.0
        self.in_flight = []  # (arrival time, stuffed frame), in arrival order
        self.frames = self.line_bytes = self.bad_fcs = self.write_drops = 0
        # The compressor sits at this line's sending end, the decompressor at its far end.
        self.vj_out, self.vj_in = (VJCompressor(), VJDecompressor()) if vj else (None, None)
        self.vj_compressed = 0

    def backlog(self, now):
        """Bytes still waiting to cross the line (those already sent are only in flight)."""
        return max(0.0, self.free_at - now) * self.rate

    def send(self, packet, now):
        if self.vj_out is not None:
            proto, body = self.vj_out.compress(packet)
            self.vj_compressed += proto == PROTO_VJC
            frame = encode(body, proto)
        else:
            frame = encode(packet)
        start = max(now, self.free_at)
        # A flag opens the line after idle time; back-to-back frames share one flag.
        wire = len(frame) + (1 if start > self.free_at else 0)
        self.free_at = start + wire / self.rate
        self.in_flight.append((self.free_at + self.delay, frame))
        self.line_bytes += wire

    def deliver(self, now):
        while self.in_flight and self.in_flight[0][0] <= now:
            _, frame = self.in_flight.pop(0)
            got = decode_frame(frame[:-1])
            if got is None:
                self.bad_fcs += 1
                continue
            proto, packet = got
            if proto in (PROTO_VJC, PROTO_VJUC) and self.vj_in is not None:
                packet = self.vj_in.uncompress(proto, packet)
            elif proto not in (PROTO_IPV4, PROTO_IPV6):
                packet = None
            if packet is None:
                continue  # counted by the decompressor (vj_errors)
            try:
                os.write(self.out_fd, packet)
                self.frames += 1
            except BlockingIOError:
                self.write_drops += 1

    def next_event(self, now, limit):
        """The next time something changes: a delivery, or the backlog falling under `limit`."""
        times = [self.in_flight[0][0]] if self.in_flight else []
        if self.backlog(now) >= limit:
            times.append(self.free_at - limit / self.rate)
        return min(times) if times else None


def run(a):
    rate = a.baud / 10.0
    fa, fb = open_tun(a.a_name), open_tun(a.b_name)
    for name, ns, addr in ((a.a_name, a.a_netns, a.a_addr), (a.b_name, a.b_netns, a.b_addr)):
        ip("link", "set", name, "netns", ns)
        ip("-n", ns, "link", "set", name, "mtu", str(a.mtu), "up")
        if a.txqueuelen is not None:
            ip("-n", ns, "link", "set", name, "txqueuelen", str(a.txqueuelen))
        ip("-n", ns, "addr", "add", addr, "dev", name)
    delay = a.latency_ms / 1000.0
    lines = {fa: Line(rate, fb, delay, a.vj), fb: Line(rate, fa, delay, a.vj)}
    limit = a.mtu + 16
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    print(f"ppplink: up at {a.baud} baud ({rate:.0f} B/s each way), latency {a.latency_ms} ms"
          + (", VJ header compression" if a.vj else ""), flush=True)
    while not stop:
        now = time.monotonic()
        for line in lines.values():
            line.deliver(now)
        # Read a TUN only while its line holds less than one full frame of backlog.
        readable = [fd for fd, line in lines.items() if line.backlog(now) < limit]
        deadlines = [t for t in (l.next_event(now, limit) for l in lines.values()) if t is not None]
        timeout = max(0.0, min(deadlines) - now) if deadlines else 0.5
        try:
            ready, _, _ = select.select(readable, [], [], min(timeout, 0.5))
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd in ready:
            try:
                packet = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if packet:
                lines[fd].send(packet, now)
    for label, line in (("a->b", lines[fa]), ("b->a", lines[fb])):
        print(f"ppplink: {label}: frames={line.frames} line_bytes={line.line_bytes} "
              f"bad_fcs={line.bad_fcs} write_drops={line.write_drops}"
              + (f" vj_compressed={line.vj_compressed} vj_errors={line.vj_in.errors}" if a.vj else ""), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--mtu", type=int, default=1500)
    ap.add_argument("--latency-ms", type=int, default=0, help="one-way delay added to every frame")
    ap.add_argument("--vj", action="store_true", help="Van Jacobson TCP/IP header compression (RFC 1144)")
    ap.add_argument("--txqueuelen", type=int, help="the TUNs' queue in packets (Linux's ppp_generic "
                    "gives pppN 3; a TUN gets 500); a full queue drops, as a full pfifo in front of pppN does")
    ap.add_argument("--a-name", default="t2mppp-a")
    ap.add_argument("--b-name", default="t2mppp-b")
    ap.add_argument("--a-netns")
    ap.add_argument("--b-netns")
    ap.add_argument("--a-addr")
    ap.add_argument("--b-addr")
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    if not all([a.a_netns, a.b_netns, a.a_addr, a.b_addr]):
        ap.error("--a-netns, --b-netns, --a-addr and --b-addr are required (or --self-test)")
    if not 300 <= a.baud <= 4_000_000:
        ap.error("--baud must be between 300 and 4000000")
    if a.txqueuelen is not None and not 1 <= a.txqueuelen <= 10_000:
        ap.error("--txqueuelen must be between 1 and 10000")
    if not 0 <= a.latency_ms <= 10_000:
        ap.error("--latency-ms must be between 0 and 10000")
    run(a)


if __name__ == "__main__":
    sys.exit(main())
