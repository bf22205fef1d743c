"""The manifest's [http] table (docs/serve.md): parsed with its defaults, every rule an error
naming the manifest and the key; carried into the image's metadata, checked again there
(an image is hostile data), and shown by `xax-emu inspect`."""
import json
from pathlib import Path

import pytest

from image_support import APP, build_example, file_info, image, member, meta
from xax_emu import cli
from xax_emu.image import ImageError, ManifestError, describe, inspect, load_manifest, pack, validate
from xax_emu.image.http import HttpSpecError, check_http

APP_TABLE = '[app]\nname = "a"\nentry = "/a"\n'

GS = APP_TABLE + '''
[http]
interface = "stdio"
pages = "/www/"
content_type = "image/png"
args = ["-dFirstPage={page}", "-dLastPage={page}", "-r{dpi}x{dpi}", "/docs/doc.pdf", "{{literal}}"]
max_body = "2K"
max_output = "16M"

[http.params.page]
pattern = "[1-9][0-9]{0,3}"
default = "1"
max_length = 16

[http.params.dpi]
pattern = "[0-9]+"
'''


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "manifest.toml"
    p.write_text(text)
    return p


def error(tmp_path: Path, text: str) -> ManifestError:
    p = write(tmp_path, text)
    with pytest.raises(ManifestError) as e:
        load_manifest(p)
    assert e.value.file == str(p) and str(p) in str(e.value)
    assert "\n" not in str(e.value)
    return e.value


def test_a_full_stdio_table(tmp_path):
    http = load_manifest(write(tmp_path, GS)).http
    assert http == {
        "interface": "stdio", "pages": "/www", "endpoint": "/run", "content_type": "image/png",
        "args": ["-dFirstPage={page}", "-dLastPage={page}", "-r{dpi}x{dpi}", "/docs/doc.pdf", "{{literal}}"],
        "max_body": 2048, "max_output": 16 << 20,
        "params": {"page": {"pattern": "[1-9][0-9]{0,3}", "default": "1", "max_length": 16},
                   "dpi": {"pattern": "[0-9]+", "default": None, "max_length": 256}},
    }


def test_defaults_per_interface(tmp_path):
    stdio = load_manifest(write(tmp_path, APP_TABLE + '[http]\ninterface = "stdio"\n')).http
    assert stdio == {"interface": "stdio", "pages": None, "endpoint": "/run", "args": [], "params": {},
                     "content_type": "application/octet-stream", "max_body": 1 << 20, "max_output": 64 << 20}
    ws = load_manifest(write(tmp_path, APP_TABLE + '[http]\ninterface = "websocket"\n')).http
    assert ws == {"interface": "websocket", "pages": None, "endpoint": "/ws", "args": [], "params": {},
                  "stderr": "log"}
    assert load_manifest(write(tmp_path, APP_TABLE)).http is None


