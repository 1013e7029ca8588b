import CLinux
import Glibc

/// Opens serial devices (a modem's UART, a USB adapter, or a pty slave) for the AT engine.
///
/// An unplugged USB adapter shows as a read of 0 bytes or `EIO` and as `.hangup` in epoll:
/// the caller closes the descriptor and opens the path again later.
public enum SerialPort {
    /// Every rate Linux termios has a `B*` constant for, in bits per second.
    public static let supportedBaudRates: [Int] = [
        50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400,
        57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000,
        2000000, 2500000, 3000000, 3500000, 4000000,
    ]

    /// Opens `path` for exclusive, raw, nonblocking use.
    ///
    /// - `open(2)` with `O_RDWR|O_NOCTTY|O_NONBLOCK|O_CLOEXEC`: the modem must never become
    ///   our controlling terminal, and the AT engine is driven by epoll.
    /// - `flock(LOCK_EX|LOCK_NB)` and `ioctl(TIOCEXCL)`: a second tun2modem or a terminal
    ///   program on the same line would steal responses. `TIOCEXCL` alone does not stop root,
    ///   hence the lock, which the kernel also drops if we crash. A held device is
    ///   `SysError.deviceBusy`. A pty slave gets the lock only: its tty lives on while the
    ///   emulator holds the master, so a `TIOCEXCL` would outlast our close and refuse a
    ///   non-root reopen (a restarted daemon, the next test) with `EBUSY`.
    /// - termios raw 8N1, `CLOCAL|CREAD`, `baud` in and out, `CRTSCTS` only with `rtscts`.
    ///   A pty slave keeps whatever speed it is given, so the same code serves the emulator.
    /// - `tcflush(TCIOFLUSH)`: bytes a previous user left in the queues are not ours.
    ///
    /// - Throws: `SysError.unsupportedBaudRate` before touching the device when Linux has no
    ///   constant for `baud`; `.failed(call: "open", subject: path, ...)` for a missing or
    ///   forbidden device; `.baudRateNotApplied` when the driver kept another rate.
    public static func open(path: String, baud: Int, rtscts: Bool) throws(SysError) -> FileDescriptor {
        let speed = try self.speed(baud)
        let fd = try busyAsDeviceBusy(path) { () throws(SysError) in
            try FileDescriptor.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK)
        }
        try busyAsDeviceBusy(path) { () throws(SysError) in
            _ = try syscallValue("flock", path) { flock(fd.rawValue, LOCK_EX | LOCK_NB) }
        }
        let ptySlave = try syscallValue("fstat", path) { clinux_is_pty_slave(fd.rawValue) }
        if ptySlave == 0 {
            _ = try syscallValue("ioctl(TIOCEXCL)", path) { clinux_ioctl_none(fd.rawValue, clinux_tiocexcl()) }
        }
        try Terminal.makeRaw(fd.rawValue, subject: path, rtscts: rtscts, speed: speed)
        try self.verify(fd.rawValue, subject: path, baud: baud)
        _ = try syscallValue("tcflush", path) { tcflush(fd.rawValue, TCIOFLUSH) }
        return fd
    }

    /// Switches an open line to another rate or flow control, after what was already
    /// written has gone out at the old rate (`tcsetattr(TCSADRAIN)`): e.g. once the modem
    /// answered `OK` to `AT+IPR=921600`. Still raw 8N1.
    /// - Throws: `.unsupportedBaudRate`, or `.baudRateNotApplied` when the driver kept
    ///   another rate.
    public static func reconfigure(_ fd: borrowing FileDescriptor, baud: Int, rtscts: Bool) throws(SysError) {
        let speed = try self.speed(baud)
        try Terminal.makeRaw(fd.rawValue, subject: fd.label, rtscts: rtscts, speed: speed, when: TCSADRAIN)
        try self.verify(fd.rawValue, subject: fd.label, baud: baud)
    }

    /// Throws away bytes received but not read (`tcflush(TCIFLUSH)`): garbage from a rate
    /// change or from a modem that was talking before we listened.
    public static func discardInput(_ fd: borrowing FileDescriptor) throws(SysError) {
        _ = try syscallValue("tcflush", fd.label) { tcflush(fd.rawValue, TCIFLUSH) }
    }

    private static func speed(_ baud: Int) throws(SysError) -> speed_t {
        var speed = speed_t()
        guard baud > 0, clinux_baud_constant(UInt(baud), &speed) == 0 else {
            throw .unsupportedBaudRate(baud)
        }
        return speed
    }

    /// Reads the settings back: a driver may round a rate it cannot make exactly.
    private static func verify(_ fd: CInt, subject: String, baud: Int) throws(SysError) {
        var applied = try Terminal.settings(fd, subject: subject)
        let actual = Int(clinux_baud_rate(cfgetospeed(&applied)))
        if actual != baud {
            throw .baudRateNotApplied(path: subject, requested: baud, actual: actual)
        }
    }

    /// `EBUSY` from open (a non-root user's `TIOCEXCL`) and `EWOULDBLOCK` from flock both
    /// mean another process holds the line.
    private static func busyAsDeviceBusy<T: ~Copyable>(
        _ path: String, _ body: () throws(SysError) -> T
    ) throws(SysError) -> T {
        do {
            return try body()
        } catch {
            if error.errno == .resourceBusy || error.errno == .wouldBlock { throw .deviceBusy(path: path) }
            throw error
        }
    }

    /// The rate the line runs at now (`cfgetospeed(tcgetattr(fd))`), in bits per second;
    /// 0 when the driver reports a rate without a `B*` constant.
    public static func baudRate(of fd: borrowing FileDescriptor) throws(SysError) -> Int {
        var settings = try Terminal.settings(fd.rawValue, subject: fd.label)
        return Int(clinux_baud_rate(cfgetospeed(&settings)))
    }

    /// Whether hardware flow control (`CRTSCTS`) is on.
    public static func hasHardwareFlowControl(_ fd: borrowing FileDescriptor) throws(SysError) -> Bool {
        var settings = try Terminal.settings(fd.rawValue, subject: fd.label)
        return clinux_termios_has_crtscts(&settings) != 0
    }
}
