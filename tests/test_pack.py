"""xax-emu pack: reproducible images, ELF data page-aligned, the metadata, progress, sources."""
import hashlib
import json
import os
import tarfile
from pathlib import Path

import pytest

from image_support import build_example
from xax_emu import cli
from xax_emu.image import DependencyError, ManifestError, PackError, pack, pack_image, validate
from xax_emu.image.format import PAGE
from xax_emu.image.tarread import TarReader
from xax_emu.profiles import load
from xax_emu.syscalls.compiler import table
from xax_emu.syscalls.profile import resolve


@pytest.fixture(scope="module")
def sha1sum(tmp_path_factory):
    return build_example("sha1sum", tmp_path_factory.mktemp("examples"))


@pytest.fixture(scope="module")
def tarram(tmp_path_factory):
    return build_example("tarram", tmp_path_factory.mktemp("examples"))


def manifest(tmp_path: Path, files: str, app: str = 'name = "t"\nentry = "/bin/ls"\n', top: str = "") -> Path:
    p = tmp_path / "manifest.toml"
    p.write_text(f"{top}\n[app]\n{app}\n[files]\n{files}\n")
    return p


def members(path) -> list:
    with open(path, "rb") as f:
        return TarReader(f, os.path.getsize(path)).members()


@pytest.mark.parametrize("example", ["sha1sum", "tarram"])
def test_examples_pack_reproducibly(example, request, tmp_path):
    m = request.getfixturevalue(example)
    a, b = tmp_path / "a.tar", tmp_path / "b.tar"
    ida = pack(m, a)
    idb = pack(m, b)
    assert ida == idb == hashlib.sha256(a.read_bytes()).hexdigest()
    assert a.read_bytes() == b.read_bytes()
    validate(a)


def test_source_mtimes_are_kept(tmp_path, sha1sum):
    before = pack(sha1sum, tmp_path / "a.tar")
    exe = sha1sum.parent / "build" / "sha1sum"
    st = exe.stat()
    os.utime(exe, (st.st_atime, st.st_mtime - 3600))
    try:
        after = pack(sha1sum, tmp_path / "b.tar")
        with tarfile.open(tmp_path / "b.tar") as t:
            assert t.getmember("bin/sha1sum").mtime == int(st.st_mtime - 3600)
    finally:
        os.utime(exe, (st.st_atime, st.st_mtime))
    assert before != after


@pytest.fixture(scope="module")
def ls_image(tmp_path_factory):
    """/bin/ls with its libraries, plus names that need pax headers (long, non-ASCII)."""
    d = tmp_path_factory.mktemp("ls")
    (d / "data.txt").write_text("data\n")
    long = "/opt/" + "l" * 120 + "/ls"
    m = manifest(d, f'"/bin/ls" = "/bin/ls"\n"{long}" = "/bin/ls"\n"/opt/é/ls" = "/bin/ls"\n'
                    f'"/etc/data.txt" = "data.txt"\n',
                 app='name = "ls"\nentry = "/bin/ls"\nargs = ["-l"]\nenv = { LC_ALL = "C" }\ncwd = "/etc"\n'
                     'profile = "static-libc"\n[limits]\nmemory = "256M"\nwall_seconds = 5')
    out = d / "ls.tar"
    progress = []
    result = pack_image(m, out, progress=progress.append)
    return out, result, progress, long


def test_elf_data_is_page_aligned(ls_image):
    out, result, _, long = ls_image
    data = out.read_bytes()
    elf = 0
    with tarfile.open(out) as t:  # an independent reader's offsets
        for info in t.getmembers():
            if info.isfile() and data[info.offset_data:info.offset_data + 4] == b"\x7fELF":
                assert info.offset_data % PAGE == 0, info.name
                elf += 1
        names = t.getnames()
    assert elf >= 6  # the layer, ls three times, libc, ld.so, ...
    assert long.lstrip("/") in names and "opt/é/ls" in names
    ours = {m.name: m.data_offset for m in members(out)}
    with tarfile.open(out) as t:
        for info in t.getmembers():
            assert ours[info.name.rstrip("/")] == info.offset_data
    assert any(n.startswith(".xax/pad/") for n in names)


def test_headers_are_normalized(ls_image):
    out, *_ = ls_image
    with tarfile.open(out) as t:
        first = t.getmembers()[:2]
        assert [m.name for m in first] == [".xax/meta.json", ".xax/layer"]
        for m in t.getmembers():
            assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", "")
            if m.isdir():
                assert m.mode == 0o755 and m.mtime == 0
            elif m.issym():
                assert m.mode == 0o777 and m.mtime == 0
            else:
                assert m.mode in (0o644, 0o755)
            assert set(m.pax_headers) <= {"path", "linkpath"}
        ls = t.getmember("bin/ls")
        assert ls.mtime == int(os.stat("/bin/ls").st_mtime) and ls.mode == 0o755
        assert t.getmember("etc/data.txt").mode == 0o644
        link = t.getmember("lib64/ld-linux-x86-64.so.2")
        assert link.issym() and link.linkname == "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
        assert t.getmember(".xax/meta.json").mtime == 0
        names = [m.name for m in t.getmembers() if not m.name.startswith(".xax/")]
        assert names == sorted(names)


