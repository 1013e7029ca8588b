import CLinux
import Glibc

/// A `struct sockaddr_un` for a filesystem path, or for the abstract namespace when the
/// name starts with `@` (Linux: the address begins with a NUL byte and has no file).
struct UnixAddress {
    private var storage = sockaddr_un()
    /// The length to pass to bind/connect/sendto: the family plus the used part of
    /// `sun_path` (an abstract name is not NUL-terminated; its length is what counts).
    let length: socklen_t

    /// The longest name: `sun_path` is 108 bytes, one kept for the terminating NUL.
    static let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    init(_ name: String) throws(SysError) {
        let abstract = name.hasPrefix("@")
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 }
        guard !bytes.isEmpty, bytes.count <= Self.capacity, !bytes.dropFirst().contains(0) else {
            throw .nameTooLong(name, limit: Self.capacity)
        }
        self.storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &self.storage.sun_path) { path in
            path.copyBytes(from: bytes)
        }
        let familySize = MemoryLayout<sa_family_t>.size
        self.length = socklen_t(familySize + bytes.count + (abstract ? 0 : 1))
    }

    /// Calls `body` with the address as a `sockaddr` pointer and its length.
    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        withUnsafePointer(to: self.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, self.length) }
        }
    }
}