BAD = [
    ('[http]\npages = "/www"\n', "http.interface", "missing"),
    ('[http]\ninterface = "cgi"\n', "http.interface", "'stdio' or 'websocket'"),
    ('[http]\ninterface = 1\n', "http.interface", "must be a string"),
    ('[http]\ninterface = "stdio"\n[http.params]\np = 3\n', "http.params.p", "must be a table"),
    ('[http]\ninterface = "stdio"\ncolour = 1\n', "http.colour", "unknown key"),
    ('[http]\ninterface = "stdio"\nstderr = "log"\n', "http.stderr", "does not apply to interface = 'stdio'"),
    ('[http]\ninterface = "websocket"\ncontent_type = "text/plain"\n', "http.content_type", "does not apply"),
    ('[http]\ninterface = "websocket"\nmax_body = "1M"\n', "http.max_body", "does not apply"),
    ('[http]\ninterface = "websocket"\nstderr = "stdout"\n', "http.stderr", "'log' or 'messages'"),
    ('[http]\ninterface = "stdio"\npages = "www"\n', "http.pages", "absolute path"),
    ('[http]\ninterface = "stdio"\npages = "/a/../b"\n', "http.pages", "without '..'"),
    ('[http]\ninterface = "stdio"\nendpoint = "run"\n', "http.endpoint", "a path like /run"),
    ('[http]\ninterface = "stdio"\nendpoint = "/run?x"\n', "http.endpoint", "without '%', '?' or '#'"),
    ('[http]\ninterface = "stdio"\nendpoint = "/a//b"\n', "http.endpoint", "a path like /run"),
    ('[http]\ninterface = "stdio"\nendpoint = "/a/../b"\n', "http.endpoint", "'.' or '..' segments"),
    ('[http]\ninterface = "stdio"\nendpoint = "/.xax/alive"\n', "http.endpoint", "the Monitor's"),
    ('[http]\ninterface = "stdio"\nendpoint = "/"\npages = "/"\n', "http.endpoint", "index.html"),
    ('[http]\ninterface = "stdio"\ncontent_type = "png"\n', "http.content_type", "not a media type"),
    ('[http]\ninterface = "stdio"\ncontent_type = "text/plain\\r\\nX-Evil: 1"\n', "http.content_type",
     "not a media type"),
    ('[http]\ninterface = "stdio"\nmax_body = "lots"\n', "http.max_body", "is not a size"),
    ('[http]\ninterface = "stdio"\nmax_output = "2G"\n', "http.max_output", "to 1 GiB"),
    ('[http]\ninterface = "stdio"\nmax_body = 0\n', "http.max_body", "more than 0"),
    ('[http]\ninterface = "stdio"\nargs = "-x"\n', "http.args", "array of strings"),
    ('[http]\ninterface = "stdio"\nargs = [1]\n', "http.args[0]", "must be a string"),
    ('[http]\ninterface = "stdio"\nargs = ["{page}"]\n', "http.args[0]", "{page} names no parameter"),
    ('[http]\ninterface = "stdio"\nargs = ["{"]\n', "http.args[0]", "a lone '{'"),
    ('[http]\ninterface = "stdio"\nargs = ["a}b"]\n', "http.args[0]", "a lone '}'"),
    ('[http]\ninterface = "stdio"\nargs = ["{a.b}"]\n', "http.args[0]", "not a parameter name"),
    ('[http]\ninterface = "stdio"\nargs = ["{0}"]\n', "http.args[0]", "not a parameter name"),
    ('[http]\ninterface = "stdio"\nargs = ["{}"]\n', "http.args[0]", "not a parameter name"),
    ('[http]\ninterface = "stdio"\n[http.params.page]\npattern = "[0-9]+"\n', "http.params.page",
     "no template in args uses it"),
    ('[http]\ninterface = "stdio"\nargs = ["{page}"]\n[http.params.page]\ndefault = "1"\n',
     "http.params.page.pattern", "missing"),
    ('[http]\ninterface = "stdio"\nargs = ["{page}"]\n[http.params.page]\npattern = "[0-9"\n',
     "http.params.page.pattern", "not a pattern RE2 accepts"),
    ('[http]\ninterface = "stdio"\nargs = ["{page}"]\n[http.params.page]\npattern = "(a)\\\\1"\n',
     "http.params.page.pattern", "not a pattern RE2 accepts"),  # a backreference: not linear time
    ('[http]\ninterface = "stdio"\nargs = ["{page}"]\n[http.params.page]\npattern = "[0-9]+"\ndefault = "x"\n',
     "http.params.page.default", "does not match its pattern"),
    ('[http]\ninterface = "stdio"\nargs = ["{page}"]\n[http.params.page]\npattern = "[0-9]+"\ndefault = "12345"\n'
     'max_length = 4\n', "http.params.page.default", "over its 4"),
    ('[http]\ninterface = "stdio"\nargs = ["{page}"]\n[http.params.page]\npattern = ".*"\nmax_length = 0\n',
     "http.params.page.max_length", "from 1 to 4096"),
    ('[http]\ninterface = "stdio"\nargs = ["{page}"]\n[http.params.page]\npattern = ".*"\nmax_length = 5000\n',
     "http.params.page.max_length", "from 1 to 4096"),
    ('[http]\ninterface = "stdio"\nargs = ["{page}"]\n[http.params.page]\npattern = ".*"\nlength = 5\n',
     "http.params.page.length", "unknown key"),
    ('[http]\ninterface = "stdio"\nargs = ["{page}"]\n[http.params]\npage = ".*"\n',
     "http.params.page", "must be a table"),
    ('[http]\ninterface = "stdio"\nargs = ["{9page}"]\n[http.params.9page]\npattern = ".*"\n',
     "http.params.9page", "a parameter's name is letters"),
    ('[http]\ninterface = "stdio"\nparams = 1\n', "http.params", "must be a table"),
]


