"""The picoprocess's sockets (runtime_c/vfs/sock*.c) against this machine's kernel: the same
calls, in the same order, on loopback, with the same answers — results and errnos, the
addresses getsockname, getpeername, accept and recvfrom give (ephemeral ports renamed in
order of appearance), the bytes, and what poll shows after each step.  Nothing here waits:
sockets are non-blocking or calls say MSG_DONTWAIT (the host build has nobody to wait for).

Scenarios that leave this machine differ by design and are tested apart: every address
but loopback is unreachable in the picoprocess (ENETUNREACH), where the host has a network."""
import errno as E
import os
import socket
import struct

import pytest

from sock_model import Native, Ours, Ports, sin, sin6, sun
from xax_emu.vfs._host import HostVfs

INET, INET6, UNIX = socket.AF_INET, socket.AF_INET6, socket.AF_UNIX
STREAM, DGRAM, SEQPACKET = socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET
NB, CLOEXEC = socket.SOCK_NONBLOCK, socket.SOCK_CLOEXEC
DONTWAIT, PEEK, WAITALL = socket.MSG_DONTWAIT, socket.MSG_PEEK, socket.MSG_WAITALL
ALL = 0xffff


def both(scenario, *args):
    """The scenario's observations natively and in the picoprocess, ports renamed."""
    out = []
    for make in (Native, Ours):
        s = make()
        try:
            seen = []
            scenario(s, seen.append, *args)
            out.append([Ports()(x) for x in seen])
        finally:
            s.close()
    return out


def same(scenario, *args):
    native, ours = both(scenario, *args)
    for i, (n, o) in enumerate(zip(native, ours)):
        assert n == o, f"step {i}: native {n!r}, ours {o!r}\nnative: {native}\nours:   {ours}"
    assert len(native) == len(ours)


def unique_abstract(tag: str) -> bytes:
    return b"\0xax-test-" + tag.encode() + b"-" + os.urandom(6).hex().encode()


# -- TCP on loopback ------------------------------------------------------------------------

def tcp_exchange(s, see, family, host):
    addr = sin if family == INET else sin6
    l = s.socket(family, STREAM | NB)
    see(s.poll(l))
    see(s.setsockopt(l, socket.SOL_SOCKET, socket.SO_REUSEADDR, 1))
    see(s.bind(l, addr(host, 0)))
    see(s.bind(l, addr(host, 0)))                       # EINVAL: bound already
    see(s.listen(l, 8))
    see(s.poll(l))
    name = s.getsockname(l)
    see(name)
    c = s.socket(family, STREAM | NB)
    see(s.getsockname(c))
    see(s.getpeername(c))                               # ENOTCONN
    see(s.connect(c, name))                             # EINPROGRESS, as on loopback
    see(s.poll(l))
    see(s.poll(c))
    see(s.connect(c, name))                             # 0: the completion, seen once
    see(s.connect(c, name))                             # EISCONN
    fd, peer = s.accept4(l, NB)
    see(peer == s.getsockname(c))
    see(s.getsockname(fd) == name or s.getsockname(fd))
    see(s.getpeername(fd) == s.getsockname(c))
    see(s.getpeername(c) == name)
    see(s.accept4(l)[0])                                # EAGAIN
    see(s.send(c, b"hello, "))
    see(s.send(c, b"world"))
    see(s.poll(fd))
    see(s.recv(fd, 3, PEEK))
    see(s.recv(fd, 100))
    see(s.recv(fd, 100))                                # EAGAIN
    see(s.shutdown(c, socket.SHUT_WR))
    see(s.send(c, b"x"))                                # EPIPE
    see(s.poll(fd))
    see(s.poll(c))
    see(s.recv(fd, 10))                                 # end of file
    see(s.send(fd, b"back"))
    see(s.recv(c, 10))
    see(s.close_fd(fd))
    see(s.poll(c))
    see(s.recv(c, 10))
    see(s.send(c, b"to a peer gone"))                   # taken: the peer's reset comes after
    see(s.poll(c))
    see(s.send(c, b"again"))                            # EPIPE
    see(s.recv(c, 10))
    see(s.poll(c))


