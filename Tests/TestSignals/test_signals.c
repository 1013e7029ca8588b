// The test binary writes to pipes, ptys and sockets whose far end (an emulator, a daemon,
// a server) may have just gone away. SIGPIPE's default action would then kill the whole
// test process mid-run, and swift-test waits on its dead child forever instead of
// reporting a failure; the daemon and the emulator ignore SIGPIPE for the same reason.
// A constructor runs before any test, whatever order Swift Testing picks. Children
// spawned through Sys.ChildProcess get the default action back (POSIX_SPAWN_SETSIGDEF).
#include <signal.h>
#include "test_signals.h"

static int ignored;

__attribute__((constructor)) static void ignore_sigpipe(void) {
    ignored = signal(SIGPIPE, SIG_IGN) != SIG_ERR;
}

int test_signals_sigpipe_ignored(void) { return ignored; }
