"""The Monitor's HTTP client: a validating disk cache, the download limit,
redirects re-checked against the origin, failures reported as FetchError."""
import json
import os
import time

import pytest

from loopback import HttpOrigin
from xax_emu.monitor.fetch import FetchError, HttpCache, fetch
from xax_emu.monitor.origin import parse_origin

LIMIT = 1 << 20


@pytest.fixture
def server():
    with HttpOrigin() as s:
        yield s


@pytest.fixture
def cache(tmp_path):
    return HttpCache(tmp_path / "cache")


def get(server, path, cache, limit=LIMIT):
    return fetch("GET", server.base + path, parse_origin(server.base), limit=limit, cache=cache)


def gets(server, path):
    return [r for r in server.requests if r.method == "GET" and r.path == path]


def test_fresh_entry_is_served_without_a_request(server, cache, tmp_path):
    server.add("/f", b"fresh body", ETag='"v1"', Cache_Control="max-age=600")
    first = get(server, "/f", cache)
    assert (first.status, first.body) == (200, b"fresh body")
    assert len(gets(server, "/f")) == 1
    assert sorted(p.suffix for p in (tmp_path / "cache").iterdir()) == [".body", ".json"]
    server.resources["/f"].body = b"changed on the server"  # a fresh entry is not even revalidated
    for _ in range(3):
        assert get(server, "/f", cache).body == b"fresh body"
    assert len(gets(server, "/f")) == 1
    assert server.connections == 1


def test_stale_entry_is_revalidated_with_the_etag(server, cache):
    server.add("/s", b"stale but valid", ETag='"v1"', Cache_Control="max-age=0")
    assert get(server, "/s", cache).body == b"stale but valid"
    second = get(server, "/s", cache)
    assert (second.status, second.body) == (200, b"stale but valid")
    seen = gets(server, "/s")
    assert len(seen) == 2
    assert "If-None-Match" not in seen[0].headers
    assert seen[1].headers.get("If-None-Match") == '"v1"'


def test_revalidation_with_last_modified(server, cache):
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    server.add("/m", b"by date", Last_Modified=stamp)
    assert get(server, "/m", cache).body == b"by date"
    assert get(server, "/m", cache).body == b"by date"
    seen = gets(server, "/m")
    assert [r.headers.get("If-Modified-Since") for r in seen] == [None, stamp]


def test_304_with_max_age_makes_the_entry_fresh_again(server, cache):
    res = server.add("/r", b"body", ETag='"v1"')
    get(server, "/r", cache)
    res.headers["Cache-Control"] = "max-age=600"
    assert get(server, "/r", cache).body == b"body"  # 304, now fresh for 10 minutes
    assert get(server, "/r", cache).body == b"body"
    assert len(gets(server, "/r")) == 2


def test_changed_resource_replaces_the_cached_body(server, cache):
    res = server.add("/c", b"version one", ETag='"v1"')
    assert get(server, "/c", cache).body == b"version one"
    res.body, res.headers["ETag"] = b"version two, longer", '"v2"'
    assert get(server, "/c", cache).body == b"version two, longer"
    assert get(server, "/c", cache).body == b"version two, longer"  # now from the cache after a 304
    seen = gets(server, "/c")
    assert [r.headers.get("If-None-Match") for r in seen] == [None, '"v1"', '"v2"']


@pytest.mark.parametrize("cache_control", ["no-store", "no-store, max-age=600", "private, max-age=600"])
def test_no_store_is_not_cached(server, cache, tmp_path, cache_control):
    server.add("/n", b"secret", ETag='"v1"', Cache_Control=cache_control)
    for _ in range(3):
        assert get(server, "/n", cache).body == b"secret"
    seen = gets(server, "/n")
    assert len(seen) == 3
    assert all("If-None-Match" not in r.headers for r in seen)
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_no_cache_is_always_revalidated(server, cache):
    server.add("/nc", b"check me", ETag='"v1"', Cache_Control="no-cache, max-age=600")
    for _ in range(3):
        assert get(server, "/nc", cache).body == b"check me"
    assert [r.headers.get("If-None-Match") for r in gets(server, "/nc")] == [None, '"v1"', '"v1"']


def test_nothing_to_revalidate_with_is_not_cached(server, cache):
    server.add("/plain", b"no validators")
    get(server, "/plain", cache)
    get(server, "/plain", cache)
    assert [r.headers.get("If-None-Match") for r in gets(server, "/plain")] == [None, None]


def test_without_a_cache_directory_nothing_is_cached(server):
    server.add("/x", b"x", ETag='"v1"', Cache_Control="max-age=600")
    for _ in range(2):
        assert get(server, "/x", HttpCache(None)).body == b"x"
        assert get(server, "/x", None).body == b"x"
    assert len(gets(server, "/x")) == 4


