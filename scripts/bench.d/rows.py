"""The benchmark's rows: what each one sets up in its lab, measures, and reports.

A row's result is a dict: id, section, label, status ("ok", "failed: why", or "n/a (why)"),
figure (the headline value as text), and the numbers behind it. A row that cannot run says
so in its status; no row ever carries a figure it did not measure.
"""
import json, os, re, subprocess, time

import lab as labmod
import pppmath

PPP = os.path.join(labmod.HERE, "ppplink.py")
LINE_A, LINE_B = "198.51.100.1/30", "198.51.100.2/30"
RR_BAUD = 115200
NO_DAEMON = "n/a (daemon not available)"
AT_CLIENT = os.path.join(labmod.HERE, "bench-at.py")
CHURN_PARALLEL = 8  # workers for the 10,000 connections: one at a time would take ~30 minutes
CEILING_MODEL = "EC600E"  # bench-at.py speaks the Quectel Cat-1 dialect only


def line_rate(baud):
    return baud / 10.0


def row(section, rid, label, **kw):
    r = {"section": section, "id": rid, "label": label, "status": "pending", "figure": ""}
    r.update(kw)
    return r


class Plan:
    def __init__(self, args, registry):
        self.a, self.registry = args, registry
        self.sim = os.path.join(args.build, "tun2modem-sim")
        self.daemon = os.path.join(args.build, "tun2modem")
        self.daemon_ok, self.daemon_why = self.probe_daemon()
        self.ppp_goodput = {}  # (dir, flows, baud, latency) -> B/s, for the ratios
        q = args.quick
        self.rr_count = 5 if q else 20
        self.cpu_bytes = (2 if q else 16) << 20
        self.callgrind_bytes = (256 << 10) if q else (4 << 20)
        self.hold_flows = 20 if q else 200
        self.churn_count = 200 if q else 10_000

    def probe_daemon(self):
        if not os.access(self.sim, os.X_OK):
            return False, f"no {self.sim}: swift build"
        if not os.access(self.daemon, os.X_OK):
            return False, f"no {self.daemon}: swift build"
        r = subprocess.run([self.daemon, "run", "--help"], capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            return False, "`tun2modem run` is not built into this tree yet"
        return True, ""

    def settings(self):
        a = self.a
        return {"quick": a.quick, "sections": a.only, "models": a.models, "bauds": a.bauds,
                "latencies_ms": a.latencies, "seconds_per_transfer": a.seconds,
                "bytes_per_transfer": {str(b): self.bulk_bytes(b) for b in a.bauds},
                "rr_count": self.rr_count, "cpu_bytes_each_way": self.cpu_bytes,
                "callgrind_bytes_each_way": self.callgrind_bytes, "hold_flows": self.hold_flows,
                "churn_count": self.churn_count, "daemon": self.daemon_ok or self.daemon_why,
                "build": a.build}

    def bulk_bytes(self, baud):
        # Whole KiB of --seconds line time at the full rate.
        return max(4096, int(line_rate(baud) * self.a.seconds) // 1024 * 1024)

    # ---- the plan -------------------------------------------------------------------------

    def bulk_matrix(self):
        a = self.a
        flows = [1] if a.quick else [1, 4]
        for baud in a.bauds:
            for lat in a.latencies:
                for d in ("down", "up"):
                    for k in flows:
                        yield d, k, baud, lat

    def rows(self):
        a = self.a
        if "ppp" in a.only:
            for d, k, baud, lat in self.bulk_matrix():
                yield row("ppp", f"ppp/{d}/{k}/{baud}/{lat}", f"PPP {d} {k} flow{'s' * (k > 1)} {baud} {lat} ms",
                          link="ppp", dir=d, flows=k, baud=baud, latency_ms=lat)
            # VJ (RFC 1144) as the second baseline: one flow, TCP timestamps off (with them
            # on, VJ sends every header whole), so PPP at its best.
            for d, k, baud, lat in self.bulk_matrix():
                if k == 1:
                    yield row("ppp", f"ppp-vj/{d}/{k}/{baud}/{lat}", f"PPP+VJ (no timestamps) {d} 1 flow {baud} {lat} ms",
                              link="ppp", vj=True, dir=d, flows=k, baud=baud, latency_ms=lat)
        if "ceiling" in a.only:
            m = CEILING_MODEL
            for baud in a.bauds:
                for lat in a.latencies:
                    for d in ("down", "up"):
                        yield row("ceiling", f"ceiling/{d}/{baud}/{lat}", f"{m} AT line ceiling {d} {baud} {lat} ms",
                                  link="sim", model=m, dir=d, flows=1, baud=baud, latency_ms=lat)
            for lat in a.latencies:
                yield row("ceiling", f"ceiling/open/{RR_BAUD}/{lat}", f"{m} emulator socket open {RR_BAUD} {lat} ms",
                          link="sim", model=m, dir="open", baud=RR_BAUD, latency_ms=lat)
        if "bulk" in a.only:
            for m in a.models:
                for d, k, baud, lat in self.bulk_matrix():
                    yield row("bulk", f"{m}/{d}/{k}/{baud}/{lat}", f"{m} {d} {k} flow{'s' * (k > 1)} {baud} {lat} ms",
                              link=m, dir=d, flows=k, baud=baud, latency_ms=lat)
        if "rr" in a.only:
            for link in ["ppp"] + a.models:
                for lat in a.latencies:
                    yield row("rr", f"rr/{link}/{lat}", f"{'PPP' if link == 'ppp' else link} request/response {RR_BAUD} {lat} ms",
                              link=link, baud=RR_BAUD, latency_ms=lat)
        if "cpu" in a.only:
            m = a.models[0]
            yield row("cpu", f"cpu/{m}", f"{m} daemon CPU per MiB, unthrottled", link=m)
            yield row("cpu", f"callgrind/{m}", f"{m} instructions per payload byte (callgrind)", link=m)
        if "mem" in a.only:
            m = a.models[0]
            yield row("mem", f"mem/{m}", f"{m} daemon RSS: idle / {self.hold_flows} flows / after {self.churn_count} connections", link=m)

    # ---- measuring ------------------------------------------------------------------------

    def measure(self, r):
        if r["link"] == "sim" and not os.access(self.sim, os.X_OK):
            r.update(status=f"n/a (no {self.sim}: swift build)", figure="n/a")
            return r
        if r["link"] not in ("ppp", "sim") and not self.daemon_ok:
            r["status"] = NO_DAEMON
            r["figure"] = "n/a"
            r["note"] = self.daemon_why
            return r
        lab = self.registry.new()
        r["lab"] = lab.prefix
        started = time.monotonic()
        try:
            lab.up()
            {"ppp": self.ppp_bulk, "ceiling": self.ceiling, "bulk": self.t2m_bulk, "rr": self.rr, "cpu": self.cpu,
             "mem": self.mem}[r["section"]](lab, r)
        except labmod.LabError as e:
            r["status"] = f"failed: {e}"
            r["figure"] = "failed"
        finally:
            self.registry.release(lab)
            r["wall_seconds"] = round(time.monotonic() - started, 1)
        return r

    def client(self, lab, args, timeout):
        res = lab.run("app", ["python3", labmod.CLIENT] + [str(x) for x in args], timeout=timeout, check=False)
        lines = [l for l in res.stdout.strip().splitlines() if l.startswith("{")]
        if not lines:
            raise labmod.LabError(f"client gave no result (exit {res.returncode}): {res.stderr.strip()[-300:]}")
        return json.loads(lines[-1])

    def start_ppp(self, lab, baud, lat, vj=False):
        if vj:
            for side in ("app", "net"):
                lab.run(side, ["sysctl", "-qw", "net.ipv4.tcp_timestamps=0"], timeout=10)
        lab.spawn(None, ["python3", PPP, "--baud", str(baud), "--latency-ms", str(lat)] + (["--vj"] if vj else []) + [
                         "--a-name", f"{lab.prefix}a", "--b-name", f"{lab.prefix}b",
                         "--a-netns", lab.app, "--a-addr", LINE_A, "--b-netns", lab.net, "--b-addr", LINE_B],
                  "ppplink", ready="ppplink: up")
        lab.run("app", ["ip", "route", "add", "192.0.2.0/24", "dev", f"{lab.prefix}a"], timeout=10)

    def ppp_counters(self, lab):
        """Stops the link and reads the per-direction counters it prints on SIGTERM."""
        lab.stop("ppplink")
        counters = {}
        with open(lab.log("ppplink")) as f:
            for line in f:
                m = re.match(r"ppplink: (a->b|b->a): (.*)", line)
                if m:
                    counters[m.group(1)] = {k: int(v) for k, v in (kv.split("=") for kv in m.group(2).split())}
        if not counters:
            raise labmod.LabError(f"ppplink printed no counters: {lab.tail('ppplink')}")
        return counters

    def bulk(self, lab, r):
        nbytes = self.bulk_bytes(r["baud"])
        expected = nbytes / line_rate(r["baud"])
        res = self.client(lab, ["bulk", "--dir", r["dir"], "--flows", r["flows"], "--bytes", nbytes,
                                "--seed", 7, "--timeout", int(expected * 4 + 30)], timeout=expected * 4 + 60)
        r["client"] = res
        r["bytes"] = nbytes
        if not res["ok"]:
            r["status"], r["figure"] = f"failed: {res.get('error', '?')}", "failed"
            return None
        g = res["goodput"]
        r.update(status="ok", goodput=g, seconds=res["seconds"], pct_line=round(100 * g / line_rate(r["baud"]), 1))
        r["figure"] = f"{g:,.0f} B/s"
        return g

    def ppp_bulk(self, lab, r):
        vj = r.get("vj", False)
        self.start_ppp(lab, r["baud"], r["latency_ms"], vj)
        g = self.bulk(lab, r)
        stamps = self.timestamps(lab)
        counters = self.ppp_counters(lab)
        r["analytic_pct"] = round(100 * pppmath.efficiency(timestamps=stamps, vj=vj), 1)
        data_dir = "b->a" if r["dir"] == "down" else "a->b"
        if data_dir in counters:
            r["line"] = counters
            c = counters[data_dir]
            if c["bad_fcs"] or c["write_drops"] or c.get("vj_errors"):
                r["note"] = (f"link dropped {c['bad_fcs']} bad-FCS, {c['write_drops']} unwritable"
                             f" and {c.get('vj_errors', 0)} undecompressable frames")
            if g is not None:
                # Line bytes per payload byte as the link counted them: framing + headers +
                # retransmissions, the measured counterpart of the analytic figure.
                r["line_pct_payload"] = round(100 * r["bytes"] / c["line_bytes"], 1)
        if g is not None:
            self.ppp_goodput[("vj" if vj else "ppp", r["dir"], r["flows"], r["baud"], r["latency_ms"])] = g

    def timestamps(self, lab):
        try:
            return lab.run("app", ["sysctl", "-n", "net.ipv4.tcp_timestamps"], timeout=10).stdout.strip() != "0"
        except labmod.LabError:
            return True

    # ---- the emulator's ceiling, without the daemon --------------------------------------

    def ceiling(self, lab, r):
        """bench-at.py drives the emulator's pty directly: what the line carries in this
        dialect with one command at a time, the mark the daemon's rows can be read against."""
        link = os.path.join("/run", f"t2m-bench-{lab.prefix}.pty")
        lab.spawn("net", [self.sim, "--model", r["model"], "--link", link, "--baud", str(r["baud"]),
                          "--latency-ms", str(r["latency_ms"])], "sim", ready="pty:")
        if r["dir"] == "open":
            args = ["open", "--count", self.rr_count]
            timeout = 120
        else:
            nbytes = self.bulk_bytes(r["baud"])
            timeout = nbytes / line_rate(r["baud"]) * 4 + 30
            args = [r["dir"], "--bytes", nbytes]
            r["bytes"] = nbytes
        res = subprocess.run(["python3", AT_CLIENT] + [str(x) for x in args] + ["--pty", link, "--timeout", str(int(timeout))],
                             capture_output=True, text=True, timeout=timeout + 30)
        lines = [l for l in res.stdout.splitlines() if l.startswith("{")]
        if not lines:
            raise labmod.LabError(f"bench-at.py gave no result: {res.stderr.strip()[-300:]}")
        out = json.loads(lines[-1])
        r["client"] = out
        if not out["ok"]:
            r["status"], r["figure"] = f"failed: {out.get('error', '?')}", "failed"
            return
        r["status"] = "ok"
        if r["dir"] == "open":
            r["open_ms"] = out["median_ms"]
            r["figure"] = f"{out['median_ms']} ms AT+QIOPEN to +QIOPEN: 0,0"
            r["note"] = f"median of {out['count']}, max {out['max_ms']} ms"
            return
        g = out["goodput"]
        r.update(goodput=g, seconds=out["seconds"], pct_line=round(100 * g / line_rate(r["baud"]), 1))
        r["figure"] = f"{g:,.0f} B/s"
        r["note"] = f"payload/line bytes {100 * out['bytes'] / out['line_bytes']:.1f}% (QIRD 1500 / QISEND 1460, one command at a time)"

    # ---- tun2modem ------------------------------------------------------------------------

    def start_t2m(self, lab, model, baud, lat, valgrind=None, executable=None):
        """The emulator in the net namespace on a pty, the daemon in the app namespace on
        that pty, and a route to the servers through the daemon's TUN. Returns the daemon."""
        link = os.path.join("/run", f"t2m-bench-{lab.prefix}.pty")
        sim = [self.sim, "--model", model, "--link", link, "--latency-ms", str(lat)]
        if baud:
            sim += ["--baud", str(baud)]
        lab.spawn("net", sim, "sim", ready="pty:")
        tun = f"{lab.prefix}t"
        argv = self.daemon_argv(lab, link, tun, model, baud)
        if executable:
            argv[0] = executable
        daemon = lab.spawn("app", (valgrind or []) + argv, "daemon")
        ready = lambda: "data connection up" in lab.tail("daemon", 200)
        if not labmod.wait_for(lambda: ready() or daemon.poll() is not None, 180 if valgrind else 30, 0.2) \
                or daemon.poll() is not None:
            raise labmod.LabError(f"daemon did not bring the modem up: {lab.tail('daemon')}")
        if not self.tun_up(lab, tun):
            raise labmod.LabError(f"daemon reports the modem up but {tun} is not up: {lab.tail('daemon')}")
        return daemon

    def daemon_argv(self, lab, link, tun, model, baud):
        # The emulator is ours (started above, in the net namespace) so that the throttle,
        # the latency and the daemon's own CPU and RSS are each under the benchmark's control.
        return [self.daemon, "run", "--device", link, "--model", model, "--baud", str(baud or 921600),
                "--tun", tun, "--address", "198.18.0.1/30", "--route", "192.0.2.0/24",
                "--stats-socket", f"/run/t2m-bench-{lab.prefix}.sock"]

    def tun_up(self, lab, tun):
        r = lab.run("app", ["ip", "-o", "link", "show", tun], timeout=10, check=False)
        return r.returncode == 0 and ",UP" in r.stdout

    def t2m_bulk(self, lab, r):
        self.start_t2m(lab, r["link"], r["baud"], r["latency_ms"])
        g = self.bulk(lab, r)
        key = (r["dir"], r["flows"], r["baud"], r["latency_ms"])
        ppp, vj = self.ppp_goodput.get(("ppp",) + key), self.ppp_goodput.get(("vj",) + key)
        if g is not None and ppp:
            r["ratio_ppp"] = round(g / ppp, 3)
        if g is not None and vj:
            r["ratio_ppp_vj"] = round(g / vj, 3)
            r["note"] = f"vs PPP+VJ {r['ratio_ppp_vj']:.3f}"

    def rr(self, lab, r):
        if r["link"] == "ppp":
            self.start_ppp(lab, r["baud"], r["latency_ms"])
        else:
            self.start_t2m(lab, r["link"], r["baud"], r["latency_ms"])
        res = self.client(lab, ["rr", "--count", self.rr_count, "--timeout", 300], timeout=330)
        r["client"] = res
        if not res["ok"]:
            r["status"], r["figure"] = f"failed: {res.get('error', '?')}", "failed"
            return
        c, f = res["connect"], res["first_byte"]
        r.update(status="ok", connect_ms=c["median_ms"], first_byte_ms=f["median_ms"], conn_per_s=res["conn_per_s"])
        r["figure"] = f"connect {c['median_ms']} ms, first byte {f['median_ms']} ms, {res['conn_per_s']} conn/s"
        r["note"] = f"median of {res['count']}; p90 connect {c['p90_ms']} ms, first byte {f['p90_ms']} ms"

    # ---- CPU and memory -------------------------------------------------------------------

    def cpu(self, lab, r):
        if r["id"].startswith("callgrind/"):
            return self.callgrind(lab, r)
        daemon = self.start_t2m(lab, r["link"], None, 0)
        before = cpu_seconds(daemon.pid)
        moved = 0
        for d in ("down", "up"):
            res = self.client(lab, ["bulk", "--dir", d, "--flows", 1, "--bytes", self.cpu_bytes, "--timeout", 900], timeout=960)
            if not res["ok"]:
                r["status"], r["figure"] = f"failed: {d}: {res.get('error', '?')}", "failed"
                return
            moved += res["bytes"]
            r[f"goodput_{d}"] = res["goodput"]
        spent = cpu_seconds(daemon.pid) - before
        per_mib = spent / (moved / (1 << 20))
        r.update(status="ok", cpu_s_per_mib=round(per_mib, 4), cpu_seconds=round(spent, 2), bytes=moved)
        r["figure"] = f"{per_mib * 1000:.1f} ms CPU per MiB"
        r["note"] = (f"{moved >> 20} MiB moved ({self.cpu_bytes >> 20} each way); unthrottled goodput "
                     f"{r['goodput_down']:,.0f} B/s down, {r['goodput_up']:,.0f} B/s up")

    def callgrind(self, lab, r):
        """Instructions the daemon executes per payload byte: a run that moves the bytes
        minus an idle run of the same wall time (start-up, bring-up, timers)."""
        out = lab.log("callgrind.out")
        vg = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        # Valgrind's DWARF reader gives up on the Swift toolchain's debug info: a copy without
        # it (symbols kept) runs the same instructions.
        exe = os.path.join(lab.logdir, "tun2modem-nodebug")
        if not os.path.exists(exe):
            strip = subprocess.run(["objcopy", "--strip-debug", self.daemon, exe], capture_output=True, text=True)
            if strip.returncode != 0:
                raise labmod.LabError(f"objcopy --strip-debug: {strip.stderr.strip()}")
        daemon = self.start_t2m(lab, r["link"], None, 0, valgrind=vg, executable=exe)
        t0 = time.monotonic()
        moved = 0
        for d in ("down", "up"):
            res = self.client(lab, ["bulk", "--dir", d, "--flows", 1, "--bytes", self.callgrind_bytes, "--timeout", 1800], timeout=1860)
            if not res["ok"]:
                r["status"], r["figure"] = f"failed: {d}: {res.get('error', '?')}", "failed"
                return
            moved += res["bytes"]
        busy = time.monotonic() - t0
        labmod.terminate(daemon, grace=60)
        busy_ir = callgrind_total(out)
        # The idle baseline: a fresh lab, the same daemon under callgrind, no traffic.
        idle_lab = self.registry.new()
        try:
            idle_lab.up()
            idle_out = idle_lab.log("callgrind.out")
            idle = self.start_t2m(idle_lab, r["link"], None, 0, executable=exe,
                                  valgrind=["valgrind", "--tool=callgrind", f"--callgrind-out-file={idle_out}"])
            time.sleep(min(busy, 600))
            labmod.terminate(idle, grace=60)
            idle_ir = callgrind_total(idle_out)
        finally:
            self.registry.release(idle_lab)
        if busy_ir is None or idle_ir is None:
            r["status"], r["figure"] = "failed: callgrind wrote no totals", "failed"
            return
        per_byte = (busy_ir - idle_ir) / moved
        r.update(status="ok", instructions_per_byte=round(per_byte, 2), busy_instructions=busy_ir,
                 idle_instructions=idle_ir, bytes=moved)
        r["figure"] = f"{per_byte:.1f} instructions per payload byte"
        r["note"] = f"{moved >> 10} KiB moved; {busy_ir:,} - idle {idle_ir:,} instructions over {busy:.0f} s"

    def mem(self, lab, r):
        daemon = self.start_t2m(lab, r["link"], None, 0)
        time.sleep(2)
        idle = rss_kib(daemon.pid)
        r["memory_idle_kib"] = memory_kib(daemon.pid)
        # Flows beyond the modem's sockets wait in the daemon's admission queue (no SYN-ACK
        # yet): they are open flows all the same, so 15 s of settling is enough.
        holder = lab.spawn("app", ["python3", labmod.CLIENT, "hold", "--flows", str(self.hold_flows), "--timeout", "15"],
                           "hold", ready='"mode": "hold"', timeout=60)
        held = rss_kib(daemon.pid)
        with open(lab.log("hold")) as f:
            hold = json.loads([l for l in f if l.startswith("{")][-1])
        labmod.terminate(holder)
        res = self.client(lab, ["churn", "--count", self.churn_count, "--parallel", CHURN_PARALLEL,
                                "--timeout", 1200], timeout=1260)
        time.sleep(2)
        after = rss_kib(daemon.pid)
        r["memory_after_kib"] = memory_kib(daemon.pid)
        r.update(rss_idle_kib=idle, rss_flows_kib=held, rss_after_kib=after, hold=hold, churn=res)
        r["status"] = "ok" if res["ok"] else f"failed: churn: {res.get('error', '?')}"
        r["figure"] = f"{idle / 1024:.1f} / {held / 1024:.1f} / {after / 1024:.1f} MiB"
        m = r["memory_after_kib"]
        r["note"] = (f"{hold['established']} of {self.hold_flows} flows connected, {hold['pending']} waiting for a "
                     f"modem socket; {res['count']} connections by {CHURN_PARALLEL} workers at {res['conn_per_s']} conn/s; "
                     f"after: RssAnon {m.get('RssAnon', 0) / 1024:.1f} MiB (own), RssFile {m.get('RssFile', 0) / 1024:.1f} MiB "
                     f"(executable + shared Swift libraries)")


def cpu_seconds(pid):
    """utime + stime of a process from /proc/PID/stat (fields 14 and 15, after the comm)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    return memory_kib(pid).get("VmRSS")


def memory_kib(pid):
    """VmRSS and its parts from /proc/PID/status: RssAnon (the daemon's own heap and stacks),
    RssFile (pages of its executable and the shared Swift libraries it has touched, shared
    with every other process mapping them), RssShmem."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                out[key] = int(line.split()[1])
    return out


def callgrind_total(path):
    """The total instruction count (Ir) from a callgrind output file."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None
