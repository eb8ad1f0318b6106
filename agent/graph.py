"""The conversation graph: every edge of the agent lives here, read top to bottom.

guard_input -> classify_intent -> (small_talk | answer_item_question | explain_pick | update_preferences)
update_preferences -> (elicit | retrieve); retrieve -> (no_match | rank -> rerank -> explain);
every branch ends in respond, which records the answer in the checkpointed state.
"""

from __future__ import annotations

from typing import Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from .context import AgentContext
from .nodes.answer_item_question import answer_item_question
from .nodes.classify_intent import classify_intent
from .nodes.elicit import elicit
from .nodes.explain import explain
from .nodes.explain_pick import explain_pick
from .nodes.guard_input import guard_input
from .nodes.no_match import no_match
from .nodes.rank import rank
from .nodes.rerank import rerank
from .nodes.respond import respond
from .nodes.retrieve import retrieve
from .nodes.small_talk import small_talk
from .nodes.update_preferences import needs_question, update_preferences
from .state import AgentState


def after_guard(state: AgentState) -> Literal["classify_intent", "respond"]:
    """Invalid input is answered at once."""
    return "respond" if state.get("intent") == "invalid" else "classify_intent"


def by_intent(state: AgentState) -> Literal["small_talk", "answer_item_question", "explain_pick",
                                             "update_preferences"]:
    """Route on the classified intent."""
    match state.get("intent"):
        case "chitchat" | "out_of_scope":
            return "small_talk"
        case "item_question":
            return "answer_item_question"
        case "why":
            return "explain_pick"
        case "recommend" | "refine":
            return "update_preferences"
        case other:
            raise ValueError(f"unexpected intent {other!r}")


def after_preferences(state: AgentState, runtime: Runtime[AgentContext]) -> Literal["elicit", "retrieve"]:
    """Ask one question when nothing at all is known yet (unless elicitation is switched off)."""
    return "elicit" if needs_question(state, runtime.context.options.elicit) else "retrieve"


def after_retrieve(state: AgentState) -> Literal["rank", "no_match"]:
    """No candidate means nothing satisfies the constraints."""
    return "rank" if state.get("candidates") else "no_match"


def build_graph(checkpointer: BaseCheckpointSaver | None = None) -> CompiledStateGraph:
    """Compile the graph; run it with `context=AgentContext` and `thread_id` = the conversation id."""
    builder = StateGraph(AgentState, context_schema=AgentContext)
    for name, node in [("guard_input", guard_input), ("classify_intent", classify_intent),
                       ("small_talk", small_talk), ("answer_item_question", answer_item_question),
                       ("explain_pick", explain_pick), ("update_preferences", update_preferences),
                       ("elicit", elicit), ("retrieve", retrieve), ("no_match", no_match), ("rank", rank),
                       ("rerank", rerank), ("explain", explain), ("respond", respond)]:
        builder.add_node(name, node)
    builder.add_edge(START, "guard_input")
    builder.add_conditional_edges("guard_input", after_guard)
    builder.add_conditional_edges("classify_intent", by_intent)
    builder.add_conditional_edges("update_preferences", after_preferences)
    builder.add_conditional_edges("retrieve", after_retrieve)
    builder.add_edge("rank", "rerank")
    builder.add_edge("rerank", "explain")
    for terminal in ("small_talk", "answer_item_question", "explain_pick", "elicit", "no_match", "explain"):
        builder.add_edge(terminal, "respond")
    builder.add_edge("respond", END)
    return builder.compile(checkpointer=checkpointer)
