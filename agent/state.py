"""The conversation state that the graph checkpoints: items travel by id, reducers sit beside fields.

Fields marked per-turn are reset by the service on every new message; the rest accumulate over the
conversation and survive restarts through the SQLite checkpointer.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


class Message(TypedDict, total=False):
    """One chat message; assistant messages carry the picks they showed."""

    role: str  # "user" | "assistant"
    content: str
    recommendations: list[dict[str, Any]]
    intent: str


class Preferences(TypedDict, total=False):
    """What the person has asked for so far; hard constraints filter, the rest reorders."""

    genres_wanted: list[str]
    genres_unwanted: list[str]
    genres_match: str  # "all" (a romantic comedy) or "any" (comedy or drama)
    year_min: int | None
    year_max: int | None
    years_excluded: list[list[int]]  # inclusive [low, high] ranges ruled out ("not from the 90s")
    moods: list[str]
    mood_genres_boost: list[str]
    mood_genres_penalty: list[str]
    liked_items: list[int]
    keywords: list[str]
    mentions: list[dict[str, Any]]  # every film named so far: key, item_id (None: not in the catalogue), title,
    # year, stance; the conversation prior reads them all, out-of-catalogue films included


class AgentState(TypedDict, total=False):
    """Everything one conversation carries from turn to turn."""

    # conversation-long
    messages: Annotated[list[Message], operator.add]
    user_id: int | None
    prefs: Preferences
    shown: list[int]  # every item shown in this conversation
    rejected: list[int]  # turned down or already seen: never shown again
    last_recommendations: list[dict[str, Any]]  # the previous answer's cards, for "why #2?"
    questions_asked: int
    turns: int
    # per-turn (reset by the service on each message)
    message: str
    feedback: dict[str, Any] | None  # {"item_id": int, "kind": "like" | "seen" | "dislike"}
    top_n: int
    intent: str
    understanding: dict[str, Any]
    constraints_note: list[str]
    candidates: list[dict[str, Any]]  # {"item_id", "similarity"}
    no_match_reason: str
    scored: list[dict[str, Any]]  # candidates with "personal", "popularity", "preference"
    picks: list[int]
    recommendations: list[dict[str, Any]]  # this turn's cards: item_id, title, year, genres, reasons
    notes: list[str]  # sentences this turn's reply must carry (a request started afresh, ...)
    reply: str


PER_TURN_RESET: AgentState = {
    "feedback": None, "intent": "", "understanding": {}, "constraints_note": [], "candidates": [],
    "no_match_reason": "", "scored": [], "picks": [], "recommendations": [], "notes": [], "reply": "",
}
