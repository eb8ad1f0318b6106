"""Turn accumulated preferences into hard constraints, soft scores and the words that describe them."""

from __future__ import annotations

from typing import Any

import numpy as np

from convrec.core.catalogue import Catalogue, Item
from convrec.retrieval.query import Constraints
from convrec.training.conversation_prior import ConversationPrior, mention_key

from .state import AgentState, Preferences

# What a mood means as searchable words: "light" alone embeds close to titles with "light" in them.
MOOD_QUERY_WORDS = {
    "light": "funny feel-good comedy", "dark": "dark gritty crime thriller", "smart": "intelligent thought-provoking",
    "scary": "scary horror", "exciting": "exciting action adventure", "violent": "violent action",
    "moving": "moving emotional drama", "romantic": "romantic love story", "classic": "classic",
    "recent": "", "older": "", "newer": "",
}


STANCE_WEIGHTS = {"liked": 1.0, "not_seen": 0.7, "neutral": 0.5, "asked": 0.5, "seen": 0.5, "disliked": 0.0}
"""How much a named film pulls the films named with it in real dialogues, by the person's stance towards it."""


def constraints_of(state: AgentState, catalogue: Catalogue, *, min_ratings: int = 0) -> Constraints:
    """Hard constraints: stated years and genres, and the items to leave out.

    Every item shown, seen, rejected or named before is left out (a known user's rated history counts as seen),
    and so is every film with fewer than `min_ratings` MovieLens ratings (`Settings.min_ratings_to_recommend`):
    a handful of raters is no evidence that a film is worth watching. A film the person names is answered about
    whatever its count (item questions do not go through these constraints).
    """
    prefs = state.get("prefs", {})
    # Films the person named are known to them (liked, seen, asked about): recommend others.
    named = {int(m["item_id"]) for m in prefs.get("mentions", []) if m.get("item_id") is not None}
    excluded = (set(state.get("shown", [])) | set(state.get("rejected", [])) | set(prefs.get("liked_items", []))
                | named | catalogue.rated_fewer_than(min_ratings))
    user_id = state.get("user_id")
    if user_id is not None:
        excluded |= {int(i) for i in catalogue.history(user_id)["item_id"]}
    return Constraints(
        year_min=prefs.get("year_min"),
        year_max=prefs.get("year_max"),
        years_excluded=tuple((int(low), int(high)) for low, high in prefs.get("years_excluded", [])),
        genres_any=tuple(prefs.get("genres_wanted", [])) if prefs.get("genres_match") == "any" else (),
        genres_all=tuple(prefs.get("genres_wanted", [])) if prefs.get("genres_match", "all") == "all" else (),
        genres_none=tuple(prefs.get("genres_unwanted", [])),
        exclude_ids=tuple(sorted(excluded)),
    )


def describe(prefs: Preferences) -> list[str]:
    """Short phrases for the constraints in force, e.g. ["Sci-Fi", "1990-1999", "no Horror"]."""
    notes = []
    if prefs.get("genres_wanted"):
        joiner = " or " if prefs.get("genres_match") == "any" else " and "
        notes.append(joiner.join(prefs["genres_wanted"]))
    low, high = prefs.get("year_min"), prefs.get("year_max")
    if low and high:
        notes.append(f"{low}-{high}" if low != high else f"from {low}")
    elif low:
        notes.append(f"from {low} on")
    elif high:
        notes.append(f"up to {high}")
    for excluded_low, excluded_high in prefs.get("years_excluded", []):
        notes.append(f"not {excluded_low}-{excluded_high}" if excluded_low != excluded_high else f"not {excluded_low}")
    if prefs.get("genres_unwanted"):
        notes.append("no " + ", ".join(prefs["genres_unwanted"]))
    moods = [m for m in prefs.get("moods", []) if m not in {"older", "newer"}]
    if moods:
        notes.append(", ".join(moods))
    return notes


def preference_score(item: Item, prefs: Preferences, quality: float, liked_genres: frozenset[str] = frozenset(),
                     genre_idf: dict[str, float] | None = None) -> float:
    """Soft match in -1..1.

    It counts mood genres favoured or avoided, genres shared with films the person named ("something like Heat"), extra
    wanted genres and era leanings.
    """
    genres = set(item.genres)
    boost = set(prefs.get("mood_genres_boost", []))
    penalty = set(prefs.get("mood_genres_penalty", []))
    wanted = set(prefs.get("genres_wanted", []))
    score = 0.0
    if boost:
        score += 0.5 * min(len(genres & boost), 2) / min(len(boost), 2)
    if penalty:
        score -= 0.6 * min(len(genres & penalty), 2) / 2
    if len(wanted) > 1:
        score += 0.3 * len(genres & wanted) / len(wanted)
    if liked_genres:
        # Share of the named films' genre weight that this item carries; rare genres (Film-Noir, Crime)
        # count for more than Drama, which 43% of films have.
        idf = genre_idf or {}
        total = sum(idf.get(g, 1.0) for g in liked_genres)
        shared = sum(idf.get(g, 1.0) for g in genres & liked_genres) / total if total else 0.0
        score += 0.9 * shared - (0.4 if shared < 0.34 else 0.0)
    moods = set(prefs.get("moods", []))
    if "smart" in moods:
        score += 0.3 * quality
    if item.year:
        if "classic" in moods and item.year < 1980:
            score += 0.3
        if "recent" in moods and item.year >= 1994:
            score += 0.3
    return max(-1.0, min(1.0, score))


def query_text(prefs: Preferences, message: str, liked_titles: list[str]) -> str:
    """Compose the retrieval query from what is wanted, leaving out negated words ("nothing violent")."""
    parts = []
    if prefs.get("genres_wanted"):
        parts.append(" ".join(prefs["genres_wanted"]) + " film")
    for mood in prefs.get("moods", []):
        parts.append(MOOD_QUERY_WORDS.get(mood, mood) if not mood.startswith("not ") else "")
    parts += prefs.get("keywords", [])[-8:]
    if liked_titles:
        parts.append("like " + ", ".join(liked_titles))
    parts = [p for p in parts if p]
    return ". ".join(parts) if parts else message


def conversation_scores(prior: ConversationPrior | None, prefs: Preferences, co_weight: float) -> np.ndarray | None:
    """How likely a person in a real dialogue would be recommended each item (columns of the prior).

    The score is how often people recommend it in conversation, plus how often it is named beside the films this person
    named (weighted by their stance; films outside the catalogue count too). None without a prior.
    """
    if prior is None:
        return None
    scores = prior.popularity().astype(np.float64)
    mentions = prefs.get("mentions", [])
    if mentions and co_weight:
        keys = [mention_key(m.get("item_id"), m.get("title", ""), m.get("year")) for m in mentions]
        weights = [STANCE_WEIGHTS.get(m.get("stance", "neutral"), 0.5) for m in mentions]
        scores = scores + co_weight * prior.co_mentioned(keys, weights)
    return scores


def asked_about_known_elsewhere(prior: ConversationPrior | None, understanding: dict[str, Any]) -> bool:
    """Whether a question is about a film the catalogue lacks but real dialogues name.

    For such a question ("What about Slumdog Millionaire (2008)?"), what people recommend beside the film is worth
    showing, with the film said unknown.
    """
    if prior is None or understanding.get("subject_item") is not None:
        return False
    return any(m.get("item_id") is None and prior.knows(mention_key(None, m.get("title", ""), m.get("year")))
               for m in understanding.get("mentions", []))
