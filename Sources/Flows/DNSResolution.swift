import Wire

/// What the modem's resolver answered for a name (Quectel `AT+QIDNSGIP`, SIMCom
/// `AT+CDNSGIP`, OneMO `AT+MDNSGIP`).
public enum DNSResolution: Hashable, Sendable {
    /// The addresses, IPv4 and IPv6 mixed, in the modem's order.
    case addresses([IPAddress])
    /// The resolver said the name does not exist (where the dialect tells this apart).
    case nameNotFound
    /// Timeout, no network, or a failure the dialect does not explain (OneMO's URC
    /// carries only the name on any failure).
    case failure
}

/// What DNS interception asks the bridge to do.
public enum DNSAction: Hashable, Sendable {
    /// Resolve this host name with the modem; answer with `DNSInterceptor.resolved`.
    case resolve(hostname: String)
    /// Write this packet to the TUN: a DNS response for the app.
    case reply([UInt8])
}
