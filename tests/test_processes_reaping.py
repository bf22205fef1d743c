"""The Monitor as subreaper of several families in one process (issue 14; serve runs many):
zombies that come to it from a family (a raw clone's child whose parent ended first) are reaped
while that family runs on, each by its own family (by session), and nothing is left at the end
(tests/hostile/fork_family.c orphans)."""
from pathlib import Path

from xax_emu.launch.program import resolve
from xax_emu.launch.request import Request, start_kwargs
from xax_emu.monitor import Limits, Monitor, Stdio

# _leftovers_before is autouse: what other tests' Monitors left before each test is not its
from test_processes import _build, _leftovers_before, _ours_left  # noqa: F401

HERE = Path(__file__).parent


def test_two_families_in_one_monitor_reap_their_own_orphans(tmp_path):
    prog = _build(tmp_path, HERE / "hostile" / "fork_family.c", "ff")
    log: list[str] = []
    outs = [bytearray(), bytearray()]
    monitor = Monitor(log=log.append)
    try:
        lim = Limits(wall_seconds=60, processes=4)
        picos = []
        for out in outs:
            request = Request(resolve(str(prog), None, None), ["orphans"], [], None,
                              {k: v for k, v in vars(lim).items() if v}, None)
            picos.append(monitor.start(**start_kwargs(request), stdio=Stdio(stdout=out.extend, stderr=out.extend)))
        reports = monitor.run_until_done(picos)
    finally:
        monitor.close()
    for report, out in zip(reports, outs):
        assert report.reason is None and bytes(out) == b"child exited 0\nentry done\n", (report, bytes(out))
    # Each family's orphan was reaped during its run (the entry sleeps 2 s after its child ended),
    # by its own family: one line each, under each entry's name.
    reaped = [line for line in log if "reaped an orphan of the family" in line]
    assert len(reaped) == 2, log
    assert [p.orphans_reaped for p in picos] == [1, 1]
    assert _ours_left() == []
