"""The `[http]` table: how `serve` puts a program that does not speak HTTP behind a page
(docs/serve.md, "The [http] table").  One place for its rules, used three ways:

    check_http(meta_http)        the table in the image's metadata form, checked; pack checks
                                 what the manifest gave, validate checks a loaded image's (an
                                 image is hostile data: every bound here holds for it too)
    argv_for_query(http, query)  what serve calls per request: the argv (after [app].args) the
    build_argv(http, pairs)      declared templates give for the request's query parameters,
                                 or ParamError naming the parameter (serve answers 400)

The metadata form (pack.py writes it as meta["http"], null when the manifest has no table):

    interface   "stdio" | "websocket"
    pages       an absolute image directory, or null
    endpoint    "/run" ...       a path under /.xax/ID/
    args        ["-r{dpi}", ...] templates: {name} is a declared parameter, {{ and }} are braces
    params      {name: {pattern, default (a string or null: required), max_length}}
    stdio only:     content_type, max_body, max_output (bytes)
    websocket only: stderr ("log" | "messages")

Each template gives exactly one argument, whatever the values: a value is placed inside its
argument as it is (never split, never expanded again, never a shell).  Patterns are RE2
syntax, matched against the whole value in linear time (google-re2): the pattern comes from
an image, the value from a page, and the Monitor that matches them serves other instances
too — Python's backtracking `re` would let one pattern stall it.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus

from ..errors import XaxError

INTERFACES = ("stdio", "websocket")
DEFAULT_ENDPOINT = {"stdio": "/run", "websocket": "/ws"}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
DEFAULT_MAX_BODY = 1 << 20
DEFAULT_MAX_OUTPUT = 64 << 20
SIZE_MOST = 1 << 30  # max_body and max_output: the Monitor holds that much per request at most
DEFAULT_MAX_LENGTH = 256
MAX_LENGTH_MOST = 4096  # one parameter's value, in bytes
STDERR_MODES = ("log", "messages")
DEFAULT_STDERR = "log"

ARGS_MOST = 256
TEMPLATE_MOST = 4096  # bytes of one template
PARAMS_MOST = 64
PATTERN_MOST = 1024  # bytes of one pattern
QUERY_FIELDS_MOST = 256  # name=value pairs in one query string

COMMON_KEYS = ("interface", "pages", "endpoint", "args", "params")
INTERFACE_KEYS = {"stdio": ("content_type", "max_body", "max_output"), "websocket": ("stderr",)}
MANIFEST_KEYS = set(COMMON_KEYS) | {k for keys in INTERFACE_KEYS.values() for k in keys}
PARAM_KEYS = ("pattern", "default", "max_length")

PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
# a path under /.xax/ID/: segments of URL path characters (RFC 3986 pchar, unencoded)
_ENDPOINT = re.compile(r"(/[A-Za-z0-9._~!$&'()*+,;=:@-]+)+|/")
# RFC 9110 media type: token "/" token *( OWS ";" OWS token "=" ( token / quoted-string ) )
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:[ \t]*;[ \t]*{_TOKEN}=(?:{_TOKEN}|\"[^\"\\\x00-\x1f\x7f]*\"))*")
CONTENT_TYPE_MOST = 256


class HttpSpecError(ValueError):
    """The table breaks a rule; `key` is where, relative to the table ("params.page.pattern")."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


class ParamError(XaxError, ValueError):
    """A request's query parameter is refused (serve answers 400 with this message)."""

    def __init__(self, param: str, message: str):
        shown = param if len(param) <= 64 else param[:64] + "..."
        super().__init__(f"parameter {shown!r}: {message}")
        self.param = param


@dataclass(frozen=True)
class Ref:
    """A placeholder in a template: the value of parameter `name`."""
    name: str


def parse_template(text: str) -> tuple[str | Ref, ...]:
    """'-r{dpi}x{dpi}' -> ('-r', Ref('dpi'), 'x', Ref('dpi')); ValueError naming the fault."""
    parts: list[str | Ref] = []
    literal = []
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        literal.append(text[pos:m.start()])
        pos = m.end()
        token = m.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
        elif m.group(1) is None:
            raise ValueError(f"a lone {token!r} at {m.start()} (write {token * 2} for a brace)")
        elif not PARAM_NAME.fullmatch(m.group(1)):
            raise ValueError(f"{{{m.group(1)[:80]}}} is not a parameter name (letters, digits, _)")
        else:
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Ref(m.group(1)))
    literal.append(text[pos:])
    if "".join(literal):
        parts.append("".join(literal))
    return tuple(p for p in parts if p != "")


