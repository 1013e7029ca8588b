#!/usr/bin/env python3
"""The benchmark's app side, run by scripts/bench inside the lab's "app" namespace against
bench-peer.py. Every mode prints one JSON object on stdout and exits 0 if it measured, 1 if
the transfer failed (the JSON then says why), 64 on a bad command line.

  bulk  --dir down|up --flows K --bytes N [--seed S] [--timeout T]
        K parallel flows move N bytes in all (N/K each); every byte is checked by sha256.
        Goodput = payload bytes / (last byte in - first connect done).
  rr    --count N [--timeout T]
        N sequential connections, each: connect, a 100-byte request, the 1 KiB response,
        close. Reports connect() time and connect-to-first-byte time (median, p90, max)
        and the connections per second of the whole sequence.
  hold  --flows K [--timeout T]
        opens K connections at once and keeps them until stdin closes; prints how many
        were established as soon as all have settled (the caller measures memory then).
  churn --count N [--parallel P] [--timeout T]
        N connect / request / response / close cycles, as fast as they go, by P workers
        that each run their share one after another.
"""
import argparse, hashlib, json, random, selectors, socket, statistics, sys, threading, time

PEER = "192.0.2.10"
SOURCE_PORT, SINK_PORT, RR_PORT = 8101, 8102, 8103
REQUEST, RESPONSE = 100, 1024
CHUNK = 64 * 1024


def payload(n, seed):
    return random.Random(seed).randbytes(n)


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), CHUNK))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


