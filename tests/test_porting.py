"""The pieces of `xax-emu init` and `xax-emu explain`, each against real input: strace's log
of real runs, the host's own symlinks, an image packed from a manifest."""
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xax_emu.image import load_manifest, pack
from xax_emu.image.errors import ManifestError
from xax_emu.image.validate import validate
from xax_emu.porting.environment import drop_unused_paths, split_environment
from xax_emu.porting.explain import explain_path, explain_syscall
from xax_emu.porting.hostpaths import chain, host_reason
from xax_emu.porting.observe import Observation
from xax_emu.porting.strace import Recording, fd_path, parse_log, split_args, strace_command, unquote
from xax_emu.profiles import load
from xax_emu.syscalls import answers, catalogue
from xax_emu.syscalls.profile import Reject, resolve
from xax_emu.seal import allowed_names


def test_parse_log_joins_unfinished_calls_and_reads_fd_paths():
    log = ('7 openat(AT_FDCWD</w (1)>, "a\\"b\\n\\303\\251", O_RDONLY) = 3</w (1)/a"b\\n\\303\\251>\n'
           '7 read(0x3, 0x1000, 0x40 <unfinished ...>\n'
           '8 clone3({flags=CLONE_VM, exit_signal=SIGCHLD}, 88) = 9\n'
           '7 <... read resumed>) = 0x40\n'
           '7 newfstatat(AT_FDCWD</w>, "/nope", 0x7ffc, 0) = -1 ENOENT (No such file or directory)\n'
           '7 exit_group(0) = ?\n')
    calls = parse_log(log)
    assert [c.name for c in calls] == ["openat", "clone3", "read", "newfstatat", "exit_group"]
    assert unquote(calls[0].args[1]) == 'a"b\né' and fd_path(calls[0].args[0]) == "/w (1)"
    assert calls[0].ret == 3 and calls[0].ret_path == '/w (1)/a"b\né'
    assert (calls[2].ret, calls[2].errno) == (0x40, None)
    assert (calls[3].answer(), calls[4].answer()) == ("-ENOENT", "?")
    assert split_args('{a=1, b=[2, 3]}, "x,y", 4') == ["{a=1, b=[2, 3]}", '"x,y"', "4"]


def test_observation_of_a_real_run(tmp_path):
    """A real program under strace: its opens, its listing, its write, the child it started."""
    (tmp_path / "in").write_text("x")
    script = ("import os; open('in').read(); os.listdir('/etc'); open('/tmp/xax-obs-" + str(os.getpid()) +
              "', 'w').close(); os.system('true')")
    log = tmp_path / "log"
    subprocess.run([*strace_command(str(log)), "--", sys.executable, "-S", "-c", script], cwd=tmp_path, check=True)
    obs = Observation()
    obs.add(Recording.from_log(log.read_text()), str(tmp_path))
    assert "open" in obs.paths[str(tmp_path / "in")].ok
    assert "list" in obs.paths["/etc"].ok and obs.paths["/etc"].directory
    assert "write" in obs.paths[f"/tmp/xax-obs-{os.getpid()}"].ok
    assert obs.children  # os.system's /bin/sh: started by a child process, not the program's own
    assert "execve" not in obs.answers  # the program's own start is strace's, not a call it made
    os.unlink(f"/tmp/xax-obs-{os.getpid()}")


def test_environment_less_the_hosts_own():
    env = split_environment({"HOME": "/home/u", "LANG": "C.UTF-8", "TERM": "xterm", "SSH_TTY": "/dev/pts/1",
                             "PATH": "/home/u/bin:/usr/bin", "CFG": "/home/u/.cfg", "T": "/tmp/x/y",
                             "XZ_OPT": "-9", "CERTS": "/etc/ssl/c.pem"}, home="/home/u")
    assert env.kept == {"LANG": "C.UTF-8", "PATH": "/usr/bin", "XZ_OPT": "-9", "CERTS": "/etc/ssl/c.pem"}
    assert set(env.dropped) == {"HOME", "TERM", "SSH_TTY", "PATH", "CFG", "T"}
    drop_unused_paths(env, {"/usr/bin/xz"})
    assert "CERTS" not in env.kept and env.dropped["CERTS"] == "names a host path the runs never used"
    env2 = split_environment({"CERTS": "/etc/ssl/c.pem"}, home="/home/u")
    drop_unused_paths(env2, {"/etc/ssl/c.pem"})
    assert env2.kept == {"CERTS": "/etc/ssl/c.pem"}


