import Glibc
import Sys

/// Some checks cannot run inside the shared test process: a privilege drop cannot be
/// undone, `exit` ends it, and counting open descriptors needs no other test running.
/// Such a check is a test that is enabled only when `T2M_SYS_CHILD` names it; a parent
/// test re-runs this test binary (`/proc/self/exe`) with only that test selected.
let childTestName: String? = Environment.value("T2M_SYS_CHILD")

/// Re-runs the test binary with only `SysTests.<suite>/<test>` selected and
/// `T2M_SYS_CHILD=<test>`, and returns its exit status and merged output.
func runTestInChildProcess(suite: String, test: String) throws -> (status: ExitStatus, output: String) {
    var path = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &path, path.count - 1)
    guard length > 0 else { throw CommandFailed(description: "readlink /proc/self/exe failed") }
    let executable = String(decoding: path[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let child = try ChildProcess.spawn(
        executable,
        arguments: ["--testing-library", "swift-testing", "--filter", "SysTests.\(suite)/\(test)"],
        environment: ["T2M_SYS_CHILD=\(test)", "PATH=/usr/bin:/bin"],
        mergeStandardError: true)
    let output = String(decoding: try readToEnd(child.standardOutput!, timeout: .seconds(60)), as: UTF8.self)
    return (try child.wait(), output)
}
