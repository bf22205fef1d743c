"""The manifest's [files] on the host -> nodes of the image tree.

A source is a file, a directory (taken recursively) or a glob (its matches go under
the image path, keeping their path relative to the glob's first directory without
wildcards; `**` matches any depth).  Relative sources are relative to the manifest.

A source that is itself a symlink is followed.  Inside a directory, a symlink whose
relative target stays inside that directory is kept as a symlink; any other symlink
is followed (its file or directory is copied in its place); a dangling one is an error.

[symlinks] entries become symlinks with their target as written, and `dirs` empty
directories, both before [files] (the ELF closure, added later, follows the symlinks: a
library found through /lib -> usr/lib goes under /usr/lib).

`exclude` patterns are matched (fnmatch, `*` also matches '/') against the image path
and, for patterns without '/', against each name; an excluded directory is left out
whole.  They apply to the manifest's files, not to the shared libraries ELF files need.
"""
from __future__ import annotations

import fnmatch
import glob
import os
import posixpath
import stat

from .errors import ManifestError
from .manifest import FileSpec, Manifest
from .tree import Node, Tree, TreeConflict

_MAGIC = set("*?[")


class _Expander:
    def __init__(self, manifest: Manifest, tree: Tree):
        self.manifest = manifest
        self.tree = tree
        self.file = str(manifest.path)

    def excluded(self, image_path: str) -> bool:
        name = posixpath.basename(image_path)
        for pattern in self.manifest.exclude:
            if fnmatch.fnmatchcase(image_path, pattern):
                return True
            if "/" not in pattern and fnmatch.fnmatchcase(name, pattern):
                return True
        return False

    def error(self, spec: FileSpec, message: str) -> ManifestError:
        return ManifestError(message, self.file, spec.key)

    def add(self, spec: FileSpec, image_path: str, node: Node) -> None:
        for text in (image_path, node.target or ""):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise self.error(spec, f"{text.encode('utf-8', 'backslashreplace').decode()}: names in an "
                                       "image must be UTF-8") from None
        try:
            self.tree.add(image_path, node)
        except TreeConflict as e:
            raise self.error(spec, f"image path {e}") from None

    def expand(self, spec: FileSpec) -> None:
        source = os.path.join(self.manifest.base_dir, os.path.expanduser(spec.source))
        if _MAGIC & set(spec.source):
            self.expand_glob(spec, source)
            return
        if not os.path.lexists(source):
            raise self.error(spec, f"no such file or directory: {source}")
        self.add_source(spec, spec.image_path, source, follow=True, ancestors=())

    def expand_glob(self, spec: FileSpec, pattern: str) -> None:
        parts = pattern.split("/")
        fixed = []
        for part in parts:
            if _MAGIC & set(part):
                break
            fixed.append(part)
        base = "/".join(fixed) or "/"
        matches = sorted(glob.glob(pattern, recursive=True))
        if not matches:
            raise self.error(spec, f"the glob {pattern} matches nothing")
        for match in matches:
            rel = os.path.relpath(match, base)
            if rel == ".":
                continue
            image_path = posixpath.normpath(posixpath.join(spec.image_path, rel))
            self.add_source(spec, image_path, match, follow=True, ancestors=())

    def add_source(self, spec: FileSpec, image_path: str, host: str, follow: bool, ancestors: tuple,
                   root: tuple[str, str] | None = None) -> None:
        """`root` (host directory, path of `host` relative to it) while walking a directory
        without following a symlink; None starts a new directory root."""
        if self.excluded(image_path):
            return
        try:
            st = os.stat(host) if follow else os.lstat(host)
        except FileNotFoundError:
            raise self.error(spec, f"{host} is a dangling symlink") from None
        except OSError as e:
            raise self.error(spec, f"{host}: {e.strerror}") from None
        if stat.S_ISREG(st.st_mode):
            mode = 0o755 if st.st_mode & 0o111 else 0o644
            self.add(spec, image_path, Node("file", spec.key, host=os.path.realpath(host), mode=mode,
                                           mtime=int(st.st_mtime), size=st.st_size))
        elif stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                raise self.error(spec, f"{host}: a symlink loop (a directory inside itself)")
            self.add(spec, image_path, Node("dir", spec.key))
            self.walk(spec, image_path, host, (*ancestors, key), root or (host, ""))
        else:
            raise self.error(spec, f"{host} is not a regular file, a directory or a symlink")

    def walk(self, spec: FileSpec, image_dir: str, host_dir: str, ancestors: tuple, root: tuple[str, str]) -> None:
        try:
            names = sorted(os.listdir(host_dir))
        except OSError as e:
            raise self.error(spec, f"{host_dir}: {e.strerror}") from None
        root_host, rel_dir = root
        for name in names:
            host = os.path.join(host_dir, name)
            image_path = posixpath.join(image_dir, name)
            if self.excluded(image_path):
                continue
            if os.path.islink(host):
                target = os.readlink(host)
                if _stays_inside(root_host, rel_dir, host, target):
                    self.add(spec, image_path, Node("symlink", spec.key, target=target, mode=0o777))
                else:
                    self.add_source(spec, image_path, host, follow=True, ancestors=ancestors)
            else:
                self.add_source(spec, image_path, host, follow=False, ancestors=ancestors,
                                root=(root_host, posixpath.join(rel_dir, name)))


def _stays_inside(root_host: str, rel_dir: str, link: str, target: str) -> bool:
    """Is `target`, relative, inside the directory being taken, and does it lead where the
    host's link leads (so that the image may keep the symlink)?"""
    if not target or target.startswith("/"):
        return False
    inside = posixpath.normpath(posixpath.join(rel_dir or ".", target))
    if inside == ".." or inside.startswith("../"):
        return False
    if not os.path.exists(link):
        return True  # dangling on the host, and inside the image: kept as it is
    return os.path.realpath(link) == os.path.realpath(os.path.join(root_host, inside))


def expand(manifest: Manifest, tree: Tree) -> None:
    """Add the manifest's symlinks, empty directories and every [files] source to the tree
    (not the ELF dependencies)."""
    ex = _Expander(manifest, tree)
    for spec in manifest.symlinks:
        ex.add(spec, spec.image_path, Node("symlink", spec.key, target=spec.source, mode=0o777))
    for i, path in enumerate(manifest.dirs):
        ex.add(FileSpec(path, "", f"dirs[{i}]"), path, Node("dir", f"dirs[{i}]"))
    for spec in manifest.files:
        ex.expand(spec)