@pytest.mark.parametrize("family,host", [(INET, "127.0.0.1"), (INET6, "::1")])
def test_tcp_on_loopback_as_the_kernel(family, host):
    same(tcp_exchange, family, host)


def tcp_wildcards(s, see):
    l = s.socket(INET6, STREAM | NB)
    see(s.getsockopt(l, socket.IPPROTO_IPV6, socket.IPV6_V6ONLY))
    see(s.bind(l, sin6("::", 0)))
    see(s.listen(l, 4))
    port = struct.unpack(">H", s.getsockname(l)[2:4])[0]
    c4 = s.socket(INET, STREAM | NB)
    see(s.connect(c4, sin("127.0.0.1", port)))          # dual stack: an IPv4 client reaches ::
    fd, peer = s.accept4(l)
    see(peer)                                           # ::ffff:127.0.0.1
    see(s.getsockname(fd))
    c0 = s.socket(INET6, STREAM | NB)
    see(s.connect(c0, sin6("::", port)))                # :: as a destination is the local host
    fd0, peer0 = s.accept4(l)
    see(s.getsockname(fd0))
    see(s.getpeername(c0))
    v6only = s.socket(INET6, STREAM | NB)
    see(s.setsockopt(v6only, socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1))
    see(s.bind(v6only, sin6("::ffff:127.0.0.1", 0)))    # EINVAL: IPv4-mapped on a v6-only socket
    see(s.connect(v6only, sin6("::ffff:127.0.0.1", port)))  # ENETUNREACH
    l4 = s.socket(INET, STREAM | NB)
    see(s.bind(l4, sin("0.0.0.0", port)))               # EADDRINUSE: :: without v6only covers it
    c = s.socket(INET, STREAM | NB)
    see(s.connect(c, sin("0.0.0.0", port)))             # 0.0.0.0 as a destination: the local host
    see(s.getpeername(c))


def test_wildcards_and_dual_stack_as_the_kernel():
    same(tcp_wildcards)


def tcp_refused(s, see):
    l = s.socket(INET, STREAM)
    see(s.bind(l, sin("127.0.0.1", 0)))
    port = struct.unpack(">H", s.getsockname(l)[2:4])[0]
    see(s.close_fd(l))                                  # nobody listens there now
    c = s.socket(INET, STREAM)
    see(s.connect(c, sin("127.0.0.1", port)))           # ECONNREFUSED
    n = s.socket(INET, STREAM | NB)
    see(s.connect(n, sin("127.0.0.1", port)))           # EINPROGRESS, the error later
    see(s.poll(n))
    see(s.getsockopt(n, socket.SOL_SOCKET, socket.SO_ERROR))
    see(s.getsockopt(n, socket.SOL_SOCKET, socket.SO_ERROR))   # reported once
    fresh = s.socket(INET, STREAM)
    see(s.poll(fresh))
    see(s.send(fresh, b"x"))                            # EPIPE: never connected
    see(s.recv(fresh, 1))                               # ENOTCONN
    see(s.shutdown(fresh, socket.SHUT_WR))              # ENOTCONN
    see(s.accept4(fresh)[0])                            # EINVAL
    see(s.bind(fresh, sin("10.1.2.3", 0)))              # EADDRNOTAVAIL
    see(s.bind(fresh, sin("127.0.0.2", 0)))             # all of 127/8 is this machine's
    see(s.getsockname(fresh))
    see(s.listen(fresh, 1))
    see(s.connect(fresh, sin("127.0.0.1", 9)))          # EISCONN: it listens
    see(s.shutdown(fresh, socket.SHUT_WR))
    see(s.shutdown(fresh, 7))                           # EINVAL
    u = s.socket(INET, DGRAM)
    see(s.listen(u, 1))                                 # EOPNOTSUPP
    see(s.accept4(u)[0])


def test_refusals_and_errors_as_the_kernel():
    same(tcp_refused)


