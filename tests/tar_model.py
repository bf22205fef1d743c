"""A reference model of the VFS's tar routes, in Python, built from the image with tarfile.

It answers the same operations as tests/vfs_support.vfs_op, following Linux's rules for a
read-only filesystem (path walk, symlinks, permissions of a virtual user who owns every file,
errno order) — written from those rules, not from the C.  Namespace: one tar route at
`prefix` showing `subdir` of the image, and the read-only skeleton directories leading to it.
"""
from __future__ import annotations

import errno
import io
import os
import stat as S
import tarfile

E = errno


class Err(Exception):
    def __init__(self, code: int):
        self.code = code


class Node:
    def __init__(self, kind: str, mode: int, route: str, name: str = "", parent: "Node | None" = None):
        self.kind, self.mode, self.route, self.name = kind, mode, route, name
        self.parent = parent or self
        self.children: dict[str, Node] = {}
        self.data = b""
        self.target = b""
        self.mount: Node | None = None  # skeleton: the tar root mounted here

    @property
    def fmt(self) -> int:
        return {"dir": S.S_IFDIR, "file": S.S_IFREG, "link": S.S_IFLNK}[self.kind]


def _norm(name: str) -> list[str]:
    comps = [c for c in name.split("/") if c not in ("", ".")]
    assert ".." not in comps and not name.startswith("/")
    return comps


