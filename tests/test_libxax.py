"""Programs written for Xax: the xabi_* calls, through libxax and the PAL, served
by the Monitor -- with the article's return conventions and the Same Origin Policy."""
import os
import threading
import time

import pytest

import xax_emu.monitor.xaxcalls as monitor_xaxcalls
from conftest import run_pico
from loopback import HttpOrigin, TcpServer
from xax_emu import protocol as p, runtime
from xax_emu.launch.layers import layer_for
from xax_emu.monitor import Limits, Monitor, Stdio, parse_origin
from xax_emu.launch.program import resolve

POLLIN, POLLOUT, POLLERR, POLLHUP = 0x1, 0x4, 0x8, 0x10


@pytest.fixture(scope="module")
def abi(build):
    return build("xax/abi.c", "musl", extra=[str(runtime.libxax())])


def values(stderr: bytes) -> dict[str, str]:
    out = {}
    for line in stderr.decode(errors="replace").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.replace("_", "").isalnum():
            out.setdefault(name, value)
    return out


def ints(stderr: bytes) -> dict[str, int]:
    return {k: int(v) for k, v in values(stderr).items() if v.lstrip("-").isdigit()}


def run(abi, *args, stdin=b"", origin=None, limits=None, monitor=None):
    r = run_pico(abi, list(args), stdin=stdin, origin=parse_origin(origin) if isinstance(origin, str) else origin,
                 limits=limits or Limits(wall_seconds=30), monitor=monitor)
    assert r.report.reason is None, (r.report.reason, r.stderr, r.log)
    assert b"BLOCKING_POLL_RETURNED_0" not in r.stderr
    assert b"READ_OVER_MAX_READ" not in r.stderr
    return r


def test_constants_match_the_header():
    assert (p.POLLIN, p.POLLOUT, p.POLLERR, p.POLLHUP) == (POLLIN, POLLOUT, POLLERR, POLLHUP)
    text = (runtime.include_dir() / "xabi.h").read_text()
    for name, value in (("POLLIN", POLLIN), ("POLLOUT", POLLOUT), ("POLLERR", POLLERR), ("POLLHUP", POLLHUP)):
        assert f"#define XABI_{name} 0x{value:x}\n" in text


# -- args, memory, stdio ----------------------------------------------------------------

def test_args_are_the_image_url_then_argv(abi):
    r = run(abi, "args", "one", "two words", "")
    lines = r.stdout.decode().split("\n")
    assert lines[0] == resolve(str(abi), None).image_url  # the URL the Monitor serves the program under
    assert lines[1:5] == [str(abi), "args", "one", "two words"]
    assert lines[5] == "" and lines[6] == ""
    assert ints(r.stderr)["count"] == 6  # NULL-terminated after image URL + argv
    assert r.code == 0


def test_alloc_and_free(abi):
    r = run(abi, "alloc")
    v = ints(r.stderr)
    assert v == {
        "alloc": 1, "zero": 1, "written": 1,
        "at_start": 1, "at_zero": 1, "again": 0, "intact": 1,
        "zero_len": 0, "negative_len": 0,
        "free_inside": -1, "free_unknown": -1, "free_null": -1, "free": 0, "double_free": -1, "free_q": 0,
        "realloc_same_place": 1, "realloc_zero": 1, "free_r": 0, "many": 1,
    }, r.stderr
    assert r.code == 0


def test_write_to_stdout_and_stderr(abi):
    r = run(abi, "write")
    v = ints(r.stderr)
    big = bytes(ord("a") + i % 26 for i in range(300000))
    assert r.stdout == b"to stdout\n" + big
    assert b"to stderr\n" in r.stderr
    assert (v["w1"], v["w2"], v["w_empty"], v["w_negative"]) == (10, 10, 0, -1)
    assert 0 < v["w_big_first"] <= p.MAX_PAYLOAD
    assert v["w_big_total"] == 300000


