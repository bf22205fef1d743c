"""The errors of images: a bad manifest, a missing shared library, a bad image.

All are XaxError (the CLI prints them as one line) and ValueError."""
from __future__ import annotations

from ..errors import XaxError


class ManifestError(XaxError, ValueError):
    """The manifest is wrong: the message names the file and the key."""

    def __init__(self, message: str, file: str = "", key: str = ""):
        where = f"{file}: " if file else ""
        where += f"{key}: " if key else ""
        super().__init__(where + message)
        self.file = file
        self.key = key


class DependencyError(XaxError, ValueError):
    """An ELF file needs a shared library (or interpreter) that cannot be found."""

    def __init__(self, message: str, elf: str = "", needed: str = ""):
        super().__init__(message)
        self.elf = elf
        self.needed = needed


class ImageError(XaxError, ValueError):
    """An image is refused: one line naming the member (when there is one) and the problem;
    `rule` names the rule of the image format it breaks (format.RULES; docs/image-format.md)."""

    def __init__(self, message: str, member: str = "", rule: str = ""):
        text = f"{member!r}: {message}" if member else message
        # one line, whatever the member's name or the problem contains
        super().__init__(text.replace("\n", "\\n").replace("\r", "\\r"))
        self.member = member
        self.rule = rule
