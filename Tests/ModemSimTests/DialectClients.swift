import Foundation

/// What the integration tests need from a model, written as the host would speak it from the
/// manuals. Each model's client is small; the test logic is shared.
protocol DialectClient: Sendable {
    var model: String { get }
    var socketIDs: ClosedRange<Int> { get }
    /// Bytes per send command.
    var sendChunk: Int { get }
    var readChunk: Int { get }
    func bringUp(_ e: EmulatorProcess) throws
    func openTCP(_ e: EmulatorProcess, id: Int, port: Int) throws
    func openUDP(_ e: EmulatorProcess, id: Int, port: Int) throws
    /// Tries one open too many; true when the modem refused it.
    func openIsRefused(_ e: EmulatorProcess, id: Int, port: Int) throws -> Bool
    /// True for accepted, false for the "buffer full" answer.
    func send(_ e: EmulatorProcess, id: Int, _ bytes: [UInt8]) throws -> Bool
    /// Up to `readChunk` buffered bytes; empty when none.
    func read(_ e: EmulatorProcess, id: Int) throws -> [UInt8]
    func close(_ e: EmulatorProcess, id: Int) throws
    /// The URC text announcing that the peer closed socket `id`.
    func remoteCloseURC(id: Int) -> String
    /// Whether the host must still close a socket the peer closed (OneMO with autofree 0
    /// frees it itself, and a close would be an error: onemo.md §5.14).
    var closeAfterRemoteClose: Bool { get }
}

extension DialectClient {
    var closeAfterRemoteClose: Bool { true }
}

/// EC600E (quectel.md, EC dialect).
struct QuectelCat1Client: DialectClient {
    var model = "EC600E"
    var socketIDs = 0...11
    var sendChunk = 1460
    var readChunk = 1500

    func bringUp(_ e: EmulatorProcess) throws {
        try e.expect("RDY\r\n")
        e.command("ATE0")
        try e.expect("OK\r\n")
        e.command("AT+CPIN?")
        try e.expect("+CPIN: READY\r\n\r\nOK\r\n")
        e.command("AT+QICSGP=1,1,\"CMNET\",\"\",\"\",0")
        try e.expect("OK\r\n")
        e.command("AT+QIACT=1")
        try e.expect("OK\r\n")
    }

    func open(_ e: EmulatorProcess, _ type: String, id: Int, port: Int) throws {
        e.command("AT+QIOPEN=1,\(id),\"\(type)\",\"127.0.0.1\",\(port),0,0")
        try e.expect("+QIOPEN: \(id),0\r\n")
    }

    func openTCP(_ e: EmulatorProcess, id: Int, port: Int) throws { try open(e, "TCP", id: id, port: port) }
    func openUDP(_ e: EmulatorProcess, id: Int, port: Int) throws { try open(e, "UDP", id: id, port: port) }

    func openIsRefused(_ e: EmulatorProcess, id: Int, port: Int) throws -> Bool {
        e.command("AT+QIOPEN=1,\(id),\"UDP\",\"127.0.0.1\",\(port),0,0")
        return try e.expectAny(["ERROR\r\n", "+QIOPEN: \(id),0\r\n"]).index == 0
    }

    func send(_ e: EmulatorProcess, id: Int, _ bytes: [UInt8]) throws -> Bool {
        e.command("AT+QISEND=\(id),\(bytes.count)")
        try e.expect("\r\n>")
        e.write(bytes)
        return try e.expectAny(["SEND OK\r\n", "SEND FAIL\r\n"]).index == 0
    }

    func read(_ e: EmulatorProcess, id: Int) throws -> [UInt8] {
        e.command("AT+QIRD=\(id),\(readChunk)")
        try e.expect("+QIRD: ")
        let n = Int(try e.expect("\r\n")) ?? -1
        guard n > 0 else { try e.expect("OK\r\n"); return [] }
        let data = try e.take(n)
        try e.expect("OK\r\n")
        return data
    }

    func close(_ e: EmulatorProcess, id: Int) throws {
        e.command("AT+QICLOSE=\(id)")
        try e.expect("OK\r\n")
    }

    func remoteCloseURC(id: Int) -> String { "+QIURC: \"closed\",\(id)\r\n" }
}

/// BC26 (quectel.md, BC dialect): ready at `+IP:`, `OK` before `SEND OK` and `CLOSE OK`.
struct QuectelNBClient: DialectClient {
    var model = "BC26"
    var socketIDs = 0...4
    var sendChunk = 1460
    var readChunk = 512

    func bringUp(_ e: EmulatorProcess) throws {
        try e.expect("+IP: ")
        try e.expect("\r\n")
        e.command("ATE0")
        try e.expect("OK\r\n")
    }

