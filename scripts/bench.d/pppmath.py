"""The arithmetic of PPP's framing: what share of the line a bulk TCP transfer can fill.

Per full-sized segment on a 1500-byte MTU the line carries (RFC 1662 async HDLC, as
scripts/ppplink.py frames it):

  1 protocol byte (PFC) + the IP packet + 2 FCS bytes, each byte stuffed with probability
  2/256 (ACCM 0 escapes only 0x7E and 0x7D, and the payload is random), + 1 flag shared
  with the next frame (ACFC: no address/control bytes).

The IP packet is 20 (IPv4) + 20 (TCP) + 12 (the timestamp option Linux sends when
net.ipv4.tcp_timestamps=1) header bytes + the payload (MSS 1460 - 12 = 1448). ACKs travel
on the other direction of the full-duplex line and take nothing from this one.

With VJ compression (RFC 1144; scripts/ppplink.py --vj) and timestamps off, a bulk segment's
40 header bytes become 3 (SPECIAL_D: the change byte and the TCP checksum) and the payload
is MSS 1460.
"""

IP_HEADER, TCP_HEADER, TIMESTAMPS = 20, 20, 12
PROTOCOL, FCS, FLAG = 1, 2, 1
VJ_SPECIAL_D = 3
STUFF = 2 / 256


def efficiency(mtu=1500, timestamps=True, vj=False):
    """Payload bytes / line bytes for back-to-back full segments."""
    headers = IP_HEADER + TCP_HEADER + (TIMESTAMPS if timestamps else 0)
    payload = mtu - headers
    # VJ cannot compress a header whose options change, and timestamps change every time.
    on_line = VJ_SPECIAL_D + payload if vj and not timestamps else mtu
    line = (PROTOCOL + on_line + FCS) * (1 + STUFF) + FLAG
    return payload / line


def describe():
    e = efficiency()
    return {"mtu": 1500, "payload_per_segment": 1448, "line_bytes_per_segment": round(1448 / e, 1),
            "efficiency": round(e, 4),
            "vj_efficiency_without_timestamps": round(efficiency(timestamps=False, vj=True), 4),
            "note": "1 protocol + 1500 IP + 2 FCS bytes, x(1 + 2/256) stuffing, + 1 shared flag; "
                    "with VJ and no timestamps 3 header bytes + 1460 payload"}


if __name__ == "__main__":
    assert abs(efficiency() - 1448 / ((1 + 1500 + 2) * (1 + 2 / 256) + 1)) < 1e-12
    assert 0.95 < efficiency() < 0.96 and efficiency(timestamps=False) > efficiency()
    assert efficiency(vj=True) == efficiency() and 0.985 < efficiency(timestamps=False, vj=True) < 0.99
    print(describe())
