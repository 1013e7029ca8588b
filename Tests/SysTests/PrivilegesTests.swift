import Glibc
import Testing
import Sys

/// Only the re-run of the test binary made by `dropInAChildProcess` may really drop:
/// it cannot be undone within a process (see `runTestInChildProcess`).
private let isPrivilegeChild = childTestName == "dropsForGood()"

private let canDrop: Bool = {
    if getuid() != 0 {
        print("SysTests: SKIPPING privilege-drop test: not running as root")
        return false
    }
    return true
}()

@Suite struct PrivilegesTests {
    @Test func lookupFindsRootAndNobody() throws {
        let root = try Privileges.lookup(user: "root")
        #expect(root.uid == 0 && root.gid == 0)
        #expect(root.groups.contains(0))
        let nobody = try Privileges.lookup(user: "nobody")
        #expect(nobody.uid == 65534)
        #expect(nobody.groups.contains(nobody.gid))
    }

    @Test func unknownUserIsNamed() {
        #expect(throws: SysError.unknownUser("t2m-no-such-user")) {
            try Privileges.lookup(user: "t2m-no-such-user")
        }
        #expect(SysError.unknownUser("t2m-no-such-user").description == "no such user or group: t2m-no-such-user")
    }

    /// Re-runs this test binary with only `dropsForGood` selected, as root, and checks that
    /// it passed there.
    @Test(.enabled(if: canDrop && !isPrivilegeChild, "needs root; runs the drop in a child process"))
    func dropInAChildProcess() throws {
        let (status, output) = try runTestInChildProcess(suite: "PrivilegesTests", test: "dropsForGood()")
        #expect(status == .exited(0), "\(output)")
        #expect(output.contains("Test dropsForGood() passed"), "\(output)")
    }

    /// Runs only inside the child of `dropInAChildProcess`.
    @Test(.enabled(if: isPrivilegeChild, "runs only as the child of dropInAChildProcess"))
    func dropsForGood() throws {
        let identity = try Privileges.drop(toUser: "nobody")
        #expect(getuid() == identity.uid && geteuid() == identity.uid)
        #expect(getgid() == identity.gid && getegid() == identity.gid)
        #expect(setuid(0) == -1 && errno == EPERM)
        #expect(open("/etc/shadow", O_RDONLY | O_CLOEXEC) == -1 && errno == EACCES)
        // Dropping again to the same user is harmless only as far as the ids go: setgroups
        // now needs a privilege we no longer have.
        #expect(throws: SysError.failed(call: "setgroups", subject: "nobody", errno: .notPermitted)) {
            try Privileges.drop(to: identity)
        }
    }
}
