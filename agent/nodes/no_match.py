"""Node no_match: say plainly that nothing satisfies the request, and recommend nothing."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from ..context import AgentContext
from ..schemas import ReplyRequest
from ..state import AgentState


def no_match(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Reply with the reason no candidate survived the hard constraints."""
    reason = state.get("no_match_reason", "")
    reply = runtime.context.provider.write_reply(
        ReplyRequest(kind="no_match", message=state.get("message", ""), facts=[reason] if reason else [])
    )
    return {"reply": reply, "recommendations": []}
