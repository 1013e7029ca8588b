// STOPGAP: the only Glibc import above Sys, until Sys offers `exit` and a stderr writer
// (requested in notes/bugs-sys.md). Nothing else in the executable touches Glibc.
import Glibc

/// Ends the process with `code`.
func exit(with code: ExitCode) -> Never {
    Glibc.exit(code.rawValue)
}

/// Writes text to fd 2 whole, retrying short writes and EINTR; errors are dropped (there is
/// nowhere left to report them).
enum StandardError {
    static func write(_ text: String) {
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                Glibc.write(2, buffer.baseAddress.map { $0 + done }, buffer.count - done)
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            done += n
        }
    }
}