class Flow(threading.Thread):
    """One flow of a bulk transfer, timed by the monotonic clock."""

    def __init__(self, direction, nbytes, seed, deadline):
        super().__init__(daemon=True)
        self.direction, self.nbytes, self.seed, self.deadline = direction, nbytes, seed, deadline
        self.started = self.finished = None
        self.moved, self.error = 0, None

    def run(self):
        try:
            # The payload and its digest are made before the clock starts.
            data = payload(self.nbytes, self.seed)
            expected = hashlib.sha256(data).hexdigest()
            timeout = max(1.0, self.deadline - time.monotonic())
            port = SOURCE_PORT if self.direction == "down" else SINK_PORT
            with socket.create_connection((PEER, port), timeout=timeout) as s:
                s.settimeout(timeout)
                self.started = time.monotonic()
                if self.direction == "down":
                    self.download(s, expected)
                else:
                    self.upload(s, data, expected)
        except OSError as e:
            self.error = f"{type(e).__name__}: {e}"

    def download(self, s, expected):
        s.sendall(f"{self.nbytes} {self.seed}\n".encode())
        digest, got = hashlib.sha256(), 0
        while got < self.nbytes:
            chunk = s.recv(CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            got += len(chunk)
        self.finished = time.monotonic()
        if got != self.nbytes:
            self.error = f"short download: {got} of {self.nbytes} bytes"
        elif digest.hexdigest() != expected:
            self.error = "download corrupted: sha256 differs"
        else:
            self.moved = got

    def upload(self, s, data, expected):
        s.sendall(f"{self.nbytes}\n".encode())
        view = memoryview(data)
        for i in range(0, len(data), CHUNK):
            s.sendall(view[i:i + CHUNK])
        answer = recv_exact(s, 65).decode("ascii", "replace").strip()
        self.finished = time.monotonic()
        if answer != expected:
            self.error = f"upload not confirmed (peer answered {answer[:16]!r})"
        else:
            self.moved = self.nbytes


def bulk(a):
    deadline = time.monotonic() + a.timeout
    share = a.bytes // a.flows
    flows = [Flow(a.dir, share + (a.bytes % a.flows if i == 0 else 0), a.seed + i, deadline)
             for i in range(a.flows)]
    for f in flows:
        f.start()
    for f in flows:
        f.join(max(0.0, deadline - time.monotonic()) + 1)
    errors = [f.error or "timed out" for f in flows if f.error or f.finished is None]
    moved = sum(f.moved for f in flows)
    out = {"mode": "bulk", "dir": a.dir, "flows": a.flows, "bytes": moved, "ok": not errors}
    if not errors:
        seconds = max(f.finished for f in flows) - min(f.started for f in flows)
        out.update(seconds=round(seconds, 4), goodput=round(moved / seconds, 1),
                   per_flow=[round(f.moved / (f.finished - f.started), 1) for f in flows])
    else:
        out["error"] = "; ".join(sorted(set(errors)))
    return out


def exchange(timeout):
    """One request/response connection: (connect s, first byte s, total s)."""
    t0 = time.monotonic()
    with socket.create_connection((PEER, RR_PORT), timeout=timeout) as s:
        s.settimeout(timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t1 = time.monotonic()
        s.sendall(b"q" * REQUEST)
        first = s.recv(RESPONSE)
        t2 = time.monotonic()
        if not first:
            raise ConnectionError("no response")
        rest = recv_exact(s, RESPONSE - len(first))
        if len(first) + len(rest) != RESPONSE:
            raise ConnectionError(f"short response: {len(first) + len(rest)} bytes")
    return t1 - t0, t2 - t0, time.monotonic() - t0


def summary(values):
    ms = sorted(v * 1000 for v in values)
    if not ms:
        return None
    return {"median_ms": round(statistics.median(ms), 2),
            "p90_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.9))], 2),
            "max_ms": round(ms[-1], 2)}


def rr(a):
    deadline = time.monotonic() + a.timeout
    connects, firsts, errors, started = [], [], [], time.monotonic()
    for _ in range(a.count):
        if time.monotonic() > deadline:
            errors.append("timed out")
            break
        try:
            c, f, _ = exchange(max(1.0, deadline - time.monotonic()))
            connects.append(c)
            firsts.append(f)
        except OSError as e:
            errors.append(f"{type(e).__name__}: {e}")
    elapsed = time.monotonic() - started
    return {"mode": "rr", "count": len(firsts), "ok": not errors,
            "connect": summary(connects), "first_byte": summary(firsts),
            "conn_per_s": round(len(firsts) / elapsed, 2) if firsts else None,
            **({"error": errors[0], "errors": len(errors)} if errors else {})}


def churn(a):
    """a.count cycles split over a.parallel sequential workers (threads)."""
    deadline = time.monotonic() + a.timeout
    lock = threading.Lock()
    tally = {"done": 0, "errors": 0, "first_error": None}

    def worker(count):
        for _ in range(count):
            if time.monotonic() > deadline:
                with lock:
                    tally["first_error"] = tally["first_error"] or "timed out"
                return
            try:
                exchange(max(1.0, min(10.0, deadline - time.monotonic())))
                with lock:
                    tally["done"] += 1
            except OSError as e:
                with lock:
                    tally["errors"] += 1
                    tally["first_error"] = tally["first_error"] or f"{type(e).__name__}: {e}"
                    if tally["errors"] > 50:
                        return

    started = time.monotonic()
    shares = [a.count // a.parallel + (1 if i < a.count % a.parallel else 0) for i in range(a.parallel)]
    workers = [threading.Thread(target=worker, args=(n,), daemon=True) for n in shares]
    for w in workers:
        w.start()
    for w in workers:
        w.join(max(0.0, deadline - time.monotonic()) + 15)
    elapsed = time.monotonic() - started
    done = tally["done"]
    return {"mode": "churn", "count": done, "parallel": a.parallel, "errors": tally["errors"],
            "ok": done == a.count, "seconds": round(elapsed, 2), "conn_per_s": round(done / elapsed, 2),
            **({"error": tally["first_error"]} if tally["first_error"] else {})}


def hold(a):
    sel = selectors.DefaultSelector()
    socks, established, failed = [], 0, 0
    for _ in range(a.flows):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect_ex((PEER, RR_PORT))
        except OSError:
            failed += 1
            s.close()
            continue
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE)
    deadline = time.monotonic() + a.timeout
    pending = len(socks)
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            sel.unregister(key.fileobj)
            pending -= 1
            if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                established += 1
            else:
                failed += 1
    print(json.dumps({"mode": "hold", "flows": a.flows, "established": established,
                      "failed": failed, "pending": pending, "ok": established == a.flows}), flush=True)
    sys.stdin.read()  # the caller closes our stdin when it has measured
    for s in socks:
        s.close()
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["bulk", "rr", "hold", "churn"])
    ap.add_argument("--dir", choices=["down", "up"], default="down")
    ap.add_argument("--flows", type=int, default=1)
    ap.add_argument("--bytes", type=int, default=256 * 1024)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=120.0)
    a = ap.parse_args()
    if not 1 <= a.parallel <= 64 or not 1 <= a.flows <= 1000 or not 1 <= a.bytes <= 1 << 30 or not 1 <= a.count <= 100_000 \
            or not 1 <= a.timeout <= 7200 or a.bytes < a.flows:
        ap.error("--parallel 1..64, --flows 1..1000, --bytes 1..1 GiB (at least one per flow), --count 1..100000, --timeout 1..7200")
    out = {"bulk": bulk, "rr": rr, "hold": hold, "churn": churn}[a.mode](a)
    if out is not None:
        print(json.dumps(out), flush=True)
        return 0 if out["ok"] else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
