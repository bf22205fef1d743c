"""run --mount and --export-ram end to end, against the native program: Debian's busybox-static
(unmodified) lists, searches, counts and copies a granted host directory, sealed, and prints what
it prints natively on the same directory; a rw grant's results equal the native run's; the RAM
disks come out after the run as the program left them.  The guest path is the host path, so that
the two runs print the same names.  An image takes grants only at the mount points its manifest
declares; undeclared points and rw over ro are refused in one line, and an ungranted point is absent."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_native, run_pico
from mounts_support import grant
from xax_emu.image import ImageError, ManifestError, pack_image, validate
from xax_emu.monitor.exportram import RamExport, extract
from xax_emu.monitor.mounts import Mounts

BUSYBOX = Path("/bin/busybox")
ENV = ["TZ=UTC"]


@pytest.fixture(scope="module")
def busybox():
    if not BUSYBOX.exists():
        pytest.fail("busybox-static is not installed (bootstrap.sh installs it)")
    return BUSYBOX


def make_tree(root: Path) -> Path:
    """Files of every size that matters (empty, a few bytes, more than one message), names with
    spaces, nested and empty directories, modes, a symlink inside."""
    root.mkdir(parents=True)
    (root / "a.txt").write_bytes(b"alpha\nbeta\nneedle gamma\n")
    (root / "empty").write_bytes(b"")
    (root / "big.bin").write_bytes(bytes(range(256)) * 1000 + b"needle at the end\n")  # 256 KB: many messages
    (root / "with space.txt").write_bytes(b"spaced needle\n")
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "sub" / "deeper" / "c.txt").write_bytes(b"c" * 5000)
    (root / "sub" / "run.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    (root / "sub" / "run.sh").chmod(0o755)
    (root / "sub" / "secret").write_bytes(b"s")
    (root / "sub" / "secret").chmod(0o600)
    (root / "nothing").mkdir()
    return root


def sealed(busybox, argv, grants, **kw):
    with Mounts(grants, 1 << 30) as mounts:
        return run_pico(busybox, argv, env=ENV, mounts=mounts, **kw)


def native(busybox, argv):
    return run_native(busybox, argv, env={"TZ": "UTC"})


def without_owners(text: bytes) -> bytes:
    """ls -ln without its uid and gid columns: the picoprocess's files are its virtual user's."""
    out = []
    for line in text.split(b"\n"):
        f = line.split()
        out.append(b" ".join(f[:2] + f[4:]) if len(f) >= 9 else line)
    return b"\n".join(out)


def sorted_lines(text: bytes) -> bytes:
    return b"\n".join(sorted(text.split(b"\n")))


READ_ONLY = {
    "ls -ln": (lambda d: ["ls", "-ln", d], without_owners),
    "ls -lnR": (lambda d: ["ls", "-lnR", d], without_owners),
    "find": (lambda d: ["find", d], sorted_lines),
    "find -type f -size": (lambda d: ["find", d, "-type", "f", "-size", "+1k"], sorted_lines),
    "wc": (lambda d: ["wc", f"{d}/a.txt", f"{d}/big.bin", f"{d}/with space.txt", f"{d}/empty"], None),
    "md5sum": (lambda d: ["md5sum", f"{d}/big.bin", f"{d}/sub/deeper/c.txt"], None),
    "cat": (lambda d: ["cat", f"{d}/big.bin"], None),
    "tail -c": (lambda d: ["tail", "-c", "100", f"{d}/big.bin"], None),
    "du -a": (lambda d: ["du", "-a", d], sorted_lines),
    "stat": (lambda d: ["stat", "-c", "%n %s %b %f %h %Y", f"{d}/a.txt", f"{d}/sub", f"{d}/sub/run.sh", d], None),
    "grep -r": (lambda d: ["grep", "-r", "needle", d], sorted_lines),
    "sort": (lambda d: ["sort", "-r", f"{d}/a.txt"], None),
}


@pytest.mark.parametrize("name", sorted(READ_ONLY))
def test_a_read_only_grant_reads_as_natively(busybox, tmp_path, name):
    d = make_tree(tmp_path / "data")
    argv_of, norm = READ_ONLY[name]
    argv = argv_of(str(d))
    want = native(busybox, argv)
    got = sealed(busybox, argv, [grant(d, str(d), rw=False)])
    norm = norm or (lambda b: b)
    assert (got.code, norm(got.stdout), got.stderr) == (want.returncode, norm(want.stdout), want.stderr)
    assert got.stdout, "the comparison must compare something"


def tree_of(root: Path) -> dict:
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(d) / name
            s = p.lstat()
            out[str(p.relative_to(root))] = (stat.S_IFMT(s.st_mode), stat.S_IMODE(s.st_mode), s.st_size,
                                             p.read_bytes() if p.is_file() and not p.is_symlink() else None)
    return out


# Each step runs as its own program (a picoprocess has no fork: busybox's shell runs builtins only).
# No cp -r: it sets each directory's mode with chmod, which the layer does not have yet (for any
# route): "can't preserve permissions" on stderr.
STEPS = [
    ["mkdir", "-p", "{out}/copy/deeper"],
    ["cp", "{src}/sub/run.sh", "{src}/sub/secret", "{out}/copy"],
    ["cp", "{src}/big.bin", "{src}/a.txt", "{out}/copy/deeper"],
    ["mkdir", "-p", "{out}/made/a/b"],
    ["mv", "{out}/copy/run.sh", "{out}/made/a/run.sh"],
    ["mv", "{out}/copy/deeper", "{out}/made/a/b/moved"],
    ["sh", "-c", "echo first > {out}/made/log; echo second >> {out}/made/log"],
    ["dd", "if={src}/big.bin", "of={out}/made/dd", "bs=1000", "seek=3", "count=70"],
    ["truncate", "-s", "123", "{out}/made/dd"],
    ["rm", "-r", "{out}/copy"],
    ["rmdir", "{out}/made/a/b/moved"],
    ["rm", "{out}/made/a/b/moved/a.txt"],
    ["rmdir", "{out}/made/a/b/moved"],
    ["ls", "-ln", "{out}/made", "{out}/made/a"],
    ["cat", "{out}/made/log"],
]


def test_a_rw_grant_leaves_what_the_native_run_leaves(busybox, tmp_path):
    """The steps run natively on OUT, then OUT is set aside and they run sealed on a fresh OUT
    (granted rw, the source ro): every step prints the same, and the two OUTs are the same tree."""
    src = make_tree(tmp_path / "src")
    out = tmp_path / "out"
    out.mkdir()
    argvs = [[a.format(src=src, out=out) for a in step] for step in STEPS]
    wants = [native(busybox, argv) for argv in argvs]
    out.rename(tmp_path / "native")
    out.mkdir()
    before = tree_of(src)
    for argv, want in zip(argvs, wants):
        got = sealed(busybox, argv, [grant(src, str(src), rw=False), grant(out, str(out), rw=True)])
        norm = without_owners if argv[0] == "ls" else (lambda b: b)
        assert (got.code, norm(got.stdout), got.stderr) == (want.returncode, norm(want.stdout), want.stderr), argv
    assert tree_of(out) == tree_of(tmp_path / "native")
    assert tree_of(src) == before


def test_nothing_leaves_a_grant_and_an_ro_grant_is_read_only(busybox, tmp_path):
    """A rename from a rw grant into an ro one, or out of every mount, is refused (EXDEV: another
    route); mv's fallback, copying, meets the ro grant (EROFS) or no route (ENOENT); a hard link
    or a symlink cannot be made at all (the layer has no such call)."""
    ro, rw = make_tree(tmp_path / "ro"), tmp_path / "rw"
    rw.mkdir()
    (rw / "f").write_bytes(b"mine\n")
    grants = [grant(ro, "/ro", rw=False), grant(rw, "/rw", rw=True)]
    cases = [
        (["mv", "/rw/f", "/ro/f"], b"mv: can't create '/ro/f': Read-only file system\n"),
        (["mv", "/rw/f", "/elsewhere"], b"mv: can't create '/elsewhere': Read-only file system\n"),
        (["rm", "/ro/a.txt"], b"rm: can't remove '/ro/a.txt': Read-only file system\n"),
        (["ln", "/rw/f", "/rw/hard"], b"ln: /rw/hard: Function not implemented\n"),
        (["ln", "-s", str(ro / "a.txt"), "/rw/soft"], b"ln: /rw/soft: Function not implemented\n"),
        (["sh", "-c", "echo x > /ro/new"], b"sh: can't create /ro/new: Read-only file system\n"),
    ]
    before = tree_of(ro)
    for argv, err in cases:
        r = sealed(busybox, argv, grants)
        assert (r.code, r.stderr) == (1, err), argv
    assert tree_of(ro) == before
    assert sorted(os.listdir(rw)) == ["f"] and (rw / "f").read_bytes() == b"mine\n"


# -- an image's mount points ---------------------------------------------------------------

def xax(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xax_emu", *map(str, args)], capture_output=True, timeout=120,
                          cwd=cwd, env={**os.environ, "TZ": "UTC"})


def program_stderr(proc: subprocess.CompletedProcess) -> bytes:
    """The program's stderr: without run's own note on the calls no profile handles."""
    return b"".join(line for line in proc.stderr.splitlines(keepends=True)
                    if not (line.startswith(b"xax-emu: ") and b"no profile handles" in line))


def one_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.decode().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("xax-emu: "), proc.stderr
    return lines[0]


MANIFEST = """[app]
name = "bb"
entry = "/bin/busybox"
[files]
"/bin/busybox" = "/bin/busybox"
[mounts]
{mounts}
"""


@pytest.fixture(scope="module")
def bb_image(busybox, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bbimage")
    (d / "bb.toml").write_text(MANIFEST.format(mounts='"/input" = "ro"\n"/work/out" = "rw"'))
    pack_image(str(d / "bb.toml"), str(d / "bb.tar"))
    return d / "bb.tar"


def test_inspect_lists_the_mount_points(bb_image):
    info = json.loads(xax("inspect", "--json", bb_image).stdout)
    assert info["mounts"] == {"/input": "ro", "/work/out": "rw"}
    text = xax("inspect", bb_image).stdout.decode()
    assert "mount    /input (read-only): absent unless granted (run --mount HOSTDIR:/input)" in text
    assert "mount    /work/out (read-write): absent unless granted (run --mount HOSTDIR:/work/out:rw)" in text


def test_an_image_takes_grants_at_its_declared_points_only(bb_image, tmp_path):
    d = make_tree(tmp_path / "data")
    out = tmp_path / "out"
    out.mkdir()
    absent = xax("run", bb_image, "--", "ls", "/input")
    assert (absent.returncode, program_stderr(absent)) == (1, b"ls: /input: No such file or directory\n")
    listed = xax("run", "--mount", f"{d}:/input", bb_image, "--", "ls", "/input")
    assert (listed.returncode, listed.stdout) == (0, b"a.txt\nbig.bin\nempty\nnothing\nsub\nwith space.txt\n")
    assert "declares no mount point /elsewhere (its [mounts]: /input (ro), /work/out (rw))" in one_line(
        xax("run", "--mount", f"{d}:/elsewhere", bb_image, "--", "true"))
    assert "the image declares /input read-only" in one_line(xax("run", "--mount", f"{d}:/input:rw", bb_image))
    copied = xax("run", "--mount", f"{d}:/input", "--mount", f"{out}:/work/out:rw", bb_image, "--",
                 "cp", "/input/a.txt", "/work/out/copy")
    assert copied.returncode == 0 and (out / "copy").read_bytes() == (d / "a.txt").read_bytes()
    ro = xax("run", "--mount", f"{out}:/work/out", bb_image, "--", "rm", "/work/out/copy")
    assert ro.returncode == 1 and b"Read-only file system" in program_stderr(ro) and (out / "copy").exists()


def test_grants_of_a_bare_program_and_their_refusals(busybox, tmp_path):
    d = make_tree(tmp_path / "data")
    ok = xax("run", "--mount", f"{d}:/anywhere/at/all", busybox, "--", "cat", "/anywhere/at/all/a.txt")
    assert ok.returncode == 0 and ok.stdout == (d / "a.txt").read_bytes()
    for mount, words in ((f"{d}:/dev/x", "overlaps the profile's route at /dev"),
                         (f"{d}:/", "cannot be '/'"), (f"{d}:relative", "must be absolute"), ("/in", "not HOST:GUEST"),
                         (f"{tmp_path}/absent:/in", "No such file or directory"),
                         (f"{d}/a.txt:/in", "Not a directory")):
        assert words in one_line(xax("run", "--mount", mount, busybox, "--", "true")), mount
    assert "overlaps the mount at /in" in one_line(
        xax("run", "--mount", f"{d}:/in", "--mount", f"{d}:/in/sub", busybox, "--", "true"))


@pytest.mark.parametrize("mounts, words", [
    ('"/bin" = "ro"', "is a dir of the image"),
    ('"/bin/busybox/x" = "ro"', "lies under /bin/busybox, a file of the image"),
    ('"/proc/x" = "ro"', "overlaps the profile's route at /proc"),
    ('"/in" = "rx"', 'the mode must be "ro" or "rw"'),
    ('"/" = "ro"', "cannot be '/'"),
    ('"/a" = "ro"\n"/a/b" = "rw"', "overlaps the mount point /a"),
    ('"/.xax/m" = "ro"', "/.xax is the image's own directory"),
    ('"/a/../b" = "ro"', "must not contain '..'"),
])
def test_pack_refuses_mount_points_that_would_hide_or_overlap(tmp_path, mounts, words):
    (tmp_path / "bb.toml").write_text(MANIFEST.format(mounts=mounts))
    with pytest.raises(ManifestError, match="mounts") as e:
        pack_image(str(tmp_path / "bb.toml"), str(tmp_path / "bb.tar"))
    assert words in str(e.value)


def test_an_image_whose_metadata_declares_a_bad_mount_point_is_refused():
    from image_support import image, meta
    from image_support import file_info, APP
    files = {"/bin/app": file_info(APP)}
    for mounts, words in (({"/bin": "ro"}, "is a dir of the image"), ({"/bin/app": "rw"}, "is a file"),
                          ({"/in": "all"}, "the mode"), ({"/in//x": "ro"}, "normalized form"),
                          ({"/x": "ro", "/x/y": "ro"}, "overlaps"), ([], "must be a table")):
        with pytest.raises(ImageError, match="mounts") as e:
            validate(image([], meta_obj=meta(files, mounts=mounts)))
        assert words in str(e.value), mounts
    validate(image([], meta_obj=meta(files, mounts={"/in": "ro", "/bin/in": "rw"})))  # beside the image's own


# -- the RAM disks after the run ------------------------------------------------------------

RAM_PROFILE = '''from xax_emu.profiles import load
from xax_emu.syscalls.profile import Profile, RamDisk
P = Profile("ramtmp", extends=[load("static-libc")],
            routes={"/tmp": RamDisk(size=1 << 20), "/var/tmp": RamDisk(size=1 << 20)})
'''


def test_export_ram_keeps_what_the_program_left(busybox, tmp_path):
    (tmp_path / "prof.py").write_text(RAM_PROFILE)
    out = tmp_path / "out"
    r = xax("run", "--profile", f"{tmp_path}/prof.py:P", "--export-ram", out, busybox, "--", "sh", "-c",
            "echo report > /tmp/report.txt; echo kept > /var/tmp/kept; exit 7")
    assert (r.returncode, program_stderr(r)) == (7, b"")
    assert (out / "tmp" / "report.txt").read_bytes() == b"report\n"
    assert (out / "var" / "tmp" / "kept").read_bytes() == b"kept\n"
    again = xax("run", "--profile", f"{tmp_path}/prof.py:P", "--export-ram", out, busybox, "--", "true")
    assert "the directory is not empty" in one_line(again)


def test_export_ram_says_so_when_the_program_did_not_exit(busybox, tmp_path):
    (tmp_path / "prof.py").write_text(RAM_PROFILE)
    r = xax("run", "--profile", f"{tmp_path}/prof.py:P", "--export-ram", tmp_path / "out", "--wall-seconds", "0.5",
            busybox, "--", "sh", "-c", "echo x > /tmp/f; while :; do :; done")
    lines = r.stderr.decode().splitlines()
    assert r.returncode == 2 and lines == [
        "xax-emu: wall-clock limit of 0.5 s reached",
        f"xax-emu: --export-ram {tmp_path / 'out'}: the program did not exit by itself (killed, or its last "
        "thread ended without exit_group): the RAM disks were not exported"]
    assert not (tmp_path / "out").exists()


def test_export_ram_through_run_pico(busybox, tmp_path):
    """The same through the launch code the tests share: the collector is the caller's."""
    (tmp_path / "prof.py").write_text(RAM_PROFILE)
    export = RamExport(1 << 20)
    try:
        r = run_pico(busybox, ["sh", "-c", "echo data > /tmp/f"], profile=f"{tmp_path}/prof.py:P", export_ram=export)
        assert r.code == 0 and export.done
        assert extract(export, str(tmp_path / "out")) == 3  # tmp, tmp/f and var/tmp (var is no member)
        assert (tmp_path / "out" / "tmp" / "f").read_bytes() == b"data\n"
    finally:
        export.close()


