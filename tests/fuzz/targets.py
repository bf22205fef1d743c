"""The fuzz targets: name -> harness.  Python targets run under atheris
(run_atheris.py), C targets are libFuzzer programs built by cbuild.py.  This module
imports no code under test (run_atheris.py must instrument it first)."""
from __future__ import annotations

PYTHON_TARGETS = {
    "monitor": "fz_monitor",
    "image": "fz_image",
    "manifest": "fz_manifest",
    "cli": "fz_cli",
    "http1": "fz_http1",
}
C_TARGETS = {
    "c_tar": "c/fuzz_tar.c",
    "c_walk": "c/fuzz_walk.c",
}
DESCRIPTIONS = {
    "monitor": "channel datagrams into the Monitor: every type and header field, each handler of the xaxcall table",
    "image": "an image's tar and .xax/meta.json (validate, parse_meta, tarread)",
    "manifest": "a manifest's TOML with its [http] table, then a browser's query against it",
    "cli": "the command line: every command and option, parsed and checked",
    "http1": "a browser's bytes into serve's HTTP front (BrowserConn over a socketpair)",
    "c_tar": "the C tar index (vfs_mount_tar) over any bytes, then the image walked",
    "c_walk": "the VFS path walk: fuzzed paths and calls over tar, RAM, /dev, /proc and deny routes",
}
ALL = [*PYTHON_TARGETS, *C_TARGETS]
