"""The conversation as HTML: messages as plain text, each answer's cards right under it, real buttons.

Everything a person or the catalogue wrote goes through `plain()`: the page shows it as text, never as markup or
Markdown, and no address in it is ever fetched. Gradio's HTML component evaluates its template as a JavaScript
template literal, so `plain()` also turns `$`, backticks, backslashes and braces into character references: text
such as "${...}" stays text.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

EXAMPLES = (
    "A smart 90s sci-fi movie, nothing too violent",
    "I loved Heat and Fargo, something similar?",
    "A feel-good comedy from the 80s",
)
ALSO_WORKS = ("\u201cseen #2\u201d", "\u201csomething lighter\u201d", "\u201cwhy #2?\u201d",
              "\u201ctell me about Fargo\u201d")
FEEDBACK = (("like", "Like", "\u2665"), ("seen", "Seen it", "\u2713"), ("dislike", "Not for me", "\u2715"))
_INERT = str.maketrans({"$": "&#36;", "`": "&#96;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"})


def plain(text: object) -> str:
    """Text as inert HTML: markup escaped, and nothing a template engine would evaluate."""
    return html.escape(str(text), quote=True).translate(_INERT)


@dataclass
class View:
    """What the conversation pane shows: the messages, and what is happening now."""

    messages: Sequence[Mapping[str, Any]] = ()
    user_label: str = "anonymous"
    pending: str | None = None  # a message sent and not answered yet: shown at once, with a typing indicator
    draft: str | None = None  # the reply so far while a model streams it
    notice: str | None = None  # a line about the conversation itself (a new one started, and why)
    examples: Sequence[str] = field(default=EXAMPLES)


def render(view: View) -> str:
    """The whole conversation pane for `view`."""
    parts = [f"<p class='notice' role='status'>{plain(view.notice)}</p>" if view.notice else ""]
    if not view.messages and view.pending is None:
        parts.append(greeting(view))
    live = _live_answer(view.messages)
    for number, message in enumerate(view.messages):
        parts.append(_message(message, number, live=number == live, busy=view.pending is not None))
    if view.pending is not None:
        parts.append(_bubble("user", view.pending))
        if view.draft:
            parts.append(_bubble("assistant", view.draft, streaming=True))
        else:
            parts.append("<div class='msg assistant typing' role='status' aria-label='convrec is typing'>"
                         "<span class='dot'></span><span class='dot'></span><span class='dot'></span></div>")
    return f"<div class='conversation' aria-live='polite'>{''.join(parts)}</div>"


def greeting(view: View) -> str:
    """The opening: what convrec does, three requests to try with one click, and what else works."""
    who = ("" if view.user_label == "anonymous" else
           f" I'll also use MovieLens user {plain(view.user_label)}'s ratings.")
    examples = "".join(f"<li><button type='button' class='example' data-text='{plain(text)}'>{plain(text)}</button>"
                       "</li>" for text in view.examples)
    return ("<section class='greeting' aria-label='Getting started'>"
            "<p><strong>Hi! Tell me what you'd like to watch</strong> and I'll suggest films from MovieLens "
            f"(1922\u20131998), each with the reasons behind it.{who}</p>"
            f"<p>Try one:</p><ul class='examples'>{examples}</ul>"
            f"<p class='also'>Then push back: {', '.join(ALSO_WORKS)}, or use the buttons on each film. "
            "Pick a MovieLens user above to get picks from their own ratings, and open \u201cWhat convrec "
            "believes about you\u201d to read the profile written from them.</p></section>")


def _live_answer(messages: Sequence[Mapping[str, Any]]) -> int | None:
    """The latest answer with films: its cards take feedback, earlier ones are history."""
    for number in range(len(messages) - 1, -1, -1):
        if messages[number].get("role") == "assistant" and messages[number].get("recommendations"):
            return number
    return None


def without_card_lines(text: str, cards: Sequence[Mapping[str, Any]]) -> str:
    """The reply without its numbered list of the cards' titles ("1. Heat (1995)").

    The cards right under it show them, with their reasons and buttons: nobody should read the same titles twice.
    """
    listed = {f"{rank}. {card.get('title', '')}" + (f" ({card['year']})" if card.get("year") else "")
              for rank, card in enumerate(cards, start=1)}
    kept = [line for line in text.splitlines() if line.strip() not in listed]
    return "\n".join(kept) if kept else text


def _message(message: Mapping[str, Any], number: int, *, live: bool, busy: bool = False) -> str:
    role = "user" if message.get("role") == "user" else "assistant"
    cards = message.get("recommendations") or []
    text = str(message.get("content", ""))
    bubble = _bubble(role, without_card_lines(text, cards) if role == "assistant" and cards else text)
    if role == "user" or not cards:
        return bubble
    if live:
        return bubble + cards_html(cards, number, live=True, busy=busy)
    titles = ", ".join(str(c.get("title", "")) for c in cards)
    return (bubble + f"<details class='earlier'><summary>{len(cards)} earlier picks: {plain(titles)}</summary>"
            f"{cards_html(cards, number, live=False)}</details>")


def _bubble(role: str, text: str, *, streaming: bool = False) -> str:
    who = "You" if role == "user" else "convrec"
    extra = " streaming" if streaming else ""
    return (f"<div class='msg {role}{extra}'><span class='sr-only'>{who}: </span>"
            f"<p class='text'>{plain(text)}</p></div>")


def cards_html(cards: Sequence[Mapping[str, Any]], number: int, *, live: bool, busy: bool = False) -> str:
    """One answer's cards; only the live answer's cards carry feedback buttons (disabled while a turn runs)."""
    body = "".join(card_html(card, rank, number, live=live, busy=busy) for rank, card in enumerate(cards, start=1))
    state = "live" if live else "past"
    return f"<ol class='cards {state}' aria-label='Recommended films'>{body}</ol>"


def card_html(card: Mapping[str, Any], rank: int, number: int, *, live: bool, busy: bool = False) -> str:
    """One card: rank, title, year, genres, the reasons, and (when live) Like / Seen it / Not for me."""
    year = f" ({card['year']})" if card.get("year") else ""
    label = f"{card.get('title', '')}{year}"
    title_id = f"card-title-{number}-{rank}"
    reasons = "".join(f"<li>{plain(reason)}</li>" for reason in card.get("reasons", []))
    genres = " \u00b7 ".join(str(g) for g in card.get("genres", []))
    buttons = ""
    if live:
        liked = card.get("feedback") == "like"
        buttons = "<div class='actions' role='group' aria-label='" + plain(f"Your verdict on {label}") + "'>"
        for kind, text, icon in FEEDBACK:
            pressed = kind == "like" and liked
            shown = "Liked" if pressed else text
            buttons += (f"<button type='button' class='fb fb-{kind}' data-kind='{kind}' "
                        f"data-item='{int(card['item_id'])}' data-rank='{rank}'{' disabled' if busy else ''} "
                        f"aria-label='{plain(f'{shown}: {label}')}'"
                        + (f" aria-pressed='{'true' if pressed else 'false'}'" if kind == "like" else "")
                        + f"><span aria-hidden='true'>{icon}</span> {shown}</button>")
        buttons += "</div>"
    return (f"<li class='card' aria-labelledby='{title_id}' data-item='{int(card['item_id'])}'>"
            f"<h2 id='{title_id}'><span class='rank'>#{rank}</span> {plain(card.get('title', ''))}"
            f"<span class='year'>{plain(year)}</span></h2>"
            f"<p class='genres'>{plain(genres)}</p><ul class='reasons'>{reasons}</ul>{buttons}</li>")


def composer_html(limit: int) -> str:
    """The message box: a labelled text area, a live character counter and a send button."""
    return ("<form class='composer' data-limit='" + str(int(limit)) + "' aria-label='Send a message'>"
            "<label class='sr-only' for='message-box'>Your message</label>"
            "<textarea id='message-box' rows='2' placeholder='Tell me what you would like to watch\u2026' "
            "aria-describedby='message-count'></textarea>"
            "<div class='composer-row'><span id='message-count' class='counter' aria-live='polite'>"
            f"0 / {int(limit):,}</span>"
            "<button type='submit' class='send' disabled>Send</button></div></form>")