class TarModel:
    def __init__(self, image: bytes, prefix: str = "/", subdir: str = "", uid: int = 1000, gid: int = 1000):
        self.uid, self.gid = uid, gid
        top = Node("dir", 0o755, "tar")
        with tarfile.open(fileobj=io.BytesIO(image)) as tf:
            for m in tf.getmembers():
                comps = _norm(m.name)
                d = top
                for c in comps[:-1]:
                    d = d.children.setdefault(c, Node("dir", 0o755, "tar", c, d))
                if not comps:
                    top.mode = m.mode & 0o7777
                    continue
                if m.isdir():
                    n = d.children.setdefault(comps[-1], Node("dir", 0o755, "tar", comps[-1], d))
                    n.mode = m.mode & 0o7777
                    continue
                if m.issym():
                    n = Node("link", 0o777, "tar", comps[-1], d)
                    n.target = m.linkname.encode()
                else:
                    assert m.isreg(), m
                    n = Node("file", m.mode & 0o7777, "tar", comps[-1], d)
                    n.data = tf.extractfile(m).read()
                d.children[comps[-1]] = n
        root = top
        for c in _norm(subdir):
            root = root.children[c]
        root.parent = root
        self.troot = root
        self.skel = Node("dir", 0o555, "skel")
        s = self.skel
        for c in _norm(prefix.lstrip("/")):
            s = s.children.setdefault(c, Node("dir", 0o555, "skel", c, s))
        s.mount = root
        self.mountpoint = s
        self.cwd = self.root()
        self.fds: dict[int, dict] = {}

    # -- the namespace -----------------------------------------------------------------
    def root(self) -> Node:
        return self.skel.mount or self.skel

    def perm(self, n: Node, mask: int) -> None:
        """mask: 4 read, 2 write, 1 search/execute"""
        if mask & 2 and n.kind in ("file", "dir", "link"):
            raise Err(E.EROFS)  # every route of this model is read-only
        if self.uid == 0:
            if mask & 1 and n.kind != "dir" and not n.mode & 0o111:
                raise Err(E.EACCES)
            return
        if mask & ~(n.mode >> 6) & 7:
            raise Err(E.EACCES)

    def entry(self, d: Node, name: str) -> Node | None:
        if len(name.encode()) > 255:
            raise Err(E.ENAMETOOLONG)
        if d.route == "skel":
            c = d.children.get(name)
            return (c.mount or c) if c else None
        return d.children.get(name)

    def dotdot(self, n: Node, confined: bool) -> Node:
        if n.route == "tar" and n is not self.troot:
            return n.parent
        if n is self.troot:
            if confined:
                return n  # a symlink's target stays inside the image
            n = self.mountpoint
        if n is self.skel:
            return self.root()
        p = n.parent
        return p.mount or p

    def walk(self, path, *, follow: bool = True, mode: str = "lookup", start: Node | None = None):
        """lookup: the node; parent: (dir, name, type, slash); create: the node or (dir, name)."""
        if path is None:
            raise Err(E.EFAULT)
        raw = os.fsencode(path)
        if len(raw) >= 4096:
            raise Err(E.ENAMETOOLONG)
        if not raw:
            raise Err(E.ENOENT)
        path = raw.decode()
        cur = self.root() if path.startswith("/") else (start or self.cwd)
        if not path.startswith("/") and cur.kind != "dir":
            raise Err(E.ENOTDIR)
        comps = [(c, False) for c in path.split("/") if c]
        slash = bool(comps) and path.endswith("/")
        last_type = "root" if path.startswith("/") else "dot"
        links = 0
        while comps:
            name, confined = comps.pop(0)
            last = not comps
            if cur.kind != "dir":
                raise Err(E.ENOTDIR)
            self.perm(cur, 1)
            ctype = {".": "dot", "..": "dotdot"}.get(name, "norm")
            if last and mode == "parent":
                return cur, name, ctype, slash
            if ctype == "dot":
                last_type = "dot"
                continue
            if ctype == "dotdot":
                last_type = "dotdot"
                cur = self.dotdot(cur, confined)
                continue
            last_type = "norm"
            if last and mode == "create" and slash:
                raise Err(E.EISDIR)
            child = self.entry(cur, name)
            if child is None:
                if last and mode == "create":
                    return cur, name
                raise Err(E.ENOENT)
            if child.kind == "link" and (not last or follow or slash):
                links += 1
                if links > 40:
                    raise Err(E.ELOOP)
                t = child.target.decode()
                if t.startswith("/"):
                    cur = self.troot
                    last_type = "root"
                if last and t.endswith("/"):
                    slash = True
                comps = [(c, True) for c in t.split("/") if c] + comps
                continue
            cur = child
        if mode == "parent":
            return cur, None, last_type, slash
        if slash and cur.kind != "dir":
            raise Err(E.ENOTDIR)
        return cur

    def path_of(self, n: Node) -> str:
        parts = []
        while True:
            if n is self.troot:
                n = self.mountpoint
            if n is self.skel:
                break
            parts.append(n.name)
            n = n.parent
        return "/" + "/".join(reversed(parts))

    def stat_of(self, n: Node) -> tuple:
        if n.kind == "dir":
            kids = n.children.values()
            if n.route == "skel":
                kids = [c.mount or c for c in kids]
            size, nlink = 40 + 20 * len(n.children), 2 + sum(1 for c in kids if c.kind == "dir")
        elif n.kind == "file":
            size, nlink = len(n.data), 1
        else:
            size, nlink = len(n.target), 1
        return ("stat", n.fmt | n.mode, size, nlink, self.uid, self.gid)

    def fd(self, fd: int, *, path_ok: bool = False) -> dict:
        f = self.fds.get(fd)
        if f is None or (f["path"] and not path_ok):
            raise Err(E.EBADF)
        return f

    def _at(self, path, flags: int, *, follow_flag: int = 0x100):
        if flags & 0x1000 and path == "":
            return self.cwd
        return self.walk(path, follow=not flags & follow_flag)

    # -- operations -----------------------------------------------------------------------
    def op(self, op: tuple):
        try:
            return getattr(self, "op_" + op[0])(*op[1:])
        except Err as e:
            return -e.code

    def op_open(self, path, flags, mode):
        if flags & os.O_PATH:
            flags &= os.O_DIRECTORY | os.O_NOFOLLOW | os.O_PATH | os.O_CLOEXEC
        if flags & os.O_CREAT and flags & os.O_DIRECTORY:
            raise Err(E.EINVAL)
        if path == "":
            raise Err(E.ENOENT)
        fd = min(set(range(len(self.fds) + 1)) - set(self.fds))
        if flags & os.O_PATH:
            n = self.walk(path, follow=not flags & os.O_NOFOLLOW)
            if flags & os.O_DIRECTORY and n.kind != "dir":
                raise Err(E.ENOTDIR)
            self.fds[fd] = {"node": n, "path": True, "r": False, "w": False, "pos": 0}
            return fd
        accm = flags & 3
        acc = {0: 4, 1: 2, 2: 6, 3: 6}[accm] | (2 if flags & os.O_TRUNC else 0)
        creat, excl = flags & os.O_CREAT, flags & os.O_EXCL
        follow = not (flags & os.O_NOFOLLOW or (creat and excl))
        got = self.walk(path, follow=follow, mode="create" if creat else "lookup")
        if isinstance(got, tuple):
            raise Err(E.EROFS)  # creating: the routes are read-only
        n = got
        if creat:
            if excl:
                raise Err(E.EEXIST)
            if n.kind == "dir":
                raise Err(E.EISDIR)
        if flags & os.O_DIRECTORY and n.kind != "dir":
            raise Err(E.ENOTDIR)
        if n.kind == "file" and flags & os.O_TRUNC:
            raise Err(E.EROFS)
        if n.kind == "link":
            raise Err(E.ELOOP)
        if n.kind == "dir" and acc & 2:
            raise Err(E.EISDIR)
        self.perm(n, acc)
        self.fds[fd] = {"node": n, "path": False, "r": accm in (0, 2), "w": accm in (1, 2), "pos": 0}
        return fd

    def op_close(self, fd):
        self.fd(fd, path_ok=True)
        del self.fds[fd]
        return 0

    def op_read(self, fd, n):
        f = self.fd(fd)
        if not f["r"]:
            raise Err(E.EBADF)
        node = f["node"]
        if node.kind == "dir":
            raise Err(E.EISDIR)
        out = node.data[f["pos"]:f["pos"] + n]
        f["pos"] += len(out)
        return out

    def op_write(self, fd, data):
        f = self.fd(fd)
        raise Err(E.EBADF if not f["w"] else E.EROFS)

    def op_ftruncate(self, fd, length):
        if length < 0:
            raise Err(E.EINVAL)
        self.fd(fd)
        raise Err(E.EINVAL)  # nothing on a read-only route is open for writing

    def op_fstat(self, fd):
        return self.stat_of(self.fd(fd, path_ok=True)["node"])

    def op_stat(self, path, flags):
        if flags & ~(0x100 | 0x800 | 0x1000):
            raise Err(E.EINVAL)
        return self.stat_of(self._at(path, flags))

    def op_getdents(self, fd, size):
        f = self.fd(fd)
        n = f["node"]
        if n.kind != "dir":
            raise Err(E.ENOTDIR)
        if f["pos"]:
            return []
        f["pos"] = 1
        out = [(b".", 4), (b"..", 4)]
        for name, c in n.children.items():
            c = c.mount or c if n.route == "skel" else c
            out.append((name.encode(), {"dir": 4, "file": 8, "link": 10}[c.kind]))
        return sorted(out)

    def op_readlink(self, path):
        n = self.walk(path, follow=False)
        if n.kind != "link":
            raise Err(E.EINVAL)
        return n.target[:256]

    def op_access(self, path, mode, flags):
        if mode & ~7 or flags & ~(0x100 | 0x200 | 0x1000):
            raise Err(E.EINVAL)
        n = self._at(path, flags)
        if mode:
            self.perm(n, mode)
        return 0

    def op_chdir(self, path):
        n = self.walk(path)
        if n.kind != "dir":
            raise Err(E.ENOTDIR)
        self.perm(n, 1)
        self.cwd = n
        return 0

    def op_getcwd(self, size=4096):
        p = self.path_of(self.cwd).encode()
        if len(p) + 1 > size:
            raise Err(E.ERANGE)
        return p

    def op_mkdir(self, path, mode):
        d, name, ctype, slash = self.walk(path, mode="parent")
        if ctype != "norm":
            raise Err(E.EEXIST)
        if self.entry(d, name) is not None:
            raise Err(E.EEXIST)
        raise Err(E.EROFS)

    def op_unlink(self, path, flags):
        if flags & ~0x200:
            raise Err(E.EINVAL)
        d, name, ctype, slash = self.walk(path, mode="parent")
        if flags:
            if ctype == "dotdot":
                raise Err(E.ENOTEMPTY)
            if ctype == "dot":
                raise Err(E.EINVAL)
            if ctype == "root":
                raise Err(E.EBUSY)
        elif ctype != "norm":
            raise Err(E.EISDIR)
        raise Err(E.EROFS)

    def op_rename(self, old, new, flags):
        if flags & ~7 or (flags & 5 and flags & 2):
            raise Err(E.EINVAL)
        if flags & 4 and self.uid != 0:
            raise Err(E.EPERM)
        od, _, otype, _ = self.walk(old, mode="parent")
        nd, _, ntype, _ = self.walk(new, mode="parent")
        if od.route != nd.route:
            raise Err(E.EXDEV)
        if otype != "norm":
            raise Err(E.EBUSY)
        if ntype != "norm":
            raise Err(E.EEXIST if flags & 1 else E.EBUSY)
        raise Err(E.EROFS)
