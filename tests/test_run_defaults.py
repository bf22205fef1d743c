"""What `run` does unless told otherwise: a wall-clock limit (said when it fires, lifted by
--wall-seconds 0), and /tmp and /var/tmp as RAM disks."""
import shutil

from xax_emu import cli
from xax_emu.launch import defaults

from conftest import run_pico

BUSYBOX = shutil.which("busybox")


def test_the_default_wall_limit_fires_and_says_so(monkeypatch, capfd):
    monkeypatch.setattr(defaults, "WALL_SECONDS", 1.0)
    code = cli.main(["run", BUSYBOX, "--", "sleep", "30"])
    err = capfd.readouterr().err
    assert code == 128 + 9
    assert ("xax-emu: wall-clock limit of 1 s reached (run's default limit; --wall-seconds N sets another, "
            "--wall-seconds 0 none)") in err.splitlines()


def test_wall_seconds_0_lifts_it(monkeypatch, capfd):
    monkeypatch.setattr(defaults, "WALL_SECONDS", 1.0)
    assert cli.main(["run", "--wall-seconds", "0", BUSYBOX, "--", "sleep", "2"]) == 0
    assert "limit" not in capfd.readouterr().err


def test_a_limit_given_is_not_called_the_default(capfd):
    assert cli.main(["run", "--wall-seconds", "1", BUSYBOX, "--", "sleep", "30"]) == 128 + 9
    assert "xax-emu: wall-clock limit of 1 s reached" in capfd.readouterr().err.splitlines()


def test_tmp_and_var_tmp_are_ram_disks():
    # sh's builtins only (an applet like cat would need a process): [ -s FILE ] is a stat
    r = run_pico(BUSYBOX, ["sh", "-c", "echo a > /tmp/f && echo b > /var/tmp/g && [ -s /tmp/f ] && [ -s /var/tmp/g ] "
                                       "&& echo both; echo c > /etc/f"])
    assert (r.code, r.stdout) == (1, b"both\n")
    assert r.stderr.startswith(b"sh: can't create /etc/f: ")  # outside them a bare program has no files
