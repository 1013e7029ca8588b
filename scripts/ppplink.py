#!/usr/bin/env python3
"""PPP's data path on a simulated serial line: the benchmark baseline for tun2modem.

The kernels here have no PPP (CONFIG_PPP is not set), so pppd cannot run. This tool joins two
TUN devices, one in each lab namespace, and carries every IP packet across a simulated UART
framed exactly as pppd's data phase puts it on the wire:

  RFC 1662 async HDLC; protocol 0x0021 (IPv4) or 0x0057 (IPv6) with PFC, so 0x21 / 0x57
  one byte; ACFC, so no address/control bytes; FCS-16; byte stuffing of 0x7E and 0x7D with
  ACCM 0 (no control characters escaped); one flag byte between frames; no VJ compression.

Each direction is a line of baud/10 bytes per second (8N1). A frame is delivered when its
last byte has crossed the line, plus --latency-ms (a one-way radio delay, the same for both
directions, so a round trip gains twice it; the line itself stays busy only for the bytes'
own time); the receiving side unstuffs it and checks its FCS, dropping (and counting) a bad
one. While a line's untransmitted backlog exceeds one frame the tool stops reading that TUN,
so the kernel queues packets as it would in front of a real tty.

  ppplink.py --baud N --a-netns NS --a-addr CIDR --b-netns NS --b-addr CIDR [--mtu 1500]
             [--latency-ms N]
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


def encode(packet: bytes) -> bytes:
    """One IP packet as the bytes between two flags (the leading flag is added by the line)."""
    version = packet[0] >> 4 if packet else 0
    body = bytes([PROTO_IPV6 if version == 6 else PROTO_IPV4]) + packet
    fcs = fcs16(body) ^ 0xFFFF
    body += bytes([fcs & 0xFF, fcs >> 8])
    # ACCM 0: only the flag and the escape byte itself are stuffed.
    return body.replace(b"\x7d", b"\x7d\x5d").replace(b"\x7e", b"\x7d\x5e") + b"\x7e"


def decode(frame: bytes):
    """The IP packet in a stuffed frame (without flags), or None if it is malformed."""
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
    if out[0] not in (PROTO_IPV4, PROTO_IPV6):
        return None
    return bytes(out[1:-2])


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

    def __init__(self, rate, out_fd, delay=0.0):
        self.rate, self.out_fd, self.delay = rate, out_fd, delay
        self.free_at = 0.0
        self.in_flight = []  # (arrival time, stuffed frame), in arrival order
        self.frames = self.line_bytes = self.bad_fcs = self.write_drops = 0

    def backlog(self, now):
        """Bytes still waiting to cross the line (those already sent are only in flight)."""
        return max(0.0, self.free_at - now) * self.rate

    def send(self, packet, now):
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
            packet = decode(frame[:-1])
            if packet is None:
                self.bad_fcs += 1
                continue
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
        ip("-n", ns, "addr", "add", addr, "dev", name)
    delay = a.latency_ms / 1000.0
    lines = {fa: Line(rate, fb, delay), fb: Line(rate, fa, delay)}
    limit = a.mtu + 16
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    print(f"ppplink: up at {a.baud} baud ({rate:.0f} B/s each way), latency {a.latency_ms} ms", flush=True)
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
              f"bad_fcs={line.bad_fcs} write_drops={line.write_drops}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--mtu", type=int, default=1500)
    ap.add_argument("--latency-ms", type=int, default=0, help="one-way delay added to every frame")
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
    if not 0 <= a.latency_ms <= 10_000:
        ap.error("--latency-ms must be between 0 and 10000")
    run(a)


if __name__ == "__main__":
    sys.exit(main())