def test_chain_follows_the_hosts_symlinks(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text("f")
    (tmp_path / "dir").symlink_to("real")
    (tmp_path / "abs").symlink_to(tmp_path / "dir" / "f")
    physical, links = chain(str(tmp_path / "abs"))
    assert physical == str(tmp_path / "real" / "f")
    assert links == [(str(tmp_path / "abs"), str(tmp_path / "dir" / "f")), (str(tmp_path / "dir"), "real")]
    assert chain(str(tmp_path / "nothing")) is None
    assert host_reason("/proc/cpuinfo", "/home/u").startswith("the host's processes")
    assert host_reason("/home/u/.jq", "/home/u").startswith("the user's home")
    assert host_reason("/usr/share/x", "/home/u") is None


def test_answers_table_rules():
    """Every row names a real call the shipped bases leave missing (and the seal does not let
    through), says why, and a fixed answer is a valid errno or a value."""
    base = resolve(load("glibc-dynamic"))
    for name, row in answers.TABLE.items():
        catalogue.by_name(name)
        assert row.reason, name
        assert name not in allowed_names(), name
        assert base.disposition(name).kind == "missing", f"{name}: the base answers it already"
        assert row.errno is None or row.errno in errno.errorcode, name
        assert not (row.errno is not None and row.value is not None), name
        assert not row.native or row.fixed, f"{name}: native needs a default"


def test_a_native_answer_is_taken_where_harmless(monkeypatch):
    """A row marked native (none is today: setgroups was, until the bases answered it) takes the
    native answer if it is one and 0 or an errno, else its default."""
    monkeypatch.setitem(answers.TABLE, "setfsuid", answers.Answer(value=0, native=True, reason="a test row"))
    setfsuid = answers.disposition("setfsuid", {"0": 3})
    assert isinstance(setfsuid, Reject) and setfsuid.value == 0 and "native answer on all 3" in setfsuid.note
    assert answers.disposition("setfsuid", {"-EPERM": 1}).errno == errno.EPERM
    assert answers.disposition("setfsuid", {"0": 1, "-EPERM": 1}).value == 0  # not one answer: the default
    assert answers.disposition("poll", {"1": 4}) is None and answers.disposition("nosuchcall") is None


def test_manifest_argv0_symlinks_and_dirs(tmp_path):
    """busybox picks its applet by argv[0]: with argv0 = "echo" the image's busybox is echo."""
    busybox = os.path.realpath("/bin/busybox")
    (tmp_path / "m.toml").write_text(
        'dirs = ["/var/empty"]\n[app]\nname = "t"\nentry = "/bin/busybox"\nargv0 = "echo"\n'
        f'[files]\n"/usr/bin/busybox" = "{busybox}"\n[symlinks]\n"/bin" = "usr/bin"\n"/etc/x" = "/usr/bin/busybox"\n')
    m = load_manifest(tmp_path / "m.toml")
    assert m.argv0 == "echo" and m.dirs == ("/var/empty",)
    pack(tmp_path / "m.toml", tmp_path / "t.tar")
    image = validate(tmp_path / "t.tar")
    assert image.meta["app"]["argv0"] == "echo"
    assert image.kind_of("/bin") == ("symlink", "usr/bin") and image.kind_of("/var/empty") == ("dir", None)
    assert image.kind_of("/etc/x") == ("symlink", "/usr/bin/busybox")
    from conftest import run_pico
    r = run_pico(tmp_path / "t.tar", ["from", "argv0"])
    assert (r.code, r.stdout) == (0, b"from argv0\n")
    for bad, key in (('[symlinks]\n"/" = "x"\n', "symlinks"), ('[symlinks]\n"/a" = ""\n', "symlinks"),
                     ('[app]\nname = "t"\nentry = "/a"\nargv0 = ""\n', "app.argv0"),
                     ('dirs = ["rel"]\n[app]\nname = "t"\nentry = "/a"\n', "dirs")):
        text = bad if "[app]" in bad else '[app]\nname = "t"\nentry = "/a"\n' + bad
        (tmp_path / "bad.toml").write_text(text)
        with pytest.raises(ManifestError, match=key):
            load_manifest(tmp_path / "bad.toml")


def test_explain_paths_and_syscalls(tmp_path, build):
    prog = build("programs/hello.c")
    (tmp_path / "m.toml").write_text(
        f'[app]\nname = "t"\nentry = "/bin/hello"\ncwd = "/bin"\n[files]\n"/usr/bin/hello" = "{prog}"\n'
        '[symlinks]\n"/bin" = "usr/bin"\n')
    pack(tmp_path / "m.toml", tmp_path / "t.tar")
    image = validate(tmp_path / "t.tar")
    hello = explain_path(image, "hello")
    assert hello.subject == "/bin/hello" and "a file of" in hello.answer
    assert "/bin is a symlink to usr/bin" in hello.details
    gone = explain_path(image, "/etc/passwd")
    assert gone.answer.endswith("absent (ENOENT)") and any("the host's users" in d for d in gone.details)
    assert "RAM disk of 64 MiB" in explain_path(image, "/tmp/a").answer
    assert "absent" in explain_path(image, "/dev/sda").answer
    profile = load("static-libc")
    clone = explain_syscall(profile, "clone")
    assert clone.answer.startswith("emulate processes, set by profile 'posix-core'")
    assert any(d.startswith("the seal lets 2 argument form(s) reach the kernel") for d in clone.details)
    assert explain_syscall(profile, "rseq").answer.startswith("reject -ENOSYS, set by profile 'static-libc'")
    getpriority = explain_syscall(profile, "140")
    assert getpriority.subject == "getpriority (nr 140)" and getpriority.answer.startswith("missing")
    assert any("answers 20" in d for d in getpriority.details)
    r = subprocess.run([sys.executable, "-m", "xax_emu", "explain", "--json", str(tmp_path / "t.tar"), "hello",
                        "exit_group"], capture_output=True, timeout=60)
    out = json.loads(r.stdout)
    assert [o["kind"] for o in out] == ["path", "syscall"]
    assert out[1]["answer"] == "reaches the kernel (the allowlist): the profile is never asked"


def test_a_directory_listed_inside_another_listed_one_is_taken_once(tmp_path):
    """ruby lists a gem directory and a directory inside it: each is taken whole, so the
    inner one must not be placed again (pack refuses a file placed twice)."""
    from xax_emu.porting.plan import Plan, _drop_inside_listed
    outer, inner = str(tmp_path / "specs"), str(tmp_path / "specs" / "default")
    plan = Plan(name="x", entry="/bin/x", argv0="x", base="glibc-dynamic", env=None)
    plan.listed = {outer: outer, inner: inner, str(tmp_path / "other"): str(tmp_path / "other")}
    plan.files = {inner + "/a.gemspec": inner + "/a.gemspec"}
    _drop_inside_listed(plan)
    assert sorted(plan.listed) == sorted([outer, str(tmp_path / "other")]) and plan.files == {}
