"""From what the native runs did to what the image needs: files, symlinks, empty
directories, the runs' inputs, RAM disks where the program wrote, what is left out and
why, and a profile entry for each call the base profile lacks."""
from __future__ import annotations

import os
import posixpath
import stat
from collections import Counter
from dataclasses import dataclass, field

from ..image.elfdeps import add_closure, is_x86_64, read_elf
from ..image.tree import Node, Tree
from ..seal import allowed_names
from ..syscalls import answers
from ..syscalls.profile import Disposition, resolve
from .environment import Environment
from .hostpaths import chain, host_reason, tree_size, under
from .observe import Observation

WORKDIR = "/work"  # the image's cwd: the runs' working directory, with their sample inputs
RAM_SIZE = 64 << 20
LISTED_FILES_MAX = 4000       # a directory the program listed is taken whole up to this many files
LISTED_BYTES_MAX = 64 << 20   # ... and bytes; past either, only what it opened there
TEMP_DIRS = ("/tmp", "/var/tmp")  # RAM disks in the shipped bases


@dataclass
class Missing:
    count: int
    answers: dict[str, int]
    why: str


@dataclass
class Plan:
    name: str
    entry: str                                   # physical path of the program
    argv0: str                                   # as the porter named it
    base: str                                    # the shipped profile it extends
    env: Environment
    files: dict[str, str] = field(default_factory=dict)      # image path -> host path (read at run time)
    plugins: dict[str, str] = field(default_factory=dict)    # shared objects loaded at run time (dlopen)
    listed: dict[str, str] = field(default_factory=dict)     # directories taken whole (the program listed them)
    inputs: dict[str, str] = field(default_factory=dict)     # /work/... -> the runs' sample inputs
    symlinks: dict[str, str] = field(default_factory=dict)   # image path -> target, as on the host
    dirs: list[str] = field(default_factory=list)            # empty directories the program looked at
    ram: dict[str, str] = field(default_factory=dict)        # route prefix -> why (the program wrote there)
    left_out: dict[str, str] = field(default_factory=dict)   # host path -> why it is not in the image
    closure_skipped: int = 0                                 # files ld.so loaded that pack adds by itself
    syscalls: dict[str, Disposition] = field(default_factory=dict)
    missing: dict[str, Missing] = field(default_factory=dict)  # calls no fixed answer covers
    children: list[str] = field(default_factory=list)

    @property
    def needs_profile(self) -> bool:
        return bool(self.ram or self.syscalls)


def base_for(entry: str) -> str:
    """glibc-dynamic for a program with an interpreter (ld.so), static-libc for a static one."""
    info = read_elf(entry)
    return "glibc-dynamic" if info is not None and info.interp else "static-libc"


