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
