"""The paths a run failed to open or look at, each with the route it fell under and what
would fix it: `trace` (text and --json), `run --report json`, `trace --suggest`.

The Monitor keeps them bounded (monitor/failedpaths.py); here they are sorted (most failures
first), matched against the profile's routes (lexically: the path the program named, "." and
".." taken away, longest prefix wins, as explain does), and given a line each.  A path is the
picoprocess's bytes: it is shown escaped (escape()), never printed raw.
"""
from __future__ import annotations

import errno as _errno
import os
import posixpath

from .monitor.failedpaths import MAX_PATH_BYTES, MAX_PATHS, FailedPaths

SHOWN = 30  # lines of the text report; --json lists every path kept

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def escape(path: bytes) -> str:
    """One printable line: UTF-8 that is printable stays, a backslash is doubled, every other
    byte or character is \\xNN (an undecodable byte, a C0/C1 control) or \\uNNNN (a Unicode
    control, format or separator character: no bidi override, no line separator gets out)."""
    text = path.decode("utf-8", "surrogateescape")
    out = []
    for ch in text:
        o = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0xDC80 <= o <= 0xDCFF:  # a byte that was not UTF-8
            out.append(f"\\x{o - 0xDC00:02x}")
        elif ch.isprintable():
            out.append(ch)
        elif o < 0x100:
            out.append(f"\\x{o:02x}")
        else:
            out.append(f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
    return "".join(out)


def errno_name(err: int) -> str:
    return _errno.errorcode.get(err, f"errno {err}")


def routes_for(meta: dict | None, profile_spec: str | None, grants: list = ()) -> tuple[list[dict], bool]:
    """The routes a run's paths fall under: an image's (with the image's files at / when no
    route claims it, as pack makes it), or a bare program's profile's; then the host
    directories granted (run --mount).  And whether the program is an image."""
    if meta is not None:
        from .porting.explain import _routes
        routes = [dict(r) for r in _routes(meta)]
    else:
        from pathlib import Path

        from .image.profileinfo import routes as profile_routes
        from .profiles import DEFAULT, load
        routes = profile_routes(load(profile_spec or DEFAULT, Path.cwd()))
    for g in grants:
        routes.append({"prefix": g.guest, "backend": "mount", "mode": g.mode})
    return routes, meta is not None


def _route_for(path: bytes, routes: list[dict]) -> dict | None:
    best = None
    for r in routes:
        pre = r["prefix"].encode()
        if (pre == b"/" or path == pre or path.startswith(pre + b"/")) and (
                best is None or len(pre) > len(best["prefix"].encode())):
            best = r
    return best


def _hint(route: dict | None, err: str, absolute: bool, image: bool) -> str:
    """What the porter does about it: the manifest's files, or the profile's routes."""
    if not absolute:
        return "relative to a directory the layer could not name: no route known"
    if route is None:
        return "no route covers it: add one to the profile (Tar, RamDisk, origin) if the program needs it"
    kind, where = route["backend"], f"{route['backend']} route {route['prefix']}"
    if kind == "tar":
        files = "the image's files" if image else "the --fs-image tar"
        if err == "ENOENT":
            return f"{where}: not in {files}: add it to the manifest's [files] if the program needs it"
        if err in ("EROFS", "EACCES", "EPERM"):
            return f"{where}: {files} are read-only: a RamDisk route in the profile if the program writes here"
        if err == "ENOTDIR":
            return f"{where}: a component is a file in {files}, not a directory"
        return f"{where}: {files} answered so"
    if kind == "ram":
        if err == "ENOENT":
            return (f"{where}: a RAM disk, empty at start, and the program had not made it (files it needs "
                    "there at start: ship them under another route)")
        return f"{where}: the RAM disk answered so" + (" (it is full)" if err == "ENOSPC" else "")
    if kind == "deny":
        return f"{where}: the profile denies it: change that route if the program needs it"
    if kind == "origin":
        return f"{where}: not on the origin (or its hash pin did not match)"
    if kind in ("dev", "proc"):
        own = f"{where}: the picoprocess's own /{kind}, made inside it"
        return own + (", has no such entry (xax-emu explain lists them)" if err == "ENOENT" else ", answered so")
    if kind == "mount":
        return f"{where} ({route['mode']}): the granted host directory answered so"
    return f"{where}: its backend answered so"


def summary(fp: FailedPaths | None, routes: list[dict], image: bool) -> dict | None:
    """The JSON shape (docs/trace.md): every path kept, most failures first; None when the
    run was not asked for paths."""
    if fp is None:
        return None
    from .trace_report import _name
    entries = []
    for (path, err), count in sorted(fp.counts.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1])):
        norm = posixpath.normpath(path) if path.startswith(b"/") else path
        if norm.startswith(b"//"):
            norm = b"/" + norm.lstrip(b"/")
        route = _route_for(norm, routes) if path.startswith(b"/") else None
        name = errno_name(err)
        entries.append({
            "path": escape(path), "errno": name, "count": count,
            "calls": {_name(nr): n for nr, n in sorted(fp.calls[(path, err)].items())},
            "route": None if route is None else {"prefix": route["prefix"], "backend": route["backend"]},
            "hint": _hint(route, name, path.startswith(b"/"), image),
        })
    left = sum(fp.not_kept.values())
    return {
        "failures": sum(fp.counts.values()) + left, "paths": len(entries), "entries": entries,
        "not_kept": {"failures": left, "by_errno": {errno_name(e): n for e, n in sorted(fp.not_kept.items())},
                     "bound": {"paths": MAX_PATHS, "bytes": MAX_PATH_BYTES}},
    }


