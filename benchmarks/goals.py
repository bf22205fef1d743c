"""RESULTS.md's "The issue's goals": issue 15's rows exactly, each with its peers, from the
figures the sections measured in the same run (their `facts`); for a goal missed, what bounds
it, computed from those figures too (no number in this file is a measurement)."""
from __future__ import annotations

import re

from harness import ms

MIB = 1 << 20
HEADER = ["| row | goal | xax-emu | native | proot | gVisor (ptrace) | Pyodide (node) | met | what bounds it "
          "(measured in this run) |",
          "|---|---|---|---|---|---|---|---|---|"]


def _row(name, goal, xax, native, proot, gvisor, pyodide, met, bound) -> str:
    cells = [name, goal, xax, native, proot, gvisor, pyodide, "yes" if met else "**no**", "" if met else bound]
    return "| " + " | ".join(c if c else "—" if i < 7 else c for i, c in enumerate(cells)) + " |"


def null_call(t1: dict, rw: dict) -> str:
    n, s, t = rw["null_site"]
    peer = t1["peers"]
    n1 = t1["native"]["null"]
    met = s / n <= 1.0
    return _row("null emulated call vs native close(-1) (site rewriting on; section 9)", "≤ 1.0x",
                f"{s / n:.2f}x ({s:,.0f} ns; trapped, `--no-rewrite`: {t / n:.1f}x)", f"1.00 ({n:,.0f} ns)",
                f"{peer['proot']['null'] / n1:.1f}x", f"{peer['gVisor']['null'] / n1:.1f}x", "", met,
                f"the layer's call through the rewritten site costs {s:,.0f} ns against the kernel's {n:,.0f} ns "
                f"(the trap it replaces: {t:,.0f} ns)")


def shares(rw: dict) -> str:
    sh, counts = rw["shares"], rw.get("counts", {})
    worst = min(sh.values())
    detail = "; ".join(f"{app} {v:.1%}" + (f" ({counts[app][1]:,} of {counts[app][0]:,} still trap)"
                                           if app in counts else "") for app, v in sh.items())
    still = {app: c[1] for app, c in counts.items() if c[1]}
    return _row("share of python3 -c pass / espeak-ng / sqlite3 trapped calls that no longer trap (section 9)",
                "≥ 95 %", detail, "", "", "", "", worst >= 0.95,
                "the calls still trapping: " + "; ".join(f"{a} {n:,}" for a, n in still.items())
                + " (benchmarks/trapped_sites.py names their sites)")


def espeak(apps: dict, t1: dict, rw: dict) -> str:
    w = apps["wall"]
    n = w.get(("espeak-ng", "native"))
    p = apps["pico"].get("espeak-ng")
    if n is None or p is None:
        return _row("espeak-ng, the picoprocess's part vs native (section 2)", "≤ 1.1x", "did not run", "", "", "",
                    "", False, "section 2 says why it failed")
    added = p - n
    start = apps["empty_pico"] - apps["empty_native"]
    emulated, traps = rw.get("counts", {}).get("espeak-ng", (0, 0))  # calls the layer takes; those still trapping
    trap_s = traps * t1["floor"]["close_trapped"] / 1e9
    site_s = (emulated - traps) * rw["null_site"][1] / 1e9  # through rewritten sites, at the null call's cost
    calls = apps["xaxcalls"].get("espeak-ng", 0)
    call_s = calls * t1["sealed"]["xaxcall"] / 1e9
    rest = added - start - trap_s - site_s - call_s

    def peer(name):
        return f"{w[('espeak-ng', name)] / n:.2f}x (whole command)" if ("espeak-ng", name) in w else "failed"
    return _row("espeak-ng, the picoprocess's part vs native (section 2)", "≤ 1.1x",
                f"{p / n:.2f}x ({ms(p)})", f"1.00 ({ms(n)})", peer("proot"), peer("gVisor"), "", p / n <= 1.1,
                f"it adds {ms(added)} to native: the picoprocess's own start (an empty static program, sealed minus "
                f"native) {ms(start)}; {calls:,.0f} xaxcalls at the null xaxcall's round trip (section 1) "
                f"{ms(call_s)}; {emulated - traps:,} calls through rewritten sites at the null call's cost (section 9) "
                f"{ms(site_s)}; {traps:,} calls still trapping at the trap's floor {ms(trap_s)}; the rest, "
                f"{ms(rest)}, is not broken down by these figures (the loader's mapping of the image's libraries "
                "and the page faults on them, the layer's work beyond a null call)")


