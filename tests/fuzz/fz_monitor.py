"""Fuzz target `monitor`: what a picoprocess sends on its channel, into the Monitor.

A real `Picoprocess` (never spawned: no process, no seal) is served datagrams on a
real SOCK_SEQPACKET pair through its own `on_readable`, the path the event loop
takes, with a host of the harness's own: the real bounded Logbook, slow work
(GET, PUT, connect) queued and finished when the input says so, with the fetch
and the TCP connect answered by the input instead of the network.  Every message
type and every header field comes from the input, each type's payload too (well
formed, nearly so, or raw), mixed with what the outside does meanwhile (a
connection offered, stdin fed, a deadline, a worker finishing).  A GET's download,
which the Monitor runs in a thread of its own, runs at once in the harness's thread
(deterministic), its body in pieces the input cuts, whole or broken off.

Allowed: a ProtocolViolation, which kills this picoprocess (one line).  Checked:
on_readable never raises; every reply is a well-formed datagram of at most
HEADER_SIZE + MAX_PAYLOAD bytes (a READ's: MAX_READ, and never more than it asked
for) answering a request that was sent and not yet answered; a kill reason and every log line are one line; the channel table stays
under MAX_CHANNELS.

When the input's mode says so, the picoprocess has a granted directory (run --mount,
ro or rw) made afresh for the input beside a canary file, with symlinks and a hard
link that lead to the canary, and an --export-ram collector: MOUNT_* and EXPORT_RAM
requests then reach their handlers, and after the input the canary must be as it was
and nothing may have appeared beside the granted directory.
"""
from __future__ import annotations

import errno
import os
import shutil
import socket
import struct
import tempfile

from fuzzlib import Reader, check

from xax_emu import protocol as p
from xax_emu.errors import OriginError
from xax_emu.monitor import Limits, Origin, Picoprocess, Stdio
from xax_emu.monitor import xaxcalls
from xax_emu.monitor.channels import PipeChannel
from xax_emu.monitor.fetch import FetchError, Response, Stream
from xax_emu.monitor.logbook import LINE_MAX, Logbook
from xax_emu.monitor.exportram import RamExport
from xax_emu.monitor.mounts import Grant, Mounts

NAME = "monitor"
INSTRUMENT = ("xax_emu.protocol", "xax_emu.monitor", "xax_emu.syscalls.forwarding")

ORIGIN = Origin("http", "127.0.0.1", 8000)
LOCAL = "xax-local:layer"
TYPES = sorted(p.TYPE_NAMES) + [0, 13, 0x7FFF, p.REPLY | 3, 0xFFFF]
CHANS = (-2, -1, 0, 1, 2, 3, 4, 5, 1024, (1 << 31) - 1, -(1 << 31))
ARGS = (0, 1, 2, 3, -1, 4096, p.MAX_PAYLOAD, p.MAX_PAYLOAD + 1, p.MAX_READ, p.MAX_READ + 1, (1 << 31) - 1,
        -(1 << 31))
URLS = ("http://127.0.0.1:8000/a", "http://127.0.0.1:8000/", LOCAL, "http://127.0.0.1:8001/a",
        "https://127.0.0.1:8000/a", "http://user@127.0.0.1:8000/", "http://127.0.0.1:8000/a b",
        "http://[::1]:8000/", "ftp://x/", "", "http://127.0.0.1:8000/" + "x" * 5000)
METHODS = ("get", "put", "connect", "GET", "post", "", "g\x7fet")
SYS_GETRANDOM = 318
SEND_BUFFER = 1 << 20  # the harness's end: room for the biggest datagram at once


class FakeHost:
    """The Host interface (monitor/host.py) without a loop: the harness decides when
    watched callbacks, queued work and call_soon callbacks run."""

    cache = None

    def __init__(self):
        self.watched: dict = {}
        self.works: list = []
        self.soon: list = []
        self.lines: list[str] = []
        self.logbook = Logbook(self.lines.append)
        self.gone = False

    def watch(self, fileobj, callback) -> None:
        self.watched[fileobj] = callback

    def unwatch(self, fileobj) -> None:
        self.watched.pop(fileobj, None)

    def is_watched(self, fileobj) -> bool:
        return fileobj in self.watched

    def submit(self, work) -> None:
        self.works.append(work)

    def call_soon_threadsafe(self, callback) -> None:
        self.soon.append(callback)

    def log(self, source: str, line: str) -> None:
        self.logbook.line(source, line)

    def exited(self, pico) -> None:
        self.gone = True