def render(s: dict | None, shown: int = SHOWN) -> list[str]:
    """The text report's lines: one per path (escaped), then what was left out, never silently."""
    if s is None:
        return []
    if not s["failures"]:
        return ["paths that failed to open or stat: none"]
    lines = [f"paths that failed to open or stat: {s['failures']} failure(s) on {s['paths']} path(s), "
             "most first (count, errno, path: route, what to do):"]
    for e in s["entries"][:shown]:
        lines.append(f"  {e['count']:>6} {e['errno']:<8} {e['path']}: {e['hint']}")
    rest = s["entries"][shown:]
    if rest:
        lines.append(f"  ... and {len(rest)} more path(s) ({sum(e['count'] for e in rest)} failure(s)): "
                     "--json lists them all")
    nk = s["not_kept"]
    if nk["failures"]:
        lines.append(f"  ... and {nk['failures']} failure(s) on paths the Monitor did not keep (it keeps at most "
                     f"{nk['bound']['paths']} paths, {nk['bound']['bytes'] >> 20} MiB): "
                     + ", ".join(f"{k} {v}" for k, v in nk["by_errno"].items()))
    return lines


def suggest_files(fp: FailedPaths | None, routes: list[dict], image: bool) -> list[str]:
    """Commented [files] lines for the paths under the image's files (a tar route) that failed
    with ENOENT and exist on this host (lstat only: nothing is opened), for the porter to
    uncomment; never added by themselves.  Host paths `init` leaves out (the home, /proc, /tmp,
    ...) are not offered, nor a path that is not plain printable UTF-8 or not normalized."""
    if fp is None or not image:
        return []
    import json

    from .porting.hostpaths import host_reason
    home = os.path.expanduser("~")
    offers = []
    for (path, err), _ in sorted(fp.counts.items(), key=lambda kv: (-kv[1], kv[0][0])):
        if err != _errno.ENOENT or not path.startswith(b"/"):
            continue
        text = path.decode("utf-8", "surrogateescape")
        if escape(path) != text or posixpath.normpath(text) != text or host_reason(text, home) is not None:
            continue
        route = _route_for(path, routes)
        if route is None or route["backend"] != "tar":
            continue
        rel = text[len(route["prefix"]):].lstrip("/") if route["prefix"] != "/" else text.lstrip("/")
        inside = "/" + posixpath.join(route.get("subdir", ""), rel).strip("/")  # its name in the image
        try:
            os.lstat(text)
        except OSError:
            continue
        if (inside, text) not in offers:
            offers.append((inside, text))
    if not offers:
        return []
    return ["# Paths the run failed to open under the image's files that exist on this host: uncomment",
            "# the ones the program needs into the manifest's [files] and pack again (trace --suggest",
            "# only offers them).",
            *(f"# {json.dumps(inside)} = {json.dumps(host)}" for inside, host in offers)]