    func open(_ e: EmulatorProcess, _ type: String, id: Int, port: Int) throws {
        e.command("AT+QIOPEN=1,\(id),\"\(type)\",\"127.0.0.1\",\(port),0,0")
        try e.expect("+QIOPEN: \(id),0\r\n")
    }

    func openTCP(_ e: EmulatorProcess, id: Int, port: Int) throws { try open(e, "TCP", id: id, port: port) }
    func openUDP(_ e: EmulatorProcess, id: Int, port: Int) throws { try open(e, "UDP", id: id, port: port) }

    func openIsRefused(_ e: EmulatorProcess, id: Int, port: Int) throws -> Bool {
        e.command("AT+QIOPEN=1,\(id),\"UDP\",\"127.0.0.1\",\(port),0,0")
        return try e.expectAny(["ERROR\r\n", "+QIOPEN: \(id),0\r\n"]).index == 0
    }

    func send(_ e: EmulatorProcess, id: Int, _ bytes: [UInt8]) throws -> Bool {
        e.command("AT+QISEND=\(id),\(bytes.count)")
        try e.expect("\r\n>")
        e.write(bytes)
        try e.expect("OK\r\n")
        return try e.expectAny(["SEND OK\r\n", "SEND FAIL\r\n"]).index == 0
    }

    func read(_ e: EmulatorProcess, id: Int) throws -> [UInt8] {
        e.command("AT+QIRD=\(id),\(readChunk)")
        try e.expect("+QIRD: ")
        let n = Int(try e.expect("\r\n")) ?? -1
        guard n > 0 else { try e.expect("OK\r\n"); return [] }
        let data = try e.take(n)
        try e.expect("OK\r\n")
        return data
    }

    func close(_ e: EmulatorProcess, id: Int) throws {
        e.command("AT+QICLOSE=\(id)")
        try e.expect("OK\r\n\r\nCLOSE OK\r\n")
    }

    func remoteCloseURC(id: Int) -> String { "+QIURC: \"closed\",\(id)\r\n" }
}

/// The UDP peer of each link, for dialects whose UDP sends name it every time.
final class UDPPeers: @unchecked Sendable {
    private let lock = NSLock()
    private var ports: [Int: Int] = [:]
    subscript(id: Int) -> Int? {
        get { lock.lock(); defer { lock.unlock() }; return ports[id] }
        set { lock.lock(); ports[id] = newValue; lock.unlock() }
    }
}

/// SIM7028 (simcom-sim7028.md), reading in buffer mode (`AT+CIPRXGET=1`).
struct SIMCom7028Client: DialectClient {
    var model = "SIM7028"
    var socketIDs = 0...1
    var sendChunk = 1500
    var readChunk = 1500
    let udp = UDPPeers()

    func bringUp(_ e: EmulatorProcess) throws {
        try e.expect("+CPIN: READY\r\n")
        e.command("ATE0")
        try e.expect("OK\r\n")
        e.command("AT+NETOPEN")
        try e.expect("+NETOPEN: 0\r\n")
        e.command("AT+CIPRXGET=1")
        try e.expect("OK\r\n")
        // +CIPSEND only when the data has left the module: one chunk in flight, so the
        // send buffer never fills (a short send would make the link unusable, §7.4).
        e.command("AT+CIPSENDMODE=1")
        try e.expect("OK\r\n")
    }

    func openTCP(_ e: EmulatorProcess, id: Int, port: Int) throws {
        udp[id] = nil
        e.command("AT+CIPOPEN=\(id),\"TCP\",\"127.0.0.1\",\(port)")
        try e.expect("+CIPOPEN: \(id),0\r\n")
    }

    func openUDP(_ e: EmulatorProcess, id: Int, port: Int) throws {
        udp[id] = port
        e.command("AT+CIPOPEN=\(id),\"UDP\",,,0")
        try e.expect("+CIPOPEN: \(id),0\r\n\r\nOK\r\n")
    }

    func openIsRefused(_ e: EmulatorProcess, id: Int, port: Int) throws -> Bool {
        e.command("AT+CIPOPEN=\(id),\"UDP\",,,0")
        return try e.expectAny(["ERROR\r\n", "+CIPOPEN: \(id),0\r\n"]).index == 0
    }

    func send(_ e: EmulatorProcess, id: Int, _ bytes: [UInt8]) throws -> Bool {
        if let port = udp[id] {
            e.command("AT+CIPSEND=\(id),\(bytes.count),\"127.0.0.1\",\(port)")
        } else {
            e.command("AT+CIPSEND=\(id),\(bytes.count)")
        }
        guard try e.expectAny(["\r\n>", "+CIPERROR: "]).index == 0 else { try e.expect("ERROR\r\n"); return false }
        e.write(bytes)
        try e.expect("OK\r\n")
        try e.expect("+CIPSEND: \(id),\(bytes.count),")
        return Int(try e.expect("\r\n")) == bytes.count
    }

