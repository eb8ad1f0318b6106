"""Turn accumulated preferences into hard constraints, soft scores and the words that describe them."""

from __future__ import annotations

from convrec.core.catalogue import Catalogue, Item
from convrec.retrieval.query import Constraints

from .state import AgentState, Preferences


def constraints_of(state: AgentState, catalogue: Catalogue) -> Constraints:
    """Hard constraints: stated years and genres, and every item shown, seen or rejected before (a known
    user's rated history counts as seen)."""
    prefs = state.get("prefs", {})
    excluded = set(state.get("shown", [])) | set(state.get("rejected", []))
    if state.get("user_id") is not None:
        excluded |= {int(i) for i in catalogue.history(state["user_id"])["item_id"]}
    return Constraints(
        year_min=prefs.get("year_min"),
        year_max=prefs.get("year_max"),
        genres_any=tuple(prefs.get("genres_wanted", [])),
        genres_none=tuple(prefs.get("genres_unwanted", [])),
        exclude_ids=tuple(sorted(excluded)),
    )


def describe(prefs: Preferences) -> list[str]:
    """Short phrases for the constraints in force, e.g. ["Sci-Fi", "1990-1999", "no Horror"]."""
    notes = []
    if prefs.get("genres_wanted"):
        notes.append(" or ".join(prefs["genres_wanted"]))
    low, high = prefs.get("year_min"), prefs.get("year_max")
    if low and high:
        notes.append(f"{low}-{high}" if low != high else f"from {low}")
    elif low:
        notes.append(f"from {low} on")
    elif high:
        notes.append(f"up to {high}")
    if prefs.get("genres_unwanted"):
        notes.append("no " + ", ".join(prefs["genres_unwanted"]))
    moods = [m for m in prefs.get("moods", []) if m not in {"older", "newer"}]
    if moods:
        notes.append(", ".join(moods))
    return notes


def preference_score(item: Item, prefs: Preferences, quality: float) -> float:
    """Soft match in -1..1: mood genres favoured or avoided, extra wanted genres, era leanings."""
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
    parts += [m for m in prefs.get("moods", []) if not m.startswith("not ") and m not in {"older", "newer"}]
    parts += prefs.get("keywords", [])[-8:]
    if liked_titles:
        parts.append("like " + ", ".join(liked_titles))
    return ". ".join(parts) if parts else message