@pytest.mark.parametrize("size", [0, 1, 65536, 65537, 300_000, (1 << 20) + 1])
def test_read_stdin_until_eof(abi, size):
    data = os.urandom(size)
    r = run(abi, "cat", stdin=data)
    assert r.stdout == data
    v = ints(r.stderr)
    assert v["total"] == size
    assert v["after_eof"] == -1  # and stays -1


# -- poll -----------------------------------------------------------------------------

def run_with_late_stdin(abi, args, feed: bytes, delay: float = 0.3, eof_delay: float = 0.3):
    """Run with stdin on a pipe: nothing there until the program prints
    "waiting", then `feed` after `delay` seconds, then EOF after `eof_delay` more."""
    r_fd, w_fd = os.pipe()
    out, err, log, fed_at = bytearray(), bytearray(), [], []

    def feeder():
        time.sleep(delay)
        fed_at.append(time.monotonic())
        os.write(w_fd, feed)
        time.sleep(eof_delay)
        fed_at.append(time.monotonic())  # the EOF: the program cannot end before this
        os.close(w_fd)

    def stdout(data: bytes) -> None:
        out.extend(data)
        if b"waiting\n" in out and not fed_at and not started:
            started.append(threading.Thread(target=feeder, daemon=True))
            started[0].start()

    started: list[threading.Thread] = []
    prog = resolve(str(abi), None)
    try:
        with Monitor(log=log.append) as monitor:
            pico = monitor.start(image_url=prog.image_url, argv=[str(abi), *args], env=[], origin=None,
                                 limits=Limits(wall_seconds=20), local_files=prog.local_files, layer=layer_for(),
                                 stdio=Stdio(stdout=stdout, stderr=err.extend, stdin_fd=r_fd, stdin_bytes=None))
            (report,) = monitor.run_until_done([pico])
            ended = time.monotonic()
    finally:
        os.close(r_fd)
        if not started:
            os.close(w_fd)
        else:
            started[0].join()
    return report, bytes(out), bytes(err), fed_at, ended


def test_poll_nonblocking_then_blocking_on_stdin(abi):
    report, out, err, fed_at, ended = run_with_late_stdin(abi, ["poll"], b"late data")
    assert report.reason is None and report.exit_code == 0, (report, err)
    assert b"BLOCKING_POLL_RETURNED_0" not in err
    v = ints(err)
    # Nothing on stdin yet: a non-blocking poll returns 0 with no events, a read returns 0 (not ready).
    assert (v["nb"], v["nb_revents"], v["nb_read"]) == (0, 0, 0)
    # The blocking poll waited for the data: one entry ready, POLLIN on stdin, nothing on the other.
    assert (v["b"], v["b_revents0"], v["b_revents1"]) == (1, POLLIN, 0)
    assert values(err)["got"] == "late data" and v["got_len"] == 9
    # ... and then for the end of stdin, reported as a hang-up.
    assert v["eof_revents"] & POLLHUP
    assert len(fed_at) == 2 and ended > fed_at[1]  # it waited for the EOF (an ordering, not a duration)


def test_poll_corner_cases(abi):
    r = run(abi, "polls")
    v = ints(r.stderr)
    assert v["n"] == 3
    assert (v["r1"], v["r2"], v["r99"]) == (POLLOUT, POLLOUT, POLLERR)
    assert v["block_ready"] == 1
    assert (v["block_unknown"], v["block_unknown_revents"]) == (1, POLLERR)
    assert v["nb_none"] == 0
    assert (v["bad_count"], v["too_many"]) == (-1, -1)


# -- close, accept, exit ------------------------------------------------------------------

def test_close(abi):
    r = run(abi, "close")
    v = ints(r.stderr)
    assert v["open"] >= 3 and v["read_open"] == 1
    assert (v["close"], v["close_again"]) == (0, -1)
    assert (v["read_closed"], v["write_closed"]) == (-1, -1)
    assert (v["read_unknown"], v["write_unknown"], v["close_unknown"], v["read_negative"]) == (-1, -1, -1, -1)
    assert (v["write_stdin"], v["read_stdout"]) == (-1, -1)
    assert (v["close_stdout"], v["write_closed_stdout"]) == (0, -1)
    assert v["reopen"] == 1
    assert r.stdout == b""


