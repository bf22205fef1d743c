"""The VFS's files form layers, not a cycle (tools/vfs_calls.py reads who calls whom from the objects):
generic code reaches backends and kinds of descriptor only through their ops tables, so that a new
backend or a new kind of descriptor is a new file, not edits in the walker, io.c, stat.c and dir.c."""
import pytest

from conftest import load_tool

# the generic part: the namespace, the walker, the fd table and the system calls
GENERIC = {"alloc.c", "user.c", "node.c", "route.c", "lookup.c", "path.c", "fdtable.c", "file.c", "io.c", "stat.c",
           "readdir.c", "dir.c", "open.c", "cwd.c", "vfs.c", "stream.c", "fork.c"}
# backends (struct vfs_backend) and kinds of description (struct vfs_file_ops)
BACKENDS = {"tar.c", "ram.c", "origin.c", "deny.c", "devices.c", "proc.c", "hostdir.c"}
KINDS = {"stdio.c", "pipe.c", "sock.c", "eventfd.c", "epoll.c"}
# the socket kind's own parts (sock_int.h): only sock.c and they call each other
SOCKET_PARTS = {"sockobj.c", "sockaddr.c", "sockio.c", "sockopt.c"}
# what is made of one backend's nodes, above it: the RAM disks as a tar (run --export-ram)
ABOVE = {"export.c"}


@pytest.fixture(scope="module")
def calls():
    return load_tool("vfs_calls")


@pytest.fixture(scope="module")
def graph(calls):
    return calls.graph()


# helpers of one backend or kind: hashing (origin.c's pins); the image format's headers (tar.c's, and the PAL's)
HELPERS = {"sha256.c", "tarfmt.c"}


def test_every_file_is_classified(graph):
    assert set(graph) == GENERIC | BACKENDS | KINDS | SOCKET_PARTS | HELPERS | ABOVE


def test_nothing_below_calls_what_is_above(graph):
    for name in GENERIC | BACKENDS | KINDS | SOCKET_PARTS:
        assert not graph[name] & ABOVE, f"{name} calls {sorted(graph[name] & ABOVE)}"


def test_no_cycle_among_the_files(calls, graph):
    assert calls.components(graph) == []


@pytest.mark.parametrize("name", sorted(GENERIC))
def test_generic_code_calls_no_backend_and_no_kind(graph, name):
    special = BACKENDS | KINDS | SOCKET_PARTS
    assert not graph[name] & special, f"{name} calls {sorted(graph[name] & special)} directly"


def test_backends_do_not_call_each_other(graph):
    for name in BACKENDS | KINDS:
        others = (BACKENDS | KINDS) - {name}
        assert not graph[name] & others, f"{name} calls {sorted(graph[name] & others)}"
        if name != "sock.c":
            assert not graph[name] & SOCKET_PARTS, f"{name} calls the socket kind's parts"


def test_the_socket_parts_serve_the_socket_kind_only(graph):
    for name in SOCKET_PARTS:
        assert not graph[name] & ((BACKENDS | KINDS) - {"sock.c"}), f"{name} calls {sorted(graph[name])}"


def test_the_check_sees_a_cycle(calls):
    """The cycle finder itself: a -> b -> c -> a and d -> a give one component of three."""
    g = {"a.c": {"b.c"}, "b.c": {"c.c"}, "c.c": {"a.c"}, "d.c": {"a.c"}}
    assert calls.components(g) == [["a.c", "b.c", "c.c"]]
