"""Programs that do not speak HTTP, behind a page: the `[http]` table's interfaces
(docs/serve.md).

  pages      the image directory `pages`, served as static files under /.xax/ID/
  stdio      CGI's model: one picoprocess per request to the endpoint; the body is its
             stdin; exit status 0 gives 200 with its stdout, any other 500 with stderr
  websocket  websocketd's model: one picoprocess per WebSocket to the endpoint; each
             text message one line on stdin, each line on stdout one message

Query parameters reach argv only through the image's declared templates
(image/http.py: argv_for_query).  The picoprocesses start on the Monitor's loop
(instances.on_loop); this connection's thread waits for them.
"""
from __future__ import annotations

import mimetypes
import queue
import threading
from typing import TYPE_CHECKING
from urllib.parse import unquote

import wsproto.connection as wsconn
import wsproto.events as wsev
from wsproto.utilities import LocalProtocolError, generate_accept_token

from ..image.http import ParamError, argv_for_query
from ..monitor.channels import CLOSED, NOT_READY
from ..monitor.stdio import CallableSink, Stdio
from .http1 import BrowserConn, Gone, Request
from .instances import Instance, ServeError, on_loop
from .relay import browser_gone

if TYPE_CHECKING:
    from .routes import Routes

STDERR_KEPT = 64 << 10     # bytes of a failed run's stderr shown in its 500
WAIT_POLL = 1.0            # seconds between checks that the browser is still there
WS_OUT_BUFFER = 1 << 20    # bytes of a program's output waiting to be sent as messages
WS_LINE_MAX = 1 << 20      # a line longer than this is sent in pieces
WS_RECV = 64 << 10


def serve_interface(routes: "Routes", browser: BrowserConn, req: Request, inst: Instance, path: str,
                    query: str) -> None:
    http = inst.http
    if path == http.get("endpoint"):
        if inst.kind == "stdio":
            run_stdio(routes, browser, req, inst, query)
        else:
            run_websocket(routes, browser, req, inst, query)
        return
    browser.drain_body()
    if http.get("pages") and req.method in ("GET", "HEAD"):
        serve_page(browser, req, inst, path)
        return
    raise ServeError(404, "nothing here")


# -- pages ------------------------------------------------------------------------------

_index_lock = threading.Lock()


def _image_index(inst: Instance):
    """The image's structure (validated when it was launched; read once more here, headers
    only, for the member offsets), kept on the instance."""
    with _index_lock:
        index = getattr(inst, "_pages_index", None)
        if index is None:
            from ..image.validate import validate
            with inst.program.image.mapping() as mapped:
                index = validate(mapped, check_data=False)
            inst._pages_index = index
        return index


def serve_page(browser: BrowserConn, req: Request, inst: Instance, path: str) -> None:
    parts = unquote(path, errors="strict").split("/")[1:]
    if any(p in (".", "..") or "\0" in p for p in parts) or any(not p for p in parts[:-1]):
        raise ServeError(404, "no such page")
    name = "/".join([inst.http["pages"].strip("/"), *[p for p in parts if p]])
    index = _image_index(inst)
    if index.kind_of(name) == ("dir", None):
        name += "/index.html"
    member = index.member(name)
    if member is None or member.type != "file":
        raise ServeError(404, "no such page")
    data = inst.program.image.pread(member.data_offset, member.size)
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
        ctype += "; charset=utf-8"
    browser.respond(200, data if req.method == "GET" else b"", ctype.encode())


# -- stdio ------------------------------------------------------------------------------

class _Capped:
    """Collects a stream up to `limit` bytes; past it, the program's writes fail."""

    def __init__(self, limit: int):
        self.limit = limit
        self.data = bytearray()
        self.over = False

    def __call__(self, chunk: bytes) -> None:
        if len(self.data) + len(chunk) > self.limit:
            self.over = True
            raise ValueError("over the limit")
        self.data += chunk


def _argv(inst: Instance, query: str) -> list[str]:
    try:
        return argv_for_query(inst.http, query)
    except ParamError as e:
        raise ServeError(400, str(e)) from None


def run_stdio(routes: "Routes", browser: BrowserConn, req: Request, inst: Instance, query: str) -> None:
    args = _argv(inst, query)
    body = browser.read_body(inst.http["max_body"])
    stdout, stderr = _Capped(inst.http["max_output"]), _Capped(STDERR_KEPT)
    done = threading.Event()
    box: dict = {}

    def on_exit(report) -> None:
        box["report"] = report
        done.set()

    def start():
        return inst.start_picoprocess(args, stdio=Stdio(stdout=stdout, stderr=stderr, stdin_bytes=body),
                                      on_exit=on_exit)

    pico = on_loop(routes.monitor, start)
    while not done.wait(WAIT_POLL):
        if stdout.over:
            routes.monitor.call_soon_threadsafe(lambda: pico.kill("its output is over max_output"))
        elif browser_gone(browser):
            routes.monitor.call_soon_threadsafe(lambda: pico.kill("the browser left"))
    report = box["report"]
    if stdout.over:
        raise ServeError(502, f"the program wrote more than {inst.http['max_output']} bytes")
    if report.exit_code == 0 and report.reason is None:
        browser.respond(200, bytes(stdout.data), inst.http["content_type"].encode())
        return
    why = report.reason or f"the program exited with status {report.exit_code}"
    browser.respond(500, bytes(stderr.data) + f"xax-emu: {why}\n".encode())


# -- websocket --------------------------------------------------------------------------