def test_accept_in_run_mode(abi):
    v = ints(run(abi, "accept").stderr)
    assert (v["accept"], v["accept_again"]) == (-1, -1)


def test_exit_ends_the_process_with_status_0(abi):
    r = run(abi, "exit")
    assert r.stdout == b"before\n"
    assert r.code == 0 and r.report.signal is None


def test_own_image_readable_through_open_url(abi):
    r = run(abi, "get", resolve(str(abi), None).image_url)
    assert r.stdout == abi.read_bytes()
    assert ints(r.stderr)["open"] >= 3


# -- open_url("get") and the Same Origin Policy -------------------------------------------------

@pytest.fixture
def origin():
    with HttpOrigin() as s:
        yield s


def test_get_small_and_large_bodies(abi, origin):
    small, large = b"hello, origin\n", os.urandom(300_000)
    origin.add("/small", small)
    origin.add("/large", large)
    origin.add("/empty", b"")
    r = run(abi, "get", origin.base + "/small", origin.base + "/large", origin.base + "/empty", origin=origin.base)
    assert r.stdout == small + large
    assert [int(x.split(b"=")[1]) for x in r.stderr.splitlines() if x.startswith(b"total=")] == [len(small),
                                                                                                len(large), 0]
    assert [x.path for x in origin.requests] == ["/small", "/large", "/empty"]


def test_get_equivalent_spelling_of_the_origin(abi, origin):
    origin.add("/f", b"same place")
    r = run(abi, "get", f"HTTP://127.0.0.1.:{origin.port}/f", origin=origin.base)
    assert r.stdout == b"same place"


def test_get_404_is_minus_one(abi, origin):
    r = run(abi, "get", origin.base + "/missing", origin=origin.base)
    assert ints(r.stderr)["open"] == -1
    assert [x.path for x in origin.requests] == ["/missing"]


def test_get_other_origins_refused_without_a_request(abi, origin):
    with HttpOrigin() as other_port, HttpOrigin("127.0.0.2", origin.port) as other_host:
        for s in (origin, other_port, other_host):
            s.add("/f", b"must not be read")
        urls = [
            other_port.base + "/f",                       # another port
            other_host.base + "/f",                       # another host, same port
            f"http://localhost:{origin.port}/f",          # another name for the origin's address
            f"https://127.0.0.1:{origin.port}/f",         # another scheme
            f"http://[::ffff:127.0.0.1]:{origin.port}/f",
            f"http://0x7f000001:{origin.port}/f",         # numeric tricks
            f"http://2130706433:{origin.port}/f",
            f"http://127.1:{origin.port}/f",
            f"http://x@127.0.0.1:{origin.port}/f",        # credentials
            f"http://127.0.0.1:{origin.port}/f#frag",     # fragment
            f"ftp://127.0.0.1:{origin.port}/f",
            "/f", "f", "",
        ]
        r = run(abi, "get", *urls, origin=origin.base)
        assert [int(x) for x in values_all(r.stderr, "open")] == [-1] * len(urls)
        assert r.stdout == b""
        assert origin.connections == other_port.connections == other_host.connections == 0
        assert any("Same Origin Policy" in line for line in r.log)


def values_all(stderr: bytes, name: str) -> list[str]:
    return [line.split("=", 1)[1] for line in stderr.decode().splitlines() if line.startswith(name + "=")]


def test_get_without_an_origin_is_refused(abi, origin):
    origin.add("/f", b"x")
    r = run(abi, "get", origin.base + "/f")
    assert ints(r.stderr)["open"] == -1
    assert origin.connections == 0
    assert any("no origin" in line for line in r.log)


