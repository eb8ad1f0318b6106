"""Node update_preferences: fold this message's slots into the conversation's preferences."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from convrec.core.llm import PreferenceUpdate

from ..context import AgentContext
from ..state import AgentState, Preferences


def _resolve_ranks(ranks: list[int], previous: list[int]) -> list[int]:
    return [previous[r - 1] for r in ranks if 1 <= r <= len(previous)]


def merge(prefs: Preferences, update: PreferenceUpdate, previous_years: list[int]) -> Preferences:
    """Newest statement wins for each bound or genre; likes and moods accumulate."""
    merged: dict[str, Any] = {key: list(value) if isinstance(value, list) else value
                              for key, value in prefs.items()}
    unwanted = list(dict.fromkeys(merged.get("genres_unwanted", []) + update.genres_unwanted))
    unwanted = [g for g in unwanted if g not in update.genres_wanted]
    wanted = update.genres_wanted or merged.get("genres_wanted", [])
    if update.genres_additive:
        wanted = list(dict.fromkeys(merged.get("genres_wanted", []) + update.genres_wanted))
    merged["genres_wanted"] = [g for g in wanted if g not in unwanted]
    if update.genres_wanted:
        merged["genres_match"] = update.genres_match
    merged["genres_unwanted"] = unwanted
    if update.year_min is not None or update.year_max is not None:
        merged["year_min"], merged["year_max"] = update.year_min, update.year_max
    moods = [m for m in update.moods if m not in {"older", "newer"}]
    if "older" in update.moods and previous_years:
        merged["year_max"], merged["year_min"] = min(previous_years) - 1, None
    if "newer" in update.moods and previous_years:
        merged["year_min"], merged["year_max"] = max(previous_years) + 1, None
    if moods:
        merged["moods"] = moods
        merged["mood_genres_boost"] = update.mood_genres_boost
        merged["mood_genres_penalty"] = update.mood_genres_penalty
    if update.keywords:
        merged["keywords"] = update.keywords
    merged["liked_items"] = list(dict.fromkeys(merged.get("liked_items", []) + update.liked_items))
    return merged  # type: ignore[return-value]


def update_preferences(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Merge slots, resolve "#2"-style references and record rejections."""
    update = PreferenceUpdate(**state.get("understanding", {}))
    previous = [int(card["item_id"]) for card in state.get("last_recommendations", [])]
    update.liked_items += _resolve_ranks(update.liked_ranks, previous)
    rejected_now = (update.disliked_items + update.seen_items
                    + _resolve_ranks(update.rejected_ranks + update.seen_ranks, previous))
    years = [card["year"] for card in state.get("last_recommendations", []) if card.get("year")]
    prefs = merge(state.get("prefs", {}), update, years)
    prefs["liked_items"] = [i for i in prefs.get("liked_items", []) if i not in rejected_now]
    rejected = list(dict.fromkeys(state.get("rejected", []) + rejected_now))
    return {"prefs": prefs, "rejected": rejected,
            "understanding": {**state.get("understanding", {}), "wants_surprise": update.wants_surprise}}


def needs_question(state: AgentState, allowed: bool = True) -> bool:
    """Ask first when nothing is known: no stated wish, no history, no earlier answer, no question yet."""
    if not allowed:
        return False
    prefs = state.get("prefs", {})
    stated = any(prefs.get(key) for key in ("genres_wanted", "genres_unwanted", "year_min", "year_max",
                                             "moods", "liked_items", "keywords"))
    return not (stated or state.get("user_id") is not None or state.get("last_recommendations")
                or state.get("rejected") or state.get("questions_asked", 0) > 0
                or state.get("understanding", {}).get("wants_surprise"))
