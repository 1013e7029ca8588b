#!/usr/bin/env python3
"""The benchmark's far end, run by scripts/bench inside the lab's "net" namespace.

Three TCP services on one address (192.0.2.10 in the lab), each with bare framing so that the
only bytes a transfer moves are its payload and one short header line:

  SOURCE_PORT  client sends "N SEED\\n"; the peer sends N bytes of seeded pseudo-random data
               (bench-client.py regenerates them to check what arrived) and closes.
  SINK_PORT    client sends "N\\n" and then N bytes; the peer answers "<sha256 hex>\\n".
  RR_PORT      request/response: each 100-byte request is answered with 1024 bytes, until EOF.

Stdlib only; one thread per connection (the benchmark holds at most a few hundred at once).
"""
import argparse, hashlib, random, socket, socketserver, sys, threading

SOURCE_PORT, SINK_PORT, RR_PORT = 8101, 8102, 8103
REQUEST, RESPONSE = 100, 1024
MAX_BYTES = 1 << 30  # a bound on what one transfer may ask for
CHUNK = 64 * 1024


def payload(n: int, seed: int) -> bytes:
    """The bytes a download of n bytes with this seed carries (bench-client.py has the same)."""
    return random.Random(seed).randbytes(n)


def read_line(sock, limit=64):
    """One header line, read a byte at a time so no payload is consumed with it."""
    line = bytearray()
    while len(line) < limit:
        b = sock.recv(1)
        if not b:
            return None
        if b == b"\n":
            return line.decode("ascii", "replace")
        line += b
    return None


class Source(socketserver.BaseRequestHandler):
    def handle(self):
        words = (read_line(self.request) or "").split()
        if len(words) != 2 or not all(w.isdigit() for w in words) or int(words[0]) > MAX_BYTES:
            return
        data = payload(int(words[0]), int(words[1]))
        view = memoryview(data)
        for i in range(0, len(data), CHUNK):
            self.request.sendall(view[i:i + CHUNK])


class Sink(socketserver.BaseRequestHandler):
    def handle(self):
        line = read_line(self.request)
        if line is None or not line.isdigit() or int(line) > MAX_BYTES:
            return
        left, digest = int(line), hashlib.sha256()
        while left > 0:
            chunk = self.request.recv(min(left, CHUNK))
            if not chunk:
                return  # short upload: no answer, the client reports the failure
            digest.update(chunk)
            left -= len(chunk)
        self.request.sendall((digest.hexdigest() + "\n").encode())


class RequestResponse(socketserver.BaseRequestHandler):
    def handle(self):
        answer = bytes(range(256)) * (RESPONSE // 256)
        while True:
            got = 0
            while got < REQUEST:
                chunk = self.request.recv(REQUEST - got)
                if not chunk:
                    return
                got += len(chunk)
            self.request.sendall(answer)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", default="192.0.2.10")
    a = ap.parse_args()
    servers = [Server((a.address, port), handler)
               for port, handler in ((SOURCE_PORT, Source), (SINK_PORT, Sink), (RR_PORT, RequestResponse))]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print(f"bench-peer: source :{SOURCE_PORT}, sink :{SINK_PORT}, request/response :{RR_PORT} on {a.address}",
          flush=True)
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
