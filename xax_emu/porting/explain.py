"""`xax-emu explain IMAGE PATH|SYSCALL`: which route serves a path in an image (or why it
is absent), and how a system call is answered and by which layer of the profile."""
from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import XaxError
from ..image.format import LINK_DEPTH_MAX
from .hostpaths import host_reason

DEVICES = {"null": "reads end at once, writes vanish", "zero": "endless zero bytes",
           "full": "writes fail with ENOSPC", "random": "the Monitor's random bytes",
           "urandom": "the Monitor's random bytes", "tty": "ENXIO: no controlling terminal",
           "fd": "a link to /proc/self/fd", "stdin": "a link to /proc/self/fd/0",
           "stdout": "a link to /proc/self/fd/1", "stderr": "a link to /proc/self/fd/2"}
PROC = {"self": "a link to the virtual pid's directory", "loadavg": "an idle machine of its own",
        "stat": "one CPU, nothing accounted", "self/exe": "the image's entry", "self/fd": "the open fds"}


class ExplainError(XaxError):
    """What to explain is neither a path nor a system call, or the image's profile cannot be found."""


@dataclass
class Explanation:
    subject: str
    kind: str                 # "path" or "syscall"
    answer: str               # one line: what happens
    details: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join([f"{self.subject}: {self.answer}", *("  " + d for d in self.details)])

    def as_dict(self) -> dict:
        return {"subject": self.subject, "kind": self.kind, "answer": self.answer, "details": self.details}


def _routes(meta: dict) -> list[dict]:
    routes = list(meta["profile"]["routes"])
    if not any(r["prefix"] == "/" for r in routes):
        routes.append({"prefix": "/", "backend": "tar", "subdir": "", "implicit": True})
    return routes


def _route_for(path: str, routes: list[dict]) -> dict:
    best = None
    for r in routes:
        p = r["prefix"]
        if (p == "/" or path == p or path.startswith(p + "/")) and (best is None or len(p) > len(best["prefix"])):
            best = r
    return best


def explain_path(image, path: str) -> Explanation:
    """`image`: a validated image (validate.Image)."""
    if not path.startswith("/"):
        path = posixpath.join(image.meta["app"]["cwd"], path)
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    routes = _routes(image.meta)
    r = _route_for(norm, routes)
    prefix, backend = r["prefix"], r["backend"]
    rel = norm[len(prefix):].lstrip("/") if prefix != "/" else norm.lstrip("/")
    where = f"the route at {prefix}" + (" (the image's files, as no route claims /)" if r.get("implicit") else "")
    details = [f"routes: " + ", ".join(f"{x['prefix']} {x['backend']}" for x in sorted(routes, key=lambda x: x['prefix']))]
    if norm != path:
        details.append(f"read as {norm}")
    if backend == "ram":
        return Explanation(norm, "path", f"{where}: a RAM disk of {r['size'] >> 20} MiB, empty at start: the "
                                         "program finds there only what it writes", details)
    if backend == "deny":
        return Explanation(norm, "path", f"{where} denies everything under it: ENOENT (EACCES for writes)", details)
    if backend == "origin":
        return Explanation(norm, "path", f"{where}: fetched from the image's origin at "
                                         f"{r['url_prefix'].rstrip('/')}/{rel} on first open"
                                         + (f" ({r['pinned']} file(s) hash-pinned)" if r.get("pinned") else ""),
                           details)
    if backend == "dev":
        return _synthetic(norm, where, rel, DEVICES, "the picoprocess's own /dev", details)
    if backend == "proc":
        return _synthetic(norm, where, rel, PROC, "the picoprocess's own /proc", details)
    sub = r.get("subdir", "")
    inside = "/" + posixpath.join(sub, rel).strip("/") if (sub or rel) else "/"
    return _in_tar(image, norm, inside, where, details)


def _synthetic(path: str, where: str, rel: str, known: dict, what: str, details: list) -> Explanation:
    top = rel.split("/", 1)[0]
    if rel in known or top in known or rel == "" or (what.endswith("/proc") and top.isdigit()):
        return Explanation(path, "path", f"{where}: {what}: {known.get(rel) or known.get(top) or 'a directory'}",
                           details)
    return Explanation(path, "path", f"{where}: absent (ENOENT): {what} has only {', '.join(sorted(known))}",
                       details)


