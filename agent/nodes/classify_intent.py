"""Node classify_intent: ask the provider what the message wants and which slots it fills."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from ..context import AgentContext
from ..schemas import PreferenceUpdate, UnderstandRequest
from ..state import AgentState

FEEDBACK_FIELDS = {"like": "liked_items", "seen": "seen_items", "dislike": "disliked_items"}


def classify_intent(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Set `intent` and the parsed `understanding`; card feedback is a feedback turn by construction."""
    feedback = state.get("feedback")
    if feedback:
        fields: dict[str, Any] = {FEEDBACK_FIELDS[feedback["kind"]]: [int(feedback["item_id"])]}
        update = PreferenceUpdate(**fields)
        return {"intent": "feedback", "understanding": {**update.model_dump(), "new_request": False}}
    previous = [int(card["item_id"]) for card in state.get("last_recommendations", [])]
    recent = [(m.get("role", ""), m.get("content", "")) for m in state.get("messages", [])[-6:]]
    result = runtime.context.provider.understand(
        UnderstandRequest(message=state["message"], previous_picks=previous, recent_turns=recent)
    )
    return {"intent": result.intent, "understanding": result.prefs.model_dump()}
