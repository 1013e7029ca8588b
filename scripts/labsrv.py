#!/usr/bin/env python3
"""The lab's servers, run inside the "net" namespace (see scripts/lab).

  HTTP  GET  /random/N[?seed=S]  N deterministic pseudo-random bytes; header X-SHA256
        POST /upload             answers the sha256 hex of the body it received
  TCP   echo on port 7; UDP echo on port 7 and on ports 7001-7019 (--udp-echo-ports),
        so tests can reach many distinct UDP peers (one shared modem UDP socket
        carries one session per remote endpoint)

Everything binds to the address given (192.0.2.10 in the lab); stdlib only.
"""
import argparse, hashlib, random, selectors, socket, socketserver, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BYTES = 256 * 1024 * 1024  # a bound on what one request may ask for or send


def random_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: tests read their own output
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        parts = path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "random" or not parts[1].isdigit():
            return self.reply(404, b"not found\n")
        n = int(parts[1])
        if n > MAX_BYTES:
            return self.reply(413, b"too large\n")
        seed = 0
        for kv in query.split("&"):
            k, _, v = kv.partition("=")
            if k == "seed" and v.isdigit():
                seed = int(v)
        body = random_bytes(n, seed)
        self.reply(200, body, {"X-SHA256": hashlib.sha256(body).hexdigest()})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        if length > MAX_BYTES:
            return self.reply(413, b"too large\n")
        digest, left = hashlib.sha256(), length
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        self.reply(200, (digest.hexdigest() + "\n").encode())

    do_PUT = do_POST

    def reply(self, code, body, headers=None):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


class TCPEcho(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            self.request.sendall(data)


class ThreadingTCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def udp_echo(addr, ports):
    """Echoes every datagram on each of `ports` back to its sender, from that port."""
    sel = selectors.DefaultSelector()
    for port in ports:
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, port))
        sel.register(s, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            data, peer = key.fileobj.recvfrom(65535)
            key.fileobj.sendto(data, peer)


def port_range(text):
    """'7001-7019' or '7001' or '' → list of ports."""
    if not text:
        return []
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", default="192.0.2.10")
    ap.add_argument("--http-port", type=int, default=80)
    ap.add_argument("--echo-port", type=int, default=7)
    ap.add_argument("--udp-echo-ports", default="7001-7019", help="more UDP echo ports (a range)")
    a = ap.parse_args()
    extra = port_range(a.udp_echo_ports)
    ThreadingHTTPServer.daemon_threads = True
    http = ThreadingHTTPServer((a.address, a.http_port), Handler)
    echo = ThreadingTCP((a.address, a.echo_port), TCPEcho)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    threading.Thread(target=udp_echo, args=(a.address, [a.echo_port] + extra), daemon=True).start()
    more = f", udp echo :{a.udp_echo_ports}" if extra else ""
    print(f"labsrv: http {a.address}:{a.http_port}, tcp+udp echo :{a.echo_port}{more}", flush=True)
    http.serve_forever()


if __name__ == "__main__":
    main()
