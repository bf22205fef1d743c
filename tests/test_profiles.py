"""Profiles: declarative dispositions and routes, composed from bases, with errors that name what is wrong."""
import errno

import pytest

from xax_emu.syscalls.profile import (Deny, Profile, ProfileError, RamDisk, Tar, Uname, emulate, forward, origin,
                                      reject, resolve)

core = Profile("core", syscalls={
    "getuid": emulate("identity", note="the virtual user"),
    "socket": reject(errno.EACCES, note="no sockets: use xabi_open_url"),
    "sched_yield": reject(value=0, note="one thread: nothing to yield to"),
}, routes={"/tmp": RamDisk(size=1 << 20)})
libc = Profile("libc", syscalls={"getuid": emulate("identity", note="the virtual user"),
                                 "getrandom": forward(note="the Monitor's randomness")},
               routes={"/usr": Tar("usr")})


def test_bases_compose_and_the_app_overrides():
    app = Profile("app", extends=[core, libc], syscalls={"socket": reject(errno.EPERM)},
                  routes={"/data": origin("/data", {"a.txt": "0" * 64}), "/proc": Deny()})
    r = resolve(app)
    assert r.syscalls["getuid"].describe() == "emulate identity"
    assert r.syscalls["socket"].result() == -errno.EPERM and r.origins["socket"] == "app"
    assert r.syscalls["sched_yield"].result() == 0
    assert r.origins["getrandom"] == "libc"
    assert r.disposition("openat").kind == "missing"
    assert set(r.routes) == {"/tmp", "/usr", "/data", "/proc"}


def test_two_apps_share_a_base():
    a = resolve(Profile("a", extends=[core], syscalls={"getpid": reject(value=1)}))
    b = resolve(Profile("b", extends=[core]))
    assert a.syscalls["socket"] is b.syscalls["socket"]
    assert "getpid" in a.syscalls and "getpid" not in b.syscalls


def test_conflicting_bases_are_an_error_naming_both():
    other = Profile("other", syscalls={"socket": reject(errno.ENOSYS)})
    with pytest.raises(ProfileError, match=r"'app'.*bases 'core' and 'other' disagree about syscall 'socket'"):
        resolve(Profile("app", extends=[core, other]))
    # ... and the app settles it with its own entry
    assert resolve(Profile("app", extends=[core, other], syscalls={"socket": reject(errno.EACCES)}))


def test_conflicting_routes_and_knobs():
    a = Profile("a", routes={"/usr": Tar("x")}, uname=Uname(nodename="a"))
    b = Profile("b", routes={"/usr": Tar("y")})
    with pytest.raises(ProfileError, match="disagree about route '/usr'"):
        resolve(Profile("app", extends=[a, b]))
    c = Profile("c", uname=Uname(nodename="c"))
    with pytest.raises(ProfileError, match="disagree about knob 'uname'"):
        resolve(Profile("app", extends=[a, c], routes={"/usr": Tar()}))


def test_diamond_is_not_a_conflict():
    left = Profile("left", extends=[core])
    right = Profile("right", extends=[core])
    assert resolve(Profile("app", extends=[left, right])).syscalls["socket"].result() == -errno.EACCES


@pytest.mark.parametrize("make,message", [
    (lambda: Profile("p", syscalls={"opne": reject(errno.EPERM)}), "no x86-64 system call 'opne'"),
    (lambda: Profile("p", syscalls={"open": "reject"}), "syscall 'open': use reject"),
    (lambda: Profile("p", routes={"tmp": RamDisk()}), "route 'tmp' must be an absolute path"),
    (lambda: Profile("p", routes={"/a/../b": RamDisk()}), "must not contain"),
    (lambda: Profile("p", routes={"/a/": RamDisk()}), "without a trailing /"),
    (lambda: reject(), "exactly one"),
    (lambda: reject(123456), "not an errno"),
])
def test_mistakes_are_named(make, message):
    with pytest.raises(ProfileError, match=message):
        make()


def test_self_extension_is_refused():
    p = Profile("p")
    object.__setattr__(p, "extends", (p,))
    with pytest.raises(ProfileError, match="extends itself"):
        resolve(p)


def test_emulate_all_names_every_call_the_handler_serves():
    from xax_emu.syscalls.handlers import HANDLERS
    from xax_emu.syscalls.profile import emulate_all

    files = emulate_all("vfs", note="the routes")
    assert set(files) == set(HANDLERS["vfs"].functions) and {"openat", "pipe2", "getcwd"} <= set(files)
    assert {d.describe() for d in files.values()} == {"emulate vfs"} and files["read"].note == "the routes"
    app = Profile("app", syscalls={**files, "ioctl": emulate("vfs", note="no terminal")})
    assert resolve(app).syscalls["ioctl"].note == "no terminal"  # an entry after it settles one call
    with pytest.raises(ProfileError, match=r"emulate_all\(\): the layer has no handler 'files' \(handlers: "):
        emulate_all("files")


def test_a_profile_file_not_named_py_is_a_profile_error(tmp_path):
    """importlib makes no module spec for a file whose name does not end in .py: that was an
    AttributeError out of load(), a traceback from `xax-emu syscalls FILE:NAME` (found by
    tests/fuzz/fz_cli.py)."""
    from xax_emu.profiles import load
    path = tmp_path / "profile.txt"
    path.write_text("APP = None\n")
    with pytest.raises(ProfileError, match=r"profile\.txt: not a Python file \(a profile is FILE\.py:NAME\)"):
        load(f"{path}:APP")
