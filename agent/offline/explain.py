"""Offline explanation: choose the strongest true facts for each pick, most specific first."""

from __future__ import annotations

from convrec.core.llm import ExplainRequest, ItemExplanation, Reason

# What a person finds most telling comes first: their own words, their feedback, their history, then data.
KIND_PRIORITY = {"request": 0, "feedback": 1, "history": 2, "kg": 3, "catalogue": 4, "audience": 5}


def explain(request: ExplainRequest) -> list[ItemExplanation]:
    """Keep up to `max_reasons` facts per pick, ordered by kind priority and then as given."""
    explanations = []
    for pick in request.picks:
        ranked = sorted(enumerate(pick.facts), key=lambda pair: (KIND_PRIORITY.get(pair[1].kind, 9), pair[0]))
        reasons = [Reason(fact_id=fact.fact_id, text=fact.text) for _, fact in ranked[:request.max_reasons]]
        explanations.append(ItemExplanation(item_id=pick.item_id, reasons=reasons))
    return explanations
