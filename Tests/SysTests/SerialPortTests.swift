import Glibc
import Testing
import Sys

@Suite struct SerialPortTests {
    @Test(arguments: [9600, 115200, 921600, 4000000])
    func opensAPtySlaveRawAtTheGivenRate(baud: Int) throws {
        let pty = try PseudoTerminal.open()
        let port = try SerialPort.open(path: pty.slavePath, baud: baud, rtscts: false)
        #expect(try SerialPort.baudRate(of: port) == baud)
        #expect(try SerialPort.hasHardwareFlowControl(port) == false)
        #expect(try port.isNonblocking())
        #expect(try port.isCloseOnExec())
        let command = Array("AT+QISEND=0,3\r".utf8) + [0x00, 0x1A, 0xFF]
        try writeAll(command, to: port)
        #expect(try readExactly(command.count, from: pty.master) == command)
    }

    /// After `AT+IPR=921600` / `OK`, the host follows the modem to the new rate; the line
    /// stays raw and usable.
    @Test func rateAndFlowControlChangeOnAnOpenLine() throws {
        let pty = try PseudoTerminal.open()
        let port = try SerialPort.open(path: pty.slavePath, baud: 115200, rtscts: false)
        try writeAll(Array("AT+IPR=921600\r".utf8), to: port)
        try SerialPort.reconfigure(port, baud: 921_600, rtscts: true)
        #expect(try SerialPort.baudRate(of: port) == 921_600)
        #expect(try SerialPort.hasHardwareFlowControl(port))
        #expect(try readExactly(14, from: pty.master) == Array("AT+IPR=921600\r".utf8))
        #expect(throws: SysError.unsupportedBaudRate(921_601)) {
            try SerialPort.reconfigure(port, baud: 921_601, rtscts: false)
        }
        #expect(try SerialPort.baudRate(of: port) == 921_600)
    }

    @Test func discardInputDropsWhatArrivedBefore() throws {
        let pty = try PseudoTerminal.open()
        let port = try SerialPort.open(path: pty.slavePath, baud: 115200, rtscts: false)
        try writeAll([0xFF, 0xFE, 0x00], to: pty.master)
        // Wait until the garbage is there, then drop it.
        var requests = [PollRequest(fd: port.rawValue, events: .readable)]
        #expect(try Poll.wait(&requests, timeout: .seconds(5)) == 1)
        try SerialPort.discardInput(port)
        try writeAll(Array("OK\r\n".utf8), to: pty.master)
        #expect(try readExactly(4, from: port) == Array("OK\r\n".utf8))
    }

    @Test func hardwareFlowControlOnlyWhenAsked() throws {
        let pty = try PseudoTerminal.open()
        let port = try SerialPort.open(path: pty.slavePath, baud: 115200, rtscts: true)
        #expect(try SerialPort.hasHardwareFlowControl(port))
    }

    @Test func secondOpenOfTheSameDeviceIsBusy() throws {
        let pty = try PseudoTerminal.open()
        let first = try SerialPort.open(path: pty.slavePath, baud: 115200, rtscts: false)
        #expect(throws: SysError.deviceBusy(path: pty.slavePath)) {
            _ = try SerialPort.open(path: pty.slavePath, baud: 115200, rtscts: false)
        }
        #expect(SysError.deviceBusy(path: pty.slavePath).description
            == "device busy: \(pty.slavePath): another process holds it")
        // Once the holder closes, the device is free again.
        try first.close()
        let again = try SerialPort.open(path: pty.slavePath, baud: 115200, rtscts: false)
        #expect(again.rawValue >= 0)
    }

    /// A pty slave must be reopenable by an unprivileged user once its holder closed it
    /// (TIOCEXCL would stick to the slave while the master lives). Checked as `nobody` by
    /// a shell that opens the slave after we closed ours.
    @Test(.enabled(if: getuid() == 0, "needs root to run a check as another user"))
    func ptySlaveCanBeReopenedWithoutPrivilegeAfterClose() throws {
        let pty = try PseudoTerminal.open()
        try SerialPort.open(path: pty.slavePath, baud: 115200, rtscts: false).close()
        // Let nobody open it, as a non-root daemon would own its pty.
        #expect(chmod(pty.slavePath, 0o666) == 0)
        let child = try ChildProcess.spawn(
            "/usr/bin/setpriv",
            arguments: ["--reuid", "65534", "--regid", "65534", "--clear-groups", "/bin/sh", "-c", "exec 3<>\(pty.slavePath) && echo opened"],
            mergeStandardError: true)
        let output = String(decoding: try readToEnd(child.standardOutput!), as: UTF8.self)
        #expect(try child.wait() == .exited(0), "\(output)")
        #expect(output == "opened\n")
    }

    @Test func missingDeviceSaysWhichAndWhy() {
        let path = "/dev/ttyUSB-t2m-missing"
        do {
            _ = try SerialPort.open(path: path, baud: 115200, rtscts: false)
            Issue.record("opened a device that does not exist")
        } catch {
            #expect(error.description == "open /dev/ttyUSB-t2m-missing: No such file or directory")
        }
    }

    @Test(arguments: [0, -9600, 12345, 115201, 5000000])
    func unsupportedRateIsRefusedBeforeOpening(baud: Int) {
        #expect(throws: SysError.unsupportedBaudRate(baud)) {
            _ = try SerialPort.open(path: "/dev/ttyUSB-t2m-missing", baud: baud, rtscts: false)
        }
    }

    @Test func everyAdvertisedRateIsAccepted() throws {
        let pty = try PseudoTerminal.open()
        for baud in SerialPort.supportedBaudRates {
            let port = try SerialPort.open(path: pty.slavePath, baud: baud, rtscts: false)
            #expect(try SerialPort.baudRate(of: port) == baud)
        }
    }

    @Test func aRegularFileIsNotATerminal() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/plain"
        try FileDescriptor.open(path, O_WRONLY | O_CREAT, permissions: 0o600).close()
        #expect(throws: SysError.failed(call: "ioctl(TIOCEXCL)", subject: path, errno: .notATerminal)) {
            _ = try SerialPort.open(path: path, baud: 115200, rtscts: false)
        }
    }
}
