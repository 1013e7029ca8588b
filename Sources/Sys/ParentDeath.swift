import CLinux
import Glibc

/// A child that must not outlive its parent: the kernel sends it SIGTERM when the parent
/// goes (prctl(2) `PR_SET_PDEATHSIG`), however the parent ends, SIGKILL included.
///
/// The signal follows the parent *thread* that created the child, so this suits parents
/// that spawn from a thread living as long as themselves (the daemon's one event loop).
public enum ParentDeath {
    /// Asks for SIGTERM when the parent dies. False when it has died already (the process
    /// was reparented before the request took effect): the caller should stop at once.
    public static func terminateWithParent() throws(SysError) -> Bool {
        let parent = getppid()
        _ = try syscallValue("prctl(PR_SET_PDEATHSIG)") { clinux_set_parent_death_signal(SIGTERM) }
        // Reparented to init (or a subreaper) before the request: the parent is gone.
        return parent != 1 && getppid() == parent
    }
}
