"""The LLM provider: an OpenAI-compatible model answers every provider task, and its answers are checked.

The offline provider is the fallback of each task.

The model proposes; code keeps the guarantees:
- understanding: genres outside the catalogue's are dropped, titles are resolved against the catalogue
  (never an id from the model), ranks outside the previous answer are dropped, moods map to genres through
  the same lexicon as offline, and a slot the model left empty is filled from the lexicon's literal reading
  (a small model that misses "90s" does not lose the constraint);
- rerank: only the candidates' own ids survive, missing ones follow in the offline order (candidates passed
  the hard constraints before they got here, so no order can break one);
- explanations: a reason must cite one of the pick's fact ids, and a phrasing that brings numbers or names
  the fact lacks is replaced by the fact's own text;
- replies: a reply that leaves out the first pick, runs long or echoes the prompt's data is replaced by the
  offline one.
Each call that fails (timeout, 429/5xx, malformed output after one repair, budget spent) falls back to the
offline answer for that task only, and the turn's ledger records it (`core.llm_client`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, Field

from convrec.core.catalogue import Catalogue
from convrec.core.intents import Intent
from convrec.core.llm_client import CallNote, LLMClient, current_ledger

from ..offline.lexicon import MOOD_AVOIDS, MOOD_BOOSTS
from ..offline.provider import OfflineProvider
from ..offline.rerank import fused_scores
from ..offline.understand import settle
from ..schemas import (
    ExplainRequest,
    ItemExplanation,
    MentionStance,
    PreferenceUpdate,
    Reason,
    ReplyRequest,
    RerankRequest,
    Stance,
    Understanding,
    UnderstandRequest,
)
from . import prompts

RERANK_POOL = 30  # the candidates the model orders: the offline pool by fused relevance
MAX_REPLY_CHARS = 700
TITLE_CUTOFF = 85.0


class LLMMention(BaseModel):
    """A film the message names, as written, and the person's stance towards it."""

    title: str
    year: int | None = None
    stance: Stance = "neutral"


class LLMSlots(BaseModel):
    """What the model fills for one message (titles as written; code resolves them)."""

    intent: Intent
    genres_wanted: list[str] = Field(default_factory=list)
    genres_unwanted: list[str] = Field(default_factory=list)
    year_min: int | None = None
    year_max: int | None = None
    years_excluded: list[tuple[int, int]] = Field(default_factory=list, description="year ranges ruled out")
    mentions: list[LLMMention] = Field(default_factory=list, description="every film the message names")
    new_request: bool | None = Field(default=None, description="true: a new request; false: works on the current")
    moods: list[str] = Field(default_factory=list, description="from: " + ", ".join(MOOD_BOOSTS))
    liked_titles: list[str] = Field(default_factory=list, description="films named as liked or as a model")
    disliked_titles: list[str] = Field(default_factory=list)
    seen_titles: list[str] = Field(default_factory=list)
    rejected_ranks: list[int] = Field(default_factory=list, description="previous picks turned down")
    seen_ranks: list[int] = Field(default_factory=list, description="previous picks already seen")
    liked_ranks: list[int] = Field(default_factory=list)
    asked_rank: int | None = Field(default=None, description="the pick a 'why #N' question is about")
    subject_title: str | None = Field(default=None, description="the film an item question is about")
    wants_surprise: bool = False


class LLMRanking(BaseModel):
    """The model's order of candidate ids, best first."""

    ranked_ids: list[int]


class LLMReason(BaseModel):
    """One reason, citing the fact it states."""

    fact_id: str
    text: str


class LLMItemReasons(BaseModel):
    """The reasons for one film."""

    item_id: int
    reasons: list[LLMReason]


class LLMExplanations(BaseModel):
    """Reasons for every film."""

    items: list[LLMItemReasons]


