import CLinux
import Glibc

/// A user account as the daemon runs under it after start-up.
public struct UserIdentity: Hashable, Sendable {
    /// The login name.
    public var name: String
    /// `pw_uid`
    public var uid: uid_t
    /// `pw_gid`: the primary group.
    public var gid: gid_t
    /// Every group the user is in (`getgrouplist(3)`), primary group included; e.g.
    /// `dialout` lets it reopen a USB serial adapter that was replugged.
    public var groups: [gid_t]

    public init(name: String, uid: uid_t, gid: gid_t, groups: [gid_t]) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }
}

/// Giving up root once the TUN is open and configured: what remains (reading and writing
/// already-open descriptors) needs no privilege.
public enum Privileges {
    /// The account called `name` (`getpwnam_r(3)`, `getgrouplist(3)`).
    /// - Throws: `.unknownUser(name)` when there is none.
    public static func lookup(user name: String) throws(SysError) -> UserIdentity {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>? = nil
        var capacity = 1024
        // getpwnam_r reports a too-small buffer with ERANGE; 1 MiB bounds the retries.
        while true {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
            defer { buffer.deallocate() }
            let result = getpwnam_r(name, &entry, buffer, capacity, &found)
            if result == ERANGE && capacity < 1 << 20 {
                capacity *= 4
                continue
            }
            if result != 0 { throw .failed(call: "getpwnam_r", subject: name, errno: Errno(rawValue: result)) }
            guard found != nil else { throw .unknownUser(name) }
            break
        }
        let uid = entry.pw_uid
        let gid = entry.pw_gid
        var count: CInt = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        // Returns -1 and the needed count when the array is too small.
        while getgrouplist(name, gid, &groups, &count) == -1 {
            guard count > groups.count, count <= 65536 else { break }
            groups = [gid_t](repeating: 0, count: Int(count))
        }
        return UserIdentity(name: name, uid: uid, gid: gid, groups: Array(groups.prefix(Int(max(0, count)))))
    }

    /// Looks up `name` and becomes that user for good (see `drop(to:)`).
    @discardableResult
    public static func drop(toUser name: String) throws(SysError) -> UserIdentity {
        let identity = try lookup(user: name)
        try drop(to: identity)
        return identity
    }

    /// `setgroups(2)`, `setgid(2)`, `setuid(2)` — in that order, since after `setuid` the
    /// process may no longer change its groups — then checks that real, effective and
    /// saved ids all changed and that `setuid(0)` now fails.
    ///
    /// glibc applies the change to every thread of the process.
    /// - Throws: `.privilegesNotDropped` when the check fails.
    public static func drop(to identity: UserIdentity) throws(SysError) {
        _ = try syscallValue("setgroups", identity.name) { setgroups(identity.groups.count, identity.groups) }
        _ = try syscallValue("setgid", identity.name) { setgid(identity.gid) }
        _ = try syscallValue("setuid", identity.name) { setuid(identity.uid) }

        var real = uid_t(), effective = uid_t(), saved = uid_t()
        _ = try syscallValue("getresuid") { clinux_getresuid(&real, &effective, &saved) }
        var realGroup = gid_t(), effectiveGroup = gid_t(), savedGroup = gid_t()
        _ = try syscallValue("getresgid") { clinux_getresgid(&realGroup, &effectiveGroup, &savedGroup) }
        guard real == identity.uid, effective == identity.uid, saved == identity.uid else {
            throw .privilegesNotDropped("uids are \(real)/\(effective)/\(saved), wanted \(identity.uid)")
        }
        guard realGroup == identity.gid, effectiveGroup == identity.gid, savedGroup == identity.gid else {
            throw .privilegesNotDropped("gids are \(realGroup)/\(effectiveGroup)/\(savedGroup), wanted \(identity.gid)")
        }
        if identity.uid != 0 && setuid(0) == 0 {
            throw .privilegesNotDropped("setuid(0) still succeeds")
        }
    }
}