def test_redirects_are_rechecked(abi, origin):
    with HttpOrigin() as other:
        other.add("/x", b"elsewhere")
        origin.add("/target", b"followed")
        origin.redirect("/same", "/target")
        origin.redirect("/same-abs", origin.base + "/target", 307)
        origin.redirect("/away", other.base + "/x")
        origin.redirect("/away-host", f"http://localhost:{origin.port}/target")
        r = run(abi, "get", origin.base + "/same", origin.base + "/same-abs", origin.base + "/away",
                origin.base + "/away-host", origin=origin.base)
        opens = [int(x) for x in values_all(r.stderr, "open")]
        assert opens[0] >= 3 and opens[1] >= 3 and opens[2:] == [-1, -1]
        assert r.stdout == b"followed" * 2
        assert other.connections == 0
        assert [x.path for x in origin.requests].count("/target") == 2


def test_worker_failure_is_minus_one_not_a_hang(abi, origin, monkeypatch):
    def broken_fetch(*args, **kwargs):
        raise RuntimeError("a bug in the fetcher")

    monkeypatch.setattr(monitor_xaxcalls, "fetch", broken_fetch)          # PUT
    monkeypatch.setattr(monitor_xaxcalls, "fetch_stream", broken_fetch)   # GET
    r = run(abi, "get", origin.base + "/f", origin=origin.base, limits=Limits(wall_seconds=10))
    assert ints(r.stderr)["open"] == -1
    assert any("a bug in the fetcher" in line for line in r.log)
    r = run(abi, "put", origin.base + "/f", stdin=b"x", origin=origin.base, limits=Limits(wall_seconds=10))
    v = ints(r.stderr)
    assert v["open"] >= 3 and v["response"] == 0  # the upload failed: read gives -1, not a hang


def test_download_limit_applies_to_get(abi, origin):
    origin.add("/big", b"b" * 5000)
    origin.add("/ok", b"o" * 1000)
    r = run(abi, "get", origin.base + "/big", origin.base + "/ok", origin=origin.base,
            limits=Limits(wall_seconds=30, download=4000))
    assert [int(x) for x in values_all(r.stderr, "open")][0] == -1
    assert r.stdout == b"o" * 1000


# -- put ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 11, 200_000])
def test_put_sends_the_body_and_reads_the_response(abi, origin, size):
    body = os.urandom(size)
    r = run(abi, "put", origin.base + "/upload", stdin=body, origin=origin.base)
    v = ints(r.stderr)
    assert v["open"] >= 3 and v["wrote"] == size
    assert origin.stored["/upload"] == body
    assert r.stdout == b"stored %d bytes at /upload\n" % size
    assert v["response"] == len(r.stdout)
    assert v["write_after_send"] == -1 and v["close"] == 0
    assert [(x.method, x.path) for x in origin.requests] == [("PUT", "/upload")]


def test_put_to_another_origin_is_refused(abi, origin):
    with HttpOrigin() as other:
        r = run(abi, "put", other.base + "/upload", stdin=b"secret", origin=origin.base)
        assert ints(r.stderr)["open"] == -1
        assert other.connections == origin.connections == 0


def test_put_over_the_limit_is_refused(abi, origin):
    r = run(abi, "put", origin.base + "/upload", stdin=b"u" * 5000, origin=origin.base,
            limits=Limits(wall_seconds=30, download=4000))
    v = ints(r.stderr)
    assert v["open"] >= 3 and v["wrote"] == -1
    # The upload failed: no truncated body is sent later, and the response is -1 at once.
    assert v["response"] == 0 and v["close"] == 0
    assert origin.requests == [] and origin.stored == {}


def test_unknown_method_is_refused(abi, origin):
    origin.add("/f", b"x")
    for method in ("GET", "post", "delete", "", "connectx"):
        r = run(abi, "open", method, origin.base + "/f", origin=origin.base)
        assert ints(r.stderr)["open"] == -1, method
    assert origin.connections == 0


# -- connect ----------------------------------------------------------------------------------

@pytest.fixture
def tcp():
    with TcpServer() as s:
        yield s


