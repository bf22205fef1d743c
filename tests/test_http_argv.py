"""What serve calls per request: the argv the [http] templates give for a query string.
Each template is exactly one argument whatever the values hold (spaces, quotes, braces,
shell syntax, newlines); a refused value names its parameter."""
import string
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given, settings, strategies as st

from xax_emu.errors import XaxError
from xax_emu.image.http import ParamError, Ref, argv_for_query, build_argv, check_http, parse_query, parse_template

NAMES = ["page", "dpi", "voice", "x_1"]

# values a page could send: any Unicode but surrogates (not UTF-8) and NUL (no argv holds one)
values = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=40)
literal = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0{}"), max_size=8)
segment = st.one_of(literal.map(lambda s: ("lit", s)), st.sampled_from(NAMES).map(lambda n: ("ref", n)),
                    st.sampled_from(["{{", "}}"]).map(lambda s: ("brace", s)))
template = st.lists(segment, max_size=6)


def render(segments) -> str:
    return "".join(s if kind != "ref" else "{" + s + "}" for kind, s in segments)


def model(segments, vals: dict) -> str:
    """What the argument must be: literals as written (a doubled brace is one), refs replaced."""
    return "".join(vals[s] if kind == "ref" else s[0] if kind == "brace" else s for kind, s in segments)


def http_for(templates: list[str], defaults: dict | None = None, patterns: dict | None = None) -> dict:
    used = {p.name for t in templates for p in parse_template(t) if isinstance(p, Ref)}
    return check_http({
        "interface": "stdio", "pages": None, "endpoint": "/run", "args": templates,
        "content_type": "image/png", "max_body": 1024, "max_output": 1024,
        "params": {n: {"pattern": (patterns or {}).get(n, "(?s).*"), "default": (defaults or {}).get(n),
                       "max_length": 4096} for n in sorted(used)},
    })


@settings(max_examples=300, deadline=None)
@given(st.lists(template, max_size=6), st.fixed_dictionaries({n: values for n in NAMES}))
def test_each_template_gives_one_argument_and_values_stay_inside_it(templates, vals):
    texts = [render(t) for t in templates]
    http = http_for(texts)
    argv = build_argv(http, vals)
    assert len(argv) == len(templates)  # never split, never dropped, never merged
    for segs, arg in zip(templates, argv):
        assert arg == model(segs, vals)  # a value is never expanded again, whatever braces it holds


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({n: values for n in NAMES}))
def test_the_same_through_a_query_string(vals):
    http = http_for(["-a={page}", "{dpi}x{dpi}", "{voice}", "lit{x_1}lit"])
    argv = argv_for_query(http, urlencode(vals))
    assert argv == [f"-a={vals['page']}", f"{vals['dpi']}x{vals['dpi']}", vals["voice"], f"lit{vals['x_1']}lit"]
    argv = argv_for_query(http, "&".join(f"{quote(k)}={quote(v)}" for k, v in vals.items()))
    assert argv[2] == vals["voice"]


@pytest.mark.parametrize("value", [
    "1 2", "1;rm -rf /", "$(id)", "`id`", "'\"", "a\nb", "{dpi}", "{{", "}", "-r72 -sOutputFile=/x", "*", "~",
])
def test_shell_and_template_syntax_in_values_are_plain_text(value):
    http = http_for(["-p{page}", "{dpi}"])
    assert build_argv(http, {"page": value, "dpi": "7"}) == [f"-p{value}", "7"]


PAGE = {"pattern": "[1-9][0-9]{0,3}", "default": "1", "max_length": 4}


def paged(**param) -> dict:
    return check_http({"interface": "stdio", "pages": None, "endpoint": "/run",
                       "args": ["-dFirstPage={page}", "-dLastPage={page}", "/docs/doc.pdf"],
                       "content_type": "image/png", "max_body": 1024, "max_output": 1024,
                       "params": {"page": {**PAGE, **param}}})


@pytest.mark.parametrize("query, argv", [
    ("page=3", ["-dFirstPage=3", "-dLastPage=3", "/docs/doc.pdf"]),
    ("", ["-dFirstPage=1", "-dLastPage=1", "/docs/doc.pdf"]),  # the default
    ("other=9&page=12", ["-dFirstPage=12", "-dLastPage=12", "/docs/doc.pdf"]),  # undeclared: ignored
    ("page=%32", ["-dFirstPage=2", "-dLastPage=2", "/docs/doc.pdf"]),  # percent-decoded
    ("&&page=5&", ["-dFirstPage=5", "-dLastPage=5", "/docs/doc.pdf"]),
])
def test_a_declared_parameter(query, argv):
    assert argv_for_query(paged(), query) == argv


@pytest.mark.parametrize("query, words", [
    ("page=0", "does not match its pattern"),
    ("page=12345", "is 5 bytes, over its 4"),
    ("page=1%00", "contains NUL"),
    ("page=%ff", "is not UTF-8"),
    ("page=1&page=2", "given more than once"),
    ("page=", "does not match its pattern"),
    ("page=1+", "does not match its pattern"),  # '+' is a space
    ("page=1%0A", "does not match its pattern"),  # the whole value must match, a newline too
])
def test_a_refused_value_names_its_parameter(query, words):
    with pytest.raises(ParamError) as e:
        argv_for_query(paged(), query)
    assert e.value.param == "page" and words in str(e.value) and str(e.value).startswith("parameter 'page': ")
    assert isinstance(e.value, XaxError)


def test_a_required_parameter_without_a_default():
    with pytest.raises(ParamError, match="parameter 'page': missing"):
        argv_for_query(paged(default=None), "x=1")


def test_query_string_limits():
    with pytest.raises(ParamError, match="more than 256 query parameters"):
        parse_query("&".join(["a=1"] * 257))
    with pytest.raises(ParamError, match="not ASCII"):
        parse_query("page=\xe9".encode("latin-1"))
    assert parse_query(b"a=1&b&c=x%20y+z&=v") == [("a", "1"), ("b", ""), ("c", "x y z"), ("", "v")]


def test_a_pattern_that_backtracks_exponentially_in_python_is_linear_here():
    # (a|a)*b against many a's is exponential for a backtracking engine; RE2 answers at once
    http = check_http({"interface": "websocket", "pages": None, "endpoint": "/ws", "args": ["{v}"],
                       "stderr": "log", "params": {"v": {"pattern": "(a|a)*b", "default": None,
                                                         "max_length": 4096}}})
    with pytest.raises(ParamError, match="does not match"):
        build_argv(http, {"v": "a" * 4000 + "c"})
    assert build_argv(http, {"v": "a" * 4000 + "b"}) == ["a" * 4000 + "b"]


@settings(max_examples=300, deadline=None)
@given(st.text(string.printable + "{}", max_size=30))
def test_any_template_parses_or_is_refused_with_a_value_error(text):
    try:
        parts = parse_template(text)
    except ValueError:
        return
    rebuilt = "".join("{" + p.name + "}" if isinstance(p, Ref) else p.replace("{", "{{").replace("}", "}}")
                      for p in parts)
    assert parse_template(rebuilt) == parts
