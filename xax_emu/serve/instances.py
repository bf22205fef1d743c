"""Instances: apps launched from a page, each under its own unguessable ID.

Everything here runs on the Monitor's loop (the thread that forks picoprocesses
and outlives them); the connection threads reach it through `on_loop`.

An instance's kind comes from its image's `[http]` table (docs/serve.md):
"http" — one picoprocess, started at launch, that receives the page's
connections from xabi_accept; "stdio" and "websocket" — a picoprocess per
request or per WebSocket connection, started by the connection that needs it.

An instance ends when the last page holding it has been gone GRACE seconds,
when no page has held it for the idle limit, when its HTTP picoprocess exits,
or when `serve` stops; one log line says which.
"""
from __future__ import annotations

import concurrent.futures
import secrets
import time
from dataclasses import dataclass
from typing import Callable

from ..launch.request import Request, start_kwargs
from ..limits import LimitError
from ..monitor import Monitor, Picoprocess
from ..monitor.origin import Origin
from ..monitor.stdio import Stdio

GRACE = 2.0           # seconds between the last page's going and the instance's end (the goal is <= 5)
LOOP_CALL_TIMEOUT = 60.0
LOG_LINES = 200       # lines an "http" instance's program may add to serve's log (its stdout and stderr)
LOG_LINE_MAX = 300    # bytes of one such line shown


class ServeError(Exception):
    """A request that cannot be served: `status` and a line for the browser."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


def on_loop(monitor: Monitor, fn: Callable, timeout: float = LOOP_CALL_TIMEOUT):
    """Run `fn` on the Monitor's loop and return its result (or raise its exception)."""
    fut: concurrent.futures.Future = concurrent.futures.Future()

    def run() -> None:
        if fut.set_running_or_notify_cancel():
            try:
                fut.set_result(fn())
            except BaseException as e:  # noqa: BLE001 - handed to the waiting thread as it is
                fut.set_exception(e)

    monitor.call_soon_threadsafe(run)
    try:
        return fut.result(timeout)
    except concurrent.futures.TimeoutError:
        fut.cancel()
        raise ServeError(503, "the Monitor is too busy to answer") from None


@dataclass
class Budget:
    max_instances: int = 64
    memory: int = 64 << 30       # the sum of the running picoprocesses' address-space limits
    idle_seconds: float = 60.0


class Instance:
    def __init__(self, registry: "Registry", iid: str, program, page_origin: Origin):
        self.registry = registry
        self.id = iid
        self.program = program            # launch.program.Program: an app image, validated
        self.page_origin = page_origin    # where its page lives (proxy: the image's origin; gateway: the gateway)
        self.http = program.meta.get("http") or {}
        self.kind = self.http.get("interface", "http")
        self.pico: Picoprocess | None = None
        self.running: set[Picoprocess] = set()
        self.alive = 0                    # lifecycle connections held open by its pages
        self.ever_held = False
        self.last_held = time.monotonic()
        self.ended: str | None = None

    @property
    def name(self) -> str:
        return self.program.meta["app"].get("name") or self.program.name

    def start_picoprocess(self, args: list[str], **extra) -> Picoprocess:
        """A picoprocess of this instance's image (on the loop)."""
        if self.ended:
            raise ServeError(404, "this instance has ended")
        try:
            kwargs = start_kwargs(Request(self.program, list(args), []))
        except LimitError as e:  # the request's arguments do not fit the BOOT message
            raise ServeError(413, f"the request's arguments: {e}") from None
        self.registry.check_room(kwargs["limits"].memory)
        user_exit = extra.pop("on_exit", None)

        def exited(report) -> None:
            self.running.discard(pico)
            self.last_held = max(self.last_held, time.monotonic())
            if user_exit is not None:
                user_exit(report)
        pico = self.registry.monitor.start(**kwargs, **extra, on_exit=exited)
        self.running.add(pico)
        return pico

    # -- lifecycle ---------------------------------------------------------------

    def hold(self) -> None:
        self.alive += 1
        self.ever_held = True

    def touch(self) -> None:
        """A request reached it: activity, which the idle limit counts like a held page."""
        self.last_held = max(self.last_held, time.monotonic())

    def release(self) -> None:
        self.alive -= 1
        self.last_held = time.monotonic()

    @property
    def deadline(self) -> float | None:
        if self.ended or self.alive > 0:
            return None
        if self.ever_held:
            return self.last_held + GRACE
        return self.last_held + self.registry.budget.idle_seconds

    def on_deadline(self) -> None:
        if self.alive == 0 and not self.ended:
            self.end("its page is gone" if self.ever_held else
                     f"idle: no page held it for {self.registry.budget.idle_seconds:g} s")

    def end(self, reason: str) -> None:
        if self.ended:
            return
        self.ended = reason
        for pico in list(self.running):
            pico.kill(f"instance ended: {reason}")
        self.registry.forget(self)

    def picoprocess_exited(self, report) -> None:
        """The HTTP picoprocess of this instance exited: the instance is over."""
        self.end(f"the app exited: {report.reason or f'status {report.exit_code}'}")


