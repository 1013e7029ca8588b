import Testing
import Glibc
import TestSignals

/// A test that writes to a vanished peer must fail, not kill the whole test run.
@Suite struct TestProcessSignalTests {
    @Test func sigpipeIsIgnoredInTheTestProcess() {
        #expect(test_signals_sigpipe_ignored() != 0)
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        close(fds[0])
        let byte: [UInt8] = [1]
        let n = byte.withUnsafeBytes { write(fds[1], $0.baseAddress, 1) }
        // Without the constructor this process would have died here of SIGPIPE.
        #expect(n == -1 && errno == EPIPE)
        close(fds[1])
    }
}
