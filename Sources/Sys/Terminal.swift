import CLinux
import Glibc

/// termios(3) settings shared by the pty master and serial ports.
enum Terminal {
    /// Raw 8N1, `CLOCAL|CREAD`, `CRTSCTS` only when `rtscts`, at `speed` when given;
    /// `tcgetattr` / `cfsetispeed` / `cfsetospeed` / `tcsetattr(when)`.
    static func makeRaw(
        _ fd: CInt, subject: String, rtscts: Bool, speed: speed_t?, when: CInt = TCSANOW
    ) throws(SysError) {
        var settings = termios()
        _ = try syscallValue("tcgetattr", subject) { tcgetattr(fd, &settings) }
        clinux_termios_make_raw_8n1(&settings, rtscts ? 1 : 0)
        if let speed {
            _ = try syscallValue("cfsetispeed", subject) { cfsetispeed(&settings, speed) }
            _ = try syscallValue("cfsetospeed", subject) { cfsetospeed(&settings, speed) }
        }
        _ = try syscallValue("tcsetattr", subject) { tcsetattr(fd, when, &settings) }
    }

    /// The current termios of `fd` (`tcgetattr`).
    static func settings(_ fd: CInt, subject: String) throws(SysError) -> termios {
        var settings = termios()
        _ = try syscallValue("tcgetattr", subject) { tcgetattr(fd, &settings) }
        return settings
    }
}