class Outside:
    """The network as the input answers it: what the next fetch or connect gives."""

    def __init__(self):
        self.reader: Reader | None = None
        self.sockets: list[socket.socket] = []

    def fetch(self, method, url, origin, *, body=None, limit=0, cache=None, address=None):
        r = self.reader
        kind = r.u8() % 4
        if kind == 0:
            raise FetchError("the input says this fetch fails")
        if kind == 1:
            raise OriginError("redirected off the origin", url)
        status = r.choose((200, 200, 201, 204, 304, 404, 500))
        return Response(status, r.take(r.u16() % (2 * limit + 2)))

    def fetch_stream(self, method, url, origin, *, body=None, limit=0, cache=None, address=None):
        """fetch, its body in pieces the input cuts (empty ones too), maybe breaking off."""
        got = self.fetch(method, url, origin, body=body, limit=limit, cache=cache, address=address)
        r, data, pieces = self.reader, got.body, []
        while data:
            if r.u8() % 8 == 0:
                pieces.append(b"")  # an empty piece: nothing to hand on yet
            n = r.choose((1, 7, 4096, 1 << 16))
            pieces.append(data[:n])
            data = data[n:]
        broken = r.u8() % 4 == 0

        def flow():
            yield from pieces
            if broken:
                raise FetchError("the input says this body breaks off")
        return Stream(got.status, flow(), lambda: None)

    def create_connection(self, where, timeout=None):
        if self.reader.u8() % 3 == 0:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "refused (the input says so)")
        a, b = socket.socketpair()
        b.sendall(self.reader.blob(4096))
        if self.reader.u8() & 1:
            b.shutdown(socket.SHUT_WR)
        self.sockets += [a, b]
        return a


class _Thread:
    """xaxcalls' threading.Thread: the work runs at once, in the harness's thread.  A GET's
    body (under 64 KiB here) fits its channel's buffer: it never waits."""

    def __init__(self, target, name=None, daemon=None):
        self.target = target

    def start(self) -> None:
        self.target()


class _ThreadingModule:
    Thread = _Thread


class _SocketModule:
    """xaxcalls' view of `socket`: the real module but for create_connection."""

    def __init__(self, outside: Outside):
        self._outside = outside

    def __getattr__(self, name):
        return getattr(socket, name)

    def create_connection(self, where, timeout=None, source_address=None):
        return self._outside.create_connection(where, timeout)


# Paths a MOUNT_* request may name in the granted directory (granted_world), and hostile ones.
MOUNT_PATHS = (b"", b"f", b"d", b"d/g", b"new", b"d/new", b"abs", b"rel", b"outdir", b"outdir/canary.txt", b"hard",
               b"fifo", b"..", b"../canary.txt", b"/f", b"d/../f", b"d//g", b"f\0", b"x" * 256, b"d/" * 2048)
CANARY = b"canary: untouched\n"


def granted_world() -> tuple[str, str]:
    """A fresh directory to grant (f, d/g, a FIFO, symlinks and a hard link leading to a canary
    beside it) and the canary's path."""
    top = tempfile.mkdtemp(prefix="xax-fz-mount-")
    canary = os.path.join(top, "canary.txt")
    with open(canary, "wb") as f:
        f.write(CANARY)
    g = os.path.join(top, "granted")
    os.makedirs(os.path.join(g, "d"))
    with open(os.path.join(g, "f"), "wb") as f:
        f.write(b"0123456789")
    with open(os.path.join(g, "d", "g"), "wb") as f:
        f.write(b"g")
    os.symlink(canary, os.path.join(g, "abs"))
    os.symlink("../canary.txt", os.path.join(g, "rel"))
    os.symlink(top, os.path.join(g, "outdir"))
    os.link(canary, os.path.join(g, "hard"))
    os.mkfifo(os.path.join(g, "fifo"))
    return top, canary


def _mount_path(r: Reader) -> bytes:
    return r.blob(300) if r.u8() % 8 == 7 else r.choose(MOUNT_PATHS)