def tcp_close_with_data_unread(s, see):
    l = s.socket(INET, STREAM | NB)
    s.bind(l, sin("127.0.0.1", 0))
    s.listen(l, 4)
    c = s.socket(INET, STREAM)
    see(s.connect(c, s.getsockname(l)))
    fd, _ = s.accept4(l, NB)
    see(s.send(c, b"unread"))
    see(s.close_fd(fd))                                 # gone with bytes unread: a reset
    see(s.poll(c))
    see(s.recv(c, 10, DONTWAIT))                        # ECONNRESET
    see(s.recv(c, 10, DONTWAIT))


def tcp_peer_gone(s, see):
    l = s.socket(INET, STREAM | NB)
    s.bind(l, sin("127.0.0.1", 0))
    s.listen(l, 4)
    c = s.socket(INET, STREAM)
    see(s.connect(c, s.getsockname(l)))
    fd, _ = s.accept4(l, NB)
    see(s.close_fd(c))                                  # the peer goes, nothing unread
    see(s.poll(fd))
    see(s.send(fd, b"back"))                            # taken: the peer's reset comes after
    see(s.poll(fd))
    see(s.send(fd, b"again"))                           # EPIPE
    see(s.recv(fd, 10, DONTWAIT))
    see(s.poll(fd))


def test_a_send_to_a_peer_gone_as_the_kernel():
    same(tcp_peer_gone)


def test_a_close_with_bytes_unread_resets_as_the_kernel():
    same(tcp_close_with_data_unread)


def tcp_pending_then_listener_closes(s, see):
    l = s.socket(INET, STREAM)
    s.bind(l, sin("127.0.0.1", 0))
    s.listen(l, 4)
    c = s.socket(INET, STREAM)
    see(s.connect(c, s.getsockname(l)))
    see(s.close_fd(l))                                  # the connection waited in its backlog
    see(s.poll(c))
    see(s.recv(c, 10, DONTWAIT))


def test_connections_not_accepted_are_reset_with_their_listener():
    same(tcp_pending_then_listener_closes)


# -- UDP -----------------------------------------------------------------------------------------

def udp_exchange(s, see, family, host):
    addr = sin if family == INET else sin6
    a = s.socket(family, DGRAM | NB)
    b = s.socket(family, DGRAM | NB)
    see(s.poll(a))
    see(s.bind(a, addr(host, 0)))
    name = s.getsockname(a)
    see(name)
    see(s.send(b, b"one", 0, name))
    see(s.getsockname(b))                               # autobound to the wildcard
    see(s.send(b, b"two, longer", 0, name))
    see(s.poll(a))
    see(s.recvfrom(a, 100))
    r = s.recvmsg(a, [4], 0) if isinstance(s, Ours) else None
    if r is not None:
        see((r[0], r[1], r[3] & socket.MSG_TRUNC))
    else:
        import socket as so
        sk = so.socket(fileno=os.dup(a))
        data, anc, flags, src = sk.recvmsg(4)
        sk.detach()
        see((4, [data], flags & so.MSG_TRUNC))
    see(s.recvfrom(a, 100))                             # EAGAIN
    see(s.send(b, b"", 0, name))                        # an empty datagram
    see(s.recvfrom(a, 100))
    see(s.send(b, b"x"))                                # EDESTADDRREQ
    see(s.connect(b, name))
    see(s.getsockname(b))                               # connect fixed the source
    see(s.getpeername(b))
    see(s.send(b, b"connected"))
    see(s.recv(a, 100, DONTWAIT))
    see(s.send(a, b"reply", 0, s.getsockname(b)))
    see(s.recvfrom(b, 100, DONTWAIT))
    gone = s.socket(family, DGRAM)
    s.bind(gone, addr(host, 0))
    port = s.getsockname(gone)
    see(s.close_fd(gone))
    see(s.connect(b, port))
    see(s.send(b, b"to nobody"))                        # sent; the refusal comes back
    see(s.poll(b))
    see(s.recv(b, 10, DONTWAIT))                        # ECONNREFUSED
    see(s.getsockopt(b, socket.SOL_SOCKET, socket.SO_ERROR))
    see(s.connect(b, struct.pack("<H", socket.AF_UNSPEC) + bytes(14)))  # disconnect
    see(s.getpeername(b))
    see(s.send(b, b"x" * 70000, 0, name))               # EMSGSIZE


