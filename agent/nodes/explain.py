"""Node explain: grounded reasons for every pick, and the reply that presents them."""

from __future__ import annotations

from langgraph.runtime import Runtime

from convrec.core.llm import ExplainRequest, ItemFacts, ReplyRequest

from ..context import AgentContext
from ..facts import pick_facts
from ..state import AgentState


def card(ctx: AgentContext, item_id: int, reasons: list[str]) -> dict:
    """The recommendation card a UI or script shows for one pick."""
    item = ctx.catalogue.items[item_id]
    return {"item_id": item.item_id, "title": item.title, "year": item.year, "genres": list(item.genres),
            "reasons": reasons}


def explain(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Build facts per pick, let the provider choose the reasons, and compose the reply."""
    ctx = runtime.context
    picks = state.get("picks", [])
    request = ExplainRequest(picks=[
        ItemFacts(item_id=i, title=ctx.catalogue.items[i].title, facts=pick_facts(ctx, i, state)) for i in picks
    ])
    allowed = {p.item_id: {f.fact_id for f in p.facts} for p in request.picks}
    explanations = {e.item_id: e for e in ctx.provider.explain(request)}
    cards = []
    for item_id in picks:
        chosen = explanations.get(item_id)
        reasons = [r.text for r in chosen.reasons if r.fact_id in allowed[item_id]] if chosen else []
        cards.append(card(ctx, item_id, reasons))
    titles = [ctx.catalogue.items[i].label for i in picks]
    reply = ctx.provider.write_reply(ReplyRequest(kind="recommendations", message=state.get("message", ""),
                                                  facts=state.get("constraints_note", []), titles=titles))
    return {"recommendations": cards, "reply": reply}