def _mount_payload(r: Reader, name: str, shape: int) -> bytes:
    path = _mount_path(r)
    if name in ("MOUNT_READ", "MOUNT_WRITE", "MOUNT_TRUNCATE"):
        data = r.blob(4096) if name == "MOUNT_WRITE" else b""
        off = r.choose((0, 1, 5, 4095, 4096, 1 << 20, (1 << 63) - 1, 1 << 63, (1 << 64) - 1))
        n = len(data) if name == "MOUNT_WRITE" else r.choose((0, 1, 100, p.MAX_PAYLOAD, p.MAX_PAYLOAD + 1))
        raw = p.MOUNT_IO.pack(off, n, len(path)) + path + data
        return raw if shape != 2 else raw[:-1]
    if name == "MOUNT_RENAME":
        new = _mount_path(r)
        raw = p.MOUNT_RENAME.pack(len(path), len(new)) + path + new
        return raw if shape != 2 else raw + b"\0"
    if name == "EXPORT_RAM":
        return r.blob(2048)
    return path if shape != 2 else path + b"/"


def _payload(r: Reader, type_: int) -> bytes:
    """A payload for this type: well formed most of the time, else near misses and raw bytes."""
    shape = r.u8() % 8  # 0-5 well formed (2: a near miss), 6 raw bytes, 7 around the size limit
    if shape == 6:
        return r.blob(512)
    if shape == 7:
        return b"\0" * r.choose((1, p.MAX_PAYLOAD - 1, p.MAX_PAYLOAD, p.MAX_PAYLOAD + 1))
    name = p.TYPE_NAMES.get(type_)
    if name == "OPEN_URL":
        method = r.text(200) if r.u8() % 4 == 3 else r.choose(METHODS)
        url = r.text(300) if r.u8() % 4 == 3 else r.choose(URLS)
        raw = method.encode("utf-8", "surrogateescape") + b"\0" + url.encode("utf-8", "surrogateescape") + b"\0"
        return raw if shape != 2 else raw[:-1]
    if name == "POLL":
        n = r.choose((0, 1, 2, 3, r.u8(), p.MAX_POLL_FDS, p.MAX_POLL_FDS + 1))
        one = [p.POLL_ENTRY.pack(r.i32() if r.u8() % 2 else r.choose(CHANS), r.u16() - 0x8000, 0) for _ in range(4)]
        raw = b"".join(one[i % 4] for i in range(n))
        return raw if shape != 2 else raw + b"\0"
    if name == "FORWARD":
        nr = r.choose((SYS_GETRANDOM, SYS_GETRANDOM, 0, -1, 1 << 62, r.i32()))
        args = [r.choose((0, 1, 16, p.MAX_PAYLOAD, 1 << 63, r.u32(), r.u32() << 32 | r.u32())) for _ in range(6)]
        raw = p.FORWARD.pack(nr, *args)
        return raw if shape != 2 else raw[:-r.u8() % len(raw) - 1]
    if name == "RUNTIME_CODE":
        n = r.choose((0, 1, 2, p.MAX_RUNTIME_RANGES, p.MAX_RUNTIME_RANGES + 1))
        bounds = (0, 0x1000, 0x400000, 1 << 47, (1 << 47) + 1, (1 << 64) - 1)
        raw = b"".join(p.RANGE.pack(r.choose(bounds), r.choose(bounds)) for _ in range(n))
        return raw if shape != 2 else raw + b"\0"
    if name == "WRITE":
        return r.blob(4096)
    if name is not None and (name.startswith("MOUNT_") or name == "EXPORT_RAM"):
        return _mount_payload(r, name, shape)
    return b"" if shape < 4 else r.blob(64)


def _datagram(r: Reader, seq_counter: list[int]) -> tuple[bytes, int, int, int]:
    """(datagram, type, seq, arg) with every header field from the input (zero bytes: well formed)."""
    type_ = r.choose(TYPES)
    chan = r.i32() if r.u8() % 4 == 3 else r.choose(CHANS)
    arg = r.i32() if r.u8() % 4 == 3 else r.choose(ARGS)
    seq_counter[0] += 1
    seq = r.u32() if r.u8() % 4 == 3 else seq_counter[0]
    payload = _payload(r, type_)
    magic, version, length = p.MAGIC, p.VERSION, len(payload)
    fault = r.u8() % 16  # 0 and 5-15: none
    if fault == 1:
        magic = r.u32()
    elif fault == 2:
        version = r.u16()
    elif fault == 3:
        length = r.u32()
    elif fault == 4:
        return r.blob(64), type_, seq, arg  # raw bytes: maybe shorter than a header, maybe empty
    return struct.pack("<IHHiiII", magic, version, type_, chan, arg, length, seq) + payload, type_, seq, arg


