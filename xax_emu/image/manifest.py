"""The manifest: an app's image declared in TOML.

    exclude = ["*.pyc", "__pycache__"]    # optional, before the tables: image paths left out
    dirs = ["/usr/lib/X11"]               # optional, before the tables: empty directories to make

    [app]
    name = "lua"
    entry = "/usr/bin/lua5.4"      # the program, as a path inside the image
    argv0 = "lua"                  # optional: argv[0] as the program sees it (default: entry)
    args = []                      # argv[1:] placed before the user's own arguments
    env = { LC_ALL = "C" }
    cwd = "/"
    profile = "static-libc"        # a shipped profile by name, or "file.py:NAME" beside the manifest

    [files]                        # image path = host source: a file, a directory (recursive) or a glob
    "/usr/bin/lua5.4" = "/usr/bin/lua5.4"

    [symlinks]                     # image path = target, kept as a symlink (resolved inside the image)
    "/usr/bin/lua" = "/etc/alternatives/lua-interpreter"

    [limits]                       # all optional, in limits.py's ranges; the command line's win
    memory = "256M"
    cpu_seconds = 10
    wall_seconds = 30
    download = "64M"
    threads = 8                    # threads at once, the first included; 1: none may start
    processes = 4                  # processes of the family at once, the entry included; 1: no fork

    [mounts]                       # optional: where the app expects host directories the user
    "/input" = "ro"                # grants at run time (run --mount ~/docs:/input), and whether
    "/output" = "rw"               # it may change them (image/mounts.py has the rules)

    [http]                         # optional: how `serve` puts the program behind a page
    interface = "stdio"            # or "websocket" (docs/serve.md; the rules: http.py)
    pages = "/www"
    args = ["-dFirstPage={page}"]
    [http.params.page]
    pattern = "[1-9][0-9]{0,3}"
    default = "1"

Unknown keys and wrong types are errors naming the file and the key.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..hostfile import read_regular
from .errors import ManifestError
from ..limits import RANGES, LimitError, check, check_image_strings, parse_size
from .format import NAME_MAX, PATH_MAX, RESERVED, split_image_path
from . import http as httpspec

DEFAULT_PROFILE = "static-libc"
MANIFEST_MAX = 16 << 20  # bytes of TOML


@dataclass(frozen=True)
class FileSpec:
    image_path: str  # normalized, absolute
    source: str  # as the manifest gives it
    key: str  # the key in the manifest, for messages: files."/usr/bin/x"


@dataclass(frozen=True)
class Limits:
    memory: int | None = None
    cpu_seconds: int | None = None
    wall_seconds: float | None = None
    download: int | None = None
    threads: int | None = None
    processes: int | None = None

    def as_dict(self) -> dict:
        return {"memory": self.memory, "cpu_seconds": self.cpu_seconds, "wall_seconds": self.wall_seconds,
                "download": self.download, "threads": self.threads,
                "processes": self.processes}


@dataclass(frozen=True)
class Manifest:
    path: Path
    name: str
    entry: str
    argv0: str | None = None  # None: the entry's path
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str = "/"
    profile: str = DEFAULT_PROFILE
    files: tuple[FileSpec, ...] = ()
    exclude: tuple[str, ...] = ()
    symlinks: tuple[FileSpec, ...] = ()  # image path, its target (in .source), key
    dirs: tuple[str, ...] = ()
    limits: Limits = Limits()
    http: dict | None = None  # the [http] table in the metadata form (http.py), defaults filled in
    mounts: dict[str, str] = field(default_factory=dict)  # [mounts]: guest path -> "ro" | "rw"

    @property
    def base_dir(self) -> Path:
        return self.path.parent


class _Reader:
    def __init__(self, path: Path):
        self.file = str(path)

    def error(self, key: str, message: str) -> ManifestError:
        return ManifestError(message, self.file, key)

    def table(self, data: dict, name: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise self.error(name, f"must be a table, not {_kind(value)}")
        for key in value:
            if key not in allowed:
                raise self.error(f"{name}.{_key(key)}",
                                 f"unknown key (known: {', '.join(sorted(allowed))})")
        for key in sorted(required):
            if key not in value:
                raise self.error(f"{name}.{key}", "missing")
        return value

    def string(self, key: str, value) -> str:
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, not {_kind(value)}")
        if "\0" in value:
            raise self.error(key, "must not contain NUL")
        return value

    def absolute(self, key: str, value) -> str:
        text = self.string(key, value)
        parts = split_image_path(text)
        if parts is None:
            raise self.error(key, f"{text!r} must be an absolute path inside the image, without '..'")
        for part in parts:
            if len(part.encode()) > NAME_MAX:
                raise self.error(key, f"a component of {text!r} is over {NAME_MAX} bytes")
        path = "/" + "/".join(parts)
        if len(path.encode()) > PATH_MAX:
            raise self.error(key, f"{text!r} is over {PATH_MAX} bytes")
        return path

    def strings(self, key: str, value) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.error(key, f"must be an array of strings, not {_kind(value)}")
        return tuple(self.string(f"{key}[{i}]", v) for i, v in enumerate(value))

    def size(self, key: str, value) -> int:
        """A size that is not one of [limits] ([http]'s): "256M" or a number of bytes, more than 0."""
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise self.error(key, f"must be a size like 256M or a number of bytes, not {_kind(value)}")
        if isinstance(value, str):
            try:
                value = parse_size(value)
            except LimitError as e:
                raise self.error(key, str(e)) from None
        if value <= 0:
            raise self.error(key, "must be more than 0")
        return value

    def count(self, key: str, value, most: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be an integer, not {_kind(value)}")
        if not 1 <= value <= most:
            raise self.error(key, f"must be from 1 to {most}")
        return value

    def limit(self, key: str, value) -> int | float:
        """limits.NAME: a size ("256M" or a number of bytes) or a number, in the range limits.py gives."""
        name = key.partition(".")[2]
        try:
            if RANGES[name].kind == "size" and isinstance(value, str):
                return check(name, parse_size(value), value)
            return check(name, value)
        except LimitError as e:
            raise self.error(key, str(e)) from None


def _kind(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
            dict: "a table"}.get(type(value), type(value).__name__)


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else f'"{key}"'


def load_manifest(path: str | Path) -> Manifest:
    path = Path(path).absolute()
    r = _Reader(path)
    try:
        data = tomllib.loads(read_regular(path, MANIFEST_MAX).decode("utf-8"))
    except FileNotFoundError:
        raise ManifestError("no such manifest", str(path)) from None
    except OSError as e:
        raise ManifestError(f"cannot read the manifest: {e.strerror or e}", str(path)) from None
    except tomllib.TOMLDecodeError as e:  # before ValueError, its base
        raise ManifestError(f"not valid TOML: {e}", str(path)) from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise ManifestError("not valid TOML: nested too deeply", str(path)) from None
    except (UnicodeDecodeError, ValueError) as e:  # ValueError: a NUL in the name
        raise ManifestError(f"cannot read the manifest: {e}", str(path)) from None

    for key in data:
        if key not in _TOP_KEYS:
            raise r.error(_key(key), f"unknown key (known: {', '.join(_TOP_KEYS)})")

    app = r.table(data, "app", {"name", "entry", "argv0", "args", "env", "cwd", "profile"}, {"name", "entry"})
    name = r.string("app.name", app["name"])
    if not name or len(name) > 128 or any(ord(c) < 32 or c in "/\x7f" for c in name):
        raise r.error("app.name", f"{name!r} must be 1 to 128 printable characters, without '/'")
    entry = r.absolute("app.entry", app["entry"])
    args = r.strings("app.args", app.get("args", []))
    argv0 = r.string("app.argv0", app["argv0"]) if "argv0" in app else None
    if argv0 == "":
        raise r.error("app.argv0", "must not be empty (leave it out for the entry's path)")
    env_value = app.get("env", {})
    if not isinstance(env_value, dict):
        raise r.error("app.env", f"must be a table of strings, not {_kind(env_value)}")
    env = {}
    for k, v in env_value.items():
        if not k or "=" in k or "\0" in k:
            raise r.error(f"app.env.{_key(k)}", "an environment variable's name must be non-empty, without '=' or NUL")
        env[k] = r.string(f"app.env.{_key(k)}", v)
    cwd = r.absolute("app.cwd", app.get("cwd", "/"))
    try:  # they travel in the BOOT message, with the user's arguments
        check_image_strings(entry, args, env, cwd)
    except LimitError as e:
        raise ManifestError(str(e), r.file) from None
    profile = r.string("app.profile", app.get("profile", DEFAULT_PROFILE))
    if not profile:
        raise r.error("app.profile", "must name a shipped profile or FILE.py:NAME")

    files_table = data.get("files", {})
    if not isinstance(files_table, dict):
        raise r.error("files", f"must be a table, not {_kind(files_table)}")
    files, seen = [], {}
    for raw, source in files_table.items():
        key = f"files.{_key(raw)}"
        if raw == "exclude":
            raise r.error(key, "image paths are absolute; to leave files out, put exclude = [...] "
                               "at the top of the manifest, before the tables")
        image_path = r.absolute(key, raw)
        if image_path == "/" + RESERVED or image_path.startswith("/" + RESERVED + "/"):
            raise r.error(key, f"/{RESERVED} is the image's own directory")
        source = r.string(key, source)
        if not source:
            raise r.error(key, "the host source must not be empty")
        if image_path in seen:
            raise r.error(key, f"names the same image path {image_path!r} as {seen[image_path]}")
        seen[image_path] = key
        files.append(FileSpec(image_path, source, key))

    symlinks = _symlinks(r, data, seen)
    dirs = tuple(r.absolute(f"dirs[{i}]", d) for i, d in enumerate(r.strings("dirs", data.get("dirs", []))))
    exclude = r.strings("exclude", data.get("exclude", []))
    for i, pattern in enumerate(exclude):
        if not pattern:
            raise r.error(f"exclude[{i}]", "an empty pattern")

    lim = r.table(data, "limits", set(RANGES))
    limits = Limits(**{k: r.limit(f"limits.{k}", v) for k, v in lim.items()})
    http = _http(r, data) if "http" in data else None
    mounts = _mounts(r, data.get("mounts", {}))
    return Manifest(path=path, name=name, entry=entry, argv0=argv0, args=args, env=env, cwd=cwd, profile=profile,
                    files=tuple(files), exclude=exclude, symlinks=symlinks, dirs=dirs, limits=limits, http=http,
                    mounts=mounts)


_TOP_KEYS = ("app", "files", "symlinks", "limits", "exclude", "dirs", "http", "mounts")


def _symlinks(r: _Reader, data: dict, seen: dict) -> tuple[FileSpec, ...]:
    """[symlinks]: image path = target (relative to the link's directory, or absolute: from the
    image's root); the image's own validation refuses a target that leaves the image."""
    table = data.get("symlinks", {})
    if not isinstance(table, dict):
        raise r.error("symlinks", f"must be a table, not {_kind(table)}")
    out = []
    for raw, target in table.items():
        key = f"symlinks.{_key(raw)}"
        image_path = r.absolute(key, raw)
        if image_path == "/":
            raise r.error(key, "the image's root cannot be a symlink")
        if image_path == "/" + RESERVED or image_path.startswith("/" + RESERVED + "/"):
            raise r.error(key, f"/{RESERVED} is the image's own directory")
        target = r.string(key, target)
        if not target or len(target.encode()) > PATH_MAX:
            raise r.error(key, f"the target must be 1 to {PATH_MAX} bytes")
        if image_path in seen:
            raise r.error(key, f"names the same image path {image_path!r} as {seen[image_path]}")
        seen[image_path] = key
        out.append(FileSpec(image_path, target, key))
    return tuple(out)


def _mounts(r: _Reader, table) -> dict[str, str]:
    """[mounts], checked alone (pack checks it against the image and the profile's routes)."""
    from .mounts import MountPointError, check_points
    try:
        return check_points(table, None, ())
    except MountPointError as e:
        raise r.error(f"mounts.{_key(e.point)}" if e.point else "mounts", e.message) from None


def _http(r: _Reader, data: dict) -> dict:
    """The [http] table -> its metadata form, defaults filled in; the types are checked
    here, the rules (templates, patterns, defaults, endpoints) by http.check_http."""
    table = r.table(data, "http", httpspec.MANIFEST_KEYS, {"interface"})
    interface = r.string("http.interface", table["interface"])
    if interface not in httpspec.INTERFACES:
        raise r.error("http.interface", f"{interface!r} is not " + " or ".join(map(repr, httpspec.INTERFACES)))
    for key in table:
        if key not in httpspec.COMMON_KEYS and key not in httpspec.INTERFACE_KEYS[interface]:
            raise r.error(f"http.{key}", f"does not apply to interface = {interface!r}")
    http = {
        "interface": interface,
        "pages": r.absolute("http.pages", table["pages"]) if "pages" in table else None,
        "endpoint": r.string("http.endpoint", table.get("endpoint", httpspec.DEFAULT_ENDPOINT[interface])),
        "args": list(r.strings("http.args", table.get("args", []))),
        "params": {},
    }
    if interface == "stdio":
        http["content_type"] = r.string("http.content_type",
                                        table.get("content_type", httpspec.DEFAULT_CONTENT_TYPE))
        http["max_body"] = r.size("http.max_body", table.get("max_body", httpspec.DEFAULT_MAX_BODY))
        http["max_output"] = r.size("http.max_output", table.get("max_output", httpspec.DEFAULT_MAX_OUTPUT))
    else:
        http["stderr"] = r.string("http.stderr", table.get("stderr", httpspec.DEFAULT_STDERR))
    params = table.get("params", {})
    if not isinstance(params, dict):
        raise r.error("http.params", f"must be a table of parameter tables, not {_kind(params)}")
    for name, spec in params.items():
        key = f"http.params.{_key(name)}"
        if not isinstance(spec, dict):
            raise r.error(key, f"must be a table (pattern, default, max_length), not {_kind(spec)}")
        for k in spec:
            if k not in httpspec.PARAM_KEYS:
                raise r.error(f"{key}.{_key(k)}", f"unknown key (known: {', '.join(httpspec.PARAM_KEYS)})")
        if "pattern" not in spec:
            raise r.error(f"{key}.pattern", "missing")
        http["params"][name] = {
            "pattern": r.string(f"{key}.pattern", spec["pattern"]),
            "default": r.string(f"{key}.default", spec["default"]) if "default" in spec else None,
            "max_length": (r.count(f"{key}.max_length", spec["max_length"], httpspec.MAX_LENGTH_MOST)
                           if "max_length" in spec else httpspec.DEFAULT_MAX_LENGTH),
        }
    try:
        return httpspec.check_http(http)
    except httpspec.HttpSpecError as e:
        raise r.error(f"http.{e.key}", e.message) from None
