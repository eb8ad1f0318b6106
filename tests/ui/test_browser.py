"""The chat app in Debian's chromium, used as a person would: one test per behaviour a person relies on.

The page is checked at a desktop (1280 px) and a phone (390 px) width, and axe-core (the npm package pinned in
tests/ui/package.json) audits it for accessibility.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ..conftest import REAL_CACHE
from ..servers import running

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LIVE_TITLES = "() => Array.from(document.querySelectorAll('.cards.live .card h2')).map(h => h.innerText)"
SETTLED = "() => document.querySelector('.cards.live') && !document.querySelector('.cards.live button.fb:disabled')"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(real_service) -> Iterator[str]:  # noqa: ANN001 - real_service builds the shared caches first
    with serve() as url:
        yield url


@pytest.fixture(scope="module")
def user_app_url(real_service) -> Iterator[str]:  # noqa: ANN001
    with serve("--user", "405") as url:
        yield url


@contextmanager
def serve(*args: str, env_extra: dict[str, str] | None = None, port: int | None = None) -> Iterator[str]:
    """Run `convrec chat` on a port (a free one unless given) until the block ends; yield its URL."""
    port = port or free_port()
    env = {**os.environ, "CONVREC_DATA_DIR": str(REAL_CACHE), **(env_extra or {})}
    url = f"http://127.0.0.1:{port}/"
    with running([sys.executable, "-m", "convrec.cli", "chat", "--port", str(port), *args], url=url, env=env,
                 what="the app"):
        yield url


@contextmanager
def browser() -> Iterator[Any]:
    """Debian's headless chromium."""
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is required (scripts/test.sh installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def chromium_page(url: str, viewport: dict[str, int] | None = None) -> Iterator[Any]:
    """A fresh page (its own browser storage) of headless chromium, opened at `url` and ready for a message."""
    with browser() as launched:
        page = launched.new_context(viewport=viewport or DESKTOP).new_page()
        open_app(page, url)
        yield page


def open_app(page: Any, url: str) -> None:  # noqa: ANN401
    page.goto(url, wait_until="load")
    page.locator("#message-box").wait_for(timeout=60_000)
    page.wait_for_function("() => document.querySelector('#conversation .conversation')", timeout=60_000)


def send(page: Any, text: str) -> None:  # noqa: ANN401
    page.locator("#message-box").fill(text)
    page.locator("#composer button.send").click()


def wait_for_cards(page: Any) -> list[str]:  # noqa: ANN401
    page.locator(".cards.live .card").first.wait_for(timeout=60_000)
    page.wait_for_function(SETTLED, timeout=60_000)
    return list(page.evaluate(LIVE_TITLES))


def axe_violations(page: Any) -> list[dict[str, Any]]:  # noqa: ANN401
    """axe-core's WCAG 2.1 A/AA and best-practice findings on the page as it is now."""
    assert AXE.exists(), "axe-core is missing: run `npm ci --prefix tests/ui` (scripts/test.sh does)"
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                                          'best-practice']});
        return result.violations.map(v => ({id: v.id, impact: v.impact,
                                            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""")
    return list(found)


def test_greeting_offers_examples_and_a_message_shows_at_once_with_a_typing_indicator(app_url: str) -> None:
    with chromium_page(app_url) as page:
        greeting = page.locator("#conversation .greeting")
        assert "Tell me what you'd like to watch" in greeting.inner_text()
        assert page.locator("button.example").count() == 3
        assert "why #2?" in greeting.inner_text() and "tell me about Fargo" in greeting.inner_text()
        page.evaluate("""() => { window.seen = {bubble: false, typing: false};
            new MutationObserver(() => {
                if (document.querySelector('#conversation .msg.user')) { window.seen.bubble = true; }
                if (document.querySelector('#conversation .typing')) { window.seen.typing = true; }
            }).observe(document.querySelector('#conversation'), {childList: true, subtree: true}); }""")
        example = page.locator("button.example").nth(2).inner_text()
        page.locator("button.example").nth(2).click()
        page.wait_for_function("() => window.seen.bubble && window.seen.typing", timeout=10_000)
        assert page.locator(".cards.live").count() == 0 or page.evaluate("() => window.seen.typing")
        titles = wait_for_cards(page)
        assert len(titles) == 5 and page.locator("#conversation .typing").count() == 0
        assert page.locator("#conversation .msg.user").first.inner_text().endswith(example)
        assert page.locator("#conversation .greeting").count() == 0


def test_feedback_on_one_card_changes_that_card_only(app_url: str) -> None:
    with chromium_page(app_url) as page:
        send(page, "a crime thriller from the 90s")
        before = wait_for_cards(page)
        assert all(t.startswith(f"#{i + 1} ") for i, t in enumerate(before))
        page.locator(".cards.live .card").first.locator("button.fb-dislike").click()
        page.wait_for_function("t => { const h = document.querySelector('.cards.live .card h2');"
                               " return h && !h.innerText.includes(t); }", arg=before[0], timeout=60_000)
        page.wait_for_function(SETTLED, timeout=60_000)
        after = page.evaluate(LIVE_TITLES)
        assert after[1:] == before[1:] and after[0] != before[0]
        rejected = before[0].split(" ", 1)[1].rsplit(" (", 1)[0]
        assert f"Not for me: {rejected}." in page.locator("#conversation").inner_text()
        like = page.locator(".cards.live .card").nth(2).locator("button.fb-like")
        assert like.get_attribute("aria-pressed") == "false"
        like.click()
        page.wait_for_function("() => document.querySelectorAll('.cards.live button.fb-like[aria-pressed=true]')"
                               ".length === 1", timeout=60_000)
        page.wait_for_function(SETTLED, timeout=60_000)
        assert page.evaluate(LIVE_TITLES) == after  # a like keeps every card
        pressed = page.locator(".cards.live .card").nth(2).locator("button.fb-like")
        assert pressed.get_attribute("aria-pressed") == "true" and "Liked" in pressed.inner_text()


def test_the_conversation_survives_a_reload_and_an_app_restart(real_service) -> None:  # noqa: ANN001
    port = free_port()
    with browser() as launched:
        page = launched.new_context(viewport=DESKTOP).new_page()
        with serve(port=port) as url:
            open_app(page, url)
            send(page, "a western")
            titles = wait_for_cards(page)
            page.reload()
            open_app(page, url)
            assert wait_for_cards(page) == titles
            assert "a western" in page.locator("#conversation .msg.user").first.inner_text()
        with serve(port=port) as url:  # the same address after a restart: the page's storage still holds it
            open_app(page, url)
            assert wait_for_cards(page) == titles
            send(page, "why #2?")
            page.wait_for_function("t => document.querySelector('#conversation').innerText.includes('#2, ' + t)",
                                   arg=titles[1].split(" ", 1)[1], timeout=60_000)


def test_new_conversation_starts_afresh_and_a_user_switch_says_so(app_url: str) -> None:
    with chromium_page(app_url) as page:
        send(page, "a comedy")
        wait_for_cards(page)
        page.locator("#new-conversation").click()
        page.locator("#conversation .greeting").wait_for(timeout=30_000)
        send(page, "why #2?")
        page.wait_for_function("() => document.querySelector('#conversation').innerText"
                               ".includes(\"haven't recommended anything yet\")", timeout=60_000)
        picker = page.locator("#user-picker input")
        picker.click()
        picker.press("Control+a")
        picker.press_sequentially("405")
        page.locator("#user-picker li[role=option][aria-label='405']").click()
        notice = page.locator("#conversation .notice")
        notice.wait_for(timeout=30_000)
        assert "You switched to MovieLens user 405, so this is a new conversation" in notice.inner_text()
        assert page.locator("#conversation .msg").count() == 0 and page.locator("#conversation .greeting").count()


def test_the_message_box_refuses_empty_and_oversized_messages(app_url: str) -> None:
    with chromium_page(app_url) as page:
        button, counter = page.locator("#composer button.send"), page.locator("#message-count")
        assert button.is_disabled() and counter.inner_text() == "0 / 1,000"
        page.locator("#message-box").fill("   ")
        page.locator("#message-box").press("Enter")
        assert button.is_disabled()
        page.locator("#message-box").fill("x" * 1200)
        assert button.is_disabled() and counter.inner_text() == "1,200 / 1,000: 200 too many"
        assert page.locator("#message-box").get_attribute("aria-invalid") == "true"
        page.locator("#message-box").press("Enter")
        page.wait_for_timeout(500)
        assert page.locator("#conversation .msg").count() == 0  # nothing was posted
        page.locator("#message-box").fill("a 70s thriller")
        assert button.is_enabled() and counter.inner_text() == "14 / 1,000"


def test_a_persons_text_is_shown_as_plain_text_and_nothing_is_fetched(app_url: str) -> None:
    with chromium_page(app_url) as page:
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url))
        text = "<img src=http://example.invalid/x.png onerror=window.hit=1> **bold** ${1+1} `code` {{x}}"
        send(page, text)
        page.locator("#conversation .msg.assistant:not(.typing)").first.wait_for(timeout=60_000)
        bubble = page.locator("#conversation .msg.user .text").first
        assert bubble.inner_text() == text
        assert page.locator("#conversation img, #conversation strong.bold, #conversation .msg.user strong").count() == 0
        assert page.evaluate("() => window.hit === undefined")
        assert not [u for u in fetched if "example.invalid" in u]


def test_the_turns_internals_sit_behind_details(app_url: str) -> None:
    with chromium_page(app_url) as page:
        send(page, "a musical")
        wait_for_cards(page)
        assert not page.locator("#status").is_visible()
        page.locator("#details").get_by_text("Details").click()
        status = page.locator("#status")
        status.wait_for(state="visible", timeout=10_000)
        assert "provider: offline" in status.inner_text() and "intent: recommend" in status.inner_text()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop-1280", "phone-390"])
def test_cards_come_with_their_reply_and_pass_axe(app_url: str, viewport: dict[str, int]) -> None:
    with chromium_page(app_url, viewport) as page:
        assert axe_violations(page) == []
        send(page, "a smart 90s sci-fi movie, nothing too violent")
        wait_for_cards(page)
        reply = page.locator("#conversation .msg.assistant").last.bounding_box()
        first_card = page.locator(".cards.live .card").first.bounding_box()
        assert 0 <= first_card["y"] - (reply["y"] + reply["height"]) < 40  # right under the reply
        for button in page.locator(".cards.live button, button.example, #composer button").all():
            box = button.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44, button.get_attribute("aria-label")
        labels = page.locator(".cards.live button.fb").evaluate_all("bs => bs.map(b => b.getAttribute('aria-label'))")
        assert labels[0].startswith("Like: ") and labels[2].startswith("Not for me: ")
        assert axe_violations(page) == [], json.dumps(axe_violations(page), indent=1)


def test_profile_panel_shows_what_the_system_believes(user_app_url: str) -> None:
    with chromium_page(user_app_url) as page:
        panel = page.locator("#profile-panel").first
        assert not page.locator("#profile-body").first.is_visible()  # collapsed until asked for
        panel.get_by_text("What convrec believes about you").first.click()
        body = page.locator("#profile-body").first
        body.wait_for(state="visible", timeout=30_000)
        text = body.inner_text()
        assert "Lately (weight 0." in text and "Most recently (January 1998) watched" in text
        assert "Over the years (weight 0." in text and "Has rated 737 films" in text
        assert "MovieLens user 405's ratings" in page.locator("#conversation .greeting").inner_text()


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
        with serve(env_extra=env) as url, chromium_page(url) as page:
            send(page, "a crime thriller from the 90s")
            page.wait_for_function("() => document.querySelector('#conversation').innerText.includes('Here are five')",
                                   timeout=60_000)
            assert page.locator("#conversation .msg.streaming").count() == 1  # caught mid-stream: the reply grows
            assert "which I think you will like." not in page.locator("#conversation").inner_text()
            wait_for_cards(page)
            page.wait_for_function("() => document.querySelector('#conversation').innerText.includes('you will like.')",
                                   timeout=60_000)
            page.locator("#details").get_by_text("Details").click()
            assert "provider: openai (scripted-model)" in page.locator("#status").inner_text(timeout=10_000)
