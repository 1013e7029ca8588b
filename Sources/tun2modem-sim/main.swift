// tun2modem-sim: the modem emulator's command line (see tun2modem-sim(1)).
import Glibc
import ModemSim

/// Writes straight to a descriptor: the first stdout line must not sit in a stdio buffer.
func emit(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return }
        bytes = bytes.dropFirst(n)
    }
}

func runEmulator() -> Int32 {
    switch SimCommandLine.parse(Array(CommandLine.arguments.dropFirst())) {
    case .help:
        emit(1, SimCommandLine.help + "\n")
        return 0
    case .usageError(let message):
        emit(2, "tun2modem-sim: \(message)\n\(SimCommandLine.usage)\n")
        return 64
    case .run(let commandLine):
        do {
            let runner = try SimRunner(commandLine)
            emit(1, "pty: \(runner.ptyPath)\n")
            try runner.run()
            return 0
        } catch let error as NamespaceUnavailable {
            emit(2, "tun2modem-sim: \(error)\n")
            return 69
        } catch {
            emit(2, "tun2modem-sim: \(error)\n")
            return 1
        }
    }
}

exit(runEmulator())