class _MessageSink:
    """A program's stdout (or stderr) as lines for the page, waiting in a bounded queue:
    a full queue makes the program's writes "not ready" until the page takes more."""

    def __init__(self, out: "queue.SimpleQueue", wake):
        self.out = out
        self.wake = wake
        self.partial = bytearray()
        self.queued = 0
        self.lock = threading.Lock()
        self.broken = False

    def offer(self, data: bytes) -> int:
        with self.lock:
            if self.broken:
                return CLOSED
            if self.queued >= WS_OUT_BUFFER:
                return NOT_READY
            self.partial += data
            while True:
                nl = self.partial.find(b"\n")
                if nl < 0 and len(self.partial) < WS_LINE_MAX:
                    break
                cut = nl if nl >= 0 else WS_LINE_MAX
                line = bytes(self.partial[:cut])
                del self.partial[:cut + (1 if nl >= 0 else 0)]
                self.queued += len(line) + 1
                self.out.put(("line", line, self))
            return len(data)

    def sent(self, n: int) -> None:
        with self.lock:
            full = self.queued >= WS_OUT_BUFFER
            self.queued -= n
        if full:
            self.wake()

    def has_room(self) -> bool:
        with self.lock:
            return self.broken or self.queued < WS_OUT_BUFFER

    def finish(self) -> None:
        with self.lock:
            if self.partial:
                self.out.put(("line", bytes(self.partial), self))
                self.partial.clear()

    def flush(self, timeout) -> None:
        self.finish()


def run_websocket(routes: "Routes", browser: BrowserConn, req: Request, inst: Instance, query: str) -> None:
    key = req.header(b"sec-websocket-key")
    if req.method != "GET" or not req.has_token(b"upgrade", b"websocket") or key is None:
        browser.drain_body()
        raise ServeError(426, "this endpoint speaks WebSocket")
    args = _argv(inst, query)
    browser.drain_body()
    out: queue.SimpleQueue = queue.SimpleQueue()
    wake = lambda: routes.monitor.call_soon_threadsafe(lambda: None)  # noqa: E731
    stdout = _MessageSink(out, wake)
    stderr = _MessageSink(out, wake) if inst.http.get("stderr") == "messages" else CallableSink(lambda b: None)

    def on_exit(report) -> None:
        out.put(("exit", report, None))

    def start():
        return inst.start_picoprocess(args, stdio=Stdio(stdout=stdout, stderr=stderr, stdin_bytes=None),
                                      on_exit=on_exit)

    pico = on_loop(routes.monitor, start)
    try:
        browser.start_response(101, [(b"upgrade", b"websocket"), (b"connection", b"Upgrade"),
                                     (b"sec-websocket-accept", _bytes(generate_accept_token(key)))])
    except Gone:
        routes.monitor.call_soon_threadsafe(lambda: pico.kill("the browser left"))
        raise
    leftover, _ = browser.h11.trailing_data
    ws = wsconn.Connection(wsconn.ConnectionType.SERVER, trailing_data=bytes(leftover))
    send_lock = threading.Lock()

    def send(event) -> bool:
        try:
            with send_lock:
                browser.sock.sendall(ws.send(event))
            return True
        except (OSError, LocalProtocolError):
            return False

    writer = threading.Thread(target=_write_messages, args=(out, send, browser), daemon=True, name="xax-ws-out")
    writer.start()
    try:
        _read_messages(routes, browser, ws, pico, send)
    finally:
        routes.monitor.call_soon_threadsafe(lambda: pico.kill("the page closed the WebSocket")
                                            if pico.report is None else None)
        writer.join(30)
        browser.close()


def _feed_stdin(routes: "Routes", pico, data: bytes) -> None:
    routes.monitor.call_soon_threadsafe(lambda: pico.stdin.feed(data) if pico.report is None else None)


def _read_messages(routes: "Routes", browser: BrowserConn, ws, pico, send) -> None:
    """The page's messages, each a line on the program's stdin, until either side closes."""
    sock = browser.sock
    sock.settimeout(WAIT_POLL)
    partial: list = []
    while pico.report is None:
        for event in ws.events():
            if isinstance(event, (wsev.TextMessage, wsev.BytesMessage)):
                data = event.data.encode() if isinstance(event, wsev.TextMessage) else bytes(event.data)
                partial.append(data)
                if event.message_finished:
                    _feed_stdin(routes, pico, b"".join(partial) + b"\n")
                    partial.clear()
            elif isinstance(event, wsev.Ping):
                send(event.response())
            elif isinstance(event, wsev.CloseConnection):
                send(event.response())
                _feed_stdin(routes, pico, b"")
                return
        if pico.stdin is not None and not pico.stdin.wants_more():
            threading.Event().wait(0.05)  # the program is not reading: stop taking the page's messages
            continue
        try:
            data = sock.recv(WS_RECV)
        except TimeoutError:
            continue
        except OSError:
            return
        if not data:
            return
        ws.receive_data(data)


def _write_messages(out: "queue.SimpleQueue", send, browser: BrowserConn) -> None:
    """The program's lines as text messages; its exit (after its last lines) closes the WebSocket."""
    while True:
        kind, item, sink = out.get()
        if kind == "line":
            ok = send(wsev.TextMessage(data=item.decode("utf-8", "replace")))
            sink.sent(len(item) + 1)
            if not ok:
                sink.broken = True
                return
            continue
        report = item
        if report.exit_code == 0 and report.reason is None:
            send(wsev.CloseConnection(code=1000, reason="exit 0"))
        else:
            send(wsev.CloseConnection(code=1011, reason=(report.reason or f"exit {report.exit_code}")[:120]))
        try:
            browser.sock.shutdown(2)
        except OSError:
            pass
        return


def _bytes(token) -> bytes:
    return token if isinstance(token, bytes) else token.encode("ascii")
