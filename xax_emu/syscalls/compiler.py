"""The profile compiler: a profile -> generated C (the complete syscall table) -> gcc -> the layer.

The generated table lists every x86-64 syscall number, the missing ones included
(as comments say which), so the C file doubles as a readable compatibility
report.  The same profile gives the same C and the same layer bytes; layers are
cached by the hash of everything that goes into them.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import RuntimeNotBuilt, XaxError
from ..protocol import LAYER_NR_MAX
from ..runtime import SOURCE_DIR
from . import catalogue
from .forwarding import FORWARDABLE
from .handlers import HANDLERS, c_function
from .profile import (Deny, Devices, Disposition, Emulate, Forward, Identity, Origin, Proc, Profile, ProfileError,
                      RamDisk, Reject, Resolved, Tar, Uname, resolve)


class CompileError(XaxError, RuntimeError):
    """gcc could not build a layer (the message carries its output)."""


@dataclass(frozen=True)
class Row:
    nr: int
    name: str
    disposition: Disposition
    source: str | None  # the profile that set it

    @property
    def kind(self) -> str:
        return self.disposition.kind


def table(resolved: Resolved) -> list[Row]:
    """Every syscall, in number order, with its disposition; checks each entry."""
    rows = []
    for s in catalogue.ALL:
        d = resolved.disposition(s.name)
        if isinstance(d, Emulate):
            if d.handler not in HANDLERS:
                raise ProfileError(
                    f"profile {resolved.origins[s.name]!r}: syscall {s.name!r}: the layer has no handler "
                    f"{d.handler!r} (handlers: {', '.join(sorted(HANDLERS))})")
            if c_function(d.handler, s.name) is None:
                serves = ", ".join(sorted(HANDLERS[d.handler].functions))
                raise ProfileError(
                    f"profile {resolved.origins[s.name]!r}: syscall {s.name!r}: handler {d.handler!r} does not "
                    f"serve it (it serves {serves})")
            unknown = [k for k, _ in d.params if k not in HANDLERS[d.handler].params]
            if unknown:
                raise ProfileError(f"profile {resolved.origins[s.name]!r}: syscall {s.name!r}: handler "
                                   f"{d.handler!r} takes no parameter {', '.join(map(repr, unknown))}")
        elif isinstance(d, Forward) and s.name not in FORWARDABLE:
            raise ProfileError(f"profile {resolved.origins[s.name]!r}: syscall {s.name!r}: the Monitor does not "
                               f"serve it, so it cannot be forwarded (forwardable: {', '.join(sorted(FORWARDABLE))})")
        if s.nr >= LAYER_NR_MAX:
            raise ProfileError(f"syscall {s.name!r} ({s.nr}) is beyond the layer's table of {LAYER_NR_MAX}")
        rows.append(Row(s.nr, s.name, d, resolved.origins.get(s.name)))
    return rows


def _comment(text: str) -> str:
    return text.replace("*/", "* /").replace("\n", " ")


def _c_string(text: str) -> str:
    """A C string literal: printable ASCII as it is, everything else as octal escapes."""
    out = []
    for byte in text.encode():
        ch = chr(byte)
        if ch in '"\\?':
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def _knobs_c(resolved: Resolved) -> list[str]:
    ident = resolved.knobs.get("identity") or Identity()
    uname = resolved.knobs.get("uname") or Uname()
    fields = [uname.sysname, uname.nodename, uname.release, uname.version, uname.machine, uname.domainname]
    cwd, exe = resolved.knobs.get("cwd"), resolved.knobs.get("proc_self_exe")
    for knob, value in (("cwd", cwd), ("proc_self_exe", exe)):
        if value is not None and (not value.startswith("/") or len(value.encode()) > 4095 or "\0" in value):
            raise ProfileError(f"profile {resolved.name!r}: {knob} must be an absolute path, not {value!r}")
    if exe is not None and not any(isinstance(b, Proc) for b in resolved.routes.values()):
        raise ProfileError(f"profile {resolved.name!r}: proc_self_exe is /proc/self/exe, but no route is Proc()")
    for name, value in zip(("sysname", "nodename", "release", "version", "machine", "domainname"), fields):
        if len(value.encode()) > 64:
            raise ProfileError(f"profile {resolved.name!r}: uname field {name!r} is over 64 bytes: {value!r}")
    for name in ("uid", "gid", "euid", "egid"):
        if not 0 <= getattr(ident, name) < 2**32 - 1:
            raise ProfileError(f"profile {resolved.name!r}: identity {name} {getattr(ident, name)} is not a uid")
    return [
        "const struct layer_knobs layer_knobs = {",
        f"    .identity = {{{ident.uid}, {ident.gid}, {ident.euid}, {ident.egid}}},",
        f"    .uname = {{{', '.join(_c_string(v) for v in fields)}}},",
        f"    .cwd = {_c_string(cwd) if cwd else 0},",
        f"    .proc_self_exe = {_c_string(exe) if exe else 0},",
        "};",
        "",
    ]


_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _relative_path(text: str) -> bool:
    return not text.startswith("/") and all(part not in ("", ".", "..") for part in text.split("/"))


def _routes_c(resolved: Resolved) -> list[str]:
    routes, pins = [], []
    for prefix in sorted(resolved.routes):
        b = resolved.routes[prefix]
        where = f"route {prefix!r} of profile {resolved.name!r}"
        if isinstance(b, Tar):
            if b.subdir and not _relative_path(b.subdir):
                raise ProfileError(f"{where}: Tar subdir {b.subdir!r} must be a relative path inside the image")
            routes.append(f"    {{{_c_string(prefix)}, LAYER_ROUTE_TAR, {_c_string(b.subdir)}, 0}},")
        elif isinstance(b, RamDisk):
            if not 0 < b.size <= 1 << 40:
                raise ProfileError(f"{where}: RamDisk size {b.size} must be between 1 byte and 1 TiB")
            routes.append(f"    {{{_c_string(prefix)}, LAYER_ROUTE_RAM, 0, {b.size}ULL}},")
        elif isinstance(b, Origin):
            if not b.url_prefix.startswith("/") or "://" in b.url_prefix:
                raise ProfileError(f"{where}: origin() takes a path under the app's origin, like '/data', "
                                   f"not {b.url_prefix!r}")
            url_dir = b.url_prefix.rstrip("/") + "/"  # files are fetched from url_dir + their path
            routes.append(f"    {{{_c_string(prefix)}, LAYER_ROUTE_ORIGIN, {_c_string(url_dir)}, 0}},")
            for rel, digest in b.sha256:
                if not _relative_path(rel) or not _HEX64.match(digest):
                    raise ProfileError(f"{where}: pin {rel!r}: {digest!r} must be a relative path and 64 hex digits")
                data = ", ".join(f"0x{digest[i:i + 2]}" for i in range(0, 64, 2))
                pins.append(f"    {{{_c_string(prefix)}, {_c_string(rel)}, {{{data}}}}},")
        elif isinstance(b, Deny):
            routes.append(f"    {{{_c_string(prefix)}, LAYER_ROUTE_DENY, 0, 0}},")
        elif isinstance(b, Devices):
            routes.append(f"    {{{_c_string(prefix)}, LAYER_ROUTE_DEV, 0, 0}},")
        elif isinstance(b, Proc):
            routes.append(f"    {{{_c_string(prefix)}, LAYER_ROUTE_PROC, 0, 0}},")
        else:
            raise ProfileError(f"{where}: unknown backend {b!r}")
    out = ["const struct layer_route layer_routes[] = {", *routes, "    {0, 0, 0, 0},", "};",
           f"const unsigned layer_nroutes = {len(routes)};",
           "const struct layer_pin layer_pins[] = {", *pins, "    {0, 0, {0}},", "};",
           f"const unsigned layer_npins = {len(pins)};", ""]
    return out


def generate_c(profile: Profile) -> str:
    resolved = resolve(profile)
    rows = table(resolved)
    out = [
        f"/* AUTOGENERATED from profile {profile.name!r} by xax_emu/syscalls/compiler.py — ALL EDITS WILL BE LOST.",
        " * The complete x86-64 table: every number, with its disposition; missing ones are -ENOSYS + trace. */",
        '#include "layer.h"',
        "",
    ]
    out += [f"const char layer_profile_name[] = {_c_string(profile.name)};", ""]
    out += _knobs_c(resolved)
    out += _routes_c(resolved)
    out += ["const struct layer_entry layer_table[XAX_LAYER_NR_MAX] = {"]
    for r in rows:
        d = r.disposition
        note = f": {_comment(d.note)}" if d.note else ""
        if isinstance(d, Emulate):
            fn = c_function(d.handler, r.name)
            out.append(f"    [{r.nr}] = {{LAYER_EMULATE, {fn}, 0}}, /* {r.name}: {d.handler}{note} */")
        elif isinstance(d, Forward):
            out.append(f"    [{r.nr}] = {{LAYER_FORWARD, 0, 0}}, /* {r.name}: forward{note} */")
        elif isinstance(d, Reject):
            out.append(f"    [{r.nr}] = {{LAYER_REJECT, 0, {d.result()}L}}, /* {r.name}: {_comment(d.describe())}{note} */")
        else:
            out.append(f"    /* [{r.nr}] {r.name}: missing */")
    out += ["};", ""]
    return "\n".join(out)


def _layer_inputs_digest(c_source: str) -> str:
    h = hashlib.sha256(c_source.encode())
    # Every directory whose sources the Makefile's `layer` target compiles or includes.
    inputs = [path for d in ("layer", "vfs", "lib", "include") for path in sorted((SOURCE_DIR / d).glob("*.[chS]"))]
    for path in inputs + [SOURCE_DIR / "boot" / "reloc.c", SOURCE_DIR / "Makefile"]:
        h.update(str(path.relative_to(SOURCE_DIR)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def layer_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xax-emu" / "layers"


def build_layer(profile: Profile, cache_dir: Path | None = None) -> Path:
    """Compile the profile into a layer (cached); returns the layer's path."""
    source = generate_c(profile)
    if not (SOURCE_DIR / "layer").is_dir():
        raise RuntimeNotBuilt(f"the layer's C sources are not at {SOURCE_DIR}: compiling a profile needs a source "
                              "checkout installed with `pip install -e .`")
    digest = _layer_inputs_digest(source)
    cache = cache_dir or layer_cache_dir()
    out = cache / f"{digest[:24]}.layer"
    if out.is_file():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xax-layer-") as tmp:
        # A fixed name in a fresh directory, so that nothing about the cache path reaches the bytes.
        table_c = Path(tmp) / "layer_table.c"
        table_c.write_text(source)
        built = Path(tmp) / "layer"
        r = subprocess.run(["make", "-s", "-C", str(SOURCE_DIR), "layer", f"TABLE={table_c}", f"LAYER_OUT={built}"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise CompileError(f"building the layer for profile {profile.name!r} failed:\n{r.stderr}{r.stdout}")
        tmp_out = out.with_suffix(f".tmp{os.getpid()}")
        tmp_out.write_bytes(built.read_bytes())
        os.replace(tmp_out, out)
    return out
