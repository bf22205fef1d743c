"""The layer's handlers are their own registry: tools/gen_layer_handlers.py reads the
@family and @serves lines of runtime_c/layer/sys_*.c and writes the Python registry and
the C prototypes from them (test_repository.py checks that both are current); a stale
output and a wrong line are named."""
import sys
from pathlib import Path

import pytest

from xax_emu.syscalls import catalogue
from xax_emu.syscalls.handlers import HANDLERS

from conftest import load_tool

ROOT = Path(__file__).resolve().parent.parent
SYSCALLS = frozenset(catalogue.names())


def _gen():
    return load_tool("gen_layer_handlers")


def test_check_detects_a_stale_output(tmp_path, monkeypatch):
    gen = _gen()
    families = gen.collect()
    for attr, render in (("HEADER_OUT", gen.render_header), ("PYTHON_OUT", gen.render_python)):
        out = tmp_path / attr
        out.write_text(render(families).replace("layer_read", "layer_reed"))
        monkeypatch.setattr(gen, attr, out)
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    monkeypatch.setattr(sys, "argv", ["gen_layer_handlers.py", "--check"])
    assert gen.main() == 1
    (tmp_path / "HEADER_OUT").write_text(gen.render_header(families))
    assert gen.main() == 1
    (tmp_path / "PYTHON_OUT").write_text(gen.render_python(families))
    assert gen.main() == 0


def test_registry_comes_from_the_c_files():
    vfs = HANDLERS["vfs"]
    assert vfs.source == "sys_fs.c" and vfs.functions["read"] == "layer_read"
    assert HANDLERS["identity"].functions["gettid"] == "layer_getpid"  # one function, two calls
    for name, handler in HANDLERS.items():
        text = (ROOT / "runtime_c" / "layer" / handler.source).read_text()
        assert f"@family {name}:" in text
        for function in handler.functions.values():
            assert f"long {function}(struct layer_call *c)\n" in text or f"long {function}(struct layer_call *c) {{" in text
    header = (ROOT / "runtime_c" / "layer" / "handlers.h").read_text()
    assert "long layer_read(struct layer_call *c);" in header


GOOD = """/* Doc.
 *
 * @family demo: does a thing
 *     over two lines
 * @serves read gettid=getpid
 */
long layer_read(struct layer_call *c) { return 0; }
long layer_getpid(struct layer_call *c)
{
    return 1;
}
"""


def test_a_family_spans_lines_and_names_its_functions():
    [family] = _gen().parse_file("sys_demo.c", GOOD, SYSCALLS)
    assert (family.name, family.doc) == ("demo", "does a thing over two lines")
    assert family.serves == [("read", "layer_read"), ("gettid", "layer_getpid")]


@pytest.mark.parametrize("text,message", [
    (GOOD.replace("@serves read", "@serves raed"), r"sys_demo\.c:5: @serves 'raed': no x86-64 system call"),
    (GOOD.replace("gettid=getpid", "gettid"), r"sys_demo\.c:5: @serves 'gettid': sys_demo\.c defines no "
                                               r"'long layer_gettid"),
    (GOOD.replace(" * @serves read gettid=getpid\n", ""), r"sys_demo\.c: @family demo has no @serves line"),
    (GOOD.replace("@family demo: does a thing", "@family demo does a thing"), r"sys_demo\.c:3: write '@family NAME"),
    (GOOD.replace("gettid=getpid", "read"), r"sys_demo\.c:5: @serves 'read' twice"),
])
def test_a_wrong_marker_is_named(text, message):
    gen = _gen()
    with pytest.raises(gen.MarkerError, match=message):
        gen.parse_file("sys_demo.c", text, SYSCALLS)


def test_a_handler_no_family_serves_is_refused(tmp_path):
    gen = _gen()
    (tmp_path / "sys_demo.c").write_text(GOOD + "long layer_write(struct layer_call *c) { return 0; }\n")
    with pytest.raises(gen.MarkerError, match=r"sys_demo\.c: layer_write is a handler that no @serves line names"):
        gen.collect(tmp_path)
