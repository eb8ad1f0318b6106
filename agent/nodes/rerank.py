"""Node rerank: order the scored candidates into the final picks, then re-check every hard constraint."""

from __future__ import annotations

from langgraph.runtime import Runtime

from convrec.core.llm import CandidateRecord, RerankRequest

from ..context import AgentContext
from ..preferences import constraints_of
from ..state import AgentState


def weights_for(state: AgentState, history_only: bool) -> dict[str, float]:
    """Signal weights: lean on the personal score when there is a person to lean on."""
    known = state.get("user_id") is not None
    liked = bool(state.get("prefs", {}).get("liked_items"))
    if history_only:
        return {"similarity": 0.0, "personal": 0.65, "popularity": 0.15, "preference": 0.2}
    if known:
        return {"similarity": 0.35, "personal": 0.35, "popularity": 0.1, "preference": 0.2}
    if liked:
        return {"similarity": 0.3, "personal": 0.25, "popularity": 0.15, "preference": 0.3}
    return {"similarity": 0.45, "personal": 0.0, "popularity": 0.25, "preference": 0.3}


def rerank(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Ask the provider for the order; keep only ids that were candidates and pass the constraints."""
    ctx = runtime.context
    scored = state.get("scored", [])
    top_n = state.get("top_n") or ctx.settings.top_n
    history_only = all(c["similarity"] == 0.0 for c in scored)
    records = []
    for c in scored:
        item = ctx.catalogue.items[c["item_id"]]
        records.append(CandidateRecord(item_id=item.item_id, title=item.title, year=item.year,
                                       genres=list(item.genres), similarity=c["similarity"],
                                       personal=c["personal"], popularity=c["popularity"],
                                       preference=c["preference"]))
    if ctx.options.retrieval_only:
        weights, diversity = {"similarity": 1.0, "personal": 0.0, "popularity": 0.0, "preference": 0.0}, 1.0
    else:
        weights, diversity = weights_for(state, history_only), ctx.settings.mmr_lambda
    request = RerankRequest(request=state.get("message", ""), candidates=records, top_n=top_n, weights=weights,
                            diversity=diversity)
    ordered = ctx.provider.rerank(request)
    constraints = constraints_of(state, ctx.catalogue)
    allowed = {c["item_id"] for c in scored}
    picks: list[int] = []
    for item_id in [*ordered, *(c["item_id"] for c in scored)]:
        if item_id in allowed and item_id not in picks and constraints.admits(ctx.catalogue.items[item_id]):
            picks.append(item_id)
        if len(picks) >= top_n:
            break
    return {"picks": picks}
