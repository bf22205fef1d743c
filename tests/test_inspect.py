"""xax-emu inspect: entry, routes, the syscall summary, the files with sizes, total size, id."""
import hashlib
import json

import pytest

from image_support import build_example, image, member
from xax_emu import cli
from xax_emu.image import ImageError, describe, inspect, pack
from xax_emu.image.syscall_sites import find_sites
from xax_emu.profiles import load
from xax_emu.syscalls.compiler import table
from xax_emu.syscalls.profile import resolve


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp("inspect")
    out = {}
    for name in ("sha1sum", "tarram"):
        m = build_example(name, d)
        out[name] = d / f"{name}.tar"
        pack(m, out[name])
    (d / "tarram" / "profile.py").unlink()  # inspect needs only the image
    return out


def test_inspect_sha1sum(images):
    path = images["sha1sum"]
    info = inspect(path)
    assert info["id"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info["bytes"] == path.stat().st_size
    assert (info["name"], info["entry"], info["args"], info["env"], info["cwd"]) == (
        "sha1sum", "/bin/sha1sum", [], {}, "/")
    assert info["profile"] == {"spec": "static-libc", "name": "static-libc", "shipped": True}
    rows = table(resolve(load("static-libc")))
    assert info["syscalls_from"] == "shipped profile"
    assert info["syscalls"]["total"] == len(rows)
    assert info["syscalls"]["missing"] == sum(r.kind == "missing" for r in rows)
    # the shipped bases' /dev and /proc, and /tmp and /var/tmp as RAM disks
    assert info["routes"] == [{"prefix": "/dev", "backend": "dev"}, {"prefix": "/proc", "backend": "proc"},
                              {"prefix": "/tmp", "backend": "ram", "size": 64 << 20},
                              {"prefix": "/var/tmp", "backend": "ram", "size": 64 << 20}]
    assert info["limits"] == {"memory": 64 << 20, "cpu_seconds": 10, "wall_seconds": 30.0, "download": None,
                              "threads": None, "processes": None}
    (f,) = info["files"]
    size = (path.parent / "sha1sum" / "build" / "sha1sum").stat().st_size
    # the site table's entries for it: the syscall sites pack found in the binary (a static libc has some)
    sites = len(find_sites((path.parent / "sha1sum" / "build" / "sha1sum").read_bytes()))
    assert sites > 0 and info["syscall_sites"] == sites
    assert f == {"path": "/bin/sha1sum", "type": "file", "size": size, "elf": True, "aligned": True,
                 "syscall_sites": sites}
    assert info["file_count"] == 1 and info["files_bytes"] == size
    text = describe(info)
    assert f"sites    {sites} syscall sites in 1 ELF files" in text and f"(ELF, page-aligned, {sites} sites)" in text


def test_inspect_a_file_profile_from_the_metadata(images):
    info = inspect(images["tarram"])
    assert info["profile"] == {"spec": "profile.py:TARRAM", "name": "tarram", "shipped": False}
    assert info["syscalls_from"] == "image metadata"
    assert info["syscalls"]["total"] == len(table(resolve(load("static-libc"))))
    assert [r["prefix"] for r in info["routes"]] == ["/data", "/dev", "/proc", "/tmp", "/var/tmp"]
    assert [(f["path"], f["size"]) for f in info["files"]][1:] == [("/data/more/notes.txt", 46),
                                                                   ("/data/words.txt", 44)]
    text = describe(info)
    assert "route    /data -> tar (subdir 'data')" in text and "route    /tmp -> ram (size 1048576)" in text
    assert "route    /dev -> dev\n" in text and "route    /proc -> proc\n" in text
    assert "entry    /bin/tarram" in text and "/data/words.txt" in text and info["id"] in text


def test_cli_inspect(images, capsys):
    assert cli.main(["inspect", str(images["sha1sum"]), "--json"]) == 0
    out, _ = capsys.readouterr()
    assert json.loads(out) == inspect(images["sha1sum"])
    assert cli.main(["inspect", str(images["sha1sum"])]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("image    ") and "profile  static-libc" in out and "/bin/sha1sum" in out


def test_inspect_refuses_a_bad_image_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.tar"
    bad.write_bytes(image([member("../escape", b"x")]))
    with pytest.raises(ImageError, match="a '..' component"):
        inspect(bad)
    assert cli.main(["inspect", str(bad)]) == 2
    _, err = capsys.readouterr()
    assert err == f"xax-emu: {bad}: '../escape': a '..' component\n"  # one line, naming the image
    assert cli.main(["inspect", str(tmp_path / "missing.tar")]) == 2
    _, err = capsys.readouterr()
    assert "cannot open the image" in err and err.count("\n") == 1


def test_inspect_of_a_non_image_names_the_file(tmp_path):
    import subprocess
    import sys
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n")
    r = subprocess.run([sys.executable, "-m", "xax_emu", "inspect", str(bad)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2
    assert r.stderr.startswith(f"xax-emu: {bad}: ") and r.stderr.count("\n") == 1
