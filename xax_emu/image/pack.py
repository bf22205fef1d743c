"""`xax-emu pack`: a manifest -> an image (a reproducible pax tar); its id is its sha256.

Members, in this order: .xax/meta.json, .xax/layer, then the app's directories,
files and symlinks sorted by name, with .xax/pad/NNNNNN padding before each ELF
member (see tarwrite.py), then .xax/sites if the ELF files have syscall sites the PAL
may rewrite (syscall_sites.py; its entries name where each ELF file's data lies, known
only once the members before it are written).  Regular files keep their host mtime (whole seconds);
everything else is at time 0.

.xax/meta.json (UTF-8 JSON, keys sorted):
  format    "xax-image"
  version   1
  app       {name, entry, args, env, cwd, argv0 (only when the manifest sets it)}
  profile   {spec, name, shipped, routes: [{prefix, backend, ...}],
             syscalls: {emulate, reject, forward, missing, total}}
  limits    {memory, cpu_seconds, wall_seconds, download, threads}  (null: not set)
  layer     {member: ".xax/layer", size, sha256}
  http      the manifest's [http] table with its defaults filled in (see http.py), or null
  mounts    the manifest's [mounts]: {guest path: "ro" | "rw"} (mounts.py; absent in older images)
  files     {"/image/path": {type: "file", size, mode, mtime, sha256, elf}
                          | {type: "symlink", target}}
            (directories and .xax/ members are not listed)
  sites     {member: ".xax/sites", size} (absent when no ELF file has a rewritable site)
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import XaxError
from ..syscalls.compiler import build_layer
from ..syscalls.profile import ProfileError
from .elfdeps import add_closure, is_x86_64
from .errors import ImageError, ManifestError
from .format import (ELF_MAGIC, FORMAT, LAYER, META, SITES, SITES_ENTRY, SITES_HEADER, SITES_MAX, VERSION,
                     member_name)
from .syscall_sites import Site, encode_table, find_sites
from .manifest import Manifest, load_manifest
from .mounts import MountPointError, check_points
from .profileinfo import summary
from .sources import expand
from .tarwrite import ChangedWhilePacking, TarWriter, file_chunks
from .tree import Tree
from .validate import validate


class PackError(XaxError, OSError):
    """A host file could not be read, or changed while the image was being written."""


@dataclass(frozen=True)
class Progress:
    phase: str  # "hash" (reading the files once for meta.json) or "write"
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    path: str  # the image path just done


@dataclass(frozen=True)
class PackResult:
    id: str
    path: str
    files: int  # regular files and symlinks of the app (not directories, not .xax/)
    bytes: int  # size of the image


@dataclass
class _Plan:
    manifest: Manifest
    tree: Tree
    profile_meta: dict
    layer: bytes
    hashes: dict[str, tuple[str, bool]]  # image path -> (sha256, starts with the ELF magic)
    sites: dict[str, list[Site]] = field(default_factory=dict)  # ELF image path -> its rewritable syscall sites


def _hash_file(path: str, size: int, on_chunk) -> tuple[str, bool]:
    h = hashlib.sha256()
    n = 0
    first = b""
    try:
        with open(path, "rb") as f:
            while True:
                data = f.read(1 << 20)
                if not data:
                    break
                if not n:
                    first = data[:4]
                n += len(data)
                h.update(data)
                on_chunk(len(data))
    except OSError as e:
        raise PackError(f"{path}: {e.strerror or e}") from None
    if n != size:
        raise PackError(f"{path} changed while packing (size {size}, now {n})")
    return h.hexdigest(), first == ELF_MAGIC


def plan(manifest: Manifest, progress: Callable[[Progress], None] | None = None) -> _Plan:
    tree = Tree()
    expand(manifest, tree)
    roots = [p for p in tree.sorted_paths() if tree.get(p).kind == "file" and is_x86_64(tree.get(p).host)]
    add_closure(tree, roots)
    entry = tree.resolve(manifest.entry)
    node = tree.get(entry) if entry else None
    if node is None or node.kind != "file":
        raise ManifestError(f"{manifest.entry} is not a file in the image (add it to [files])",
                            str(manifest.path), "app.entry")
    pages = manifest.http and manifest.http["pages"]
    if pages:
        where = tree.resolve(pages)
        if where is None or tree.get(where) is None or tree.get(where).kind != "dir":
            raise ManifestError(f"{pages} is not a directory in the image (add it to [files])",
                                str(manifest.path), "http.pages")
    try:
        profile, profile_meta = summary(manifest.profile, manifest.base_dir)
        layer = build_layer(profile).read_bytes()
    except ProfileError as e:
        raise ManifestError(str(e), str(manifest.path), "app.profile") from None
    try:
        check_points(manifest.mounts, tree.kind_of, [r["prefix"] for r in profile_meta["routes"]])
    except MountPointError as e:
        raise ManifestError(e.message, str(manifest.path), f"mounts.{e.point!r}") from None

    files = [p for p in tree.sorted_paths() if tree.get(p).kind == "file"]
    total = sum(tree.get(p).size for p in files)
    done = 0
    hashes = {}
    for i, p in enumerate(files, 1):
        n = tree.get(p)

        def tick(k: int) -> None:
            nonlocal done
            done += k

        hashes[p] = _hash_file(n.host, n.size, tick)
        if progress:
            progress(Progress("hash", i, len(files), done, total, p))
    return _Plan(manifest, tree, profile_meta, layer, hashes, _sites_of(tree, hashes))


def _sites_of(tree: Tree, hashes: dict[str, tuple[str, bool]]) -> dict[str, list[Site]]:
    """Each ELF file's syscall sites (syscall_sites.py), for .xax/sites."""
    out = {}
    for path, (_, elf) in hashes.items():
        if not elf:
            continue
        try:
            with open(tree.get(path).host, "rb") as f:
                data = f.read()
        except OSError as e:
            raise PackError(f"{tree.get(path).host}: {e.strerror or e}") from None
        found = find_sites(data)
        if found:
            out[path] = found
    if sum(map(len, out.values())) > SITES_MAX:
        raise PackError(f"over {SITES_MAX} syscall sites in the image's ELF files")
    return out


