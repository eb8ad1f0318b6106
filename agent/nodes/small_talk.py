"""Node small_talk: greetings, thanks and anything out of scope get a short, friendly redirect."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from ..context import AgentContext
from ..schemas import ReplyKind, ReplyRequest
from ..state import AgentState


def small_talk(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Reply to chit-chat or decline an out-of-scope request, without recommending."""
    kind: ReplyKind = "out_of_scope" if state.get("intent") == "out_of_scope" else "chitchat"
    reply = runtime.context.provider.write_reply(ReplyRequest(kind=kind, message=state.get("message", "")))
    return {"reply": reply}
