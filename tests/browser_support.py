"""The real parts of the browser tests: Debian's nginx as the origin and Debian's chromium,
headless, driven by Playwright.

    Nginx(root, workdir, cache_control=...)   (nginx_origin.py, shared with the benchmarks)
    launch_chromium(playwright, profile_dir, proxy_port=None)
        a BrowserContext of /usr/bin/chromium (never a browser Playwright downloads) with a
        fresh profile, optionally through an HTTP proxy: loopback too goes through it.
    artifacts_dir(request, tmp_path)   where screenshots go: $XAX_ARTIFACTS/<test> or tmp_path.

The pytest fixtures (conftest-style, imported by the modules that use them): `nginx_factory`,
`playwright_driver`, `chromium`, `chromium_factory`, `artifacts`.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from nginx_origin import Nginx, free_port, wait_for_port  # noqa: F401 - the browser tests import them from here

CHROMIUM = "/usr/bin/chromium"
# /work/.library/env/machines/python.md: without the background-networking flags Chromium's own
# connections are refused by this machine's closed network, many at a time.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage"]


def launch_chromium(playwright, profile_dir: Path, proxy_port: int | None = None, **context_options):
    """Debian's chromium, headless, with a fresh profile; through the proxy at proxy_port if
    given, loopback included (Chromium leaves loopback out of a proxy unless told)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (bootstrap.sh installs Debian's chromium)")
    args = list(CHROMIUM_ARGS)
    if proxy_port is not None:
        args += [f"--proxy-server=http://127.0.0.1:{proxy_port}", "--proxy-bypass-list=<-loopback>"]
    else:
        args += ["--no-proxy-server"]
    profile_dir = Path(profile_dir)
    if profile_dir.exists() and any(profile_dir.iterdir()):
        raise ValueError(f"{profile_dir}: a profile directory must start empty")
    profile_dir.mkdir(parents=True, exist_ok=True)
    # launch_persistent_context is how Playwright takes a --user-data-dir of ours
    return playwright.chromium.launch_persistent_context(
        str(profile_dir), executable_path=CHROMIUM, headless=True, args=args,
        env={**os.environ, "HOME": str(profile_dir)}, **context_options)


def artifacts_dir(request, tmp_path: Path) -> Path:
    root = os.environ.get("XAX_ARTIFACTS")
    if not root:
        return tmp_path
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
    out = Path(root) / safe
    out.mkdir(parents=True, exist_ok=True)
    return out


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def nginx_factory(tmp_path):
    """nginx_factory(root, cache_control=None) -> a started Nginx, stopped after the test."""
    started = []

    def make(root: Path, cache_control: dict[str, str] | None = None) -> Nginx:
        n = Nginx(root, tmp_path / f"nginx{len(started)}", cache_control)
        started.append(n)
        return n.start()

    yield make
    for n in started:
        n.stop()


@pytest.fixture(scope="session")
def playwright_driver():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        yield p


@pytest.fixture
def chromium_factory(playwright_driver, tmp_path):
    """chromium_factory(proxy_port=None) -> a BrowserContext, closed after the test."""
    contexts = []

    def make(proxy_port: int | None = None, **options):
        ctx = launch_chromium(playwright_driver, tmp_path / f"profile{len(contexts)}", proxy_port, **options)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def chromium(chromium_factory):
    return chromium_factory()


@pytest.fixture
def artifacts(request, tmp_path) -> Path:
    return artifacts_dir(request, tmp_path)


def which(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.fail(f"{program} is missing (bootstrap.sh installs it)")
    return path