def _in_tar(image, path: str, inside: str, where: str, details: list) -> Explanation:
    """Follow the path through the image as the VFS does (symlinks inside the image), saying each hop."""
    parts = [p for p in inside.split("/") if p]
    cur, hops = "", 0
    while parts:
        comp = parts.pop(0)
        if comp == "..":
            cur = posixpath.dirname(cur)
            continue
        nxt = f"{cur}/{comp}"
        kind = image.kind_of(nxt)
        if kind is None:
            return _absent(path, nxt, cur or "/", where, details)
        if kind[0] == "symlink":
            hops += 1
            if hops > LINK_DEPTH_MAX:
                return Explanation(path, "path", f"{where}: ELOOP: more than {LINK_DEPTH_MAX} symlinks", details)
            details.append(f"{nxt} is a symlink to {kind[1]}")
            target = kind[1]
            cur = "" if target.startswith("/") else cur
            parts = [p for p in target.split("/") if p and p != "."] + parts
            continue
        if kind[0] != "dir" and parts:
            return Explanation(path, "path", f"{where}: ENOTDIR: {nxt} is a {kind[0]}", details)
        cur = nxt
    final = cur or "/"
    kind = image.kind_of(final) or ("dir", None)
    m = image.member(final)
    what = kind[0] if m is None else {"file": f"a file of {m.size} bytes", "dir": "a directory"}.get(m.type, m.type)
    info = image.meta["files"].get(final, {})
    if info.get("elf"):
        what += ", ELF"
    return Explanation(path, "path", f"{where}: {what} in the image" + (f" ({final})" if final != path else ""),
                       details)


def _absent(path: str, missing: str, parent: str, where: str, details: list) -> Explanation:
    details.append(f"the image has {parent} but nothing named {posixpath.basename(missing)} in it")
    why = host_reason(path, os.path.expanduser("~"))
    if why is not None:
        details.append(f"`xax-emu init` leaves such host paths out: {why}")
    elif os.path.lexists(path):
        kind = "a directory" if os.path.isdir(path) else "a file" if os.path.isfile(path) else "there"
        details.append(f"on this host it is {kind}: add it to the manifest's [files], or re-run `xax-emu init` "
                       "with a run that opens it")
    else:
        details.append("this host has no such path either")
    return Explanation(path, "path", f"{where}: absent (ENOENT)", details)


def _chain(profile) -> str:
    names, todo = [], [profile]
    while todo:
        p = todo.pop(0)
        names.append(p.name)
        todo.extend(p.extends)
    return " -> ".join(names)


def load_image_profile(meta: dict, image_path: Path, spec_override: str | None = None):
    """The profile the image was packed with: shipped by name, or its FILE.py:NAME found beside
    the image (or in the working directory), or --profile.  Checked against the counts the
    image recorded: a profile file changed since packing is an error, not a silent answer."""
    from ..image.profileinfo import syscall_counts
    from ..profiles import load

    spec = spec_override or meta["profile"]["spec"]
    if ":" in spec and not spec_override:
        tried = []
        for base in (image_path.resolve().parent, Path.cwd()):
            file_part = spec.rpartition(":")[0]
            tried.append(str(base / file_part))
            if (base / file_part).is_file():
                profile = load(spec, base)
                break
        else:
            raise ExplainError(f"{image_path}: its profile {spec} is not beside it nor here ({', '.join(tried)}); "
                               "give it with --profile FILE.py:NAME")
    else:
        profile = load(spec)
    recorded = meta["profile"]["syscalls"]
    now = syscall_counts(profile)
    if any(recorded.get(k) != now[k] for k in now):
        raise ExplainError(f"{image_path}: the profile {spec} is not the one it was packed with (its table "
                           f"has {now}, the image recorded {recorded}): pack it again")
    return profile


def explain_syscall(profile, name: str) -> Explanation:
    from ..seal import allowed_names, entry
    from ..syscalls import answers, catalogue
    from ..syscalls.profile import resolve

    try:
        call = catalogue.by_number(int(name)) if name.isdigit() else catalogue.by_name(name)
    except catalogue.UnknownSyscall:
        raise ExplainError(f"{name!r} is neither a path (start it with /) nor an x86-64 system call") from None
    resolved = resolve(profile)
    d = resolved.disposition(call.name)
    details = [f"profile {profile.name}: {_chain(profile)}"]
    subject = f"{call.name} (nr {call.nr})"
    if call.name in allowed_names():
        e = entry(call.name)
        forms = "every form" if e.forms == ((),) else f"{len(e.forms)} argument form(s)"
        details.append(f"the seal lets {forms} reach the kernel: {e.reason}")
        if e.forms != ((),):
            details.append("its other forms trap, and are answered as this line says")
    if d.kind == "missing":
        row = answers.answer_for(call.name)
        if row is not None:
            details.append(f"xax_emu/syscalls/answers.py: {row.claim()}: {row.reason}"
                           + ("" if row.fixed else " (`trace --suggest` lists it, with no entry)"))
        answer = "missing: -ENOSYS and a trace event (no layer of the profile answers it)"
        if call.name in allowed_names() and entry(call.name).forms == ((),):
            answer = "reaches the kernel (the allowlist): the profile is never asked"
        return Explanation(subject, "syscall", answer, details)
    source = resolved.origins[call.name]
    note = f" — {d.note}" if d.note else ""
    return Explanation(subject, "syscall", f"{d.describe()}, set by profile {source!r}{note}", details)
