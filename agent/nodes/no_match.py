"""Node no_match: say plainly that nothing satisfies the request, and recommend nothing."""

from __future__ import annotations

from langgraph.runtime import Runtime

from convrec.core.llm import ReplyRequest

from ..context import AgentContext
from ..state import AgentState


def no_match(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Reply with the reason no candidate survived the hard constraints."""
    reason = state.get("no_match_reason", "")
    reply = runtime.context.provider.write_reply(
        ReplyRequest(kind="no_match", message=state.get("message", ""), facts=[reason] if reason else [])
    )
    return {"reply": reply, "recommendations": []}
