"""URLs are parsed once, canonically, and the Same Origin Policy compares
(scheme, host, port) of those canonical forms; anything ambiguous is refused."""
import pytest
from hypothesis import given, settings, strategies as st

from xax_emu.errors import OriginError
from xax_emu.monitor.origin import Origin, Url, check_same_origin, parse_origin, parse_url, resolve_redirect


# -- canonical forms --------------------------------------------------------------

@pytest.mark.parametrize("url, origin, path", [
    ("http://example.com/", ("http", "example.com", 80), "/"),
    ("http://example.com", ("http", "example.com", 80), "/"),
    ("HTTP://EXAMPLE.COM/A/b", ("http", "example.com", 80), "/A/b"),   # path keeps its case
    ("hTTpS://Example.Com/", ("https", "example.com", 443), "/"),
    ("http://example.com:80/", ("http", "example.com", 80), "/"),
    ("http://example.com:/", ("http", "example.com", 80), "/"),
    ("http://example.com:00080/x", ("http", "example.com", 80), "/x"),
    ("https://example.com:443/", ("https", "example.com", 443), "/"),
    ("https://example.com:80/", ("https", "example.com", 80), "/"),
    ("http://example.com:8080/", ("http", "example.com", 8080), "/"),
    ("http://example.com./", ("http", "example.com", 80), "/"),         # trailing dot
    ("http://www.Example.com.:8080/a?b=c", ("http", "www.example.com", 8080), "/a?b=c"),
    ("http://example.com?x=1", ("http", "example.com", 80), "/?x=1"),
    ("http://example.com/?", ("http", "example.com", 80), "/"),
    ("http://127.0.0.1:8000/f", ("http", "127.0.0.1", 8000), "/f"),
    ("http://[::1]:8000/f", ("http", "::1", 8000), "/f"),
    ("http://[0:0:0:0:0:0:0:1]/", ("http", "::1", 80), "/"),
    ("http://[2001:DB8::A]/", ("http", "2001:db8::a", 80), "/"),
    ("http://[::ffff:127.0.0.1]/", ("http", "::ffff:7f00:1", 80), "/"),
    ("http://xn--80ak6aa92e.com/", ("http", "xn--80ak6aa92e.com", 80), "/"),
    ("http://a-b.c0/%41%2f", ("http", "a-b.c0", 80), "/%41%2f"),
    ("http://1e2/", ("http", "1e2", 80), "/"),  # a name, not a number in any base
])
def test_canonical_forms(url, origin, path):
    u = parse_url(url)
    assert u == Url(Origin(*origin), path)
    assert parse_url(str(u)) == u


@pytest.mark.parametrize("url, text", [
    ("HTTP://Example.COM:80/a", "http://example.com/a"),
    ("https://example.com:443", "https://example.com/"),
    ("https://example.com:8443/", "https://example.com:8443/"),
    ("http://[::1]:80/", "http://[::1]/"),
    ("http://[::1]:81/x", "http://[::1]:81/x"),
])
def test_str_is_the_canonical_text(url, text):
    assert str(parse_url(url)) == text


def test_host_header():
    assert parse_url("http://Example.com:80/").host_header == "example.com"
    assert parse_url("http://example.com:81/").host_header == "example.com:81"
    assert parse_url("https://[::1]:444/").host_header == "[::1]:444"
    assert parse_url("https://[::1]/").host_header == "[::1]"


