"""The program's fd numbers are all its own (issue 14): the channel and the image lie above them
(xax_emu/protocol.py CHANNEL_FD, IMAGE_FD), so a shell's `exec 3>file` works as on Linux, and no
number the program may use reaches the channel (tests/hostile/chanfd.c)."""
import errno
import subprocess
from pathlib import Path

from xax_emu.monitor import Limits
from xax_emu.protocol import CHANNEL_FD, IMAGE_FD

from conftest import run_pico
from test_processes_shell import _image, _which

HERE = Path(__file__).parent

SCRIPT = """\
f=/tmp/fd3-test.$$
exec 3>"$f"
echo hi >&3
exec 4>&3 9>&3
echo there >&4
echo nine >&9
exec 3>&- 4>&- 9>&-
cat "$f"
exec 3<"$f"
read first <&3
echo "read from 3: $first"
exec 3<&-
rm "$f"
echo done
"""


def test_a_shell_uses_fd_3_and_up_as_natively(tmp_path):
    script = tmp_path / "fds.sh"
    script.write_text(SCRIPT)
    native = subprocess.run([_which("dash"), str(script)], capture_output=True, timeout=60, env={"PATH": "/bin:/usr/bin"})
    assert native.returncode == 0 and native.stdout == b"hi\nthere\nnine\nread from 3: hi\ndone\n", native
    image = _image(tmp_path, "dash", "glibc-dynamic", script=script, tools=["cat", "rm"])
    r = run_pico(image, ["/work/script.sh"], limits=Limits(wall_seconds=60, processes=4))
    assert (r.code, r.report.reason) == (0, None), r.stderr
    assert (r.stdout, r.stderr) == (native.stdout, native.stderr)


def test_no_program_fd_number_reaches_the_channel(build, tmp_path):
    from hostile_support import hostile, parse
    assert CHANNEL_FD >= 1024 and IMAGE_FD >= 1024  # above the program's RLIMIT_NOFILE (1024)
    r = hostile(build, tmp_path, "chanfd.c")
    assert r.code == 0, r.stderr
    assert b"written through the program's fd 3\n" in r.stdout
    ebadf = -errno.EBADF
    got = parse(r.stdout)
    assert {k: got[k] for k in ("dup2_onto_3", "write_3", "close_3", "open_gets_3")} == {
        "dup2_onto_3": 3, "write_3": 35, "close_3": 0, "open_gets_3": 3}
    # The channel's and the image's numbers are no fds of the program's: as Linux answers a number
    # at or above RLIMIT_NOFILE (EBADF); close_range over everything closes only the program's.
    assert {k: got[k] for k in ("fcntl_chan", "fcntl_image", "dup2_over_chan", "dup3_over_chan", "close_chan")} == {
        "fcntl_chan": ebadf, "fcntl_image": ebadf, "dup2_over_chan": ebadf, "dup3_over_chan": ebadf,
        "close_chan": ebadf}
    assert got["close_range_all"] in (0, -errno.ENOSYS)
    assert got["still_served"] == 1
