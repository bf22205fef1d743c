"""The article's four apps behind their pages, end to end, as a person would use them: Debian's
chromium (headless, Playwright) -> `xax-emu serve` -> Debian's nginx, the origin of the images.
Both ways to reach serve (docs/serve.md): as the browser's HTTP proxy, and as a gateway for one
origin. Each test acts on the page (types, clicks) and asserts on the DOM and on the bytes the
app produced, against the native program: the WAV equals native espeak-ng's, the PNG native
gs's, the REPL's lines native python3's, and the canvas shows changing frames, each equal to the
frame gldemo renders natively.

Until `xax-emu serve` exists these tests fail, saying so: they are not skipped."""
from __future__ import annotations

import base64
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from browser_support import free_port, wait_for_port
from image_support import ROOT
from webapps_support import (FRAME_H, FRAME_W, READ_BLOB, READ_CANVAS, WEBAPPS, http_table, native, native_espeak, native_frames,
                             native_gs, pack_app, sample_pdf)
from xax_emu.image.http import argv_for_query

INSTANCE = re.compile(r"/\.xax/([0-9a-f]{32})/$")


def serve_available() -> None:
    if importlib.util.find_spec("xax_emu.serve") is None:
        pytest.fail("xax-emu serve is not in this tree yet (issue 11: xax_emu/serve/); these browser tests "
                    "run against it once it lands", pytrace=False)
    r = subprocess.run([sys.executable, "-m", "xax_emu", "serve", "--help"], capture_output=True, cwd=ROOT,
                       timeout=60)
    if r.returncode != 0:
        pytest.fail(f"`xax-emu serve --help` failed ({r.returncode}): {r.stderr.decode(errors='replace')[-500:]}",
                    pytrace=False)


@pytest.fixture(scope="module")
def origin_root(tmp_path_factory):
    """What nginx serves: the four images under /apps/ (a stale-able copy of one under
    /fresh-never/), the viewer's sample PDF under /docs/, and a launcher page."""
    serve_available()
    work = tmp_path_factory.mktemp("webapps-e2e")
    root = work / "site"
    for name in WEBAPPS:
        pack_app(name, work, root / "apps" / f"{name}.tar")
    (root / "revalidate").mkdir()
    os.link(root / "apps" / "espeak-ng.tar", root / "revalidate" / "espeak-ng.tar")
    (root / "docs").mkdir()
    (root / "docs" / "sample.pdf").write_bytes(sample_pdf(work).read_bytes())
    links = "".join(f'<li><a id="{n}" href="apps/{n}.tar?xax">{n}</a></li>' for n in WEBAPPS)
    (root / "index.html").write_text(f"<!doctype html><title>Xax apps</title><ul>{links}</ul>\n")
    return root, work


class Serve:
    """`xax-emu serve` started by the test, as the docs show it; stopped (SIGTERM) after."""

    def __init__(self, workdir: Path, origin: str | None):
        self.port = free_port()
        self.log = workdir / f"serve-{self.port}.log"
        argv = [sys.executable, "-m", "xax_emu", "serve", "--listen", f"127.0.0.1:{self.port}"]
        if origin:
            argv += ["--origin", origin]
        env = {**os.environ, "XDG_CACHE_HOME": str(workdir / f"cache-{self.port}"), "PYTHONPATH": str(ROOT)}
        self._log = open(self.log, "wb")
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.port, self.proc, "xax-emu serve")
        except RuntimeError as e:
            self.stop()
            raise RuntimeError(f"{e}: {self.log.read_text(errors='replace')[-2000:]}") from None

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture(params=["proxy", "gateway"])
def web(request, origin_root, nginx_factory, chromium_factory, tmp_path):
    """(browser context, the base URL pages are opened at, nginx) for one way to reach serve."""
    root, _ = origin_root
    nginx = nginx_factory(root, cache_control={"/apps/": "max-age=300", "/revalidate/": "no-cache"})
    if request.param == "proxy":
        serve = Serve(tmp_path, None)
        browser, base = chromium_factory(proxy_port=serve.port), nginx.base
    else:
        serve = Serve(tmp_path, nginx.base)
        browser, base = chromium_factory(), f"http://127.0.0.1:{serve.port}"
    yield browser, base, nginx, serve  # chromium_factory closes the browser
    status = serve.stop()
    assert status in (0, -15), f"serve ended with {status}: {serve.log.read_text(errors='replace')[-2000:]}"


def launch(browser, base: str, app: str):
    """Open the app's launch URL; serve redirects the page to its instance's namespace."""
    page = browser.new_page()
    page.set_viewport_size({"width": 900, "height": 700})
    response = page.goto(f"{base}/apps/{app}.tar?xax")
    assert response is not None and response.ok, response and response.status
    m = INSTANCE.search(page.url)
    assert m and page.url.startswith(base + "/.xax/"), page.url
    return page, m.group(1)


# -- eSpeak -----------------------------------------------------------------------------------

SENTENCE = "Legacy code, sealed, speaks in the browser."


