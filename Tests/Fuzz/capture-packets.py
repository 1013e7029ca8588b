import fcntl, os, socket, struct, subprocess, select, time, sys
TUNSETIFF = 0x400454ca
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"gold0", IFF_TUN | IFF_NO_PI))
def sh(c): subprocess.run(c, shell=True, check=True)
sh("ip link set lo up; ip link set gold0 mtu 1500 up; ip addr add 10.9.0.1/24 dev gold0; ip -6 addr add fd00::1/64 dev gold0 nodad")
time.sleep(0.3)
def drain():
    while select.select([fd], [], [], 0.05)[0]: os.read(fd, 65536)
def grab(pred, timeout=2.0):
    end = time.time() + timeout
    while time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            p = os.read(fd, 65536)
            if pred(p): return p
    raise SystemExit("nothing")
def save(name, p):
    open(f"/tmp/wiregold/{name}.hex", "w").write(p.hex() + "\n"); print(name, len(p), p.hex())
drain()
s = socket.socket(); s.setblocking(False)
try: s.connect(("10.9.0.2", 8080))
except BlockingIOError: pass
save("ipv4-tcp-syn", grab(lambda p: p[0] >> 4 == 4 and p[9] == 6))
s6 = socket.socket(socket.AF_INET6); s6.setblocking(False)
try: s6.connect(("fd00::2", 8080))
except BlockingIOError: pass
save("ipv6-tcp-syn", grab(lambda p: p[0] >> 4 == 6 and p[6] == 6))
# DNS query for example.com A, as a stub resolver would send it
q = bytes.fromhex("123401000001000000000000076578616d706c6503636f6d0000010001")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(q, ("10.9.0.2", 53))
save("ipv4-udp-dns-query", grab(lambda p: p[0] >> 4 == 4 and p[9] == 17))
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u6.sendto(q, ("fd00::2", 53))
save("ipv6-udp-dns-query", grab(lambda p: p[0] >> 4 == 6 and p[6] == 17))
subprocess.Popen("ping -c1 -W1 -s 16 10.9.0.2 >/dev/null 2>&1", shell=True)
save("ipv4-icmp-echo-request", grab(lambda p: p[0] >> 4 == 4 and p[9] == 1))
subprocess.Popen("ping -6 -c1 -W1 -s 16 fd00::2 >/dev/null 2>&1", shell=True)
save("ipv6-icmpv6-echo-request", grab(lambda p: p[0] >> 4 == 6 and p[6] == 58 and p[40] == 128))
# Fragmented UDP: 2000 bytes of payload over a 1500-byte MTU.
big = bytes(i % 251 for i in range(2000))
u.sendto(big, ("10.9.0.2", 9999))
save("ipv4-udp-frag1", grab(lambda p: p[0] >> 4 == 4 and p[9] == 17))
save("ipv4-udp-frag2", grab(lambda p: p[0] >> 4 == 4 and p[9] == 17))
u6.sendto(big, ("fd00::2", 9999))
save("ipv6-udp-frag1", grab(lambda p: p[0] >> 4 == 6 and p[6] == 44))
save("ipv6-udp-frag2", grab(lambda p: p[0] >> 4 == 6 and p[6] == 44))
# SYN-ACK from Linux: answer a hand-made SYN to a listener in this namespace.
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("10.9.0.1", 7777)); l.listen(1)
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b)//2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
src, dst = socket.inet_aton("10.9.0.2"), socket.inet_aton("10.9.0.1")
opts = bytes.fromhex("020405b40402080a0000000100000000010303")+b"\0"  # mss 1460, sackok, ts, nop, ws 3... padded
tcp = struct.pack("!HHIIBBHHH", 40000, 7777, 1000, 0, (20+len(opts))//4 << 4, 0x02, 64240, 0, 0) + opts
c = csum(src+dst+struct.pack("!BBH", 0, 6, len(tcp))+tcp)
tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20+len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
drain(); os.write(fd, ip + tcp)
save("ipv4-tcp-synack", grab(lambda p: p[0] >> 4 == 4 and p[9] == 6 and p[33] == 0x12))
