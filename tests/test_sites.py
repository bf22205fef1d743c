"""The image's site table (docs/rewrite.md, "The site table"): pack disassembles the ELF files
(xax_emu/image/syscall_sites.py) and the PAL rewrites the sites it names as it maps them
(runtime_c/pal/sites.c).  tests/programs/sites.c holds the shapes; each mode runs natively,
sealed from an image with rewriting (the default) and with --no-rewrite, and its lines must
agree but for the "text:" lines, which say what the code reads of its own text."""
import io
import struct

import pytest
from elftools.elf.elffile import ELFFile

from xax_emu import protocol
from xax_emu.image import pack_image
from xax_emu.image.format import SITES, SITES_MAGIC, SITES_NR_UNKNOWN
from xax_emu.image.syscall_sites import decode_table, find_sites
from xax_emu.image.tarread import TarReader
from xax_emu.launch.imagefile import ImageFile
from xax_emu.launch.program import resolve
from xax_emu.launch.request import Request, start_kwargs
from xax_emu.monitor import Limits, Monitor, Stdio
from xax_emu.seal import syscall_number

from conftest import run_native, run_pico

LIMITS = Limits(wall_seconds=60, threads=8, processes=4)
NATIVE_TEXT = ["text: s_adjacent: b8", "text: s_read: 48", "text: s_mid: b8", "text: data: b8"]
TABLE_TEXT = ["text: s_adjacent: e9", "text: s_read: e9", "text: s_mid: b8", "text: data: b8"]


@pytest.fixture(scope="module")
def prog(build):
    return build("programs/sites.c", "musl")


def pack(prog, tmp_path, name="sites", extra_limits=""):
    manifest = tmp_path / f"{name}.toml"
    manifest.write_text(f'[app]\nname = "{name}"\nentry = "/bin/{name}"\nargs = []\ncwd = "/"\n'
                        f'profile = "static-libc"\n\n[limits]\nprocesses = 4\nthreads = 8\n{extra_limits}\n'
                        f'[files]\n"/bin/{name}" = "{prog}"\n')
    out = tmp_path / f"{name}.tar"
    pack_image(str(manifest), str(out))
    return out


@pytest.fixture(scope="module")
def image(prog, tmp_path_factory):
    return pack(prog, tmp_path_factory.mktemp("sites"))


def symbols(prog) -> dict[str, int]:
    """The program's s_* functions and not_code: name -> file offset."""
    with open(prog, "rb") as f:
        elf = ELFFile(f)
        segs = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        out = {}
        for sym in elf.get_section_by_name(".symtab").iter_symbols():
            if sym.name.startswith("s_") or sym.name == "not_code":
                seg = next(s for s in segs if s["p_vaddr"] <= sym["st_value"] < s["p_vaddr"] + s["p_memsz"])
                out[sym.name] = sym["st_value"] - seg["p_vaddr"] + seg["p_offset"]
        return out


def split(out: bytes) -> tuple[list[str], list[str]]:
    lines = out.decode().splitlines()
    return [x for x in lines if x.startswith("text:")], [x for x in lines if not x.startswith("text:")]


def test_pack_finds_each_shape_and_leaves_a_branch_into_a_window_alone(prog):
    sym = symbols(prog)
    sites = {s.offset: s for s in find_sites(prog.read_bytes())}
    # mov $39, %eax; syscall
    assert (sites[sym["s_adjacent"]].length, sites[sym["s_adjacent"]].syscall, sites[sym["s_adjacent"]].nr) == (7, 5, 39)
    # mov %rdx, %rdx; xor %eax, %eax; syscall: the xor alone is too short for a jump
    assert (sites[sym["s_read"]].length, sites[sym["s_read"]].syscall, sites[sym["s_read"]].nr) == (7, 5, 0)
    # mov $110, %eax; [mov %rdi, %rsi; syscall]: the number set two instructions before
    apart = sites[sym["s_apart"] + 5]
    assert (apart.length, apart.syscall, apart.nr) == (5, 3, 110)
    # the number from the caller: set elsewhere
    assert any(sym["s_any"] < at < sym["s_mid"] and s.nr == SITES_NR_UNKNOWN for at, s in sites.items())
    # s_mid_with jumps to s_mid's syscall: no window may hold that boundary, and none without it is movable
    assert not any(at <= sym["s_mid_syscall"] < at + s.length and at != sym["s_mid_syscall"]
                   for at, s in sites.items())
    assert not any(sym["s_mid"] <= at < sym["s_mid_with"] for at in sites)