@pytest.mark.parametrize("payload", [b"ping\nEND\n", b"x" * 300_000 + b"END\n"])
def test_connect_relays_both_ways(abi, tcp, payload):
    base = f"http://127.0.0.1:{tcp.port}"
    r = run(abi, "connect", base + "/", stdin=payload, origin=base)
    v = ints(r.stderr)
    assert v["open"] >= 3 and v["wrote"] == len(payload)
    assert tcp.received == [payload]
    assert r.stdout == b"HELLO\n" + payload.upper()
    assert v["received"] == len(r.stdout) and v["close"] == 0


def test_connect_response_larger_than_the_relay_buffer(abi):
    """The server answers 3 MiB while the program is not reading yet: the Monitor's
    buffer fills, and it must resume reading the socket once the program drains it."""
    with TcpServer(transform=lambda data: data * (3 * 1024 * 1024 // len(data))) as tcp:
        base = f"http://127.0.0.1:{tcp.port}"
        payload = b"0123456789abcdef" * 4 + b"END\n"
        r = run(abi, "connect", base + "/", "1500", stdin=payload, origin=base, limits=Limits(wall_seconds=20))
        expected = payload * (3 * 1024 * 1024 // len(payload))
        assert ints(r.stderr)["received"] == 6 + len(expected)
        assert r.stdout == b"HELLO\n" + expected


def test_connect_elsewhere_is_refused(abi, tcp):
    with TcpServer() as other, TcpServer("127.0.0.2", tcp.port) as other_host:
        base = f"http://127.0.0.1:{tcp.port}"
        for url in (f"http://127.0.0.1:{other.port}/", f"http://127.0.0.2:{tcp.port}/",
                    f"http://localhost:{tcp.port}/", f"https://127.0.0.1:{tcp.port}/"):
            r = run(abi, "open", "connect", url, origin=base)
            assert ints(r.stderr)["open"] == -1, url
        r = run(abi, "open", "connect", base + "/")  # no origin at all
        assert ints(r.stderr)["open"] == -1
        assert tcp.connections == other.connections == other_host.connections == 0


def test_connect_to_nothing_listening(abi):
    with TcpServer() as gone:
        base = f"http://127.0.0.1:{gone.port}"
    r = run(abi, "open", "connect", base + "/", origin=base)
    assert ints(r.stderr)["open"] == -1


def test_one_monitor_serves_many_programs(abi, origin):
    origin.add("/f", b"shared")
    log: list[str] = []
    with Monitor(log=log.append) as monitor:
        for _ in range(3):
            r = run(abi, "get", origin.base + "/f", origin=origin.base, monitor=monitor)
            assert r.stdout == b"shared"


def test_the_origin_is_pinned_at_its_first_answer_dns_rebinding(abi, monkeypatch):
    """An origin's host name resolves to one address when the program is fetched, and to
    another (here 127.0.0.2; in an attack, the user's own 127.0.0.1) on every later lookup:
    the program's GET, PUT and connect still reach the first address, and the name is never
    looked up again."""
    import socket
    real = socket.getaddrinfo
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "127.0.0.2"
        return real(address, port, *args, **kwargs)

    with HttpOrigin("127.0.0.1") as first:
        first.add("/abi", abi.read_bytes())
        first.add("/secret", b"from the first answer")
        with HttpOrigin("127.0.0.2", first.port) as second, TcpServer("127.0.0.2", first.port + 1) as second_tcp:
            second.add("/secret", b"from the rebound address")
            monkeypatch.setattr(socket, "getaddrinfo", rebinding)
            url = f"http://rebind.test:{first.port}"
            r = run(url + "/abi", "get", url + "/secret", origin=url)
            assert r.stdout.endswith(b"from the first answer")
            assert lookups == ["rebind.test"]  # only when the program was fetched
            lookups.clear()  # a new run looks the name up anew, once
            r = run(url + "/abi", "put", url + "/up", stdin=b"payload", origin=url)
            assert first.stored == {"/up": b"payload"} and lookups == ["rebind.test"]
            lookups.clear()
            before = first.connections
            r = run(url + "/abi", "connect", url + "/", stdin=b"GET /secret HTTP/1.0\r\n\r\n", origin=url)
            assert b"from the first answer" in r.stdout and first.connections == before + 2  # the fetch, the connect
            assert lookups == ["rebind.test"]
            assert second.requests == [] and second.connections == 0 and second_tcp.connections == 0


def test_a_download_is_read_as_it_arrives(abi, origin):
    """The origin sends the first piece of a body and then waits until the program has
    written that piece to its stdout: a Monitor that held the body whole until its end
    would deadlock here (the origin gives up after 30 s and the test sees it waited)."""
    import threading
    first_out = threading.Event()
    origin_waited_in_vain = []

    def slow_body(h):
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(b"%x\r\n%s\r\n" % (5, b"first"))
        h.wfile.flush()
        if not first_out.wait(30):
            origin_waited_in_vain.append(True)
        h.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (4, b"last"))
        h.close_connection = True

    origin.special["/slow"] = slow_body
    out = bytearray()

    def stdout(data: bytes) -> None:
        out.extend(data)
        if b"first" in out:
            first_out.set()

    from xax_emu.launch.request import Request, start_kwargs
    with Monitor(log=lambda line: None) as monitor:
        prog = resolve(str(abi), parse_origin(origin.base))
        pico = monitor.start(**start_kwargs(Request(prog, ["get", origin.base + "/slow"], [],
                                                    limits={"wall_seconds": 60})),
                             stdio=Stdio(stdout=stdout, stderr=lambda b: None, stdin_bytes=b""))
        (report,) = monitor.run_until_done([pico])
    assert report.exit_code == 0 and bytes(out) == b"firstlast"
    assert origin_waited_in_vain == []


@pytest.mark.parametrize("whole", [True, False], ids=["whole", "cut-off"])
def test_a_body_is_read_before_it_ends_and_cached_only_whole(abi, origin, tmp_path, whole):
    """The origin declares a 3 MiB body (Content-Length), sends its first half and waits
    until the test has seen the program write that half to its stdout: the first bytes
    reached the program before the body ended.  Then the origin sends the rest (the program
    reads it all, -1 then polls POLLHUP, and the Monitor's cache holds the body) or closes
    the connection (the program has the half, -1 then polls POLLERR, and nothing is cached:
    no entry, no temporary file)."""
    from xax_emu.monitor.fetch import HttpCache
    body = os.urandom(3 << 20)
    half = len(body) // 2
    first_out = threading.Event()
    origin_waited_in_vain = []

    def half_then_rest(h):
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("ETag", '"v1"')
        h.send_header("Cache-Control", "max-age=600")
        h.end_headers()
        h.wfile.write(body[:half])
        h.wfile.flush()
        if not first_out.wait(30):
            origin_waited_in_vain.append(True)
        if whole:
            h.wfile.write(body[half:])
        h.close_connection = True

    origin.special["/half"] = half_then_rest
    out = bytearray()

    def stdout(data: bytes) -> None:
        out.extend(data)
        if len(out) >= half:
            first_out.set()

    err = bytearray()
    cache = HttpCache(tmp_path / "cache")
    from xax_emu.launch.request import Request, start_kwargs
    with Monitor(cache=cache, log=lambda line: None) as monitor:
        prog = resolve(str(abi), parse_origin(origin.base))
        pico = monitor.start(**start_kwargs(Request(prog, ["get", origin.base + "/half"], [],
                                                    limits={"wall_seconds": 60})),
                             stdio=Stdio(stdout=stdout, stderr=err.extend, stdin_bytes=b""))
        (report,) = monitor.run_until_done([pico])
    assert report.exit_code == 0 and origin_waited_in_vain == []
    v = ints(bytes(err))
    entry = cache.lookup(f"{origin.base}/half")
    if whole:
        assert bytes(out) == body and v["total"] == len(body)
        assert v["end"] & p.POLLHUP and not v["end"] & p.POLLERR
        assert entry is not None and entry[1] == body
    else:
        assert bytes(out) == body[:half] and v["total"] == half
        assert v["end"] & p.POLLERR
        assert entry is None
        assert [f.name for f in (tmp_path / "cache").iterdir()] == []
