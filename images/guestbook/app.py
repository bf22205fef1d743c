"""A guestbook on the standard library's WSGI server (wsgiref), its state in files under
GUESTBOOK_DIR (the picoprocess's RAM disk, /data): each entry one line of entries.txt.

    GET  /              the page: the entries, a form to add one
    POST /add           text=...: a new entry (at most 200 characters), then 303 to /
    GET  /entries.json  the entries as JSON
Unmodified Python; the same file runs natively with GUESTBOOK_DIR set to a directory."""
import html
import json
import os
import sys
from urllib.parse import parse_qs
from wsgiref.simple_server import make_server

DATA = os.environ.get("GUESTBOOK_DIR", "/data")
ENTRIES = os.path.join(DATA, "entries.txt")
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Guestbook in a picoprocess</title>
<script src="/.xax/xax.js"></script>
</head>
<body>
<h1>Guestbook</h1>
<p>Python's wsgiref server, unmodified, sealed in a picoprocess; the entries are a file on its RAM disk.</p>
<form method="post" action="add"><input id="text" name="text" maxlength="200" required>
<button id="sign">Sign</button></form>
<ol id="entries">{items}</ol>
</body>
</html>
"""


def entries() -> list[str]:
    try:
        with open(ENTRIES, encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f]
    except FileNotFoundError:
        return []


def app(environ, start_response):
    path, method = environ.get("PATH_INFO", "/"), environ["REQUEST_METHOD"]
    if path == "/" and method == "GET":
        items = "".join(f"<li>{html.escape(e)}</li>" for e in entries())
        body = PAGE.format(items=items).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/entries.json" and method == "GET":
        body = json.dumps(entries()).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/add" and method == "POST":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(min(size, 4096)).decode("utf-8", "replace"))
        text = " ".join(form.get("text", [""])[0].split())[:200]
        if text:
            with open(ENTRIES, "a", encoding="utf-8") as f:
                f.write(text + "\n")
        start_response("303 See Other", [("Location", "./"), ("Content-Length", "0")])
        return [b""]
    body = b"not found\n"
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    with make_server("", port, app) as server:
        print(f"guestbook on port {port}, entries in {ENTRIES}", flush=True)
        server.serve_forever()
