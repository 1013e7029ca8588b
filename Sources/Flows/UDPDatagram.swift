import Wire

/// Building IP+UDP packets for the app: in place in front of a payload that stays where it
/// is (modem data), or whole into a fresh array (small replies such as DNS answers).
public enum UDPDatagram {
    /// The IP+UDP header length for `address`'s family: 28 or 48.
    public static func headerLength(for address: IPAddress) -> Int {
        switch address {
        case .v4: IPv4Repr.headerLength + UDPRepr.headerLength
        case .v6: IPv6Repr.headerLength + UDPRepr.headerLength
        }
    }

    /// The most UDP payload one IP packet of `address`'s family can carry.
    public static func maximumPayloadLength(for address: IPAddress) -> Int {
        switch address {
        case .v4: IPv4Repr.maximumPayloadLength - UDPRepr.headerLength
        case .v6: UDPRepr.maximumPayloadLength
        }
    }

    /// Writes the IP and UDP headers of a datagram carrying `payload` into the start of
    /// `header`, checksum included; returns the header length, or nil when the payload is
    /// too long for one packet or the two addresses are of different families.
    public static func emitHeaders(
        into header: UnsafeMutableRawBufferPointer,
        source: IPAddress, sourcePort: UInt16,
        destination: IPAddress, destinationPort: UInt16,
        payload: UnsafeRawBufferPointer
    ) -> Int? {
        guard sameFamily(source, destination),
              payload.count <= maximumPayloadLength(for: source) else { return nil }
        let length = headerLength(for: source)
        guard header.count >= length else { return nil }
        let udp = UDPRepr(sourcePort: sourcePort, destinationPort: destinationPort, payloadLength: payload.count)
        let ip = IPRepr(source: source, destination: destination, protocol: .udp, payloadLength: udp.bufferLength)
        ip.emit(into: header)
        udp.emit(into: UnsafeMutableRawBufferPointer(rebasing: header[ip.headerLength..<length]),
                 source: source, destination: destination, payload: payload)
        return length
    }

    /// A whole IP+UDP packet whose payload `writePayload` fills in place (`payloadLength`
    /// bytes); nil under the same conditions as `emitHeaders`.
    public static func packet(
        source: IPAddress, sourcePort: UInt16,
        destination: IPAddress, destinationPort: UInt16,
        payloadLength: Int,
        writePayload: (UnsafeMutableRawBufferPointer) -> Void
    ) -> [UInt8]? {
        guard sameFamily(source, destination), payloadLength >= 0,
              payloadLength <= maximumPayloadLength(for: source) else { return nil }
        let headers = headerLength(for: source)
        var out = [UInt8](repeating: 0, count: headers + payloadLength)
        out.withUnsafeMutableBytes { buffer in
            let payload = UnsafeMutableRawBufferPointer(rebasing: buffer[headers...])
            writePayload(payload)
            _ = emitHeaders(into: buffer, source: source, sourcePort: sourcePort,
                            destination: destination, destinationPort: destinationPort,
                            payload: UnsafeRawBufferPointer(payload))
        }
        return out
    }

    static func sameFamily(_ a: IPAddress, _ b: IPAddress) -> Bool {
        switch (a, b) {
        case (.v4, .v4), (.v6, .v6): true
        default: false
        }
    }
}
