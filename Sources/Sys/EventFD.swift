import CLinux
import Glibc

/// A counter that is readable while non-zero (`eventfd(2)`): wakes an epoll loop from
/// another thread or from code that is not itself a descriptor.
public struct EventFD: ~Copyable {
    /// Register this for `.readable`.
    public let descriptor: FileDescriptor

    /// `eventfd(initialValue, EFD_NONBLOCK|EFD_CLOEXEC)`.
    public init(initialValue: UInt32 = 0) throws(SysError) {
        let flags = CInt(EFD_NONBLOCK) | CInt(EFD_CLOEXEC)
        self.descriptor = FileDescriptor(adopting: try syscallValue("eventfd") { eventfd(initialValue, flags) })
    }

    /// `write(2)` of 8 bytes: adds `amount` (≥ 1) to the counter. `.wouldBlock` only when
    /// the counter would overflow 2^64 - 2.
    @discardableResult
    public func signal(adding amount: UInt64 = 1) throws(SysError) -> IOResult<Void> {
        var value = amount
        let result = try withUnsafeBytes(of: &value) { (bytes) throws(SysError) in
            try self.descriptor.write(bytes)
        }
        switch result {
        case .wouldBlock: return .wouldBlock
        case .processed: return .processed(())
        }
    }

    /// `read(2)` of 8 bytes: the counter's value, which is reset to zero; `.wouldBlock`
    /// when it is zero.
    public func read() throws(SysError) -> IOResult<UInt64> {
        var value: UInt64 = 0
        let result = try withUnsafeMutableBytes(of: &value) { (bytes) throws(SysError) in
            try self.descriptor.read(into: bytes)
        }
        switch result {
        case .wouldBlock: return .wouldBlock
        case .processed: return .processed(value)
        }
    }
}