def three_ways(prog, image, mode):
    native = run_native(prog, [mode])
    on = run_pico(image, [mode], limits=LIMITS)
    off = run_pico(image, [mode], limits=LIMITS, rewrite=False)
    assert native.returncode == on.code == off.code == 0, (on.stderr, off.stderr)
    return split(native.stdout), split(on.stdout), split(off.stdout)


@pytest.mark.parametrize("mode", ["calls", "fork", "vfork"])
def test_an_image_runs_the_same_through_its_site_table(prog, image, mode):
    """Rewritten as the PAL maps the program, before its first instruction: the code reads the
    jump where the window began before any call was made (a program that checksums its own
    text sees the change; --no-rewrite keeps the text as packed).  A number the filter may
    allow (an anonymous mmap) or whose handler needs the trap's frame (rt_sigprocmask) goes
    from the stub to a real syscall; fork and vfork children run the parent's rewritten text."""
    (ntext, native), (otext, on), (ftext, off) = three_ways(prog, image, mode)
    assert on == off == native
    assert ntext == ftext == NATIVE_TEXT
    assert otext == TABLE_TEXT
    if mode == "calls":
        assert "red zone: 3333" in on and "any mmap: zeroed page" in on and "read: 3 xyz" in on


def test_the_table_s_calls_arrive_without_a_trap(image):
    on = run_pico(image, ["calls"], limits=LIMITS, trace_all=True)
    off = run_pico(image, ["calls"], limits=LIMITS, trace_all=True, rewrite=False)
    assert on.code == off.code == 0
    assert on.report.trace == off.report.trace  # every call counted, whichever way it came
    direct = on.report.direct
    for name, n in (("getpid", 3), ("read", 2), ("getppid", 1)):
        assert direct[syscall_number(name)] >= n, (name, direct)
    assert direct[syscall_number("rt_sigprocmask")] == 0 and direct[syscall_number("mmap")] == 0
    assert not off.report.direct


# -- a hostile table: the Monitor refuses it (tests/tar_corpus.py); the PAL, handed one anyway,
#    patches nothing outside the program's executable bytes, nor where no syscall is

def with_table(data: bytes, rows: list[tuple[int, int, int, int]]) -> bytes:
    """The image with its last member, .xax/sites, holding these rows."""
    members = TarReader(io.BytesIO(data), len(data)).members()
    m = members[-1]
    assert m.name == SITES
    table = struct.pack("<8sII", SITES_MAGIC, len(rows), 0) + b"".join(struct.pack("<QBBHI", *r, 0) for r in rows)
    head = bytearray(data[m.data_offset - 512:m.data_offset])
    head[124:136] = b"%011o\0" % len(table)
    head[148:156] = b" " * 8
    head[148:156] = b"%06o\0 " % sum(head)
    return data[:m.data_offset - 512] + bytes(head) + table + bytes(-len(table) % 512) + bytes(1024)


def run_unchecked(image_path, data: bytes):
    """Hand the picoprocess `data` instead of the bytes the Monitor validated."""
    request = Request(resolve(str(image_path), None, None), ["calls"], [], None, {"wall_seconds": 30}, None)
    kwargs = start_kwargs(request)
    kwargs["image"] = ImageFile.copy_of_bytes(data, "unchecked")
    out = bytearray()
    with Monitor() as monitor:
        pico = monitor.start(**kwargs, stdio=Stdio(stdout=out.extend, stderr=bytearray().extend, stdin_bytes=b""))
        (report,) = monitor.run_until_done([pico])
    return report, split(bytes(out))


