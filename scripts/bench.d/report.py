"""The benchmark's one table (markdown) and its comparison against issue 7's targets."""

SECTION_TITLES = {"ppp": "PPP baseline", "ceiling": "emulator alone", "bulk": "tun2modem bulk", "rr": "request/response",
                  "cpu": "CPU", "mem": "memory"}


def pct(v):
    return f"{v:.1f}%" if isinstance(v, (int, float)) else ""


def progress_line(r):
    extra = f" ({r['note']})" if r.get("note") and r["status"] != "ok" else ""
    return f"  {r['label']:<52} {r['figure'] or r['status']:<44} {pct(r.get('pct_line'))}{extra}"


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(rows):
    out = ["| section | row | figure | % of line | PPP framing (analytic) | tun2modem/PPP | note |",
           "|---|---|---|---:|---:|---:|---|"]
    for r in rows:
        ratio = f"{r['ratio_ppp']:.3f}" if "ratio_ppp" in r else ""
        note = r.get("note", "")
        if "line_pct_payload" in r:
            note = (note + "; " if note else "") + f"payload/line bytes counted by the link: {r['line_pct_payload']}%"
        if r["status"] != "ok" and not r["status"].startswith("n/a"):
            note = (r["status"] + "; " + note) if note else r["status"]
        figure = r["figure"] if r["status"] == "ok" or r["status"].startswith("failed") else r["status"]
        out.append("| " + " | ".join(cell(c) for c in [
            SECTION_TITLES.get(r["section"], r["section"]), r["label"], figure, pct(r.get("pct_line")),
            pct(r.get("analytic_pct")), ratio, note]) + " |")
    return "\n".join(out)


def targets(rows):
    """Issue 7's targets against this run's rows: the worst measured figure for each."""
    ok = [r for r in rows if r["status"] == "ok"]

    def worst(pred, key):
        vals = [(r[key], r["label"]) for r in ok if pred(r) and key in r]
        return min(vals) if vals else None

    def line(name, target, found, fmt, higher=True):
        if found is None:
            return f"| {name} | {target} | not measured |"
        value, label = found
        return f"| {name} | {target} | {fmt(value)} ({label}) |"

    bulk = lambda r: r["section"] == "bulk"
    rows_out = ["| target | wanted | worst measured |", "|---|---|---|",
                line("download goodput at 115200", "≥ 97% of line", worst(lambda r: bulk(r) and r["dir"] == "down" and r["baud"] == 115200, "pct_line"), pct),
                line("download goodput at 921600", "≥ 95% of line", worst(lambda r: bulk(r) and r["dir"] == "down" and r["baud"] == 921600, "pct_line"), pct),
                line("upload goodput", "≥ 95% of line", worst(lambda r: bulk(r) and r["dir"] == "up", "pct_line"), pct),
                line("tun2modem/PPP", "≥ 1.03 on every bulk row", worst(bulk, "ratio_ppp"), lambda v: f"{v:.3f}")]
    # connect() through the daemon minus the emulator's own open time at the same latency
    # (measured for EC600E only; the other dialects' opens cost a similar few line bytes).
    opens = {r["latency_ms"]: r["open_ms"] for r in ok if "open_ms" in r}
    conn = [(round(r["connect_ms"] - opens[r["latency_ms"]], 2), r["label"]) for r in ok
            if r["section"] == "rr" and r["link"] != "ppp" and r["latency_ms"] in opens]
    rows_out.append(line("SYN to SYN-ACK at 115200", "≤ emulator open time + 10 ms",
                         max(conn) if conn else None, lambda v: f"+{v} ms over the open (median connect() - open)"))
    rss = [(max(r["rss_idle_kib"], r["rss_flows_kib"], r["rss_after_kib"]), r["label"]) for r in ok if r["section"] == "mem"]
    rows_out.append(line("daemon RSS", "≤ 10 MiB", max(rss) if rss else None, lambda v: f"{v / 1024:.1f} MiB (largest)"))
    ipb = [(r["instructions_per_byte"], r["label"]) for r in ok if "instructions_per_byte" in r]
    rows_out.append(line("instructions per payload byte", "≤ 10", max(ipb) if ipb else None, lambda v: f"{v:.1f}"))
    return "\n".join(rows_out)


def markdown(doc):
    m, load = doc["machine"], doc["load_average"]
    head = [f"## tun2modem benchmark, {doc['started_utc']} UTC", "",
            f"Command: `{doc['command']}` ({doc['minutes']} min)", "",
            f"Machine: {m['nproc']} CPUs, {m['cpu']}, Linux {m['kernel']}, Python {m['python']}; "
            f"binaries from .build/{m['build']} at commit {m['commit']}; "
            f"load average during the run {load['min']}–{load['max']} (mean {load['mean']}, "
            f"{load['samples']} samples)", "",
            f"Bulk transfers: {doc['settings']['seconds_per_transfer']:g} s of line time at full rate "
            f"({', '.join(f'{int(k)}: {v // 1024} KiB' for k, v in doc['settings']['bytes_per_transfer'].items())}); "
            f"% of line = goodput / (baud/10). PPP framing (analytic): {doc['ppp_framing']['note']}.", ""]
    return "\n".join(head) + table(doc["rows"]) + "\n\nAgainst the targets of issue 7:\n\n" + targets(doc["rows"]) + "\n"