def test_meta(ls_image):
    out, result, _, long = ls_image
    with tarfile.open(out) as t:
        meta = json.loads(t.extractfile(".xax/meta.json").read())
        layer = t.extractfile(".xax/layer").read()
    assert (meta["format"], meta["version"]) == ("xax-image", 1)
    assert meta["app"] == {"name": "ls", "entry": "/bin/ls", "args": ["-l"], "env": {"LC_ALL": "C"}, "cwd": "/etc"}
    assert meta["limits"] == {"memory": 256 << 20, "cpu_seconds": None, "wall_seconds": 5.0, "download": None,
                              "threads": None, "processes": None}
    assert meta["layer"] == {"member": ".xax/layer", "size": len(layer), "sha256": hashlib.sha256(layer).hexdigest()}
    rows = table(resolve(load("static-libc")))
    p = meta["profile"]
    assert (p["spec"], p["name"], p["shipped"], p["routes"]) == ("static-libc", "static-libc", True,
                                                                  [{"prefix": "/dev", "backend": "dev"},
                                                                   {"prefix": "/proc", "backend": "proc"},
                                                                   {"prefix": "/tmp", "backend": "ram", "size": 64 << 20},
                                                                   {"prefix": "/var/tmp", "backend": "ram",
                                                                    "size": 64 << 20}])
    assert p["syscalls"]["total"] == len(rows)
    assert p["syscalls"]["emulate"] == sum(r.kind == "emulate" for r in rows)
    files = meta["files"]
    ls = files["/bin/ls"]
    assert ls["sha256"] == hashlib.sha256(Path("/bin/ls").read_bytes()).hexdigest()
    assert ls["size"] == os.path.getsize("/bin/ls") and ls["elf"] is True and ls["mode"] == 0o755
    assert files[long]["sha256"] == ls["sha256"]
    assert files["/etc/data.txt"]["elf"] is False
    assert files["/lib64/ld-linux-x86-64.so.2"] == {"type": "symlink",
                                                    "target": "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"}
    assert "/lib/x86_64-linux-gnu/libc.so.6" in files
    assert not any(k.startswith("/.xax") for k in files)
    assert result.files == len(files) and result.bytes == out.stat().st_size


def test_progress(ls_image):
    out, result, progress, _ = ls_image
    writes = [p for p in progress if p.phase == "write"]
    hashes = [p for p in progress if p.phase == "hash"]
    assert hashes and writes
    for seq in (hashes, writes):
        assert [p.files_done for p in seq] == list(range(1, len(seq) + 1))
        assert all(a.bytes_done <= b.bytes_done for a, b in zip(seq, seq[1:]))
        assert seq[-1].files_done == seq[-1].files_total and seq[-1].bytes_done == seq[-1].bytes_total
    assert writes[-1].bytes_total == sum(i["size"] for i in validate(out).meta["files"].values() if "size" in i)


def test_cli_pack_prints_the_id_and_progress_on_large_images(tmp_path, capsys):
    with open(tmp_path / "big", "wb") as f:
        f.truncate(40 << 20)  # sparse: cheap to make, 40 MiB to pack
    m = manifest(tmp_path, '"/big" = "big"\n', app='name = "big"\nentry = "/big"')
    assert cli.main(["pack", str(m), "-o", str(tmp_path / "big.tar")]) == 0
    out, err = capsys.readouterr()
    image_id = out.strip()
    assert image_id == hashlib.sha256((tmp_path / "big.tar").read_bytes()).hexdigest()
    assert "writing 1/1 files, 40/40 MiB" in err and "hashing" in err
    assert cli.main(["pack", str(m), "-o", str(tmp_path / "again.tar"), "--json"]) == 0
    out, _ = capsys.readouterr()
    assert json.loads(out) == {"id": image_id, "path": str(tmp_path / "again.tar"), "files": 1,
                               "bytes": (tmp_path / "big.tar").stat().st_size}


