"""Node explain: grounded reasons for every pick, and the reply that presents them.

When the request was too vague to act on (nothing stated, nothing known, no question asked yet), the reply asks
one focused question and still shows the picks: a person is never left with nothing to look at.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from convrec.core.phrasing import join_words

from ..card_feedback import feedback_facts, kept_cards
from ..context import AgentContext
from ..facts import pick_facts
from ..schemas import ExplainRequest, ItemFacts, ReplyRequest
from ..state import AgentState

QUESTION = ("Happy to help! To narrow it down: what are you in the mood for? A genre (say, sci-fi or comedy), an "
            "era (like the 90s), or a film you loved?")


def card(ctx: AgentContext, item_id: int, reasons: list[str]) -> dict[str, Any]:
    """The recommendation card a UI or script shows for one pick."""
    item = ctx.catalogue.items[item_id]
    return {"item_id": item.item_id, "title": item.title, "year": item.year, "genres": list(item.genres),
            "reasons": reasons}


def explain(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Build facts per pick, let the provider choose the reasons, and compose the reply."""
    ctx = runtime.context
    picks = state.get("picks", [])
    kept = kept_cards(state)  # a judged card changes alone: the others keep their reasons
    request = ExplainRequest(picks=[
        ItemFacts(item_id=i, title=ctx.catalogue.items[i].title, facts=pick_facts(ctx, i, state))
        for i in picks if i not in kept
    ])
    allowed = {p.item_id: {f.fact_id for f in p.facts} for p in request.picks}
    explanations = {e.item_id: e for e in ctx.provider.explain(request)} if request.picks else {}
    cards = []
    for item_id in picks:
        if item_id in kept:
            cards.append(kept[item_id])
            continue
        chosen = explanations.get(item_id)
        reasons = [r.text for r in chosen.reasons if r.fact_id in allowed[item_id]] if chosen else []
        cards.append(card(ctx, item_id, reasons))
    titles = [ctx.catalogue.items[i].label for i in picks]
    notes = [*unknown_film_notes(ctx, state), *state.get("notes", [])]
    if kept:
        labels = {i: ctx.catalogue.items[i].label for i in {*picks, *(int(c["item_id"]) for c in
                                                                    state.get("last_recommendations", []))}}
        reply = ctx.provider.write_reply(ReplyRequest(kind="feedback", message=state.get("message", ""),
                                                      facts=feedback_facts(state, labels, picks), titles=titles,
                                                      notes=notes))
        return {"recommendations": cards, "reply": reply}
    if state.get("understanding", {}).get("ask_first"):
        reply = ctx.provider.write_reply(ReplyRequest(kind="elicit", message=state.get("message", ""),
                                                      facts=[QUESTION], titles=titles, notes=notes))
        return {"recommendations": cards, "reply": reply, "questions_asked": state.get("questions_asked", 0) + 1}
    reply = ctx.provider.write_reply(ReplyRequest(kind="recommendations", message=state.get("message", ""),
                                                  facts=state.get("constraints_note", []), titles=titles,
                                                  notes=notes))
    return {"recommendations": cards, "reply": reply}


def unknown_film_notes(ctx: AgentContext, state: AgentState) -> list[str]:
    """One sentence naming the films this message mentioned that the catalogue lacks, and why they are missing."""
    missing = [m for m in state.get("understanding", {}).get("mentions", []) if m.get("item_id") is None]
    if not missing:
        return []
    first, last = ctx.catalogue.year_range
    names = [f"{m['title']} ({m['year']})" if m.get("year") else str(m["title"]) for m in missing]
    newer = all(m.get("year") and m["year"] > last for m in missing)
    why = (f"newer than the catalogue, which ends in {last}" if newer else
           f"not in the catalogue (MovieLens-100K, films from {first} to {last})")
    subject = join_words(names)
    verb = "is" if len(names) == 1 else "are"
    return [f"I don't have {subject}: {'it' if len(names) == 1 else 'they'} {verb} {why}. "
            "I used what you said about it to choose these."]