# -- refusals -------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    # credentials
    "http://user@example.com/", "http://user:pw@example.com/", "http://@example.com/",
    "http://example.com\\@evil.com/", "http://example.com:80@evil.com/",
    # fragments, even empty ones
    "http://example.com/#x", "http://example.com/a#", "http://example.com#",
    # other schemes, or none
    "ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "data:text/plain,x",
    "ws://example.com/", "//example.com/", "/relative", "example.com", "",
    "http:example.com/", "http:/example.com/", "http:///example.com/", "https://",
    # spaces, controls, non-ASCII, backslashes
    "http://example.com/a b", "http://exa mple.com/", " http://example.com/", "http://example.com/\t",
    "http://example.com/\x00", "http://example.com/\r\nHost: evil", "http://example.com/\x7f",
    "http://ex\u0430mple.com/", "http://example.com/\u00e9", "http://example.com/a\\b",
    "http://example.com/a\"b", "http://example.com/<script>", "http://example.com/a{b}", "http://example.com/`",
    # ambiguous numeric hosts: whatever a resolver reads as an IPv4 address in another form
    "http://0x7f.1/", "http://0x7f000001/", "http://0x7f.0x0.0x0.0x1/", "http://2130706433/",
    "http://017700000001/", "http://0177.0.0.1/", "http://127.1/", "http://127.0.1/", "http://127.000.0.1/",
    "http://1.2.3.4.5/", "http://09.1/", "http://a.0x/", "http://a.b.0x1f/", "http://www.example.123/",
    "http://[1.2.3.4]/",
    # malformed hosts and ports
    "http://a..b/", "http://.example.com/", "http://-a.com/", "http://a-.com/", "http://a_b.com/",
    "http://ex%41mple.com/", "http://" + "a" * 64 + ".com/", "http://example.com:65536/",
    "http://example.com:0/", "http://example.com:-1/", "http://example.com:+80/", "http://example.com:8x/",
    "http://example.com:80:80/", "http://[::1]x/", "http://[::1]:x/", "http://[fe80::1%25eth0]/",
    "http://[v1.x]/", "http://[::1/", "http://::1/", "http://[zz::1]/", "http://[]/",
    # too long
    "http://example.com/" + "a" * 5000,
])
def test_refused(url):
    with pytest.raises(OriginError):
        parse_url(url)


def test_refuses_non_strings():
    for value in (None, b"http://example.com/", 3):
        with pytest.raises(OriginError):
            parse_url(value)


# -- origins and the Same Origin Policy ------------------------------------------------

def test_parse_origin():
    assert parse_origin("http://127.0.0.1:8000") == Origin("http", "127.0.0.1", 8000)
    assert parse_origin("HTTPS://Example.com/") == Origin("https", "example.com", 443)
    assert parse_origin("http://[::1]") == Origin("http", "::1", 80)
    assert str(parse_origin("http://Example.com:80")) == "http://example.com"
    assert str(parse_origin("https://[::1]:8443")) == "https://[::1]:8443"
    for bad in ("http://example.com/path", "http://example.com?x", "http://example.com#x",
                "ftp://example.com", "example.com", "http://user@example.com"):
        with pytest.raises(OriginError):
            parse_origin(bad)


ORIGIN = Origin("http", "127.0.0.1", 8000)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/", "HTTP://127.0.0.1:8000/a?b", "http://127.0.0.1.:8000/x", "http://127.0.0.1:08000/",
])
def test_same_origin_accepted(url):
    assert check_same_origin(url, ORIGIN) == parse_url(url)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8001/",            # another port
    "http://127.0.0.1/",                 # the default port is another port
    "https://127.0.0.1:8000/",           # another scheme
    "http://127.0.0.2:8000/",            # another host
    "http://localhost:8000/",            # a name for the same address is still another host
    "http://[::ffff:127.0.0.1]:8000/",   # so is the IPv4-mapped IPv6 form
    "http://[::1]:8000/",
    "http://0x7f000001:8000/",           # and numeric tricks are refused outright
    "http://2130706433:8000/",
    "http://127.0.0.1:8000@evil.com/",
    "http://evil.com/http://127.0.0.1:8000/",
])
def test_other_origins_refused(url):
    with pytest.raises(OriginError):
        check_same_origin(url, ORIGIN)


def test_no_origin_means_no_network():
    with pytest.raises(OriginError, match="no origin"):
        check_same_origin("http://127.0.0.1:8000/", None)
    with pytest.raises(OriginError):  # a malformed URL is refused as malformed even then
        check_same_origin("http://user@x/", None)


def test_default_ports_compare_equal():
    o = parse_origin("https://example.com")
    assert check_same_origin("https://example.com:443/x", o).path == "/x"
    with pytest.raises(OriginError):
        check_same_origin("http://example.com:443/x", o)


# -- redirects --------------------------------------------------------------------

BASE = parse_url("http://example.com:8000/dir/page?q=1")


@pytest.mark.parametrize("location, expected", [
    ("http://example.com:8000/other", "http://example.com:8000/other"),
    ("https://evil.com/x", "https://evil.com/x"),
    ("//evil.com/x", "http://evil.com/x"),
    ("/abs", "http://example.com:8000/abs"),
    ("/abs?x=2", "http://example.com:8000/abs?x=2"),
    ("rel", "http://example.com:8000/dir/rel"),
    ("rel?x", "http://example.com:8000/dir/rel?x"),
    ("./rel", "http://example.com:8000/dir/rel"),
    ("../up", "http://example.com:8000/up"),
    ("../../../../up", "http://example.com:8000/up"),
    ("?only=query", "http://example.com:8000/dir/page?only=query"),
    ("/x#frag", "http://example.com:8000/x"),
])
def test_resolve_redirect(location, expected):
    assert resolve_redirect(BASE, location) == expected