@pytest.mark.parametrize("family,host", [(INET, "127.0.0.1"), (INET6, "::1")])
def test_udp_on_loopback_as_the_kernel(family, host):
    same(udp_exchange, family, host)


def udp_source_of_a_route(s, see):
    u = s.socket(INET6, DGRAM)
    see(s.connect(u, sin6("::", 8000)))                 # what glibc's getaddrinfo asks (rfc3484_sort)
    see(s.getsockname(u))
    u4 = s.socket(INET, DGRAM)
    see(s.connect(u4, sin("0.0.0.0", 8000)))
    see(s.getsockname(u4))
    see(s.getpeername(u4))


def test_udp_connect_to_the_wildcard_as_the_kernel():
    same(udp_source_of_a_route)


# -- AF_UNIX -------------------------------------------------------------------------------------------

def unix_pair(s, see, type_):
    a, b = s.socketpair(UNIX, type_ | NB)
    see(s.poll(a))
    see(s.getsockname(a))
    see(s.getpeername(a))
    see(s.send(a, b"abc"))
    see(s.send(a, b"defg"))
    see(s.poll(b))
    see(s.recv(b, 2))
    see(s.recv(b, 100))
    see(s.recv(b, 100))                                 # EAGAIN
    see(s.shutdown(a, socket.SHUT_WR))
    see(s.poll(a))
    see(s.poll(b))
    see(s.send(a, b"x"))                                # EPIPE
    see(s.recv(b, 100))
    see(s.shutdown(b, socket.SHUT_RD))
    see(s.poll(a))
    see(s.close_fd(b))
    see(s.poll(a))
    see(s.recv(a, 10))
    see(s.send(a, b"y"))


@pytest.mark.parametrize("type_", [STREAM, SEQPACKET])
def test_unix_socketpair_as_the_kernel(type_):
    same(unix_pair, type_)


def unix_dgram_pair(s, see):
    a, b = s.socketpair(UNIX, DGRAM | NB)
    see(s.poll(a))
    see(s.send(a, b"one"))
    see(s.send(a, b"two"))
    see(s.recvfrom(b, 2))
    see(s.recvfrom(b, 100))
    see(s.recvfrom(b, 100))
    see(s.close_fd(b))
    see(s.poll(a))
    see(s.send(a, b"x"))                                # ECONNREFUSED, once
    see(s.send(a, b"x"))                                # ENOTCONN


def test_unix_datagram_pair_as_the_kernel():
    same(unix_dgram_pair)


def unix_listener(s, see, type_, name):
    l = s.socket(UNIX, type_ | NB)
    see(s.listen(l, 1))                                 # EINVAL: not bound
    see(s.bind(l, sun(name)))
    see(s.getsockname(l))
    see(s.bind(l, sun(name + b"2")))                    # EINVAL: bound
    other = s.socket(UNIX, type_)
    see(s.bind(other, sun(name)))                       # EADDRINUSE
    see(s.listen(l, 0))
    c1 = s.socket(UNIX, type_ | NB)
    see(s.connect(c1, sun(name)))
    c2 = s.socket(UNIX, type_ | NB)
    see(s.connect(c2, sun(name)))                       # the backlog of 0 takes one more
    c3 = s.socket(UNIX, type_ | NB)
    see(s.connect(c3, sun(name)))                       # EAGAIN: full
    see(s.poll(l))
    fd, peer = s.accept4(l)
    see(peer)
    see(s.getsockname(fd))
    see(s.getpeername(fd))
    see(s.getpeername(c1))
    see(s.send(c1, b"hi"))
    see(s.recv(fd, 10, DONTWAIT))
    d = s.socket(UNIX, DGRAM)
    see(s.connect(d, sun(name)))                        # ECONNREFUSED: another type
    auto = s.socket(UNIX, type_)
    see(s.bind(auto, struct.pack("<H", UNIX)))          # autobind: five hex digits
    see(len(s.getsockname(auto)))


@pytest.mark.parametrize("type_", [STREAM, SEQPACKET])
def test_unix_listener_on_an_abstract_name_as_the_kernel(type_):
    same(unix_listener, type_, unique_abstract("listen"))


