"""Two picoprocesses share nothing (DESIGN.md, invariant 8): no kernel object that one
can reach is reachable from another, so no covert channel runs between apps of
different origins.  Each test runs two instances of one hostile program under two
Monitors at once, one trying to send and one trying to receive, and asserts that
nothing arrived.  docs/seal.md says what they can and cannot share, and why."""
from __future__ import annotations

import errno
import threading
from pathlib import Path

import pytest

from hostile_support import Canary, Listener, parse
from loopback import HttpOrigin
from test_hostile_image import image_of
from xax_emu.launch.request import Request, start_kwargs
from xax_emu.monitor import Limits, Monitor, Stdio
from xax_emu.monitor.fetch import HttpCache
from xax_emu.launch.program import resolve

ETIMEDOUT = -errno.ETIMEDOUT


class Instance:
    """One picoprocess under a Monitor of its own, run on a thread; `said(text)` waits
    until its stdout holds text."""

    def __init__(self, program: str, args: list[str], cache: HttpCache | None):
        self.out = bytearray()
        self.changed = threading.Condition()
        self.monitor = Monitor(cache=cache, log=lambda line: None)
        prog = resolve(program, None, cache)
        req = Request(prog, args, [], None, {"wall_seconds": 60})
        self.pico = self.monitor.start(**start_kwargs(req), stdio=Stdio(stdout=self._stdout, stderr=lambda b: None))
        self.report = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _stdout(self, data: bytes) -> None:
        with self.changed:
            self.out.extend(data)
            self.changed.notify_all()

    def _run(self) -> None:
        try:
            (self.report,) = self.monitor.run_until_done([self.pico])
        finally:
            with self.changed:
                self.changed.notify_all()

    def said(self, text: bytes) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: text in self.out or not self.thread.is_alive(), timeout=60) \
                and text in self.out

    def finish(self) -> dict[str, int]:
        self.thread.join(90)
        self.monitor.close()
        assert self.report is not None and (self.report.exit_code, self.report.reason) == (0, None), self.report
        return parse(bytes(self.out))


def waiter_and_waker(program: str, word: str, tmp_path: Path, cache: HttpCache | None = None):
    canary, listener = Canary(tmp_path), Listener()
    common = [str(canary.path), str(listener.port)]
    try:
        waiter = Instance(program, [*common, "wait", word], cache)
        assert waiter.said(b"waiting\n"), bytes(waiter.out)
        waker = Instance(program, [*common, "wake", word], cache)
        woke, waited = waker.finish(), waiter.finish()
        canary.assert_untouched()
        listener.assert_no_connection()
        return waited, woke
    finally:
        canary.close()
        listener.close()


UAPI = ["-idirafter", "/usr/include", "-idirafter", "/usr/include/x86_64-linux-gnu"]


def test_no_futex_between_picoprocesses_through_the_pals_code(build, tmp_path):
    """Every picoprocess maps the PAL's code from one file (xax-pico).  A non-private
    FUTEX_WAIT on a word of it in one picoprocess, FUTEX_WAKEs on the same word in
    another, under another Monitor: the wait times out and the wakes wake nobody."""
    prog = build("hostile/futex_across.c", "musl", UAPI)
    waited, woke = waiter_and_waker(str(prog), "pal", tmp_path)
    assert (waited, woke) == ({"wait": ETIMEDOUT}, {"woken": 0})


def test_no_futex_between_picoprocesses_through_a_cached_image(build, tmp_path):
    """Two runs of one image from an origin map the HTTP cache's one body file (the
    image fd, which the filter lets a program map privately).  A FUTEX_WAIT on its
    first word in one, FUTEX_WAKEs in the other: nobody is woken."""
    cache = HttpCache(tmp_path / "cache")
    with HttpOrigin() as origin:
        origin.add("/futex.tar", image_of(build("hostile/futex_across.c", "musl", UAPI)).read_bytes(),
                   Cache_Control="max-age=600")
        url = f"{origin.base}/futex.tar"
        assert resolve(url, None, cache).image.kind == "memfd"  # downloaded, and now cached
        assert resolve(url, None, cache).image.kind == "cache"  # both instances map the cache's file
        waited, woke = waiter_and_waker(url, "image", tmp_path, cache)
    assert (waited, woke) == ({"wait": ETIMEDOUT}, {"woken": 0})
