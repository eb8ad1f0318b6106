"""Node elicit: ask one focused question when the request is too vague and there is no history."""

from __future__ import annotations

from langgraph.runtime import Runtime

from convrec.core.llm import ReplyRequest

from ..context import AgentContext
from ..state import AgentState

QUESTION = ("Happy to help! To narrow it down: what are you in the mood for? A genre (say, sci-fi or "
            "comedy), an era (like the 90s), or a film you loved?")


def elicit(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Ask the question and count it, so the next vague answer gets recommendations instead."""
    reply = runtime.context.provider.write_reply(
        ReplyRequest(kind="elicit", message=state.get("message", ""), facts=[QUESTION])
    )
    return {"reply": reply, "questions_asked": state.get("questions_asked", 0) + 1}
