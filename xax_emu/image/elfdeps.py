"""ELF files bring their shared-library closure and their interpreter, found as ld.so would.

For each NEEDED name of an object (breadth first, each soname loaded once, as ld.so
does): a name with '/' is a path; otherwise the object's DT_RPATH (only if it has no
DT_RUNPATH) and the executable's, then its DT_RUNPATH ($ORIGIN, $LIB and $PLATFORM
expanded, $ORIGIN being the directory the object was found in), then the directories of
/etc/ld.so.conf (with its `include` globs) — standing in for ld.so.cache — then the
default directories.  A candidate must be a 64-bit little-endian x86-64 ELF, or the
search goes on, as in ld.so.  LD_LIBRARY_PATH and glibc-hwcaps subdirectories are not
searched (the image has neither).

Paths are looked up in the image being built first (the manifest's files, with their
symlinks followed inside the image), then on the host at the same path.  Host files
keep their symlink chains: /lib64/ld-linux-x86-64.so.2 becomes a symlink to
/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 in the image, as on the host, whenever the
link's target, read inside the image, is the same file as on the host (otherwise the
file is copied in the link's place).

The image has no ld.so.cache, so a library found only through a directory of
ld.so.conf that is not a default directory also gets a symlink in the first default
directory, where ld.so inside the image will find it.
"""
from __future__ import annotations

import glob
import os
import posixpath
from collections import deque
from dataclasses import dataclass, field

from elftools.elf.dynamic import DynamicSection, DynamicSegment
from elftools.elf.elffile import ELFFile

from .errors import DependencyError
from .format import ELF_MAGIC, LINK_DEPTH_MAX
from .tree import Node, Tree, TreeConflict

DEFAULT_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/lib", "/usr/lib")
LD_SO_CONF = "/etc/ld.so.conf"
LIB = "lib/x86_64-linux-gnu"  # what $LIB expands to on Debian x86-64
PLATFORM = "x86_64"


@dataclass(frozen=True)
class ElfInfo:
    interp: str | None
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    soname: str | None


def is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == ELF_MAGIC
    except OSError:
        return False


