"""Node update_preferences: fold this message's slots into the conversation's preferences.

A turn either starts a new request or works on the current one. A new request ("now something like Heat")
clears what the last request asked for (wanted genres, era, moods, keywords, the films to go from) and keeps
what the person ruled out (unwanted genres, excluded years, films seen or rejected): a hard "no" stands until
it is lifted. Any other turn merges into the current request.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from ..context import AgentContext
from ..schemas import PreferenceUpdate
from ..state import AgentState, Preferences

REQUEST_KEYS = ("genres_wanted", "genres_match", "year_min", "year_max", "moods", "mood_genres_boost",
                "mood_genres_penalty", "keywords", "liked_items", "mentions")
"""What a request asks for; a new request starts these afresh (exclusions are not among them)."""
STARTING_STANCES = ("liked", "not_seen", "neutral", "asked")
"""Stances of a named film that make it a film to go from ("like Heat", "I want to see Heat")."""


def _resolve_ranks(ranks: list[int], previous: list[int]) -> list[int]:
    return [previous[r - 1] for r in ranks if 1 <= r <= len(previous)]


def starts_new_request(intent: str, update: PreferenceUpdate, prefs: Preferences) -> bool:
    """Whether this turn replaces the current request.

    It does when the provider says so, or when a `recommend` turn, while an earlier request is on record, names films to
    go from ("I loved Heat, something like it") or asks for genres the current request does not have ("a western now").
    A turn that only adds an era, a mood or an exclusion ("something from the 90s, please", "not so dark") works on the
    current request.
    """
    if update.new_request is not None:
        return update.new_request
    if intent != "recommend" or update.genres_additive or not any(prefs.get(key) for key in REQUEST_KEYS):
        return False
    names_films = bool(update.liked_items) or any(m.stance in STARTING_STANCES for m in update.mentions)
    new_genres = bool(update.genres_wanted) and not set(update.genres_wanted) & set(prefs.get("genres_wanted", []))
    return names_films or new_genres


def merge(prefs: Preferences, update: PreferenceUpdate, previous_years: list[int], *,
          new_request: bool = False) -> Preferences:
    """Newest statement wins for each bound or genre; likes, mentions and exclusions accumulate."""
    merged: dict[str, Any] = {key: list(value) if isinstance(value, list) else value
                              for key, value in prefs.items() if not (new_request and key in REQUEST_KEYS)}
    unwanted = list(dict.fromkeys(merged.get("genres_unwanted", []) + update.genres_unwanted))
    unwanted = [g for g in unwanted if g not in update.genres_wanted]
    wanted = update.genres_wanted or merged.get("genres_wanted", [])
    if update.genres_additive:
        wanted = list(dict.fromkeys(merged.get("genres_wanted", []) + update.genres_wanted))
    merged["genres_wanted"] = [g for g in wanted if g not in unwanted]
    if update.genres_wanted:
        # "it should be drama too" asks for films that are both; "I also like comedies and thrillers" (a taste,
        # or several genres) for more genres to choose from: the message's own reading says which
        merged["genres_match"] = update.genres_match
    merged["genres_unwanted"] = unwanted
    if update.year_min is not None or update.year_max is not None:
        merged["year_min"], merged["year_max"] = update.year_min, update.year_max
    excluded = [list(r) for r in merged.get("years_excluded", [])]
    for low, high in update.years_excluded:
        if [low, high] not in excluded:
            excluded.append([int(low), int(high)])
    merged["years_excluded"] = excluded
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
    mentions = list(merged.get("mentions", []))
    for mention in update.mentions:
        record = mention.model_dump()
        mentions = [m for m in mentions if (m.get("item_id"), m.get("title")) != (record["item_id"], record["title"])]
        mentions.append(record)
    merged["mentions"] = mentions
    return merged  # type: ignore[return-value]


def update_preferences(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Merge slots (as a new request or into the current one), resolve "#2"-style references, record rejections."""
    update = PreferenceUpdate(**state.get("understanding", {}))
    if state.get("intent") == "feedback" and _outside(update, runtime.context.catalogue.year_range):
        update.year_min = update.year_max = None  # "it's a 2018 movie": a reaction describing a film, not a wish
    previous = [int(card["item_id"]) for card in state.get("last_recommendations", [])]
    update.liked_items += _resolve_ranks(update.liked_ranks, previous)
    rejected_now = (update.disliked_items + update.seen_items
                    + _resolve_ranks(update.rejected_ranks + update.seen_ranks, previous))
    years = [card["year"] for card in state.get("last_recommendations", []) if card.get("year")]
    fresh = starts_new_request(state.get("intent", ""), update, state.get("prefs", {}))
    prefs = merge(state.get("prefs", {}), update, years, new_request=fresh)
    prefs["liked_items"] = [i for i in prefs.get("liked_items", []) if i not in rejected_now]
    rejected = list(dict.fromkeys(state.get("rejected", []) + rejected_now))
    understanding = {**state.get("understanding", {}), "wants_surprise": update.wants_surprise, "new_request": fresh}
    ask = needs_question({**state, "prefs": prefs, "rejected": rejected, "understanding": understanding},
                         runtime.context.options.elicit)
    return {"prefs": prefs, "rejected": rejected, "understanding": {**understanding, "ask_first": ask}}


def _outside(update: PreferenceUpdate, year_range: tuple[int, int]) -> bool:
    """Whether the years this message states lie wholly outside the catalogue's."""
    first, last = year_range
    low, high = update.year_min, update.year_max
    return (low is not None and low > last) or (high is not None and high < first)


def needs_question(state: AgentState, allowed: bool = True) -> bool:
    """Ask first when nothing is known: no stated wish, no history, no earlier answer, no question yet."""
    if not allowed:
        return False
    prefs = state.get("prefs", {})
    stated = any(prefs.get(key) for key in ("genres_wanted", "genres_unwanted", "year_min", "year_max",
                                             "years_excluded", "moods", "liked_items", "keywords", "mentions"))
    return not (stated or state.get("user_id") is not None or state.get("last_recommendations")
                or state.get("rejected") or state.get("questions_asked", 0) > 0
                or state.get("understanding", {}).get("wants_surprise"))
