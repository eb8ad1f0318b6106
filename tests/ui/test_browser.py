"""The chat app in Debian's chromium: ask, see cards, click "Not for me", see that film gone."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from ..conftest import REAL_CACHE

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(real_service) -> Iterator[str]:  # noqa: ANN001 - real_service builds the shared caches first
    port = free_port()
    env = {**os.environ, "CONVREC_DATA_DIR": str(REAL_CACHE)}
    process = subprocess.Popen([sys.executable, "-m", "convrec.cli", "chat", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the app exited early:\n{process.stdout.read() if process.stdout else ''}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the app did not answer within 120 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_ask_see_cards_reject_one(app_url: str) -> None:
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is required (scripts/test.sh installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(app_url, wait_until="load")
        box = page.locator("#message textarea").first
        box.wait_for(timeout=60_000)
        box.fill("a crime thriller from the 90s")
        page.locator("#send").first.click()
        page.locator("#card-body-4").first.wait_for(state="visible", timeout=60_000)
        titles_before = [page.locator(f"#card-body-{i}").first.inner_text().splitlines()[0] for i in range(5)]
        assert all(t.startswith(f"#{i + 1} ") for i, t in enumerate(titles_before))
        assert "Crime" in page.locator("#card-body-0").first.inner_text()
        rejected = titles_before[0].split(" ", 1)[1]
        page.locator("#not-for-me-0").first.click()
        page.wait_for_function(
            "t => !document.querySelector('#card-body-0').innerText.includes(t)", arg=rejected, timeout=60_000)
        titles_after = [page.locator(f"#card-body-{i}").first.inner_text().splitlines()[0] for i in range(5)]
        assert all(rejected not in t for t in titles_after)
        assert f"Not for me: {rejected.rsplit(' (', 1)[0]}" in page.locator("#chat").first.inner_text()
        browser.close()