def is_x86_64(path: str) -> bool:
    """A 64-bit little-endian x86-64 ELF (the only kind ld.so here loads)."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return False
    return len(head) == 20 and head[:4] == ELF_MAGIC and head[4] == 2 and head[5] == 1 and head[18:20] == b"\x3e\x00"


def read_elf(path: str) -> ElfInfo | None:
    """The dynamic-linking facts of an x86-64 executable or shared object; None for any
    other file (data, other architectures, relocatable objects)."""
    if not is_x86_64(path):
        return None
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            if elf["e_type"] not in ("ET_EXEC", "ET_DYN"):
                return None
            interp = None
            dynamic = None
            for seg in elf.iter_segments():
                if seg["p_type"] == "PT_INTERP":
                    interp = seg.get_interp_name()
                elif seg["p_type"] == "PT_DYNAMIC" and dynamic is None:
                    dynamic = seg
            section = elf.get_section_by_name(".dynamic")
            if isinstance(section, DynamicSection):
                dynamic = section
            needed, rpath, runpath, soname = [], [], [], None
            if isinstance(dynamic, (DynamicSection, DynamicSegment)):
                for tag in dynamic.iter_tags():
                    t = tag.entry.d_tag
                    if t == "DT_NEEDED":
                        needed.append(tag.needed)
                    elif t == "DT_RPATH":
                        rpath += [p for p in tag.rpath.split(":")]
                    elif t == "DT_RUNPATH":
                        runpath += [p for p in tag.runpath.split(":")]
                    elif t == "DT_SONAME":
                        soname = tag.soname
            return ElfInfo(interp, tuple(needed), tuple(rpath), tuple(runpath), soname)
    except Exception as e:  # pyelftools raises many kinds on a malformed file: one error, naming it
        raise DependencyError(f"{path}: cannot read its ELF headers: {e}", elf=path) from None


def ld_so_conf_dirs(conf: str = LD_SO_CONF) -> list[str]:
    """The directories /etc/ld.so.conf lists, includes expanded, in order, each once."""
    out: list[str] = []
    _read_conf(conf, out, set())
    seen, dirs = set(), []
    for d in out:
        d = posixpath.normpath(d)
        if d not in seen:
            seen.add(d)
            dirs.append(d)
    return dirs


def _read_conf(path: str, out: list[str], visiting: set[str]) -> None:
    real = os.path.realpath(path)
    if real in visiting or len(visiting) > 64:
        return
    visiting.add(real)
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        if word == "include":
            for pattern in rest.split():
                if not pattern.startswith("/"):
                    pattern = os.path.join(os.path.dirname(path), pattern)
                for inc in sorted(glob.glob(pattern)):
                    _read_conf(inc, out, visiting)
        elif word == "hwcap":
            continue
        else:
            for d in line.replace(",", " ").replace(":", " ").split():
                if d.startswith("/"):
                    out.append(d.split("=", 1)[0])


def _expand(entry: str, origin: str) -> str | None:
    for token, value in (("$ORIGIN", origin), ("${ORIGIN}", origin), ("$LIB", LIB), ("${LIB}", LIB),
                         ("$PLATFORM", PLATFORM), ("${PLATFORM}", PLATFORM)):
        entry = entry.replace(token, value)
    if "$" in entry:
        return None  # an unknown token: ld.so ignores the entry
    if not entry.startswith("/"):
        return None  # empty or relative: ld.so's cwd, not meaningful in an image
    return posixpath.normpath(entry)


@dataclass
class Closure:
    """What add_closure found: for each ELF (image path), where each NEEDED name was found."""

    needed: dict[str, dict[str, str]] = field(default_factory=dict)
    interp: dict[str, str] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)  # image paths added to the tree


class Resolver:
    def __init__(self, tree: Tree, conf_dirs: list[str] | None = None, default_dirs=DEFAULT_DIRS):
        self.tree = tree
        self.default_dirs = tuple(default_dirs)
        self.conf_dirs = [d for d in (ld_so_conf_dirs() if conf_dirs is None else conf_dirs)]
        self.closure = Closure()
        self._info: dict[str, ElfInfo | None] = {}

    # -- the image view ----------------------------------------------------------

    def info(self, image_path: str) -> ElfInfo | None:
        resolved = self.tree.resolve(image_path)
        node = self.tree.get(resolved) if resolved else None
        if node is None or node.kind != "file":
            return None
        if node.host not in self._info:
            self._info[node.host] = read_elf(node.host)
        return self._info[node.host]

    def candidate(self, path: str, why: str) -> bool:
        """Is there a loadable x86-64 ELF at image path `path`?  Brings it from the host
        (same path) if the image has nothing there yet."""
        resolved = self.tree.resolve(path)
        if resolved is None:
            return False
        node = self.tree.get(resolved)
        if node is not None:
            return node.kind == "file" and is_x86_64(node.host)
        if not os.path.isfile(resolved) or not is_x86_64(resolved):
            return False
        self.import_host(resolved, why)
        return True

    def import_host(self, path: str, why: str) -> None:
        real = os.path.realpath(path)
        for _ in range(LINK_DEPTH_MAX):
            if self.tree.get(path) is not None:
                return
            if os.path.islink(path):
                target = os.readlink(path)
                nxt = self.tree.resolve(posixpath.join(posixpath.dirname(path), target))
                if nxt is not None and nxt != path and os.path.realpath(nxt) == real:
                    self._add(path, Node("symlink", why, target=target, mode=0o777))
                    path = nxt
                    continue
            st = os.stat(real)
            self._add(path, Node("file", why, host=real, mode=0o755 if st.st_mode & 0o111 else 0o644,
                                 mtime=int(st.st_mtime), size=st.st_size))
            return
        raise DependencyError(f"{path}: too many levels of symlinks", elf=path)

    def _add(self, path: str, node: Node) -> None:
        try:
            self.tree.add(path, node)
        except TreeConflict as e:
            raise DependencyError(f"cannot place {path} in the image ({node.origin}): {e}", elf=path) from None
        self.closure.added.append(path)

    # -- ld.so's search ------------------------------------------------------------

    def find(self, name: str, obj: str, info: ElfInfo, exe_rpath: tuple[str, ...]) -> str:
        why = f"needed by {obj}"
        if "/" in name:
            path = posixpath.normpath(name if name.startswith("/") else posixpath.join(posixpath.dirname(obj), name))
            if self.candidate(path, why):
                return path
            raise DependencyError(f"{obj} needs {name}: not found", elf=obj, needed=name)
        origin = posixpath.dirname(obj)
        dirs: list[str] = []
        if not info.runpath:
            dirs += [d for d in (_expand(e, origin) for e in info.rpath) if d]
            dirs += exe_rpath
        dirs += [d for d in (_expand(e, origin) for e in info.runpath) if d]
        searched = list(dirs)
        for d in dirs:
            if self.candidate(posixpath.join(d, name), why):
                return posixpath.join(d, name)
        for d in self.conf_dirs:
            path = posixpath.join(d, name)
            if self.candidate(path, why):
                if d not in self.default_dirs:
                    self.cache_link(path, name, why)
                return path
        for d in self.default_dirs:
            if self.candidate(posixpath.join(d, name), why):
                return posixpath.join(d, name)
        where = ", ".join([*searched, "the ld.so.conf directories", *self.default_dirs])
        raise DependencyError(f"{obj} needs {name}: not found (searched {where})", elf=obj, needed=name)

    def cache_link(self, path: str, name: str, why: str) -> None:
        parent = self.tree.resolve(self.default_dirs[0])
        if parent is None or self.tree.get(parent) is not None and self.tree.get(parent).kind != "dir":
            return
        link = posixpath.join(parent, name)
        if self.tree.get(link) is None:
            self._add(link, Node("symlink", f"{why} (ld.so.cache stand-in)", target=path, mode=0o777))

    def load(self, root: str) -> None:
        """Everything ld.so would load to start `root` (an image path)."""
        info = self.info(root)
        if info is None:
            return
        loaded: dict[str, str] = {}
        if info.interp:
            interp = posixpath.normpath(info.interp)
            if not self.candidate(interp, f"the interpreter of {root}"):
                raise DependencyError(f"{root} needs its interpreter {info.interp}: not found", elf=root,
                                      needed=info.interp)
            self.closure.interp[root] = interp
            iinfo = self.info(interp)
            loaded[(iinfo.soname if iinfo and iinfo.soname else posixpath.basename(interp))] = interp
        exe_rpath = tuple(d for d in (_expand(e, posixpath.dirname(root)) for e in info.rpath) if d) \
            if not info.runpath else ()
        queue = deque([(root, info)])
        seen = {root}
        while queue:
            obj, oinfo = queue.popleft()
            found = self.closure.needed.setdefault(obj, {})
            for name in oinfo.needed:
                path = loaded.get(name)
                if path is None:
                    path = self.find(name, obj, oinfo, exe_rpath if obj != root else ())
                    loaded[name] = path
                    linfo = self.info(path)
                    if linfo is not None and linfo.soname:
                        loaded.setdefault(linfo.soname, path)
                found[name] = path
                if path not in seen:
                    seen.add(path)
                    linfo = self.info(path)
                    if linfo is not None:
                        queue.append((path, linfo))


def add_closure(tree: Tree, roots: list[str], conf_dirs: list[str] | None = None,
                default_dirs=DEFAULT_DIRS) -> Closure:
    """Add to the tree the interpreter and shared libraries every x86-64 ELF file among
    `roots` (image paths) needs; returns what was found where."""
    r = Resolver(tree, conf_dirs, default_dirs)
    for root in roots:
        r.load(root)
    return r.closure
