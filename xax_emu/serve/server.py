"""`xax-emu serve`: the Monitor as the browser's client-side proxy, or as a gateway
for one origin (docs/serve.md).

Threads: the main thread runs the Monitor's loop — it forks every picoprocess
and outlives them all, as the parent-death signal requires; one thread accepts
connections; one thread per browser connection parses its requests (h11) and
waits on the loop (instances.on_loop) for what only the loop may do.
"""
from __future__ import annotations

import ipaddress
import signal
import socket
import sys
import threading
from dataclasses import dataclass, field
from importlib import resources
from typing import Callable

from ..monitor import Monitor
from ..monitor.origin import Origin
from .http1 import BrowserConn, ClientError, Gone, Request
from .instances import Budget, Registry, ServeError
from .routes import Routes

ACCEPT_BACKLOG = 128


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8118
    gateway: Origin | None = None          # None: a forward proxy
    budget: Budget = field(default_factory=Budget)
    cache: object | None = None            # monitor.fetch.HttpCache
    validated: object | None = None        # launch.validated.ValidatedImages
    download_limit: int = 256 << 20        # the largest image a launch fetches
    max_connections: int = 512
    request_timeout: float = 10.0          # seconds for a browser's whole request head (slowloris: 408)
    app_timeout: float = 60.0              # seconds for an app's response head (504)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class Server:
    def __init__(self, config: ServeConfig, log: Callable[[str], None] | None = None):
        self.config = config
        self._log_line = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.monitor = Monitor(cache=config.cache, log=self._log_line)
        self.registry = Registry(self.monitor, config.budget, lambda line: self.log(line))
        self.routes = Routes(self)
        self.stopping = threading.Event()
        self.connections = 0
        self._count_lock = threading.Lock()
        self.listener: socket.socket | None = None

    def log(self, line: str) -> None:
        try:
            self._log_line(f"xax-emu: serve: {line}")
        except (OSError, ValueError):
            pass

    # -- listening ------------------------------------------------------------------

    def bind(self) -> tuple[str, int]:
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.port))
        sock.listen(ACCEPT_BACKLOG)
        self.listener = sock
        return sock.getsockname()[:2]

    def _accept_forever(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                if self.stopping.is_set():
                    return
                continue
            nodelay(conn)
            with self._count_lock:
                full = self.connections >= self.config.max_connections
                if not full:
                    self.connections += 1
            if full:
                threading.Thread(target=self._refuse, args=(conn,), daemon=True).start()
                continue
            threading.Thread(target=self._handle, args=(conn,), name="xax-conn", daemon=True).start()

    def _refuse(self, conn: socket.socket) -> None:
        BrowserConn(conn, self.config.request_timeout).error(503, f"{self.config.max_connections} connections are open: the most allowed")

    def _handle(self, conn: socket.socket) -> None:
        browser = BrowserConn(conn, self.config.request_timeout)
        try:
            self.serve_connection(browser, tunnel=None)
        finally:
            browser.close()
            with self._count_lock:
                self.connections -= 1

    def serve_connection(self, browser: BrowserConn, tunnel: Origin | None) -> None:
        """Requests on one connection until it closes.  `tunnel`: the origin a CONNECT
        named, when the tunnel carries plain HTTP (a ws:// connection through the proxy)."""
        try:
            while not self.stopping.is_set():
                req = browser.next_request()
                if req is None:
                    return
                self._serve_request(browser, req, tunnel)
                if not browser.reusable:
                    return
        except ClientError as e:
            browser.error(e.status, str(e))
        except Gone:
            pass

    def _serve_request(self, browser: BrowserConn, req: Request, tunnel: Origin | None) -> None:
        try:
            self.routes.serve(browser, req, tunnel)
        except (ServeError, ClientError) as e:
            if browser.response_started:
                browser.close()
            else:
                self._drain_quietly(browser)
                browser.error(e.status, str(e))
        except Gone:
            browser.close()
        except Exception as e:  # a bug: this connection fails, the Monitor goes on
            self.log(f"internal error on {req.method} {req.target[:200]}: {e!r}")
            if not browser.response_started:
                browser.error(500, "internal error in the Monitor")
            browser.close()

    @staticmethod
    def _drain_quietly(browser: BrowserConn) -> None:
        try:
            browser.drain_body()
        except (ClientError, Gone):
            pass

    # -- the whole ------------------------------------------------------------------

    def serve_forever(self) -> None:
        acceptor = threading.Thread(target=self._accept_forever, name="xax-accept", daemon=True)
        acceptor.start()
        try:
            while not self.stopping.is_set():
                self.monitor.step(max_wait=0.5)
        finally:
            self.shutdown()

    def stop(self, *_args) -> None:
        self.stopping.set()

    def shutdown(self) -> None:
        self.stopping.set()
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
        self.registry.end_all("serve is shutting down")
        self.monitor.close()
        self.log("stopped")


def nodelay(conn: socket.socket) -> None:
    """Send each write at once.  A response goes out in several writes (its head, then its body
    piece by piece, then a chunked end) before the next request is read; with Nagle's algorithm
    each write after the first waits for the ACK of the one before, which a browser delays (up
    to 40 ms on Linux) on a kept-alive connection: every small response would take 40 ms."""
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:  # not TCP (a Unix socket in a test): nothing to disable
        pass


def install_signal_handlers(server: Server) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, server.stop)


def xax_js() -> bytes:
    return resources.files(__package__).joinpath("xax.js").read_bytes()


def parse_listen(text: str) -> tuple[str, int]:
    """HOST:PORT (IPv6 in brackets) or PORT alone (on 127.0.0.1)."""
    if text.isdigit():
        host, port = "127.0.0.1", text
    elif text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        if not sep:
            raise ValueError(f"--listen {text!r}: expected [ADDRESS]:PORT")
    else:
        host, sep, port = text.rpartition(":")
        if not sep:
            raise ValueError(f"--listen {text!r}: expected HOST:PORT or PORT")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {text!r}: the port must be a number from 0 to 65535")
    return host, int(port)

