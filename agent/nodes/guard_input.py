"""Node guard_input: clean the message and turn away empty, oversized or unreadable input politely."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from langgraph.runtime import Runtime

from ..context import AgentContext
from ..state import AgentState

_SPACES = re.compile(r"\s+")
_TAGS = re.compile(r"</?[A-Za-z][^<>]{0,200}>")


def clean_message(raw: str) -> str:
    """Drop control and format characters and markup tags, keep ordinary whitespace, and collapse runs of spaces.

    Markup tags go because a pasted `<script>` is not a request.
    """
    kept = "".join(ch if ch in "\t\n " or unicodedata.category(ch)[0] != "C" else " " for ch in raw)
    return _SPACES.sub(" ", _TAGS.sub(" ", kept)).strip()


def readable(text: str) -> bool:
    """Whether the text holds at least one word (or is a bare pick number like "#2")."""
    return bool(re.search(r"[^\W\d_]{2,}", text)) or bool(re.fullmatch(r"#?\s*\d{1,2}\s*\??", text))


def guard_input(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Validate the incoming message; on a problem, set the reply and mark the turn invalid."""
    settings = runtime.context.settings
    if state.get("feedback"):
        return {}
    if state.get("turns", 0) >= settings.max_turns:
        return _invalid(f"This conversation has reached its limit of {settings.max_turns} turns. "
                        "Please start a new conversation.")
    raw = state.get("message", "") or ""
    if len(raw) > settings.max_message_chars:
        return _invalid(f"That message is {len(raw):,} characters long; the limit is "
                        f"{settings.max_message_chars:,}. Please say it more briefly.")
    text = clean_message(raw)
    if not text:
        return _invalid("Your message was empty. Tell me what you'd like to watch: a genre, an era, a mood, "
                        "or a film you liked.")
    if not readable(text):
        return _invalid("I couldn't read that. Tell me in words what you'd like to watch.")
    return {"message": text}


def _invalid(reply: str) -> dict[str, Any]:
    return {"intent": "invalid", "reply": reply}