def test_espeak_page_speaks_the_typed_sentence(web, artifacts):
    browser, base, nginx, _ = web
    page, _ = launch(browser, base, "espeak-ng")
    assert page.title() == "eSpeak in a picoprocess"
    page.fill("#text", SENTENCE)
    page.select_option("#voice", "en-us")
    page.fill("#speed", "140")
    with page.expect_response(lambda r: "/speak?" in r.url) as info:
        page.click("#speak")
    response = info.value
    assert response.status == 200 and response.headers["content-type"] == "audio/wav"
    page.wait_for_function("document.getElementById('audio').src.startsWith('blob:')")
    wav = base64.b64decode(page.evaluate(READ_BLOB, "#audio"))
    assert wav == native_espeak(SENTENCE.encode(), argv_for_query(http_table("espeak-ng"), "voice=en-us&speed=140"))
    page.wait_for_function("document.getElementById('audio').readyState >= 1")  # the browser decoded it
    assert page.evaluate("document.getElementById('audio').duration") > 0.5
    assert page.get_attribute("#audio", "data-bytes") == str(len(wav))
    assert page.text_content("#status") == f"{len(wav)} bytes of audio/wav"
    page.screenshot(path=str(artifacts / "espeak.png"))
    assert any(r.uri == "/apps/espeak-ng.tar" and r.status == 200
               for r in nginx.requests_when(lambda lines: any(r.uri == "/apps/espeak-ng.tar" for r in lines)))


def test_espeak_refuses_a_bad_parameter_with_400_naming_it(web):
    browser, base, _, _ = web
    page, _ = launch(browser, base, "espeak-ng")
    status, text = page.evaluate("""async () => {
        const r = await fetch("speak?voice=" + encodeURIComponent("en; rm -rf /"), {method: "POST", body: "hi"});
        return [r.status, await r.text()];
    }""")
    assert status == 400 and "voice" in text


# -- Python -----------------------------------------------------------------------------------

LINES = ["6 * 7", "print('hello from the picoprocess')", "[c.upper() for c in 'xax']", "1/0", "len(range(10))"]


def test_python_console_answers_each_line(web, artifacts):
    browser, base, _, _ = web
    page, _ = launch(browser, base, "python3")
    page.wait_for_selector("#line:not([disabled])")
    for line in LINES:
        page.fill("#line", line)
        page.press("#line", "Enter")
    # the last answer is a line of its own (the echo of the input, ">>> len(range(10))", contains "10" too)
    page.wait_for_function("(() => { const d = [...document.querySelectorAll('#console > div')]"
                           ".map(e => e.textContent); return d.includes('10') && "
                           "d.some(t => t.startsWith('ZeroDivisionError')); })()")
    shown = page.eval_on_selector_all("#console > div", "divs => divs.map(d => d.textContent)")
    answers = [s for s in shown if not s.startswith(">>> ")]
    # the REPL natively, fed the same lines: each stdout line a message, in order, and (stderr =
    # "messages") each stderr line too, in its own order (the two streams may interleave)
    argv = argv_for_query(http_table("python3"), "")
    n = native(["/usr/bin/python3.11", *argv], "python3", stdin="".join(line + "\n" for line in LINES).encode())
    out, err = n.stdout.decode().splitlines(), n.stderr.decode().splitlines()
    # The native run's stdin ends after the lines, and Python's interactive loop answers that
    # end of file with a newline on stderr; the page's WebSocket stays open, so its REPL never
    # sees one.
    assert err[-1] == ""
    err.pop()
    assert out == ["42", "hello from the picoprocess", "['X', 'A', 'X']", "10"]
    assert sorted(answers) == sorted(out + err)
    assert [a for a in answers if a in out] == out and [a for a in answers if a in err] == err
    assert [s for s in shown if s.startswith(">>> ")] == [">>> " + line for line in LINES]
    page.screenshot(path=str(artifacts / "python.png"))


# -- GhostScript ------------------------------------------------------------------------------


