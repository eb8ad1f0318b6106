"""The page's HTML without a browser: text stays text, cards sit under their reply, the checks the page repeats."""

from pathlib import Path

import pytest

from convrec.core.errors import UserError
from convrec.ui.app import ANONYMOUS, browser_secret, message_problem, parse_user, switch_notice
from convrec.ui.view import View, card_html, plain, render, without_card_lines

HEAT = {"item_id": 7, "title": "Heat", "year": 1995, "genres": ["Action", "Crime"], "reasons": ["Rated 3.9/5."]}
FARGO = {"item_id": 8, "title": "Fargo", "year": 1996, "genres": ["Crime"], "reasons": ["Crime, as you asked."]}
ASKED = {"role": "user", "content": "a crime film"}
ANSWER = {"role": "assistant", "content": "Here are 2 picks:", "recommendations": [HEAT, FARGO]}


def test_plain_keeps_text_inert_for_html_and_for_the_template_engine() -> None:
    assert plain("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert plain("${1+1} `x` \\n {{y}}") == "&#36;&#123;1+1&#125; &#96;x&#96; &#92;n &#123;&#123;y&#125;&#125;"
    assert plain("**bold** 'q'") == "**bold** &#x27;q&#x27;"  # Markdown is not rendered: it is just text


def test_a_new_conversation_opens_with_a_greeting_and_three_examples() -> None:
    page = render(View())
    assert page.count("class='example'") == 3 and "why #2?" in page and "tell me about Fargo" in page
    assert "MovieLens user 405" in render(View(user_label="405"))
    assert "greeting" not in render(View(messages=[ASKED, ANSWER]))


def test_a_pending_message_shows_at_once_with_a_typing_indicator_then_the_draft() -> None:
    waiting = render(View(pending="a <b>western</b>"))
    assert "a &lt;b&gt;western&lt;/b&gt;" in waiting and "typing" in waiting and "greeting" not in waiting
    drafting = render(View(pending="a western", draft="Here are"))
    assert "msg assistant streaming" in drafting and "typing" not in drafting


def test_cards_sit_under_their_reply_and_only_the_latest_take_feedback() -> None:
    later = {"role": "assistant", "content": "One more:", "recommendations": [FARGO]}
    page = render(View(messages=[ASKED, ANSWER, {"role": "user", "content": "more"}, later]))
    assert page.index("Here are 2 picks:") < page.index("earlier picks: Heat, Fargo") < page.index("One more:")
    assert page.count("class='cards live'") == 1 and page.index("One more:") < page.index("class='cards live'")
    assert page.count("data-kind='dislike'") == 1  # the earlier answer's cards are history: no buttons
    busy = render(View(messages=[ASKED, ANSWER], pending="Not for me: Heat."))
    assert busy.count(" disabled") == 6  # both cards stay on screen while the turn runs, their buttons off


def test_a_card_has_real_labelled_buttons_and_shows_a_like() -> None:
    card = card_html({**HEAT, "feedback": "like"}, 1, 3, live=True)
    assert card.count("<button type='button'") == 3
    assert "aria-label='Liked: Heat (1995)'" in card and "aria-pressed='true'" in card
    assert "aria-label='Not for me: Heat (1995)'" in card and "data-item='7'" in card
    assert "<h2 id='card-title-3-1'><span class='rank'>#1</span> Heat" in card


def test_message_problem_matches_the_page() -> None:
    assert message_problem("  \n", 1000) == "Type a message first."
    assert message_problem("x" * 1001, 1000) == ("That message is 1,001 characters long; the limit is 1,000. "
                                                 "Please say it more briefly.")
    assert message_problem("a western", 1000) is None


def test_switch_notice() -> None:
    assert switch_notice(ANONYMOUS, "405").startswith("You switched to MovieLens user 405, so this is a new "
                                                      "conversation: picks now come from their ratings")
    assert switch_notice("405", ANONYMOUS).endswith("The conversation you had as MovieLens user 405 is closed.")


def test_browser_secret_is_made_once_and_kept(tmp_path: Path) -> None:
    first = browser_secret(tmp_path / "data")
    assert len(first) >= 24 and browser_secret(tmp_path / "data") == first
    assert (tmp_path / "data" / "ui-secret").stat().st_mode & 0o777 == 0o600


def test_parse_user() -> None:
    assert parse_user(ANONYMOUS) is None and parse_user(None) is None
    assert parse_user("42") == 42
    with pytest.raises(UserError):
        parse_user("forty-two")


def test_the_reply_does_not_list_the_titles_its_cards_show() -> None:
    text = "Here are 2 picks (Crime):\n1. Heat (1995)\n2. Fargo (1996)\nTell me if you've seen any."
    assert without_card_lines(text, [HEAT, FARGO]) == "Here are 2 picks (Crime):\nTell me if you've seen any."
    assert without_card_lines("1. Heat (1995)\n2. Casino (1995)", [HEAT]) == "2. Casino (1995)"  # only the cards
    page = render(View(messages=[ASKED, {**ANSWER, "content": text}]))
    assert "1. Heat (1995)" not in page and "#1</span> Heat" in page
