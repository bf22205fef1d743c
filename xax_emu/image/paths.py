"""Path resolution inside an image: symlinks are followed inside the image (absolute
targets start at the image root), never on the host; '..' above the root escapes."""
from __future__ import annotations

from collections import deque
from typing import Callable

from .format import LINK_DEPTH_MAX

STEPS_MAX = 1 << 16  # components looked at while resolving one path: bounded work on any image

# kind_of(path) -> ("file" | "dir" | "symlink" | "other", symlink target or None), or None if absent
KindOf = Callable[[str], "tuple[str, str | None] | None"]


class PathEscape(ValueError):
    """The path leaves the image root."""


class PathLoop(ValueError):
    """Too many symlinks."""


class NotADir(ValueError):
    """A component used as a directory is a file."""


def resolve(path: str, kind_of: KindOf, follow_last: bool = True) -> str:
    """The absolute, normalized image path `path` leads to (it may not exist).

    `path` is absolute (or relative to the root).  Components past one that does not
    exist are taken lexically."""
    stack: list[str] = []
    todo = deque(path.split("/"))
    links = steps = 0
    while todo:
        steps += 1
        if steps > STEPS_MAX:
            raise PathLoop(path)
        c = todo.popleft()
        if c in ("", "."):
            continue
        if c == "..":
            if not stack:
                raise PathEscape(path)
            stack.pop()
            continue
        here = "/" + "/".join((*stack, c))
        kind = kind_of(here)
        if kind is not None and kind[0] == "symlink" and (follow_last or any(t not in ("", ".") for t in todo)):
            links += 1
            if links > LINK_DEPTH_MAX:
                raise PathLoop(path)
            target = kind[1] or ""
            if target.startswith("/"):
                stack = []
            todo.extendleft(reversed(target.split("/")))
            continue
        if kind is not None and kind[0] not in ("dir", "symlink") and any(t not in ("", ".") for t in todo):
            raise NotADir(here)
        stack.append(c)
    return "/" + "/".join(stack)
