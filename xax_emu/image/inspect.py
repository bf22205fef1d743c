"""`xax-emu inspect`: what an image holds, after validate() has accepted it."""
from __future__ import annotations

import hashlib
import os

from ..syscalls.profile import ProfileError
from .errors import ImageError
from .format import PAGE, RESERVED, SITES
from .profileinfo import is_shipped, syscall_counts
from .validate import validate


def image_id(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    except OSError as e:
        raise ImageError(f"cannot read the image {os.fspath(path)}: {e.strerror or e}") from None
    return h.hexdigest()


def _syscalls(profile: dict) -> tuple[dict, str]:
    """For a shipped profile, the table of the profile as shipped now; otherwise (or if it is
    gone) the counts recorded when the image was packed."""
    if profile["shipped"] and is_shipped(profile["spec"]):
        from ..profiles import load
        try:
            return syscall_counts(load(profile["spec"])), "shipped profile"
        except ProfileError:
            pass
    return dict(profile["syscalls"]), "image metadata"


def _sites_per_member(image, image_path) -> dict[str, int] | None:
    """How many of each ELF member's `syscall` sites the image's site table (.xax/sites, found
    at pack time) lets the PAL rewrite before they run; None for an image packed without one.
    validate() has checked the table: every entry lies inside one ELF member's data."""
    m = image.by_name.get(SITES)
    if m is None:
        return None
    from .syscall_sites import decode_table
    try:
        with open(image_path, "rb") as f:
            f.seek(m.data_offset)
            entries = decode_table(f.read(m.size))
    except OSError as e:
        raise ImageError(f"cannot read the image {os.fspath(image_path)}: {e.strerror or e}") from None
    spans = [(x.data_offset, x.data_offset + x.size, "/" + x.name) for x in image.members
             if x.type == "file" and image.meta["files"].get("/" + x.name, {}).get("elf")]
    counts = {name: 0 for _, _, name in spans}
    for e in entries:
        for start, end, name in spans:
            if start <= e.at < end:
                counts[name] += 1
                break
    return counts


def inspect(image_path: str | os.PathLike) -> dict:
    image = validate(image_path)
    meta = image.meta
    sites = _sites_per_member(image, image_path)
    files = []
    for m in sorted(image.members, key=lambda m: m.name):
        if m.type == "dir" or m.name == "" or m.name == RESERVED or m.name.startswith(RESERVED + "/"):
            continue
        entry = {"path": "/" + m.name, "type": m.type, "size": m.size}
        if m.type == "symlink":
            entry["target"] = m.link
        info = meta["files"].get("/" + m.name, {})
        if info.get("elf"):
            entry["elf"] = True
            entry["aligned"] = m.data_offset % PAGE == 0
            if sites is not None:
                entry["syscall_sites"] = sites.get("/" + m.name, 0)
        files.append(entry)
    counts, counts_from = _syscalls(meta["profile"])
    app = meta["app"]
    return {
        "id": image_id(image_path),
        "path": os.fspath(image_path),
        "bytes": image.size,
        "format": meta["format"],
        "version": meta["version"],
        "name": app["name"],
        "entry": app["entry"],
        "args": app["args"],
        "env": app["env"],
        "cwd": app["cwd"],
        "profile": {k: meta["profile"][k] for k in ("spec", "name", "shipped")},
        "routes": meta["profile"]["routes"],
        "syscalls": counts,
        "syscalls_from": counts_from,
        "limits": meta["limits"],
        "http": meta.get("http"),
        "mounts": meta.get("mounts", {}),
        "layer": {"size": meta["layer"]["size"], "sha256": meta["layer"]["sha256"]},
        "syscall_sites": None if sites is None else sum(sites.values()),
        "files": files,
        "file_count": len(files),
        "files_bytes": sum(f["size"] for f in files),
    }


def _mib(n: int) -> str:
    return f"{n} bytes" if n < 1 << 20 else f"{n / (1 << 20):.1f} MiB"


def _describe_http(http: dict | None) -> list[str]:
    if http is None:
        return ["http     (no [http] table: the program serves HTTP itself through xabi_accept)"]
    where = f"{http['interface']} at {http['endpoint']}"
    if http["interface"] == "stdio":
        where += (f", {http['content_type']}, stdin at most {_mib(http['max_body'])},"
                  f" stdout at most {_mib(http['max_output'])}")
    else:
        where += f", stderr to the {'messages' if http['stderr'] == 'messages' else 'log'}"
    lines = [f"http     {where}", f"pages    {http['pages'] or '(none)'}"]
    if http["args"]:
        lines.append("argv     ... " + " ".join(repr(a) for a in http["args"]))
    for name, p in http["params"].items():
        default = "required" if p["default"] is None else f"default {p['default']!r}"
        lines.append(f"param    {name}: pattern {p['pattern']!r}, {default}, at most {p['max_length']} bytes")
    return lines


def describe(info: dict) -> str:
    """inspect()'s answer as text."""
    lines = [f"image    {info['id']}", f"path     {info['path']} ({_mib(info['bytes'])})",
             f"app      {info['name']}", "entry    " + " ".join([info["entry"], *info["args"]]),
             f"cwd      {info['cwd']}"]
    if info["env"]:
        lines.append("env      " + " ".join(f"{k}={v}" for k, v in sorted(info["env"].items())))
    p = info["profile"]
    c = info["syscalls"]
    lines.append(f"profile  {p['name']} ({p['spec']}{', shipped' if p['shipped'] else ''}): {c['total']} syscalls: "
                 + ", ".join(f"{c[k]} {k}" for k in ("emulate", "reject", "forward", "missing")))
    if not info["routes"]:
        lines.append("routes   (none)")
    for r in info["routes"]:
        extra = {k: v for k, v in r.items() if k not in ("prefix", "backend")}
        detail = ", ".join(f"{k} {v!r}" if isinstance(v, str) else f"{k} {v}" for k, v in extra.items())
        lines.append(f"route    {r['prefix']} -> {r['backend']}" + (f" ({detail})" if detail else ""))
    limits = {k: v for k, v in info["limits"].items() if v is not None}
    if limits:
        lines.append("limits   " + ", ".join(f"{k} {v}" for k, v in limits.items()))
    for point, mode in info["mounts"].items():
        lines.append(f"mount    {point} ({'read-write' if mode == 'rw' else 'read-only'}): absent unless granted "
                     f"(run --mount HOSTDIR:{point}{':rw' if mode == 'rw' else ''})")
    lines.extend(_describe_http(info["http"]))
    lines.append(f"layer    {_mib(info['layer']['size'])}, sha256 {info['layer']['sha256'][:16]}...")
    if info["syscall_sites"] is None:
        lines.append("sites    (no site table: every system call of the program traps until its site's first trap "
                     "rewrites it)")
    else:
        elves = sum(1 for f in info["files"] if f.get("elf"))
        lines.append(f"sites    {info['syscall_sites']} syscall sites in {elves} ELF files rewritten as they are "
                     "mapped (the site table)")
    lines.append(f"files    {info['file_count']} ({_mib(info['files_bytes'])})")
    for f in info["files"]:
        if f["type"] == "symlink":
            lines.append(f"  {'':>10}  {f['path']} -> {f['target']}")
        else:
            elf = ""
            if f.get("elf"):
                elf = "  (ELF" + (", page-aligned" if f["aligned"] else "")
                elf += (f", {f['syscall_sites']} sites)" if "syscall_sites" in f else ")")
            lines.append(f"  {f['size']:>10}  {f['path']}{elf}")
    return "\n".join(lines)