def vfs(v: dict) -> str:
    parts, met_all, bounds = [], True, []
    for label, key, rate in (("pread 4 KiB", "rand_read_ns_per_4k", False), ("sequential", "seq_read_mbps", True),
                             ("walk", "walk_ns", False)):
        n, s = v["native"][key], v["sealed"][key]
        r = n / s if rate else s / n
        met_all &= r <= 1.0
        parts.append((label, key, rate, r))
        if r > 1.0:
            per = {"rand_read_ns_per_4k": f"{s - n:,.0f} ns more per pread",
                   "seq_read_mbps": f"{65536 / s * 1e3 - 65536 / n * 1e3:,.0f} ns more per 64 KiB read()",
                   "walk_ns": f"{(s - n) / 1e6:,.1f} ms more over {v['walk_calls']:,.0f} calls "
                              f"({(s - n) / max(1, v['walk_calls']):,.0f} ns a call)"}[key]
            bounds.append(f"{label}: {per} (the layer's emulated call and its copy; still trapped in the run of "
                          f"all three: {v['traps_rewriting']:,} calls)")

    def fig(d, rate):
        return " / ".join(f"{(v['native'][k] / d[k] if rt else d[k] / v['native'][k]):.2f}" for _, k, rt, _ in parts)
    return _row("tar-route random 4 KiB pread / sequential read / tree walk vs page cache (section 3)",
                "≤ 1.0 each", " / ".join(f"{r:.2f}" for *_, r in parts), "1.00 / 1.00 / 1.00",
                fig(v["peers"]["proot"], None), fig(v["peers"]["gVisor"], None), "", met_all, "; ".join(bounds))


def whole(apps: dict) -> str:
    w, b = apps["wall"], apps.get("breakdown") or {}
    n, x, pr = w.get(("python3", "native")), w.get(("python3", "xax-emu")), w.get(("python3", "proot"))
    name = "`xax-emu run python3.tar -- -c pass`, whole command (section 2)"
    if n is None or x is None or pr is None:
        return _row(name, "faster than proot", "did not run", "", "", "", "", False, "section 2 says why")

    def cell(peer):
        t = w.get(("python3", peer))
        return f"{ms(t)} ({t / n:.1f}x)" if t is not None else "not measured (section 2)"
    before = b["bare"] + b["imports"] + b["resolve"]
    top = "; ".join(f"`{m}` {ms(cum)}" for m, _, cum in b["import_top"][:3])
    site = "; ".join(f"`{m}` {ms(cum)}" for m, cum in b.get("site", [])[:2])
    return _row(name, "faster than proot", f"{ms(x)} ({x / n:.1f}x)", ms(n), cell("proot"), cell("gVisor"),
                cell("Pyodide"), x < pr,
                f"before the picoprocess exists: the Monitor's interpreter bare {ms(b['bare'])} (with -S, no site: "
                f"{ms(b['bare_no_site'])}; site's largest imports, from .pth files: {site}), the run path's imports {ms(b['imports'])} (largest in one `-X importtime` run: {top}), the store's "
                f"lookup and the image's check {ms(b['resolve'])}: {ms(before)}, {before / pr:.1f}x proot's whole "
                f"run; then the picoprocess {ms(b['pico'])} and the rest {ms(b['rest'])}. The interpreter's bare "
                f"start alone is {b['bare'] / pr:.1f}x proot's run")


def memory(mem: dict) -> tuple[str, str]:
    res = mem["results"]

    def pss(peer, key="alone"):
        r = res.get(peer)
        return f"{r[key]['pss'] / MIB:,.1f} MiB Pss" + (f" + {r[key]['hidden_bytes'] / MIB:,.1f} in no RSS"
                                                       if r[key]["hidden_bytes"] else "") if r else "not measured"
    x = res["xax-emu"]
    copies = mem["copies"]
    one = _row("memory of that run: extra copies of the image (section 11)", "none",
               (f"{len(copies)} ({sum(s for _, s in copies) / MIB:,.1f} MiB)" if copies else "none")
               + f"; the run: {pss('xax-emu')}", pss("native"), pss("proot"), pss("gVisor"), pss("Pyodide"),
               not copies,
               "in-memory files as large as the image: " + ", ".join(f"`{n}` {s / MIB:,.1f} MiB" for n, s in copies))

    def extra(peer):
        r = res.get(peer)
        return (f"{r['extra'] / MIB:,.1f} MiB (its Private {r['second']['private'] / MIB:,.1f})" if r
                else "not measured")
    grown = x["pair"]["hidden_bytes"] - x["alone"]["hidden_bytes"]
    over = x["extra"] - x["second"]["private"]
    img = x["second"]["image"] or {"rss": 0, "shared": 0, "private": 0}
    # met: no new copy of the image, and the second's image pages are the first's (shared, not private)
    met = grown < mem["image_size"] * 0.5 and img["rss"] > 0 and img["shared"] >= 0.9 * img["rss"]
    two = _row("a second instance of the same image (two `run`s at once): extra memory (section 11)",
               "only its private pages (its image pages shared)",
               extra("xax-emu") + f"; its image pages: {img['shared'] / MIB:,.1f} MiB shared, "
               f"{img['private'] / MIB:,.1f} MiB private", extra("native"), extra("proot"), extra("gVisor"),
               extra("Pyodide"), met,
               f"the pair holds {x['extra'] / MIB:,.1f} MiB more than the first alone, {over / MIB:,.1f} MiB over the "
               f"second's Private; in-memory files grew by {grown / MIB:,.1f} MiB; of the second's resident image "
               f"pages {img['shared'] / MIB:,.1f} MiB are shared and {img['private'] / MIB:,.1f} MiB private")
    return one, two


