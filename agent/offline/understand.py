"""Offline understanding: the act, the films named with the person's stance towards each, and the other slots.

The act comes from the trained classifier, the films named and the person's stance towards each from the mention finder
and the stance model, the rest of the slots from the lexicons; and the few consistency rules a classifier cannot know
(no "why" before anything was recommended) are applied.

A film named in the message is a reference, never a constraint: its span (with any year written beside it) is
blanked before genres, eras and moods are read, so "Heat (1995)" asks for nothing from 1995.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

from convrec.core.catalogue import Catalogue
from convrec.core.intents import RECOMMENDING_INTENTS, Intent
from convrec.core.mentions import Mention, find_mentions

from ..schemas import MentionStance, PreferenceUpdate, Understanding, UnderstandRequest
from .slots import extract_preferences, title_span_guess

if TYPE_CHECKING:
    from convrec.training.stance import Source

IntentPredictor = Callable[[list[str]], list[tuple[str, float]]]
StancePredictor = Callable[[list[str], list["Source"]], list[tuple[str, float]]]
"""(texts, sources) -> (stance, probability) per text; sources are "named" or "reaction"."""

_WHY_OPENING = re.compile(r"^\s*(why|explain|how come|what makes)\b", re.IGNORECASE)
_QUESTION_ABOUT = re.compile(r"\b(tell me about|what(?:'s| is) .{0,40}about|is .{0,60} (?:any )?good|heard of|"
                             r"have you seen|did you (?:see|like|watch)|what about|who(?:'s| is) in|what year)\b",
                             re.IGNORECASE)
_ADJACENT_CUES: list[tuple[str, re.Pattern[str]]] = [
    ("not_seen", re.compile(r"\b(haven'?t|have not|never|not yet|didn'?t|did not)\s+(even\s+)?(seen|watched|saw)"
                            r"(\s+(it|the film|the movie))?\s*$", re.IGNORECASE)),
    ("disliked", re.compile(r"\b(hated|hate|disliked|dislike|didn'?t (?:really )?like|did not like|don'?t like|"
                            r"not a fan of|couldn'?t stand|not for me:?)\s*$", re.IGNORECASE)),
]
"""A negative cue right before the title settles the stance whatever the model says ("hated Scream", "haven't
seen Heat"): the model reads the whole sentence, and with two films in it cannot tell which cue is whose. Positive
cues are left to the model: on ReDial, "I've seen X" mostly means the person liked X, and adding "seen" and "liked"
cues lowered held-out accuracy (scripts/eval_understanding.py; reports/understanding/report.md)."""
_CUE_WINDOW = 28  # characters before a title that an adjacent cue must sit in
_ASKS = re.compile(r"\?|^\s*(?:tell me|what|who|whose|when|where|which|how|is|was|does|did|do you know|have you|"
                   r"can you tell|any idea|explain)\b|\b(?:tell me about|what(?:'s| is) it about|i wonder)\b",
                   re.IGNORECASE)
"""A question about a film is asked: a question mark or a question's opening words."""
_CLOSING = re.compile(r"\b(?:bye|goodbye|good ?night|see you|take care|have a (?:good|great|nice|wonderful)|"
                      r"thanks?(?: you)?(?: so much| very much| a lot)?(?: for)?|thx|appreciate|that'?s all|"
                      r"(?:we are|we're|i'?m|i am) (?:all )?(?:done|set|good)|cheers)\b", re.IGNORECASE)
"""A goodbye closes: thanks, bye, "that's all", "we are done"."""
_ASKS_FOR_MORE = re.compile(r"\b(?:another|other|others|more|else|similar|suggest|suggestions?|recommend\w*|"
                            r"ideas?|any (?:good )?(?:ones?|movies?|films?))\b", re.IGNORECASE)
_REFINING = re.compile(r"^\s*(?:ok(?:ay)?|and|but|also|what about|how about)\b|\b(?:then|instead|rather|"
                       r"as well|too|also)\b", re.IGNORECASE)
"""Words that work on the current request ("ok, the 90s then", "something lighter instead")."""
_WANTS_FILMS = re.compile(r"\b(?:any (?:good |other |more )?(?:movies?|films?|ones?) (?:like|similar)|"
                          r"(?:can|could) you (?:recommend|suggest)|any (?:suggestions?|recommendations?)|"
                          r"(?:your|his|her) favou?rite|what (?:else|other)|similar to|something like)\b",
                          re.IGNORECASE)
"""A question that asks for films ("any movies like Rambo?", "what's your favorite of his?") is a request."""
_GREETING = re.compile(r"^\W*(?:hi+|hello|hey|hiya|howdy|good (?:morning|afternoon|evening)|how are you|"
                       r"how'?s it going|what'?s up)\b", re.IGNORECASE)


def understand(request: UnderstandRequest, catalogue: Catalogue, predict: IntentPredictor,
               predict_stance: StancePredictor | None = None) -> Understanding:
    """Classify and parse one message."""
    message = request.message
    mentions = find_mentions(message, catalogue)
    label, confidence = predict([message])[0]
    intent = cast(Intent, label)  # the classifier's classes are the INTENTS it was trained on (training/intent.py)
    prefs = extract_preferences(message, catalogue, request.previous_picks, mentions=mentions)
    stances = mention_stances(message, mentions, predict_stance)
    asking = intent == "item_question" or bool(_QUESTION_ABOUT.search(message) and "?" in message)
    prefs.mentions = []
    for mention, stance in zip(mentions, stances, strict=True):
        if asking and mention is mentions[0] and stance in {"liked", "neutral"}:
            stance = "asked"
        prefs.mentions.append(MentionStance(title=mention.title, year=mention.year, item_id=mention.item_id,
                                            stance=stance))  # type: ignore[arg-type]
    _fill_items(prefs)
    intent = settle(intent, message, prefs, len(request.previous_picks), confidence=confidence)
    if intent == "feedback" and not prefs.mentions and predict_stance is not None:
        _react_to_picks(prefs, message, request.previous_picks, predict_stance)
    return Understanding(intent=intent, confidence=round(float(confidence), 4), prefs=prefs)


def settle(intent: Intent, message: str, prefs: PreferenceUpdate, picks: int, *, confidence: float = 1.0) -> Intent:
    """The act after the rules a classifier (or a model) cannot know.

    No "why" before any picks, a remark is not a question, films for every turn that is not clearly a question, a
    goodbye or out of scope. Both providers run it, so both answer the same way. Fills `asked_rank`, `unknown_title` and
    `new_request` on `prefs`.
    """
    has_picks = picks > 0
    refines = intent in {"refine", "more", "feedback"} or bool(_REFINING.search(message))
    if _WHY_OPENING.match(message) and has_picks and (prefs.asked_rank or prefs.subject_item):
        intent = "why"
    if intent == "why" and not has_picks and _states_wishes(prefs):
        intent = "recommend"  # "Maybe mystery?" before any picks: nothing to explain, a wish to act on
    if intent == "why" and not (prefs.asked_rank or prefs.subject_item) and has_picks:
        prefs.asked_rank = 1 if picks == 1 else None
    intent = _consistent_act(intent, message, prefs, has_picks)
    if intent in {"refine", "more", "feedback"} and not has_picks:
        intent = "recommend"
    if intent == "item_question" and prefs.subject_item is None:
        unknown = next((m for m in prefs.mentions if m.item_id is None), None)
        prefs.unknown_title = (f"{unknown.title} ({unknown.year})" if unknown and unknown.year else
                               unknown.title if unknown else title_span_guess(message))
        if prefs.unknown_title is None and _states_wishes(prefs):
            intent = "refine" if has_picks else "recommend"  # "released after 2030": a wish, not a title
    # A message naming genres, years, moods or films to go from is a request ("Doing well. I like comedy
    # movies"), whatever the classifier makes of its small talk; mid-conversation it refines the picks.
    if intent == "chitchat" and (prefs.wants_surprise or _states_wishes(prefs)):
        intent = "refine" if has_picks else "recommend"
    if intent == "out_of_scope" and (prefs.wants_surprise or _states_wishes(prefs, films_or_genres=True)) and (
            has_picks or confidence < 0.5):
        intent = "refine" if has_picks else "recommend"  # "who won the world cup in 2018?" stays out of scope
    if refines and intent in RECOMMENDING_INTENTS and prefs.new_request is None:
        prefs.new_request = False  # "ok, the 90s then": works on the request even when nothing was shown yet
    return intent


def _consistent_act(intent: Intent, message: str, prefs: PreferenceUpdate, has_picks: bool) -> Intent:
    """Rules the act classifier cannot know on its own.

    In a conversation about films, a turn that is not clearly a question, a goodbye or out of scope gets films:
    - a "question" about a film with no question in it is a remark ("YES, he is so good. Great movie");
    - a "goodbye" with no closing words, or one that asks for more, is feedback or a request for more;
    - small talk with picks on the table ("Great!", "lol") reacts to them, unless it greets.
    """
    if intent == "item_question" and not _ASKS.search(message):
        return "feedback" if has_picks else "recommend"
    if intent == "item_question" and _WANTS_FILMS.search(message):
        return "more" if has_picks and not _states_wishes(prefs) else "recommend"
    if intent == "goodbye":
        if _ASKS_FOR_MORE.search(message) or _states_wishes(prefs):
            return "more" if has_picks else "recommend"
        if not _CLOSING.search(message):
            return "feedback" if has_picks else "chitchat"
    if intent == "chitchat" and has_picks and not _GREETING.search(message):
        return "feedback"
    return intent


def mention_stances(message: str, mentions: Sequence[Mention], predict_stance: StancePredictor | None) -> list[str]:
    """The stance towards each mention.

    An adjacent cue word decides when there is one, else the stance model (liked when there is no model).
    """
    from convrec.training.stance import mention_context

    spans = [(m.start, m.end) for m in mentions]
    stances: list[str | None] = [adjacent_cue(message, m.start) for m in mentions]
    open_rows = [i for i, s in enumerate(stances) if s is None]
    if open_rows and predict_stance is not None:
        predicted = predict_stance([mention_context(message, spans, i) for i in open_rows], ["named"] * len(open_rows))
        for row, (stance, _) in zip(open_rows, predicted, strict=True):
            stances[row] = stance
    return [s or "liked" for s in stances]


def adjacent_cue(message: str, start: int) -> str | None:
    """The stance a cue word right before position `start` gives ("hated Scream" -> disliked), or None."""
    before = message[max(0, start - _CUE_WINDOW):start]
    before = re.split(r"[.!?;,]|\b(?:and|but|or)\b", before)[-1]
    for stance, pattern in _ADJACENT_CUES:
        if pattern.search(before):
            return stance
    return None


def _fill_items(prefs: PreferenceUpdate) -> None:
    """Turn stances into the item lists the graph acts on; the first film asked about is the question's subject."""
    for mention in prefs.mentions:
        if mention.item_id is None:
            continue
        target = {"liked": prefs.liked_items, "disliked": prefs.disliked_items, "seen": prefs.seen_items}.get(
            mention.stance)
        if target is not None and mention.item_id not in target:
            target.append(mention.item_id)
    asked = next((m.item_id for m in prefs.mentions if m.stance == "asked" and m.item_id is not None), None)
    first = next((m.item_id for m in prefs.mentions if m.item_id is not None), None)
    prefs.subject_item = asked if asked is not None else first


def _react_to_picks(prefs: PreferenceUpdate, message: str, previous: list[int],
                    predict_stance: StancePredictor) -> None:
    """Apply a reaction that names no film ("I loved it!", "seen it", "not for me") to the last picks.

    Read its stance and apply it to the picks it points at (its #N or ordinal, else all of them).
    """
    if not previous or prefs.liked_ranks or prefs.seen_ranks or prefs.rejected_ranks:
        return
    stance, probability = predict_stance([message], ["reaction"])[0]
    everything = list(range(1, len(previous) + 1))
    if stance == "disliked" and probability >= 0.5:
        prefs.rejected_ranks.extend(everything)
    elif stance == "seen":
        prefs.seen_ranks.extend(everything)


def _states_wishes(prefs: PreferenceUpdate, *, films_or_genres: bool = False) -> bool:
    """Whether the message has the marks of a request.

    The marks are genres, moods, films to go from or (unless `films_or_genres`) years.
    """
    years = not films_or_genres and (prefs.year_min is not None or prefs.year_max is not None
                                     or bool(prefs.years_excluded))
    return bool(prefs.genres_wanted or prefs.genres_unwanted or prefs.liked_items or prefs.moods or years
                or any(m.stance in {"liked", "not_seen", "neutral"} for m in prefs.mentions))