class _Planner:
    def __init__(self, obs: Observation, cwd: str, home: str):
        self.obs, self.cwd, self.home = obs, os.path.normpath(cwd), os.path.normpath(home)
        self.links: dict[str, list[tuple[str, str]]] = {}  # physical path -> the symlinks met reaching it

    def classify(self, plan: Plan) -> None:
        written = self.written_places()
        for path, use in sorted(self.obs.paths.items()):
            if not use.ok - {"write"}:
                continue  # never there (ENOENT, ...) or only written: nothing to bring
            try:
                path.encode("utf-8")
            except UnicodeEncodeError:
                plan.left_out[path.encode("utf-8", "backslashreplace").decode()] = "not UTF-8: an image's names are"
                continue
            if under(path, self.cwd):
                self.input(plan, path, written)
                continue
            why = host_reason(path, self.home)
            if why is not None:
                if not any(under(path, t) for t in TEMP_DIRS) or path not in written:
                    plan.left_out[path] = why
                continue
            found = chain(path)
            if found is None:
                continue  # gone since the run
            physical, links = found
            why = host_reason(physical, self.home)
            if why is not None:
                plan.left_out[path] = f"leads to {physical}: {why}"
                continue
            self.place(plan, path, physical, links, use)

    def input(self, plan: Plan, path: str, written: set[str]) -> None:
        if path in written or path == self.cwd:
            return
        rel = posixpath.relpath(path, self.cwd)
        try:
            st = os.stat(path)
        except OSError:
            return
        if stat.S_ISREG(st.st_mode):
            plan.inputs[posixpath.join(WORKDIR, rel)] = path
        elif stat.S_ISDIR(st.st_mode):
            plan.dirs.append(posixpath.join(WORKDIR, rel))

    def place(self, plan: Plan, path: str, physical: str, links: list, use) -> None:
        self.links.setdefault(physical, []).extend(links)
        try:
            st = os.stat(physical)
        except OSError:
            return
        if stat.S_ISREG(st.st_mode):
            if is_x86_64(physical) and "open" in use.ok and _is_shared_object(physical):
                plan.plugins[physical] = physical
            else:
                plan.files[physical] = physical
        elif stat.S_ISDIR(st.st_mode):
            if "list" in use.ok and _takeable(physical):
                if tree_size(physical, LISTED_FILES_MAX, LISTED_BYTES_MAX) is not None:
                    plan.listed[physical] = physical
                    return
                plan.left_out[physical + "/*"] = (f"listed by the program, but over {LISTED_FILES_MAX} files or "
                                                  f"{LISTED_BYTES_MAX >> 20} MiB: only what it opened there is in "
                                                  "the image, so a listing shows less than on the host")
            plan.dirs.append(physical)
        else:
            plan.left_out[path] = "not a regular file or a directory (a device, socket or FIFO)"

    def written_places(self) -> set[str]:
        """Paths the program wrote or tried to create (EEXIST counts: it meant to write there)."""
        return {p for p, u in self.obs.paths.items() if "write" in u.ok or (u.failed.get("EEXIST") and not u.ok)}

    def ram_disks(self, plan: Plan) -> None:
        for path in sorted(self.written_places()):
            in_cwd = under(path, self.cwd)  # first: the working directory may itself be under /tmp
            if not in_cwd and (under(path, "/dev") or under(path, "/proc") or any(under(path, t) for t in TEMP_DIRS)):
                continue  # /dev/null, /dev/stdout: the picoprocess's own; /tmp: the bases' RAM disk
            if in_cwd:
                prefix = WORKDIR
                why = "the runs wrote in their working directory"
                if plan.inputs:
                    why += (" (the sample inputs there are hidden by it: give inputs in a subdirectory, or "
                            "let the program write elsewhere)")
            elif host_reason(path, self.home) is not None:
                plan.left_out.setdefault(path, f"written by the program: {host_reason(path, self.home)}")
                continue
            else:
                prefix = _existing_parent(path)
                why = f"the program wrote {path}"
            if any(under(prefix, p) for p in plan.ram):
                continue
            for inner in [p for p in plan.ram if under(p, prefix)]:
                del plan.ram[inner]
            plan.ram[prefix] = why

    def hidden_by_ram(self, plan: Plan) -> None:
        for prefix in plan.ram:
            if prefix == WORKDIR:
                continue
            for table in (plan.files, plan.plugins, plan.listed):
                for path in [p for p in table if under(p, prefix)]:
                    del table[path]
                    plan.left_out[path] = f"under the RAM disk at {prefix}, which starts empty"


def _is_shared_object(path: str) -> bool:
    info = read_elf(path)
    return info is not None and not info.interp  # a library, not a program


def _takeable(path: str) -> bool:
    """A directory small and specific enough to take whole: not the root, not a top-level or
    system-wide directory (/usr/lib, /etc, /usr/share, the library directories)."""
    depth = len([p for p in path.split("/") if p])
    return depth >= 3 and path not in ("/usr/lib/x86_64-linux-gnu", "/usr/local/lib", "/usr/local/share")


def _existing_parent(path: str) -> str:
    parent = posixpath.dirname(path) or "/"
    while parent != "/" and not os.path.isdir(parent):
        parent = posixpath.dirname(parent)
    found = chain(parent)
    return found[0] if found else parent


def _closure_files(plan: Plan) -> set[str]:
    """Host paths of the libraries pack adds by itself: the ELF closure of the entry.  A
    library ld.so cannot find here is DependencyError, naming it (pack would fail the same way)."""
    tree = Tree()
    st = os.stat(plan.entry)
    tree.add(plan.entry, Node("file", "the entry", host=plan.entry, mode=0o755, mtime=int(st.st_mtime),
                              size=st.st_size))
    add_closure(tree, [plan.entry])
    return {os.path.realpath(n.host) for n in tree.nodes.values() if n.kind == "file" and n.host} - {plan.entry}


