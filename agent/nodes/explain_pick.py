"""Node explain_pick: answer "why #2?" with the reasons recorded for the previous answer's second pick."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from ..context import AgentContext
from ..schemas import PreferenceUpdate, ReplyRequest
from ..state import AgentState


def explain_pick(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Find the pick the question is about and restate its grounded reasons."""
    ctx = runtime.context
    cards = state.get("last_recommendations", [])
    update = PreferenceUpdate(**state.get("understanding", {}))
    if not cards:
        facts = ["I haven't recommended anything yet. Tell me what you'd like to watch first."]
    else:
        rank = update.asked_rank
        if rank is None and update.subject_item is not None:
            ids = [c["item_id"] for c in cards]
            rank = ids.index(update.subject_item) + 1 if update.subject_item in ids else None
        if rank is None:
            facts = [f"Which pick do you mean? My last answer had {len(cards)}: ask e.g. \u201cwhy #1?\u201d."]
        elif not 1 <= rank <= len(cards):
            facts = [f"My last answer had only {len(cards)} pick{'s' if len(cards) != 1 else ''}, so there is "
                     f"no #{rank}."]
        else:
            chosen = cards[rank - 1]
            label = f"{chosen['title']} ({chosen['year']})" if chosen.get("year") else chosen["title"]
            reasons = " ".join(chosen.get("reasons") or ["It scored highest on similarity to your request."])
            facts = [f"#{rank}, {label}: {reasons}"]
    reply = ctx.provider.write_reply(ReplyRequest(kind="why", message=state.get("message", ""), facts=facts))
    return {"reply": reply}
