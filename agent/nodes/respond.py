"""Node respond: record the assistant's answer in the conversation and remember what was shown."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from ..context import AgentContext
from ..state import AgentState


def respond(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Append the reply to the messages; a turn with picks becomes the new 'last answer'."""
    cards = state.get("recommendations", [])
    update: dict[str, Any] = {
        "messages": [{"role": "assistant", "content": state.get("reply", ""), "recommendations": cards,
                      "intent": state.get("intent", "")}],
        "turns": state.get("turns", 0) + 1,
    }
    if cards:
        update["shown"] = list(dict.fromkeys(state.get("shown", []) + [c["item_id"] for c in cards]))
        update["last_recommendations"] = cards
    return update
