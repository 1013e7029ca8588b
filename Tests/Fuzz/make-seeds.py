#!/usr/bin/env python3
"""Writes the seed corpora Tests/Fuzz/Corpus/<Target>/ from the kernel captures in
Tests/WireTests/CapturedPackets.swift (made by capture-packets.py), in each harness's
input format (see the comment at the top of each Tests/Fuzz/<Target>.swift)."""
import os, re, struct

here = os.path.dirname(os.path.abspath(__file__))
swift = open(os.path.join(here, "..", "WireTests", "CapturedPackets.swift")).read()
captured = {}
for name, body in re.findall(r"static let (\w+) = bytes\((.*?)\)", swift, re.S):
    captured[name] = bytes.fromhex("".join(re.findall(r'"([0-9a-f]+)"', body)))

def write(target, name, data):
    d = os.path.join(here, "Corpus", target)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), "wb").write(data)

def series(*packets):
    return b"".join(struct.pack("!H", len(p)) + p for p in packets)

v4 = {k: v for k, v in captured.items() if k.startswith("ipv4")}
v6 = {k: v for k, v in captured.items() if k.startswith("ipv6")}
for k, p in v4.items(): write("IPv4", k, p)
for k, p in v6.items(): write("IPv6", k, p)
write("IPv4", "frags-in-order", series(v4["ipv4UdpFrag1"], v4["ipv4UdpFrag2"]))
write("IPv4", "frags-reversed", series(v4["ipv4UdpFrag2"], v4["ipv4UdpFrag1"]))
write("IPv4", "frag-duplicate", series(v4["ipv4UdpFrag1"], v4["ipv4UdpFrag1"], v4["ipv4UdpFrag2"]))
write("IPv6", "frags-in-order", series(v6["ipv6UdpFrag1"], v6["ipv6UdpFrag2"]))
write("IPv6", "frags-reversed", series(v6["ipv6UdpFrag2"], v6["ipv6UdpFrag1"]))

# Control byte: bit 0 = fix the checksum, bit 1 = IPv6 addresses.
write("TCP", "syn", b"\x01" + v4["ipv4TcpSyn"][20:])
write("TCP", "synack", b"\x01" + v4["ipv4TcpSynack"][20:])
write("TCP", "syn6", b"\x03" + v6["ipv6TcpSyn"][40:])
write("TCP", "sack", b"\x01" + bytes.fromhex(
    "1f909e8a00000001000000028010010000000000" "0101050a000000640000012c" "0101080a0000000100000002"))
write("UDP", "dns", b"\x01" + v4["ipv4UdpDnsQuery"][20:])
write("UDP", "dns6", b"\x03" + v6["ipv6UdpDnsQuery"][40:])
write("ICMP", "echo", b"\x01" + v4["ipv4IcmpEchoRequest"][20:])
write("ICMP", "echo6", b"\x03" + v6["ipv6Icmpv6EchoRequest"][40:])
write("ICMP", "frag-needed", b"\x01" + bytes.fromhex("030400000000057c") + v4["ipv4TcpSyn"][:28])
write("ICMP", "too-big6", b"\x03" + bytes.fromhex("02000000000005dc") + v6["ipv6TcpSyn"][:48])
query = v4["ipv4UdpDnsQuery"][28:]
write("DNS", "query", query)
write("DNS", "query-edns", query[:11] + b"\x01" + query[12:] + bytes.fromhex("0000291000000080000000"))
write("DNS", "compressed", bytes.fromhex("abcd01000001000100000000") + b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
      + b"\x04mail\xc0\x10\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x5d\xb8\xd7\x0e")

# UDPFlows: control byte (high nibble: 0-7 packet, 8 open, 9 open fails, 10-12 DNS answer,
# 13-14 ping answer, 15 expire; low nibble: time step), then length-prefixed packets.
def step(control, packet=b""):
    return bytes([control]) + (struct.pack("!H", len(packet)) + packet if control >> 4 < 8 else b"")
write("UDPFlows", "dns-answered", step(0x01, v4["ipv4UdpDnsQuery"]) + step(0xA1))
write("UDPFlows", "dns6-failed", step(0x01, v6["ipv6UdpDnsQuery"]) + step(0xC1) + step(0xFF))
write("UDPFlows", "ping-answered", step(0x01, v4["ipv4IcmpEchoRequest"]) + step(0x01, v6["ipv6Icmpv6EchoRequest"]) + step(0xD1) + step(0xE1))
write("UDPFlows", "udp-session", step(0x01, v4["ipv4UdpFrag1"][:28].replace(b"\x05\xdc", b"\x00\x1c", 1)) + step(0x81) + step(0xFF))