@dataclass
class LLMProvider:
    """Provider tasks through `client`, each checked and falling back to `offline` on any failure."""

    client: LLMClient
    offline: OfflineProvider
    catalogue: Catalogue
    name: str = "openai"

    @property
    def model(self) -> str:
        """The model name the endpoint serves."""
        return self.client.model

    # ----- understanding -------------------------------------------------------------------------------
    def understand(self, request: UnderstandRequest) -> Understanding:
        """Intent and slots from the model, grounded in the catalogue; offline when the model fails."""
        picks = [{"rank": n, "item_id": i, "title": self.catalogue.items[i].title}
                 for n, i in enumerate(request.previous_picks, start=1) if i in self.catalogue.items]
        slots = self.client.structured(
            "understand", LLMSlots, prompts.understand_messages(request.message, picks, request.recent_turns,
                                                                list(self.catalogue.genres)),
            budget=prompts.BUDGETS["understand"])
        offline = self.offline.understand(request)
        if slots is None:
            return offline
        prefs = fill_from(self._prefs(slots, request), offline.prefs)
        return Understanding(intent=settle(slots.intent, request.message, prefs, len(request.previous_picks)),
                             confidence=0.9, prefs=prefs)

    def _prefs(self, slots: LLMSlots, request: UnderstandRequest) -> PreferenceUpdate:
        known = {g.lower(): g for g in self.catalogue.genres}
        wanted = [known[g.lower()] for g in slots.genres_wanted if g.lower() in known]
        unwanted = [known[g.lower()] for g in slots.genres_unwanted if g.lower() in known]
        first, last = self.catalogue.year_range
        year_min = slots.year_min if slots.year_min is not None and 1870 <= slots.year_min <= 2100 else None
        year_max = slots.year_max if slots.year_max is not None and 1870 <= slots.year_max <= 2100 else None
        moods = [m for m in dict.fromkeys(m.lower() for m in slots.moods) if m in MOOD_BOOSTS]
        picks = len(request.previous_picks)

        def ranks(values: list[int]) -> list[int]:
            return [r for r in dict.fromkeys(values) if 1 <= r <= picks]

        subject = self._resolve(slots.subject_title) if slots.subject_title else None
        del first, last  # the catalogue's range is enforced by retrieval; an out-of-range year is a fair wish
        mentions = [MentionStance(title=m.title, year=m.year, item_id=self._resolve_dated(m.title, m.year),
                                  stance=m.stance) for m in slots.mentions if m.title.strip()]
        by_stance = {stance: [m.item_id for m in mentions if m.stance == stance and m.item_id is not None]
                     for stance in ("liked", "disliked", "seen")}
        excluded = [(int(low), int(high)) for low, high in slots.years_excluded
                    if 1870 <= low <= high <= 2100]
        return PreferenceUpdate(
            years_excluded=excluded, mentions=mentions, new_request=slots.new_request,
            genres_wanted=wanted, genres_unwanted=[g for g in unwanted if g not in wanted],
            year_min=year_min, year_max=year_max, moods=moods,
            mood_genres_boost=sorted({g for m in moods for g in MOOD_BOOSTS[m]}),
            mood_genres_penalty=sorted({g for m in moods for g in MOOD_AVOIDS[m]}),
            liked_items=_union(self._resolve_all(slots.liked_titles), by_stance["liked"]),
            disliked_items=_union(self._resolve_all(slots.disliked_titles), by_stance["disliked"]),
            seen_items=_union(self._resolve_all(slots.seen_titles), by_stance["seen"]),
            rejected_ranks=ranks(slots.rejected_ranks),
            seen_ranks=ranks(slots.seen_ranks), liked_ranks=ranks(slots.liked_ranks),
            asked_rank=slots.asked_rank if slots.asked_rank and 1 <= slots.asked_rank <= picks else None,
            subject_item=subject, unknown_title=slots.subject_title if slots.subject_title and subject is None
            else None, wants_surprise=slots.wants_surprise)

    def _resolve(self, title: str) -> int | None:
        matches = self.catalogue.find_title(title, limit=1, cutoff=TITLE_CUTOFF)
        return matches[0].item_id if matches else None

    def _resolve_dated(self, title: str, year: int | None) -> int | None:
        """A catalogue film for a title and a written year (a year more than one off means another film)."""
        matches = self.catalogue.find_title(f"{title} {year}" if year else title, limit=1, cutoff=TITLE_CUTOFF)
        return matches[0].item_id if matches else None

    def _resolve_all(self, titles: list[str]) -> list[int]:
        return [i for i in dict.fromkeys(self._resolve(t) for t in titles) if i is not None]

    # ----- rerank --------------------------------------------------------------------------------------
    def rerank(self, request: RerankRequest) -> list[int]:
        """The model's order of the offline pool; foreign ids dropped, missing ones appended in offline order."""
        prior = self.offline.rerank(request)
        if not request.candidates:
            return prior
        relevance = fused_scores(request)
        pool = [request.candidates[i] for i in sorted(range(len(relevance)), key=lambda i: -relevance[i])]
        pool = pool[:RERANK_POOL]
        records = [{"id": c.item_id, "title": c.title, "year": c.year, "genres": c.genres,
                    "similarity": round(c.similarity, 3), "personal": round(c.personal, 3),
                    "popularity": round(c.popularity, 3)} for c in pool]
        ranking = self.client.structured("rerank", LLMRanking,
                                         prompts.rerank_messages(request.request, records, request.top_n),
                                         budget=prompts.BUDGETS["rerank"])
        if ranking is None:
            return prior
        allowed = {c.item_id for c in pool}
        kept = [i for i in dict.fromkeys(ranking.ranked_ids) if i in allowed]
        dropped = len([i for i in ranking.ranked_ids if i not in allowed])
        if dropped:
            _note("rerank", f"dropped {dropped} id(s) not in the candidate list")
        order = [*kept, *[i for i in prior if i not in kept], *[c.item_id for c in pool if c.item_id not in kept
                                                               and c.item_id not in prior]]
        return order[:request.top_n]

    # ----- explanations --------------------------------------------------------------------------------
    def explain(self, request: ExplainRequest) -> list[ItemExplanation]:
        """Reasons chosen and phrased by the model, each checked against the fact it cites."""
        fallback = {e.item_id: e for e in self.offline.explain(request)}
        payload = [{"item_id": p.item_id, "title": p.title,
                    "facts": [{"fact_id": f.fact_id, "text": f.text} for f in p.facts]} for p in request.picks]
        answer = self.client.structured("explain", LLMExplanations,
                                        prompts.explain_messages(payload, request.max_reasons),
                                        budget=prompts.BUDGETS["explain"])
        if answer is None:
            return list(fallback.values())
        by_item = {item.item_id: item for item in answer.items}
        out = []
        for pick in request.picks:
            facts = {f.fact_id: f.text for f in pick.facts}
            proposed = by_item.get(pick.item_id)
            reasons: list[Reason] = []
            for reason in (proposed.reasons if proposed else []):
                if reason.fact_id in facts and reason.fact_id not in {r.fact_id for r in reasons}:
                    text = reason.text if faithful(reason.text, facts[reason.fact_id]) else facts[reason.fact_id]
                    reasons.append(Reason(fact_id=reason.fact_id, text=text))
            out.append(ItemExplanation(item_id=pick.item_id, reasons=reasons[:request.max_reasons])
                       if reasons else fallback[pick.item_id])
        return out

    # ----- replies -------------------------------------------------------------------------------------
    def write_reply(self, request: ReplyRequest) -> str:
        """The model's reply; the offline one when it fails, runs long or omits the first pick."""
        offline = self.offline.write_reply(request)
        if request.kind in {"out_of_scope", "invalid", "feedback"}:
            return offline  # fixed, safe wording (what a card click changed): nothing for a model to add
        text = self.client.text("reply", prompts.reply_messages(request.kind, request.message, request.facts,
                                                                request.titles),
                                budget=prompts.BUDGETS["reply"])
        if text is None:
            return offline
        first = request.titles[0].rsplit(" (", 1)[0] if request.titles else ""
        if len(text) > MAX_REPLY_CHARS or (first and first.lower() not in text.lower()):
            _note("reply", "answer replaced: too long or without the first pick", fallback=True)
            return offline
        if request.kind == "elicit" and "?" not in text:
            _note("reply", "answer replaced: a clarifying question needs a question mark", fallback=True)
            return offline
        if "DATA" in text or "{" in text:
            _note("reply", "answer replaced: it echoed the prompt's data", fallback=True)
            return offline
        return "\n".join([*request.notes, text])  # what must be said (films the catalogue lacks) is said verbatim


