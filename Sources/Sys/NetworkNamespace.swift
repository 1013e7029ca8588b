import CLinux
import Glibc

/// Network namespaces, per thread: tests and the emulator's lab put a thread into an
/// isolated network stack; sockets, TUN devices and netlink sockets a thread creates belong
/// to the namespace it is in at that moment, and so do the children it spawns.
public enum NetworkNamespace {
    /// `unshare(CLONE_NEWNET)`: the calling thread (only) moves into a new namespace that
    /// holds just a down `lo`. It disappears when the last thread, child and socket in it
    /// is gone. Needs `CAP_SYS_ADMIN`. Use a dedicated thread: a pooled thread would carry
    /// the namespace into unrelated work.
    public static func unshareCurrentThread() throws(SysError) {
        _ = try syscallValue("unshare(CLONE_NEWNET)") { clinux_unshare_network() }
    }

    /// `setns(2)`: the calling thread joins the namespace at `path`, e.g.
    /// `/run/netns/NAME` (made by `ip netns add NAME`) or `/proc/PID/ns/net`.
    public static func enter(path: String) throws(SysError) {
        let namespace = try FileDescriptor.open(path, O_RDONLY)
        _ = try syscallValue("setns(CLONE_NEWNET)", path) { clinux_setns_network(namespace.rawValue) }
    }
}