def test_export_ram_of_a_family_is_the_entrys_at_its_exit(busybox, tmp_path):
    """The family shares its RAM disks: a child's exit (the subshell) must not export them
    before the entry wrote the rest (it did: /tmp/late was lost)."""
    (tmp_path / "prof.py").write_text(RAM_PROFILE)
    out = tmp_path / "out"
    r = xax("run", "--processes", "4", "--profile", f"{tmp_path}/prof.py:P", "--export-ram", out, busybox, "--",
            "sh", "-c", "echo a > /tmp/a; (echo sub > /tmp/sub); echo late > /tmp/late; exit 3")
    assert (r.returncode, program_stderr(r)) == (3, b"")
    assert sorted(p.name for p in (out / "tmp").iterdir()) == ["a", "late", "sub"]
    assert (out / "tmp" / "late").read_bytes() == b"late\n"


def test_a_forked_member_asking_to_export_is_refused():
    """The Monitor's half: EXPORT_RAM from a member (not the entry) is answered -1 and
    reaches no sink, whatever the member's layer does."""
    import socket

    from xax_emu import protocol as p
    from xax_emu.monitor import xaxcalls
    from xax_emu.monitor.family import Member

    taken = []

    class Sink:
        def take(self, payload, last):
            taken.append(payload)
            return True

        def abandon(self, why):
            taken.append(why)

    class Entry:
        holds, pgid, sid, programs, first_program = set(), 100, 100, [], "/bin/sh"
        name = "fam"
        export_ram = Sink()

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours, theirs:
        member = Member(Entry(), ours, 101, Entry())
        msg = p.Message(p.TYPES["EXPORT_RAM"], -1, p.EXPORT_LAST, 7, b"x" * 512)
        xaxcalls.export_ram(member, msg)
        answer = theirs.recv(p.HEADER_SIZE + 16)
    assert taken == []
    assert p.HEADER.unpack_from(answer)[4] == -1
