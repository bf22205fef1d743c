"""Generated files are current, and the repository keeps its own rules."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_protocol_header_is_current():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_protocol.py"), "--check"], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()


def test_seal_doc_is_current():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_seal_doc.py"), "--check"], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()


def test_layer_handlers_registry_and_prototypes_are_current():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_layer_handlers.py"), "--check"], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()


def test_no_binaries_tracked():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        head = (ROOT / name).read_bytes()[:4]
        assert head != b"\x7fELF", f"{name} is a binary: build it from source instead"


def test_pico_binary_has_only_relative_relocations():
    from xax_emu.runtime import pico_binary
    from elftools.elf.elffile import ELFFile
    from elftools.elf.relocation import RelocationSection

    with open(pico_binary(), "rb") as f:
        elf = ELFFile(f)
        assert elf["e_type"] == "ET_DYN"
        assert not any(seg["p_type"] == "PT_INTERP" for seg in elf.iter_segments())
        for section in elf.iter_sections():
            if isinstance(section, RelocationSection):
                for rel in section.iter_relocations():
                    assert rel["r_info_type"] == 8, "only R_X86_64_RELATIVE: the boot block relocates itself"


def test_seccomp_ffi_module_is_current():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_seccomp_ffi.py"), "--check"], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()


def test_the_protocol_headers_constants_are_defined_nowhere_else():
    """A fact of protocol.py is written in C only by the generator: no source defines its name
    again, and the runtime's exit statuses are named, never numbers."""
    import re

    header = ROOT / "runtime_c" / "include" / "xax_protocol.h"
    generated = set(re.findall(r"^#define (XAX_\w+)", header.read_text(), re.M))
    assert {"XAX_CHANNEL_FD", "XAX_VIRTUAL_PID", "XAX_LAYER_NR_MAX", "XAX_EXIT_BOOT_FAILED"} <= generated
    for path in sorted((ROOT / "runtime_c").rglob("*.[ch]")):
        if path == header:
            continue
        text = path.read_text()
        again = generated & set(re.findall(r"^\s*#\s*define\s+(\w+)", text, re.M))
        assert not again, f"{path.relative_to(ROOT)} defines {sorted(again)} again: use xax_protocol.h"
        assert not re.search(r"sys_exit_group\([1-9]", text), f"{path.relative_to(ROOT)}: exit with an XAX_EXIT_* status"


def test_image_format_header_is_current():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_image_format.py"), "--check"], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()


def test_image_format_header_follows_format_py(monkeypatch):
    """The check fails when format.py changes and the header does not: the limit is read, not retyped."""
    from conftest import load_tool
    from xax_emu.image import format as f

    gen = load_tool("gen_image_format")
    assert gen.render() == gen.OUT.read_text()
    monkeypatch.setattr(f, "HEADER_MAX", f.HEADER_MAX + 1)
    assert "#define XAX_IMAGE_HEADER_MAX 65537 " in gen.render()
    monkeypatch.setattr(sys, "argv", ["gen_image_format.py", "--check"])
    assert gen.main() == 1
