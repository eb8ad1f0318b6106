"""Offline explanation: choose the strongest true facts for each pick, most specific first."""

from __future__ import annotations

from ..schemas import ExplainRequest, ItemExplanation, Reason

# What a person finds most telling comes first: their own words, their feedback, their history, then data.
KIND_PRIORITY = {"request": 0, "feedback": 1, "profile": 2, "history": 2, "kg": 3, "catalogue": 4, "audience": 5}


def explain(request: ExplainRequest) -> list[ItemExplanation]:
    """Keep up to `max_reasons` facts per pick, ordered by kind priority and then as given."""
    explanations = []
    for pick in request.picks:
        ranked = [fact for _, fact in sorted(enumerate(pick.facts),
                                             key=lambda pair: (KIND_PRIORITY.get(pair[1].kind, 9), pair[0]))]
        # At most two facts about the request itself, so the person also learns something new.
        requests = [f for f in ranked if f.kind == "request"][:2]
        others = [f for f in ranked if f.kind != "request"]
        chosen = (requests + others)[:request.max_reasons]
        chosen.sort(key=ranked.index)
        reasons = [Reason(fact_id=fact.fact_id, text=fact.text) for fact in chosen]
        explanations.append(ItemExplanation(item_id=pick.item_id, reasons=reasons))
    return explanations
