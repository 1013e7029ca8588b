import Glibc
import Sys

/// Whether this run may create TUN devices and network namespaces. When not, the tests
/// that need them are disabled by `.enabled(if:)` and this prints why, once.
let networkLabAvailable: Bool = {
    var reasons: [String] = []
    if getuid() != 0 { reasons.append("not running as root") }
    if access("/dev/net/tun", R_OK | W_OK) != 0 { reasons.append("/dev/net/tun is missing or not accessible") }
    if reasons.isEmpty { return true }
    print("SysTests: SKIPPING TUN/netlink namespace tests: \(reasons.joined(separator: ", "))")
    return false
}()

/// A value handed between threads that pthread_join orders, hence `@unchecked Sendable`.
private final class Handoff<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Runs `work` on a new thread and waits for it to finish.
private func runOnNewThread(_ work: @escaping () -> Void) {
    let context = Unmanaged.passRetained(Handoff(work)).toOpaque()
    var thread = pthread_t()
    let created = pthread_create(&thread, nil, { context in
        Unmanaged<Handoff<() -> Void>>.fromOpaque(context!).takeRetainedValue().value()
        return nil
    }, context)
    precondition(created == 0, "pthread_create: \(created)")
    pthread_join(thread, nil)
}

/// Runs `body` on a dedicated thread that first `unshare`s a new network namespace, and
/// returns its result (or rethrows its error) on the calling thread.
///
/// Everything `body` creates (TUN, netlink and UDP sockets, spawned `ip` processes) lives
/// in that namespace, which the kernel deletes once the thread and its descriptors are
/// gone: nothing touches the host's interfaces and nothing is left behind. Issues are not
/// recorded on the foreign thread; `body` returns observations for the test to check.
func inFreshNetworkNamespace<T>(_ body: @escaping () throws -> T) throws -> T {
    let outcome = Handoff<Result<T, any Error>?>(nil)
    runOnNewThread {
        outcome.value = Result {
            try NetworkNamespace.unshareCurrentThread()
            return try body()
        }
    }
    return try outcome.value!.get()
}

/// Runs a command (in the calling thread's namespace), returning its stdout; throws on a
/// non-zero exit.
struct CommandFailed: Error, CustomStringConvertible {
    var description: String
}

func run(_ executable: String, _ arguments: [String]) throws -> String {
    let child = try ChildProcess.spawn(executable, arguments: arguments)
    let output = String(decoding: try readToEnd(child.standardOutput!), as: UTF8.self)
    let status = try child.wait()
    guard status == .exited(0) else {
        throw CommandFailed(description: "\(executable) \(arguments.joined(separator: " ")): \(status)")
    }
    return output
}

/// `ip` lives in /usr/sbin on Debian, /sbin elsewhere.
let ipCommand: String = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { access($0, X_OK) == 0 } ?? "/usr/sbin/ip"