def test_unix_listener_on_a_path_is_a_socket_file(tmp_path):
    """A path's socket is a file of the picoprocess's own files (S_IFSOCK, the umask applied)
    that stays after close, as on Linux; binding an existing name is EADDRINUSE."""
    v = HostVfs(uid=1000, gid=1000)
    assert v.mount_ram("/", 1 << 20) == 0 and v.mkdir("/run") == 0
    n = socket.socket(UNIX, STREAM)
    n.bind(str(tmp_path / "s"))
    native_mode = os.stat(tmp_path / "s").st_mode
    l = v.socket(UNIX, STREAM)
    assert v.bind(l, sun(b"/run/s")) == 0 and v.listen(l, 4) == 0
    assert v.stat("/run/s").mode == native_mode
    c = v.socket(UNIX, STREAM)
    assert v.connect(c, sun(b"/run/s")) == 0
    assert v.connect(v.socket(UNIX, DGRAM), sun(b"/run/s")) == -E.EPROTOTYPE
    assert v.close_fd(l) == 0
    assert v.connect(v.socket(UNIX, STREAM), sun(b"/run/s")) == -E.ECONNREFUSED  # the file stays, nobody listens
    assert v.bind(v.socket(UNIX, STREAM), sun(b"/run/s")) == -E.EADDRINUSE
    assert v.unlink("/run/s") == 0
    assert v.connect(v.socket(UNIX, STREAM), sun(b"/run/s")) == -E.ENOENT
    n.close()
    v.close()


def _kernel_connect(path: bytes) -> int:
    s = socket.socket(UNIX, STREAM)
    try:
        s.connect(path)
        return 0
    except OSError as e:
        return -e.errno
    finally:
        s.close()


