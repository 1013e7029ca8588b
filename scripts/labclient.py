#!/usr/bin/env python3
"""Clients the end-to-end tests run in the lab's app namespace (stdlib only).

  labclient.py udp-echo HOST PORT            one datagram round trip; prints "ok" and the RTT
  labclient.py udp-many HOST ROUNDS PORT...  one socket (own app port) per PORT listed, all at
                                             once: ROUNDS datagrams each, every echo checked
                                             for its payload and sender; resends after 2 s
                                             are counted and reported
  labclient.py refused HOST PORT             connect to a closed port; prints the error and how long it took
  labclient.py parallel HOST N SIZE          N HTTP GETs of SIZE random bytes at once; checks each X-SHA256
  labclient.py short HOST PORT N WORKERS     N short TCP echo connections (connect, 1 byte, close)
Every mode exits 0 only when everything it checked was right, and bounds its time.
"""
import hashlib, http.client, select, socket, sys, threading, time

def udp_echo(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    payload = b"tun2modem-udp-" + bytes(range(32))
    t0 = time.monotonic()
    s.sendto(payload, (host, port))
    data, peer = s.recvfrom(2048)
    ok = data == payload and peer[0] == host
    print(("ok" if ok else "mismatch"), f"rtt={1000*(time.monotonic()-t0):.1f}ms", peer)
    return 0 if ok else 1

def udp_many(host, rounds, ports):
    socks = []
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.bind(("0.0.0.0", 0))
        socks.append((s, port))
    t0 = time.monotonic()
    echoed, resends, wrong = 0, 0, []
    earlier = set()  # (socket, payload) of past rounds: a late echo of a resend is no error
    for r in range(rounds):
        payloads = {}
        for i, (s, port) in enumerate(socks):
            payloads[i] = f"tun2modem-many-{r}-{i}-{port}-".encode() + bytes(range(i, i + 24))
            earlier.add((i, payloads[i]))
            s.sendto(payloads[i], (host, port))
        waiting = set(payloads)
        sent_at = time.monotonic()
        deadline = sent_at + 8
        while waiting and time.monotonic() < deadline:
            if time.monotonic() - sent_at > 2:
                for i in waiting:
                    socks[i][0].sendto(payloads[i], (host, socks[i][1]))
                    resends += 1
                sent_at = time.monotonic()
            readable, _, _ = select.select([socks[i][0] for i in waiting], [], [], 0.2)
            for s in readable:
                i = next(k for k in waiting if socks[k][0] is s)
                data, peer = s.recvfrom(2048)
                right_peer = peer == (host, socks[i][1])
                if data == payloads[i] and right_peer:
                    waiting.discard(i)
                    echoed += 1
                elif not (right_peer and (i, data) in earlier) and len(wrong) < 5:
                    wrong.append((i, peer, data[:40]))
    expected = rounds * len(socks)
    print(f"{echoed}/{expected} echoed by the right peer in {time.monotonic()-t0:.1f}s, "
          f"{resends} resends, wrong: {wrong}")
    return 0 if echoed == expected and not wrong else 1

def refused(host, port):
    s = socket.socket()
    s.settimeout(10)
    t0 = time.monotonic()
    try:
        s.connect((host, port))
        print("connected (wrong: the port is closed)")
        return 1
    except ConnectionRefusedError as e:
        print(f"refused after {time.monotonic()-t0:.3f}s: {e}")
        return 0
    except Exception as e:
        print(f"other error after {time.monotonic()-t0:.3f}s: {e!r}")
        return 1

def parallel(host, n, size):
    results = [None] * n
    def one(i):
        try:
            c = http.client.HTTPConnection(host, 80, timeout=60)
            c.request("GET", f"/random/{size}?seed={i}")
            r = c.getresponse()
            body = r.read()
            results[i] = (r.status == 200 and len(body) == size
                          and hashlib.sha256(body).hexdigest() == r.getheader("X-SHA256"))
            c.close()
        except Exception as e:
            results[i] = repr(e)
    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads: t.start()
    for t in threads: t.join(120)
    good = sum(1 for r in results if r is True)
    bad = [r for r in results if r is not True][:3]
    print(f"{good}/{n} complete and correct in {time.monotonic()-t0:.1f}s", bad)
    return 0 if good == n else 1

def short(host, port, n, workers):
    counts = [0] * workers
    errors = []
    def run(w):
        for i in range(w, n, workers):
            try:
                s = socket.create_connection((host, port), timeout=10)
                s.sendall(b"x")
                if s.recv(1) == b"x":
                    counts[w] += 1
                s.close()
            except Exception as e:
                if len(errors) < 5:
                    errors.append(repr(e))
    t0 = time.monotonic()
    threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
    for t in threads: t.start()
    for t in threads: t.join(600)
    print(f"{sum(counts)}/{n} echoed in {time.monotonic()-t0:.1f}s", errors)
    return 0 if sum(counts) == n else 1

if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "udp-echo": sys.exit(udp_echo(args[0], int(args[1])))
    if mode == "udp-many": sys.exit(udp_many(args[0], int(args[1]), [int(p) for p in args[2:]]))
    if mode == "refused": sys.exit(refused(args[0], int(args[1])))
    if mode == "parallel": sys.exit(parallel(args[0], int(args[1]), int(args[2])))
    if mode == "short": sys.exit(short(args[0], int(args[1]), int(args[2]), int(args[3])))
    print(__doc__); sys.exit(64)