def test_error_statuses_are_returned_and_not_cached(server, cache):
    assert get(server, "/missing", cache).status == 404
    server.add("/gone", b"", ETag='"v1"', Cache_Control="max-age=600").status = 500
    assert get(server, "/gone", cache).status == 500
    assert get(server, "/gone", cache).status == 500
    assert len(gets(server, "/gone")) == 2


def _cache_files(tmp_path):
    files = sorted((tmp_path / "cache").iterdir())
    body = next(p for p in files if p.suffix == ".body")
    meta = next(p for p in files if p.suffix == ".json")
    return body, meta


@pytest.mark.parametrize("corrupt", [
    "body-changed", "body-truncated", "body-missing", "meta-garbage", "meta-empty", "meta-list", "meta-null",
    "meta-string", "meta-wrong-url", "meta-expires-string", "meta-expires-null", "meta-etag-list",
    "meta-etag-newline",
])
def test_corrupted_cache_entry_is_ignored(server, cache, tmp_path, corrupt):
    server.add("/k", b"the real body", ETag='"v1"', Cache_Control="max-age=600")
    assert get(server, "/k", cache).body == b"the real body"
    body, meta = _cache_files(tmp_path)
    m = json.loads(meta.read_text())
    if corrupt == "body-changed":
        body.write_bytes(b"the fake body")
    elif corrupt == "body-truncated":
        body.write_bytes(b"the real")
    elif corrupt == "body-missing":
        body.unlink()
    elif corrupt == "meta-garbage":
        meta.write_text('{"url": ')
    elif corrupt == "meta-empty":
        meta.write_text("")
    elif corrupt == "meta-list":
        meta.write_text("[]")
    elif corrupt == "meta-null":
        meta.write_text("null")
    elif corrupt == "meta-string":
        meta.write_text('"x"')
    elif corrupt == "meta-wrong-url":
        meta.write_text(json.dumps({**m, "url": server.base + "/other"}))
    elif corrupt == "meta-expires-string":
        meta.write_text(json.dumps({**m, "expires": "tomorrow"}))
    elif corrupt == "meta-expires-null":
        meta.write_text(json.dumps({**m, "expires": None}))
    elif corrupt == "meta-etag-list":
        meta.write_text(json.dumps({**m, "etag": ["a"], "expires": 0}))
    elif corrupt == "meta-etag-newline":
        meta.write_text(json.dumps({**m, "etag": '"v1"\r\nX-Injected: 1', "expires": 0}))
    server.resources["/k"].body = b"the new real body"
    assert get(server, "/k", cache).body == b"the new real body"
    seen = gets(server, "/k")
    assert len(seen) == 2 and "If-None-Match" not in seen[1].headers
    # and the entry is whole again
    assert get(server, "/k", cache).body == b"the new real body"
    assert len(gets(server, "/k")) == 2


def test_cache_directory_unwritable_is_not_fatal(server, tmp_path):
    """The cache is best effort: a cache that cannot store (a file where its
    directory should be) must not turn a good download into a failure."""
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    server.add("/w", b"body", ETag='"v1"', Cache_Control="max-age=600")
    for _ in range(2):
        assert get(server, "/w", HttpCache(blocker / "sub")).body == b"body"
    assert len(gets(server, "/w")) == 2


# -- the download limit --------------------------------------------------------------

def test_content_length_over_the_limit(server, cache, tmp_path):
    server.add("/big", b"x" * 1001, ETag='"v1"', Cache_Control="max-age=600")
    with pytest.raises(FetchError, match="limit"):
        get(server, "/big", cache, limit=1000)
    assert get(server, "/big", cache, limit=1001).body == b"x" * 1001


def test_chunked_body_over_the_limit(server, cache, tmp_path):
    server.special["/chunked"] = lambda h: h.reply_chunked([b"a" * 600, b"b" * 600])
    with pytest.raises(FetchError, match="limit"):
        get(server, "/chunked", cache, limit=1000)
    assert get(server, "/chunked", cache, limit=1200).body == b"a" * 600 + b"b" * 600


def test_lying_content_length_does_not_lift_the_limit(server, cache):
    def lie(h):  # declares a small body, then keeps sending until the connection closes
        h.send_response(200)
        h.send_header("Content-Length", "10")
        h.end_headers()
        h.wfile.write(b"y" * 5000)
        h.close_connection = True

    server.special["/lie"] = lie
    assert get(server, "/lie", cache, limit=1000).body == b"y" * 10


def test_cached_body_over_a_smaller_limit_is_not_served(server, cache):
    server.add("/grown", b"z" * 5000, ETag='"v1"', Cache_Control="max-age=600")
    assert len(get(server, "/grown", cache, limit=LIMIT).body) == 5000
    with pytest.raises(FetchError, match="limit"):
        get(server, "/grown", cache, limit=1000)


