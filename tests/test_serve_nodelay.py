"""serve sends each write to a browser at once (TCP_NODELAY).  A response leaves in several
writes (its head, its body piece by piece, a chunked end) before the next request is read:
under Nagle's algorithm each write after the first waited for the browser's delayed ACK, and
every small response on a kept-alive connection took some 40 ms — benchmarks/bench_serve.py
measured 45 ms at the median for a 1 KiB page passed through from nginx (0.3 ms direct)."""
from __future__ import annotations

import queue
import socket
import threading

from xax_emu.serve.server import Server, ServeConfig

HANG = 30  # seconds: a hang detector, never a speed assertion


def test_every_browser_connection_is_accepted_without_nagle(monkeypatch):
    server = Server(ServeConfig(port=0), log=lambda line: None)
    seen: queue.Queue = queue.Queue()

    def handle(conn: socket.socket) -> None:
        seen.put(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        conn.close()

    monkeypatch.setattr(server, "_handle", handle)
    host, port = server.bind()
    acceptor = threading.Thread(target=server._accept_forever, daemon=True)
    acceptor.start()
    try:
        for _ in range(3):
            with socket.create_connection((host, port), timeout=HANG):
                assert seen.get(timeout=HANG) != 0
    finally:
        server.shutdown()
        acceptor.join(HANG)
    assert not acceptor.is_alive()