def test_resolve_redirect_ipv6_base():
    base = parse_url("http://[::1]:8000/a/b")
    assert resolve_redirect(base, "c") == "http://[::1]:8000/a/c"
    assert check_same_origin(resolve_redirect(base, "/d"), base.origin).path == "/d"


def test_redirect_to_another_origin_fails_the_recheck():
    for location in ("//evil.com/", "https://example.com:8000/", "http://example.com:8001/", "http://evil.com/"):
        with pytest.raises(OriginError):
            check_same_origin(resolve_redirect(BASE, location), BASE.origin)


# -- properties ---------------------------------------------------------------------

LABEL = st.from_regex(r"\A[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?\Z")
HOSTS = st.one_of(
    st.lists(LABEL, min_size=1, max_size=4).map(".".join),
    st.lists(LABEL, min_size=1, max_size=3).map(lambda ls: ".".join(ls) + "."),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    st.ip_addresses(v=6).map(lambda a: f"[{a.exploded.upper()}]"),
    st.integers(0, 2**32 - 1).map(str),
    st.integers(0, 2**32 - 1).map(hex),
    st.text(alphabet="0123456789abcdefx.[]:%-_@", max_size=20),
)
PORTS = st.one_of(st.just(""), st.integers(-1, 70000).map(lambda p: f":{p}"), st.just(":"),
                  st.text(alphabet="0123456789:+- x", max_size=6).map(lambda t: ":" + t))
PATHS = st.text(alphabet=st.sampled_from(list("/?#%:@!$&'()*+,;=-._~aZ09 \\\t\x00\x7f\u00e9[]{}\"<>^`|")),
                max_size=20)
SCHEMES = st.sampled_from(["http", "https", "HTTP", "hTtPs", "ftp", "file", "", "http:", "javascript"])
CREDENTIALS = st.sampled_from(["", "", "", "user@", "u:p@", "@"])


@st.composite
def urls(draw):
    return (draw(SCHEMES) + draw(st.sampled_from(["://", "://", ":", ":/", ":///"])) + draw(CREDENTIALS)
            + draw(HOSTS) + draw(PORTS) + draw(PATHS))


def _check_canonical(u: Url) -> None:
    assert isinstance(u, Url)
    assert u.origin.scheme in ("http", "https")
    assert u.origin.host == u.origin.host.lower() and u.origin.host and not u.origin.host.endswith(".")
    assert 1 <= u.origin.port <= 65535
    assert u.path.startswith("/")
    assert "#" not in str(u)
    again = parse_url(str(u))
    assert again == u
    assert str(again) == str(u)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(urls(), st.text(max_size=60), st.from_regex(r"\Ahttps?://[^/]{0,30}(/.{0,20})?\Z")))
def test_parse_url_raises_only_origin_error_and_round_trips(url):
    try:
        u = parse_url(url)
    except OriginError:
        return
    _check_canonical(u)


@settings(max_examples=500, deadline=None)
@given(urls())
def test_same_origin_is_equality_of_canonical_origins(url):
    try:
        u = parse_url(url)
    except OriginError:
        return
    assert check_same_origin(url, u.origin) == u
    for other in (Origin(u.origin.scheme, u.origin.host, u.origin.port % 65535 + 1),
                  Origin("https" if u.origin.scheme == "http" else "http", u.origin.host, u.origin.port),
                  Origin(u.origin.scheme, "x" + u.origin.host.replace(":", ""), u.origin.port)):
        with pytest.raises(OriginError):
            check_same_origin(url, other)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["http://example.com/d/p?q", "https://[::1]:8443/a/b/c", "http://127.0.0.1:9/"]),
       st.one_of(urls(), st.text(alphabet="/.?=ab:#%", max_size=15)))
def test_resolve_redirect_never_escapes_the_recheck(base, location):
    """Whatever a Location header says, the result is either refused by the
    recheck or a canonical URL; never an exception of another kind."""
    b = parse_url(base)
    try:
        target = resolve_redirect(b, location)
        u = check_same_origin(target, b.origin)
    except OriginError:
        return
    assert u.origin == b.origin
    _check_canonical(u)