def test_truncated_body_is_a_fetch_error_and_not_cached(server, cache, tmp_path):
    def truncated(h):
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.send_header("ETag", '"v1"')
        h.send_header("Cache-Control", "max-age=600")
        h.end_headers()
        h.wfile.write(b"q" * 10)
        h.close_connection = True

    server.special["/trunc"] = truncated
    for _ in range(2):
        with pytest.raises(FetchError):
            get(server, "/trunc", cache)
    assert len(gets(server, "/trunc")) == 2


def test_broken_chunked_encoding_is_a_fetch_error(server, cache):
    def broken(h):
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(b"zz\r\nnot hex\r\n")
        h.close_connection = True

    server.special["/broken"] = broken
    with pytest.raises(FetchError):
        get(server, "/broken", cache)


def test_nothing_listening_is_a_fetch_error():
    with HttpOrigin() as other:
        dead = other.base  # closed on leaving the block: nothing listens there any more
    with pytest.raises(FetchError):
        fetch("GET", dead + "/x", parse_origin(dead), limit=LIMIT)


# -- redirects ---------------------------------------------------------------------------

def test_same_origin_redirect_is_followed(server, cache):
    server.add("/target", b"arrived")
    server.redirect("/go", "/target")
    server.redirect("/go-abs", server.base + "/target", 301)
    server.redirect("/go-rel", "target", 307)
    for path in ("/go", "/go-abs", "/go-rel"):
        assert get(server, path, cache).body == b"arrived"
    assert len(gets(server, "/target")) == 3


def test_redirect_to_another_origin_is_refused_and_not_followed(server, cache):
    with HttpOrigin() as other, HttpOrigin("127.0.0.2", server.port) as other_host:
        other.add("/x", b"elsewhere")
        other_host.add("/x", b"elsewhere")
        server.redirect("/port", other.base + "/x")
        server.redirect("/host", other_host.base + "/x")
        server.redirect("/name", f"http://localhost:{server.port}/x")
        server.redirect("/scheme", f"https://127.0.0.1:{server.port}/x")
        server.redirect("/schemerel", f"//127.0.0.2:{server.port}/x")
        server.add("/x", b"must not be fetched through a redirect")
        for path in ("/port", "/host", "/name", "/scheme", "/schemerel"):
            with pytest.raises(FetchError, match="Same Origin Policy"):
                get(server, path, cache)
        assert other.connections == other_host.connections == 0
        assert gets(server, "/x") == []


@pytest.mark.parametrize("location", ["http://[", "http://0[]", "http://a:99999/", "http://user@x/", "ftp://x/"])
def test_malformed_redirect_is_a_fetch_error(server, cache, location):
    server.redirect("/bad", location)
    with pytest.raises(FetchError):
        get(server, "/bad", cache)


def test_redirect_loop_ends(server, cache):
    server.redirect("/a", "/b")
    server.redirect("/b", "/a")
    with pytest.raises(FetchError, match="redirects"):
        get(server, "/a", cache)
    assert len(server.requests) <= 6 + 1


def test_redirect_without_location(server, cache):
    server.special["/noloc"] = lambda h: h.reply(302, b"")
    with pytest.raises(FetchError, match="Location"):
        get(server, "/noloc", cache)


def test_fetch_refuses_other_origins_before_connecting(server):
    o = parse_origin(server.base)
    for url in (f"http://127.0.0.2:{server.port}/", f"https://127.0.0.1:{server.port}/",
                f"http://localhost:{server.port}/", "http://user@127.0.0.1/"):
        with pytest.raises(FetchError):
            fetch("GET", url, o, limit=LIMIT)
    with pytest.raises(FetchError, match="no origin"):
        fetch("GET", server.base + "/", None, limit=LIMIT)
    assert server.connections == 0


# -- PUT ---------------------------------------------------------------------------------

def test_put_sends_the_body_and_is_not_cached(server, cache, tmp_path):
    body = os.urandom(100_000)
    r = fetch("PUT", server.base + "/up", parse_origin(server.base), body=body, limit=LIMIT, cache=cache)
    assert r.status == 201 and r.body == b"stored 100000 bytes at /up\n"
    assert server.stored["/up"] == body
    assert not (tmp_path / "cache").exists()


def test_expiry_uses_wall_time(server, cache, tmp_path, monkeypatch):
    server.add("/t", b"timed", ETag='"v1"', Cache_Control="max-age=60")
    get(server, "/t", cache)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)
    assert get(server, "/t", cache).body == b"timed"
    assert [r.headers.get("If-None-Match") for r in gets(server, "/t")] == [None, '"v1"']
