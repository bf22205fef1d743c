"""Which request goes where (docs/serve.md, "The namespace convention").

  GET  /PATH?xax            launch: fetch and validate the image, start an instance, 302 to /.xax/ID/
       /.xax/xax.js         the lifecycle script
       /.xax/ID/.xax/alive  a page's held connection (the lifecycle)
       /.xax/ID/REST        instance ID, as /REST
       /.xax/...            404: nothing else of that namespace exists
       anything else        its origin, unchanged (upstream.py)

In proxy mode the origin is the request's own (absolute-form target, or the host a
CONNECT tunnel names); in gateway mode it is --origin, and the page's origin is the
gateway itself.
"""
from __future__ import annotations

import re
import select
import socket
import threading
from typing import TYPE_CHECKING

from ..errors import OriginError, ProgramError
from ..launch.program import resolve
from ..monitor.channels import PipeChannel
from ..monitor.origin import Origin, Url, parse_url
from . import relay
from .http1 import BrowserConn, ClientError, Gone, Request
from .instances import Instance, ServeError, on_loop
from .upstream import UpstreamError, pass_through

if TYPE_CHECKING:
    from .server import Server

_ID = re.compile(r"^[0-9a-f]{32}$")
ALIVE_PING = 2.0          # seconds between the comments that keep a held connection open
TUNNEL_PEEK = 10.0        # seconds for the first byte inside a CONNECT tunnel
TLS_HANDSHAKE = 0x16      # the first byte of a TLS record carrying a handshake