def _check_reply(raw: bytes, outstanding: list[tuple[int, int, int]]) -> None:
    check(p.HEADER_SIZE <= len(raw) <= p.HEADER_SIZE + p.MAX_READ, f"a reply of {len(raw)} bytes")
    magic, version, type_, chan, arg, length, seq = p.HEADER.unpack_from(raw)
    check(magic == p.MAGIC and version == p.VERSION, "a reply with a bad magic or version")
    check(length == len(raw) - p.HEADER_SIZE, "a reply whose length field is wrong")
    check(type_ & p.REPLY, f"a reply without the REPLY bit: type {type_}")
    asked = [a for t, q, a in outstanding if (t, q) == (type_ & ~p.REPLY, seq)]
    check(bool(asked), f"a reply to no outstanding request: type {type_ & ~p.REPLY}, seq {seq}")
    most = asked[0] if type_ & ~p.REPLY == p.TYPES["READ"] else p.MAX_PAYLOAD
    check(length <= most, f"a {p.TYPE_NAMES.get(type_ & ~p.REPLY)} reply of {length} bytes, over {most}")
    outstanding.remove((type_ & ~p.REPLY, seq, asked[0]))


def one_input(data: bytes) -> None:
    r = Reader(data)
    outside = Outside()
    outside.reader = r
    host = FakeHost()
    mode = r.u8()
    limits = Limits(download=r.choose((1, 16, 4096, 1 << 20)))
    stdin_fd = None
    world = granted_world() if mode & 8 else None
    mounts = Mounts([Grant(os.path.join(world[0], "granted"), "/m", bool(mode & 16))], limits.download) if world \
        else None
    export = RamExport(limits.download) if mode & 32 else None
    pico = Picoprocess(host, image_url=LOCAL, argv=["prog"], env={"A": "1"}, origin=ORIGIN,
                       origin_address="127.0.0.1", limits=limits, layer=b"\x7fELF layer bytes",
                       stdio=Stdio(stdout=lambda b: None, stderr=lambda b: None, stdin_bytes=None)
                       if mode & 1 else None, count_kernel=bool(mode & 2), mounts=mounts, export_ram=export)
    if mode & 4:
        pico.awaiting_listener = False  # as if the listener had come: RUNTIME_CODE is then served
    kills: list[str] = []

    def kill(reason: str) -> None:  # the real kill, but for the signal: there is no process
        if pico.kill_reason is None:
            pico.kill_reason = reason
            kills.append(reason)
    pico.kill = kill
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    ours.setblocking(False)
    theirs.setblocking(False)
    pico.sock = ours
    if pico.stdio:
        pico._open_stdio()
    host.watch(ours, pico.on_readable)
    fetch, sock_module = xaxcalls.fetch, xaxcalls.socket
    fetch_stream, threading_module = xaxcalls.fetch_stream, xaxcalls.threading
    xaxcalls.fetch, xaxcalls.socket = outside.fetch, _SocketModule(outside)
    xaxcalls.fetch_stream, xaxcalls.threading = outside.fetch_stream, _ThreadingModule
    outstanding: list[tuple[int, int]] = []
    seq_counter = [0]
    pipes: list[PipeChannel] = []
    try:
        for _ in range(64):
            if r.left() == 0 or kills:
                break
            op = r.u8() % 12
            if op <= 5:
                datagram, type_, seq, arg = _datagram(r, seq_counter)
                fds = [os.open(os.devnull, os.O_RDONLY)] if p.TYPE_NAMES.get(type_) == "LISTENER" and r.u8() & 1 else []
                try:
                    if fds:
                        theirs.sendmsg([datagram], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fds[0]))])
                    else:
                        theirs.send(datagram)
                except BlockingIOError:
                    continue  # the harness's own buffer is full: the Monitor has not read
                finally:
                    for fd in fds:
                        os.close(fd)
                if p.TYPE_NAMES.get(type_) not in (None, "TRACE", "BOOT", "LISTENER"):
                    outstanding.append((type_, seq, arg))
                pico.on_readable()
            elif op == 6:  # the picoprocess reads its replies
                while True:
                    try:
                        _check_reply(theirs.recv(p.HEADER_SIZE + p.MAX_READ + 1), outstanding)
                    except BlockingIOError:
                        break
            elif op == 7 and host.works:  # a worker finishes
                deliver = host.works.pop(0)()
                if deliver is not None:
                    deliver()
            elif op == 8:  # a connection offered for ACCEPT
                chan = PipeChannel(wake=lambda: None, capacity=r.choose((1, 64, 1 << 16)))
                pipes.append(chan)
                if r.u8() & 1:
                    chan.send(r.blob(256), timeout=0)
                if r.u8() & 1:
                    chan.end_input()
                if not pico.offer_connection(chan):
                    chan.abandon()
            elif op == 9 and pico.stdin is not None:
                pico.stdin.feed(r.blob(256))
                pico.retry_parked_poll()
            elif op == 10:
                pico.on_deadline()
            elif op == 11:
                for callback in host.soon[:]:
                    host.soon.remove(callback)
                    callback()
                for sock, callback in list(host.watched.items()):
                    if sock is not ours:
                        callback()
            check(len(pico.channels) <= 1024 + 3, f"{len(pico.channels)} channels")
        for reason in kills:
            check("\n" not in reason, f"a kill reason of more than one line: {reason!r}")
        for line in host.lines:
            check("\n" not in line and len(line) <= LINE_MAX + 64, f"a log line of {len(line)} characters")
        if world is not None:
            top, canary = world
            with open(canary, "rb") as f:
                check(f.read() == CANARY, "the canary beside the granted directory changed")
            check(sorted(os.listdir(top)) == ["canary.txt", "granted"], f"beside the granted directory: "
                  f"{sorted(os.listdir(top))}")
    finally:
        if mounts is not None:
            mounts.close()
        if export is not None:
            export.close()
        if world is not None:
            shutil.rmtree(world[0], ignore_errors=True)
        xaxcalls.fetch, xaxcalls.socket = fetch, sock_module
        xaxcalls.fetch_stream, xaxcalls.threading = fetch_stream, threading_module
        for chan in list(pico.channels.values()) + pico.incoming:
            chan.close()
        for s in (ours, theirs, *outside.sockets):
            s.close()