@pytest.mark.parametrize("text, key, words", BAD)
def test_bad_tables_name_the_key(tmp_path, text, key, words):
    e = error(tmp_path, APP_TABLE + text)
    assert e.key == key, e
    assert words in str(e), e


def test_http_must_be_a_table(tmp_path):
    e = error(tmp_path, 'http = 3\n' + APP_TABLE)
    assert e.key == "http" and "must be a table, not an integer" in str(e)


def test_pattern_and_template_caps(tmp_path):
    long_pattern = "a" * 1025
    e = error(tmp_path, APP_TABLE + f'[http]\ninterface = "stdio"\nargs = ["{{p}}"]\n'
                                    f'[http.params.p]\npattern = "{long_pattern}"\n')
    assert e.key == "http.params.p.pattern" and "over 1024 bytes" in str(e)
    e = error(tmp_path, APP_TABLE + '[http]\ninterface = "stdio"\nargs = ' + json.dumps(["x"] * 257) + "\n")
    assert e.key == "http.args" and "more than 256" in str(e)


# -- into the image ------------------------------------------------------------------


@pytest.fixture(scope="module")
def http_image(tmp_path_factory):
    d = tmp_path_factory.mktemp("httpimage")
    manifest = build_example("sha1sum", d)
    (manifest.parent / "www").mkdir()
    (manifest.parent / "www" / "index.html").write_text("<!doctype html><title>sha1</title>\n")
    text = manifest.read_text().replace('"/bin/sha1sum" = "build/sha1sum"\n',
                                        '"/bin/sha1sum" = "build/sha1sum"\n"/www" = "www"\n')
    text += '''
[http]
interface = "stdio"
pages = "/www"
content_type = "text/plain; charset=utf-8"
args = ["{mode}"]

[http.params.mode]
pattern = "-[bt]"
default = "-b"
max_length = 2
'''
    manifest.write_text(text)
    out = d / "sha1sum-http.tar"
    pack(manifest, out)
    return manifest, out


