"""Offline understanding: intent from the trained classifier, slots from the lexicons, and the few
consistency rules that a classifier cannot know (no "why" before anything was recommended)."""

from __future__ import annotations

import re
from collections.abc import Callable

from convrec.core.catalogue import Catalogue
from convrec.core.llm import PreferenceUpdate, Understanding, UnderstandRequest

from .slots import extract_preferences, title_span_guess

IntentPredictor = Callable[[list[str]], list[tuple[str, float]]]

_WHY_OPENING = re.compile(r"^\s*(why|explain|how come|what makes)\b", re.IGNORECASE)


def understand(request: UnderstandRequest, catalogue: Catalogue, predict: IntentPredictor) -> Understanding:
    """Classify and parse one message."""
    intent, confidence = predict([request.message])[0]
    prefs = extract_preferences(request.message, catalogue, request.previous_picks)
    has_picks = bool(request.previous_picks)
    if _WHY_OPENING.match(request.message) and has_picks and (prefs.asked_rank or prefs.subject_item):
        intent = "why"
    if intent == "why" and not has_picks and _states_wishes(prefs):
        intent = "recommend"  # "Maybe mystery?" before any picks: nothing to explain, a wish to act on
    if intent == "why" and not (prefs.asked_rank or prefs.subject_item) and has_picks:
        prefs.asked_rank = 1 if len(request.previous_picks) == 1 else None
    if intent == "refine" and not has_picks:
        intent = "recommend"
    if intent == "item_question" and prefs.subject_item is None:
        prefs.unknown_title = title_span_guess(request.message)
        if prefs.unknown_title is None and _states_wishes(prefs):
            intent = "refine" if has_picks else "recommend"  # "released after 2030": a wish, not a title
    if intent in {"recommend", "refine"} and prefs.subject_item is not None and not (
            prefs.liked_items or prefs.disliked_items or prefs.seen_items):
        prefs.liked_items.append(prefs.subject_item)
    # Mid-conversation, a message naming genres, years or moods refines the picks ("it should be war too"),
    # whatever the classifier makes of the words; before any picks, only when the classifier is unsure.
    wishing = _states_wishes(prefs) and (has_picks or confidence < 0.5)
    if intent in {"chitchat", "out_of_scope"} and (prefs.wants_surprise or wishing):
        intent = "refine" if has_picks else "recommend"
    return Understanding(intent=intent, confidence=round(float(confidence), 4), prefs=prefs)


def _states_wishes(prefs: PreferenceUpdate) -> bool:
    """Whether the message names genres, years, moods or liked films: the marks of a request."""
    return bool(prefs.genres_wanted or prefs.genres_unwanted or prefs.liked_items or prefs.moods
                or prefs.year_min is not None or prefs.year_max is not None)