def test_pdf_viewer_shows_pages_as_gs_renders_them(web, origin_root, artifacts):
    browser, base, nginx, _ = web
    _, work = origin_root
    pdf = sample_pdf(work)
    http = http_table("ghostscript")

    def expect_page(action, n: int) -> None:
        with page.expect_response(lambda r: f"page?page={n}&" in r.url) as info:
            action()
        response = info.value
        assert response.status == 200 and response.headers["content-type"] == "image/png"

    def shown(n: int) -> bytes:
        page.wait_for_function(f"document.getElementById('view').dataset.page === '{n}'")
        page.wait_for_function("document.getElementById('view').complete")
        assert page.evaluate("document.getElementById('view').naturalWidth") > 0  # the browser decoded it
        return base64.b64decode(page.evaluate(READ_BLOB, "#view"))

    page = browser.new_page()
    page.set_viewport_size({"width": 900, "height": 1000})
    expect_page(lambda: page.goto(f"{base}/apps/ghostscript.tar?xax"), 1)
    assert INSTANCE.search(page.url)
    first = shown(1)
    assert first == native_gs(pdf, argv_for_query(http, "page=1&doc=sample.pdf")).stdout
    assert page.is_disabled("#prev")
    expect_page(lambda: page.click("#next"), 2)
    second = shown(2)
    assert second == native_gs(pdf, argv_for_query(http, "page=2")).stdout and second != first
    page.screenshot(path=str(artifacts / "pdf-page2.png"))
    expect_page(lambda: page.click("#next"), 3)
    assert shown(3) == native_gs(pdf, argv_for_query(http, "page=3")).stdout
    expect_page(lambda: page.click("#next"), 4)  # past the end: gs renders nothing, the page stays on 3
    page.wait_for_function("document.getElementById('next').disabled")
    assert page.text_content("#status") == "page 3 of 3"
    expect_page(lambda: page.click("#prev"), 2)
    assert shown(2) == second
    # the picoprocess read the PDF from the origin (the Same Origin Policy let it: the image's own)
    assert any(r.uri == "/docs/sample.pdf" and r.status in (200, 304)
               for r in nginx.requests_when(lambda lines: any(r.uri == "/docs/sample.pdf" for r in lines)))


# -- the OpenGL demo --------------------------------------------------------------------------



def test_gl_demo_streams_frames_that_change_onto_the_canvas(web, origin_root, artifacts):
    browser, base, _, _ = web
    _, work = origin_root
    page, _ = launch(browser, base, "gldemo")  # its page comes from the program, through xabi_accept
    assert page.title() == "OpenGL demo in a picoprocess"
    page.wait_for_function("document.getElementById('view').dataset.frame !== undefined")
    assert page.text_content("#status").startswith("Mesa ")  # the 'S' message, through its stub
    # frame number and pixels read in one task: no frame is drawn between the two
    n1, w, h, first = page.evaluate(READ_CANVAS)
    page.wait_for_function(f"Number(document.getElementById('view').dataset.frame) >= {n1 + 3}")
    n2, _, _, second = page.evaluate(READ_CANVAS)
    page.screenshot(path=str(artifacts / "gldemo.png"))
    assert (w, h) == (FRAME_W, FRAME_H) and n2 > n1
    first, second = base64.b64decode(first), base64.b64decode(second)
    assert first != second
    assert first == native_frames(work, 1, n1)[0]
    assert second == native_frames(work, 1, n2)[0]
    assert int(page.text_content("#frames")) >= 2


# -- the HTTP cache: nginx's validators honoured ----------------------------------------------


def test_a_fresh_image_is_not_fetched_again_and_a_no_cache_one_is_revalidated(web):
    browser, base, nginx, _ = web
    for _ in range(2):
        page, _ = launch(browser, base, "espeak-ng")
        page.close()
        page = browser.new_page()
        page.goto(f"{base}/revalidate/espeak-ng.tar?xax")
        assert INSTANCE.search(page.url)
        page.close()
    log = nginx.requests_when(lambda lines: sum(r.uri == "/revalidate/espeak-ng.tar" for r in lines) >= 2)
    fresh = [r for r in log if r.uri == "/apps/espeak-ng.tar"]
    assert [r.status for r in fresh] == [200]  # max-age=300: the second launch used the cache
    stale = [r for r in log if r.uri == "/revalidate/espeak-ng.tar"]
    assert [r.status for r in stale] == [200, 304]  # no-cache: revalidated with a conditional GET
    assert stale[1].if_none_match != "-" or stale[1].if_modified_since != "-"


def test_a_guessed_instance_id_is_404_and_reaches_no_picoprocess(web):
    browser, base, _, _ = web
    page, real = launch(browser, base, "espeak-ng")
    guessed = "0" * 32 if real != "0" * 32 else "1" * 32
    response = page.goto(f"{base}/.xax/{guessed}/")
    assert response is not None and response.status == 404


def test_closing_the_tab_ends_its_instance_within_five_seconds(web):
    """The page loads /.xax/xax.js, which holds a connection while the page is shown; when
    the tab closes, serve ends the instance (and its picoprocesses) and says why: the reason
    "its page is gone" is the grace timer (instances.GRACE, 2 s) started by the last held
    connection's end -- not the idle limit (60 s), which would say "idle"."""
    import time
    browser, base, _, serve = web
    page, iid = launch(browser, base, "python3")  # a websocket app: its REPL runs while the page is open
    page.wait_for_selector("#line:not([disabled])")
    page.wait_for_function("window.xax && window.xax.alive.readyState === 1")  # the held connection is open
    assert f"instance {iid} ended" not in serve.log.read_text()
    page.close()
    deadline = time.monotonic() + 30  # a hang detector, shorter than the idle limit
    while f"instance {iid} ended" not in serve.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"instance {iid} ended: its page is gone" in serve.log.read_text()
    gone = browser.new_page().goto(f"{base}/.xax/{iid}/")
    assert gone is not None and gone.status == 404
