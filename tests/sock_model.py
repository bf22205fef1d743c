"""The same socket calls two ways, for the tests that compare the picoprocess's sockets with
the kernel's: `Native` makes the raw system calls (libc's thin wrappers, through ctypes, so
that nothing of Python's socket module changes what the kernel answers) and `Ours` calls the
VFS's host build (xax_emu.vfs._host).  Both answer ints (>= 0, or -errno), bytes, or tuples
of them, in the same shapes; `Ports` renames ephemeral ports in order of first appearance,
so that two runs that pick different numbers compare equal."""
from __future__ import annotations

import ctypes
import os
import select
import socket
import struct

from xax_emu.vfs._host import HostVfs

_libc = ctypes.CDLL(None, use_errno=True)
for _name in ("socket", "bind", "connect", "listen", "accept4", "getsockname", "getpeername", "shutdown",
              "sendto", "recvfrom", "setsockopt", "getsockopt", "close", "socketpair", "eventfd"):
    getattr(_libc, _name).restype = ctypes.c_long if _name in ("sendto", "recvfrom") else ctypes.c_int
_libc.sendto.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint32]
_libc.recvfrom.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p,
                           ctypes.POINTER(ctypes.c_uint32)]


def _r(value: int) -> int:
    return value if value >= 0 else -ctypes.get_errno()


def sin(host: str, port: int) -> bytes:
    return struct.pack("<H", socket.AF_INET) + struct.pack(">H", port) + socket.inet_aton(host) + bytes(8)


def sin6(host: str, port: int) -> bytes:
    return struct.pack("<H", socket.AF_INET6) + struct.pack(">H", port) + bytes(4) + \
        socket.inet_pton(socket.AF_INET6, host) + bytes(4)


def sun(path: bytes) -> bytes:
    return struct.pack("<H", socket.AF_UNIX) + path


def port_of(sockaddr: bytes) -> int | None:
    if len(sockaddr) >= 4 and struct.unpack("<H", sockaddr[:2])[0] in (socket.AF_INET, socket.AF_INET6):
        return struct.unpack(">H", sockaddr[2:4])[0]
    return None


def with_port(sockaddr: bytes, port: int) -> bytes:
    return sockaddr[:2] + struct.pack(">H", port) + sockaddr[4:]


class Native:
    """The kernel's sockets, fds closed on close()."""

    def __init__(self):
        self.fds: list[int] = []

    def close(self) -> None:
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds.clear()

    def _fd(self, r: int) -> int:
        if r >= 0:
            self.fds.append(r)
        return r

    def socket(self, family, type_, protocol=0):
        return self._fd(_r(_libc.socket(family, type_, protocol)))

    def socketpair(self, family, type_, protocol=0):
        fds = (ctypes.c_int * 2)()
        r = _r(_libc.socketpair(family, type_, protocol, fds))
        if r < 0:
            return r
        self.fds += [fds[0], fds[1]]
        return fds[0], fds[1]

    def bind(self, fd, addr):
        return _r(_libc.bind(fd, addr, len(addr)))

    def connect(self, fd, addr):
        return _r(_libc.connect(fd, addr, len(addr)))

    def listen(self, fd, backlog):
        return _r(_libc.listen(fd, backlog))

    def accept4(self, fd, flags=0):
        buf = ctypes.create_string_buffer(128)
        n = ctypes.c_uint32(128)
        r = self._fd(_r(_libc.accept4(fd, buf, ctypes.byref(n), flags)))
        return r, buf.raw[:n.value] if r >= 0 else b""

    def _name(self, fn, fd):
        buf = ctypes.create_string_buffer(128)
        n = ctypes.c_uint32(128)
        r = _r(fn(fd, buf, ctypes.byref(n)))
        return r if r < 0 else buf.raw[:n.value]

    def getsockname(self, fd):
        return self._name(_libc.getsockname, fd)

    def getpeername(self, fd):
        return self._name(_libc.getpeername, fd)

    def shutdown(self, fd, how):
        return _r(_libc.shutdown(fd, how))

    def send(self, fd, data, flags=0, to=None):
        return _r(_libc.sendto(fd, data, len(data), flags | socket.MSG_NOSIGNAL, to, len(to) if to else 0))

    def recvfrom(self, fd, n, flags=0):
        buf = ctypes.create_string_buffer(max(n, 1))
        name = ctypes.create_string_buffer(128)
        ln = ctypes.c_uint32(128)
        r = _r(_libc.recvfrom(fd, buf, n, flags, name, ctypes.byref(ln)))
        return r if r < 0 else (buf.raw[:min(r, n)], name.raw[:ln.value])

    def recv(self, fd, n, flags=0):
        got = self.recvfrom(fd, n, flags)
        return got if isinstance(got, int) else got[0]

    def setsockopt(self, fd, level, name, value):
        if isinstance(value, int):
            value = value.to_bytes(4, "little", signed=True)
        return _r(_libc.setsockopt(fd, level, name, value, len(value)))

    def getsockopt(self, fd, level, name, size=4):
        buf = ctypes.create_string_buffer(max(size, 1))
        n = ctypes.c_uint32(size)
        r = _r(_libc.getsockopt(fd, level, name, buf, ctypes.byref(n)))
        return r if r < 0 else buf.raw[:n.value]

    def poll(self, fd, events=0xffff):
        p = select.poll()
        p.register(fd, events)
        got = p.poll(0)
        return got[0][1] if got else 0

    def close_fd(self, fd):
        try:
            os.close(fd)
            self.fds.remove(fd)
            return 0
        except OSError as e:
            return -e.errno

    def fcntl_nonblock(self, fd):
        import fcntl
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        return 0


class Ours:
    """The VFS's sockets (the host build: nothing blocks, a call that would wait is EAGAIN)."""

    def __init__(self, vfs: HostVfs | None = None):
        self.v = vfs or HostVfs(uid=1000, gid=1000)
        if vfs is None:
            self.v.mount_ram("/", 1 << 20)

    def close(self):
        self.v.close()

    def __getattr__(self, name):
        return getattr(self.v, name)

    def send(self, fd, data, flags=0, to=None):
        return self.v.send(fd, data, flags, to)

    def poll(self, fd, events=0xffff):
        revents, chan = self.v.poll(fd, events)
        return revents

    def close_fd(self, fd):
        return self.v.close_fd(fd)

    def fcntl_nonblock(self, fd):
        return self.v.fcntl(fd, 4, self.v.fcntl(fd, 3) | os.O_NONBLOCK)


class Ports:
    """Ephemeral ports, renamed in order of first appearance: ('port', 0), ('port', 1), ..."""

    def __init__(self):
        self.seen: dict[int, int] = {}

    def __call__(self, value):
        if isinstance(value, tuple):
            return tuple(self(x) for x in value)
        if isinstance(value, bytes):
            port = port_of(value)
            if port:
                n = self.seen.setdefault(port, len(self.seen))
                return ("port", n, with_port(value, 0))
        return value
