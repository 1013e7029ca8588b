import CLinux
import Glibc

/// A TUN network interface: IP packets the kernel routes to it are read from
/// `descriptor`, packets written there enter the kernel's stack as if received.
///
/// Opened with `IFF_TUN|IFF_NO_PI`: each read or write is exactly one IP packet, without
/// the 4-byte packet-information header.
public struct TunDevice: ~Copyable {
    /// The packet descriptor (`/dev/net/tun`), nonblocking, `O_CLOEXEC`.
    public var descriptor: FileDescriptor
    /// The interface name the kernel gave, e.g. `tun2modem0` (or `tun0` for a pattern).
    public let name: String

    /// `open("/dev/net/tun")` + `ioctl(TUNSETIFF, IFF_TUN|IFF_NO_PI)`.
    ///
    /// `name` may hold a `%d` pattern (`t2m%d`) for the kernel to fill in. An existing
    /// persistent TUN of that name is attached to. Needs `CAP_NET_ADMIN` unless the device
    /// is persistent and owned by this user.
    public static func open(name: String) throws(SysError) -> TunDevice {
        let limit = Int(IFNAMSIZ) - 1
        guard name.utf8.count <= limit, !name.utf8.contains(0) else { throw .nameTooLong(name, limit: limit) }
        let descriptor = try FileDescriptor.open("/dev/net/tun", O_RDWR | O_NONBLOCK)
        let actual = try withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(IFNAMSIZ)) {
            (buffer) throws(SysError) -> String in
            buffer.initialize(repeating: 0)
            _ = try syscallValue("ioctl(TUNSETIFF)", name) { clinux_tun_attach(descriptor.rawValue, name, buffer.baseAddress) }
            return String(cString: buffer.baseAddress!)
        }
        return TunDevice(descriptor: descriptor, name: actual)
    }

    /// `ioctl(TUNSETPERSIST)`: when on, the interface (with its addresses and routes)
    /// outlives this descriptor, so a restarted daemon finds it configured.
    public func setPersistent(_ persistent: Bool) throws(SysError) {
        _ = try syscallValue("ioctl(TUNSETPERSIST)", self.name) {
            clinux_ioctl_int(self.descriptor.rawValue, clinux_tunsetpersist(), persistent ? 1 : 0)
        }
    }
}