def test_unix_connect_resolves_paths_as_the_kernel(tmp_path):
    """connect on an AF_UNIX socket to a path nobody listens at: the same errno as a real
    socket gets on the same tree, on a writable file system (the RAM disk here, the test's
    directory for the kernel)."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_bytes(b"root:x:0:0\n")
    v = HostVfs()
    assert v.mount_ram("/", 1 << 20) == 0 and v.mkdir("/etc") == 0
    assert v.close_fd(v.open("/etc/passwd", os.O_CREAT | os.O_WRONLY, 0o644)) == 0
    fd = v.socket(UNIX, STREAM | CLOEXEC)
    assert fd >= 0 and v.fcntl(fd, 1) == 1
    for rel in (b"/etc/passwd", b"/etc", b"/nope", b"/etc/nope/deeper", b"/etc/passwd/x"):
        assert v.connect(fd, sun(rel)) == _kernel_connect(bytes(tmp_path).rstrip(b"/") + rel), rel
    assert v.connect(fd, sun(b"\0abstract")) == _kernel_connect(b"\0xax-emu-test-nobody-listens")
    assert v.connect(fd, struct.pack("<H", INET) + b"/etc") == -E.EINVAL
    file_fd = v.open("/etc/passwd", os.O_RDONLY)
    assert v.connect(file_fd, sun(b"/etc")) == -E.ENOTSOCK
    v.close()


# -- socket(), options ---------------------------------------------------------------------------------

def creation(s, see):
    for family, type_, proto in [(UNIX, STREAM, 0), (UNIX, STREAM, 1), (UNIX, socket.SOCK_RAW, 0), (UNIX, 9, 0),
                                 (INET, STREAM, 0), (INET, STREAM, 6), (INET, STREAM, 17), (INET, DGRAM, 0),
                                 (INET, SEQPACKET, 0), (INET6, DGRAM, 0), (INET, STREAM | 0x100, 0), (4242, STREAM, 0)]:
        fd = s.socket(family, type_, proto)
        see(fd if fd < 0 else [s.getsockopt(fd, socket.SOL_SOCKET, o) for o in
                               (socket.SO_TYPE, socket.SO_PROTOCOL, socket.SO_DOMAIN, socket.SO_ACCEPTCONN)])
    see(s.socketpair(INET, STREAM))


def test_socket_families_types_and_protocols_as_the_kernel():
    same(creation)


OPTIONS = [
    (socket.SOL_SOCKET, socket.SO_REUSEADDR, [1, 0, 7]),
    (socket.SOL_SOCKET, socket.SO_REUSEPORT, [1]),
    (socket.SOL_SOCKET, socket.SO_KEEPALIVE, [5]),
    (socket.SOL_SOCKET, socket.SO_BROADCAST, [1]),
    (socket.SOL_SOCKET, socket.SO_SNDBUF, [1, 1000, 65536]),
    (socket.SOL_SOCKET, socket.SO_RCVBUF, [1, 4096, 100000]),
    (socket.SOL_SOCKET, socket.SO_RCVLOWAT, [10, -1]),
    (socket.SOL_SOCKET, socket.SO_PRIORITY, [3]),
    (socket.SOL_SOCKET, socket.SO_OOBINLINE, [1]),
    (socket.IPPROTO_TCP, socket.TCP_NODELAY, [1, 0]),
    (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, [30, 0]),
    (socket.IPPROTO_TCP, socket.TCP_KEEPCNT, [3, 200]),
    (socket.IPPROTO_TCP, socket.TCP_MAXSEG, [1000, 10]),
    (socket.IPPROTO_IP, socket.IP_TOS, [0x10, 0x1ff]),
    (socket.IPPROTO_IP, socket.IP_TTL, [5, 0, -1, 300]),
    (socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, [1]),
    (socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, [7, -1]),
    (999, 1, [1]),
]


def options(s, see, family, type_):
    fd = s.socket(family, type_)
    for level, name, values in OPTIONS:
        see(("default", level, name, s.getsockopt(fd, level, name)))
        for value in values:
            see(("set", level, name, value, s.setsockopt(fd, level, name, value), s.getsockopt(fd, level, name)))
    see(s.setsockopt(fd, socket.SOL_SOCKET, socket.SO_REUSEADDR, b"\1"))       # EINVAL: short
    see(s.getsockopt(fd, socket.SOL_SOCKET, socket.SO_REUSEADDR, 2))          # a short buffer
    see(s.getsockopt(fd, socket.IPPROTO_IP, socket.IP_TTL, 1))
    see(s.setsockopt(fd, socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 5)))
    see(s.getsockopt(fd, socket.SOL_SOCKET, socket.SO_LINGER, 8))
    see(s.setsockopt(fd, socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("qq", 2, 500000)))
    see(s.getsockopt(fd, socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16))
    see(s.setsockopt(fd, socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("qq", 1, 2000000)))  # EDOM
    see(s.getsockopt(fd, socket.SOL_SOCKET, 12345))                           # ENOPROTOOPT


@pytest.mark.parametrize("family,type_", [(INET, STREAM), (INET, DGRAM), (INET6, STREAM), (UNIX, STREAM),
                                          (UNIX, DGRAM)])
def test_options_read_back_as_the_kernel_reads_them(family, type_):
    native, ours = both(options, family, type_)
    # the buffer sizes' ceilings are this machine's sysctls (net.core.[rw]mem_max), the
    # picoprocess's are Linux's defaults: compare what stays under both
    for n, o in zip(native, ours):
        assert n == o, (n, o)


def test_no_address_but_loopback_is_reachable():
    """The picoprocess's machine has loopback only: connect and sendto anywhere else (the
    Internet, a private network, broadcast) is ENETUNREACH, and binding such an address is
    EADDRNOTAVAIL, as on a host without that interface or route."""
    v = HostVfs()
    for host in ("8.8.8.8", "10.0.0.1", "192.168.1.1", "255.255.255.255", "224.0.0.1"):
        assert v.connect(v.socket(INET, STREAM), sin(host, 80)) == -E.ENETUNREACH, host
        assert v.send(v.socket(INET, DGRAM), b"x", 0, sin(host, 53)) == -E.ENETUNREACH, host
        assert v.bind(v.socket(INET, STREAM), sin(host, 0)) == -E.EADDRNOTAVAIL, host
    assert v.connect(v.socket(INET6, STREAM), sin6("2001:db8::1", 80)) == -E.ENETUNREACH
    nb = v.socket(INET, STREAM | NB)
    assert v.connect(nb, sin("8.8.8.8", 80)) == -E.ENETUNREACH  # known at once, even non-blocking
    v.close()


def test_privileged_ports_need_the_virtual_root():
    user, root = HostVfs(uid=1000, gid=1000), HostVfs(uid=0, gid=0)
    assert user.bind(user.socket(INET, STREAM), sin("127.0.0.1", 80)) == -E.EACCES
    assert root.bind(root.socket(INET, STREAM), sin("127.0.0.1", 80)) == 0
    user.close()
    root.close()


def test_ephemeral_ports_are_linuxs_range_and_never_collide():
    v = HostVfs()
    ports = set()
    for _ in range(200):
        fd = v.socket(INET, STREAM)
        assert v.bind(fd, sin("127.0.0.1", 0)) == 0
        port = struct.unpack(">H", v.getsockname(fd)[2:4])[0]
        assert 32768 <= port <= 60999 and port not in ports
        ports.add(port)
    v.close()


def test_sockets_of_one_vfs_are_not_visible_to_another():
    """Two picoprocesses (two vfs): a listener of one is nobody to the other."""
    a, b = HostVfs(), HostVfs()
    l = a.socket(INET, STREAM)
    assert a.bind(l, sin("127.0.0.1", 0)) == 0 and a.listen(l, 1) == 0
    name = a.getsockname(l)
    assert b.connect(b.socket(INET, STREAM), name) == -E.ECONNREFUSED
    ul = a.socket(UNIX, STREAM)
    assert a.bind(ul, sun(b"\0shared-name")) == 0 and a.listen(ul, 1) == 0
    assert b.connect(b.socket(UNIX, STREAM), sun(b"\0shared-name")) == -E.ECONNREFUSED
    a.close()
    b.close()


def test_sendfile_from_a_file_to_a_socket_as_the_kernel(tmp_path):
    """sendfile of a file (at an offset, which moves; at the file's position, which moves) into
    a unix socket, its errors for fds that are not a file or not open, as the kernel's."""
    data = bytes(range(256)) * 700
    (tmp_path / "f").write_bytes(data)
    v = HostVfs()
    assert v.mount_ram("/", 1 << 20) == 0
    fd = v.open("/f", os.O_CREAT | os.O_RDWR, 0o644)
    assert v.write(fd, data) == len(data) and v.lseek(fd, 100, os.SEEK_SET) == 100
    a, b = v.socketpair(UNIX, STREAM | NB)
    nfd = os.open(tmp_path / "f", os.O_RDWR)
    os.lseek(nfd, 100, os.SEEK_SET)
    na, nb = socket.socketpair(UNIX, STREAM)
    na.setblocking(False)
    try:
        assert v.sendfile(a, fd, 5, 1000) == (os.sendfile(na.fileno(), nfd, 5, 1000), 1005)
        assert v.sendfile(a, fd, None, 1000)[0] == os.sendfile(na.fileno(), nfd, None, 1000)
        assert v.lseek(fd, 0, os.SEEK_CUR) == os.lseek(nfd, 0, os.SEEK_CUR) == 1100
        assert v.recv(b, 4000) == nb.recv(4000)
        big_ours, big_native = v.sendfile(a, fd, 0, len(data))[0], os.sendfile(na.fileno(), nfd, 0, len(data))
        assert 0 < big_ours <= len(data) and 0 < big_native <= len(data)  # a full buffer stops it short
        for args in [(a, b, 0, 10), (fd, fd, 0, 10), (a, 99, 0, 10), (99, fd, 0, 10)]:
            out, inp = args[0], args[1]
            nout = {a: na.fileno(), fd: nfd, 99: 99}[out]
            ninp = {b: nb.fileno(), fd: nfd, 99: 99}[inp]
            try:
                expect = os.sendfile(nout, ninp, 0, 10)
            except OSError as e:
                expect = -e.errno
            assert v.sendfile(out, inp, 0, 10)[0] == expect, args
    finally:
        os.close(nfd)
        na.close()
        nb.close()
        v.close()