def test_a_hostile_table_patches_nothing_but_the_windows_it_may(prog, image):
    good = image.read_bytes()
    members = {m.name: m for m in TarReader(io.BytesIO(good), len(good)).members()}
    base = members["bin/sites"].data_offset
    layer = members[".xax/layer"].data_offset
    sym = symbols(prog)
    rows = [(r.at, r.length, r.syscall, r.nr) for r in decode_table(good[members[SITES].data_offset:][
        :members[SITES].size])]
    adjacent = next(r for r in rows if r[0] == base + sym["s_adjacent"])
    _, (_, native) = None, split(run_native(prog, ["calls"]).stdout)
    cases = {
        # a window in the program's data, `0f 05` where it says: not executable, left alone
        "data": (sorted(rows + [(base + sym["not_code"] + 2, 7, 5, 39)]), TABLE_TEXT),
        # s_adjacent's window with its syscall said to be where the mov is: no `0f 05` there
        "no syscall": ([(a, n, 0 if r == adjacent else s, nr) for r in rows for a, n, s, nr in [r]],
                       ["text: s_adjacent: b8", *TABLE_TEXT[1:]]),
        # the layer's own text (mapped before the table is read, and the runtime's: never)
        "layer": (sorted(rows + [(layer + 64, 7, 5, 39)]), TABLE_TEXT),
        # past the end of every file
        "past the end": (rows + [(len(good) + 4096, 7, 5, 39)], TABLE_TEXT),
        # out of order: the PAL uses no entry past the first one out of place
        "unsorted": (list(reversed(rows)), None),
    }
    for what, (table, text) in cases.items():
        report, (seen_text, lines) = run_unchecked(image, with_table(good, table))
        assert report.exit_code == 0, (what, report.reason)
        assert lines == native, what
        if text is not None:
            assert seen_text == text, what


# -- tests/programs/rewrite.c's cases, from an image: through the table's stubs ----------------

@pytest.fixture(scope="module")
def rewrite_image(build, tmp_path_factory):
    return pack(build("programs/rewrite.c", "musl", ["-pthread"]), tmp_path_factory.mktemp("rw"), name="rewrite")


@pytest.mark.parametrize("mode, expected, direct", [
    ("redzone", "red zone slots changed: 0 then 0\n", 2),
    ("threads", "threads: 5 x 20000 calls, wrong answers: 0\n", 90000),
    ("signals", "signals handled: 2000, wrong in the handler: 0, wrong outside: 0\n", 2000),
])
def test_rewrite_c_s_cases_through_the_table(build, rewrite_image, mode, expected, direct):
    """The red zone, threads calling the sites, and a handler interrupting the calls from
    another thread (held while the layer runs, as on the lazy path: the same entry)."""
    prog = build("programs/rewrite.c", "musl", ["-pthread"])
    native = run_native(prog, [mode])
    on = run_pico(rewrite_image, [mode], limits=LIMITS, trace_all=True)
    assert native.returncode == on.code == 0, on.stderr
    assert native.stdout.decode() == on.stdout.decode() == expected
    assert sum(on.report.direct.values()) >= direct  # the calls came through stubs


# -- a sleep interrupted by a handler (issue 15's small item) ----------------------------------

@pytest.fixture(scope="module")
def sleep_image(build, tmp_path_factory):
    return pack(build("programs/sleepintr.c", "musl", ["-pthread"]), tmp_path_factory.mktemp("sleep"),
                name="sleepintr")


@pytest.mark.parametrize("mode", ["nanosleep", "relative", "absolute"])
@pytest.mark.parametrize("flags", ["plain", "restart"])
def test_an_interrupted_sleep_fails_with_eintr_and_says_the_time_left_as_natively(build, sleep_image, mode, flags):
    """nanosleep and clock_nanosleep end with EINTR when a handler runs, SA_RESTART or not; a
    relative sleep writes the time it had left, an absolute one nothing.  The sleeping thread
    is not the main one: its SIGSYS frame lies on its own stack (no signal stack), where the
    PAL once built the handler's frame over it, and the handler's return looped forever."""
    prog = build("programs/sleepintr.c", "musl", ["-pthread"])
    native = run_native(prog, [mode, flags])
    on = run_pico(sleep_image, [mode, flags], limits=LIMITS)
    assert native.returncode == on.code == 0, on.stderr
    assert on.stdout == native.stdout
    assert on.stdout.decode() == f"{mode}: EINTR, handled 1, rem {'untouched' if mode == 'absolute' else 'the time it had left'}\n"
