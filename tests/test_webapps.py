"""The article's four apps (images/: espeak-ng, python3, ghostscript, gldemo) run sealed with
exactly the argv their [http] interface builds, before any browser: the bytes each writes
equal the native program's. The browser half is test_serve_browser.py."""
import os

import pytest

from conftest import run_pico
from loopback import HttpOrigin
from webapps_support import (FRAME_H, FRAME_W, app_env, build_app, http_table, native, native_espeak, native_frames,
                             native_gs, pack_app, sample_pdf, split_ppm)
from xax_emu.image import inspect
from xax_emu.image.http import argv_for_query
from xax_emu.launch.request import Request, start_kwargs
from xax_emu.monitor import Limits, Monitor, Stdio
from xax_emu.launch.program import resolve


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    return tmp_path_factory.mktemp("webapps")


# -- eSpeak: stdio, POST text -> audio/wav -------------------------------------------------

SENTENCE = "Xax runs legacy code behind a web page, and this sentence proves it.".encode()


@pytest.mark.parametrize("query", ["", "voice=en-us&speed=140", "voice=fr"])
def test_espeak_speaks_the_posted_text_as_natively(apps, query):
    image = pack_app("espeak-ng", apps)
    http = inspect(image)["http"]
    argv = argv_for_query(http, query)
    assert argv[0] == "--stdout"
    r = run_pico(image, argv, stdin=SENTENCE)
    assert r.code == 0, r.stderr
    assert r.stdout == native_espeak(SENTENCE, argv)
    assert r.stdout[:4] == b"RIFF" and r.stdout[8:12] == b"WAVE" and len(r.stdout) > 10000


# -- GhostScript: stdio, a page parameter, the PDF from the image's origin --------------------


@pytest.fixture(scope="module")
def gs_origin(apps):
    image = pack_app("ghostscript", apps)
    with HttpOrigin() as origin:
        origin.add("/apps/ghostscript.tar", image.read_bytes())
        origin.add("/docs/sample.pdf", sample_pdf(apps).read_bytes())
        yield origin


@pytest.mark.parametrize("query", ["", "page=2", "page=3&dpi=48"])
def test_gs_renders_the_asked_page_from_the_origin_as_natively(apps, gs_origin, query):
    argv = argv_for_query(http_table("ghostscript"), query)
    r = run_pico(f"{gs_origin.base}/apps/ghostscript.tar", argv)
    n = native_gs(sample_pdf(apps), argv)
    assert r.code == n.returncode == 0, r.stderr
    assert r.stdout == n.stdout
    assert r.stdout[:8] == b"\x89PNG\r\n\x1a\n"
    assert any(s.path == "/docs/sample.pdf" for s in gs_origin.requests)  # read through the origin route


def test_gs_pages_differ_and_past_the_end_is_empty(apps, gs_origin):
    pages = [run_pico(f"{gs_origin.base}/apps/ghostscript.tar", argv_for_query(http_table("ghostscript"),
                                                                                f"page={n}")) for n in (1, 2, 4)]
    assert pages[0].stdout != pages[1].stdout
    past = pages[2]
    assert (past.stdout, past.code) == (b"", 0)
    assert b"greater than the number of pages" in past.stderr  # PostScript's stdout went to stderr


def test_gs_missing_document_fails_with_status_1(apps, gs_origin):
    r = run_pico(f"{gs_origin.base}/apps/ghostscript.tar", argv_for_query(http_table("ghostscript"),
                                                                         "doc=missing.pdf"))
    assert r.code == 1 and r.stdout == b"" and b"undefinedfilename" in r.stderr


# -- Python: websocket, one line in, lines out ---------------------------------------------------

SESSION = [b"1 + 1", b"print('hello from the picoprocess')", b"import sys; sys.version_info[:2]",
           b"for i in range(3):", b"    print(i * i)", b"", b"1/0", b"x = [c.upper() for c in 'xax']", b"x"]


def test_python_repl_as_the_websocket_interface_runs_it_matches_native(apps):
    image = pack_app("python3", apps)
    argv = argv_for_query(inspect(image)["http"], "")
    script = b"".join(line + b"\n" for line in SESSION)
    r = run_pico(image, argv, stdin=script)
    n = native(["/usr/bin/python3.11", *argv], "python3", stdin=script)
    assert (r.stdout, r.stderr, r.code) == (n.stdout, n.stderr, n.returncode)
    assert r.stdout == b"2\nhello from the picoprocess\n(3, 11)\n0\n1\n4\n['X', 'A', 'X']\n"
    assert b"ZeroDivisionError: division by zero" in r.stderr


