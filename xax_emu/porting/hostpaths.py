"""Host paths as `init` sorts them: what belongs in the image, what is the host's own (and
why), and the symlink chains that lead from a name to a file."""
from __future__ import annotations

import os
import posixpath

from ..image.format import LINK_DEPTH_MAX

# Prefixes whose contents describe the host, not the program: left out of the image, each
# with the reason the manifest's comment gives.
HOST_PREFIXES: dict[str, str] = {
    "/proc": "the host's processes: the picoprocess has its own /proc (self, self/exe, self/fd, loadavg, stat)",
    "/dev": "the host's devices: the picoprocess has its own /dev (null, zero, full, random, urandom, tty, fd)",
    "/sys": "the host's kernel and hardware (sysfs): nothing of it reaches a picoprocess",
    "/run": "the host's running services (sockets, pid files)",
    "/var/run": "the host's running services (sockets, pid files)",
    "/tmp": "a RAM disk in the image (the shipped bases'): a program finds there only what it wrote",
    "/var/tmp": "a RAM disk in the image (the shipped bases'): a program finds there only what it wrote",
    "/etc/ld.so.cache": "ld.so's index of the host's libraries: in the image, ld.so finds them by its default "
                        "search, where pack puts them",
    "/etc/ld.so.preload": "the host's preloaded libraries",
    "/etc/passwd": "the host's users (the picoprocess runs as one virtual user)",
    "/etc/shadow": "the host's users' passwords",
    "/etc/group": "the host's groups (the picoprocess runs as one virtual user)",
    "/etc/gshadow": "the host's groups' passwords",
    "/etc/hostname": "the host's name (uname gives the picoprocess's own)",
    "/etc/machine-id": "the host's identity",
    "/var/lib/dbus/machine-id": "the host's identity",
    "/etc/hosts": "the host's network (a picoprocess reaches only its origin)",
    "/etc/resolv.conf": "the host's network (a picoprocess reaches only its origin)",
    "/etc/mtab": "the host's mounts",
    "/etc/fstab": "the host's mounts",
}
HOME_REASON = "the user's home: personal files and settings, not the program's"


def under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def host_reason(path: str, home: str, homes: tuple[str, ...] = ("/root", "/home")) -> str | None:
    """Why a path is the host's own (left out of the image), or None if it may be the program's."""
    for top in (home, *homes):
        if top and top != "/" and under(path, top):
            return HOME_REASON
    for prefix, why in HOST_PREFIXES.items():
        if under(path, prefix):
            return why
    return None


def chain(path: str) -> tuple[str, list[tuple[str, str]]] | None:
    """Follow `path` on the host component by component: (its physical path, the symlinks
    met on the way as (where the link is, its target as written)), or None if it does not
    exist or loops.  Each link's place is itself physical, so the links can be put into an
    image at those places as they are."""
    parts = [p for p in path.split("/") if p]
    cur, links, hops = "/", [], 0
    while parts:
        comp = parts.pop(0)
        if comp == ".":
            continue
        if comp == "..":
            cur = posixpath.dirname(cur)
            continue
        cand = posixpath.join(cur, comp)
        try:
            target = os.readlink(cand)
        except FileNotFoundError:
            return None
        except OSError:  # not a symlink (EINVAL), or not a directory on the way (ENOTDIR)
            if not os.path.lexists(cand):
                return None
            cur = cand
            continue
        hops += 1
        if hops > LINK_DEPTH_MAX:
            return None
        if (cand, target) not in links:
            links.append((cand, target))
        if target.startswith("/"):
            cur = "/"
        parts = [p for p in target.split("/") if p] + parts
    return (cur, links) if os.path.lexists(cur) else None


def tree_size(top: str, most_files: int, most_bytes: int) -> tuple[int, int] | None:
    """(files, bytes) under a host directory, or None as soon as either passes its cap."""
    files = size = 0
    for root, dirs, names in os.walk(top):
        for name in names:
            files += 1
            try:
                size += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
            if files > most_files or size > most_bytes:
                return None
    return files, size
