"""The manifest: TOML as the issue shows it; unknown keys and wrong types name the file and the key."""
from pathlib import Path

import pytest

from xax_emu.errors import XaxError
from xax_emu.image import ManifestError, load_manifest

FULL = '''
exclude = ["*.pyc", "/usr/share/doc/*"]

[app]
name = "lua"
entry = "/usr/bin/lua5.4"
args = ["-e", "print(1)"]
env = { LC_ALL = "C", HOME = "/home/u" }
cwd = "/home/u"
profile = "profile.py:APP"

[files]
"/usr/bin/lua5.4" = "/usr/bin/lua5.4"
"/usr/share/lua//5.4/./x" = "lua"

[limits]
memory = "256M"
cpu_seconds = 10
wall_seconds = 2.5
download = 1048576
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


def test_full_manifest(tmp_path):
    m = load_manifest(write(tmp_path, FULL))
    assert (m.name, m.entry, m.args, m.cwd, m.profile) == ("lua", "/usr/bin/lua5.4", ("-e", "print(1)"), "/home/u",
                                                           "profile.py:APP")
    assert m.env == {"LC_ALL": "C", "HOME": "/home/u"}
    assert [f.image_path for f in m.files] == ["/usr/bin/lua5.4", "/usr/share/lua/5.4/x"]
    assert m.files[1].source == "lua" and m.files[1].key == 'files."/usr/share/lua//5.4/./x"'
    assert m.exclude == ("*.pyc", "/usr/share/doc/*")
    assert m.limits.memory == 256 << 20 and m.limits.cpu_seconds == 10 and m.limits.wall_seconds == 2.5
    assert m.limits.download == 1 << 20
    assert m.base_dir == tmp_path


def test_defaults(tmp_path):
    m = load_manifest(write(tmp_path, '[app]\nname = "a"\nentry = "/a"\n'))
    assert (m.args, m.env, m.cwd, m.profile, m.files, m.exclude) == ((), {}, "/", "static-libc", (), ())
    assert m.limits.as_dict() == {"memory": None, "cpu_seconds": None, "wall_seconds": None, "download": None,
                                  "threads": None, "processes": None}


def test_the_error_is_one_xax_error(tmp_path):
    e = error(tmp_path, '[app]\nname = "a"\n')
    assert isinstance(e, XaxError) and isinstance(e, ValueError)
    assert e.key == "app.entry" and "missing" in str(e)


def test_toml_nested_too_deeply_is_one_manifest_error(tmp_path):
    """tomllib parses nested arrays and inline tables recursively: RecursionError, not a
    TOMLDecodeError (found by tests/fuzz/fz_manifest.py)."""
    for text in ("a = " + "[" * 5000, "a = " + "{b = " * 5000):
        e = error(tmp_path, text)
        assert isinstance(e, XaxError) and "nested too deeply" in str(e) and "\n" not in str(e)


LIMITS = '[app]\nname = "a"\nentry = "/a"\n[limits]\n'


@pytest.mark.parametrize("text, key, words", [
    ('color = 1\n[app]\nname = "a"\nentry = "/a"\n', "color", "unknown key"),
    ('[app]\nname = "a"\nentry = "/a"\nuser = "x"\n', "app.user", "unknown key"),
    ('[app]\nname = "a"\nentry = "/a"\n[limits]\nram = "1M"\n', "limits.ram", "unknown key"),
    ('[app]\nname = "a"\nentry = "/a"\n[routes]\n"/tmp" = "ram"\n', "routes", "unknown key"),
    ('[app]\nname = 3\nentry = "/a"\n', "app.name", "must be a string, not an integer"),
    ('[app]\nname = ""\nentry = "/a"\n', "app.name", "printable"),
    ('[app]\nname = "a/b"\nentry = "/a"\n', "app.name", "without '/'"),
    ('[app]\nname = "a"\nentry = "a"\n', "app.entry", "absolute"),
    ('[app]\nname = "a"\nentry = "/a/../b"\n', "app.entry", "'..'"),
    ('[app]\nname = "a"\nentry = "/a"\nargs = "x"\n', "app.args", "array of strings"),
    ('[app]\nname = "a"\nentry = "/a"\nargs = ["x", 1]\n', "app.args[1]", "must be a string"),
    ('[app]\nname = "a"\nentry = "/a"\nenv = ["A=1"]\n', "app.env", "table of strings"),
    ('[app]\nname = "a"\nentry = "/a"\nenv = { A = 1 }\n', "app.env.A", "must be a string"),
    ('[app]\nname = "a"\nentry = "/a"\nenv = { "A=B" = "1" }\n', 'app.env."A=B"', "without '='"),
    ('[app]\nname = "a"\nentry = "/a"\ncwd = "tmp"\n', "app.cwd", "absolute"),
    ('[app]\nname = "a"\nentry = "/a"\nprofile = 1\n', "app.profile", "must be a string"),
    ('app = 1\n', "app", "must be a table"),
    ('[app]\nname = "a"\nentry = "/a"\n[limits]\nmemory = "lots"\n', "limits.memory", "not a size"),
    ('[app]\nname = "a"\nentry = "/a"\n[limits]\nmemory = true\n', "limits.memory", "not a boolean"),
    (LIMITS + 'download = 0\n', "limits.download", "from 1 to 128T bytes, not 0"),
    (LIMITS + 'cpu_seconds = 1.5\n', "limits.cpu_seconds", "a whole number of seconds"),
    (LIMITS + 'wall_seconds = -1\n', "limits.wall_seconds", "from 0.001 to 2147483 seconds"),
    # limits.py's ranges: values the kernel or the Monitor cannot take are refused, never passed on
    (LIMITS + 'memory = 1e999\n', "limits.memory", "a whole number of bytes, not inf"),
    (LIMITS + 'memory = 268435456.5\n', "limits.memory", "a whole number of bytes, not 268435456.5"),
    (LIMITS + 'memory = 0\n', "limits.memory", "from 16M to 128T bytes"),
    (LIMITS + 'memory = "99999999999T"\n', "limits.memory", "from 16M to 128T bytes, not '99999999999T'"),
    (LIMITS + 'memory = "999999999999999999999999999999"\n', "limits.memory", "not a size"),
    (LIMITS + 'cpu_seconds = 9223372036854775807\n', "limits.cpu_seconds", "from 1 to 1000000000 seconds"),
    (LIMITS + 'wall_seconds = inf\n', "limits.wall_seconds", "a finite number of seconds, not inf"),
    (LIMITS + 'wall_seconds = nan\n', "limits.wall_seconds", "a finite number of seconds, not nan"),
    (LIMITS + 'wall_seconds = 1e10\n', "limits.wall_seconds", "from 0.001 to 2147483 seconds"),
    ('[app]\nname = "a"\nentry = "/a"\n[limits]\nthreads = 0\n', "limits.threads", "from 1 to 4096"),
    ('[app]\nname = "a"\nentry = "/a"\n[limits]\nthreads = 5000\n', "limits.threads", "from 1 to 4096"),
    (LIMITS + 'threads = "8"\n', "limits.threads", "a whole number of threads, not a string"),
    ('[app]\nname = "a"\nentry = "/a"\n[limits]\nwall_seconds = "10s"\n', "limits.wall_seconds", "a number"),
    ('[app]\nname = "a"\nentry = "/a"\nexclude = 1\n', "app.exclude", "unknown key"),
    ('exclude = "*.pyc"\n[app]\nname = "a"\nentry = "/a"\n', "exclude", "array of strings"),
    ('exclude = [""]\n[app]\nname = "a"\nentry = "/a"\n', "exclude[0]", "empty pattern"),
    ('[app]\nname = "a"\nentry = "/a"\n[files]\n"a" = "x"\n', 'files.a', "absolute"),
    ('[app]\nname = "a"\nentry = "/a"\n[files]\n"/a/../../etc" = "x"\n', 'files."/a/../../etc"', "'..'"),
    ('[app]\nname = "a"\nentry = "/a"\n[files]\n"/a" = 1\n', 'files."/a"', "must be a string"),
    ('[app]\nname = "a"\nentry = "/a"\n[files]\n"/a" = ""\n', 'files."/a"', "must not be empty"),
    ('[app]\nname = "a"\nentry = "/a"\n[files]\n"/.xax/meta.json" = "x"\n', 'files."/.xax/meta.json"',
     "image's own"),
    ('[app]\nname = "a"\nentry = "/a"\n[files]\nexclude = ["*.pyc"]\n', "files.exclude", "top of the manifest"),
    ('[app]\nname = "a"\nentry = "/a"\n[files]\n"/' + "x" * 256 + '" = "y"\n', "files", "over 255 bytes"),
])
def test_errors_name_the_file_and_the_key(tmp_path, text, key, words):
    e = error(tmp_path, text)
    assert e.key.startswith(key), (e.key, str(e))
    assert words in str(e)


def test_image_paths_are_normalized_and_must_not_collide(tmp_path):
    e = error(tmp_path, '[app]\nname = "a"\nentry = "/a"\n[files]\n"/a/b" = "x"\n"/a//b/" = "y"\n')
    assert e.key == 'files."/a//b/"' and "'/a/b'" in str(e) and 'files."/a/b"' in str(e)
    e = error(tmp_path, '[app]\nname = "a"\nentry = "/a"\n[files]\n"/a/./b" = "x"\n"/a/b" = "y"\n')
    assert "same image path" in str(e)
    # case is kept: these are two paths
    m = load_manifest(write(tmp_path, '[app]\nname = "a"\nentry = "/a"\n[files]\n"/A" = "x"\n"/a" = "y"\n'))
    assert [f.image_path for f in m.files] == ["/A", "/a"]


def test_bad_toml_and_missing_file(tmp_path):
    e = error(tmp_path, '[app\nname = "a"\n')
    assert "not valid TOML" in str(e)
    with pytest.raises(ManifestError, match="no such manifest"):
        load_manifest(tmp_path / "nope.toml")


@pytest.mark.parametrize("text, size", [("512K", 512 << 10), ("2G", 2 << 30), ("64MiB", 64 << 20), ("100", 100),
                                        ("1T", 1 << 40), ("128T", 128 << 40), ("7B", 7), ("1 KB", 1024)])
def test_sizes(tmp_path, text, size):
    m = load_manifest(write(tmp_path, f'[app]\nname = "a"\nentry = "/a"\n[limits]\ndownload = "{text}"\n'))
    assert m.limits.download == size