@functools.lru_cache(maxsize=256)
def compile_pattern(text: str):
    """The pattern compiled by RE2 (linear-time matching); ValueError if RE2 refuses it."""
    import re2  # google-re2: only an image with parameters needs it

    options = re2.Options()
    options.log_errors = False  # its own complaint goes to stderr otherwise; ours names the key
    try:
        return re2.compile(text, options)
    except re2.error as e:
        detail = e.args[0].decode(errors="replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise ValueError(f"not a pattern RE2 accepts: {detail}") from None


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _string(key: str, value, most: int) -> str:
    if not isinstance(value, str):
        raise HttpSpecError(key, "must be a string")
    if "\0" in value:
        raise HttpSpecError(key, "must not contain NUL")
    if len(value.encode(errors="surrogatepass")) > most:
        raise HttpSpecError(key, f"over {most} bytes")
    return value


def _image_dir(key: str, value) -> str:
    text = _string(key, value, 4095)
    parts = [p for p in text.split("/") if p]
    if not text.startswith("/") or any(p in (".", "..") for p in parts) or text != "/" + "/".join(parts):
        raise HttpSpecError(key, f"{text!r} must be a normalized absolute path inside the image")
    return text


def _endpoint(value, has_pages: bool) -> str:
    text = _string("endpoint", value, 1024)
    if not _ENDPOINT.fullmatch(text):
        raise HttpSpecError("endpoint", f"{text!r} must be a path like /run: '/'-separated segments of letters, "
                                        "digits and -._~!$&'()*+,;=:@ without '%', '?' or '#'")
    segments = text.split("/")[1:]
    if any(s in (".", "..") for s in segments):
        raise HttpSpecError("endpoint", f"{text!r} must not have '.' or '..' segments")
    if segments[0] == ".xax":
        raise HttpSpecError("endpoint", f"{text!r}: /.xax/ under an instance is the Monitor's")
    if text == "/" and has_pages:
        raise HttpSpecError("endpoint", "'/' would hide the pages' index.html")
    return text


def _size(key: str, value) -> int:
    if not _is_int(value) or not 1 <= value <= SIZE_MOST:
        raise HttpSpecError(key, f"must be from 1 byte to {SIZE_MOST >> 30} GiB")
    return value


def _content_type(value) -> str:
    text = _string("content_type", value, CONTENT_TYPE_MOST)
    if not _MEDIA_TYPE.fullmatch(text):
        raise HttpSpecError("content_type", f"{text[:80]!r} is not a media type like image/png or "
                                            "text/plain; charset=utf-8")
    return text


def _param(name: str, spec) -> dict:
    key = f"params.{name}"
    if not PARAM_NAME.fullmatch(name):
        raise HttpSpecError(key, "a parameter's name is letters, digits and _, not starting with a digit, "
                                 "at most 64")
    if not isinstance(spec, dict) or set(spec) != set(PARAM_KEYS):
        raise HttpSpecError(key, f"must be a table of {', '.join(PARAM_KEYS)}")
    pattern = _string(f"{key}.pattern", spec["pattern"], PATTERN_MOST)
    try:
        compiled = compile_pattern(pattern)
    except ValueError as e:
        raise HttpSpecError(f"{key}.pattern", str(e)) from None
    most = spec["max_length"]
    if not _is_int(most) or not 1 <= most <= MAX_LENGTH_MOST:
        raise HttpSpecError(f"{key}.max_length", f"must be from 1 to {MAX_LENGTH_MOST} (bytes)")
    default = spec["default"]
    if default is not None:
        default = _string(f"{key}.default", default, MAX_LENGTH_MOST)
        try:
            _check_value(name, compiled, most, default)
        except ParamError as e:
            raise HttpSpecError(f"{key}.default", str(e).split(": ", 1)[1]) from None
    return {"pattern": pattern, "default": default, "max_length": most}


def check_http(http) -> dict | None:
    """The table in its metadata form, checked: the same dict, or HttpSpecError."""
    if http is None:
        return None
    if not isinstance(http, dict):
        raise HttpSpecError("http", "must be an object or null")
    interface = http.get("interface")
    if interface not in INTERFACES:
        raise HttpSpecError("interface", f"must be {' or '.join(map(repr, INTERFACES))}")
    expected = set(COMMON_KEYS) | set(INTERFACE_KEYS[interface])
    for key in sorted(set(http) - expected, key=str):
        other = [i for i, keys in INTERFACE_KEYS.items() if key in keys]
        raise HttpSpecError(str(key)[:80], f"is for interface = {other[0]!r} only" if other else "unknown key")
    for key in sorted(expected - set(http)):
        raise HttpSpecError(key, "missing")
    pages = None if http["pages"] is None else _image_dir("pages", http["pages"])
    _endpoint(http["endpoint"], pages is not None)
    if interface == "stdio":
        _content_type(http["content_type"])
        _size("max_body", http["max_body"])
        _size("max_output", http["max_output"])
    elif http["stderr"] not in STDERR_MODES:
        raise HttpSpecError("stderr", f"must be {' or '.join(map(repr, STDERR_MODES))}")

    params = http["params"]
    if not isinstance(params, dict):
        raise HttpSpecError("params", "must be a table of parameters")
    if len(params) > PARAMS_MOST:
        raise HttpSpecError("params", f"more than {PARAMS_MOST} parameters")
    for name, spec in params.items():
        _param(name, spec)

    args = http["args"]
    if not isinstance(args, list):
        raise HttpSpecError("args", "must be an array of strings")
    if len(args) > ARGS_MOST:
        raise HttpSpecError("args", f"more than {ARGS_MOST} arguments")
    used = set()
    for i, template in enumerate(args):
        _string(f"args[{i}]", template, TEMPLATE_MOST)
        try:
            parts = parse_template(template)
        except ValueError as e:
            raise HttpSpecError(f"args[{i}]", str(e)) from None
        for part in parts:
            if isinstance(part, Ref):
                if part.name not in params:
                    raise HttpSpecError(f"args[{i}]", f"{{{part.name}}} names no parameter "
                                                      f"(declare it as [http.params.{part.name}])")
                used.add(part.name)
    for name in params:
        if name not in used:
            raise HttpSpecError(f"params.{name}", "no template in args uses it")
    return http


# -- per request --------------------------------------------------------------------


def _check_value(name: str, compiled, most: int, value: str) -> None:
    if "\0" in value:
        raise ParamError(name, "contains NUL")
    try:
        size = len(value.encode())
    except UnicodeEncodeError:
        raise ParamError(name, "is not UTF-8") from None
    if size > most:
        raise ParamError(name, f"is {size} bytes, over its {most}")
    if compiled.fullmatch(value) is None:
        raise ParamError(name, "does not match its pattern")


def parse_query(raw: str | bytes) -> list[tuple[str, str]]:
    """A query string (after '?', without it) as (name, value) pairs in order: split on '&',
    each side of the first '=' percent-decoded ('+' is a space) as strict UTF-8."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("ascii")
        except UnicodeDecodeError:
            raise ParamError("?", "the query string is not ASCII (percent-encode it)") from None
    fields = [f for f in raw.split("&") if f]
    if len(fields) > QUERY_FIELDS_MOST:
        raise ParamError("?", f"more than {QUERY_FIELDS_MOST} query parameters")
    pairs = []
    for f in fields:
        name, _, value = f.partition("=")
        try:
            name = unquote_plus(name, errors="strict")
        except UnicodeDecodeError:
            raise ParamError(name, "its name is not UTF-8") from None
        try:
            value = unquote_plus(value, errors="strict")
        except UnicodeDecodeError:
            raise ParamError(name, "is not UTF-8") from None
        pairs.append((name, value))
    return pairs


def build_argv(http: dict, query: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[str]:
    """The argv (after [app].args) that `http`'s templates give for these query parameters.
    Parameters not declared are ignored; a declared one given twice, missing without a
    default, over its length or not matching its pattern is a ParamError naming it."""
    params = http["params"]
    pairs = query.items() if isinstance(query, Mapping) else query
    given: dict[str, str] = {}
    for name, value in pairs:
        if name not in params:
            continue
        if name in given:
            raise ParamError(name, "given more than once")
        given[name] = value
    values = {}
    for name, spec in params.items():
        value = given.get(name, spec["default"])
        if value is None:
            raise ParamError(name, "missing (it has no default)")
        _check_value(name, compile_pattern(spec["pattern"]), spec["max_length"], value)
        values[name] = value
    argv = []
    for template in http["args"]:
        argv.append("".join(values[p.name] if isinstance(p, Ref) else p for p in parse_template(template)))
    return argv


def argv_for_query(http: dict, raw_query: str | bytes) -> list[str]:
    """build_argv for a raw query string (the part of the request target after '?')."""
    return build_argv(http, parse_query(raw_query))
