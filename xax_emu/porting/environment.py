"""The program's environment: the native one minus the host's own.

getenv is not a system call, so what a program reads cannot be traced; `init` gives the
image the environment the native runs had, less what describes the host, the user's
session or the tools around the run rather than the program -- and runs the program
natively with that same environment, so that native and sealed runs see the same.

What is the host's own, and why (HOST_NAMES, HOST_PREFIXES), plus any variable whose
value names a path in the user's home or the host's temporary directories (neither is
in the image).  PATH keeps only its directories outside the home.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

HOST_NAMES: dict[str, str] = {
    "HOME": "the user's home is not in the image",
    "USER": "the host's user (the picoprocess runs as a virtual user)",
    "LOGNAME": "the host's user (the picoprocess runs as a virtual user)",
    "MAIL": "the host user's mailbox",
    "SHELL": "the host user's shell (no other program runs in a picoprocess)",
    "HOSTNAME": "the host's name (uname gives the picoprocess's own)",
    "PWD": "the host's working directory (the image has its own cwd)",
    "OLDPWD": "the host shell's previous directory",
    "SHLVL": "the host shell's nesting",
    "_": "the host shell's last command",
    "TERM": "the host's terminal (a picoprocess's stdio is never a terminal)",
    "COLORTERM": "the host's terminal",
    "COLUMNS": "the host's terminal size",
    "LINES": "the host's terminal size",
    "LS_COLORS": "the host's terminal colours",
    "DISPLAY": "the host's X display",
    "WAYLAND_DISPLAY": "the host's display",
    "XAUTHORITY": "the host's X credentials",
    "DBUS_SESSION_BUS_ADDRESS": "the host's session bus",
    "TMPDIR": "the host's temporary directory (the image's /tmp is a RAM disk)",
    "TMP": "the host's temporary directory (the image's /tmp is a RAM disk)",
    "TEMP": "the host's temporary directory (the image's /tmp is a RAM disk)",
    "TMUX": "the host's terminal multiplexer",
    "TMUX_PANE": "the host's terminal multiplexer",
    "STY": "the host's terminal multiplexer",
    "WINDOW": "the host's terminal multiplexer",
    "EDITOR": "the host user's tools",
    "VISUAL": "the host user's tools",
    "PAGER": "the host user's tools",
    "LESS": "the host user's tools",
    "LESSOPEN": "the host user's tools",
    "LESSCLOSE": "the host user's tools",
    "MAKEFLAGS": "a parent make's (the run's caller), not the program's",
    "MFLAGS": "a parent make's (the run's caller), not the program's",
    "MAKELEVEL": "a parent make's (the run's caller), not the program's",
    "VIRTUAL_ENV": "the caller's Python environment",
    "CI": "the caller's continuous integration",
    "DEBIAN_FRONTEND": "the host's package manager",
}
HOST_PREFIXES: dict[str, str] = {
    "SSH_": "the host's remote session",
    "XDG_": "the host user's desktop session and directories",
    "GPG_": "the host user's agent",
    "PYTEST_": "the test runner around the run",
    "PYTHON": "the caller's Python",
    "PIP_": "the host's Python package tools",
    "PYENV_": "the host's Python installations",
    "GITHUB_": "the caller's continuous integration",
    "RUNNER_": "the caller's continuous integration",
}


@dataclass
class Environment:
    kept: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)  # name -> why


def split_environment(native: dict[str, str], home: str | None = None,
                      temp_dirs: tuple[str, ...] = ("/tmp", "/var/tmp")) -> Environment:
    home = os.path.normpath(home or os.path.expanduser("~"))
    env = Environment()
    for name in sorted(native):
        value = native[name]
        why = HOST_NAMES.get(name) or next((why for p, why in HOST_PREFIXES.items() if name.startswith(p)), None)
        if why is None and name == "PATH":
            kept = [d for d in value.split(":") if d and not _under(d, home)]
            if kept != value.split(":"):
                env.dropped["PATH"] = "its directories in the user's home"
            value = ":".join(kept)
        elif why is None:
            places = [p for p in value.split(":") if p.startswith("/")]
            if any(_under(p, home) for p in places):
                why = "names a path in the user's home, which is not in the image"
            elif any(_under(p, t) for p in places for t in temp_dirs):
                why = "names a path in the host's temporary directory (the image's /tmp is a RAM disk)"
        if why is None:
            env.kept[name] = value
        else:
            env.dropped[name] = why
    return env


def _under(path: str, top: str) -> bool:
    path = os.path.normpath(path)
    return top != "/" and (path == top or path.startswith(top.rstrip("/") + "/"))


UNUSED = "names a host path the runs never used"


def drop_unused_paths(env: Environment, used: set[str]) -> None:
    """Leave out the variables whose value is a host path (or a list of them) the runs never
    used: they describe the host (a certificate bundle for tools the program is not), and the
    image would not have what they name.  `used`: the paths the runs touched."""
    for name, value in list(env.kept.items()):
        if name == "PATH":
            continue
        places = [p for p in value.split(":") if p]
        if places and all(p.startswith("/") for p in places) and not any(
                _under(u, os.path.normpath(p)) for p in places for u in used):
            del env.kept[name]
            env.dropped[name] = UNUSED
