#!/usr/bin/env python3
"""The emulator's own ceiling for the Quectel Cat-1 dialect (EC600E), without the daemon.

A minimal AT client on tun2modem-sim's pty, one command at a time as the manual describes
(Quectel EC600E TCP/IP AT Commands Manual §2.4.7 QIOPEN, §2.4.10 QISEND, §2.4.12 QIRD), run
by scripts/bench to show what the serial line can carry in this dialect at all:

  open      --count N   AT+QIOPEN to the request/response port until "+QIOPEN: 0,0", then
                        AT+QICLOSE: the emulator's socket open time (the floor for a connect()
                        through the daemon, whose SYN-ACK waits for this URC).
  down      --bytes N   one socket, "N SEED\\n" to bench-peer's source, then AT+QIRD=0,1500
                        until N bytes are read: payload / time.
  up        --bytes N   one socket to bench-peer's sink, AT+QISEND=0,1460 chunks (each waits
                        for ">" and SEND OK), then the peer's sha256 via AT+QIRD.

Prints one JSON object. Bytes are checked (sha256) like bench-client.py's.
  bench-at.py MODE --pty PATH [--count N] [--bytes N] [--timeout S]
"""
import argparse, hashlib, json, os, random, select, statistics, sys, time, tty

PEER = "192.0.2.10"
SOURCE_PORT, SINK_PORT, RR_PORT = 8101, 8102, 8103
READ_CHUNK, SEND_CHUNK = 1500, 1460  # the dialect's maxima (QIRD 1500, QISEND 1460)


class ATError(Exception):
    pass


class Port:
    """A raw pty with a byte buffer; every wait is bounded by the run's deadline."""

    def __init__(self, path, deadline):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        self.buf, self.deadline, self.line_in, self.line_out = bytearray(), deadline, 0, 0

    def fill(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ATError("timed out")
        r, _, _ = select.select([self.fd], [], [], min(left, 1.0))
        if r:
            data = os.read(self.fd, 65536)
            self.line_in += len(data)
            self.buf += data

    def write(self, data):
        self.line_out += len(data)
        os.write(self.fd, data)

    def until(self, marker):
        """Everything up to and including marker."""
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = bytes(self.buf[:i + len(marker)])
                del self.buf[:i + len(marker)]
                return out
            self.fill()

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def command(self, text):
        """Sends a command; returns the lines before its final OK (ERROR raises)."""
        self.write(text.encode() + b"\r")
        lines = []
        while True:
            line = self.until(b"\r\n").strip()
            if line == b"OK":
                return lines
            if line.startswith(b"ERROR") or line.startswith(b"+CME ERROR"):
                raise ATError(f"{text}: {line.decode(errors='replace')}")
            if line:
                lines.append(line)


def setup(port):
    port.command("ATE0")
    if not any(l.startswith(b"+QIACT: 1,1") for l in port.command("AT+QIACT?")):
        port.command("AT+QIACT=1")


def open_socket(port, dest):
    port.command(f'AT+QIOPEN=1,0,"TCP","{PEER}",{dest},0,0')
    while True:
        line = port.until(b"\r\n").strip()
        if line.startswith(b"+QIOPEN: 0,"):
            if line != b"+QIOPEN: 0,0":
                raise ATError(f"open failed: {line.decode()}")
            return


def send(port, data):
    for i in range(0, len(data), SEND_CHUNK):
        chunk = data[i:i + SEND_CHUNK]
        port.write(f"AT+QISEND=0,{len(chunk)}\r".encode())
        port.until(b">")
        port.write(chunk)
        while True:
            line = port.until(b"\r\n").strip()
            if line == b"SEND OK":
                break
            if line in (b"SEND FAIL", b"ERROR"):
                raise ATError(f"QISEND: {line.decode()}")


def read(port, want):
    """Reads up to `want` bytes with AT+QIRD; when the modem has none, waits for its URC."""
    got, urc = bytearray(), b'+QIURC: "recv",0'
    while len(got) < want:
        port.write(f"AT+QIRD=0,{min(READ_CHUNK, want - len(got))}\r".encode())
        announced = False  # a recv URC may arrive among the response lines
        while True:
            line = port.until(b"\r\n").strip()
            if line.startswith(b"+QIRD: "):
                n = int(line.split(b":")[1].split(b",")[0])
                break
            if line == b"ERROR":
                raise ATError("QIRD: ERROR")
            announced = announced or line.startswith(urc)
        got += port.take(n)
        while True:
            line = port.until(b"\r\n").strip()
            if line == b"OK":
                break
            announced = announced or line.startswith(urc)
        if n == 0 and not announced:
            port.until(urc)  # nothing buffered: wait until the modem says there is
    return bytes(got)


def mode_open(port, a):
    times = []
    for _ in range(a.count):
        t0 = time.monotonic()
        open_socket(port, RR_PORT)
        times.append(time.monotonic() - t0)
        port.command("AT+QICLOSE=0")
    ms = sorted(t * 1000 for t in times)
    return {"mode": "open", "count": len(ms), "ok": True, "median_ms": round(statistics.median(ms), 2),
            "max_ms": round(ms[-1], 2)}


def mode_down(port, a):
    seed = 7
    expected = hashlib.sha256(random.Random(seed).randbytes(a.bytes)).hexdigest()
    open_socket(port, SOURCE_PORT)
    send(port, f"{a.bytes} {seed}\n".encode())
    line_before, t0 = port.line_in, time.monotonic()
    data = read(port, a.bytes)
    seconds = time.monotonic() - t0
    ok = hashlib.sha256(data).hexdigest() == expected
    port.command("AT+QICLOSE=0")
    return {"mode": "down", "bytes": len(data), "ok": ok, "seconds": round(seconds, 4),
            "goodput": round(len(data) / seconds, 1), "line_bytes": port.line_in - line_before,
            **({} if ok else {"error": "sha256 differs"})}


def mode_up(port, a):
    data = random.Random(7).randbytes(a.bytes)
    open_socket(port, SINK_PORT)
    line_before, t0 = port.line_out, time.monotonic()
    send(port, f"{a.bytes}\n".encode() + data)
    answer = read(port, 65).decode("ascii", "replace").strip()
    seconds = time.monotonic() - t0
    ok = answer == hashlib.sha256(data).hexdigest()
    port.command("AT+QICLOSE=0")
    return {"mode": "up", "bytes": a.bytes, "ok": ok, "seconds": round(seconds, 4),
            "goodput": round(a.bytes / seconds, 1), "line_bytes": port.line_out - line_before,
            **({} if ok else {"error": f"peer answered {answer[:16]!r}"})}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["open", "down", "up"])
    ap.add_argument("--pty", required=True)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--bytes", type=int, default=64 * 1024)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    if not 1 <= a.count <= 1000 or not 1 <= a.bytes <= 1 << 28 or not 1 <= a.timeout <= 7200:
        ap.error("--count 1..1000, --bytes 1..256 MiB, --timeout 1..7200")
    port = Port(a.pty, time.monotonic() + a.timeout)
    try:
        setup(port)
        out = {"open": mode_open, "down": mode_down, "up": mode_up}[a.mode](port, a)
    except (ATError, OSError, ValueError) as e:
        out = {"mode": a.mode, "ok": False, "error": str(e)}
    print(json.dumps(out), flush=True)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
