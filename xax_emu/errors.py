"""The error hierarchy: one base, each error keeping what went wrong."""
from __future__ import annotations


class XaxError(Exception):
    """Base of every error xax-emu reports to a user."""


class RuntimeNotBuilt(XaxError, FileNotFoundError):
    """The C runtime has not been built (the install builds it)."""


class SealError(XaxError, OSError):
    """The seccomp filter could not be built or the picoprocess could not be sealed."""


class ProtocolViolation(XaxError, ValueError):
    """A picoprocess sent something the protocol does not allow; it gets killed."""


class OriginError(XaxError, ValueError):
    """A URL is malformed or outside the picoprocess's origin (Same Origin Policy)."""

    def __init__(self, message: str, url: str = ""):
        super().__init__(message)
        self.url = url


class ProgramError(XaxError, ValueError):
    """The program given to `run` cannot be run (missing, not a static x86-64 ELF, ...)."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.path = path


class MountError(XaxError, ValueError):
    """A host directory cannot be granted as asked (run --mount, a manifest's [mounts]), or
    the RAM disk cannot be exported (run --export-ram); the message names the option or key."""


class BootError(XaxError, ValueError):
    """What the Monitor was asked to start cannot travel in the BOOT message (a limit
    out of a field's range, a NUL in a string, too many arguments)."""
