import Glibc
import Sys

/// The emulated serial port: a pseudo-terminal whose slave side the host opens like a UART.
///
/// The slave is put in raw mode (no echo, no CR/LF translation: the modem does its own echo)
/// and kept open by the emulator, so the master never reads EIO while no host has it open.
final class PtyPort {
    let master: Int32
    private let slave: Int32
    /// `/dev/pts/N`.
    let path: String

    init() throws(SysError) {
        let pty = try PseudoTerminal.open(nonblocking: true)
        let slave = try pty.openSlave(nonblocking: true)
        self.path = pty.slavePath
        self.slave = slave.relinquish()
        self.master = pty.master.relinquish()
    }

    /// Makes `link` a symlink to the slave (`--link PATH`).
    func link(_ link: String) throws(SysError) {
        try PseudoTerminal.link(link, to: path)
    }

    /// Reads up to `max` bytes the host wrote; empty when none are waiting.
    func read(max: Int) -> [UInt8] {
        guard max > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: min(max, 65536))
        let n = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    /// Writes what the line accepts; returns the count written.
    func write(_ bytes: ArraySlice<UInt8>) -> Int {
        guard !bytes.isEmpty else { return 0 }
        let n = bytes.withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) }
        return max(0, n)
    }

    deinit {
        close(master)
        close(slave)
    }
}
