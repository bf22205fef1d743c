"""The hostile suite: one small C program per attack.  Each test proves that
nothing outside was reached (the canary stays unread and unchanged, the
loopback listener accepts nothing) and that the Monitor stays up.

Results printed by the programs are the values the attempts got back: -38 is
-ENOSYS, the layer's answer to a call it has no handler for."""
import errno

from hostile_support import hostile

ENOSYS = -errno.ENOSYS


def parse(stdout: bytes) -> dict[str, int]:
    out = {}
    for line in stdout.decode().splitlines():
        name, _, value = line.partition(" = ")
        out[name] = int(value)
    return out


def test_path_calls_reach_no_host_file(build, tmp_path):
    r = hostile(build, tmp_path, "open_host_file.c")
    assert r.code == 0
    results = parse(r.stdout)
    assert len(results) == 11
    assert all(v == ENOSYS for v in results.values()), results
