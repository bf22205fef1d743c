"""The host build's cffi declarations are vfs.h's own, read from the header."""
import re

import pytest

from xax_emu.vfs import _host


def test_every_function_of_vfs_h_is_in_the_host_module():
    header = (_host.VFS_SRC / "vfs.h").read_text()
    declared = set(re.findall(r"^(?:long|void|int|struct vfs \*)\s*\**(vfs_\w+)\(", header, re.M))
    assert {"vfs_openat", "vfs_mount_tar", "vfs_debug_stats", "vfs_new"} <= declared
    lib = _host.module().lib
    assert not [name for name in declared if not hasattr(lib, name)]
    assert lib.VFS_FD_MAX == int(re.search(r"#define VFS_FD_MAX (\d+)", header)[1])


def test_conditionals_are_read_as_the_host_build_compiles_them():
    cdef = _host.header_cdef("#ifndef GUARD\n#define GUARD\n#include <stdint.h>\n"
                             "#ifdef VFS_DEBUG\nlong debug_only(void);\n#else\nlong release_only(void);\n#endif\n"
                             "#ifndef VFS_DEBUG\nlong not_debug(void);\n#endif\n#define LIMIT 0x10u\n#endif\n")
    assert "debug_only" in cdef and "release_only" not in cdef and "not_debug" not in cdef
    assert "#define LIMIT 0x10\n" in cdef
    assert cdef.count("\n") >= 12  # line numbers kept: cffi's errors point into the header


@pytest.mark.parametrize("line,message", [
    ("#define PAGE (1 << 12)", r"x\.h:2: cffi cannot read the macro 'PAGE'"),
    ("#if VFS_VERSION > 2", r"x\.h:2: the host build cannot read '#if VFS_VERSION > 2'"),
])
def test_what_cffi_cannot_read_is_named_with_its_line(line, message):
    with pytest.raises(ValueError, match=message):
        _host.header_cdef(f"/* a comment */\n{line}\n", "x.h")
