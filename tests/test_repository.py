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