def plan_port(obs: Observation, *, name: str, entry: str, argv0: str, program_links: list[tuple[str, str]],
              env: Environment, cwd: str, home: str, base_profile) -> Plan:
    """The plan for an image of `entry` that does what the observed runs did."""
    plan = Plan(name=name, entry=entry, argv0=argv0, base=base_profile.name, env=env)
    p = _Planner(obs, cwd, home)
    p.classify(plan)
    p.ram_disks(plan)
    p.hidden_by_ram(plan)
    plan.files.pop(entry, None)
    plan.plugins.pop(entry, None)
    closure = _closure_files(plan)
    for table in (plan.files, plan.plugins):
        for path in [q for q in table if q in closure]:
            del table[path]
            plan.closure_skipped += 1
    # The symlinks on the way to what stays (the libraries' chains are pack's to keep).
    for where, target in program_links:
        plan.symlinks[where] = target
    for physical in [*plan.files, *plan.plugins, *plan.listed, *plan.dirs]:
        for where, target in p.links.get(physical, []):
            plan.symlinks[where] = target
    plan.dirs.append(WORKDIR)  # the image's cwd must exist, inputs or not
    _drop_inside_listed(plan)
    _drop_redundant(plan)
    plan.children = list(obs.children)
    _syscalls(plan, obs, base_profile)
    return plan


def _drop_inside_listed(plan: Plan) -> None:
    """What a directory taken whole already brings (its files; the symlinks inside it that
    stay inside, which it keeps), and the directories listed inside it (ruby lists a gem
    directory and one inside it: pack refuses a file placed twice)."""
    for top in list(plan.listed):
        for path in [q for q in plan.listed if q != top and under(q, top)]:
            del plan.listed[path]
    for top in plan.listed:
        for table in (plan.files, plan.plugins):
            for path in [q for q in table if q != top and under(q, top)]:
                del table[path]
        for path in [q for q in plan.symlinks if q != top and under(q, top)]:
            del plan.symlinks[path]
        plan.dirs = [d for d in plan.dirs if not under(d, top)]


def _drop_redundant(plan: Plan) -> None:
    """Empty directories only where nothing else makes them; the entry's own symlink chain
    only where it is not the entry itself."""
    others = [*plan.files, *plan.plugins, *plan.listed, *plan.inputs, *plan.symlinks, plan.entry]
    plan.dirs = sorted({d for d in plan.dirs
                        if not any(o != d and under(o, d) for o in others) and d not in plan.symlinks})


def _syscalls(plan: Plan, obs: Observation, base_profile) -> None:
    """An entry for each call the program made that the base leaves missing and the seal does
    not let through, from the table of answers; the calls no fixed answer covers stay missing."""
    resolved = resolve(base_profile)
    allowed = set(allowed_names())
    for name, seen in sorted(obs.answers.items()):
        if name in allowed or resolved.disposition(name).kind != "missing":
            continue
        count = sum(seen.values())
        natives = dict(seen)
        seen_text = "natively " + answers.describe_natives(natives)
        d = answers.disposition(name, natives, seen_text)
        if d is not None:
            plan.syscalls[name] = d
        else:
            row = answers.answer_for(name)
            plan.missing[name] = Missing(count, natives, row.reason if row else "not in xax_emu/syscalls/answers.py's "
                                                                                  "table: decide it by hand")


def add_sealed_only(plan: Plan, made: dict[str, int]) -> list[str]:
    """Calls the sealed runs made that the native ones did not (the program took another path
    sealed: libsigsegv asks mincore when it cannot read /proc/self/maps): an entry from the
    table where it has one, else listed as missing.  Returns the names given an entry."""
    added = []
    for name, count in sorted(made.items()):
        if name in plan.syscalls or name in plan.missing:
            continue
        seen = f"not made natively; {count} time(s) sealed"
        d = answers.disposition(name, None, seen)
        if d is not None:
            plan.syscalls[name] = d
            added.append(name)
        else:
            row = answers.answer_for(name)
            plan.missing[name] = Missing(count, {}, (row.reason if row else "not in xax_emu/syscalls/answers.py's "
                                                     "table: decide it by hand") + " (made sealed only)")
    return added