def _union(first: list[int], second: list[int]) -> list[int]:
    return list(dict.fromkeys([*first, *second]))


def fill_from(model: PreferenceUpdate, lexicon: PreferenceUpdate) -> PreferenceUpdate:
    """The model's slots, with every slot it left empty taken from the lexicon's reading of the same message.

    The lexicon only finds what the message literally says ("90s", "no horror", a catalogue title), so a small
    model that misses a stated constraint does not drop it; where the model did fill a slot, its value stands.
    """
    filled = model.model_copy()
    for name in PreferenceUpdate.model_fields:
        mine, theirs = getattr(model, name), getattr(lexicon, name)
        if (mine is None or mine == [] or mine is False) and theirs not in (None, [], False):
            setattr(filled, name, theirs)
    return filled


_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")
_NAME = re.compile(r"\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*")


def faithful(text: str, fact: str) -> bool:
    """Whether a phrasing keeps to its fact.

    It does when every number in it, and every capitalised name after the first word of a sentence, appears in the fact.
    """
    if any(number not in fact for number in _NUMBER.findall(text)):
        return False
    sentence_starts = {m.end() for m in re.finditer(r"(^|[.!?]\s+)", text)}
    names = [m.group(0) for m in _NAME.finditer(text) if m.start() not in sentence_starts]
    lowered = fact.lower()
    return all(name.lower() in lowered or name in {"You", "I", "MovieLens"} for name in names)


def _note(task: str, detail: str, *, fallback: bool = False) -> None:
    ledger = current_ledger()
    if ledger is not None:
        ledger.notes.append(CallNote(task, "fallback" if fallback else "ok", detail))
