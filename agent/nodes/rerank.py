"""Node rerank: order the scored candidates into the final picks, then re-check every hard constraint."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from ..card_feedback import picks_after_feedback
from ..context import AgentContext
from ..preferences import constraints_of
from ..schemas import CandidateRecord, RerankRequest
from ..state import AgentState

WEIGHTS = {
    "history_only": {"similarity": 0.0, "personal": 0.65, "popularity": 0.15, "preference": 0.2, "conversation": 0.0},
    "known": {"similarity": 0.35, "personal": 0.35, "popularity": 0.1, "preference": 0.2, "conversation": 0.0},
    "liked": {"similarity": 0.3, "personal": 0.25, "popularity": 0.1, "preference": 0.3, "conversation": 0.4},
    "named": {"similarity": 0.3, "personal": 0.0, "popularity": 0.05, "preference": 0.3, "conversation": 0.5},
    "anonymous": {"similarity": 0.45, "personal": 0.0, "popularity": 0.2, "preference": 0.35, "conversation": 0.15},
}
"""Signal weights by what is known of the person. "conversation" is the conversation prior: what people
recommend in real dialogues beside the films this person named ("liked": films in the catalogue they liked;
"named": only films the catalogue lacks, or named without liking them), and otherwise how often people recommend
a film at all, blended with MovieLens popularity. Tuned on ReDial validation dialogues (reports/dialogues/) and
checked against the simulated users (reports/eval/)."""


SIMILAR_TO_NAMED_RELEVANCE = 1.0
"""MMR relevance weight when the person named films to go from: they asked for similar films, so relevance
alone orders them (with variety on, a popular but unrelated film took the last slot of "like Star Wars")."""


def weights_for(state: AgentState, history_only: bool) -> dict[str, float]:
    """Signal weights that lean on what this turn gives to lean on.

    Lean on the personal score when there is a person to lean on, and on what people recommend beside the films they
    named when they named some.
    """
    if history_only:
        return WEIGHTS["history_only"]
    if state.get("user_id") is not None:
        return WEIGHTS["known"]
    prefs = state.get("prefs", {})
    if prefs.get("liked_items"):
        return WEIGHTS["liked"]
    if any(m.get("stance") != "disliked" for m in prefs.get("mentions", [])):
        return WEIGHTS["named"]
    return WEIGHTS["anonymous"]


def rerank(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
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
                                       preference=c["preference"], conversation=c.get("conversation", 0.0),
                                       profile=c.get("profile", 0.0)))
    if ctx.options.retrieval_only:
        weights = {"similarity": 1.0, "personal": 0.0, "popularity": 0.0, "preference": 0.0, "conversation": 0.0,
                   "profile": 0.0}
        diversity = 1.0
    else:
        weights, diversity = weights_for(state, history_only), ctx.settings.mmr_lambda
        if any(c.get("profile") for c in scored):  # a profile written from the conversation was scored
            weights = {**weights, "profile": ctx.options.profile_weight}
        if state.get("prefs", {}).get("liked_items") and state.get("user_id") is None:
            diversity = SIMILAR_TO_NAMED_RELEVANCE
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
    after_feedback = picks_after_feedback(state, picks)  # a card was judged: only that card changes
    return {"picks": picks if after_feedback is None else after_feedback}