class Routes:
    def __init__(self, server: "Server"):
        self.server = server
        self.monitor = server.monitor
        self.registry = server.registry
        self.config = server.config

    # -- classifying ------------------------------------------------------------------

    def serve(self, browser: BrowserConn, req: Request, tunnel: Origin | None) -> None:
        if req.method == "CONNECT":
            if tunnel is not None or self.config.gateway is not None:
                raise ClientError(405, "CONNECT is for a forward proxy")
            self.connect(browser, req)
            return
        page, upstream, pathq = self._locate(req, tunnel)
        path, _, query = pathq.partition("?")
        if path == "/.xax/xax.js":
            self.script(browser, req)
        elif path.startswith("/.xax/"):
            self.instance(browser, req, page, path, query)
        elif query == "xax" and req.method in ("GET", "HEAD"):
            self.launch(browser, req, page, upstream, path)
        else:
            location_from = str(upstream) if self.config.gateway is not None else None
            try:
                pass_through(browser, req, upstream, pathq, rewrite_host=self.config.gateway is not None,
                             location_from=location_from)
            except UpstreamError as e:
                raise ServeError(e.status, f"the origin failed: {e}") from None

    def _locate(self, req: Request, tunnel: Origin | None) -> tuple[Origin, Origin, str]:
        """(the page's origin, the upstream origin, path?query) of a request."""
        target = req.target
        if target.startswith("/"):
            if self.config.gateway is not None:
                return self._gateway_page(req), self.config.gateway, self._canonical_path(target)
            if tunnel is not None:
                return tunnel, tunnel, self._canonical_path(target)
            raise ClientError(400, "this is a proxy: send absolute URLs (configure it as the browser's "
                                   "HTTP proxy), or start serve with --origin to use it as a gateway")
        if self.config.gateway is not None or tunnel is not None:
            raise ClientError(400, "absolute-form target where origin-form was expected")
        try:
            url = parse_url(target)
        except OriginError as e:
            raise ClientError(400, str(e)) from None
        if url.origin.scheme != "http":
            raise ClientError(400, "a proxy request must be http://; https goes through CONNECT")
        return url.origin, url.origin, url.path

    def _gateway_page(self, req: Request) -> Origin:
        host = (req.header(b"host") or b"").decode("ascii", "replace")
        try:
            return parse_url(f"http://{host}/").origin
        except OriginError:
            raise ClientError(400, f"bad Host header {host[:100]!r}") from None

    @staticmethod
    def _canonical_path(target: str) -> str:
        try:
            return parse_url("http://x" + target).path
        except OriginError as e:
            raise ClientError(400, str(e)) from None

    # -- the Monitor's own --------------------------------------------------------------

    def script(self, browser: BrowserConn, req: Request) -> None:
        from .server import xax_js
        browser.drain_body()
        browser.respond(200, xax_js() if req.method != "HEAD" else b"", b"text/javascript; charset=utf-8")

    def launch(self, browser: BrowserConn, req: Request, page: Origin, upstream: Origin, path: str) -> None:
        browser.drain_body()
        url = str(Url(upstream, path))
        try:
            program = resolve(url, upstream, self.config.cache, download_limit=self.config.download_limit,
                              validated=self.config.validated)
        except ProgramError as e:
            raise ServeError(404 if "HTTP 404" in str(e) else 502, f"cannot launch {url}: {e}") from None
        if not program.is_image:
            raise ServeError(415, f"{url} is not an app image (xax-emu pack makes one)")
        try:
            inst = on_loop(self.monitor, lambda: self.registry.launch(program, page))
        except BaseException:
            if program.image is not None:
                program.image.close()
            raise
        browser.respond(302, f"launched: /.xax/{inst.id}/\n".encode(),
                        headers=[(b"location", f"/.xax/{inst.id}/".encode())])

    # -- instances ----------------------------------------------------------------------

    def instance(self, browser: BrowserConn, req: Request, page: Origin, path: str, query: str) -> None:
        iid, slash, rest = path[len("/.xax/"):].partition("/")
        inst = on_loop(self.monitor, lambda: self.registry.find(iid, page)) if _ID.match(iid) else None
        if inst is None:
            browser.drain_body()
            raise ServeError(404, "no such instance here")
        if not slash:
            browser.drain_body()
            browser.respond(301, b"", headers=[(b"location", f"/.xax/{iid}/".encode())])
            return
        if rest.startswith(".xax/"):
            if rest == ".xax/alive" and req.method == "GET":
                self.alive(browser, inst)
                return
            browser.drain_body()
            raise ServeError(404, "no such Monitor resource")
        target = "/" + rest + (f"?{query}" if query else "")
        if inst.kind == "http":
            self.to_app(browser, req, inst, target)
        else:
            from .interfaces import serve_interface
            serve_interface(self, browser, req, inst, "/" + rest, query)

    def to_app(self, browser: BrowserConn, req: Request, inst: Instance, target: str) -> None:
        chan = PipeChannel(lambda: self.monitor.call_soon_threadsafe(_nothing))

        def offer() -> bool:
            return inst.pico is not None and not inst.ended and inst.pico.offer_connection(chan)

        if not on_loop(self.monitor, offer):
            browser.drain_body()
            raise ServeError(503, "the app is not taking connections")
        try:
            relay.exchange(browser, req, target, chan, self.config.app_timeout)
        except relay.AppError as e:
            raise ServeError(e.status, str(e)) from None
        finally:
            chan.abandon()

    def alive(self, browser: BrowserConn, inst: Instance) -> None:
        """Hold this connection open while the page is shown; its end starts the instance's."""
        browser.drain_body()
        on_loop(self.monitor, inst.hold)
        try:
            browser.start_response(200, [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-store")])
            browser.send_data(b": held\n\n")
            while not inst.ended and not self.server.stopping.is_set():
                if relay.browser_gone(browser) or not _quiet_for(browser.sock, ALIVE_PING):
                    return
                browser.send_data(b": ping\n\n")
            browser.end_response()
        except Gone:
            pass
        finally:
            browser.close()
            self.monitor.call_soon_threadsafe(inst.release)

    # -- CONNECT ------------------------------------------------------------------------

    def connect(self, browser: BrowserConn, req: Request) -> None:
        """A tunnel: TLS inside is relayed untouched (the Monitor cannot see into it, so
        https pages cannot launch apps through the proxy); plain HTTP inside (Chromium's
        ws:// through a proxy) is served like any request to that host."""
        try:
            host, port = _authority(req.target)
            origin = parse_url(f"http://{host}:{port}/").origin
        except (ValueError, OriginError) as e:
            raise ClientError(400, f"bad CONNECT target {req.target[:100]!r}: {e}") from None
        browser.start_response(200, [])
        leftover, _ = browser.h11.trailing_data
        first = bytes(leftover)
        if not first:
            browser.sock.settimeout(TUNNEL_PEEK)
            try:
                first = browser.sock.recv(1, socket.MSG_PEEK)
            except OSError:
                return
        if not first:
            return
        if first[0] == TLS_HANDSHAKE:
            _tunnel(browser.sock, bytes(leftover), origin.host, origin.port)
            return
        inner = BrowserConn(browser.sock, self.config.request_timeout)
        if leftover:  # (receive_data(b"") would tell h11 the connection has ended)
            inner.h11.receive_data(bytes(leftover))
        self.server.serve_connection(inner, tunnel=origin)


def _nothing() -> None:
    """A wake-up of the loop: parked polls are re-checked on every step."""


def _quiet_for(sock: socket.socket, seconds: float) -> bool:
    """Wait up to `seconds`; False if the peer sent something or closed meanwhile."""
    try:
        ready, _, _ = select.select([sock], [], [], seconds)
    except (OSError, ValueError):
        return False
    return not ready


def _authority(target: str) -> tuple[str, int]:
    if target.startswith("["):
        host, sep, port = target[1:].partition("]:")
    else:
        host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise ValueError("expected HOST:PORT")
    return host, int(port)


def _tunnel(client: socket.socket, first: bytes, host: str, port: int) -> None:
    try:
        upstream = socket.create_connection((host, port), timeout=30)
    except OSError:
        return
    client.settimeout(None)
    upstream.settimeout(None)

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    try:
        if first:
            upstream.sendall(first)
        other = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        other.start()
        pump(client, upstream)
        other.join()
    finally:
        upstream.close()

