"""What an image records about its profile: the routes and a summary of the syscall table."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..profiles import SHIPPED, load
from ..syscalls.compiler import table
from ..syscalls.profile import Deny, Devices, Origin, Proc, Profile, RamDisk, Tar, resolve

KINDS = ("emulate", "reject", "forward", "missing")


def is_shipped(spec: str) -> bool:
    return ":" not in spec and spec in SHIPPED


def syscall_counts(profile: Profile) -> dict[str, int]:
    counts = Counter(row.kind for row in table(resolve(profile)))
    out = {k: counts.get(k, 0) for k in KINDS}
    out["total"] = sum(counts.values())
    return out


def routes(profile: Profile) -> list[dict]:
    out = []
    resolved = resolve(profile)
    for prefix in sorted(resolved.routes):
        b = resolved.routes[prefix]
        r = {"prefix": prefix, "backend": b.kind}
        if isinstance(b, Tar):
            r["subdir"] = b.subdir
        elif isinstance(b, RamDisk):
            r["size"] = b.size
        elif isinstance(b, Origin):
            r["url_prefix"] = b.url_prefix
            r["pinned"] = len(b.sha256)
        elif not isinstance(b, (Deny, Devices, Proc)):
            r["detail"] = repr(b)
        out.append(r)
    return out


def summary(spec: str, base_dir: Path) -> tuple[Profile, dict]:
    """The profile named by a manifest's `profile`, and what the image's metadata says of it."""
    profile = load(spec, base_dir)
    return profile, {"spec": spec, "name": profile.name, "shipped": is_shipped(spec), "routes": routes(profile),
                     "syscalls": syscall_counts(profile)}