def seeds() -> list[bytes]:
    """Starting points: each message type sent once, well formed (stdio on, a 4 KiB download
    limit, chan -2), then its reply read (op 6) and a worker finished (op 7: a 200)."""
    out = []
    for type_ in sorted(p.TYPE_NAMES):
        name = p.TYPE_NAMES[type_]
        mode = 1 | (8 | 16 | 32 if name.startswith("MOUNT_") or name == "EXPORT_RAM" else 0)  # rw grant, export
        prefix = bytes([mode, 2, 0, TYPES.index(type_)])
        r = Reader(prefix + bytes(64))
        r.take(3)
        _datagram(r, [0])  # where this type's datagram ends: zeros choose the well-formed defaults
        out.append(prefix + bytes(r.pos - len(prefix)) + bytes([6, 7, 2, 0, 6]))
    return out + [_download_seed(broken) for broken in (False, True)]


def _well_formed(type_: int, chan: int = -2, arg: int = 0) -> bytes:
    """The bytes that send one well-formed datagram of this type (op 0), with this chan and arg."""
    head = bytes([0, TYPES.index(type_), 0, CHANS.index(chan), 0, ARGS.index(arg)])
    r = Reader(head + bytes(64))
    r.take(1)  # the op; _datagram reads the rest
    _datagram(r, [0])
    return head + bytes(r.pos - len(head))


def _download_seed(broken: bool) -> bytes:
    """A GET whose body comes in two pieces (7 bytes, then the rest of 3000), whole or broken
    off: OPEN_URL, the download (it runs at once), its answer (op 11), then READs of the new
    channel (3) of 1, 4096 and MAX_READ bytes, each reply read (op 6)."""
    download = bytes([2, 0]) + (3000).to_bytes(2, "little") + bytes(range(256)) * 11 + bytes(184) \
        + bytes([1, 1, 1, 2, 0 if broken else 1])
    return (bytes([1, 2]) + _well_formed(p.TYPES["OPEN_URL"]) + download + bytes([11, 6])
            + _well_formed(p.TYPES["READ"], 3, 1) + bytes([6])  # a piece cut
            + _well_formed(p.TYPES["READ"], 3, 4096) + bytes([6])  # its rest, and the next piece
            + _well_formed(p.TYPES["READ"], 3, p.MAX_READ) + bytes([6]))  # the end, or the failure