def test_the_table_reaches_the_metadata_and_inspect(http_image, capsys):
    manifest, out = http_image
    want = load_manifest(manifest).http
    assert validate(out).meta["http"] == want
    info = inspect(out)
    assert info["http"] == want
    text = describe(info)
    assert "http     stdio at /run, text/plain; charset=utf-8, stdin at most 1.0 MiB, stdout at most 64.0 MiB" in text
    assert "pages    /www" in text and "argv     ... '{mode}'" in text
    assert "param    mode: pattern '-[bt]', default '-b', at most 2 bytes" in text
    assert cli.main(["inspect", "--json", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["http"] == want


def test_packing_twice_gives_the_same_bytes(http_image, tmp_path):
    manifest, out = http_image
    again = tmp_path / "again.tar"
    pack(manifest, again)
    assert again.read_bytes() == out.read_bytes()


def test_an_image_without_the_table_says_so(tmp_path):
    m = build_example("sha1sum", tmp_path)
    pack(m, tmp_path / "s.tar")
    info = inspect(tmp_path / "s.tar")
    assert info["http"] is None and validate(tmp_path / "s.tar").meta["http"] is None
    assert "http     (no [http] table: the program serves HTTP itself through xabi_accept)" in describe(info)


def test_pages_must_be_a_directory_of_the_image(tmp_path):
    m = build_example("sha1sum", tmp_path)
    m.write_text(m.read_text() + '\n[http]\ninterface = "stdio"\npages = "/bin/sha1sum"\n')
    with pytest.raises(ManifestError) as e:
        pack(m, tmp_path / "s.tar")
    assert e.value.key == "http.pages" and "not a directory in the image" in str(e.value)


# -- a hostile image's metadata --------------------------------------------------------

GOOD = {"interface": "stdio", "pages": None, "endpoint": "/run", "args": ["-p{page}"],
        "params": {"page": {"pattern": "[0-9]+", "default": "1", "max_length": 8}},
        "content_type": "image/png", "max_body": 1024, "max_output": 1 << 20}


def changed(**kw) -> dict:
    out = json.loads(json.dumps(GOOD))
    for k, v in kw.items():
        if v is KeyError:
            del out[k]
        else:
            out[k] = v
    return out


HOSTILE = [
    ("a string", "http.http: must be an object or null"),
    (changed(interface="fastcgi"), "http.interface"),
    (changed(stderr="log"), "http.stderr: is for interface = 'websocket' only"),
    (changed(extra=1), "http.extra: unknown key"),
    (changed(max_body=KeyError), "http.max_body: missing"),
    (changed(max_body=True), "http.max_body"),
    (changed(max_output=1 << 40), "http.max_output"),
    (changed(max_output=-1), "http.max_output"),
    (changed(content_type="text/html\r\nSet-Cookie: a=b"), "http.content_type"),
    (changed(content_type=["image/png"]), "http.content_type: must be a string"),
    (changed(endpoint="/.xax/x"), "http.endpoint"),
    (changed(endpoint="/%2e%2e"), "http.endpoint"),
    (changed(endpoint="/a\x00"), "http.endpoint"),
    (changed(pages="relative"), "http.pages"),
    (changed(pages="/a/../.."), "http.pages"),
    (changed(args=["{other}"]), "http.args[0]: {other} names no parameter"),
    (changed(args=["{page.__class__}"]), "http.args[0]"),
    (changed(args=["-p{page}", 7]), "http.args[1]: must be a string"),
    (changed(args="-p{page}"), "http.args: must be an array"),
    (changed(args=["x"] * 300), "http.args: more than 256"),
    (changed(params={"page": {"pattern": "(a*)*\\1", "default": None, "max_length": 8}}), "http.params.page.pattern"),
    (changed(params={"page": {"pattern": "[0-9]+", "default": "x", "max_length": 8}}), "http.params.page.default"),
    (changed(params={"page": {"pattern": "[0-9]+", "default": 1, "max_length": 8}}), "http.params.page.default"),
    (changed(params={"page": {"pattern": "[0-9]+", "default": None, "max_length": 1 << 20}}),
     "http.params.page.max_length"),
    (changed(params={"page": {"pattern": "[0-9]+", "default": None}}), "http.params.page: must be a table"),
    (changed(params={"page": {"pattern": "[0-9]+", "default": None, "max_length": 8},
                     "x y": {"pattern": ".", "default": None, "max_length": 1}}), "http.params.x y"),
    (changed(params=[]), "http.params: must be a table"),
]


@pytest.mark.parametrize("http, words", HOSTILE)
def test_hostile_metadata_is_refused_in_one_line(http, words):
    data = image([], meta_obj=meta({"/bin/app": file_info(APP)}, http=http))
    with pytest.raises(ImageError) as e:
        validate(data)
    assert words in str(e.value) and ".xax/meta.json" in str(e.value)
    assert "\n" not in str(e.value)


def test_good_metadata_and_old_images_without_the_key_are_accepted():
    assert validate(image([], meta_obj=meta({"/bin/app": file_info(APP)}, http=GOOD))).meta["http"] == GOOD
    assert validate(image([], meta_obj=meta({"/bin/app": file_info(APP)}, http=None))).meta["http"] is None
    assert "http" not in validate(image([])).meta


@pytest.mark.parametrize("pages, ok", [("/www", True), ("/", True), ("/bin", True), ("/bin/app", False),
                                       ("/nowhere", False), ("/link", True), ("/out", False)])
def test_hostile_pages_must_be_a_directory_inside_the_image(pages, ok):
    members = [member("link", typeflag=b"2", link="www"), member("out", typeflag=b"2", link="bin/app"),
               member("www/", typeflag=b"5")]  # in the order of their paths, as pack writes them
    listed = {"/link": {"type": "symlink", "target": "www"}, "/out": {"type": "symlink", "target": "bin/app"}}
    files = {"/bin/app": file_info(APP), **listed}
    data = image(members, listed=listed, meta_obj=meta(files, http=changed(pages=pages)))
    if ok:
        assert validate(data).meta["http"]["pages"] == pages
    else:
        with pytest.raises(ImageError, match="http.pages .* is not a directory in the image"):
            validate(data)


def test_check_http_is_the_one_rule_book():
    assert check_http(None) is None and check_http(GOOD) is GOOD
    with pytest.raises(HttpSpecError) as e:
        check_http(changed(params={}))
    assert e.value.key == "args[0]"
