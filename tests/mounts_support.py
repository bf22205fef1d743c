"""Support for the host-directory tests: the Monitor's MOUNT_* handlers called in-process.

`MonitorSide(mounts)` stands where a picoprocess's Monitor stands: called with a request
(type, chan, arg, payload) it runs the very handler `xaxcalls.XAXCALLS` runs and returns the
reply (arg, payload).  A HostVfs given it as `monitor` then serves its host-directory routes
from real directories, with no picoprocess in between: the C backend (runtime_c/vfs/hostdir.c),
the protocol and the Monitor's side (xax_emu/monitor/mounts.py) are tested together.
"""
from __future__ import annotations

import os

from xax_emu import protocol as p
from xax_emu.monitor.mounts import Grant, Mounts
from xax_emu.monitor.xaxcalls import XAXCALLS


class MonitorSide:
    def __init__(self, mounts: Mounts):
        self.mounts = mounts
        self.export_ram = None
        self.requests: list[tuple[str, int, int, bytes]] = []
        self._answer: tuple[int, bytes] | None = None

    # what a handler calls on its picoprocess
    def reply(self, msg: p.Message, arg: int, payload: bytes = b"") -> None:
        assert len(payload) <= p.MAX_PAYLOAD, f"{msg.type_name}: a reply of {len(payload)} bytes"
        self._answer = (arg, payload)

    def request(self, type_: int, chan: int, arg: int, payload: bytes) -> tuple[int, bytes]:
        """One request, decoded as the Monitor decodes a datagram, and its reply."""
        msg = p.decode_request(p.HEADER.pack(p.MAGIC, p.VERSION, type_, chan, arg, len(payload), 7) + payload)
        self.requests.append((msg.type_name, chan, arg, payload))
        self._answer = None
        XAXCALLS[msg.type](self, msg)
        assert self._answer is not None, f"{msg.type_name} was not answered"
        return self._answer

    __call__ = request


def grant(path, guest: str = "/m", rw: bool = True) -> Grant:
    return Grant(os.fspath(path), guest, rw)
