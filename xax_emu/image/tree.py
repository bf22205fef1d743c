"""The planned contents of an image, by absolute image path: files (with their host
source), symlinks (with their target) and directories."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass

from .format import GENERATED_MTIME
from .paths import NotADir, PathEscape, PathLoop, resolve


class TreeConflict(ValueError):
    """Two sources want the same image path, or a file is used as a directory."""


@dataclass
class Node:
    kind: str  # "file" | "dir" | "symlink"
    origin: str  # why it is in the image: a manifest key, or "needed by /usr/bin/x"
    host: str | None = None  # file: where its bytes come from
    target: str | None = None  # symlink: the target, as the host has it
    mode: int = 0o755
    mtime: int = GENERATED_MTIME
    size: int = 0


class Tree:
    def __init__(self):
        self.nodes: dict[str, Node] = {"/": Node("dir", "the image root")}

    def get(self, path: str) -> Node | None:
        return self.nodes.get(path)

    def kind_of(self, path: str):
        node = self.nodes.get(path)
        return None if node is None else (node.kind, node.target)

    def resolve(self, path: str, follow_last: bool = True) -> str | None:
        """Where `path` leads inside the image (following the image's symlinks), or None
        if it escapes the root, loops, or runs through a file."""
        try:
            return resolve(path, self.kind_of, follow_last)
        except (PathEscape, PathLoop, NotADir):
            return None

    def add(self, path: str, node: Node) -> None:
        assert path.startswith("/") and posixpath.normpath(path) == path, path
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            parent = "/" + "/".join(parts[:i])
            have = self.nodes.get(parent)
            if have is None:
                self.nodes[parent] = Node("dir", node.origin)
            elif have.kind != "dir":
                raise TreeConflict(f"{path}: {parent} is a {have.kind} (from {have.origin}), not a directory")
        have = self.nodes.get(path)
        if have is not None:
            if have.kind == "dir" and node.kind == "dir":
                return
            what = "a directory" if have.kind == "dir" else f"a {have.kind}"
            raise TreeConflict(f"{path}: already {what} from {have.origin}")
        self.nodes[path] = node

    def sorted_paths(self) -> list[str]:
        return sorted(p for p in self.nodes if p != "/")