def test_cli_pack_default_output_and_errors(tmp_path, capsys, monkeypatch):
    (tmp_path / "x").write_text("x")
    m = manifest(tmp_path, '"/x" = "x"\n', app='name = "small"\nentry = "/x"')
    monkeypatch.chdir(tmp_path)
    assert cli.main(["pack", str(m)]) == 0
    out, err = capsys.readouterr()
    assert (tmp_path / "small.tar").exists() and "writing" not in err  # small: no progress
    bad = manifest(tmp_path, '"/x" = "x"\n', app='name = "small"\nentry = "/y"')
    assert cli.main(["pack", str(bad)]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "app.entry" in err and str(bad) in err


def test_directories_globs_excludes_and_symlinks(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.py").write_text("a")
    (src / "a.pyc").write_text("compiled")
    (src / "sub" / "b.py").write_text("b")
    (src / "sub" / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(src / "sub" / "run.sh", 0o700)
    os.symlink("sub/b.py", src / "inside")  # kept: stays inside the directory
    os.symlink("../outside.txt", src / "escaping")  # followed: its file is copied
    (tmp_path / "outside.txt").write_text("outside")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "x.pyc").write_text("x")
    m = manifest(tmp_path, '"/app" = "src"\n"/glob" = "src/**/*.py"\n"/one" = "src/a.py"\n',
                 app='name = "t"\nentry = "/one"', top='exclude = ["*.pyc", "__pycache__"]')
    out = tmp_path / "t.tar"
    pack(m, out)
    files = validate(out).meta["files"]
    assert sorted(files) == ["/app/a.py", "/app/escaping", "/app/inside", "/app/sub/b.py", "/app/sub/run.sh",
                             "/glob/a.py", "/glob/sub/b.py", "/one"]
    assert files["/app/inside"] == {"type": "symlink", "target": "sub/b.py"}
    assert files["/app/escaping"]["type"] == "file"
    assert files["/app/escaping"]["sha256"] == hashlib.sha256(b"outside").hexdigest()
    assert files["/app/sub/run.sh"]["mode"] == 0o755 and files["/app/a.py"]["mode"] == 0o644


@pytest.mark.parametrize("files, setup, key, words", [
    ('"/a" = "f"\n"/a/b" = "f"\n', None, 'files."/a/b"', "/a is a file"),
    ('"/d" = "dir"\n"/d/f" = "f"\n', None, 'files."/d/f"', "already a file"),
    ('"/x" = "nope"\n', None, 'files."/x"', "no such file"),
    ('"/x" = "nope*"\n', None, 'files."/x"', "matches nothing"),
    ('"/d" = "dir"\n', "dangling", 'files."/d"', "dangling symlink"),
])
def test_source_errors(tmp_path, files, setup, key, words):
    (tmp_path / "f").write_text("f")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "f").write_text("f")
    if setup == "dangling":
        os.symlink("/nonexistent/x", tmp_path / "dir" / "broken")
    m = manifest(tmp_path, files, app='name = "t"\nentry = "/f"')
    with pytest.raises(ManifestError) as e:
        pack(m, tmp_path / "o.tar")
    assert e.value.key == key and words in str(e.value), str(e.value)
    assert not (tmp_path / "o.tar").exists()


def test_entry_must_be_in_the_image(tmp_path):
    (tmp_path / "f").write_text("f")
    m = manifest(tmp_path, '"/f" = "f"\n', app='name = "t"\nentry = "/bin/missing"')
    with pytest.raises(ManifestError, match="app.entry: /bin/missing is not a file in the image"):
        pack(m, tmp_path / "o.tar")


def test_missing_library_is_an_error(tmp_path):
    data = bytearray(Path("/bin/ls").read_bytes())
    i = data.find(b"libselinux.so.1\0")
    assert i > 0
    data[i:i + 15] = b"libnotthere.so1"
    (tmp_path / "ls").write_bytes(bytes(data))
    m = manifest(tmp_path, '"/bin/ls" = "ls"\n')
    with pytest.raises(DependencyError, match="/bin/ls needs libnotthere.so1: not found"):
        pack(m, tmp_path / "o.tar")


def test_file_profile_routes_are_recorded(tarram, tmp_path):
    out = tmp_path / "t.tar"
    pack(tarram, out)
    meta = validate(out).meta
    assert meta["profile"]["spec"] == "profile.py:TARRAM" and meta["profile"]["shipped"] is False
    assert meta["profile"]["routes"] == [{"prefix": "/data", "backend": "tar", "subdir": "data"},
                                         {"prefix": "/dev", "backend": "dev"}, {"prefix": "/proc", "backend": "proc"},
                                         {"prefix": "/tmp", "backend": "ram", "size": 1 << 20},  # its own wins
                                         {"prefix": "/var/tmp", "backend": "ram", "size": 64 << 20}]
    assert sorted(meta["files"]) == ["/bin/tarram", "/data/more/notes.txt", "/data/words.txt"]


def test_host_problems_are_one_line_errors(tmp_path):
    (tmp_path / "f").write_text("f")
    m = manifest(tmp_path, '"/f" = "f"\n', app='name = "t"\nentry = "/f"')
    with pytest.raises(PackError, match="cannot write"):
        pack(m, tmp_path / "no" / "such" / "dir.tar")
    # a name that is not UTF-8
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / os.fsdecode(b"bad\xff")).write_text("x")
    m = manifest(tmp_path, '"/f" = "f"\n"/d" = "d"\n', app='name = "t"\nentry = "/f"')
    with pytest.raises(ManifestError, match="must be UTF-8"):
        pack(m, tmp_path / "o.tar")
    # an x86-64 ELF header with nothing sensible behind it
    (tmp_path / "elf").write_bytes(Path("/bin/ls").read_bytes()[:64] + b"\xff" * 64)
    m = manifest(tmp_path, '"/f" = "f"\n"/elf" = "elf"\n', app='name = "t"\nentry = "/f"')
    with pytest.raises(DependencyError, match="cannot read its ELF headers"):
        pack(m, tmp_path / "o.tar")
