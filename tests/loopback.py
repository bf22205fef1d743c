"""Small servers on the loopback interface for tests: an HTTP origin that records
every request it sees (and every connection, so a refused request can be shown
never to have been sent), and a raw TCP server for `connect`.

Each is a context manager: it listens on entry and is shut down on exit.
"""
from __future__ import annotations

import http.server
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Resource:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # ETag, Last-Modified, Cache-Control, ...
    status: int = 200


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


class HttpOrigin:
    """An HTTP/1.1 server: `resources` by path (conditional requests answered
    with 304), `special` handlers by path, PUT bodies kept in `stored`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.resources: dict[str, Resource] = {}
        self.special: dict[str, Callable[[http.server.BaseHTTPRequestHandler], None]] = {}
        self.stored: dict[str, bytes] = {}
        self.requests: list[Seen] = []
        self.connections = 0
        self._lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _record(self, body: bytes = b"") -> None:
                with owner._lock:
                    owner.requests.append(Seen(self.command, self.path, dict(self.headers.items()), body))

            def do_GET(self):
                self._record()
                if self.path in owner.special:
                    owner.special[self.path](self)
                    return
                res = owner.resources.get(self.path)
                if res is None:
                    self.reply(404, b"not found\n")
                    return
                etag, modified = res.headers.get("ETag"), res.headers.get("Last-Modified")
                inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
                if res.status == 200 and ((inm is not None and inm == etag)
                                          or (inm is None and ims is not None and ims == modified)):
                    self.reply(304, b"", res.headers)
                    return
                self.reply(res.status, res.body, res.headers)

            def do_PUT(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                self._record(body)
                with owner._lock:
                    owner.stored[self.path] = body
                self.reply(201, b"stored %d bytes at %s\n" % (len(body), self.path.encode()))

            def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)
                self.close_connection = True

            def reply_chunked(self, chunks: list[bytes]) -> None:
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Connection", "close")
                self.end_headers()
                for c in chunks:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
                self.wfile.write(b"0\r\n\r\n")
                self.close_connection = True

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = False

            def verify_request(self, request, client_address):
                with owner._lock:
                    owner.connections += 1
                return True

        self.server = Server((host, port), Handler)
        self.host, self.port = self.server.server_address[:2]
        self.base = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def add(self, path: str, body: bytes, **headers: str) -> Resource:
        res = Resource(body, {k.replace("_", "-"): v for k, v in headers.items()})
        self.resources[path] = res
        return res

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.special[path] = lambda h: h.reply(status, b"", {"Location": location})

    def __enter__(self) -> "HttpOrigin":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class TcpServer:
    """A raw TCP server: on each connection it sends `greeting`, reads until
    `end` (or EOF), then sends back `transform(everything read)` and closes."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, greeting: bytes = b"HELLO\n",
                 end: bytes = b"END\n", transform: Callable[[bytes], bytes] = bytes.upper):
        self.received: list[bytes] = []
        self.connections = 0
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                owner.connections += 1
                sock: socket.socket = self.request
                sock.sendall(greeting)
                data = bytearray()
                while not data.endswith(end):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                owner.received.append(bytes(data))
                sock.sendall(transform(bytes(data)))
                sock.shutdown(socket.SHUT_RDWR)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True

        self.server = Server((host, port), Handler)
        self.host, self.port = self.server.server_address[:2]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> "TcpServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
