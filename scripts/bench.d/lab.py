"""One netns lab per benchmark row (scripts/lab), with the processes the row starts in it.

Every process is started in its own session, so a Ctrl-C at the terminal reaches only the
benchmark, which then stops its processes by pid and deletes the namespaces itself.
"""
import glob, os, signal, subprocess, time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(HERE, "lab")
PEER = os.path.join(HERE, "bench-peer.py")
CLIENT = os.path.join(HERE, "bench-client.py")


class LabError(Exception):
    pass


def wait_for(predicate, timeout, step=0.05):
    """Polls predicate until it is true or timeout seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class Lab:
    def __init__(self, prefix, logdir):
        self.prefix, self.logdir = prefix, logdir
        self.app, self.net = f"{prefix}-app", f"{prefix}-net"
        self.procs = []  # (name, Popen)

    def log(self, name):
        return os.path.join(self.logdir, f"{self.prefix}-{name}.log")

    def up(self):
        r = subprocess.run([LAB, "up", "--prefix", self.prefix], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise LabError(f"lab up failed: {r.stderr.strip() or r.stdout.strip()}")
        self.spawn("net", ["python3", PEER], "peer", ready="bench-peer:")

    def ns(self, side):
        return {"app": self.app, "net": self.net}[side]

    def spawn(self, side, argv, name, ready=None, timeout=15, env=None):
        """Starts argv in a namespace (side None: the host's), logging to logs/PREFIX-name.log;
        with `ready`, waits until that text appears in the log."""
        path = self.log(name)
        logf = open(path, "ab")
        cmd = (["ip", "netns", "exec", self.ns(side)] if side else []) + argv
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                             start_new_session=True, env=env)
        logf.close()
        self.procs.append((name, p))
        if ready is not None:
            def seen():
                with open(path, "rb") as f:
                    return ready.encode() in f.read()
            if not wait_for(lambda: seen() or p.poll() is not None, timeout) or not seen():
                raise LabError(f"{name} did not start: {self.tail(name)}")
        return p

    def tail(self, name, lines=5):
        try:
            with open(self.log(name), "rb") as f:
                text = f.read().decode("utf-8", "replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:]) or "(empty log)"

    def run(self, side, argv, timeout, check=True, stdin=None):
        cmd = ["ip", "netns", "exec", self.ns(side)] + argv
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=stdin)
        except subprocess.TimeoutExpired:
            raise LabError(f"timed out after {timeout:.0f} s: {' '.join(argv[:3])}")
        if check and r.returncode != 0:
            raise LabError(f"{' '.join(argv[:3])} exited {r.returncode}: {(r.stderr or r.stdout).strip()[-300:]}")
        return r

    def stop(self, name):
        for n, p in self.procs:
            if n == name:
                terminate(p)

    def down(self):
        for _, p in reversed(self.procs):
            terminate(p)
        self.procs = []
        subprocess.run([LAB, "down", "--prefix", self.prefix], capture_output=True, timeout=60)
        # The pty links and stats sockets a row's emulator and daemon may leave behind.
        for path in glob.glob(f"/run/t2m-bench-{self.prefix}.*"):
            try:
                os.unlink(path)
            except OSError:
                pass


def terminate(p, grace=5.0):
    """SIGTERM to a process we started (by its pid), SIGKILL if it lingers."""
    if p.poll() is not None:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=grace)
    except ProcessLookupError:
        pass


class Registry:
    """Hands out labs with prefixes unique to this run and tears down whichever are left."""

    def __init__(self, logdir):
        self.logdir, self.count, self.live = logdir, 0, []

    def new(self):
        self.count += 1
        # scripts/lab allows 10 characters; the pid keeps two concurrent runs apart.
        prefix = f"b{os.getpid() % 10000:04d}x{self.count}"
        lab = Lab(prefix, self.logdir)
        self.live.append(lab)
        return lab

    def release(self, lab):
        try:
            lab.down()
        finally:
            if lab in self.live:
                self.live.remove(lab)

    def teardown_all(self):
        while self.live:
            self.release(self.live[-1])