_NATIVE = re.compile(r"^\| native socket GET \| ([\d,.]+) ms")
_SEALED = re.compile(r"^\| sealed, through the Monitor \| ([\d,.]+) ms")
_FIRST = re.compile(r"first byte.*?\| ([\d,.]+) ms", re.I)
_FETCH_ALONE = re.compile(r"^\| the Monitor's fetch_stream\(\) alone[^|]*\| ([\d,.]+) ms")
STREAM_TEST = "tests/test_libxax.py::test_a_body_is_read_before_it_ends_and_cached_only_whole"


def download(monitor_sec) -> str:
    """Section 4's download rows (bench_monitor.py's, read from its facts or its table's lines)."""
    d = monitor_sec.facts.get("download")
    if d is None:  # its table, as bench_monitor.py prints it
        found = {}
        for line in monitor_sec.lines:
            for key, pat in (("native_s", _NATIVE), ("sealed_s", _SEALED), ("first_byte_s", _FIRST),
                             ("fetch_alone_s", _FETCH_ALONE)):
                m = pat.search(line)
                if m and key not in found:
                    found[key] = float(m.group(1).replace(",", "")) / 1e3
        d = found
    name = "origin download of 64 MiB through xabi_read vs native socket (section 4)"
    if "native_s" not in d or "sealed_s" not in d:
        return _row(name, "≤ 1.5x, streamed", "not found in section 4", "", "", "", "", False,
                    "section 4 printed no native and sealed download rows")
    r = d["sealed_s"] / d["native_s"]
    fb = d.get("first_byte_s")
    streamed = fb is not None and fb < d["sealed_s"] * 0.5
    bound = ""
    if r > 1.5:
        bound = f"{ms(d['sealed_s'] - d['native_s'])} over the native GET"
        alone = d.get("fetch_alone_s")
        if alone is not None:
            bound += (f": the Monitor's HTTP part alone (fetch_stream, no channel) takes {ms(alone)}, "
                      f"{alone / d['native_s']:.2f}x the native GET, before any byte crosses the channel; "
                      f"the channel adds {ms(d['sealed_s'] - alone)} on top (its copies and READ round trips, "
                      f"not wholly overlapped with the fetch on two cores; section 4)")
        else:
            bound += " (section 4 breaks it down)"
    if fb is None:
        bound += ("; " if bound else "") + (f"section 4 times no first byte: that the first bytes reach the program "
                                            f"before the body ends is shown by {STREAM_TEST}")
    return _row(name, "≤ 1.5x, streamed (first byte before the body ends)",
                f"{r:.2f}x ({ms(d['sealed_s'])}" + (f"; first byte {ms(fb)}" if fb is not None else "") + ")",
                ms(d["native_s"]), "", "", "", r <= 1.5 and (streamed or fb is None), bound)

ROW_NAMES = ("null emulated call vs native close(-1)", "share of python3 -c pass / espeak-ng / sqlite3 trapped calls "
             "that no longer trap", "espeak-ng, the picoprocess's part vs native", "tar-route random 4 KiB pread / "
             "sequential read / tree walk vs page cache", "`xax-emu run python3.tar -- -c pass`, whole command",
             "memory of that run: extra copies of the image; a second instance of the same image",
             "origin download of 64 MiB through xabi_read vs native socket")


def table(t1, apps, vfs_sec, monitor_sec, rewrite: dict, mem_sec) -> list[str]:
    """The rows; a row whose sections did not run (`run.py --only`) says so."""
    def row(name, fn, *needs):
        if any(n is None or n == {} for n in needs):
            return [f"| {name} | not run (`--only`) |" + " |" * 7]
        out = fn(*needs)
        return list(out) if isinstance(out, tuple) else [out]
    n = iter(ROW_NAMES)
    return HEADER + [
        *row(next(n), null_call, t1, rewrite), *row(next(n), shares, rewrite),
        *row(next(n), lambda a, t, r: espeak(a.facts, t, r), apps, t1, rewrite),
        *row(next(n), lambda v: vfs(v.facts), vfs_sec), *row(next(n), lambda a: whole(a.facts), apps),
        *row(next(n), lambda m: memory(m.facts), mem_sec), *row(next(n), download, monitor_sec)]