def _sites_size(p: _Plan) -> int:
    return SITES_HEADER + SITES_ENTRY * sum(map(len, p.sites.values()))


def meta_of(p: _Plan) -> dict:
    m = p.manifest
    files = {}
    for path in p.tree.sorted_paths():
        n = p.tree.get(path)
        if n.kind == "file":
            digest, elf = p.hashes[path]
            files[path] = {"type": "file", "size": n.size, "mode": n.mode, "mtime": n.mtime, "sha256": digest,
                           "elf": elf}
        elif n.kind == "symlink":
            files[path] = {"type": "symlink", "target": n.target}
    return {
        "format": FORMAT,
        "version": VERSION,
        "app": {"name": m.name, "entry": m.entry, "args": list(m.args), "env": dict(m.env), "cwd": m.cwd,
                **({"argv0": m.argv0} if m.argv0 is not None else {})},
        "profile": p.profile_meta,
        "limits": m.limits.as_dict(),
        "layer": {"member": LAYER, "size": len(p.layer), "sha256": hashlib.sha256(p.layer).hexdigest()},
        "http": m.http,
        "mounts": dict(m.mounts),
        "files": files,
        **({"sites": {"member": SITES, "size": _sites_size(p)}} if p.sites else {}),
    }


def encode_meta(meta: dict) -> bytes:
    return (json.dumps(meta, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


def _check_output(out_path: Path) -> None:
    """The image is written beside `out_path` and renamed onto it: refuse to replace
    anything but a regular file (`-o /dev/null` would rename an image over the device)."""
    try:
        st = os.stat(out_path)
    except FileNotFoundError:
        return
    except (OSError, ValueError) as e:
        raise PackError(f"cannot write {out_path}: {getattr(e, 'strerror', None) or e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise PackError(f"cannot write {out_path}: not a regular file (pack replaces the file it writes)")


def write(p: _Plan, out_path: Path, progress: Callable[[Progress], None] | None = None) -> PackResult:
    meta = encode_meta(meta_of(p))
    paths = p.tree.sorted_paths()
    files = [x for x in paths if p.tree.get(x).kind == "file"]
    total = sum(p.tree.get(x).size for x in files)
    done_files = 0
    done_bytes = 0

    def tick(k: int) -> None:
        nonlocal done_bytes
        done_bytes += k

    out_path = Path(out_path)
    _check_output(out_path)
    tmp = out_path.with_name(f".{out_path.name}.tmp{os.getpid()}")
    try:
        out = open(tmp, "wb")
    except OSError as e:
        raise PackError(f"cannot write {out_path}: {e.strerror or e}") from None
    try:
        with out, TarWriter(out) as w:
            w.add(META, "file", size=len(meta), chunks=[meta])
            w.add(LAYER, "file", size=len(p.layer), mode=0o755, chunks=[p.layer], align=p.layer[:4] == ELF_MAGIC)
            at: dict[str, int] = {}  # ELF image path -> the offset of its data in the image
            for path in paths:
                n = p.tree.get(path)
                if n.kind == "dir":
                    w.add(member_name(path, directory=True), "dir", mode=0o755)
                elif n.kind == "symlink":
                    w.add(member_name(path), "symlink", mode=0o777, target=n.target)
                else:
                    digest, elf = p.hashes[path]
                    try:
                        at[path] = w.add(member_name(path), "file", size=n.size, mode=n.mode, mtime=n.mtime,
                              chunks=file_chunks(n.host, n.size, digest, tick), align=elf)
                    except ChangedWhilePacking:
                        raise PackError(f"{n.host} changed while packing") from None
                    except OSError as e:
                        raise PackError(f"{n.host}: {e.strerror or e}") from None
                    done_files += 1
                    if progress:
                        progress(Progress("write", done_files, len(files), done_bytes, total, path))
            if p.sites:  # last: its entries name where the ELF files' data lies in the image
                table = encode_table([(at[path], s) for path, found in p.sites.items() for s in found])
                w.add(SITES, "file", size=len(table), chunks=[table])
        image_id = w.sha256.hexdigest()  # after the close: the two zero blocks that end the archive
        size = w.offset
        try:  # a safety net: the structure (names, links, metadata) as any reader will check it
            validate(tmp, check_data=False)
        except ImageError as e:
            raise PackError(f"the image written fails validation (a bug in pack): {e}") from None
        os.replace(tmp, out_path)
    finally:
        if tmp.exists():
            tmp.unlink()
    count = sum(1 for x in paths if p.tree.get(x).kind != "dir")
    return PackResult(image_id, str(out_path), count, size)


def pack_image(manifest_path: str | Path, out_path: str | Path,
               progress: Callable[[Progress], None] | None = None) -> PackResult:
    manifest = load_manifest(manifest_path)
    return write(plan(manifest, progress), Path(out_path), progress)


def pack(manifest_path: str | Path, out_path: str | Path, progress: Callable[[Progress], None] | None = None) -> str:
    """Pack the image the manifest declares into out_path; returns the image id (sha256 hex)."""
    return pack_image(manifest_path, out_path, progress).id
