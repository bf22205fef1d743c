"""What native runs did, from their strace recordings: the paths the program touched
(and how: read, listed, written, ran), the answer each system call got, and the
programs it tried to start.  Several runs merge into one Observation."""
from __future__ import annotations

import posixpath
from collections import Counter
from dataclasses import dataclass, field

from .strace import Call, Recording, fd_path, unquote

# name -> (kind, ((dirfd argument index or None, path argument index), ...)).
# Kinds: "open" (open* : read or write, by its flags), "stat" (its existence and metadata),
# "write" (the call changes the file system there), "exec" (a program started).
PATH_CALLS: dict[str, tuple[str, tuple[tuple[int | None, int], ...]]] = {
    "open": ("open", ((None, 0),)),
    "openat": ("open", ((0, 1),)),
    "openat2": ("open", ((0, 1),)),
    "creat": ("write", ((None, 0),)),
    "stat": ("stat", ((None, 0),)),
    "lstat": ("stat", ((None, 0),)),
    "newfstatat": ("stat", ((0, 1),)),
    "statx": ("stat", ((0, 1),)),
    "access": ("stat", ((None, 0),)),
    "faccessat": ("stat", ((0, 1),)),
    "faccessat2": ("stat", ((0, 1),)),
    "readlink": ("stat", ((None, 0),)),
    "readlinkat": ("stat", ((0, 1),)),
    "statfs": ("stat", ((None, 0),)),
    "chdir": ("stat", ((None, 0),)),
    "getxattr": ("stat", ((None, 0),)),
    "lgetxattr": ("stat", ((None, 0),)),
    "mkdir": ("write", ((None, 0),)),
    "mkdirat": ("write", ((0, 1),)),
    "rmdir": ("write", ((None, 0),)),
    "unlink": ("write", ((None, 0),)),
    "unlinkat": ("write", ((0, 1),)),
    "rename": ("write", ((None, 0), (None, 1))),
    "renameat": ("write", ((0, 1), (2, 3))),
    "renameat2": ("write", ((0, 1), (2, 3))),
    "link": ("write", ((None, 1),)),
    "linkat": ("write", ((2, 3),)),
    "symlink": ("write", ((None, 1),)),
    "symlinkat": ("write", ((1, 2),)),
    "truncate": ("write", ((None, 0),)),
    "chmod": ("write", ((None, 0),)),
    "fchmodat": ("write", ((0, 1),)),
    "chown": ("write", ((None, 0),)),
    "lchown": ("write", ((None, 0),)),
    "fchownat": ("write", ((0, 1),)),
    "utimensat": ("write", ((0, 1),)),
    "utime": ("write", ((None, 0),)),
    "utimes": ("write", ((None, 0),)),
    "mknod": ("write", ((None, 0),)),
    "mknodat": ("write", ((0, 1),)),
    "execve": ("exec", ((None, 0),)),
    "execveat": ("exec", ((0, 1),)),
}
_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_TMPFILE")


@dataclass
class PathUse:
    """How the program used one path (absolute, as it named it, not resolved)."""

    ok: set[str] = field(default_factory=set)         # kinds that succeeded: open, stat, list, write, exec
    failed: Counter = field(default_factory=Counter)  # errno -> count, for the kinds that failed
    resolved: str | None = None                       # where an fd opened on it led (strace -y)
    directory: bool = False                           # opened as a directory (O_DIRECTORY, or listed)


@dataclass
class Observation:
    paths: dict[str, PathUse] = field(default_factory=dict)
    answers: dict[str, Counter] = field(default_factory=dict)  # syscall -> answer ("0", "-EPERM") -> count
    children: list[str] = field(default_factory=list)          # programs started (execve by another process)
    runs: int = 0

    def use(self, path: str) -> PathUse:
        return self.paths.setdefault(path, PathUse())

    def add(self, rec: Recording, cwd: str) -> None:
        self.runs += 1
        mine = rec.program_calls()
        first_exec = True
        fds: dict[int, str] = {}  # fd -> the path strace decorated it with when it was made (getdents64 is raw)
        for call in mine:
            if call.ret_path and call.ret is not None and call.ret >= 0:
                fds[call.ret] = call.ret_path
            if call.name == "execve" and first_exec:
                first_exec = False  # the program itself, started by strace
                continue
            self.answers.setdefault(call.name, Counter())[call.answer()] += 1
            self._paths(call, cwd)
            if call.name in ("getdents64", "getdents") and call.ok and call.args:
                listed = fd_path(call.args[0]) or fds.get(_number(call.args[0]))
                if listed and listed.startswith("/"):
                    u = self.use(listed)
                    u.ok.add("list")
                    u.directory = True
        for call in rec.children():
            if call.ok or call.ret is None:
                target = unquote(call.args[0]) if call.args else None
                if target and target not in self.children:
                    self.children.append(target)

    def _paths(self, call: Call, cwd: str) -> None:
        spec = PATH_CALLS.get(call.name)
        if spec is None:
            return
        kind, places = spec
        for dirfd_index, path_index in places:
            if path_index >= len(call.args):
                continue
            name = unquote(call.args[path_index])
            if not name:
                continue  # NULL, "" (AT_EMPTY_PATH: the fd itself), or cut short
            base = cwd
            if dirfd_index is not None and dirfd_index < len(call.args):
                base = fd_path(call.args[dirfd_index]) or cwd
            path = posixpath.normpath(posixpath.join(base, name))
            if path.startswith("//"):
                path = "/" + path.lstrip("/")
            u = self.use(path)
            this = kind
            if kind == "open":
                flags = call.args[path_index + 1] if path_index + 1 < len(call.args) else ""
                if any(f in flags for f in _WRITE_FLAGS):
                    this = "write"
                if "O_DIRECTORY" in flags:
                    u.directory = True
            if call.ok:
                u.ok.add(this)
                if call.ret_path and call.ret_path.startswith("/"):
                    u.resolved = call.ret_path
            else:
                u.failed[call.errno or "?"] += 1


def _number(arg: str) -> int | None:
    try:
        return int(arg, 0)
    except ValueError:
        return None
