"""The chat app in Debian's chromium: ask, see cards, click "Not for me", see that film gone."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest

from ..conftest import REAL_CACHE
from ..servers import running

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
    yield from serve()


@pytest.fixture(scope="module")
def user_app_url(real_service) -> Iterator[str]:  # noqa: ANN001
    yield from serve("--user", "405")


def serve(*args: str, env_extra: dict[str, str] | None = None) -> Iterator[str]:
    """Start `convrec chat` on a free port, wait until it answers, yield its URL, stop it afterwards."""
    port = free_port()
    env = {**os.environ, "CONVREC_DATA_DIR": str(REAL_CACHE), **(env_extra or {})}
    url = f"http://127.0.0.1:{port}/"
    with running([sys.executable, "-m", "convrec.cli", "chat", "--port", str(port), *args], url=url, env=env,
                 what="the app"):
        yield url


@contextmanager
def chromium_page(url: str) -> Iterator[Any]:
    """A page of Debian's headless chromium, opened at `url`."""
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is required (scripts/test.sh installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url, wait_until="load")
            yield page
        finally:
            browser.close()


def test_ask_see_cards_reject_one(app_url: str) -> None:
    with chromium_page(app_url) as page:
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


def test_profile_panel_shows_what_the_system_believes(user_app_url: str) -> None:
    with chromium_page(user_app_url) as page:
        panel = page.locator("#profile-panel").first
        panel.wait_for(timeout=60_000)
        assert not page.locator("#profile-body").first.is_visible()  # collapsed until asked for
        panel.get_by_text("What convrec believes about you").first.click()
        body = page.locator("#profile-body").first
        body.wait_for(state="visible", timeout=30_000)
        text = body.inner_text()
        assert "Lately (weight 0." in text and "Most recently (January 1998) watched" in text
        assert "Over the years (weight 0." in text and "Has rated 737 films" in text


def test_an_llm_reply_streams_and_the_status_names_the_model(real_service) -> None:  # noqa: ANN001
    from ..llm.scripted_server import Reply, ScriptedServer
    from ..llm.test_llm_path import Model

    with ScriptedServer() as server:
        model = Model()
        model.slots = {"intent": "recommend", "genres_wanted": ["Crime"], "year_min": 1990, "year_max": 1999}
        model.reply = "Here are five crime films from the nineties, starting with {first}, which I think you will like."

        def slow_reply(request: dict) -> Reply:
            answer = model(request)
            return replace(answer, chunk_delay=0.15) if answer.content else answer

        server.default = slow_reply  # type: ignore[assignment]
        env = {"CONVREC_LLM_PROVIDER": "openai", "CONVREC_LLM_BASE_URL": server.base_url,
               "CONVREC_LLM_MODEL": "scripted-model", "CONVREC_PROFILE_WRITER": "offline"}
        app = serve(env_extra=env)
        url = next(app)
        try:
            with chromium_page(url) as page:
                assert "provider: openai (scripted-model)" in page.locator("#status").first.inner_text(timeout=60_000)
                page.locator("#message textarea").first.fill("a crime thriller from the 90s")
                page.locator("#send").first.click()
                page.wait_for_function("() => document.querySelector('#chat').innerText.includes('Here are five')",
                                       timeout=60_000)
                partial = page.locator("#chat").first.inner_text()
                assert "which I think you will like." not in partial  # caught mid-stream: the reply grows
                page.locator("#card-body-4").first.wait_for(state="visible", timeout=60_000)
                page.wait_for_function("() => document.querySelector('#chat').innerText.includes('you will like.')",
                                       timeout=60_000)
                assert "provider: openai (scripted-model)" in page.locator("#status").first.inner_text()
        finally:
            app.close()
