import Glibc
import Testing
@testable import Sys

@Suite struct ErrnoTests {
    @Test func namesMatchTheCConstants() {
        #expect(Errno.wouldBlock.rawValue == EAGAIN)
        #expect(Errno.wouldBlock == Errno(rawValue: EWOULDBLOCK))
        #expect(Errno.interrupted.rawValue == EINTR)
        #expect(Errno.noSuchFileOrDirectory.rawValue == ENOENT)
    }

    @Test func descriptionIsStrerror() {
        #expect(Errno.noSuchFileOrDirectory.description == "No such file or directory")
        #expect(Errno.resourceBusy.description == "Device or resource busy")
    }

    @Test func failedCallNamesCallSubjectAndReason() {
        let error = SysError.failed(call: "open", subject: "/dev/ttyUSB9", errno: .noSuchFileOrDirectory)
        #expect(error.description == "open /dev/ttyUSB9: No such file or directory")
        #expect(error.errno == .noSuchFileOrDirectory)
        #expect(SysError.failed(call: "pipe2", subject: nil, errno: .tooManyOpenFiles).description
            == "pipe2: Too many open files")
        #expect(SysError.deviceBusy(path: "/dev/ttyUSB2").description
            == "device busy: /dev/ttyUSB2: another process holds it")
        #expect(SysError.deviceBusy(path: "/dev/ttyUSB2").errno == nil)
        let refused = SysError.refusedByKernel(call: "netlink add route", subject: "10.0.0.0/8 dev t2m0", errno: .invalidArgument, reason: "Nexthop device is not up")
        #expect(refused.description == "netlink add route 10.0.0.0/8 dev t2m0: Invalid argument (Nexthop device is not up)")
        #expect(refused.errno == .invalidArgument)
    }

    @Test func syscallReturnsWouldBlockAsAValue() throws {
        var calls = 0
        let result = try syscall("read") { () -> Int in
            calls += 1
            Glibc.errno = EAGAIN
            return -1
        }
        #expect(result == .wouldBlock)
        #expect(calls == 1)
    }

    @Test func syscallRetriesInterruptedCalls() throws {
        var calls = 0
        let result = try syscall("read") { () -> Int in
            calls += 1
            if calls < 3 { Glibc.errno = EINTR; return -1 }
            return 42
        }
        #expect(result == .processed(42))
        #expect(calls == 3)
    }

    @Test func syscallThrowsOtherErrorsWithTheCallsName() {
        #expect(throws: SysError.failed(call: "ioctl(TUNSETIFF)", subject: "t2m0", errno: .notPermitted)) {
            _ = try syscall("ioctl(TUNSETIFF)", "t2m0") { () -> CInt in
                Glibc.errno = EPERM
                return -1
            }
        }
    }

    @Test func syscallValueThrowsWouldBlock() {
        #expect(throws: SysError.failed(call: "accept4", subject: nil, errno: .wouldBlock)) {
            _ = try syscallValue("accept4") { () -> CInt in
                Glibc.errno = EAGAIN
                return -1
            }
        }
    }
}