    func read(_ e: EmulatorProcess, id: Int) throws -> [UInt8] {
        e.command("AT+CIPRXGET=2,\(id),\(readChunk)")
        let r = try e.expectAny(["+CIPRXGET: 2,\(id),", "+IP ERROR: No data\r\n"])
        guard r.index == 0 else { try e.expect("ERROR\r\n"); return [] }
        let n = Int(try e.expect(",")) ?? -1
        try e.expect("\r\n")
        guard n > 0 else { try e.expect("OK\r\n"); return [] }
        let data = try e.take(n)
        try e.expect("OK\r\n")
        return data
    }

    func close(_ e: EmulatorProcess, id: Int) throws {
        e.command("AT+CIPCLOSE=\(id)")
        if udp[id] != nil {
            try e.expect("+CIPCLOSE: \(id),0\r\n\r\nOK\r\n")
        } else {
            try e.expect("OK\r\n\r\n+CIPCLOSE: \(id),0\r\n")
        }
    }

    func remoteCloseURC(id: Int) -> String { "+IPCLOSE: \(id),1\r\n" }
}

/// OneMO (onemo.md): ML307A sends with the fixed-length `>` prompt; MN316 has no prompt and
/// sends inline HEX (`AT+MIPCFG="encoding",<id>,1,0`). Both read in buffer modes 2/3.
struct OneMOClient: DialectClient {
    var model: String
    var socketIDs: ClosedRange<Int>
    var sendChunk: Int
    var readChunk = 4096
    var prompt: Bool

    static let cat1 = OneMOClient(model: "ML307A", socketIDs: 0...5, sendChunk: 4096, prompt: true)
    static let nb = OneMOClient(model: "MN316", socketIDs: 0...4, sendChunk: 1024, prompt: false)

    func bringUp(_ e: EmulatorProcess) throws {
        try e.expect("+CPIN: READY\r\n")
        e.command("ATE0")
        try e.expect("OK\r\n")
    }

    func open(_ e: EmulatorProcess, _ type: String, id: Int, port: Int, mode: Int) throws {
        if !prompt {
            e.command("AT+MIPCFG=\"encoding\",\(id),1,0")
            try e.expect("OK\r\n")
        }
        e.command("AT+MIPOPEN=\(id),\"\(type)\",\"127.0.0.1\",\(port),10,\(mode)")
        try e.expect("+MIPOPEN: \(id),0\r\n")
    }

    func openTCP(_ e: EmulatorProcess, id: Int, port: Int) throws { try open(e, "TCP", id: id, port: port, mode: 2) }
    func openUDP(_ e: EmulatorProcess, id: Int, port: Int) throws { try open(e, "UDP", id: id, port: port, mode: 3) }

    func openIsRefused(_ e: EmulatorProcess, id: Int, port: Int) throws -> Bool {
        e.command("AT+MIPOPEN=\(id),\"UDP\",\"127.0.0.1\",\(port),10,3")
        return try e.expectAny(["+CME ERROR: ", "+MIPOPEN: \(id),0\r\n"]).index == 0
    }

    func send(_ e: EmulatorProcess, id: Int, _ bytes: [UInt8]) throws -> Bool {
        if prompt {
            e.command("AT+MIPSEND=\(id),\(bytes.count)")
            try e.expect("\r\n>")
            e.write(bytes)
        } else {
            e.command("AT+MIPSEND=\(id),\(bytes.count),\"\(bytes.map { String(format: "%02X", $0) }.joined())\"")
        }
        let r = try e.expectAny(["OK\r\n", "+CME ERROR: "])
        if r.index == 1 { try e.expect("\r\n") }
        return r.index == 0
    }

    func read(_ e: EmulatorProcess, id: Int) throws -> [UInt8] {
        e.command("AT+MIPRD=\(id),\(readChunk)")
        let r = try e.expectAny(["+MIPRD: \(id),", "OK\r\n"])
        guard r.index == 0 else { return [] }
        try e.expect(",")
        let n = Int(try e.expect(",")) ?? -1
        let data = try e.take(max(0, n))
        try e.expect("OK\r\n")
        return data
    }

    func close(_ e: EmulatorProcess, id: Int) throws {
        e.command("AT+MIPCLOSE=\(id)")
        try e.expect("OK\r\n\r\n+MIPCLOSE: \(id)\r\n")
    }

    func remoteCloseURC(id: Int) -> String { "+MIPURC: \"disconn\",\(id),1\r\n" }
    var closeAfterRemoteClose: Bool { false }
}
