"""ELF dependencies, found as ld.so finds them: compared with ldd on real Debian binaries,
and on small programs built here (RUNPATH/RPATH with $ORIGIN, ld.so.conf, missing libraries)."""
import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from xax_emu.image import DependencyError
from xax_emu.image.elfdeps import Resolver, add_closure, ld_so_conf_dirs, read_elf
from xax_emu.image.tree import Node, Tree



def ldd(path: str) -> tuple[dict[str, str], str | None]:
    out = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
    libs, interp = {}, None
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (\S+) \(0x", line)
        if m:
            libs[m.group(1)] = m.group(2)
        elif re.match(r"\s*/\S+ \(0x", line):
            interp = line.split()[0]
    return libs, interp


def closure_of(path: str, **kw):
    tree = Tree()
    r = Resolver(tree, **kw)
    assert r.candidate(path, "test")
    r.load(path)
    found = {}
    for deps in r.closure.needed.values():
        found.update(deps)
    return tree, r.closure, found


def real_binaries():
    out = ["/bin/ls", "/usr/bin/python3.11"]
    out += [p for p in ("/usr/bin/lua5.4",) if os.path.exists(p)]
    dynload = sorted(glob.glob("/usr/lib/python3.11/lib-dynload/_ssl*.so") +
                     glob.glob("/usr/lib/python3.11/lib-dynload/_hashlib*.so"))
    return [p for p in out if os.path.exists(p)] + dynload[:1]


@pytest.mark.parametrize("path", real_binaries())
def test_same_libraries_as_ldd(path):
    libs, interp = ldd(path)
    tree, closure, found = closure_of(path)
    interp_name = os.path.basename(interp) if interp else None
    ours = {k: v for k, v in found.items() if k != interp_name}
    assert ours == libs
    has_interp = read_elf(path).interp is not None  # ldd names ld.so for a shared object too
    if has_interp:
        assert closure.interp[path] == interp
    for image_path in [*libs.values(), *([interp] if has_interp else [])]:
        end = tree.resolve(image_path)
        assert tree.get(end).kind == "file"
        assert os.path.samefile(tree.get(end).host, image_path)


def test_symlink_chains_are_kept():
    tree, closure, found = closure_of("/bin/ls")
    interp = tree.get("/lib64/ld-linux-x86-64.so.2")
    if os.path.islink("/lib64/ld-linux-x86-64.so.2") and os.readlink("/lib64/ld-linux-x86-64.so.2").startswith("/"):
        assert interp.kind == "symlink"
        assert interp.target == os.readlink("/lib64/ld-linux-x86-64.so.2")
        assert tree.get(interp.target).kind == "file"
    for name, path in found.items():
        if os.path.islink(path):
            assert tree.get(path).kind == "symlink" and tree.get(path).target == os.readlink(path)
    # every symlink the closure made resolves, inside the image, to a file
    for p, n in tree.nodes.items():
        if n.kind == "symlink":
            assert tree.get(tree.resolve(p)).kind == "file"


def test_ld_so_conf_with_includes(tmp_path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "ld.so.conf").write_text("# comment\ninclude conf.d/*.conf\n/opt/z\n")
    (tmp_path / "conf.d" / "b.conf").write_text("/opt/b  # trailing\n/opt/a\n")
    (tmp_path / "conf.d" / "a.conf").write_text("/opt/a\ninclude " + str(tmp_path / "ld.so.conf") + "\n")
    assert ld_so_conf_dirs(str(tmp_path / "ld.so.conf")) == ["/opt/a", "/opt/b", "/opt/z"]
    assert ld_so_conf_dirs(str(tmp_path / "nope.conf")) == []


def _gcc(*args):
    subprocess.run(["gcc", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.fail("gcc is not installed (bootstrap.sh installs it)")
    d = tmp_path_factory.mktemp("elf")
    (d / "lib").mkdir()
    (d / "bin").mkdir()
    (d / "foo.c").write_text("int foo(void) { return 42; }\n")
    (d / "main.c").write_text("int foo(void);\nint main(void) { return foo() == 42 ? 0 : 1; }\n")
    _gcc("-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-o", str(d / "lib" / "libfoo.so.1.0"), str(d / "foo.c"))
    os.symlink("libfoo.so.1.0", d / "lib" / "libfoo.so.1")
    os.symlink("libfoo.so.1", d / "lib" / "libfoo.so")
    common = [str(d / "main.c"), "-L", str(d / "lib"), "-lfoo"]
    _gcc("-o", str(d / "bin" / "runpath"), "-Wl,--enable-new-dtags", "-Wl,-rpath,$ORIGIN/../lib", *common)
    _gcc("-o", str(d / "bin" / "rpath"), "-Wl,--disable-new-dtags", "-Wl,-rpath,$ORIGIN/../lib", *common)
    _gcc("-o", str(d / "bin" / "plain"), *common)
    return d


def _app_tree(d: Path, exe: str) -> Tree:
    """An image with /app/bin/EXE and the directory /app/lib, as a manifest would give."""
    tree = Tree()
    tree.add(f"/app/bin/{exe}", Node("file", "files", host=str(d / "bin" / exe), size=1))
    tree.add("/app/lib/libfoo.so.1.0", Node("file", "files", host=str(d / "lib" / "libfoo.so.1.0"), size=1))
    tree.add("/app/lib/libfoo.so.1", Node("symlink", "files", target="libfoo.so.1.0"))
    return tree


@pytest.mark.parametrize("exe", ["runpath", "rpath"])
def test_origin_is_the_image_path(built, exe):
    info = read_elf(str(built / "bin" / exe))
    assert (info.runpath if exe == "runpath" else info.rpath) == ("$ORIGIN/../lib",)
    tree = _app_tree(built, exe)
    closure = add_closure(tree, [f"/app/bin/{exe}"])
    assert closure.needed[f"/app/bin/{exe}"]["libfoo.so.1"] == "/app/lib/libfoo.so.1"
    # and the host ldd agrees, on the host's layout
    libs, _ = ldd(str(built / "bin" / exe))
    assert libs["libfoo.so.1"] == str(built / "bin" / ".." / "lib" / "libfoo.so.1")


def test_host_libraries_come_with_their_symlink_chain(built):
    tree = Tree()
    tree.add("/app/bin/runpath", Node("file", "files", host=str(built / "bin" / "runpath"), size=1))
    lib = str(built / "lib")
    # not in the image: found on the host through ld.so.conf, at the host's path
    closure = add_closure(tree, ["/app/bin/runpath"], conf_dirs=[lib])
    assert closure.needed["/app/bin/runpath"]["libfoo.so.1"] == lib + "/libfoo.so.1"
    assert tree.get(lib + "/libfoo.so.1").kind == "symlink"
    assert tree.get(lib + "/libfoo.so.1").target == "libfoo.so.1.0"
    assert tree.get(lib + "/libfoo.so.1.0").kind == "file"
    # the image has no ld.so.cache: a link in the first default directory stands in for it
    stand_in = tree.get("/lib/x86_64-linux-gnu/libfoo.so.1")
    assert stand_in.kind == "symlink" and stand_in.target == lib + "/libfoo.so.1"


def test_a_missing_library_names_the_elf_that_needs_it(built):
    tree = Tree()
    tree.add("/bin/plain", Node("file", "files", host=str(built / "bin" / "plain"), size=1))
    with pytest.raises(DependencyError) as e:
        add_closure(tree, ["/bin/plain"], conf_dirs=[])
    assert e.value.elf == "/bin/plain" and e.value.needed == "libfoo.so.1"
    assert "/bin/plain needs libfoo.so.1: not found" in str(e.value) and "\n" not in str(e.value)


def test_a_wrong_elf_is_skipped_as_ld_so_does(built, tmp_path):
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    data = bytearray((built / "lib" / "libfoo.so.1.0").read_bytes())
    data[4] = 1  # ELFCLASS32
    (wrong / "libfoo.so.1").write_bytes(bytes(data))
    tree = Tree()
    tree.add("/bin/plain", Node("file", "files", host=str(built / "bin" / "plain"), size=1))
    closure = add_closure(tree, ["/bin/plain"], conf_dirs=[str(wrong), str(built / "lib")])
    assert closure.needed["/bin/plain"]["libfoo.so.1"] == str(built / "lib" / "libfoo.so.1")
    assert tree.get(str(wrong / "libfoo.so.1")) is None


def test_non_elf_and_static_files_need_nothing(tmp_path):
    (tmp_path / "data").write_bytes(b"just data")
    assert read_elf(str(tmp_path / "data")) is None
    tree = Tree()
    tree.add("/data", Node("file", "files", host=str(tmp_path / "data"), size=9))
    assert add_closure(tree, ["/data"]).needed == {}
