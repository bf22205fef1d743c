"""`xax-emu serve`: the Monitor as a long-running service that a browser talks to,
through which a sealed program appears to its page as the origin's web server.
The design is docs/serve.md; server.py is the entry point."""
from .server import ServeConfig, Server

__all__ = ["ServeConfig", "Server"]