def test_python_repl_answers_each_line_before_the_next_arrives(apps):
    """As a console needs: the answer to a line comes while stdin is still open and empty."""
    image = pack_app("python3", apps)
    argv = argv_for_query(inspect(image)["http"], "")
    lines = [b"6 * 7", b"'ab' * 2", b"len(range(10))"]
    answers = [b"42\n", b"'abab'\n", b"10\n"]
    r_fd, w_fd = os.pipe()
    out, err, fed = bytearray(), bytearray(), []

    def feed() -> None:
        if len(fed) < len(lines):
            os.write(w_fd, lines[len(fed)] + b"\n")
            fed.append(len(out))  # how much had been answered when it went
        else:
            os.close(w_fd)  # every line answered: EOF ends the REPL
            fed.append("eof")

    def stdout(data: bytes) -> None:
        out.extend(data)
        if bytes(out) == b"".join(answers[:len(fed)]):  # every line sent so far is answered
            feed()

    prog = resolve(str(image), None)
    request = Request(prog, argv, [], None, {"memory": None, "cpu_seconds": None, "wall_seconds": 60,
                                              "download": None, "threads": None}, None)
    try:
        with Monitor(log=lambda line: None) as monitor:
            feed()
            pico = monitor.start(**start_kwargs(request),
                                 stdio=Stdio(stdout=stdout, stderr=err.extend, stdin_fd=r_fd, stdin_bytes=None))
            (report,) = monitor.run_until_done([pico])
    finally:
        os.close(r_fd)
        if fed[-1:] != ["eof"]:
            os.close(w_fd)
    assert report.reason is None and report.exit_code == 0, (report, err)
    assert bytes(out) == b"".join(answers)
    # each line went only after the one before was answered: the REPL does not wait for EOF
    assert fed == [0, len(answers[0]), len(answers[0]) + len(answers[1]), "eof"]


# -- the OpenGL demo: frames rendered sealed == native ------------------------------------------


def test_gldemo_renders_frames_sealed_as_natively(apps):
    image = pack_app("gldemo", apps)
    r = run_pico(image, ["frames", "4", "30"], limits=Limits(wall_seconds=120))
    assert r.code == 0, r.stderr
    sealed = split_ppm(r.stdout, 4)
    assert sealed == native_frames(apps, 4, 30)
    # an animation: every frame differs from the one before, and none is one flat colour
    assert all(a != b for a, b in zip(sealed, sealed[1:]))
    assert all(len(set(f[i:i + 3] for i in range(0, len(f), 3 * 97))) > 5 for f in sealed)


def test_gldemo_picture_depends_on_the_frame_number_alone(apps):
    one = native_frames(apps, 1, 45)
    assert native_frames(apps, 3, 43)[2] == one[0]
    assert len(one[0]) == FRAME_W * FRAME_H * 3


def test_gldemo_refuses_to_serve_outside_a_picoprocess(apps):
    program = build_app("gldemo", apps).parent / "build" / "gldemo"
    r = native([str(program)], "gldemo")
    assert r.returncode == 2 and b"serve runs in a picoprocess" in r.stderr
    r = native([str(program), "frames", "x"], "gldemo")
    assert r.returncode == 2 and b"frames COUNT [FIRST]" in r.stderr


def test_gldemo_image_has_no_http_table_and_its_pages(apps):
    info = inspect(pack_app("gldemo", apps))
    assert info["http"] is None  # it serves HTTP itself, through xabi_accept
    paths = {f["path"] for f in info["files"]}
    assert {"/www/index.html", "/www/gldemo.js", "/bin/gldemo"} <= paths
    assert app_env("gldemo")["GALLIUM_DRIVER"] == "llvmpipe"


@pytest.mark.parametrize("name", ["espeak-ng", "python3", "ghostscript", "gldemo"])
def test_each_app_packs_reproducibly(apps, tmp_path, name):
    first = pack_app(name, apps)
    again = pack_app(name, apps, tmp_path / f"{name}-again.tar")
    assert first.read_bytes() == again.read_bytes()