class _LogSink:
    """An "http" instance's stdout or stderr (a server's access log, its warnings), as lines of
    serve's log, each prefixed with the instance and the stream: at most LOG_LINES of them, then
    one saying that the rest is dropped.  The program's writes always succeed."""

    def __init__(self, log: Callable[[str], None], who: str):
        self.log, self.who = log, who
        self.partial = bytearray()
        self.lines = 0
        self.broken = False

    def offer(self, data: bytes) -> int:
        if self.lines <= LOG_LINES:
            self.partial += data
            while self.lines <= LOG_LINES and (b"\n" in self.partial or len(self.partial) > LOG_LINE_MAX):
                nl = self.partial.find(b"\n")
                cut = nl if 0 <= nl < LOG_LINE_MAX else LOG_LINE_MAX
                line = bytes(self.partial[:cut]).decode("utf-8", "replace")
                del self.partial[:cut + (1 if cut == nl else 0)]
                self._say(line)
        return len(data)

    def _say(self, line: str) -> None:
        self.lines += 1
        if self.lines > LOG_LINES:
            self.log(f"{self.who}: more than {LOG_LINES} lines; the rest is not logged")
            self.partial.clear()
        else:
            self.log(f"{self.who}: {line}")

    def has_room(self) -> bool:
        return True

    def flush(self, timeout) -> None:
        if self.partial and self.lines < LOG_LINES:
            self._say(bytes(self.partial).decode("utf-8", "replace"))
        self.partial.clear()


class Registry:
    """The live instances, by ID; a timed object of the Monitor's loop."""

    def __init__(self, monitor: Monitor, budget: Budget, log: Callable[[str], None]):
        self.monitor = monitor
        self.budget = budget
        self.log = log
        self.instances: dict[str, Instance] = {}
        monitor.timed.append(self)

    def check_room(self, memory: int) -> None:
        used = sum(p.limits.memory for inst in self.instances.values() for p in inst.running)
        if used + memory > self.budget.memory:
            raise ServeError(503, f"the memory budget of {self.budget.memory >> 20} MiB across instances is "
                                  f"spent ({used >> 20} MiB in use)")

    def launch(self, program, page_origin: Origin) -> Instance:
        if len(self.instances) >= self.budget.max_instances:
            raise ServeError(503, f"{self.budget.max_instances} instances are running: the most allowed")
        iid = secrets.token_hex(16)
        inst = Instance(self, iid, program, page_origin)
        self.instances[iid] = inst
        try:
            if inst.kind == "http":
                # It takes the page's connections (xabi_accept, or accept(2) on its first listening
                # socket); its stdout and stderr go to serve's log, and its stdin is empty.
                stdio = Stdio(stdout=_LogSink(self.log, f"instance {iid} stdout"),
                              stderr=_LogSink(self.log, f"instance {iid} stderr"), stdin_bytes=b"")
                inst.pico = inst.start_picoprocess([], on_exit=inst.picoprocess_exited, accepts=True, stdio=stdio)
        except BaseException:
            self.instances.pop(iid, None)
            raise
        self.log(f"instance {iid} started: {inst.name} from {program.image_url} ({inst.kind}) for {page_origin}")
        return inst

    def find(self, iid: str, page_origin: Origin | None) -> Instance | None:
        """The live instance `iid`, only if asked from its own page origin."""
        inst = self.instances.get(iid)
        if inst is None or inst.ended or (page_origin is not None and page_origin != inst.page_origin):
            return None
        inst.touch()
        return inst

    def forget(self, inst: Instance) -> None:
        if self.instances.pop(inst.id, None) is not None:
            self.log(f"instance {inst.id} ended: {inst.ended}")
            if inst.program.image is not None:  # its picoprocesses hold their own copies of the fd
                inst.program.image.close()

    def end_all(self, reason: str) -> None:
        for inst in list(self.instances.values()):
            inst.end(reason)

    @property
    def deadline(self) -> float | None:
        ds = [d for d in (i.deadline for i in self.instances.values()) if d is not None]
        return min(ds) if ds else None

    def on_deadline(self) -> None:
        now = time.monotonic()
        for inst in list(self.instances.values()):
            d = inst.deadline
            if d is not None and now >= d:
                inst.on_deadline()
